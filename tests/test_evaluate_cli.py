"""`digit-lab evaluate` on the shipped weights: the model card's numbers, folder datasets, and clear errors."""
import json, subprocess, sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from digit_lab.cli import main
from digit_lab.data import mnist
from digit_lab.evaluate import Evaluation, cli
from digit_lab.hub import load_pretrained, model_card, shipped_models
from digit_lab.inference import DigitPredictor
from digit_lab.models import count_params

MNIST_ROOT = str(Path(__file__).resolve().parents[1] / "data")  # MNIST comes from $DIGIT_LAB_MNIST_DIR when set


def run_json(capsys, *argv, **kw) -> dict:
    "Run `cli(argv + --json)`, check it succeeded, return the parsed JSON."
    assert cli([*argv, "--json", "--root", MNIST_ROOT], **kw) == 0
    return json.loads(capsys.readouterr().out)


def test_shipped_weights_exist():
    assert shipped_models(), "no shipped weights in digit_lab/weights: run `digit-lab train --recipe best`"
    assert model_card()["default"] in shipped_models()


@pytest.mark.parametrize("name", shipped_models())
def test_json_reproduces_model_card(capsys, name):
    entry = model_card()["models"][name]
    res = run_json(capsys, "--model", name)
    assert res["model"] == name and res["dataset"] == "MNIST test" and res["n"] == 10_000
    assert res["test_accuracy"] == entry["test_accuracy"]  # exactly: same images, same [0,1] floats
    assert res["params"] == entry["params"] == count_params(load_pretrained(name))
    assert res["errors"] == round(10_000 * (1 - res["test_accuracy"] / 100))
    assert 0 <= res["ece"] < 20 and res["macro_f1"] > 95  # label smoothing leaves some models under-confident
    assert sum(c for *_, c in res["most_confused"]) <= res["errors"]


def test_default_model_is_the_cards(capsys):
    res = run_json(capsys)
    assert res["model"] == model_card()["default"]


def save_mnist_folder(root: Path, per_digit: int = 10) -> tuple:
    "Write the first `per_digit` MNIST test images of each digit to root/{digit}/{index}.png; returns (x, y) written."
    x, y = mnist(MNIST_ROOT, train=False)
    idx = torch.cat([torch.nonzero(y == d).flatten()[:per_digit] for d in range(10)])
    for i in idx.tolist():
        (root / str(int(y[i]))).mkdir(parents=True, exist_ok=True)
        Image.fromarray(x[i].numpy()).save(root / str(int(y[i])) / f"{i:05d}.png")
    return x[idx], y[idx]


def test_folder_dataset(tmp_path, capsys):
    x, y = save_mnist_folder(tmp_path / "digits")
    res = run_json(capsys, "--data", str(tmp_path / "digits"), "--out", str(tmp_path / "report"))
    expected = Evaluation.from_model(load_pretrained(), x, y)  # the same images, straight from MNIST
    assert res["n"] == 100 and res["dataset"] == str(tmp_path / "digits")
    assert res["accuracy"] == round(expected.accuracy, 2) and res["errors"] == expected.errors
    assert "test_accuracy" not in res  # that name is kept for the MNIST test set
    files = {p.name for p in (tmp_path / "report").iterdir()}
    assert files == {"report.md", "report.json", "confusion_matrix.png", "top_losses.png", "reliability.png"}
    assert json.loads((tmp_path / "report" / "report.json").read_text())["accuracy"] == res["accuracy"]
    md = (tmp_path / "report" / "report.md").read_text()
    assert "## Per digit" in md and "![confusion matrix](confusion_matrix.png)" in md
    assert Image.open(tmp_path / "report" / "confusion_matrix.png").size[0] < 800  # modest figures


