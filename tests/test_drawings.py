"""Drawn digits: the shipped model must read >= 97% of canvases drawn like people draw them.

Canvases come from `digit_lab.styles.synth_canvases` with seeds the training never used (training uses seeds < 10,000):
27 handwriting styles (crossed 7, 1 with flag and foot, open 4, small-loop 6 and 9, ...), large and centred or small
and anywhere, pens 8-28 px, white on black and black on white. Each goes through
`DigitPredictor.from_pretrained().predict(canvas)`, exactly what a user calls. Run with `-s` to see the tables.
"""
import numpy as np, pytest, torch
from digit_lab.styles import synth_canvases, STYLES
from digit_lab.inference import DigitPredictor, naive_resize

PER_STYLE = 24  # canvases per style: 8 per placement (large, small, medium)
SEED = 20_000   # held out: training data uses seeds < 10,000, the notebooks 10,000-10,999

@pytest.fixture(scope="module")
def predictor():
    return DigitPredictor.from_pretrained()

@pytest.fixture(scope="module")
def drawings():
    return synth_canvases(len(STYLES) * PER_STYLE, seed=SEED, invert=None)

@pytest.fixture(scope="module")
def results(predictor, drawings):
    canvases, labels, info = drawings
    preds = np.array([predictor.predict(c)["digit"] for c in canvases])
    return preds == labels

def _table(ok, info, key):
    groups = {}
    for o, d in zip(ok, info): groups.setdefault(str(d[key]), []).append(o)
    return {k: 100 * float(np.mean(v)) for k, v in sorted(groups.items())}

def test_drawings_overall(results, drawings):
    _, _, info = drawings
    acc = 100 * results.mean()
    by_style = _table(results, info, "style")
    print(f"\ndrawn canvases: {acc:.2f}% of {len(results)} read correctly")
    for k, v in by_style.items(): print(f"  {k:<16}{v:6.1f}%")
    for key in ("placement", "inverted"): print(f"  by {key}:", {k: round(v, 1) for k, v in _table(results, info, key).items()})
    assert acc >= 97, f"only {acc:.2f}% of drawn digits read correctly; per style: {by_style}"

def test_every_style_and_placement(results, drawings):
    _, _, info = drawings
    worst = {k: v for k, v in _table(results, info, "style").items() if v < 87.5}
    assert not worst, f"styles read less than 87.5% of the time: {worst}"
    for key in ("placement", "inverted"):
        low = {k: v for k, v in _table(results, info, key).items() if v < 95}
        assert not low, f"{key} groups under 95%: {low}"

def test_naive_canvas_resize_is_worse(predictor, drawings, results):
    "The seed projects' preprocessing (resize the whole canvas to 28x28) on the same drawings."
    canvases, labels, _ = drawings
    x = torch.from_numpy(np.stack([naive_resize(c) for c in canvases]))[:, None]
    naive = 100 * (predictor.probabilities(x).argmax(1).numpy() == labels).mean()
    ours = 100 * results.mean()
    print(f"\nwhole-canvas resize: {naive:.1f}%   to_mnist: {ours:.1f}%")
    assert naive < ours - 20

def test_predict_output_shape(predictor, drawings):
    r = predictor.predict(drawings[0][0])
    assert set(r) >= {"digit", "confidence", "probabilities", "top3"}
    assert abs(sum(r["probabilities"]) - 1) < 1e-4 and len(r["top3"]) == 3 and r["top3"][0][0] == r["digit"]
