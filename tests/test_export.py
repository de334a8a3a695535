"""ONNX export (digit_lab.export): parity with PyTorch on the whole MNIST test set, the dynamic batch axis, atomic
writes, and `digit-lab export`: bad arguments, missing optional packages, a folder written by `digit-lab train`.

Uses the shipped weights (digit_lab/weights; env DIGIT_LAB_WEIGHTS_DIR points elsewhere for development) and MNIST
from DIGIT_LAB_MNIST_DIR. TF.js parity is in test_export_tfjs.py, the web page in test_web*.py.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch

from digit_lab.data import mnist_floats
from digit_lab.hub import shipped_models
from digit_lab.timing import latency_ms
from digit_lab import export as ex

WEIGHTS = os.environ.get("DIGIT_LAB_WEIGHTS_DIR")  # None: the shipped weights
NAMES = shipped_models(WEIGHTS)
EXTRA = ["--weights-dir", WEIGHTS] if WEIGHTS else []


def test_weights_are_shipped():
    assert NAMES, "no shipped weights in digit_lab/weights: `digit-lab train --recipe best` makes them"


@pytest.fixture(scope="module")
def mnist_test():
    return mnist_floats(train=False)


@pytest.mark.parametrize("name", NAMES)
def test_onnx_parity_whole_test_set(name, mnist_test, tmp_path):
    x, y = mnist_test
    model, info = ex.export_model(name, weights_dir=WEIGHTS)
    path = ex.export_onnx(model, tmp_path / "model.onnx")
    ref = ex.torch_logits(model, x)
    sess = ex.onnx_session(path)
    # the batch axis is dynamic: one image, an odd batch and the whole test set through the same file
    np.testing.assert_allclose(ex.onnx_logits(sess, x[:1]), ref[:1], atol=1e-4)
    np.testing.assert_allclose(ex.onnx_logits(sess, x[:7]), ref[:7], atol=1e-4)
    r = ex.compare_logits(ref, ex.onnx_logits(sess, x, bs=10_000), y)
    print(f"\nONNX {name}: {r} | {path.stat().st_size / 1024:.1f} KiB")
    assert r["n"] == 10_000 and r["changed_predictions"] == 0 and r["max_abs_diff"] <= 1e-4, r
    assert r["accuracy"] == r["accuracy_ref"] > 97


def test_onnx_latency_cpu(tmp_path, mnist_test):
    "One image, one thread: report and bound the median (generous: a shared CPU)."
    model, info = ex.export_model(weights_dir=WEIGHTS)
    sess = ex.onnx_session(ex.export_onnx(model, tmp_path / "m.onnx"), threads=1)
    one = mnist_test[0][:1].numpy()
    ms = latency_ms(lambda a: sess.run(None, {"image": a}), one, num_threads=1)
    print(f"\nONNX {info['name']} CPU latency (1 image, 1 thread): median {ms:.3f} ms")
    assert ms < 20


def test_onnx_file_says_what_it_expects(tmp_path):
    import onnx
    model, _ = ex.export_model("tiny", untrained=True)
    proto = onnx.load(ex.export_onnx(model, tmp_path / "m.onnx", metadata={"name": "tiny"}))
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["digit_lab.name"] == "tiny" and "[N,1,28,28]" in props["digit_lab.input"]
    assert not any(n.metadata_props for n in proto.graph.node)  # no stack traces with local paths
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 1, 28, 28]


def test_export_onnx_rejects_batch_1_and_folders(tmp_path):
    model, _ = ex.export_model("tiny", untrained=True)
    with pytest.raises(ValueError, match="batch >= 2"): ex.export_onnx(model, tmp_path / "m.onnx", batch=1)
    with pytest.raises(ValueError, match="is a folder"): ex.export_onnx(model, tmp_path)


def test_failed_onnx_export_keeps_the_old_file(tmp_path, monkeypatch):
    "The file is replaced only by a complete export: a failure (here in the exporter) leaves the old one intact."
    model, _ = ex.export_model("tiny", untrained=True)
    path = ex.export_onnx(model, tmp_path / "m.onnx")
    old = path.read_bytes()
    def broken(*a, **k): raise RuntimeError("exporter crashed")
    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(RuntimeError, match="crashed"): ex.export_onnx(ex.export_model("lenet5", untrained=True)[0], path)
    assert path.read_bytes() == old and sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


# ---------------------------------------------------------------- digit-lab export
def _cli(*args):
    from digit_lab.cli import run_main
    return run_main("export", *args)


def test_cli_onnx(tmp_path):
    code, out, err = _cli("--format", "onnx", "--out", str(tmp_path / "o"), "--check", *EXTRA)
    assert code == 0, err
    assert (tmp_path / "o" / "model.onnx").exists() and "0 predictions changed" in out


def test_cli_untrained_any_arch(tmp_path):
    code, out, err = _cli("--model", "lenet5", "--untrained", "--format", "onnx", "--out", str(tmp_path))
    assert code == 0, err
    assert ex.onnx_logits(tmp_path / "model.onnx", np.zeros((3, 1, 28, 28), np.float32)).shape == (3, 10)


BAD_ARGS = [  # (arguments, what the one line must say)
    (["--format", "pdf", "--out", "x"], "invalid choice: 'pdf'"),
    (["--format", "onnx"], "required: --out"),
    (["--format", "onnx", "--out", "{tmp}/x", "--model", "nope"], "unknown model 'nope'"),
    (["--format", "onnx", "--out", "{tmp}/x", "--model", "nope", "--weights-dir", "{tmp}"], "no weights (model_card.json)"),
    (["--format", "onnx", "--out", "{tmp}/x", "--weights-dir", "{tmp}/missing"], "is not a folder"),
    (["--format", "onnx", "--out", "{tmp}/x", "--model", "nope", "--untrained"], "needs --model ARCH"),
    (["--format", "onnx", "--out", "{tmp}/x", "--model", "tiny", "--untrained", "--weights-dir", "{tmp}"], "leave out --weights-dir"),
    (["--format", "onnx", "--out", "{tmp}/afile"], "is a file"),
    (["--format", "tfjs", "--out", "{tmp}/afile"], "is a file"),
    (["--format", "onnx", "--out", "{tmp}/x", "--quantize", "uint8"], "applies to --format tfjs and web"),
    (["--format", "tfjs", "--out", "{tmp}/x", "--quantize", "int4"], "invalid choice: 'int4'"),
    (["--format", "web", "--out", "{tmp}/mine"], "notes.txt, which is not part of a web export"),
    (["--format", "tfjs", "--out", "{tmp}/mine"], "notes.txt, which is not part of a tfjs export"),
    (["--format", "onnx", "--out", "{tmp}/x", "--model", "{tmp}/nowhere"], "no such folder"),
    (["--format", "onnx", "--out", "{tmp}/x", "--model", "{tmp}/mine"], "holds neither model_card.json"),
]


@pytest.mark.parametrize("args,says", BAD_ARGS, ids=[s for _, s in BAD_ARGS])
def test_cli_bad_arguments(tmp_path, args, says):
    "Exit status 2 and one line naming the problem, before any work (no export folder appears)."
    (tmp_path / "afile").write_text("x")
    (tmp_path / "mine").mkdir(); (tmp_path / "mine" / "notes.txt").write_text("my notes")
    code, out, err = _cli(*[a.format(tmp=tmp_path) for a in args])
    assert code == 2, (code, out, err)
    assert says in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "x").exists() and (tmp_path / "mine" / "notes.txt").read_text() == "my notes"
    if "--format" in args and args[args.index("--format") + 1] == "onnx":  # export's own cli(): the same
        with pytest.raises(SystemExit) as e:
            ex.cli([a.format(tmp=tmp_path) for a in args])
        assert e.value.code == 2


@pytest.mark.parametrize("shifts", [((0, 0),), ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))], ids=["one-view", "five-views"])
def test_cli_ensemble_onnx_only(tmp_path, shifts):
    "An ensemble folder (with or without shifted views) exports to ONNX as one graph (same logits); TF.js and the web page are refused in one line."
    import onnx
    from digit_lab.hub import ENSEMBLE_ARCH, make_ensemble, save_pretrained
    ens, members = make_ensemble(["speed", "quick"], weights_dir=WEIGHTS, shifts=shifts)
    save_pretrained(ens, "pair", arch=ENSEMBLE_ARCH, weights_dir=tmp_path / "pair", members=members)
    for fmt in ("tfjs", "web"):
        code, out, err = _cli("--model", str(tmp_path / "pair"), "--format", fmt, "--out", str(tmp_path / fmt))
        assert code == 2 and "exports to ONNX only" in err and err.count("\n") == 1, err
        assert not (tmp_path / fmt).exists()
    code, out, err = _cli("--model", str(tmp_path / "pair"), "--format", "onnx", "--out", str(tmp_path / "o"), "--check")
    assert code == 0 and "0 predictions changed" in out, err
    graphs = list((tmp_path / "o").glob("*.onnx"))
    assert len(graphs) == 1 and len(onnx.load(graphs[0]).graph.input) == 1, graphs  # one graph, one image input


MISSING = [("onnx", "onnx", 'pip install "digit-lab[export]"'), ("onnx", "onnxscript", 'pip install "digit-lab[export]"'),
           ("onnx --check", "onnxruntime", 'pip install "digit-lab[export]"'),
           ("tfjs", "tensorflowjs", 'pip install "digit-lab[tfjs]"'), ("web", "tf_keras", 'pip install "digit-lab[tfjs]"')]


@pytest.mark.parametrize("fmt,package,hint", MISSING, ids=[f"{f}-without-{p}" for f, p, _ in MISSING])
def test_cli_without_optional_packages_says_what_to_install(tmp_path, fmt, package, hint):
    "With a package missing, the export ends in one line naming it and the extra to install; nothing is written."
    fmt, *check = fmt.split()
    code = (f"import sys; sys.modules[{package!r}] = None\n"  # makes `import package` raise ImportError
            "from digit_lab.cli import main\n"
            f"sys.exit(main(['export', '--model', 'tiny', '--untrained', '--format', {fmt!r}, '--out', {str(tmp_path / 'o')!r}, *{check!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert hint in r.stderr and package in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


def test_missing_extra_is_an_import_error_and_a_value_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="digit-lab\\[export\\]"): ex.require_onnx()
    with pytest.raises(ValueError, match="digit-lab\\[export\\]"): ex.export_onnx(torch.nn.Linear(1, 1), "m.onnx")


@pytest.fixture(scope="module")
def train_run(tmp_path_factory):
    "A real `digit-lab train` run (a tiny one) and its output folder"
    out = tmp_path_factory.mktemp("run") / "tiny-run"
    from digit_lab.cli import run_main
    code, stdout, err = run_main("train", "--recipe", "best", "--model", "tiny", "--epochs", "1", "--subset", "512",
                                 "--device", "cpu", "--quiet", "--out", str(out))
    if code != 0: pytest.fail(f"digit-lab train failed ({code}): {err[-500:]}")
    return out


def test_export_a_training_run(train_run, tmp_path, mnist_test):
    "`digit-lab export --model DIR` takes the folder `digit-lab train --out DIR` wrote."
    code, out, err = _cli("--model", str(train_run), "--format", "onnx", "--out", str(tmp_path), "--check")
    assert code == 0, err
    model, info = ex.export_model(str(train_run))
    assert info["arch"] == "tiny"
    x = mnist_test[0][:50]
    np.testing.assert_allclose(ex.onnx_logits(tmp_path / "model.onnx", x), ex.torch_logits(model, x), atol=1e-4)
