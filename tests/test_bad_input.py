"""Property-based tests: whatever is thrown at `load_gray`, `to_mnist` and `DigitPredictor.predict`, the answer is a valid
result or a one-line `ValueError` / `FileNotFoundError` under 300 characters, never another exception.

Inputs are drawn by hypothesis: random shapes, dtypes and values (NaN, inf, negative, huge), PIL images of every mode,
torch tensors, and files (empty, truncated PNG, random bytes, wrong extension, folders, missing paths, odd names).
Run with `pytest -q tests/test_bad_input.py` (about half a minute).
"""
import io, os, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from digit_lab.inference import DigitPredictor, load_gray, to_mnist

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FILES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ALLOWED = (ValueError, FileNotFoundError)


def note(what):
    "Count outcomes (`pytest --hypothesis-show-statistics` shows how often inputs were valid)"
    if currently_in_test_context(): event(what)


def check(fn, x):
    "Call fn(x): a result, or an allowed error with a short one-line message. Returns the result or the error."
    try:
        r = fn(x); note(f"{getattr(fn, '__name__', 'fn')}: ok"); return r
    except ALLOWED as e:
        note(f"{getattr(fn, '__name__', 'fn')}: {type(e).__name__}")
        msg = str(e)
        assert msg and len(msg) < 300 and "\n" not in msg, f"{type(e).__name__} message too long or multi-line: {msg!r}"
        assert type(e) in (ValueError, FileNotFoundError), f"{type(e).__name__} is a subclass, not the plain error"
        return e


def valid_gray(g, shape=None):
    assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.ndim == 2
    assert np.isfinite(g).all() and g.min() >= 0 and g.max() <= 1
    if shape is not None: assert g.shape == shape


def valid_mnist(m):
    valid_gray(m, (28, 28))
    assert m.max() > 0  # a digit, not an empty frame


@pytest.fixture(scope="module")
def predictor():
    return DigitPredictor.from_pretrained()


# --- arrays: every numeric dtype, many shapes, special values -------------------------------------------------------

DTYPES = st.sampled_from([np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
                          np.float16, np.float32, np.float64, np.bool_, np.complex64])
SHAPES = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6),              # mostly too small or odd
    st.tuples(st.integers(8, 64), st.integers(8, 64)),                            # HxW
    st.tuples(st.integers(8, 48), st.integers(8, 48), st.sampled_from([1, 2, 3, 4, 5])),   # HxWxC
    st.tuples(st.sampled_from([1, 2, 3, 4]), st.integers(8, 48), st.integers(8, 48)),      # CxHxW
    st.tuples(st.just(1), st.integers(1, 4), st.integers(8, 40), st.integers(8, 40)),      # a batch of one
)