def test_folder_through_digit_lab_cli(tmp_path, capsys):
    "`digit-lab evaluate --data` prepares each file with `inference.to_mnist`, exactly as `digit-lab predict` reads it."
    save_mnist_folder(tmp_path / "digits")
    assert main(["evaluate", "--data", str(tmp_path / "digits"), "--json", "--root", MNIST_ROOT]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 100 and res["accuracy"] >= 95  # re-framed by to_mnist, MNIST digits stay readable
    pred = DigitPredictor.from_pretrained(threads=None)
    files = sorted((tmp_path / "digits").rglob("*.png"))
    wrong = sum(pred.predict(f)["digit"] != int(f.parent.name) for f in files)
    assert res["errors"] == wrong  # the folder is scored exactly as predict reads each file


def test_markdown_report_on_stdout(tmp_path, capsys):
    save_mnist_folder(tmp_path / "digits", per_digit=3)
    assert cli(["--data", str(tmp_path / "digits"), "--root", MNIST_ROOT]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# digit-lab evaluate:") and "| digit | images | errors |" in out


def run(*args):
    "The console script in a fresh process: (exit status, stdout, stderr)."
    cmd = [sys.executable, "-c", "import sys; from digit_lab.cli import main; sys.exit(main())", "evaluate", *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def refused(code, out, err, *words):
    "Exit status 2 before any work: one line on stderr, no traceback, nothing on stdout."
    assert code == 2, (code, err)
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err and len(err) < 400, err
    assert all(w in err for w in words), err


def test_unknown_model():
    refused(*run("--model", "no-such-model"), "unknown model 'no-such-model'", *shipped_models())


def test_missing_folder(tmp_path):
    refused(*run("--data", tmp_path / "nowhere"), "is not a folder")


def test_bad_weights_dir(tmp_path):
    refused(*run("--weights-dir", tmp_path / "nowhere"), "is not a folder")


def test_out_is_a_file(tmp_path):
    "--out naming an existing file: refused unless --force, which replaces the file with the report folder."
    save_mnist_folder(tmp_path / "digits", per_digit=2)
    (tmp_path / "notes.txt").write_text("keep me")
    refused(*run("--data", tmp_path / "digits", "--out", tmp_path / "notes.txt"), "is a file", "--force")
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    code, out, err = run("--data", tmp_path / "digits", "--out", tmp_path / "notes.txt", "--force", "--json")
    assert code == 0, err
    assert (tmp_path / "notes.txt" / "report.json").is_file()


def test_out_folder_rules(tmp_path, capsys):
    "A previous report is replaced whole; a folder of other files is refused unless --force, which keeps them."
    save_mnist_folder(tmp_path / "digits", per_digit=2)
    out = tmp_path / "report"
    assert cli(["--data", str(tmp_path / "digits"), "--out", str(out), "--robustness", "--json"]) == 0
    assert (out / "robustness.png").is_file()
    assert cli(["--data", str(tmp_path / "digits"), "--out", str(out), "--json"]) == 0  # re-run: replaced, stale figure gone
    assert {p.name for p in out.iterdir()} == {"report.md", "report.json", "confusion_matrix.png", "top_losses.png", "reliability.png"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left behind
    (out / "mine.txt").write_text("my notes")
    with pytest.raises(SystemExit) as e: cli(["--data", str(tmp_path / "digits"), "--out", str(out)])
    assert e.value.code == 2 and "holds files that are not a report (mine.txt" in capsys.readouterr().err
    assert cli(["--data", str(tmp_path / "digits"), "--out", str(out), "--force", "--json"]) == 0
    assert (out / "mine.txt").read_text() == "my notes" and (out / "report.md").is_file()


def test_bad_images_are_named(tmp_path):
    "A blank and an unreadable image in --data: one line naming the first, how many there are, and what to do."
    save_mnist_folder(tmp_path / "digits", per_digit=2)
    Image.fromarray(torch.zeros(280, 280, dtype=torch.uint8).numpy()).save(tmp_path / "digits" / "3" / "blank.png")
    (tmp_path / "digits" / "5" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but not really")
    code, out, err = run("--data", tmp_path / "digits", "--json")
    assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert "2 of 22 images" in err and "blank.png" in err and "looks blank" in err and "Remove or replace" in err, err
    (tmp_path / "digits" / "5" / "broken.png").unlink()
    code, out, err = run("--data", tmp_path / "digits", "--json")
    assert code == 1 and "blank.png" in err and "Remove or replace that file" in err, err


def test_bad_argument_values():
    refused(*run("--no-such-option"), "unrecognized arguments")
