"""End to end: JupyterLab in headless Chromium, a notebook that shows `DrawPad()`, digits drawn with the mouse and a
finger, the pad's guess read from the page. Skips when Chromium or Playwright is missing, unless
DIGIT_LAB_REQUIRE_BROWSER=1 (CI), where that fails. Screenshots go to artifacts/ (git-ignored)."""
import json, os, signal, subprocess, sys, time, urllib.request
from pathlib import Path
import numpy as np
import pytest
from _browser import CHROMIUM, CHROMIUM_ARGS, playwright_session, free_port as _free_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
SIZE = 280  # DrawPad's default canvas side


@pytest.fixture(scope="module")
def playwright():
    with playwright_session() as p: yield p


def _kill_kernels(runtime_dir: Path):
    "Kernels run in their own sessions: end those whose connection file is in our runtime dir (only ours)"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit(): continue
        try: cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError: continue
        if str(runtime_dir) in cmd and "ipykernel" in cmd:
            try: os.kill(int(proc.name), signal.SIGKILL)
            except ProcessLookupError: pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "A JupyterLab server on a free port, serving a temp folder with a notebook that shows a DrawPad"
    tmp = tmp_path_factory.mktemp("lab")
    root, runtime = tmp / "root", tmp / "runtime"
    root.mkdir(); runtime.mkdir()
    saved = tmp / "drawn"
    sources = [f"from digit_lab.draw import DrawPad\npad = DrawPad(save_dir={str(saved)!r})\npad",
               "import time\ntime.sleep(120)  # the kernel is busy (the test interrupts it)",
               "import json\nprint('STROKES' + json.dumps(pad.drawing.strokes))"]
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "id": f"c{i}", "source": src}
                    for i, src in enumerate(sources)],
          "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / "draw_e2e.ipynb").write_text(json.dumps(nb))
    labconfig = tmp / "config" / "labconfig"  # no "get notified about Jupyter news?" pop-up over the page
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(runtime),
           "IPYTHONDIR": str(tmp / "ipython"), "OMP_NUM_THREADS": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
           "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", f"--LabApp.user_settings_dir={tmp / 'settings'}"]
    log = open(tmp / "jupyterlab.log", "wb")
    server = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({server.returncode}): {(tmp / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=5) as r:
                    if r.status == 200: break
            except OSError: pass
            if time.time() > deadline:
                raise RuntimeError(f"JupyterLab did not start in 180 s: {(tmp / 'jupyterlab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": url, "saved": saved, "log": tmp / "jupyterlab.log"}
    finally:
        try:  # shut kernels down politely, then stop the server, then make sure
            with urllib.request.urlopen(f"{url}/api/kernels", timeout=5) as r:
                for k in json.load(r):
                    urllib.request.urlopen(urllib.request.Request(f"{url}/api/kernels/{k['id']}", method="DELETE"), timeout=10)
        except OSError: pass
        try: os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL); server.wait(timeout=10)
        _kill_kernels(runtime)
        log.close()


def _strokes(digit, style, seed, height, x, y):
    from digit_lab.styles import synth_strokes
    return [s * height + (x, y) for s in synth_strokes(digit, style, rng=seed)]


def _densify(stroke, step=6.0):
    "A point every `step` pixels along the stroke, like a mouse reports them"
    out = [np.asarray(stroke[0], float)]
    for a, b in zip(stroke[:-1], stroke[1:]):
        a, b = np.asarray(a, float), np.asarray(b, float)
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out += [a + (b - a) * t for t in np.arange(1, n + 1) / n]
    return out


def _mouse_draw(page, box, strokes, hold_last=False, pause_ms=0):
    "Draw strokes with the mouse; with `hold_last` the button stays down at the end"
    k = box["width"] / SIZE
    for i, s in enumerate(strokes):
        pts = [(box["x"] + px * k, box["y"] + py * k) for px, py in _densify(s)]
        page.mouse.move(*pts[0]); page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*p)
            if pause_ms: page.wait_for_timeout(pause_ms)  # Chrome merges moves within an animation frame
        if not (hold_last and i == len(strokes) - 1): page.mouse.up()


def _touch_draw(cdp, box, strokes):
    "Draw strokes with a finger (Chrome DevTools touch events)"
    k = box["width"] / SIZE
    for s in strokes:
        pts = [(box["x"] + px * k, box["y"] + py * k) for px, py in s]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": pts[0][0], "y": pts[0][1]}]})
        for a, b in zip(pts[:-1], pts[1:]):
            for t in (0.5, 1.0):
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
                    {"x": a[0] + (b[0] - a[0]) * t, "y": a[1] + (b[1] - a[1]) * t}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


KERNEL = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"

def _run_cell(page, i):
    page.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.content.activeCellIndex = {i};"
                  " window.jupyterapp.commands.execute('notebook:run-cell'); }")  # not awaited: returns at once


def _wait_guess(page, digit, timeout=60_000):
    page.wait_for_function(f"() => document.querySelector('.dl-pad .dl-guess').dataset.digit === '{digit}'", timeout=timeout)


RECORD_JS = """() => { const c = document.querySelector('.dl-pad canvas.dl-canvas'); window.__strokes = [];
    const xy = e => { const r = c.getBoundingClientRect();
                      return [c.width * (e.clientX - r.left) / r.width, c.height * (e.clientY - r.top) / r.height]; };
    c.addEventListener('mousedown', e => window.__strokes.push([xy(e)]));
    c.addEventListener('mousemove', e => { if (e.buttons & 1 && window.__strokes.length) window.__strokes.at(-1).push(xy(e)); }); }"""


