"""DrawPad without a browser: synthetic mouse and touch events through the ipycanvas event path, on the best shipped
model. Live (debounced) prediction runs on a real asyncio loop, as in a kernel."""
import asyncio, os, time
from pathlib import Path
import numpy as np
import pytest
from digit_lab.draw import DrawPad, Drawing, save_drawing, send_events, stroke_events
from digit_lab.inference import DigitPredictor, to_mnist
from digit_lab.hub import model_card, shipped_models
from digit_lab.styles import STYLES, synth_strokes
from PIL import Image


def on_canvas(digit, style, seed, height, x, y):
    return [s * height + (x, y) for s in synth_strokes(digit, style, rng=seed)]


@pytest.fixture(scope="module")
def pad(tmp_path_factory):
    return DrawPad(save_dir=tmp_path_factory.mktemp("drawn"))


PLACES = {"large, centred": (220, 30, 30), "small, top left": (70, 15, 15), "small, bottom right": (60, 200, 205),
          "medium, right": (130, 140, 70)}


@pytest.mark.parametrize("place", PLACES)
def test_every_digit_everywhere(pad, place):
    "The plainest style of each digit, drawn at four sizes and places, half with the mouse, half with a finger"
    height, x, y = PLACES[place]
    read = []
    for digit in range(10):
        style = next(s for s, (d, _) in STYLES.items() if d == digit)
        strokes = on_canvas(digit, style, digit, height, x, y)
        w = max(float(s[:, 0].max()) for s in strokes)
        if w > 270: strokes = [s - (w - 270, 0) for s in strokes]  # keep wide digits on the canvas
        pad.clear()
        send_events(pad, stroke_events(strokes, touch=digit % 2 == 1))
        assert pad.prediction is not None, f"{style} {place}: no prediction"
        read.append(pad.prediction["digit"])
        # the preview is what the predictor's preparation makes of the recorded strokes
        np.testing.assert_array_equal(pad.preview, pad.predictor.prepare(pad.drawing.raster())[0].numpy())
        assert pad.preview.shape == (28, 28) and pad.preview.dtype == np.float32
        assert f'data-digit="{read[-1]}"' in pad.result.value
    wrong = {d: r for d, r in enumerate(read) if r != d}
    assert len(wrong) <= 1, f"{place}: misread {wrong}"


def test_all_styles_accuracy(pad):
    "Every style in digit_lab.styles, three random draws each, pens 10-26 px: at least 90% read right"
    rng, ok, n = np.random.default_rng(7), 0, 0
    for i in range(3):
        for style, (digit, _) in STYLES.items():
            unit = synth_strokes(digit, style, rng)
            h = rng.uniform(90, 240)
            w = max(float(s[:, 0].max()) for s in unit) * h
            if w > 250: h, w = h * 250 / w, 250
            x, y = rng.uniform(15, 265 - w), rng.uniform(15, 265 - h)
            pad.clear(); pad.brush.value = int(rng.integers(10, 27))
            send_events(pad, stroke_events([s * h + (x, y) for s in unit], touch=bool(i % 2)))
            ok += pad.prediction is not None and pad.prediction["digit"] == digit; n += 1
    pad.brush.value = 18
    print(f"{ok}/{n} = {ok / n:.1%} of drawings read right by {pad.predictor.name}")
    assert ok / n >= 0.95


def test_prediction_format_matches_predictor(pad):
    pad.clear()
    send_events(pad, stroke_events(on_canvas(4, "4_closed", 0, 200, 60, 40)))
    p, ref = pad.prediction, pad.predictor.predict(pad.drawing.raster())
    assert set(p) == {"digit", "confidence", "probabilities", "top3"} and p["digit"] == ref["digit"] == 4
    np.testing.assert_allclose(p["probabilities"], ref["probabilities"], atol=1e-6)
    assert [d for d, _ in p["top3"]] == [d for d, _ in ref["top3"]] and p["confidence"] == p["top3"][0][1]


