"""The course website (`make docs` -> _docs/) in headless Chromium, driven by Playwright.

The site is built by docs/build.py if _docs/ is missing or was built from other files than there are now, then served
by `python -m http.server` on 127.0.0.1; every request that leaves that server is blocked and fails the test (no CDN:
the site must work with no network). Checked: a page for every notebook and module; every page loads with no console
error, no failed request and every image shown; every internal link, anchor and image resolves; search finds
`to_mnist`; a digit drawn with the mouse on the embedded drawing page is read. Screenshots of the home page and of a
lesson go to $DIGIT_LAB_SITE_SCREENSHOTS (e.g. nbs/images, for the README) when it is set.

Chromium: /usr/bin/chromium (env DIGIT_LAB_CHROMIUM overrides); Playwright never downloads a browser here. Without
Chromium, the playwright package or the docs extra (Sphinx, myst-nb), the tests skip, saying why, unless
DIGIT_LAB_REQUIRE_BROWSER=1 (CI), where they fail.
"""
import importlib.util, io, json, os, re, subprocess, sys, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest
from _browser import chromium, serve, unavailable as _unavailable

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("digit_lab_docs_build", ROOT / "docs" / "build.py")
docs = importlib.util.module_from_spec(_spec)  # docs/build.py: where the site is and what it is made from
_spec.loader.exec_module(docs)

SITE = docs.OUT
BUILD_TIMEOUT = 600
SHOT_BYTES = 300_000


@pytest.fixture(scope="module")
def built():
    "_docs/, built now unless it is up to date with the notebooks, the package and docs/."
    missing = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(m) is None]
    if missing and not docs.up_to_date():
        _unavailable(f"the docs extra is not installed ({', '.join(missing)} missing): "
                     f"pip install -e '.[docs]' (make docs installs it)")
    if not docs.up_to_date():
        t = time.time()
        r = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "-q"], cwd=ROOT, capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT)
        assert r.returncode == 0, f"docs/build.py failed:\n{(r.stdout + r.stderr)[-3000:]}"
        print(f"\nbuilt the site in {time.time() - t:.0f} s")
    assert (SITE / docs.STAMP).exists()  # (not up_to_date(): a notebook saved during the build makes it stale again)
    return json.loads((SITE / docs.STAMP).read_text())


def pages():
    "Every HTML page of the site (the exported drawing page is tested on its own by tests/test_web.py)."
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if not p.relative_to(SITE).parts[0] in ("demo", "_static", "_sources", "_images"))


@pytest.fixture(scope="module")
def server(built):
    with serve(SITE) as url: yield url


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b: yield b


class Watch:
    "A browser context whose pages may only load from the local server; it records every problem a page has."
    def __init__(self, browser, server, **kw):
        self.server, self.problems = server, []
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 800}, **kw)
        self.ctx.route("**/*", self._route)
        self.page = self.ctx.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"uncaught: {e}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _failed(self, r):
        if r.failure == "net::ERR_ABORTED" and r.resource_type == "other" and r.url.endswith("favicon.svg"):
            return  # the browser's own favicon fetch, cut short by the next navigation
        self.problems.append(f"request failed: {r.url} ({r.failure})")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.server) or url.startswith("data:") or url.startswith("blob:"): route.continue_()
        else: self.problems.append(f"tried to load from another host: {url}"); route.abort()

    def goto(self, path):
        self.problems.clear()
        self.page.goto(self.server + path, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self): self.ctx.close()


@pytest.fixture()
def watch(browser, server):
    w = Watch(browser, server)
    yield w
    w.close()


# ---------------------------------------------------------------- what the site holds
def test_a_page_for_every_notebook_and_module(built):
    for nb in docs.lessons(): assert (SITE / f"{nb.stem}.html").exists(), f"no page for {nb.name}"
    for nb in docs.solutions(): assert (SITE / "solutions" / f"{nb.stem}.html").exists(), f"no page for solutions/{nb.name}"
    assert set(built["lessons"]) == {nb.stem for nb in docs.lessons()}
    modules = [docs.module_of(nb) for nb in docs.lessons()]
    for mod in filter(None, modules): assert (SITE / "api" / f"{mod}.html").exists(), f"no API page for {mod}"
    for f in ("index.html", "search.html", "searchindex.js", "demo.html", "demo/index.html", "demo/model/model.json"):
        assert (SITE / f).exists(), f
    home = (SITE / "index.html").read_text()
    assert 'class="toctree-l1' in home and "api/index.html" in home and "demo.html" in home


def test_hidden_cells_and_directives_do_not_show(built):
    "`#| hide` cells are not on the page, directive lines are not in the code, `#| export` cells are marked."
    nb = next(nb for nb in docs.lessons() if docs.module_of(nb))
    html = (SITE / f"{nb.stem}.html").read_text()
    code = [_text(c, keep_lines=True) for c in re.findall(r'<div class="cell_input.*?</pre>', html, re.S)]
    assert code and not any(re.search(r"(^|\n)\s*#\s*\|", c) for c in code), f"a directive shows on {nb.stem}.html"
    assert "tag_dl-export" in html
    cells = json.loads(nb.read_text())["cells"]
    hidden = [c for c in cells if c["cell_type"] == "code" and re.match(r"\s*#\s*\|\s*hide", "".join(c["source"]))]
    for c in hidden:  # a line of real code from each hidden cell is not in the page's code
        code = [l for l in "".join(c["source"]).splitlines() if l.strip() and not l.lstrip().startswith("#")]
        staged = json.loads((docs.SRC / nb.name).read_text())["cells"]
        assert not any(code and code[0] in s["source"] for s in staged if s["cell_type"] == "code")


