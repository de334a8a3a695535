"""The web page's preparation (digit_lab/web/prep.js) equals digit_lab.inference.to_mnist.

The same images go through Python's to_mnist and through prep.js in Node (tests/js/prep_run.mjs); the 28x28 inputs
must agree to 0.02 (in practice ~1e-7). Drawn canvases of every handwriting style, both polarities, ink only in the
alpha channel, coloured ink, photos with uneven light and noise, very large and odd-shaped images, MNIST digits, and
blank images (which both must refuse). The same check in Chromium, on digits drawn with the mouse, is in test_web.py.
"""
import json, shutil, subprocess
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

from digit_lab.inference import to_mnist
from digit_lab.styles import synth_canvases
from digit_lab.data import mnist

JS = Path(__file__).parent / "js"


def rgba(gray, alpha=None):
    "uint8 [H,W] grey (and alpha) -> [H,W,4]"
    g = np.asarray(gray, np.uint8)
    return np.dstack([g, g, g, np.full_like(g, 255) if alpha is None else np.asarray(alpha, np.uint8)])


def _cases():
    "What the comparison is made on (a list of (description, RGBA uint8 [H,W,4]))."
    rng = np.random.default_rng(0)
    cases = []
    canv, labels, info = synth_canvases(162, seed=123, invert=None)  # 27 styles x 3 placements x 2, both polarities
    cases += [(f"canvas {i['style']} {i['placement']} pen {i['pen']} inv={i['inverted']}", rgba(c)) for c, i in zip(canv, info)]
    light, _, _ = synth_canvases(20, seed=7)  # white ink on black -> ink only in alpha, transparent background
    cases += [("alpha-only ink", np.dstack([np.zeros_like(c)] * 3 + [c])) for c in light[:10]]
    for c in light[10:15]:  # coloured ink on a coloured, partly transparent background
        a = c.astype(np.float32) / 255
        rgb = np.stack([40 + 150 * (1 - a), 90 + 100 * (1 - a), 200 - 120 * a], -1).astype(np.uint8)
        cases.append(("coloured ink, alpha", np.dstack([rgb, (255 * np.clip(a + 0.3, 0, 1)).astype(np.uint8)])))
    for c in light[15:20]:  # a "photo": dark ink on paper with a light gradient and noise, non-square, JPEG-like
        yy, xx = np.mgrid[:280, :280]
        paper = 170 + 60 * xx / 280 + rng.normal(0, 6, (280, 280))
        photo = np.clip(paper - 0.75 * c, 0, 255).astype(np.uint8)[:, 20:250]
        cases.append(("photo-like", rgba(photo)))
    for c in canv[:6]:  # big and oddly shaped (shrunk to 1024 first, like to_mnist)
        cases.append(("big 1500x900", rgba(np.asarray(Image.fromarray(c).resize((1500, 900), Image.BILINEAR)))))
    for c in canv[6:12]:
        cases.append(("small 37x61", rgba(np.asarray(Image.fromarray(c).resize((37, 61), Image.BILINEAR)))))
    x, _ = mnist(train=False)
    cases += [("MNIST test digit", rgba(x[i].numpy())) for i in range(0, 2000, 100)]
    cases += [("blank white", rgba(np.full((60, 60), 255))), ("blank noise", rgba(rng.integers(120, 135, (80, 80)))),
              ("speck", rgba(np.pad(np.full((1, 2), 255), 40)))]
    return cases


def run_prep_js(images, stroke=True):
    "prep.js in Node on RGBA uint8 images -> (float32 [N,28,28], {index: error message})"
    if shutil.which("node") is None: pytest.fail("Node.js is missing (apt-get install nodejs npm)")
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        t = Path(t)
        np.concatenate([np.ascontiguousarray(a, np.uint8).ravel() for a in images]).tofile(t / "img.u8")
        (t / "shapes.json").write_text(json.dumps([[a.shape[1], a.shape[0]] for a in images]))
        r = subprocess.run(["node", str(JS / "prep_run.mjs"), str(t / "img.u8"), str(t / "shapes.json"), str(t / "out.f32")] + ([] if stroke else ["--no-stroke"]),
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        return np.fromfile(t / "out.f32", "<f4").reshape(len(images), 28, 28), {int(k): v for k, v in res["errors"].items()}


def test_prep_js_matches_to_mnist():
    cases = _cases()
    js, js_err = run_prep_js([a for _, a in cases])
    diffs, n_blank = [], 0
    for i, (what, a) in enumerate(cases):
        try: py = to_mnist(a)
        except ValueError as e:
            assert i in js_err, f"case {i} ({what}): Python refused ({e}) but prep.js did not"
            assert "blank" in str(e) and "blank" in js_err[i]
            n_blank += 1
            continue
        assert i not in js_err, f"case {i} ({what}): prep.js refused ({js_err[i]}) but Python did not"
        diffs.append((float(np.abs(py - js[i]).max()), what))
    worst = max(diffs)
    print(f"\nprep.js vs to_mnist on {len(diffs)} images (+{n_blank} blank refused by both): "
          f"max |diff| {worst[0]:.2e} ({worst[1]}), median {np.median([d for d, _ in diffs]):.1e}")
    assert n_blank == 3
    assert worst[0] <= 0.02, worst


def test_prep_js_without_stroke_normalisation():
    "to_mnist(img, stroke=None) keeps the pen width as drawn; prep.js does too."
    cases = [(w, a) for w, a in _cases() if w.startswith("canvas")][::4]
    js, err = run_prep_js([a for _, a in cases], stroke=False)
    assert not err
    worst = max(float(np.abs(to_mnist(a, stroke=None) - js[i]).max()) for i, (_, a) in enumerate(cases))
    assert worst <= 0.02, worst


def test_python_round_in_js():
    "Python's round() sends halves to the even neighbour; Math.round does not. prep.js has pyRound."
    js = (f"const p = require({str(Path(__file__).parents[1] / 'digit_lab' / 'web' / 'prep.js')!r});"
          "console.log(JSON.stringify([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 7].map(p.pyRound)));")
    r = subprocess.run(["node", "-e", js], capture_output=True, text=True)
    assert json.loads(r.stdout) == [round(v) for v in [0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 7]]
