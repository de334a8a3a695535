#!/usr/bin/env python
"""Build the course website in _docs/ (`make docs`), offline, from the notebooks' stored outputs.

1. Stage every notebook (nbs/*.ipynb, nbs/solutions/*.ipynb, found by glob, in order) in _proc/docs/src the way
   nbdev's docs show them: `#| hide` cells dropped, `#| echo: false` cells show only their output, directive lines
   removed from the code, `#| export` cells marked, names of exported functions in backticks linked to their API
   entry. Notebooks are never executed.
2. Write the API reference (one page per module) from each module's `__all__`: signature as written in the source,
   docstring, and the parameter table nbdev's `show_doc` gives from fastcore's docments.
3. Export the drawing page (`digit-lab export --model best --format web`) into the site as the live demo (in the
   background while Sphinx runs, and only when the page, the weights or the export code changed).
4. Run Sphinx (myst-nb, sphinx-book-theme; configuration in docs/conf.py) and swap the result into _docs/ only if
   the build succeeds.

We keep this small generator because Sphinx's autodoc cannot read docments, and nbdev's own `nbdev_docs` needs Quarto.
"""
import argparse, ast, configparser, hashlib, importlib, importlib.util, inspect, json, os, re, shutil, subprocess, sys
import textwrap, time
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CFG = configparser.ConfigParser(delimiters=["="])
CFG.read(ROOT / "settings.ini", encoding="utf-8")
CFG = CFG["DEFAULT"]
NBS = ROOT / CFG.get("nbs_path", "nbs")
OUT = ROOT / CFG.get("doc_path", "_docs")
WORK = ROOT / "_proc" / "docs"  # staging, Sphinx's doctrees and the cached demo export (git-ignored)
SRC = WORK / "src"
LIB = CFG.get("lib_path", "digit_lab")
GIT_URL = CFG["git_url"].rstrip("/")
BRANCH = CFG.get("branch", "main")
DEMO_MODEL = "best"
STAMP = ".digit-lab-build.json"  # written last into _docs: what was built from what (tests/test_docs.py reads it)

