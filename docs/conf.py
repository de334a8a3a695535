# Sphinx configuration of the course website. `make docs` (docs/build.py) stages the notebooks and the generated API
# pages in _proc/docs/src and runs `sphinx-build -c docs _proc/docs/src _docs`; nothing here executes a notebook.
# Everything the pages load is local (theme assets, search index, MathJax from sphinx-mathjax-offline): the site works
# from `python -m http.server -d _docs` with no network.
import configparser, importlib.util, shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
cfg = configparser.ConfigParser(delimiters=["="])
cfg.read(ROOT / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

project = cfg["title"]
author = cfg["author"]
copyright = cfg["copyright"]
release = version = cfg["version"]
root_doc = "index"
language = "en"

extensions = ["myst_nb", "sphinx_copybutton", "sphinx.ext.mathjax", "sphinx.ext.githubpages"]
exclude_patterns = ["**.ipynb_checkpoints"]
templates_path = []
html_static_path = [str(ROOT / "docs" / "_static")]
html_css_files = ["digit-lab.css"]
html_favicon = str(ROOT / "docs" / "_static" / "favicon.svg")
html_title = f"{project} {version}"
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True  # the notebooks behind the download button
html_theme = "sphinx_book_theme"
html_context = {"default_mode": "auto"}  # (left empty, the theme logs an error in the console)
html_theme_options = {
    "repository_url": cfg["git_url"],
    "repository_branch": cfg.get("branch", "main"),
    "path_to_docs": cfg.get("nbs_path", "nbs"),
    "use_repository_button": True,
    "use_issues_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "show_navbar_depth": 1,
    "navigation_depth": 2,  # lessons and API pages in the sidebar; their sections are in the page's own contents
}
pygments_style = "friendly"
pygments_dark_style = "monokai"

# notebooks: render the outputs stored in them, never run them
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "show"
nb_ipywidgets_js = {}  # no widget manager from a CDN (the course's widgets need a kernel anyway)
nb_render_markdown_format = "myst"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_block", "attrs_inline",
                          "strikethrough", "tasklist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.strikethrough", "mystnb.unknown_mime_type"]

# API reference (docs/build.py writes it from the modules' __all__, signatures and docments)
add_module_names = False
python_maximum_signature_line_length = 90
python_display_short_literal_types = True
toc_object_entries_show_parents = "hide"

# search: Sphinx's own index (searchindex.js), served with the site; code cells are indexed too
html_search_language = "en"

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_exclude = ".linenos, .gp, .go"

# MathJax 3 from the sphinx-mathjax-offline package, copied next to the site instead of loaded from a CDN; only
# the parts a page with TeX needs (the combined TeX/CHTML component, its fonts, TeX extensions and the menu).
_mathjax = importlib.util.find_spec("sphinx-mathjax-offline")
_MATHJAX_PARTS = ["tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y"]
mathjax_path = "mathjax/tex-chtml.js"
mathjax3_config = {"options": {"enableMenu": True}, "loader": {"load": []}}


def _copy_mathjax(app, exc):
    if exc is not None: return
    if _mathjax is None:
        return  # docs/build.py refuses to build pages with maths without it
    src = Path(_mathjax.origin).parent / "static" / "mathjax"
    dst = Path(app.outdir) / "_static" / "mathjax"
    for part in _MATHJAX_PARTS:
        s, d = src / part, dst / part
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir(): shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.exists(): shutil.copy2(s, d)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
