"""Your own model folder works wherever a shipped name does: `predict`, `evaluate`, `export`, `DigitPredictor`,
the drawing pad; and the calibration temperature on a card reaches every one of them."""
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from digit_lab.cli import run_main
from digit_lab.data import mnist_floats
from digit_lab.draw import DrawPad
from digit_lab.evaluate import calibrate, expected_calibration_error, get_logits
from digit_lab.export import export_model
from digit_lab.hub import load_model, load_pretrained, model_card, save_pretrained, shipped_models
from digit_lab.inference import DigitPredictor
from digit_lab.styles import synth_canvases

MNIST_ROOT = str(Path(__file__).resolve().parents[1] / "data")  # MNIST comes from $DIGIT_LAB_MNIST_DIR when set


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    "A weights folder as `digit-lab finetune` writes it: the shipped tiny model, its own card, a temperature of 0.5"
    d = tmp_path_factory.mktemp("models") / "my-model"
    save_pretrained(load_pretrained("tiny"), "mine", arch="tiny", weights_dir=d, default=True, temperature=0.5)
    return d


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    canvases, labels, _ = synth_canvases(1, seed=23_100, styles=["7_crossed"])
    path = tmp_path_factory.mktemp("img") / "seven.png"
    Image.fromarray(canvases[0]).save(path)
    return path


def test_predictor_applies_the_card_temperature(folder):
    pred, raw = DigitPredictor.from_pretrained(folder), DigitPredictor.from_pretrained(folder, calibrated=False)
    assert (pred.name, pred.temperature, raw.temperature) == ("mine", 0.5, 1.0)
    x = mnist_floats(MNIST_ROOT, train=False)[0][:50]
    logits = get_logits(load_pretrained("tiny"), x)
    torch.testing.assert_close(pred.probabilities(x), torch.softmax(logits / 0.5, 1), atol=1e-5, rtol=0)
    torch.testing.assert_close(raw.probabilities(x), torch.softmax(logits, 1), atol=1e-5, rtol=0)


def test_predict_cli_takes_a_folder(folder, image):
    code, out, err = run_main("predict", str(image), "--model", str(folder), "--json")
    assert code == 0, err
    row = json.loads(out)[0]
    ref = DigitPredictor.from_pretrained(folder).predict(image)
    assert row["digit"] == ref["digit"] == 7 and abs(row["confidence"] - ref["confidence"]) < 1e-6


def test_evaluate_cli_takes_a_folder(folder):
    code, out, err = run_main("evaluate", "--model", str(folder), "--json", "--root", MNIST_ROOT)
    assert code == 0, err
    res = json.loads(out)
    assert res["model"] == "mine" and res["temperature"] == 0.5 and res["n"] == 10_000
    assert res["accuracy"] == model_card()["models"]["tiny"]["test_accuracy"]  # the same weights as shipped tiny


def test_export_folds_the_temperature(folder):
    model, info = export_model(str(folder))
    assert info["name"] == "mine" and info["temperature"] == 0.5
    x = mnist_floats(MNIST_ROOT, train=False)[0][:20]
    torch.testing.assert_close(get_logits(model, x), get_logits(load_pretrained("tiny"), x) / 0.5, atol=1e-4, rtol=0)


def test_pad_takes_a_folder(folder):
    pad = DrawPad(str(folder))
    assert pad.predictor.name == "mine" and pad.predictor.temperature == 0.5


@pytest.mark.parametrize("bad, says", [("no/such/folder", "no such folder"), (".", "holds neither model_card.json")])
def test_bad_folders_are_one_line_errors(bad, says, tmp_path, image, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for cmd in (["predict", str(image)], ["evaluate"], ["export", "--format", "onnx", "--out", str(tmp_path / "x")]):
        code, out, err = run_main(*cmd, "--model", bad)
        assert code == 2 and says in err and "Traceback" not in err, (cmd, err)
        assert len(err.strip().splitlines()) <= 3, err  # usage line(s) and the one-line error
    assert not (tmp_path / "x").exists()


def test_calibrate_writes_only_with_write(folder):
    x, y = mnist_floats(MNIST_ROOT)
    data = (x[-1000:], y[-1000:])
    res = calibrate(folder, data=data)
    assert 0.1 < res["temperature"] < 3 and res["ece_after"] <= res["ece_before"] + 0.05
    assert model_card(folder)["models"]["mine"]["temperature"] == 0.5          # untouched
    calibrate(folder, data=data, write=True)
    assert model_card(folder)["models"]["mine"]["temperature"] == res["temperature"]
    save_pretrained(load_pretrained("tiny"), "mine", arch="tiny", weights_dir=folder, default=True, temperature=0.5)  # restore


def test_shipped_cards_are_calibrated():
    "Every shipped model has a temperature, and with it the best model's MNIST test ECE is under 2 points."
    card = model_card()["models"]
    assert all(0.1 < card[n]["temperature"] < 10 for n in shipped_models())
    x, y = mnist_floats(MNIST_ROOT, train=False)
    model, entry = load_model(model_card()["default"])
    assert expected_calibration_error(get_logits(model, x).softmax(1), y) < 0.02


def test_shipped_ensemble():
    "The ensemble loads by name like any model: one module of the runs `bench/ensemble_select.py` chose, with the views"
    " it chose, its card's accuracy re-measured, at least the single `best`'s, calibrated (MNIST test ECE under 2"
    " points), and `predict` on a drawing works."
    from digit_lab.hub import ONE_PIXEL_SHIFTS, Ensemble
    from digit_lab.recipes import RECIPES
    from digit_lab.train import accuracy
    card = model_card()["models"]
    assert "ensemble" in card, "no shipped ensemble: make it with python bench/ensemble_select.py --ship ensemble (04b_recipes)"
    chosen = json.loads((Path(__file__).parent.parent / "bench/results/ensemble_select.json").read_text())["figures"]
    runs = [c.rsplit("-s", 1) for c in chosen["chosen_runs"]]  # folder names RECIPE-sSEED
    pred = DigitPredictor.from_pretrained("ensemble")
    assert [m["from"] for m in card["ensemble"]["members"]] == [f"recipe {r}, seed {s}" for r, s in runs]
    assert [m["arch"] for m in card["ensemble"]["members"]] == [RECIPES[r].arch for r, _ in runs]
    assert isinstance(pred.model, Ensemble) and len(pred.model.members) == len(runs) == chosen["members"]
    assert pred.model.shifts == ONE_PIXEL_SHIFTS[:chosen["views"]]
    x, y = mnist_floats(MNIST_ROOT, train=False)
    acc = accuracy(pred.model, x, y)
    assert abs(acc - card["ensemble"]["test_accuracy"]) < 0.011 and acc >= card["best"]["test_accuracy"]
    assert expected_calibration_error(get_logits(pred.model, x).softmax(1), y) < 0.02
    canvases, labels, _ = synth_canvases(20, seed=23_200)
    assert sum(pred.predict(c)["digit"] == l for c, l in zip(canvases, labels)) >= 18
