"""`digit-lab finetune` and `digit_lab.finetune.fine_tune`: a happy path on a tiny folder of drawings, the saved model
folder, bad input (exit status 2, one line naming the file or folder, nothing written), reproducibility, the budget."""
import json
import numpy as np, pytest, torch
from PIL import Image
from digit_lab.styles import synth_canvases
from digit_lab.finetune import cli, fine_tune, read_drawings
from digit_lab.inference import DigitPredictor
from digit_lab.hub import model_card

STYLES = ["0_oval", "1_bar", "2_curvy", "3_round", "4_open", "5_two_strokes", "6_big_loop", "7_crossed", "8_figure8", "9_big_loop"]

def make_folder(root, per_digit=5, digits=range(10), seed=31_000):
    "`root/{digit}/*.png`: `per_digit` synthetic drawings of each digit, dark ink on white like the drawing pad saves."
    styles = [STYLES[d] for d in digits]
    canvases, labels, _ = synth_canvases(per_digit * len(styles), seed=seed, styles=styles, placements=("large",))
    for i, (c, d) in enumerate(zip(canvases, labels)):
        (root / str(d)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - c).save(root / str(d) / f"drawn_{i:03d}.png")
    return root

@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("ft") / "drawn")

@pytest.fixture(scope="module")
def canvas():
    return synth_canvases(1, seed=32_000, styles=["4_closed"])[0][0]

def run(capsys, *argv):
    "`digit-lab finetune ARGV...` through the module's `cli`: (exit status, stdout, stderr)."
    try: code = cli([str(a) for a in argv])
    except SystemExit as e: code = e.code
    out, err = capsys.readouterr()
    return code, out, err

def test_cli_happy_path(drawn, tmp_path, capsys, canvas):
    out = tmp_path / "my-model"
    code, stdout, err = run(capsys, "--data", drawn, "--out", out, "--steps", 3, "--seed", 1)
    assert code == 0, err
    assert "3 steps" in stdout and "best-finetuned" in stdout and str(out) in stdout
    assert sorted(p.name for p in out.iterdir()) == ["best-finetuned.pt", "model_card.json"]  # no temporary files
    card = model_card(out)
    assert card["default"] == "best-finetuned"
    e = card["models"]["best-finetuned"]
    assert (e["arch"], e["base_model"], e["drawings"], e["digits"], e["steps"], e["seed"]) == ("best", "best", 50, list(range(10)), 3, 1)
    assert e["command"].startswith("digit-lab finetune --data ") and "--steps 3" in e["command"] and e["machine"]
    assert e["seconds"] <= 30 and e.get("temperature") == model_card()["models"]["best"].get("temperature")
    res = DigitPredictor.from_pretrained("best-finetuned", weights_dir=out).predict(canvas)
    assert res["digit"] == 4 and len(res["probabilities"]) == 10
    # a model folder may be replaced by a new run, as a whole
    code, stdout, err = run(capsys, "--data", drawn, "--out", out, "--steps", 2, "--name", "mine")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["mine.pt", "model_card.json"] and model_card(out)["default"] == "mine"

def test_through_digit_lab_main(drawn, tmp_path):
    "The module follows the `digit-lab` command protocol (`add_cli_arguments`, `run_cli`)."
    from digit_lab.cli import COMMANDS, run_main
    commands = {**COMMANDS, "finetune": ("digit_lab.finetune", "adapt a model to your own handwriting")}
    code, out, err = run_main("finetune", "--data", str(drawn), "--out", str(tmp_path / "m"), "--steps", "2", commands=commands)
    assert code == 0 and (tmp_path / "m" / "model_card.json").is_file(), err
    code, out, err = run_main("finetune", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "n"), commands=commands)
    assert code == 2 and err.count("\n") == 1 and "nowhere" in err and not (tmp_path / "n").exists(), err

def _copy(drawn, dst):
    for p in drawn.rglob("*.png"): (dst / p.parent.name).mkdir(parents=True, exist_ok=True); (dst / p.parent.name / p.name).write_bytes(p.read_bytes())
    return dst

