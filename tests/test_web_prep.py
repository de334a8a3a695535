"""The web page's preparation (digit_lab/web/prep.js) equals digit_lab.inference.to_mnist.

The same RGBA images go through Python's to_mnist and through prep.js in Node (tests/js/prep_run.mjs); the 28x28
inputs must agree to TOL = 1e-4 per pixel, and both must refuse the same images. In practice they agree exactly or
by one float32 step (6e-8): prep.js mirrors numpy's float32 arithmetic and Pillow's resampling, pass order included.
Exact equality is not asserted because it rests on arithmetic neither side promises: Pillow's C loops accumulate in
doubles that a compiler may fuse into multiply-adds on some platforms (JavaScript never does), and numpy sums the
centre of mass pairwise where prep.js sums in order; either can move a result by a float32 step, and TOL leaves
room for that while catching any real divergence (a wrong branch or a one-pixel shift changes pixels by > 0.01).

The images are chosen to take every branch of to_mnist: drawn canvases of every handwriting style in both
polarities, ink only in the alpha channel, coloured ink, photo-like paper, MNIST digits; thick strokes eroded
(first try, after a retry, and given up), thin ones dilated, tiny digits (upscaled crops), huge canvases (shrunk to
1024 first), extreme aspect ratios, digits cut off at the edge, placements clipped at the 28x28 frame, and the size,
contrast and ink limits on both sides. prep.js reports the branches it took (its `trace`), and
test_every_branch_is_taken checks that each is exercised. The same check in Chromium, on digits drawn with the
mouse, is in test_web.py.
"""
import json, shutil, subprocess, tempfile
from collections import Counter
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

from digit_lab import inference, styles
from digit_lab.inference import to_mnist
from digit_lab.styles import synth_canvases, synth_strokes, render_strokes, STROKE_RANGE, STYLES
from digit_lab.data import mnist

JS = Path(__file__).parent / "js"
PREP_JS = Path(__file__).parents[1] / "digit_lab" / "web" / "prep.js"
TOL = 1e-4
THICK = (2.0, 4.4)  # a stroke range with a maximum (MNIST's own range is about 2-4.4 px), so that erosion happens


def rgba(gray, alpha=None):
    "uint8 [H,W] grey (and alpha) -> [H,W,4]"
    g = np.asarray(gray, np.uint8)
    return np.dstack([g, g, g, np.full_like(g, 255) if alpha is None else np.asarray(alpha, np.uint8)])


def digit_on(size, digit, style=None, seed=0, height=None, at=None, pen=18, invert=False):
    "A synthetic handwritten digit drawn on a (width, height) canvas; `at` is its top-left corner (default: centred)"
    w, h = size
    strokes = synth_strokes(digit, style, rng=seed)
    height = height or 0.7 * h
    dw = max(float(s[:, 0].max()) for s in strokes) * height
    x0, y0 = at if at is not None else ((w - dw) / 2, (h - height) / 2)
    return render_strokes([s * height + (x0, y0) for s in strokes], size=(w, h), width=pen, invert=invert,
                          antialias=max(size) <= 1500)  # 4x supersampling of a huge canvas is slow and adds nothing