def test_api_reference_shows_docments(built):
    "The parameter table nbdev's show_doc gives: every documented parameter with its comment."
    from fastcore.docments import docments
    from digit_lab.inference import to_mnist
    html = (SITE / "api" / "inference.html").read_text()
    assert 'id="digit_lab.inference.to_mnist"' in html
    entry = html[html.index('id="digit_lab.inference.to_mnist"'):]
    entry = entry[:entry.index("</dl>")]
    for name, d in docments(to_mnist, full=True).items():
        if d["docment"]:
            text = d["docment"].split("`")[0][:30]
            assert _text(text) in _text(entry), f"to_mnist's docment for {name!r} is not in its API entry"


def _text(s, keep_lines=False):
    "Rough plain text of HTML, for 'does this phrase appear'."
    import html as h
    return re.sub(r"[ \t]+" if keep_lines else r"\s+", " ", h.unescape(re.sub(r"<[^>]+>", "", s)))


def test_no_remote_resources(built):
    "Nothing is loaded from another host: no script, stylesheet, image, frame or font URL with a scheme."
    bad = []
    for p in SITE.rglob("*"):
        if p.suffix == ".html":
            for tag, url in _Links.of(p.read_text(encoding="utf-8")).resources:
                if re.match(r"^(https?:)?//", url): bad.append(f"{p.relative_to(SITE)}: <{tag}> {url}")
        elif p.suffix == ".css":
            for url in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", p.read_text(encoding="utf-8", errors="replace")):
                bad.append(f"{p.relative_to(SITE)}: url({url})")
            for url in re.findall(r"@import\s+(?:url\()?['\"]?((?:https?:)?//[^'\")]+)", p.read_text(encoding="utf-8", errors="replace")):
                bad.append(f"{p.relative_to(SITE)}: @import {url}")
    assert not bad, "\n".join(bad[:20])


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(); self.links, self.resources, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("id", "name"):
            if a.get(k): self.ids.add(a[k])
        if tag == "a" and a.get("href"): self.links.append(a["href"])
        if tag in ("img", "script", "iframe", "source", "video", "audio", "embed") and a.get("src"):
            self.resources.append((tag, a["src"]))
        if tag == "link" and a.get("href") and not {"canonical", "alternate"} & set((a.get("rel") or "").split()):
            self.resources.append((tag, a["href"]))
        if tag == "object" and a.get("data"): self.resources.append((tag, a["data"]))

    @classmethod
    def of(cls, html):
        p = cls(); p.feed(html); return p


def test_internal_links_and_images_resolve(built):
    "Every relative link, image and asset of every page points at a file of the site; every #anchor exists."
    parsed, bad, n = {}, [], 0
    def page(path):
        if path not in parsed: parsed[path] = _Links.of(path.read_text(encoding="utf-8"))
        return parsed[path]
    for rel in pages():
        src = SITE / rel
        p = page(src)
        for kind, url in [("link", u) for u in p.links] + [(t, u) for t, u in p.resources]:
            if re.match(r"^([a-z][a-z0-9+.-]*:|//)", url, re.I): continue  # other sites, mailto:, data:
            n += 1
            parts = urlsplit(url)
            target = (src.parent / unquote(parts.path)).resolve() if parts.path else src
            if target.is_dir(): target = target / "index.html"
            if not target.exists() or SITE.resolve() not in [target, *target.parents]:
                bad.append(f"{rel}: <{kind}> {url} (no such file)"); continue
            if parts.fragment and target.suffix == ".html" and target.parts[-2:] != ("demo", "index.html"):
                if unquote(parts.fragment) not in page(target).ids:
                    bad.append(f"{rel}: <{kind}> {url} (no #{parts.fragment} there)")
    assert not bad, f"{len(bad)} broken of {n} internal references:\n" + "\n".join(bad[:30])
    assert n > 100


# ---------------------------------------------------------------- in the browser
def test_every_page_loads_without_errors(watch):
    "Each page: no console error, no failed or outside request, every image loaded and shown."
    failures = []
    for rel in pages():
        pg = watch.goto(rel)
        broken = pg.evaluate("""() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                                    .map(i => i.getAttribute('src'))""")
        problems = watch.problems + [f"image not shown: {s}" for s in broken]
        if problems: failures.append(f"{rel}: " + "; ".join(problems[:5]))
    assert not failures, "\n".join(failures)


def _figure_lesson(built):
    "The first lesson whose page shows a figure from a stored output."
    for stem in built["lessons"]:
        if re.search(r'<img[^>]+src="_images/', (SITE / f"{stem}.html").read_text(encoding="utf-8")): return stem
    pytest.fail("no lesson page shows a figure")