@st.composite
def arrays(draw):
    dtype, shape = np.dtype(draw(DTYPES)), draw(SHAPES)
    kind = draw(st.sampled_from(["random", "digit", "constant", "special"]))
    a = hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype, allow_nan=True, allow_infinity=True))
    if kind == "random" or dtype.kind in "bc" or len(shape) < 2: return draw(a)
    out = np.zeros(shape, dtype)
    if kind == "digit" and min(shape[-2:]) >= 8:  # a bright bar on a dark background, or dark on bright
        hi = np.iinfo(dtype).max if dtype.kind in "ui" else draw(st.sampled_from([1.0, 255.0, 1e30]))
        out[..., shape[-2] // 4: 3 * shape[-2] // 4, shape[-1] // 3: shape[-1] // 2] = hi
        if draw(st.booleans()): out = (hi - out).astype(dtype)
    elif kind == "special" and dtype.kind == "f":
        with np.errstate(over="ignore"):  # -1e300 in a float16 array is -inf
            out.flat[draw(st.integers(0, max(out.size - 1, 0)))] = draw(st.sampled_from([np.nan, np.inf, -np.inf, -1e300, 1e300]))
    elif kind == "constant":
        out[...] = draw(hnp.from_dtype(dtype, allow_nan=False, allow_infinity=False))
    return out


@FAST
@given(arrays())
def test_arrays(a):
    with np.errstate(all="ignore"):  # the inputs themselves may overflow when hypothesis builds them
        g = check(load_gray, a)
        if not isinstance(g, Exception): valid_gray(g)
        m = check(to_mnist, a)
        if not isinstance(m, Exception): valid_mnist(m)


@FAST
@given(arrays(), st.sampled_from(["tensor", "list", "half", "grad"]))
def test_tensors_and_lists(a, how):
    if a.dtype.kind == "c" or a.dtype in (np.uint16, np.uint32, np.uint64): a = a.astype(np.int64) if a.dtype.kind == "u" else a
    with np.errstate(all="ignore"):
        x = (torch.from_numpy(np.ascontiguousarray(a)) if how == "tensor" else a.tolist() if how == "list"
             else torch.from_numpy(np.ascontiguousarray(a, np.float32)).half() if how == "half" and a.dtype.kind != "c"
             else torch.from_numpy(np.ascontiguousarray(a, np.float32)).requires_grad_() if a.dtype.kind != "c" else a)
        m = check(to_mnist, x)
        if not isinstance(m, Exception): valid_mnist(m)


@FAST
@given(st.sampled_from(["1", "L", "P", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F", "LA", "PA",
                        "La", "RGBa", "I;16", "I;16B", "I;16L"]),
       st.integers(1, 60), st.integers(1, 60), st.booleans())
def test_pil_modes(mode, w, h, with_digit):
    im = Image.new(mode, (w, h))
    if with_digit and min(w, h) >= 8 and mode not in ("La", "RGBa"):
        grey = Image.new("L", (w, h)); grey.paste(255, (w // 3, h // 4, w // 2, 3 * h // 4))
        try: im = grey.convert(mode)
        except ValueError: pass  # Pillow cannot make every mode from grey; the blank image is still a fine test
    g = check(load_gray, im)
    if not isinstance(g, Exception): valid_gray(g, (h, w))
    m = check(to_mnist, im)
    if not isinstance(m, Exception): valid_mnist(m)


def test_valid_digit_is_read(predictor):
    canvas = np.zeros((280, 280), np.uint8); canvas[60:220, 130:150] = 255  # a "1"
    for x in (canvas, 255 - canvas, canvas.astype(np.float64) / 255, torch.tensor(canvas)[None], Image.fromarray(canvas)):
        r = predictor.predict(x)
        assert r["digit"] == 1 and 0 < r["confidence"] <= 1 and abs(sum(r["probabilities"]) - 1) < 1e-4


def test_other_objects(predictor):
    for x in (None, 3, 2.5, "", b"\x89PNG", {"a": 1}, object(), [[1, 2], [3]], [["a"] * 10] * 10, np.array(5),
              torch.zeros(0), np.zeros((10, 10), object), np.zeros((10, 10), "datetime64[s]")):
        for fn in (load_gray, to_mnist, predictor.predict):
            check(fn, x)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays(), st.one_of(st.integers(-3, 14), st.just(True), st.just(2.0), st.none()))
def test_predict(predictor, a, k):
    with np.errstate(all="ignore"):
        r = check(lambda x: predictor.predict(x, k=k), a)
    if not isinstance(r, Exception):
        assert 0 <= r["digit"] <= 9 and 0 < r["confidence"] <= 1 and len(r["probabilities"]) == 10
        assert np.isfinite(r["probabilities"]).all() and abs(sum(r["probabilities"]) - 1) < 1e-3 and len(r[f"top{k}"]) == k


# --- files --------------------------------------------------------------------------------------------------------------

def png_bytes(a: np.ndarray, fmt="PNG") -> bytes:
    b = io.BytesIO(); Image.fromarray(a).save(b, fmt); return b.getvalue()


DIGIT = np.zeros((64, 64), np.uint8); DIGIT[10:54, 28:36] = 255
GOOD = {"png": png_bytes(DIGIT), "jpg": png_bytes(DIGIT, "JPEG"), "bmp": png_bytes(DIGIT, "BMP"), "gif": png_bytes(DIGIT, "GIF")}


@st.composite
def files(draw):
    "(file name, bytes or None for 'do not create', what it is)"
    kind = draw(st.sampled_from(["good", "truncated", "random", "empty", "corrupted", "huge header", "text"]))
    fmt = draw(st.sampled_from(sorted(GOOD)))
    ext = draw(st.sampled_from([fmt, "png", "jpg", "txt", "", "PNG", "tiff"]))
    data = GOOD[fmt]
    if kind == "truncated": data = data[:draw(st.integers(1, len(data) - 1))]
    elif kind == "random": data = draw(st.binary(min_size=1, max_size=400))
    elif kind == "empty": data = b""
    elif kind == "corrupted":
        i = draw(st.integers(0, len(data) - 1)); data = data[:i] + bytes([(data[i] + draw(st.integers(1, 255))) % 256]) + data[i + 1:]
    elif kind == "huge header": data = data[:16] + (100_000).to_bytes(4, "big") + (100_000).to_bytes(4, "big") + data[24:]  # PNG IHDR size
    elif kind == "text": data = draw(st.text(max_size=200)).encode()
    return f"img.{ext}" if ext else "img", data, kind


@FILES
@given(files())
def test_files(tmp_path, f):
    name, data, kind = f
    p = tmp_path / name
    p.write_bytes(data)
    for fn in (load_gray, to_mnist):
        r = check(fn, p)
        if kind == "good": assert not isinstance(r, Exception), f"{name}: {r}"
        if isinstance(r, Exception): assert str(p.name) in str(r), f"the message should name the file: {r}"
        else: valid_gray(r)


def test_paths(tmp_path, predictor):
    (tmp_path / "folder.png").mkdir()
    os.mkfifo(tmp_path / "pipe.png") if hasattr(os, "mkfifo") else None
    cases = {tmp_path / "missing.png": FileNotFoundError, tmp_path / "folder.png": ValueError,
             str(tmp_path / "a\0b.png"): (ValueError, FileNotFoundError), str(tmp_path / ("x" * 5000 + ".png")): ValueError,
             tmp_path / "no" / "such" / "dir.png": FileNotFoundError, "": ValueError}
    if (tmp_path / "pipe.png").exists(): cases[tmp_path / "pipe.png"] = ValueError
    for path, err in cases.items():
        for fn in (load_gray, to_mnist, predictor.predict):
            r = check(fn, path)
            assert isinstance(r, err), f"{path!r}: {r!r}"
    unreadable = tmp_path / "secret.png"; unreadable.write_bytes(GOOD["png"]); unreadable.chmod(0)
    if not os.access(unreadable, os.R_OK):  # (root can read anything)
        assert isinstance(check(to_mnist, unreadable), ValueError)


def test_predict_batch_names_the_bad_one(predictor):
    with pytest.raises(ValueError, match="image 2"):
        predictor.predict_batch([DIGIT, DIGIT, np.zeros((64, 64), np.uint8)])


def test_threads_chosen_once():
    "`DigitPredictor` sets torch's thread count once, when it is made; predictions never change it."
    code = ("import torch, numpy as np; from digit_lab.inference import DigitPredictor\n"
            "torch.set_num_threads(2); p = DigitPredictor.from_pretrained(threads=None); a = np.zeros((64, 64), np.uint8)\n"
            "a[10:54, 28:36] = 255; p.predict(a); assert torch.get_num_threads() == 2\n"
            "q = DigitPredictor(p.model); assert torch.get_num_threads() == 1; q.predict(a); assert torch.get_num_threads() == 1\n"
            "import threading; ts = [threading.Thread(target=q.predict, args=(a,)) for _ in range(8)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]; assert torch.get_num_threads() == 1\n"
            "for bad in (0, -1, 1.5, True, '2'):\n"
            "    try: DigitPredictor(p.model, threads=bad); raise SystemExit(f'no error for {bad!r}')\n"
            "    except ValueError: pass\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


# --- import hygiene -----------------------------------------------------------------------------------------------------

def test_inference_imports_no_heavy_optional_packages():
    "A plain `import digit_lab.inference` must not load notebook, plotting, scikit-learn or TensorFlow packages."
    heavy = ["jupyter", "jupyter_core", "ipywidgets", "ipykernel", "IPython", "sklearn", "matplotlib", "tensorflow", "onnx"]
    code = ("import sys, digit_lab.inference\n"
            f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))\n"
            "assert not bad, bad\n"
            "assert 'digit_lab.evaluate' not in sys.modules  # inference comes before evaluate\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