def _drawn_cases():
    "Canvases and pictures as people make them: (description, RGBA uint8 [H,W,4], stroke)"
    rng = np.random.default_rng(0)
    cases = []
    canv, labels, info = synth_canvases(162, seed=123, invert=None)  # 27 styles x 3 placements x 2, both polarities
    cases += [(f"canvas {i['style']} {i['placement']} pen {i['pen']} inv={i['inverted']}", rgba(c), STROKE_RANGE)
              for c, i in zip(canv, info)]
    light, _, _ = synth_canvases(20, seed=7)  # white ink on black -> ink only in alpha, transparent background
    cases += [("alpha-only ink", np.dstack([np.zeros_like(c)] * 3 + [c]), STROKE_RANGE) for c in light[:10]]
    for c in light[10:15]:  # coloured ink on a coloured, partly transparent background
        a = c.astype(np.float32) / 255
        rgb = np.stack([40 + 150 * (1 - a), 90 + 100 * (1 - a), 200 - 120 * a], -1).astype(np.uint8)
        cases.append(("coloured ink, alpha", np.dstack([rgb, (255 * np.clip(a + 0.3, 0, 1)).astype(np.uint8)]), STROKE_RANGE))
    for c in light[15:20]:  # a "photo": dark ink on paper with a light gradient and noise, non-square
        yy, xx = np.mgrid[:280, :280]
        paper = 170 + 60 * xx / 280 + rng.normal(0, 6, (280, 280))
        cases.append(("photo-like", rgba(np.clip(paper - 0.75 * c, 0, 255).astype(np.uint8)[:, 20:250]), STROKE_RANGE))
    for c in canv[:6]:
        cases.append(("big 1500x900", rgba(np.asarray(Image.fromarray(c).resize((1500, 900), Image.BILINEAR))), STROKE_RANGE))
    for c in canv[6:12]:
        cases.append(("small 37x61", rgba(np.asarray(Image.fromarray(c).resize((37, 61), Image.BILINEAR))), STROKE_RANGE))
    x, _ = mnist(train=False)
    cases += [("MNIST test digit", rgba(x[i].numpy()), STROKE_RANGE) for i in range(0, 2000, 100)]
    for c, i in zip(canv[::9], info[::9]): cases.append((f"no stroke change {i['style']}", rgba(c), None))
    return cases