INK_JS = """() => { const c = document.querySelector('.dl-pad canvas.dl-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n / (c.width * c.height); }"""


def _canvas_ink(page): return page.evaluate(INK_JS)


def _dedupe(stroke):
    out = [tuple(stroke[0])]
    for p in stroke[1:]:
        if tuple(p) != out[-1]: out.append(tuple(p))
    return out


def test_draw_in_jupyterlab(playwright, lab):
    ARTIFACTS.mkdir(exist_ok=True)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900}, has_touch=True)
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{lab['url']}/lab/tree/draw_e2e.ipynb", timeout=180_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                               timeout=180_000)
        _run_cell(page, 0)
        try: canvas = page.wait_for_selector(".dl-pad canvas.dl-canvas", state="visible", timeout=180_000)
        except Exception:
            shown = page.inner_text(".jp-Notebook")[:2000]
            raise AssertionError(f"the DrawPad did not render within 180 s; the notebook shows:\n{shown}") from None
        page.wait_for_selector(".dl-pad .dl-guess.dl-none", timeout=60_000)  # "draw a digit"
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert abs(box["width"] - SIZE) < 1 and abs(box["height"] - SIZE) < 1, box

        # a crossed 7 with the mouse; the guess appears while the last stroke is still being drawn (live, debounced)
        seven = _strokes(7, "7_crossed", 3, 200, 50, 40)
        _mouse_draw(page, box, seven, hold_last=True)
        page.wait_for_selector(".dl-pad .dl-guess:not(.dl-none)", timeout=30_000)
        page.mouse.up()
        _wait_guess(page, 7)
        page.wait_for_timeout(500)  # let the canvas paint the last segment
        pad = page.query_selector(".dl-pad")
        pad.screenshot(path=str(ARTIFACTS / "draw_e2e.png"))
        conf = float(page.get_attribute(".dl-pad .dl-guess", "data-confidence"))
        ink = _canvas_ink(page)
        assert 0.03 < ink < 0.5, f"the canvas shows {ink:.1%} ink"  # the strokes were drawn on the canvas too

        # Undo takes the cross bar away and leaves a 7; Clear leaves nothing
        page.click(".dl-pad button:has-text('Undo')")
        page.wait_for_function(f"() => ({INK_JS})() < {ink - 0.005}", timeout=60_000)  # the bar is gone from the canvas
        _wait_guess(page, 7)
        assert _canvas_ink(page) > 0.03
        page.click(".dl-pad button:has-text('Clear')")
        page.wait_for_selector(".dl-pad .dl-guess.dl-none", timeout=60_000)

        # a 3 with a finger
        cdp = page.context.new_cdp_session(page)
        _touch_draw(cdp, box, _strokes(3, "3_round", 1, 190, 70, 45))
        _wait_guess(page, 3)
        page.query_selector(".dl-pad").screenshot(path=str(ARTIFACTS / "draw_e2e_touch.png"))

        # label it and save it: a PNG in the folder dataset, and the pad is cleared for the next one
        page.click(".dl-pad .widget-toggle-buttons button:has-text('3')")
        page.wait_for_function("() => !document.querySelector('.dl-pad button.mod-success').disabled")
        page.click(".dl-pad button:has-text('Save')")
        page.wait_for_selector(".dl-pad .dl-guess.dl-none", timeout=60_000)
        page.wait_for_selector(".dl-pad :text('saved')", timeout=60_000)
        files = sorted((lab["saved"] / "3").glob("*.png"))
        assert len(files) == 1, files
        from digit_lab.inference import DigitPredictor
        assert DigitPredictor.from_pretrained().predict(files[0])["digit"] == 3

        # a busy kernel: a 4 drawn while a cell sleeps is drawn when the kernel is free again, every point of it
        page.evaluate(RECORD_JS)
        _run_cell(page, 1)
        page.wait_for_function(f"() => {KERNEL}.status === 'busy'", timeout=30_000)
        t_busy = time.time()
        _mouse_draw(page, box, _strokes(4, "4_closed", 0, 200, 60, 40), pause_ms=20)
        assert page.get_attribute(".dl-pad .dl-guess", "data-digit") == "", "the kernel was not busy while drawing"
        assert page.evaluate(f"() => {KERNEL}.status") == "busy"
        drawn_in = time.time() - t_busy
        page.evaluate(f"() => {KERNEL}.interrupt()")  # end the sleep; the queued events are handled next
        _wait_guess(page, 4, timeout=90_000)
        page.query_selector(".dl-pad").screenshot(path=str(ARTIFACTS / "draw_e2e_busy.png"))
        _run_cell(page, 2)
        out = page.wait_for_selector(".jp-Cell:nth-child(3) .jp-OutputArea-output:has-text('STROKES')", timeout=60_000)
        recorded = json.loads(out.inner_text().strip()[len("STROKES"):])
        sent = page.evaluate("() => window.__strokes")
        assert len(recorded) == len(sent) == 2
        for r, s in zip(recorded, sent):
            assert [tuple(p) for p in r] == pytest.approx(_dedupe(s)), "the kernel's points differ from the browser's"
        n_points = sum(map(len, recorded))
        print(f"7 read with confidence {conf:.3f}; canvas ink {ink:.1%}; saved {files[0].name}; "
              f"busy kernel: {n_points} points drawn in {drawn_in:.1f} s, all recorded")
    except Exception:
        try: page.screenshot(path=str(ARTIFACTS / "draw_e2e_failure.png"), full_page=True)
        except Exception: pass
        print(lab["log"].read_text()[-4000:])
        raise
    finally:
        browser.close()
