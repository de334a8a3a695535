"""Bad `digit-lab` invocations, run as a user runs them (the installed console script, one process each).

Every case must stop before any work: the right exit status (2 for bad arguments, 1 for a failure the user can fix),
exactly one line on stderr that names the problem, nothing on stdout for a usage error, and no traceback. The cases
run in parallel and each process only parses its arguments, so the file takes seconds, not minutes; a case that
starts real work instead fails fast too (MNIST points at an empty folder and nothing can be downloaded to it).
"""
import os, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

_SCRIPT = Path(sys.executable).with_name("digit-lab")
DIGIT_LAB = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "digit_lab.cli"]

# id: (arguments, expected exit status, regexes the one stderr line must all match, case-insensitive).
# `{tmp}` in an argument is the test's scratch folder (holding `blank.png`, an empty image, and `report.md`, a file).
CASES = {
    "unknown-command":   (["frobnicate"], 2, [r"invalid choice: 'frobnicate'", r"train"]),
    "no-command":        ([], 2, [r"required: COMMAND"]),
    "unknown-option":    (["data", "--frobnicate"], 2, [r"unrecognized arguments: --frobnicate"]),
    "train-bs-0":        (["train", "--bs", "0"], 2, [r"--bs", r"'0'", r">= 1"]),
    "train-subset-neg":  (["train", "--subset", "-1"], 2, [r"--subset", r"'-1'"]),
    "train-clip-neg":    (["train", "--clip", "-1"], 2, [r"--clip", r"'-1'"]),
    # 0 must not silently mean "no clipping": it is refused, and the message says how to turn clipping off
    "train-clip-0":      (["train", "--clip", "0"], 2, [r"--clip", r"'0'", r"none"]),
    "train-epochs-0":    (["train", "--epochs", "0"], 2, [r"--epochs", r"'0'", r">= 1"]),
    "train-recipe-nope": (["train", "--recipe", "nope"], 2, [r"--recipe", r"'nope'", r"best"]),
    "train-lr-abc":      (["train", "--lr", "abc"], 2, [r"--lr", r"'abc' is not a number"]),
    "evaluate-model":    (["evaluate", "--model", "nope"], 2, [r"'nope'", r"best"]),
    "evaluate-out-file": (["evaluate", "--out", "{tmp}/report.md"], 2, [r"report\.md", r"is a file|exists|--force"]),
    "predict-missing":   (["predict", "{tmp}/missing.png"], 1, [r"missing\.png", r"no such|not found|does not exist"]),
    "predict-blank":     (["predict", "{tmp}/blank.png"], 1, [r"blank\.png", r"blank(?!\.png)|empty|no ink"]),
    "export-format":     (["export", "--format", "nope", "--out", "{tmp}/web"], 2, [r"--format", r"'nope'", r"onnx"]),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    "Run every case at once (one process each) in a scratch folder; returns {id: CompletedProcess or TimeoutExpired}."
    tmp = tmp_path_factory.mktemp("cli")
    Image.fromarray(np.zeros((280, 280), np.uint8)).save(tmp / "blank.png")
    (tmp / "report.md").write_text("an earlier report that must not be overwritten\n")
    (tmp / "no-mnist").mkdir()
    env = dict(os.environ, DIGIT_LAB_DATA=str(tmp / "data"), DIGIT_LAB_MNIST_DIR=str(tmp / "no-mnist"),
               OMP_NUM_THREADS="1")

    def run(args):
        cmd = DIGIT_LAB + [a.format(tmp=tmp) for a in args]
        try: return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=env, timeout=120)
        except subprocess.TimeoutExpired as e: return e

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        done = dict(zip(CASES, pool.map(run, [args for args, *_ in CASES.values()])))
    assert (tmp / "report.md").read_text().startswith("an earlier report")  # nothing was overwritten
    return done


@pytest.mark.parametrize("case", list(CASES))
def test_bad_invocation(results, case):
    args, status, phrases = CASES[case]
    r = results[case]
    assert not isinstance(r, subprocess.TimeoutExpired), f"`digit-lab {' '.join(args)}` started real work (timed out)"
    err = r.stderr.strip()
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    prog = f"digit-lab {args[0]}" if args and args[0] in ("data", "train", "evaluate", "predict", "export") else "digit-lab"
    assert lines[0].startswith(f"{prog}: "), lines[0]
    for phrase in phrases: assert re.search(phrase, lines[0], re.I), f"{lines[0]!r} does not match {phrase!r}"
    assert r.returncode == status, f"exit status {r.returncode}, expected {status}: {lines[0]}"
    if status == 2: assert r.stdout == "", r.stdout  # a usage error does nothing and prints no results


@pytest.mark.parametrize("args, start", [(["--version"], "digit-lab "), (["--help"], "usage: digit-lab"),
                                         (["train", "--help"], "usage: digit-lab train")])
def test_help_and_version(args, start):
    r = subprocess.run(DIGIT_LAB + args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith(start) and "Traceback" not in r.stderr, (r.stdout, r.stderr)
