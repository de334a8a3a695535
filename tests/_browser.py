"""What the browser tests share: which Chromium, its flags, a free local port, and the rule for a missing browser.

Chromium: /usr/bin/chromium (env DIGIT_LAB_CHROMIUM overrides); Playwright drives it and never downloads a browser.
Without Chromium or the playwright package the browser tests skip, saying why, unless DIGIT_LAB_REQUIRE_BROWSER=1
(CI), where they fail.
"""
import contextlib, os, socket
from pathlib import Path
import pytest

CHROMIUM = os.environ.get("DIGIT_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def unavailable(why: str):
    "Skip the test saying why, or fail it when CI requires the browser (DIGIT_LAB_REQUIRE_BROWSER=1)."
    if os.environ.get("DIGIT_LAB_REQUIRE_BROWSER") == "1": pytest.fail(f"DIGIT_LAB_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


def need_browser():
    "Skip (or fail, in CI) unless Chromium and the playwright package are both here."
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get update && apt-get install -y chromium)")
    try: import playwright.sync_api  # noqa: F401
    except ImportError: unavailable("the playwright package is not installed (pip install playwright; no browser download needed)")


@contextlib.contextmanager
def playwright_session():
    "`sync_playwright()` after `need_browser()`"
    need_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p: yield p


@contextlib.contextmanager
def chromium():
    "A headless Chromium browser, closed afterwards."
    with playwright_session() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try: yield b
        finally: b.close()


def free_port() -> int:
    "A TCP port on 127.0.0.1 that nothing listens on now."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


@contextlib.contextmanager
def serve(root):
    "`python -m http.server` serving `root` on a free port of 127.0.0.1, for as long as the block runs; yields its URL."
    import subprocess, sys, time
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try: socket.create_connection(("127.0.0.1", port), timeout=0.2).close(); break
            except OSError: time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate(); server.wait(10)