def test_undo_clear_and_specks(pad):
    pad.clear()
    assert pad.prediction is None and pad.preview is None and "draw a digit" in pad.result.value
    send_events(pad, stroke_events([[(140, 140)]]))  # a click
    assert len(pad.drawing) == 1 and pad.prediction is None
    send_events(pad, stroke_events([[(30, 30), (36, 33)]]))  # a tiny dash
    assert len(pad.drawing) == 2 and pad.prediction is None
    pad.clear()
    four = on_canvas(4, "4_closed", 0, 200, 60, 40)  # two strokes: the L-shape, then the stem
    send_events(pad, stroke_events(four[:1]))
    first = pad.preview.copy()
    send_events(pad, stroke_events(four[1:]))
    assert pad.prediction["digit"] == 4
    pad.undo()
    assert len(pad.drawing) == 1
    np.testing.assert_array_equal(pad.preview, first)  # back to exactly what the first stroke gave
    pad.undo(); pad.undo()
    assert len(pad.drawing) == 0 and pad.prediction is None and pad.preview is None
    send_events(pad, stroke_events(four))
    pad.clear_button.click()
    assert len(pad.drawing) == 0 and pad.prediction is None and "draw a digit" in pad.result.value


def test_burst_of_events_loses_nothing(pad):
    "A busy kernel delivers the queued events in one burst: every point is recorded, in order"
    pad.clear()
    stroke = [(20 + i * 0.5, 140 + 60 * np.sin(i / 40)) for i in range(480)]
    events = stroke_events([stroke], step=1000)  # one move event per point
    t = time.perf_counter()
    send_events(pad, events)
    dt = time.perf_counter() - t
    assert pad.drawing.strokes == [[(float(x), float(y)) for x, y in stroke]]
    print(f"{len(events)} events in {dt * 1000:.0f} ms ({dt / len(events) * 1e6:.0f} us/event, one prediction at the end)")
    assert dt / len(events) < 0.01


def test_live_prediction_while_drawing(tmp_path):
    "With an event loop running (as in a kernel) the pad predicts before the stroke ends, at most every live_every s"
    async def draw():
        p = DrawPad(save_dir=tmp_path, live_every=0.1)
        calls = []
        orig = p.update
        p.update = lambda: (calls.append(time.perf_counter()), orig())[1]
        events = stroke_events(on_canvas(7, "7_plain", 0, 200, 40, 40))
        for e in events[:-1]:  # the pen stays down
            send_events(p, [e]); await asyncio.sleep(0.005)
        await asyncio.sleep(0.3)
        live, n_live = p.prediction, len(calls)
        send_events(p, events[-1:])
        return live, n_live, len(events), calls, p.prediction
    live, n_live, n_events, calls, final = asyncio.run(draw())
    assert live is not None and live["digit"] == 7, live
    assert 1 <= n_live < n_events / 5, (n_live, n_events)  # debounced: far fewer predictions than events
    gaps = np.diff(calls[:n_live])
    assert (gaps >= 0.09).all(), gaps
    assert final["digit"] == 7 and len(calls) == n_live + 1  # and once more when the stroke ends


def test_save_never_overwrites(tmp_path, monkeypatch):
    p = DrawPad(save_dir=tmp_path / "drawn")
    send_events(p, stroke_events(on_canvas(3, "3_round", 0, 200, 60, 40)))
    monkeypatch.setattr(time, "strftime", lambda fmt: "20260101-000000")
    first = tmp_path / "drawn" / "3" / "drawn_20260101-000000_000.png"
    first.parent.mkdir(parents=True); first.write_bytes(b"someone else's file")
    p.label_picker.value = "3"
    assert not p.save_button.disabled
    p.save_button.click()
    assert first.read_bytes() == b"someone else's file"
    new = first.with_name("drawn_20260101-000000_001.png")
    assert new.exists() and len(p.drawing) == 0 and "saved" in p.status.value
    assert DigitPredictor.from_pretrained().predict(new)["digit"] == 3
    with pytest.raises(ValueError, match="nothing to save"): p.save()
    p.save_button.click()  # disabled in the browser; a click from code only reports
    assert "nothing to save" in p.status.value or p.save_button.disabled
    with pytest.raises(ValueError, match="digit 0-9"): save_drawing(np.zeros((8, 8), np.uint8), 12, tmp_path)


