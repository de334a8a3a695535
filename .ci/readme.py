"""Write README.md from nbs/index.ipynb (markdown cells, shown code, text outputs), or with
--check fail when README.md differs. A stand-in for nbdev_readme, which needs Quarto."""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r"^\s*#\|\s*(.*)$")

def cell_text(cell):
    src = "".join(cell["source"])
    lines = src.splitlines()
    directives = [DIRECTIVE.match(l).group(1) for l in lines if DIRECTIVE.match(l)]
    body = "\n".join(l for l in lines if not DIRECTIVE.match(l)).strip()
    return body, " ".join(directives)

def render(nb_path=root / "nbs/index.ipynb"):
    nb = json.loads(nb_path.read_text())
    parts = ["<!-- generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file -->"]
    for cell in nb["cells"]:
        body, flags = cell_text(cell)
        if "hide" in flags or not body: continue
        if cell["cell_type"] == "markdown": parts.append(body.replace("](images/", "](nbs/images/")); continue
        if cell["cell_type"] != "code": continue
        if "echo: false" not in flags: parts.append(f"```python\n{body}\n```")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data: parts.append("".join(data["text/markdown"]).strip())
            elif out.get("output_type") == "stream": parts.append("```\n" + "".join(out["text"]).rstrip() + "\n```")
            elif "text/plain" in data: parts.append("```\n" + "".join(data["text/plain"]).rstrip() + "\n```")
    return "\n\n".join(parts) + "\n"

if __name__ == "__main__":
    text, readme = render(), root / "README.md"
    if "--check" in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit("FAIL: README.md differs from nbs/index.ipynb: run `.venv/bin/python .ci/readme.py` and commit")
        print("ok: README.md matches nbs/index.ipynb")
    else:
        readme.write_text(text); print(f"wrote {readme}")
