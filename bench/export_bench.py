"""Sizes and CPU latency of every shipped model as PyTorch, ONNX and TF.js.

    python bench/export_bench.py [--weights-dir DIR] [--runs 300] [--no-tfjs] [--node] [--quick]

One image per call, one thread, float32: the mean milliseconds of `--runs` calls after warm-up
(`digit_lab.timing.latency_ms`, `torch.utils.benchmark`). PyTorch eager vs onnxruntime in this process;
with `--node`, TF.js in Node (tests/js, `make js`) on the WebAssembly backend, batch of 1000 (ms per image).
Sizes are bytes on disk in KiB (TF.js also with float16 and uint8 quantised weights; needs the `tfjs` extra). The
ensemble exports to ONNX only: its TF.js columns are empty.
"""
import sys, tempfile
from pathlib import Path
import _results as R


def main(argv=None):
    p = R.parser(__doc__, "export_bench")
    p.add_argument("--weights-dir", type=Path, help="folder of weights (default: the package's)")
    R.quick_option(p, "--runs", 300, 30, "timed one-image calls per model and runtime", type=R.positive_int)
    p.add_argument("--no-tfjs", action="store_true", help="skip the TF.js sizes (no tensorflowjs needed)")
    p.add_argument("--node", action="store_true", help="also time TF.js in Node")
    R.data_option(p)
    a = R.parse(p, argv)
    import torch
    from digit_lab import export as ex
    from digit_lab.data import mnist_floats
    from digit_lab.hub import ENSEMBLE_ARCH, WEIGHTS_DIR, shipped_models
    from digit_lab.timing import latency_ms
    names = shipped_models(a.weights_dir)
    if not names: sys.exit("no shipped weights: train them first (digit-lab train --recipe best)")
    x, _ = mnist_floats(a.data, train=False)
    one = x[:1]
    R.use_threads(1)  # one image per call: one thread
    summary = []
    for name in names:
        model, info = ex.export_model(name, weights_dir=a.weights_dir)
        tfjs = not a.no_tfjs and info["arch"] != ENSEMBLE_ARCH  # an ensemble exports to ONNX only
        sizes = ex.export_sizes(model, Path(a.weights_dir or WEIGHTS_DIR) / f"{name}.pt", tfjs=tfjs)
        with tempfile.TemporaryDirectory() as t:
            sess = ex.onnx_session(ex.export_onnx(model, Path(t) / "m.onnx"), threads=1)
            with torch.inference_mode(): torch_ms = latency_ms(model, one, runs=a.runs)
            onnx_ms = latency_ms(lambda v: sess.run(None, {"image": v}), one.numpy(), runs=a.runs)
            row = dict(model=name, arch=info["arch"], params=info["params"], precision="fp32",
                       **{f"{k}_kib": round(v / 1024, 1) for k, v in sizes.items()},
                       torch_ms=round(torch_ms, 3), onnxruntime_ms=round(onnx_ms, 3))
            if a.node and tfjs:
                d = ex.export_tfjs(model, Path(t) / "tfjs").parent
                _, stats = ex.tfjs_node_logits(d, x[:1000], batch=1000)
                row["tfjs_node_ms"] = round(stats["predict_ms"] / 1000, 4)
        summary.append(row)
        print(f"{name}: done", file=sys.stderr, flush=True)
    heads = {"state_dict_kib": "PyTorch state_dict (KiB)", "onnx_kib": "ONNX (KiB)", "tfjs_kib": "TF.js (KiB)",
             "tfjs_float16_kib": "TF.js float16 (KiB)", "tfjs_uint8_kib": "TF.js uint8 (KiB)",
             "torch_ms": "PyTorch (ms)", "onnxruntime_ms": "onnxruntime (ms)",
             "tfjs_node_ms": "TF.js Node wasm (ms/img, batch 1000)"}
    cols = [("model", "model"), ("arch", "architecture"), ("params", "params"), ("precision", "precision")]
    cols += [(k, h, ".3f" if k.endswith("_ms") else ",.1f") for k, h in heads.items() if k in summary[0]]
    R.report(a, summary, summary, cols, settings=dict(runs=a.runs, threads=1, tfjs=not a.no_tfjs, node=a.node,
                                               weights_dir=str(a.weights_dir) if a.weights_dir else None))


if __name__ == "__main__":
    main()