def test_default_save_folder_is_the_course_data_folder(tmp_path, monkeypatch):
    "Without save_dir, drawings go to digit_lab.core.data_dir('drawn') ($DIGIT_LAB_DATA here)"
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    p = DrawPad()
    assert p.save_dir == tmp_path / "data" / "drawn"
    send_events(p, stroke_events(on_canvas(7, "7_plain", 0, 200, 40, 40)))
    path = p.save(7)
    assert path.parent == tmp_path / "data" / "drawn" / "7" and path.exists()
    assert save_drawing(np.full((8, 8), 255, np.uint8), 1).parent == tmp_path / "data" / "drawn" / "1"


def test_failed_save_loses_nothing(tmp_path, monkeypatch):
    "A save that fails (a full disk) says so, keeps the drawing on the pad and leaves no file, whole or partial"
    import digit_lab.draw as draw
    p = DrawPad(save_dir=tmp_path)
    send_events(p, stroke_events(on_canvas(5, "5_two_strokes", 0, 200, 60, 40)))
    strokes = [list(s) for s in p.drawing.strokes]
    def full_disk(path, data): raise OSError(28, "No space left on device")
    monkeypatch.setattr(draw, "atomic_write", full_disk)
    p.label_picker.value = "5"
    p.save_button.click()
    assert "No space left" in p.status.value and p.drawing.strokes == strokes and p.prediction is not None
    assert [f for f in tmp_path.rglob("*") if f.is_file()] == []
    monkeypatch.undo()
    p.save_button.click()  # the disk has room again: the same drawing is saved
    assert len(list((tmp_path / "5").glob("*.png"))) == 1 and len(p.drawing) == 0


def test_save_without_hard_links_never_overwrites(tmp_path, monkeypatch):
    "On a drive without hard links (FAT, some network drives) the name is claimed first: still no overwriting"
    def no_links(src, dst): raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(time, "strftime", lambda fmt: "20260101-000000")
    (tmp_path / "2").mkdir()
    (tmp_path / "2" / "drawn_20260101-000000_000.png").write_bytes(b"someone else's file")
    img = np.zeros((40, 40), np.uint8); img[10:30, 18:22] = 255
    path = save_drawing(img, 2, tmp_path)
    assert path.name == "drawn_20260101-000000_001.png" and (np.asarray(Image.open(path)) == img).all()
    assert (tmp_path / "2" / "drawn_20260101-000000_000.png").read_bytes() == b"someone else's file"
    assert sorted(f.name for f in (tmp_path / "2").iterdir()) == ["drawn_20260101-000000_000.png", path.name]


def test_model_picker_and_model_argument(pad):
    names = shipped_models()
    assert list(pad.model_picker.options) == names and pad.model_picker.value == model_card()["default"]
    pad.clear()
    send_events(pad, stroke_events(on_canvas(2, "2_curvy", 0, 200, 60, 40)))
    for name in names:
        pad.model_picker.value = name
        assert pad.predictor.name == name and pad.prediction is not None
    pad.model_picker.value = model_card()["default"]
    other = [n for n in names if n != model_card()["default"]]
    if other:
        p = DrawPad(other[0])
        assert p.model_picker.value == other[0] and p.predictor.name == other[0]
    predictor = DigitPredictor.from_pretrained()
    assert DrawPad(predictor).predictor is predictor
    with pytest.raises(ValueError, match="must be None"): DrawPad(model=3.5)
    with pytest.raises(FileNotFoundError): DrawPad("no-such-model")


def test_drawing_records_points():
    d = Drawing(size=100)
    assert d.extend(1, 1) is None
    d.begin(-5, 50, width=10)  # clamped onto the canvas
    assert d.extend(50, 50) == (0.0, 50.0) and d.extend(50, 50) is None
    d.end()
    assert d.strokes == [[(0.0, 50.0), (50.0, 50.0)]] and not d.active
    assert d.raster().shape == (100, 100)


def test_without_the_notebook_extra_says_what_to_install():
    "Importing digit_lab.draw without ipycanvas: one line naming the extra, no traceback from deep inside"
    import subprocess, sys
    code = "import sys; sys.modules['ipycanvas'] = None\nimport digit_lab.draw"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and 'pip install "digit-lab[lab]"' in r.stderr and "ipycanvas is missing" in r.stderr
