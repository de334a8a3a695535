"""Drawn digits: the shipped model must read >= 97% of canvases drawn the way people draw them.

Canvases come from `digit_lab.styles.synth_canvases` with seeds the training never used (training uses seeds
< 10,000, the notebooks 10,000-10,999): 27 handwriting styles (crossed 7, 1 with flag and foot, open 4, small-loop 6
and 9, ...), large and centred or small and anywhere, pens 8-28 px, white on black and black on white. The
"irregular" set is drawn with more jitter than any training digit (`HARD_JITTER`: tremor, slant, rotation, stretch).
The notebook `05_inference` shows the same measurements with figures.
Each canvas goes through `DigitPredictor.from_pretrained().predict(canvas)`, exactly what a user calls.
Run `pytest -s tests/test_drawings.py` to see the per-style tables.
"""
import numpy as np, pytest, torch
from digit_lab.styles import synth_canvases, STYLES, HARD_JITTER
from digit_lab.inference import DigitPredictor, naive_resize

PER_STYLE = 24  # canvases per style and set: 8 per placement (large, small, medium)
SETS = {"regular": dict(seed=20_000), "irregular": dict(seed=21_000, jitter=HARD_JITTER)}

@pytest.fixture(scope="module")
def predictor():
    return DigitPredictor.from_pretrained()

@pytest.fixture(scope="module", params=list(SETS))
def drawn(request, predictor):
    "(name, canvases, labels, info, correct) for one set"
    canvases, labels, info = synth_canvases(len(STYLES) * PER_STYLE, invert=None, **SETS[request.param])
    correct = np.array([predictor.predict(c)["digit"] for c in canvases]) == labels
    return request.param, canvases, labels, info, correct

def _table(ok, info, key):
    groups = {}
    for o, d in zip(ok, info): groups.setdefault(str(d[key]), []).append(o)
    return {k: 100 * float(np.mean(v)) for k, v in sorted(groups.items())}

def test_drawings_read(drawn):
    name, _, _, info, ok = drawn
    acc, by_style = 100 * ok.mean(), _table(ok, info, "style")
    print(f"\n{name} drawings: {acc:.2f}% of {len(ok)} read correctly")
    for k, v in by_style.items(): print(f"  {k:<16}{v:6.1f}%")
    for key in ("placement", "inverted"): print(f"  by {key}:", {k: round(v, 1) for k, v in _table(ok, info, key).items()})
    assert acc >= 97, f"{name}: only {acc:.2f}% of drawn digits read correctly; per style: {by_style}"

def test_every_style_placement_and_polarity(drawn):
    name, _, _, info, ok = drawn
    low = {k: v for k, v in _table(ok, info, "style").items() if v < 85}
    assert not low, f"{name}: styles read less than 85% of the time: {low}"
    for key in ("placement", "inverted"):
        low = {k: v for k, v in _table(ok, info, key).items() if v < 95}
        assert not low, f"{name}: {key} groups under 95%: {low}"

def test_naive_canvas_resize_is_worse(predictor, drawn):
    "The usual shortcut of drawing demos (shrink the whole canvas to 28x28) on the same drawings: small digits fail."
    name, canvases, labels, info, ok = drawn
    x = torch.from_numpy(np.stack([naive_resize(c) for c in canvases]))[:, None]
    naive_ok = predictor.probabilities(x).argmax(1).numpy() == labels
    naive, ours = _table(naive_ok, info, "placement"), _table(ok, info, "placement")
    r1 = lambda d: {k: round(v, 1) for k, v in d.items()}
    print(f"\n{name}: whole-canvas resize {100 * naive_ok.mean():.1f}% {r1(naive)}, to_mnist {100 * ok.mean():.1f}% {r1(ours)}")
    assert naive_ok.mean() < ok.mean() - 0.1 and naive["small"] < ours["small"] - 40

def test_predict_result(predictor):
    canvas = synth_canvases(1, seed=22_000, styles=["7_crossed"])[0][0]
    r = predictor.predict(canvas)
    assert set(r) >= {"digit", "confidence", "probabilities", "top3"} and r["digit"] == 7
    assert abs(sum(r["probabilities"]) - 1) < 1e-4 and len(r["top3"]) == 3 and r["top3"][0] == (7, r["confidence"])