def _edge_cases():
    "Images at the edges of to_mnist's branches and limits: (description, RGBA uint8 [H,W,4], stroke)"
    rng, cases = np.random.default_rng(1), []
    for i, style in enumerate(STYLES):  # fat pens: eroded into the range, or as far as the digit allows
        pen = int(rng.integers(40, 75))
        cases.append((f"thick {style} pen {pen}", rgba(digit_on((280, 280), STYLES[style][0], style, i, pen=pen, invert=i % 2 == 1)), THICK))
    for i, style in enumerate(["8_two_loops", "9_small_loop", "6_small_loop", "0_narrow", "4_closed", "2_loop"]):
        for pen in (80, 100):  # so fat that the loops fill in: erosion is retried with less, or given up
            cases.append((f"blobby {style} pen {pen}", rgba(digit_on((280, 280), STYLES[style][0], style, i, pen=pen, invert=i % 2 == 0)), (None, 2.2)))
    for i, style in enumerate(list(STYLES)[::3]):  # hairlines: dilated; tiny digits: the crop is enlarged
        d = STYLES[style][0]
        cases.append((f"thin {style}", rgba(digit_on((280, 280), d, style, i, pen=1 + i % 3, invert=i % 2 == 0)), STROKE_RANGE))
        cases.append((f"tiny {style}", rgba(digit_on((280, 280), d, style, i, height=12 + i, pen=2, at=(30 + 20 * i, 200), invert=i % 2 == 1)), STROKE_RANGE))
    for size in [(1025, 1025), (1024, 1024), (3000, 2000), (5000, 400), (400, 5000)]:  # shrunk to 1024 first, or just not
        cases.append((f"huge {size}", rgba(digit_on(size, 3, seed=2, pen=max(size) // 30)), STROKE_RANGE))
        cases.append((f"huge inverted {size}", rgba(digit_on(size, 8, seed=3, height=min(size) * 0.5, pen=max(6, min(size) // 20), invert=True)), THICK))
    for w, h in [(600, 8), (8, 600), (2000, 12), (12, 2000), (900, 40)]:  # a bar as wide (or tall) as the image
        a = np.zeros((h, w), np.uint8)
        if w > h: a[h // 2 - 1:h // 2 + 2, w // 5:4 * w // 5] = 255
        else: a[h // 5:4 * h // 5, w // 2 - 1:w // 2 + 2] = 255
        cases += [(f"strip {w}x{h}", rgba(a), STROKE_RANGE), (f"strip inverted {w}x{h}", rgba(255 - a), THICK)]
    for i, (x, y) in enumerate([(-40, -30), (230, 200), (-20, 150), (200, -60)]):  # cut off at the canvas edge
        cases.append((f"off-centre {x},{y}", rgba(digit_on((280, 280), i + 2, seed=i, height=150, at=(x, y), invert=i % 2 == 1)), STROKE_RANGE))
    a = np.zeros((280, 280), np.uint8); a[20:240, 138:142] = 255; a[200:260, 110:170] = 255  # mass far from the box centre:
    b = np.zeros((280, 280), np.uint8); b[138:142, 20:240] = 255; b[110:170, 10:70] = 255    # centring it would push ink out
    cases += [("heavy foot", rgba(a), STROKE_RANGE), ("heavy foot inverted", rgba(255 - a), STROKE_RANGE),
              ("heavy left end", rgba(b), STROKE_RANGE), ("heavy left end inverted", rgba(255 - b), THICK)]
    yy, xx = np.mgrid[:280, :280]  # a fat disc with a thin tail: any erosion would remove the tail, so none is done
    c = (((yy - 150) ** 2 + (xx - 120) ** 2 < 70 ** 2) * 255).astype(np.uint8); c[146:154, 190:260] = 255
    cases += [("disc with a thin tail", rgba(c), (None, 2.2)), ("disc with a thin tail inverted", rgba(255 - c), THICK)]
    return cases


def _limit_cases():
    "Just inside and just outside each limit: (description, RGBA, stroke, what to_mnist says or None)"
    def block(shape, value, n_rows, n_cols):
        a = np.zeros(shape, np.uint8); a[20:20 + n_rows, 30:30 + n_cols] = value; return a
    return [("7 px tall", rgba(np.pad(np.full((3, 40), 255, np.uint8), ((2, 2), (10, 10)))), STROKE_RANGE, "at least"),
            ("8 px tall", rgba(np.pad(np.full((4, 40), 255, np.uint8), ((2, 2), (10, 10)))), STROKE_RANGE, None),
            ("contrast 38/255", rgba(block((280, 280), 38, 40, 40)), STROKE_RANGE, "blank"),
            ("contrast 39/255", rgba(block((280, 280), 39, 40, 40)), STROKE_RANGE, None),
            ("blank white", rgba(np.full((60, 60), 255)), STROKE_RANGE, "blank"),
            ("blank noise", rgba(np.random.default_rng(2).integers(120, 135, (80, 80))), STROKE_RANGE, "blank"),
            ("speck", rgba(np.pad(np.full((1, 2), 255), 40)), STROKE_RANGE, "blank"),
            # 200x165 pixels: need round(0.0005 * 33000) = round(16.5) = 16 pixels of ink (Python rounds halves to even)
            ("15 ink pixels of 16", rgba(block((165, 200), 255, 3, 5)), STROKE_RANGE, "blank"),
            ("16 ink pixels of 16", rgba(block((165, 200), 255, 4, 4)), STROKE_RANGE, None)]


def run_prep_js(images, stroke=STROKE_RANGE):
    "prep.js in Node on RGBA uint8 images, with to_mnist's `stroke` -> (float32 [N,28,28], {index: error}, [trace])"
    if shutil.which("node") is None: pytest.fail("Node.js is missing (apt-get install nodejs npm)")
    opt = ["--no-stroke"] if stroke is None else ["--stroke", ",".join("none" if v is None else repr(float(v)) for v in stroke)]
    with tempfile.TemporaryDirectory() as t:
        t = Path(t)
        with open(t / "img.u8", "wb") as f:
            for a in images: f.write(np.ascontiguousarray(a, np.uint8).tobytes())
        (t / "shapes.json").write_text(json.dumps([[a.shape[1], a.shape[0]] for a in images]))
        r = subprocess.run(["node", str(JS / "prep_run.mjs"), str(t / "img.u8"), str(t / "shapes.json"), str(t / "out.f32"), *opt],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        out = np.fromfile(t / "out.f32", "<f4").reshape(len(images), 28, 28)
        return out, {int(k): v for k, v in res["errors"].items()}, res["traces"]


def _node(expr):
    "Evaluate a JavaScript expression with prep.js loaded as `p`; returns its JSON value"
    r = subprocess.run(["node", "-e", f"const p = require({str(PREP_JS)!r}); console.log(JSON.stringify({expr}));"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def compared():
    "Every case through both: [(description, stroke, python output or error, js output or error, js trace)]"
    cases = [c + (None,) for c in _drawn_cases() + _edge_cases()] + _limit_cases()
    rows = [None] * len(cases)
    for stroke in {c[2] for c in cases}:
        idx = [i for i, c in enumerate(cases) if c[2] == stroke]
        js, err, traces = run_prep_js([cases[i][1] for i in idx], stroke)
        for j, i in enumerate(idx):
            what, a, _, expect = cases[i]
            try: py = to_mnist(a, stroke=stroke)
            except ValueError as e: py = e
            rows[i] = (what, stroke, expect, py, err.get(j, js[j]), traces[j])
    return rows


def test_prep_js_matches_to_mnist(compared):
    diffs, refused = [], 0
    for what, stroke, expect, py, js, _ in compared:
        if isinstance(py, ValueError):
            assert isinstance(js, str), f"{what}: Python refused ({py}) but prep.js did not"
            key = "blank" if "blank" in str(py) else "at least"
            assert key in js, f"{what}: Python says {py!r}, prep.js {js!r}"
            refused += 1
            continue
        assert not isinstance(js, str), f"{what}: prep.js refused ({js}) but Python did not"
        diffs.append((float(np.abs(py - js).max()), what, stroke))
    worst = max(diffs)
    exact = sum(d == 0 for d, _, _ in diffs)
    print(f"\nprep.js vs to_mnist on {len(diffs)} images (+{refused} refused by both): max |diff| {worst[0]:.1e} "
          f"({worst[1]}), {exact} identical")
    assert worst[0] <= TOL, worst


def test_limits(compared):
    "The cases just inside and just outside each limit end the way they should, in Python (so, above, in prep.js)"
    for what, _, expect, py, js, _ in compared:
        if expect is not None: assert isinstance(py, ValueError) and expect in str(py), (what, py)
    limits = [c for c in compared if c[0] in {w for w, *_ in _limit_cases()}]
    assert sum(c[2] is None for c in limits) == 3 and all(not isinstance(c[3], ValueError) for c in limits if c[2] is None)


def test_too_many_pixels_refused_by_both():
    "Over 50 megapixels: both refuse before looking at a pixel (prep.js is given no pixels at all)"
    with pytest.raises(ValueError, match="limit"): to_mnist(np.zeros((7072, 7072), np.uint8))
    msg = _node("(() => { try { p.fromRGBA(new Uint8Array(0), 7072, 7072); return null; } catch (e) { return e.message; } })()")
    assert msg and "limit" in msg
    assert _node("(() => { try { p.fromRGBA(new Uint8Array(4 * 7071 * 7071), 7071, 7071); } catch (e) { return e.message; } })()") \
        .startswith("the image looks blank")  # 49.99 MP: allowed (and blank)


def test_every_branch_is_taken(compared):
    "prep.js's trace: each branch of to_mnist is taken by some image that both sides then agree on"
    ok = [(what, t) for what, _, _, py, js, t in compared if not isinstance(py, ValueError) and not isinstance(js, str)]
    seen = Counter()
    for what, t in ok:
        seen.update({"shrunk to 1024 first": t["shrunk"], "kept its size": not t["shrunk"],
                     "dark on light (inverted)": t["inverted"], "light on dark": not t["inverted"],
                     f"alpha: {t['alpha']}": True, "crop enlarged (bilinear)": t["upscaled"],
                     "crop reduced (box)": not t["upscaled"], "dilated": t["applied"] > 0,
                     "stroke kept": t["k"] == 0, "eroded at the first try": t["applied"] < 0 and t["erosions"] == 1,
                     "eroded after a retry": t["applied"] < 0 and t["erosions"] >= 2,
                     "erosion given up": t["k"] < 0 and t["applied"] == 0,
                     "clipped left/right": t["clipped"][0], "clipped top/bottom": t["clipped"][1],
                     "crop 20:1 or more": max(t["crop"]) >= 20 * min(t["crop"]), "output 1 pixel thin": min(t["small"]) == 1})
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(seen.items())))
    missing = [k for k in ("shrunk to 1024 first", "kept its size", "dark on light (inverted)", "light on dark",
                           "alpha: opaque", "alpha: ink in alpha", "alpha: composited", "crop enlarged (bilinear)",
                           "crop reduced (box)", "dilated", "stroke kept", "eroded at the first try",
                           "eroded after a retry", "erosion given up", "clipped left/right", "clipped top/bottom",
                           "crop 20:1 or more", "output 1 pixel thin") if not seen[k]]
    assert not missing, missing


def test_resize_is_pillows():
    "prep.js's resize equals Pillow's on random sizes, both filters, shrinking and enlarging (the pass order matters)"
    rng = np.random.default_rng(0)
    sizes = [(*rng.integers(1, 250, 2), *rng.integers(1, 90, 2)) for _ in range(150)]
    sizes += [(*rng.integers(1, 40, 2), *rng.integers(1, 120, 2)) for _ in range(50)] + [(60, 200, 20, 100), (200, 60, 10, 5)]
    sizes = [tuple(int(v) for v in s) for s in sizes]
    worst, exact = 0.0, 0
    with tempfile.TemporaryDirectory() as t:
        imgs = [rng.random((h, w)).astype(np.float32) for w, h, _, _ in sizes]
        for i, a in enumerate(imgs): (Path(t) / f"{i}.f32").write_bytes(a.tobytes())
        assert _node(f"""{json.dumps(sizes)}.map(([w, h, ow, oh], i) => {{
            const fs = require('fs'), f = {json.dumps(t)} + '/' + i;
            const data = new Float32Array(new Uint8Array(fs.readFileSync(f + '.f32')).buffer);
            fs.writeFileSync(f + '.out', p.resize({{data, width: w, height: h}}, ow, oh, i % 2 ? 'bilinear' : 'box').data);
            return i; }}).length""") == len(sizes)
        for i, ((w, h, ow, oh), a) in enumerate(zip(sizes, imgs)):
            py = np.asarray(Image.fromarray(a, mode="F").resize((ow, oh), (Image.BOX, Image.BILINEAR)[i % 2]))
            js = np.fromfile(Path(t) / f"{i}.out", "<f4").reshape(oh, ow)
            d = float(np.abs(py - js).max())
            worst, exact = max(worst, d), exact + (d == 0)
    print(f"\nresize: {exact}/{len(sizes)} identical to Pillow's, max |diff| {worst:.1e}")
    assert worst <= 1e-6  # a float32 step or two at most (see the module docstring); in practice identical


def test_constants_are_pythons():
    "The limits and sizes in prep.js are digit_lab's"
    js = _node("[p.MNIST_SIZE, p.MNIST_BOX, p.WORK_SIZE, p.STROKE_RANGE, p.MIN_SIDE, p.MAX_PIXELS, p.WORK_MAX, "
               "p.MIN_CONTRAST, p.MIN_INK, p.NOISE_FLOOR, p.CROP_THRESH]")
    import inspect
    thresh = inspect.signature(styles.frame_like_mnist).parameters["thresh"].default
    assert js == [styles.MNIST_SIZE, styles.MNIST_BOX, styles.WORK_SIZE, list(styles.STROKE_RANGE), inference.MIN_SIDE,
                  inference.MAX_PIXELS, inference.WORK_MAX, inference.MIN_CONTRAST, inference.MIN_INK,
                  inference.NOISE_FLOOR, thresh]


def test_python_round_in_js():
    "Python's round() sends halves to the even neighbour; Math.round does not. prep.js has pyRound."
    vals = [0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 7, 16.5]
    assert _node(f"{vals}.map(p.pyRound)") == [round(v) for v in vals]