BAD = {  # what is wrong: (change a copy of the folder -> the path to pass as --data, text the message must hold)
    "missing folder": (lambda d: d / "nowhere", "nowhere"),
    "a file, not a folder": (lambda d: (d / "0" / "drawn_000.png"), "drawn_000.png"),
    "too few of a digit": (lambda d: [p.unlink() for p in sorted((d / "3").iterdir())[:3]] and d, "has only 2 drawings of the digit 3"),
    "label folder x": (lambda d: (d / "x").mkdir() or d, "'x'"),
    "label folder 12": (lambda d: (d / "12").mkdir() or d, "'12'"),
    "empty label folder": (lambda d: [p.unlink() for p in (d / "7").iterdir()] and d, "7 is empty"),
    "unreadable image": (lambda d: (d / "5" / "broken.png").write_bytes(b"\x89PNG not really") and d, "broken.png"),
    "not an image file": (lambda d: (d / "5" / "notes.txt").write_text("hello") and d, "notes.txt"),
    "blank drawing": (lambda d: Image.fromarray(np.full((280, 280), 255, np.uint8)).save(d / "6" / "blank.png") or d, "blank.png"),
    "no label folders": (lambda d: [p.unlink() for p in d.rglob("*.png")] and [q.rmdir() for q in d.iterdir()] and d, "has no label folders"),
}

@pytest.mark.parametrize("what", list(BAD))
def test_bad_data(drawn, tmp_path, capsys, what):
    make, expect = BAD[what]
    data = make(_copy(drawn, tmp_path / "drawn"))
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "--data", data, "--out", out, "--steps", 2)
    assert code == 2, (what, err)
    assert err.count("\n") == 1 and err.startswith("digit-lab finetune: error: ") and "Traceback" not in err, err
    assert expect in err, (what, err)
    assert not out.exists() and stdout == ""

def test_bad_out_and_arguments(drawn, tmp_path, capsys):
    keep = tmp_path / "photos"; keep.mkdir(); (keep / "holiday.jpg").write_bytes(b"x")
    code, _, err = run(capsys, "--data", drawn, "--out", keep)
    assert code == 2 and "not a model folder" in err and str(keep) in err and err.count("\n") == 1
    assert sorted(p.name for p in keep.iterdir()) == ["holiday.jpg"]  # untouched
    (tmp_path / "file").write_text("x")
    code, _, err = run(capsys, "--data", drawn, "--out", tmp_path / "file")
    assert code == 2 and "is a file" in err
    for args, expect in ((["--steps", "0"], "--steps"), (["--seconds", "-1"], "--seconds"), (["--model", "nope"], "nope"),
                         (["--name", "../evil"], "Invalid model name"), (["--seed", "x"], "--seed")):
        code, _, err = run(capsys, "--data", drawn, "--out", tmp_path / "o", *args)
        assert code == 2 and expect in err and err.count("\n") == 1, (args, err)
        assert not (tmp_path / "o").exists()

def test_fewer_digits_are_fine(tmp_path):
    "Only some digits drawn: at least 5 of each of them is enough."
    d = make_folder(tmp_path / "drawn", per_digit=5, digits=[4, 9])
    x, y, paths = read_drawings(d)
    assert x.shape == (10, 1, 28, 28) and sorted(set(y.tolist())) == [4, 9] and 0 <= x.min() and x.max() <= 1
    res = fine_tune(d, steps=2, seed=0)
    assert res.digits == [4, 9] and res.drawings == 10 and res.steps == 2 and res.path is None

def test_reproducible_and_bounded(drawn):
    "The same seed gives the same weights; a tiny time budget stops after the first step."
    a, b = (fine_tune(drawn, steps=3, seed=5).predictor.model.state_dict() for _ in range(2))
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = fine_tune(drawn, steps=3, seed=6).predictor.model.state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)
    res = fine_tune(drawn, steps=1000, max_seconds=0.01)
    assert res.stopped == "time budget" and res.steps == 1

def test_predictor_method_and_python_errors(drawn):
    pred = DigitPredictor.from_pretrained("tiny")
    res = pred.fine_tune(drawn, steps=2)
    assert res.base == "tiny" and res.name == "tiny-finetuned" and res.predictor.model is not pred.model
    for kw in (dict(steps=0), dict(max_seconds=0), dict(bs=1.5), dict(replay=-1), dict(lr=float("nan"))):
        with pytest.raises(ValueError): fine_tune(drawn, **kw)
