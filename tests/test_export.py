"""ONNX export (digit_lab.export): parity with PyTorch on the whole MNIST test set, the dynamic batch axis, the CLI.

Uses the shipped weights (digit_lab/weights; env DIGIT_LAB_WEIGHTS_DIR points elsewhere for development) and MNIST
from DIGIT_LAB_MNIST_DIR. TF.js parity is in test_export_tfjs.py, the web page in test_web*.py.
"""
import contextlib, io, os, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import torch

from digit_lab.data import mnist_floats
from digit_lab.models import shipped_models
from digit_lab import export as ex

WEIGHTS = os.environ.get("DIGIT_LAB_WEIGHTS_DIR")  # None: the shipped weights
NAMES = shipped_models(WEIGHTS)


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
    "One image, one thread, after warm-up: report and bound the median."
    model, info = ex.export_model(weights_dir=WEIGHTS)
    sess = ex.onnx_session(ex.export_onnx(model, tmp_path / "m.onnx"), threads=1)
    one = mnist_test[0][:1].numpy()
    ms = ex.latency_ms(lambda a: sess.run(None, {"image": a}), one, runs=300)
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


def test_export_onnx_rejects_batch_1(tmp_path):
    model, _ = ex.export_model("tiny", untrained=True)
    with pytest.raises(ValueError, match="batch >= 2"): ex.export_onnx(model, tmp_path / "m.onnx", batch=1)


def _cli(*args):
    from digit_lab.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main(["export", *args])
    return code, out.getvalue(), err.getvalue()


def test_cli_onnx(tmp_path):
    extra = ["--weights-dir", WEIGHTS] if WEIGHTS else []
    code, out, err = _cli("--format", "onnx", "--out", str(tmp_path / "o"), "--check", *extra)
    assert code == 0, err
    assert (tmp_path / "o" / "model.onnx").exists() and "0 predictions changed" in out


def test_cli_untrained_any_arch(tmp_path):
    code, out, err = _cli("--model", "lenet5", "--untrained", "--format", "onnx", "--out", str(tmp_path))
    assert code == 0, err
    assert ex.onnx_logits(tmp_path / "model.onnx", np.zeros((3, 1, 28, 28), np.float32)).shape == (3, 10)


def test_cli_errors(tmp_path):
    code, _, err = _cli("--model", "nope", "--format", "onnx", "--out", str(tmp_path), "--weights-dir", str(tmp_path))
    assert code == 1 and "model_card.json" in err and "Traceback" not in err
    (tmp_path / "afile").write_text("x")
    code, _, err = _cli("--model", "tiny", "--untrained", "--format", "onnx", "--out", str(tmp_path / "afile"))
    assert code == 1 and "is a file" in err
    with pytest.raises(SystemExit) as e, contextlib.redirect_stderr(io.StringIO()):
        ex.cli(["--format", "pdf", "--out", str(tmp_path)])
    assert e.value.code == 2


def test_cli_without_tfjs_says_how_to_install(tmp_path):
    "With tensorflowjs missing, tfjs/web exports fail with one line naming the extra to install."
    code = ("import sys; sys.modules['tensorflowjs'] = None\n"  # makes `import tensorflowjs` raise ImportError
            "from digit_lab.cli import main\n"
            f"sys.exit(main(['export', '--model', 'tiny', '--untrained', '--format', 'tfjs', '--out', {str(tmp_path)!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "pip install 'digit-lab[tfjs]'" in r.stderr and "Traceback" not in r.stderr
