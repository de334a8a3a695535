"""`digit-lab predict` end to end, as a user runs it: real image files, a bad file, a missing file."""
import json, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from digit_lab.styles import synth_canvases

def run(*args):
    cmd = [sys.executable, "-c", "import sys; from digit_lab.cli import main; sys.exit(main())", "predict", *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True)  # the console script's entry point, in this environment
    return p.returncode, p.stdout, p.stderr

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("digits")
    canvases, labels, _ = synth_canvases(3, seed=23_000, styles=["7_crossed", "1_flag_foot", "4_open"])
    Image.fromarray(255 - canvases[0]).save(d / "seven.png")                                   # dark on light
    Image.fromarray(canvases[1]).convert("RGB").save(d / "one.jpg", quality=90)                # light on dark, JPEG
    rgba = np.zeros((280, 280, 4), np.uint8); rgba[..., 3] = canvases[2]
    Image.fromarray(rgba).save(d / "four.png")                                                 # ink only in alpha
    (d / "notes.png").write_text("not an image")
    Image.fromarray(np.zeros((280, 280), np.uint8)).save(d / "blank.png")
    return d

def test_table(files):
    code, out, err = run(files / "seven.png", files / "one.jpg", files / "four.png")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["file", "digit", "confidence"] and len(lines) == 4
    assert [l.split()[1] for l in lines[1:]] == ["7", "1", "4"]

def test_json_and_bad_files(files):
    code, out, err = run(files / "seven.png", files / "notes.png", files / "missing.png", files / "blank.png", "--json")
    assert code == 1
    rows = json.loads(out)
    assert rows[0]["digit"] == 7 and len(rows[0]["probabilities"]) == 10
    assert [("error" in r) for r in rows] == [False, True, True, True]
    assert "not an image" in rows[1]["error"] and "no such image file" in rows[2]["error"] and "blank" in rows[3]["error"]
    assert err.count("digit-lab predict:") == 3 and "Traceback" not in err

def test_unknown_model(files):
    "A wrong argument is refused before any work: exit status 2, one line naming it and the models there are."
    code, out, err = run(files / "seven.png", "--model", "nope")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "unknown model 'nope'" in err and "best" in err

def test_bad_weights_dir(files, tmp_path):
    code, out, err = run(files / "seven.png", "--weights-dir", tmp_path / "nowhere")
    assert code == 2 and "is not a folder" in err and err.count("\n") == 1

def test_long_and_odd_file_names(files, tmp_path):
    "Names too long for the file system, or naming a folder: one line each, the other images still read."
    code, out, err = run(files / "seven.png", "x" * 5000 + ".png", tmp_path, "--json")
    rows = json.loads(out)
    assert code == 1 and rows[0]["digit"] == 7 and ["error" in r for r in rows] == [False, True, True]
    assert err.count("digit-lab predict:") == 2 and max(map(len, err.splitlines())) < 330 and "Traceback" not in err