def test_lesson_page_has_figures_and_highlighted_code(watch, built):
    stem = _figure_lesson(built)
    pg = watch.goto(f"{stem}.html")
    assert pg.locator("div.cell_output img").count() >= 1, f"no figure on {stem}.html"
    assert pg.locator("div.cell_input div.highlight pre span.k, div.cell_input div.highlight pre span.kn").count() > 5
    assert pg.locator("div.cell.tag_dl-export").count() >= 1
    assert not watch.problems, watch.problems


def _search(watch, query):
    pg = watch.goto(f"search.html?q={query}")
    pg.wait_for_function("() => document.querySelector('#search-results') && "
                         "/found|no documents/i.test(document.querySelector('#search-results').innerText)",
                         timeout=60_000)
    return pg, pg.evaluate("() => [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.getAttribute('href'))")


def test_search_finds_to_mnist(watch):
    pg, hits = _search(watch, "to_mnist")
    assert any("api/" in h and "to_mnist" in h for h in hits), hits  # the API entry
    assert any(not h.startswith("api/") for h in hits), hits  # and lessons that use it (full text)
    assert not watch.problems, watch.problems
    # the sidebar's search box gets there too
    pg = watch.goto("index.html")
    pg.keyboard.press("Control+k")
    box = pg.locator("form.bd-search input[name=q]:visible").first
    box.fill("to_mnist"); box.press("Enter")
    pg.wait_for_url(re.compile(r"search\.html\?q=to_mnist"))
    pg.wait_for_selector("#search-results ul.search li a", timeout=60_000)


def test_search_finds_words_in_prose(watch):
    "Full text, not only names: a word from a lesson's prose finds the lesson."
    _, hits = _search(watch, "handwriting")
    assert any(re.match(r"^\d", h) for h in hits), hits


def _strokes(digit, style=None, seed=0, height=190, size=280):
    from digit_lab.styles import synth_strokes
    strokes = synth_strokes(digit, style, rng=seed)
    w = max(float(s[:, 0].max()) for s in strokes) * height
    x0, y0 = (size - w) / 2, (size - height) / 2
    return [s * height + (x0, y0) for s in strokes]


def test_demo_reads_a_digit_drawn_with_the_mouse(watch):
    "The drawing page embedded in demo.html: draw with the mouse inside the frame, the page reads the digit."
    pg = watch.goto("demo.html")
    frame = pg.frame_locator("#dl-demo")
    inner = next(f for f in pg.frames if f.url.endswith("demo/index.html"))
    inner.wait_for_function("window.digitLab && (window.digitLab.ready || window.digitLab.error)", timeout=60_000)
    assert inner.evaluate("digitLab.error") is None, inner.evaluate("digitLab.error")
    pad = frame.locator("#pad")
    pad.scroll_into_view_if_needed()
    right = []
    for digit in (3, 7, 2):
        frame.locator("#clear").click()
        box = pad.bounding_box()  # in the top page's coordinates: the mouse draws through the frame
        k = box["width"] / 280
        for s in _strokes(digit, seed=digit):
            pts = [(box["x"] + float(x) * k, box["y"] + float(y) * k) for x, y in s]
            pg.mouse.move(*pts[0]); pg.mouse.down()
            for p in pts[1:]: pg.mouse.move(*p)
            pg.mouse.up()
        inner.wait_for_function("document.getElementById('prediction').textContent !== ''")
        right.append(frame.locator("#prediction").inner_text().strip() == str(digit))
    assert sum(right) >= 2, f"the demo read {sum(right)}/3 drawn digits right"
    assert not watch.problems, watch.problems


def _save_small_png(png_bytes, path):
    "A screenshot as a palette PNG (UI colours quantise well): under SHOT_BYTES for the README."
    from PIL import Image
    im = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    for colors in (256, 128, 64):
        buf = io.BytesIO()
        im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buf, "PNG", optimize=True)
        if buf.tell() <= SHOT_BYTES: break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


def test_screenshots(watch, built, tmp_path):
    "The home page and a lesson at a figure (env DIGIT_LAB_SITE_SCREENSHOTS=nbs/images keeps them for the README)."
    import numpy as np
    from PIL import Image
    out = Path(os.environ.get("DIGIT_LAB_SITE_SCREENSHOTS") or tmp_path)
    if not out.is_absolute(): out = ROOT / out
    pg = watch.goto("index.html")
    shots = [_save_small_png(pg.screenshot(), out / "site_home.png")]
    pg = watch.goto(f"{_figure_lesson(built)}.html")
    fig = pg.locator("div.cell_output img").first
    fig.evaluate("img => img.closest('div.cell').scrollIntoView({block: 'center'})")
    pg.wait_for_timeout(300)
    shots.append(_save_small_png(pg.screenshot(), out / "site_lesson.png"))
    for s in shots:
        a = np.asarray(Image.open(s).convert("L"))
        assert a.shape == (800, 1280) and a.std() > 20, s  # a rendered page, not a blank one
        assert s.stat().st_size <= SHOT_BYTES, (s, s.stat().st_size)
    assert not watch.problems, watch.problems
