"""Sizes and CPU latency of every shipped model as PyTorch, ONNX and TF.js.

    python bench/export_bench.py [--weights-dir DIR] [--runs 300] [--no-tfjs] [--node]

One image per call, one thread, after warm-up (median ms). PyTorch eager vs onnxruntime in this process; with
`--node`, TF.js in Node (tests/js, `make js`) on the WebAssembly backend, batch of 1000 (ms per image).
Prints a Markdown table. Sizes are bytes on disk in KiB.
"""
import argparse, os, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
from digit_lab.data import mnist_floats
from digit_lab.models import shipped_models, WEIGHTS_DIR, markdown_table
from digit_lab import export as ex


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights-dir", default=os.environ.get("DIGIT_LAB_WEIGHTS_DIR"))
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--no-tfjs", action="store_true", help="skip the TF.js sizes (no tensorflowjs needed)")
    ap.add_argument("--node", action="store_true", help="also time TF.js in Node")
    args = ap.parse_args(argv)
    names = shipped_models(args.weights_dir)
    if not names: sys.exit("no shipped weights: train them first (digit-lab train --recipe best)")
    x, _ = mnist_floats(train=False)
    one = x[:1]
    torch.set_num_threads(1)
    rows = []
    for name in names:
        model, info = ex.export_model(name, weights_dir=args.weights_dir)
        sizes = ex.export_sizes(model, Path(args.weights_dir or WEIGHTS_DIR) / f"{name}.pt", tfjs=not args.no_tfjs)
        with tempfile.TemporaryDirectory() as t:
            sess = ex.onnx_session(ex.export_onnx(model, Path(t) / "m.onnx"), threads=1)
            with torch.inference_mode(): torch_ms = ex.latency_ms(model, one, runs=args.runs)
            onnx_ms = ex.latency_ms(lambda a: sess.run(None, {"image": a}), one.numpy(), runs=args.runs)
            row = {"model": name, "arch": info["arch"], "params": info["params"],
                   **{f"{k} KiB": round(v / 1024, 1) for k, v in sizes.items()},
                   "torch ms": round(torch_ms, 3), "onnxruntime ms": round(onnx_ms, 3)}
            if args.node:
                d = ex.export_tfjs(model, Path(t) / "tfjs").parent
                _, stats = ex.tfjs_node_logits(d, x[:1000], batch=1000)
                row["tfjs-node wasm ms/img (batch 1000)"] = round(stats["predict_ms"] / 1000, 3)
        rows.append(row)
        print(f"{name}: done", file=sys.stderr, flush=True)
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
