"""`digit-lab evaluate` on the shipped weights: the model card's numbers, folder datasets, and clear errors."""
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from digit_lab.cli import main
from digit_lab.data import mnist
from digit_lab.evaluate import Evaluation, cli
from digit_lab.models import count_params, load_pretrained, model_card, shipped_models

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
    "`digit-lab evaluate --data` prepares each file with `inference.to_mnist`, as `digit-lab predict` does."
    save_mnist_folder(tmp_path / "digits")
    assert main(["evaluate", "--data", str(tmp_path / "digits"), "--json", "--root", MNIST_ROOT]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 100 and res["accuracy"] >= 95  # re-framed by to_mnist, MNIST digits stay readable


def test_markdown_report_on_stdout(tmp_path, capsys):
    save_mnist_folder(tmp_path / "digits", per_digit=3)
    assert cli(["--data", str(tmp_path / "digits"), "--root", MNIST_ROOT]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# digit-lab evaluate:") and "| digit | images | errors |" in out


def test_unknown_model(capsys):
    with pytest.raises(ValueError) as e: cli(["--model", "no-such-model", "--root", MNIST_ROOT])
    assert "no-such-model" in str(e.value) and all(n in str(e.value) for n in shipped_models())
    assert main(["evaluate", "--model", "no-such-model"]) == 1
    err = capsys.readouterr().err
    assert "Unknown model 'no-such-model'" in err and "Traceback" not in err and shipped_models()[0] in err


def test_missing_folder(tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "nowhere")]) == 1
    assert "is not a folder" in capsys.readouterr().err
