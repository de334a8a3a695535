"""TensorFlow.js export: PyTorch -> Keras -> TF.js layers model, run in real TensorFlow.js (Node, from tests/js).

Whole MNIST test set on the WebAssembly backend for every shipped model, a subset on the pure-JS CPU backend,
float16/uint8 weights, and the layer converter on every registry architecture. Needs the tfjs extra
(pip install "digit-lab[tfjs]") and `make js` (npm ci in tests/js).
"""
import json, os, time
from pathlib import Path
import numpy as np
import pytest
import torch
from torch import nn

from digit_lab.data import mnist_floats
from digit_lab.hub import ENSEMBLE_ARCH, make_ensemble, model_card, shipped_models
from digit_lab.models import get_model, MODEL_NAMES
from digit_lab import export as ex

WEIGHTS = os.environ.get("DIGIT_LAB_WEIGHTS_DIR")
NAMES = [n for n in shipped_models(WEIGHTS) if model_card(WEIGHTS)["models"][n]["arch"] != ENSEMBLE_ARCH]  # ensembles: ONNX only


@pytest.fixture(scope="module", autouse=True)
def tools():
    ex.require_tfjs()  # an ImportError here names the extra to install
    ex.js_dir()        # a FileNotFoundError here says to run `make js`


@pytest.fixture(scope="module")
def mnist_test():
    return mnist_floats(train=False)


def _exported(name, tmp_path, quantize=None):
    model, info = ex.export_model(name, weights_dir=WEIGHTS)
    d = ex.export_tfjs(model, tmp_path / f"tfjs_{quantize}", quantize=quantize, metadata={"name": name}).parent
    return model, d


@pytest.mark.parametrize("name", NAMES)
def test_tfjs_parity_whole_test_set(name, mnist_test, tmp_path):
    x, y = mnist_test
    model, d = _exported(name, tmp_path)
    ref = ex.torch_logits(model, x)
    logits, stats = ex.tfjs_node_logits(d, x, backend="wasm")
    r = ex.compare_logits(ref, logits, y)
    print(f"\nTF.js {stats['tfjs']} {stats['backend']} {name}: {r} | load {stats['load_ms']:.0f} ms, "
          f"10k images {stats['predict_ms'] / 1000:.1f} s | {ex.dir_bytes(d) / 1024:.1f} KiB")
    assert stats["backend"] == "wasm" and stats["inputs"] == [[None, 28, 28, 1]] and stats["outputs"] == [[None, 10]]
    assert r["n"] == 10_000 and r["changed_predictions"] == 0 and r["max_abs_diff"] <= 1e-4, r


def test_ensemble_is_refused_with_a_message(tmp_path):
    "An ensemble has no TF.js form here: the converter says to use ONNX or one member, and writes nothing."
    ens, _ = make_ensemble(["speed", "quick"], weights_dir=WEIGHTS)
    for f in (lambda: ex.to_keras(ens), lambda: ex.export_tfjs(ens, tmp_path / "tfjs"), lambda: ex.export_web(ens, tmp_path / "web")):
        with pytest.raises(ValueError, match="exports to ONNX only"): f()
    assert not (tmp_path / "tfjs").exists() and not (tmp_path / "web").exists()


def test_tfjs_parity_cpu_backend(mnist_test, tmp_path):
    "The pure-JavaScript backend (slow: a subset), default model."
    x, y = mnist_test[0][:1000], mnist_test[1][:1000]
    model, d = _exported(None, tmp_path)
    logits, stats = ex.tfjs_node_logits(d, x, backend="cpu")
    r = ex.compare_logits(ex.torch_logits(model, x), logits, y)
    print(f"\nTF.js cpu backend, default model, 1000 images: {r}")
    assert stats["backend"] == "cpu" and r["changed_predictions"] == 0 and r["max_abs_diff"] <= 1e-4, r


@pytest.mark.parametrize("quantize", ["float16", "uint8"])
def test_tfjs_quantised(quantize, mnist_test, tmp_path):
    "Smaller weights: measured size and accuracy in TF.js on the whole test set (default model)."
    x, y = mnist_test
    model, d32 = _exported(None, tmp_path)
    _, dq = _exported(None, tmp_path, quantize)
    ref = ex.torch_logits(model, x)
    logits, _ = ex.tfjs_node_logits(dq, x)
    r = ex.compare_logits(ref, logits, y)
    s32, sq = ex.dir_bytes(d32), ex.dir_bytes(dq)
    print(f"\nTF.js {quantize}: {sq / 1024:.1f} KiB (float32 {s32 / 1024:.1f} KiB), accuracy {r['accuracy']}% "
          f"(float32 {r['accuracy_ref']}%), {r['changed_predictions']} predictions changed, max diff {r['max_abs_diff']:.2e}")
    assert sq < (0.55 if quantize == "float16" else 0.3) * s32 + 8000
    assert r["accuracy"] >= r["accuracy_ref"] - (0.05 if quantize == "float16" else 0.3)
    # Python reads the quantised weights back the same way TF.js does
    kq = ex.load_tfjs_keras(dq)
    np.testing.assert_allclose(kq(x[:200].permute(0, 2, 3, 1).numpy()).numpy(), logits[:200], atol=1e-4)


