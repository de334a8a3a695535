"""The bound `bench/ensemble_select.py` reports next to its choice: the fewest errors of any equal-weight subset of a pool."""
import sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from ensemble_select import fewest_errors  # noqa: E402

Y = torch.tensor([0, 1, 2, 1])
RUNS = {  # probabilities of three classes for four images, one row per image
    "a": torch.tensor([[.9, .05, .05], [.05, .9, .05], [.6, 0., .4], [0., 1., 0.]]),   # wrong on image 2
    "b": torch.tensor([[.4, .6, 0.], [.05, .9, .05], [0., 0., 1.], [0., 1., 0.]]),     # wrong on image 0
    "c": torch.tensor([[0., 1., 0.], [1., 0., 0.], [1., 0., 0.], [0., 1., 0.]]),       # wrong on images 0-2
}


def test_fewest_errors_tries_every_subset():
    "Alone, each run errs at least once; averaged, a and b cover each other's mistake, and adding c spoils image 0."
    errors, subset = fewest_errors(RUNS, Y)
    assert (errors, subset) == (0, ["a", "b"])
    assert fewest_errors({"a": RUNS["a"], "c": RUNS["c"]}, Y) == (1, ["a"])


def test_fewest_errors_counts_images_every_run_reads():
    "Images that every run reads right are skipped for speed, and still counted right: the errors match a direct count."
    errors, subset = fewest_errors({"a": RUNS["a"]}, Y)
    assert errors == int((RUNS["a"].argmax(1) != Y).sum()) == 1 and subset == ["a"]


def test_fewest_errors_gives_up_on_large_pools():
    "2^n subsets: beyond `most_runs` runs it returns (None, None) instead of running for hours."
    assert fewest_errors(RUNS, Y, most_runs=2) == (None, None)