DIRECTIVE = re.compile(r"^\s*#\s*\|\s?(.*)$")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(\[?)(\{[^{}`\s]+\})?(`+)([^`\n]+?)\3(?!`)")  # left to right: spans pair up as in markdown
HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


# ------------------------------------------------------------------ what there is to build
def lessons():
    "The numbered notebooks, in order (the course); index.ipynb is the home page."
    return sorted(p for p in NBS.glob("*.ipynb") if p.stem != "index" and not p.name.startswith("."))


def solutions():
    return sorted(p for p in (NBS / "solutions").glob("*.ipynb") if not p.name.startswith("."))


def inputs():
    "Every file the site is made from (for staleness checks)."
    files = [NBS / "index.ipynb", *lessons(), *solutions(), ROOT / "settings.ini"]
    files += [p for p in (NBS / "images").rglob("*") if p.is_file()] if (NBS / "images").exists() else []
    files += [p for p in DOCS.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += sorted((ROOT / LIB).rglob("*.py")) + [p for p in (ROOT / LIB / "web").rglob("*") if p.is_file()]
    files += [p for p in (ROOT / LIB / "weights").glob("*") if p.is_file()]
    return [f for f in files if f.exists()]


def module_of(nb_path):
    "The module a notebook exports to (`#| default_exp name`), or None."
    for cell in json.loads(nb_path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code": continue
        for line in "".join(cell["source"]).splitlines():
            m = DIRECTIVE.match(line)
            if m and m.group(1).split()[:1] == ["default_exp"]: return m.group(1).split()[1]
    return None


# ------------------------------------------------------------------ signatures and docments
def _flat(s): return re.sub(r"\s+", " ", s).strip()


def _func_node(f):
    "The ast of `f`'s def and its source, or (None, None) if there is no source to read."
    try:
        src = textwrap.dedent(inspect.getsource(inspect.unwrap(f)))
        node = ast.parse(src).body[0]
    except (OSError, TypeError, SyntaxError, IndexError, ValueError): return None, None
    return (node, src) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else (None, None)


def params(f, drop_first=False):
    "[(name as shown, annotation, default)] and the return annotation, as written in the source (strings or None)."
    node, src = _func_node(f)
    if node is None:  # no source (e.g. a dataclass's generated __init__): what inspect says
        try: sig = inspect.signature(f)
        except (TypeError, ValueError): return [], None
        ps = list(sig.parameters.values())[1 if drop_first else 0:]
        ann = lambda a: None if a is inspect.Parameter.empty else (a if isinstance(a, str) else getattr(a, "__name__", str(a)))
        star = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
        return ([(star.get(p.kind, "") + p.name, ann(p.annotation),
                  None if p.default is inspect.Parameter.empty else repr(p.default)) for p in ps],
                ann(sig.return_annotation))
    seg = lambda n: None if n is None else _flat(ast.get_source_segment(src, n))
    a = node.args
    pos = a.posonlyargs + a.args
    defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    out = [(p.arg, seg(p.annotation), seg(d)) for p, d in zip(pos, defaults)]
    if a.posonlyargs: out.insert(len(a.posonlyargs), ("/", None, None))
    if a.vararg: out.append(("*" + a.vararg.arg, seg(a.vararg.annotation), None))
    elif a.kwonlyargs: out.append(("*", None, None))
    out += [(p.arg, seg(p.annotation), seg(d)) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg: out.append(("**" + a.kwarg.arg, seg(a.kwarg.annotation), None))
    if drop_first and out and out[0][0] not in ("/", "*") and not out[0][0].startswith("*"): out = out[1:]
    return out, seg(node.returns)


def signature(ps, ret):
    s = ", ".join(n + (f": {t}" if t else "") + ((" = " if t else "=") + d if d is not None else "") for n, t, d in ps)
    return f"({s})" + (f" -> {ret}" if ret else "")


def _cell(s):
    "Text for a markdown table cell."
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(s): return "" if s is None else f"`{_cell(s)}`"


def param_table(f, drop_first=False):
    "nbdev's show_doc table: each parameter's type, default and docment, and what it returns."
    from fastcore.docments import docments
    try: docs = docments(f, full=True)
    except Exception: docs = {}
    ps, ret = params(f, drop_first)
    ps = [p for p in ps if p[0] not in ("/", "*")]
    doc = lambda n: (docs.get(n.lstrip("*")) or {}).get("docment") or ""
    ret_doc = (docs.get("return") or {}).get("docment") or ""
    if not any(doc(n) for n, _, _ in ps) and not ret_doc: return ""
    rows = ["| | **Type** | **Default** | **Details** |", "|---|---|---|---|"]
    rows += [f"| {_cell(n)} | {_code(t)} | {_code(d)} | {_md(_cell(doc(n)))} |" for n, t, d in ps]
    if ret or ret_doc: rows.append(f"| **Returns** | {_code(ret)} | | {_md(_cell(ret_doc))} |")
    return "\n".join(rows)


LINKS, PAGES = {}, {}  # filled by stage(): backticked names in docstrings and docments link like in the lessons


def _md(s): return link_names(s, LINKS, PAGES, depth=1) if s else ""


def _docstring(obj):
    d = obj.__doc__ if isinstance(obj, property) else inspect.getdoc(obj)
    return _md(inspect.cleandoc(d)) if d else ""


def constant_source(mod, name):
    "`NAME = <expression>` as written at the top level of the module (not its value: no paths of this machine)."
    try: src = inspect.getsource(mod)
    except (OSError, TypeError): return None
    for node in ast.parse(src).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
            v = _flat(ast.get_source_segment(src, node.value))
            return v if len(v) <= 200 else v[:197] + "..."
    return None


def _fence(directive, arg, body, opts=()):
    "A MyST directive block; the fence is longer than any inside the body."
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`{3,}", body)), default=0))
    opts = "".join(f":{k}: {v}\n" for k, v in opts)
    return f"{ticks}{{{directive}}} {arg}\n{opts}\n{body}\n{ticks}\n"


def _entry(directive, name, obj, drop_first=False, opts=()):
    ps, ret = params(obj, drop_first)
    body = "\n\n".join(x for x in (_docstring(obj), param_table(obj, drop_first)) if x)
    return _fence(directive, name + signature(ps, ret), body, opts)


def class_entry(cls):
    own_init = "__init__" in vars(cls)
    init = cls.__init__ if own_init else cls
    ps, _ = params(init, drop_first=own_init) if own_init else params(cls)
    body = [_docstring(cls) if cls.__doc__ else "", param_table(init, drop_first=own_init)]
    for name, v in vars(cls).items():
        if name.startswith("_"): continue
        if isinstance(v, property):
            body.append(_fence("py:property", name, _docstring(v)))
        elif isinstance(v, (staticmethod, classmethod)):
            kind = "classmethod" if isinstance(v, classmethod) else "staticmethod"
            body.append(_entry("py:method", name, v.__func__, drop_first=kind == "classmethod", opts=[(kind, "")]))
        elif inspect.isfunction(v):
            body.append(_entry("py:method", name, v, drop_first=True))
    return _fence("py:class", cls.__name__ + signature(ps, None), "\n\n".join(b for b in body if b))


def api_page(modname, nb_stem):
    "The reference page of one module: its docstring, then every name in `__all__`, in order."
    mod = importlib.import_module(f"{LIB}.{modname}")
    doc = (mod.__doc__ or "").strip()
    lines = [f"# {LIB}.{modname}", "", _md(doc), ""]
    if nb_stem: lines += [f"Written in the lesson [{nb_stem}](../{nb_stem}.ipynb); "
                          f"source: [`{LIB}/{modname}.py`]({GIT_URL}/blob/{BRANCH}/{LIB}/{modname}.py).", ""]
    lines += [f"```{{py:module}} {LIB}.{modname}\n```\n"]
    constants = []
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name, None)
        if inspect.isclass(obj): lines.append(class_entry(obj))
        elif inspect.isroutine(obj): lines.append(_entry("py:function", name, obj))
        else: constants.append(name)
    if constants:  # after the functions, the way a reader looks them up
        lines += ["## Constants", ""]
        for name in constants:
            value = constant_source(mod, name)
            lines.append(_fence("py:data", name, "", [("value", json.dumps(value))] if value else []))
    return "\n".join(lines)


def api_names():
    "{name or Class.method or module.name: full dotted target} for linking backticked names in the lessons."
    found, seen = {}, {}
    for nb in lessons():
        modname = module_of(nb)
        if not modname: continue
        mod = importlib.import_module(f"{LIB}.{modname}")
        found[f"{LIB}.{modname}"] = f"{LIB}.{modname}"  # the module's page
        for name in getattr(mod, "__all__", []):
            full = f"{LIB}.{modname}.{name}"
            seen.setdefault(name, set()).add(full)
            found[f"{LIB}.{modname}.{name}"] = found[f"{modname}.{name}"] = full
            obj = getattr(mod, name, None)
            if inspect.isclass(obj):
                for m in vars(obj):
                    if not m.startswith("_"): found[f"{name}.{m}"] = f"{full}.{m}"
    for name, fulls in seen.items():
        if len(fulls) == 1: found[name] = next(iter(fulls))  # a name in two modules (e.g. `cli`) stays plain
    return found


# ------------------------------------------------------------------ notebooks, the way nbdev's docs show them
def _directives(source):
    "(directives {name: value}, the code without its leading directive lines)"
    lines, found = source.splitlines(), {}
    i = 0
    while i < len(lines) and (DIRECTIVE.match(lines[i]) or not lines[i].strip()):
        m = DIRECTIVE.match(lines[i])
        body = m.group(1).strip() if m else ""
        if body:  # `#| hide`, `#| default_exp core`, `#| echo: false`
            key, _, val = body.partition(":") if re.match(r"^[\w-]+\s*:", body) else body.partition(" ")
            found[key.strip().lower()] = val.strip().lower()
        i += 1
    return found, "\n".join(lines[i:]).rstrip()


def link_names(md, names, pages, depth):
    "`name` in markdown prose -> a link to its API entry (and `01_data` to its page), like nbdev's docs."
    up = "../" * depth
    def sub(m, links=()):
        bracket, role, ticks, text = m.groups()
        if bracket or role or len(ticks) > 1 or any(a <= m.start() < b for a, b in links):
            return m.group(0)  # in a link's text, a role, or ``code``
        key = text[:-2] if text.endswith("()") else text
        if key in names: return f"{{py:obj}}`{text} <{names[key]}>`"
        if text in pages: return f"[`{text}`]({up}{pages[text]})"
        return m.group(0)
    out, fenced = [], None
    for line in md.split("\n"):
        f = FENCE.match(line)
        if fenced:
            if f and f.group(1) == fenced: fenced = None
        elif f: fenced = f.group(1)
        elif not HEADING.match(line):
            links = [m.span() for m in re.finditer(r"!?\[[^\]\n]*\]\([^)\n]*\)", line)]
            line = CODE_SPAN.sub(lambda m: sub(m, links), line)
        out.append(line)
    return "\n".join(out)


def repo_links(md, nb_dir, stage_dir):
    """Relative links to files of the repository that are not pages of the site -> the file on the git host;
    images from elsewhere in the repository (e.g. bench/results) are copied into the site."""
    def sub(m):
        bang, label, target = m.group(1), m.group(2), m.group(3)
        if re.match(r"^([a-z]+:|#|/)", target): return m.group(0)
        path, _, frag = target.partition("#")
        if (stage_dir / path).exists() or (path.endswith(".ipynb") and not bang): return m.group(0)
        repo_file = (nb_dir / unquote(path)).resolve()
        try: rel = repo_file.relative_to(ROOT)
        except ValueError: return m.group(0)
        if bang:
            if not repo_file.is_file(): return m.group(0)  # Sphinx warns, the link test fails: fix the notebook
            copy = SRC / "_repo" / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo_file, copy)
            return f"![{label}]({os.path.relpath(copy, stage_dir)})"
        return f"[{label}]({GIT_URL}/blob/{BRANCH}/{rel.as_posix()}{'#' + frag if frag else ''})"
    return re.sub(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)", sub, md)


def stage_notebook(src, dst, names, pages, extra_md=None):
    nb = json.loads(src.read_text(encoding="utf-8"))
    depth = len(dst.relative_to(SRC).parts) - 1
    cells, titled = [], False
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "raw": continue  # Quarto front matter and the like
        meta = {}
        if cell["cell_type"] == "code":
            dirs, code = _directives(source)
            if "hide" in dirs or dirs.get("include") == "false": continue
            if "default_exp" in dirs and not code: continue
            outputs = [] if dirs.get("output") == "false" else cell.get("outputs", [])
            for o in outputs:  # widgets need a kernel; their text fallback stays
                if "data" in o: o["data"] = {k: v for k, v in o["data"].items() if "jupyter.widget" not in k}
            outputs = [o for o in outputs if o.get("data", True)]
            if not code and not outputs: continue
            tags = []
            if dirs.get("echo") == "false": tags.append("remove-input")
            if {"export", "exports", "exporti"} & set(dirs): tags.append("dl-export")
            if tags: meta["tags"] = tags
            cells.append({"cell_type": "code", "execution_count": cell.get("execution_count"), "id": cell.get("id"),
                          "metadata": meta, "outputs": outputs, "source": code})
        else:
            md = source
            if not titled and md.lstrip().startswith("# "):
                titled = True  # nbdev's `# Title` + `> description`: the description becomes the lead paragraph
                head, _, rest = md.lstrip().partition("\n")
                rest = rest.lstrip("\n")
                desc = re.match(r"((?:>.*(?:\n|$))+)", rest)
                if desc:
                    lead = " ".join(l.lstrip(">").strip() for l in desc.group(1).splitlines())
                    rest = "{.dl-lead}\n" + lead + "\n" + ("\n" + extra_md if extra_md else "") + "\n" + rest[desc.end():]
                elif extra_md: rest = extra_md + "\n\n" + rest
                md = head + "\n\n" + rest
            md = repo_links(link_names(md, names, pages, depth), src.parent, dst.parent)
            cells.append({"cell_type": "markdown", "id": cell.get("id"), "metadata": {}, "source": md})
    for i, c in enumerate(cells):
        if not c.get("id"): c["id"] = f"cell-{i}"
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                       "language_info": {"name": "python", "pygments_lexer": "ipython3"}}}
    _write(dst, json.dumps(nb, indent=1, ensure_ascii=False))
    return nb


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _title(nb):
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            m = re.match(r"^\s*#\s+(.+)", c["source"])
            if m: return re.sub(r"[`*]", "", m.group(1)).strip()
    return None


def _toc_entry(stem, nb, prefix=True):
    "`01 · Data <01_data>`: the sidebar shows the lesson's number and its title up to the colon (nbdev's style)."
    title = (_title(nb) or stem).split(": ")[0]
    num = re.match(r"^(\d+[a-z]?)_", stem)
    if prefix and num: title = f"{num.group(1)} · {title}"
    return f"{title} <{stem}>"


def stage(log, demo_ok=True):
    "Write the Sphinx sources in _proc/docs/src; return what was staged."
    if SRC.exists(): shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    if (NBS / "images").exists(): shutil.copytree(NBS / "images", SRC / "images")
    names = api_names()
    les, sols = lessons(), solutions()
    pages = {p.stem: f"{p.stem}.ipynb" for p in les}
    pages.update({f"solutions/{p.stem}": f"solutions/{p.stem}.ipynb" for p in sols})
    LINKS.clear(); LINKS.update(names); PAGES.clear(); PAGES.update(pages)
    sol_stems = {p.stem for p in sols}
    lesson_nbs, solution_nbs, modules = {}, {}, []
    for p in les:
        mod = module_of(p)
        if mod: modules.append((mod, p.stem))
        bits = []
        if mod: bits.append(f"API: {{py:mod}}`{LIB}.{mod}`")
        if p.stem in sol_stems: bits.append(f"answers and solutions: [solutions/{p.stem}](solutions/{p.stem}.ipynb)")
        bits.append(f"notebook: [`nbs/{p.name}`]({GIT_URL}/blob/{BRANCH}/{NBS.name}/{p.name})")
        lesson_nbs[p.stem] = stage_notebook(p, SRC / p.name, names, pages, "{.dl-meta}\n" + " · ".join(bits))
    for p in sols:
        first = next((c for c in json.loads(p.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "markdown"), None)
        linked = first is not None and f"`{p.stem}`" in "".join(first["source"])  # its description links the lesson
        back = f"{{.dl-meta}}\nThe lesson: [{p.stem}](../{p.stem}.ipynb)" if p.stem in pages and not linked else None
        solution_nbs[p.stem] = stage_notebook(p, SRC / "solutions" / p.name, names, pages, back)
    for mod, stem in modules:
        _write(SRC / "api" / f"{mod}.md", api_page(mod, stem))
    api_index = ["# API reference", "",
                 f"Every name each module exports (its `__all__`), with the signature as written in the lesson, the "
                 f"docstring and the per-parameter comments (fastcore's docments), the way nbdev's `show_doc` shows "
                 f"them. The lessons link every backticked name to its entry here.", "",
                 "| module | what it is | lesson |", "|---|---|---|"]
    for mod, stem in modules:
        doc = (importlib.import_module(f"{LIB}.{mod}").__doc__ or "").strip().split("\n")[0]
        api_index.append(f"| [`{LIB}.{mod}`]({mod}.md) | {_cell(doc)} | [{stem}](../{stem}.ipynb) |")
    api_index += ["", "```{toctree}", ":hidden:", ""] + [m for m, _ in modules] + ["```", ""]
    _write(SRC / "api" / "index.md", "\n".join(api_index))
    export_nb = next((stem for mod, stem in modules if mod == "export"), None)
    demo_links = {"model": DEMO_MODEL,
                  "lesson": f"[{export_nb}]({export_nb}.ipynb)" if export_nb else "`export`",
                  "to_mnist": f"{{py:obj}}`to_mnist <{names['to_mnist']}>`" if "to_mnist" in names else "`to_mnist`"}
    _write(SRC / "demo.md", (DEMO_PAGE if demo_ok else NO_DEMO_PAGE).format(**demo_links))
    # the home page, with the site's table of contents (hidden: the sidebar shows it)
    toc = ["```{toctree}\n:hidden:\n:caption: Try it\n\nLive demo: draw a digit <demo>\n```"]
    toc.append("```{toctree}\n:hidden:\n:caption: Lessons\n\n" +
               "\n".join(_toc_entry(s, nb) for s, nb in lesson_nbs.items()) + "\n```")
    if solution_nbs:  # named after their lesson: "01 · Data"
        toc.append("```{toctree}\n:hidden:\n:caption: Solutions\n\n" +
                   "\n".join(_toc_entry(s, lesson_nbs.get(s, nb)).rsplit(" <", 1)[0] + f" <solutions/{s}>"
                             for s, nb in solution_nbs.items()) + "\n```")
    toc.append("```{toctree}\n:hidden:\n:caption: Reference\n\nAPI reference <api/index>\n```")
    home = stage_notebook(NBS / "index.ipynb", SRC / "index.ipynb", names, pages)
    home["cells"].append({"cell_type": "markdown", "id": "site-toc", "metadata": {}, "source": "\n\n".join(toc)})
    _write(SRC / "index.ipynb", json.dumps(home, indent=1, ensure_ascii=False))
    log(f"staged {len(lesson_nbs)} lessons, {len(solution_nbs)} solutions, {len(modules)} API pages")
    return {"lessons": list(lesson_nbs), "solutions": list(solution_nbs), "modules": [m for m, _ in modules]}


DEMO_PAGE = """# Live demo: draw a digit

{{.dl-lead}}
Draw a digit with the mouse, a pen or a finger: the `{model}` model reads it as you draw, in this page
(TensorFlow.js, vendored with the page: nothing you draw is sent anywhere).

This is the page `digit-lab export --model {model} --format web --out site/` writes (lesson {lesson}); it uses the
same preprocessing as {to_mnist}.

<iframe id="dl-demo" class="dl-demo" src="demo/index.html" title="digit-lab drawing page"></iframe>

<p class="dl-meta"><a href="demo/index.html">Open the drawing page on its own</a></p>
"""

NO_DEMO_PAGE = """# Live demo: draw a digit

This copy of the site was built without the drawing page: `digit-lab export --format web` needs the `tfjs` extra
(TensorFlow.js), which was not installed. Install it (`pip install -e ".[tfjs]"`) and run `make docs` again, or see
lesson {lesson}.
"""


# ------------------------------------------------------------------ the live demo
def _digest(paths):
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(ROOT)).encode()); h.update(p.read_bytes())
    return h.hexdigest()


class Demo:
    """`digit-lab export --model best --format web` into _proc/docs/demo, in the background while Sphinx runs; redone
    only when what it depends on (the page's files, the weights, the export code) changed."""
    def __init__(self, log):
        self.log, self.cache, self.proc, self.ok = log, WORK / "demo", None, True
        if importlib.util.find_spec("tensorflowjs") is None:  # e.g. Python 3.13: no TensorFlow wheels yet
            log("warning: no live demo: the web export needs the tfjs extra (pip install -e '.[tfjs]')")
            self.ok = False; return
        deps = [p for p in (ROOT / LIB / "web").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        deps += [p for p in (ROOT / LIB / "weights").glob("*") if p.is_file()]
        deps += [ROOT / LIB / "export.py", ROOT / LIB / "models.py", ROOT / LIB / "__init__.py"]
        self.key = _digest([p for p in deps if p.exists()])
        if (self.cache / ".key").exists() and (self.cache / ".key").read_text() == self.key \
                and (self.cache / "index.html").exists():
            log("live demo: the cached export is up to date"); return
        exe = Path(sys.executable).parent / "digit-lab"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from digit_lab.cli import main; sys.exit(main())"]
        self.tmp = WORK / "demo.tmp"
        if self.tmp.exists(): shutil.rmtree(self.tmp)
        WORK.mkdir(parents=True, exist_ok=True)
        self.t, self.out = time.time(), open(WORK / "demo-export.log", "w+")
        self.proc = subprocess.Popen(cmd + ["export", "--model", DEMO_MODEL, "--format", "web", "--out", str(self.tmp)],
                                     cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT,
                                     env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})

    def wait(self):
        "The folder holding the exported page (None without the tfjs extra)."
        if not self.ok: return None
        if self.proc is None: return self.cache
        rc = self.proc.wait()
        self.out.seek(0); text = self.out.read(); self.out.close()
        if rc != 0 or not (self.tmp / "index.html").exists():
            raise SystemExit(f"docs: `digit-lab export --format web` failed ({rc}):\n{text[-2000:]}")
        (self.tmp / ".key").write_text(self.key)
        if self.cache.exists(): shutil.rmtree(self.cache)
        self.tmp.rename(self.cache)
        self.log(f"live demo: exported the {DEMO_MODEL} model as a web page in {time.time() - self.t:.0f} s")
        return self.cache

    def stop(self):
        if self.proc is not None and self.proc.poll() is None: self.proc.kill(); self.proc.wait()


# ------------------------------------------------------------------ build
def build(quiet=False, jobs="1"):
    t0 = time.time()
    log = (lambda *a: None) if quiet else (lambda *a: print("docs:", *a, flush=True))
    for mod in ("sphinx", "myst_nb", "sphinx_book_theme", "fastcore"):
        if importlib.util.find_spec(mod) is None:
            raise SystemExit(f"docs: the package {mod!r} is missing; install the docs extra: "
                             f"{sys.executable} -m pip install -e '.[docs]' (or `make docs`)")
    sys.path.insert(0, str(ROOT))
    made_from = _digest(inputs())  # before reading anything: a notebook saved meanwhile makes the site stale
    demo = Demo(log)
    try:
        staged = stage(log, demo.ok)
        from digit_lab.core import replace_folder
        warnings_file = WORK / "sphinx-warnings.txt"
        with replace_folder(OUT) as tmp:
            t = time.time()
            cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q", "-j", str(jobs), "-c", str(DOCS),
                   "-d", str(WORK / "doctrees"), "-w", str(warnings_file), str(SRC), str(tmp)]
            r = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if r.returncode != 0: raise SystemExit(f"docs: sphinx-build failed ({r.returncode}); see {warnings_file}")
            log(f"sphinx-build: {time.time() - t:.0f} s")
            if any("mathjax/tex-chtml.js" in p.read_text(encoding="utf-8") for p in tmp.rglob("*.html")) \
                    and not (tmp / "_static" / "mathjax" / "tex-chtml.js").exists():
                raise SystemExit("docs: a page has maths but MathJax is missing: pip install sphinx-mathjax-offline")
            if demo.ok: shutil.copytree(demo.wait(), tmp / "demo", ignore=shutil.ignore_patterns(".key", "README.md"))
            (tmp / ".nojekyll").touch()
            (tmp / STAMP).write_text(json.dumps({**staged, "seconds": round(time.time() - t0, 1), "inputs": made_from},
                                                indent=1))
    finally:
        demo.stop()
    warnings = [w for w in warnings_file.read_text().splitlines() if w.strip()] if warnings_file.exists() else []
    for w in warnings[:30]: log("warning:", textwrap.shorten(w.replace(str(SRC) + "/", ""), 300))
    log(f"built {OUT.relative_to(ROOT)}/index.html in {time.time() - t0:.0f} s ({len(warnings)} warnings); "
        f"view it: python -m http.server -d {OUT.relative_to(ROOT)} 8000, then open http://127.0.0.1:8000")
    return OUT


def up_to_date():
    "True if _docs/ was built from the files there are now."
    try: return json.loads((OUT / STAMP).read_text())["inputs"] == _digest(inputs())
    except (OSError, ValueError, KeyError): return False


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--if-stale", action="store_true", help="build only if _docs/ is missing or older than its sources")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("-j", "--jobs", default="1", help="sphinx-build processes (default 1)")
    args = ap.parse_args()
    if args.if_stale and up_to_date(): print(f"docs: {OUT.relative_to(ROOT)} is up to date")
    else: build(args.quiet, args.jobs)