def _scrambled(name, seed=0):
    torch.manual_seed(seed)
    m = get_model(name)
    for b in m.modules():
        if isinstance(b, (nn.BatchNorm1d, nn.BatchNorm2d)):
            b.running_mean.uniform_(-0.5, 0.5); b.running_var.uniform_(0.5, 2)
            b.weight.data.uniform_(0.5, 1.5); b.bias.data.uniform_(-0.3, 0.3)
    return m.eval()


@pytest.mark.parametrize("arch", MODEL_NAMES)
def test_every_architecture_converts(arch, mnist_test, tmp_path):
    "Untrained (random BatchNorm statistics) registry models through Keras into TF.js, both flatten strategies."
    x = mnist_test[0][:300]
    m = _scrambled(arch)
    ref = ex.torch_logits(m, x)
    for flatten in ("weights", "layer"):
        d = ex.export_tfjs(ex.to_keras(m, flatten=flatten), tmp_path / flatten).parent
        logits, _ = ex.tfjs_node_logits(d, x)
        assert np.abs(logits - ref).max() <= 1e-4, (arch, flatten)


def test_converter_rejects_unknown_layers():
    with pytest.raises(ValueError, match="GELU has no Keras counterpart"):
        ex.to_keras(nn.Sequential(nn.Conv2d(1, 2, 3), nn.GELU()))
    with pytest.raises(ValueError, match="groups=1"):
        ex.to_keras(nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)), input_shape=(2, 28, 28))


def test_cli_tfjs(tmp_path):
    extra = ["--weights-dir", WEIGHTS] if WEIGHTS else []
    assert ex.cli(["--format", "tfjs", "--out", str(tmp_path), "--check", *extra]) == 0
    mj = json.loads((tmp_path / "model.json").read_text())
    assert mj["format"] == "layers-model" and list(tmp_path.glob("group1-shard*.bin"))
    size32 = ex.dir_bytes(tmp_path)
    assert ex.cli(["--format", "tfjs", "--out", str(tmp_path / "q"), "--quantize", "uint8", *extra]) == 0
    assert ex.dir_bytes(tmp_path / "q") < 0.35 * size32 + 16_000  # model.json is the same size in both


def _tree(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["tfjs", "web"])
def test_failed_export_keeps_the_old_one(kind, tmp_path, monkeypatch):
    "A failure half-way (after some files are written) leaves the earlier export complete and no temporary folder."
    model, info = ex.export_model("tiny", untrained=True)
    out = tmp_path / kind
    write = (lambda o: ex.export_tfjs(model, o)) if kind == "tfjs" else (lambda o: ex.export_web(model, o, info))
    write(out)
    before = _tree(out)
    def half_done(km, folder, quantize, metadata):
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "model.json").write_text("{}")  # a model.json pointing at shards that never come
        raise OSError("disk full")
    monkeypatch.setattr(ex, "_save_tfjs", half_done)
    with pytest.raises(OSError, match="disk full"): write(out)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [kind]
    mj = json.loads((out / ("model.json" if kind == "tfjs" else "model/model.json")).read_text())
    shards = [p for g in mj["weightsManifest"] for p in g["paths"]]
    assert shards and all((out / ("" if kind == "tfjs" else "model") / p).is_file() for p in shards)


def test_export_replaces_an_old_export_completely(tmp_path):
    "Shards of an earlier, bigger export do not linger; a folder with other files is never replaced"
    big = get_model("mlp", hidden=(2048, 1024)).eval()  # 3.7M weights: several 4 MB shards
    small, _ = ex.export_model("tiny", untrained=True)
    ex.export_tfjs(big, tmp_path / "m")
    n_big = len(list((tmp_path / "m").glob("*.bin")))
    ex.export_tfjs(small, tmp_path / "m")
    mj = json.loads((tmp_path / "m" / "model.json").read_text())
    assert sorted(p.name for p in (tmp_path / "m").glob("*.bin")) == sorted(p for g in mj["weightsManifest"] for p in g["paths"])
    assert n_big > len(list((tmp_path / "m").glob("*.bin")))
    (tmp_path / "m" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="keep.txt, which is not part of a TF.js model"): ex.export_tfjs(small, tmp_path / "m")
    assert (tmp_path / "m" / "keep.txt").read_text() == "mine"
