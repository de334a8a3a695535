"""Choosing the `best` recipe for a training budget: candidates judged on a validation split, never on the test set.

    python bench/best_budget.py [--candidates JSON] [--seeds 0] [--jobs N] [--threads N] [--quick]

Each candidate is the `best` recipe with some fields changed (the network's widths, the epochs), trained as a fresh
process with 5,000 MNIST training images held out (`valid=5000`); the candidate with the best validation accuracy
wins, and its epochs are those that fit the budget on this CPU. The test accuracy is recorded too, to report, not to
choose. With `--jobs 2 --threads 1` two candidates train at once, one core each: the times are then those of one
core shared with another run, not the budget's (the card's `train_seconds` is measured alone, on both cores).
"""
import argparse, json, sys
from concurrent.futures import ThreadPoolExecutor
import _results as R

CANDIDATES = {  # name: overrides of the `best` recipe; epochs chosen so each trains in about 300 s in bfloat16 on 2 cores
    "48/96/192 channels, 11 epochs": {"epochs": 11, "arch_kwargs": {"widths": [48, 96, 192]}},
    "32/64/128 channels, 17 epochs": {"epochs": 17, "arch_kwargs": {"widths": [32, 64, 128]}},
}


def one(name:str, seed:int, overrides:dict, root) -> dict:
    "One validation run of a candidate in this process."
    from digit_lab.recipes import train_recipe
    _, hist, m = train_recipe("best", seed=seed, device="cpu", root=root, progress=None, valid=5000, **overrides)
    return dict(train_s=round(hist.seconds[-1], 1), valid_accuracy=round(hist.best_valid_acc, 2),
                test_accuracy=m["test_accuracy"], precision=m["precision"], params=m["params"], epochs=m["epochs"])


def main(argv=None):
    p = R.parser(__doc__, "best_budget")
    R.quick_option(p, "--seeds", "0", "0", "seeds, one run each of every candidate", type=R.seed_list)
    p.add_argument("--candidates", type=json.loads, default=CANDIDATES, help="JSON {name: recipe overrides}")
    p.add_argument("--jobs", type=R.positive_int, default=1, help="candidates trained at once (default: 1)")
    p.add_argument("--threads", type=R.positive_int, help="torch threads per run (default: torch's choice)")
    R.data_option(p)
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: JSON [name, seed, overrides], one run
    a = R.parse(p, argv)
    if a.worker:
        name, seed, overrides = json.loads(a.worker)
        if a.quick: overrides = {**overrides, "epochs": 1, "subset": 6000}
        R.emit(one(name, seed, overrides, a.data)); return
    R.use_threads(a.threads)
    jobs = [(name, s, ov) for s in a.seeds for name, ov in a.candidates.items()]
    cmd = lambda j: [sys.executable, __file__, "--worker", json.dumps(j), "--data", a.data] + (["--quick"] if a.quick else [])
    with ThreadPoolExecutor(a.jobs) as pool: results = list(pool.map(lambda j: R.worker(cmd(j)), jobs))
    runs = [dict(candidate=n, seed=s, **r) for (n, s, _), r in zip(jobs, results)]
    for r in runs: print(f"{r['candidate']} seed {r['seed']}: valid {r['valid_accuracy']:.2f}%, {r['train_s']:.0f} s", file=sys.stderr)
    summary = []
    for name in a.candidates:
        rs = [r for r in runs if r["candidate"] == name]
        summary.append(dict(candidate=name, params=rs[0]["params"], epochs=rs[0]["epochs"], seeds=len(rs),
                            valid_accuracy_mean=round(R.mean([r["valid_accuracy"] for r in rs]), 2),
                            train_s_mean=round(R.mean([r["train_s"] for r in rs]), 1),
                            test_accuracy_mean=round(R.mean([r["test_accuracy"] for r in rs]), 2)))
    chosen = max(summary, key=lambda r: r["valid_accuracy_mean"])
    for r in summary: r["chosen"] = "yes" if r is chosen else ""
    cols = [("candidate", "candidate"), ("params", "parameters"), ("epochs", "epochs"), ("seeds", "seeds"),
            ("valid_accuracy_mean", "validation accuracy (%), mean"), ("chosen", "chosen"),
            ("train_s_mean", "train time (s), mean"), ("test_accuracy_mean", "test accuracy (%), reported")]
    figures = {"chosen": chosen["candidate"], "chosen_valid_accuracy": chosen["valid_accuracy_mean"]}
    figures.update({f"valid_accuracy_{i}": r["valid_accuracy_mean"] for i, r in enumerate(summary)})
    R.report(a, runs, summary, cols, figures, settings=dict(candidates=a.candidates, seeds=a.seeds, jobs=a.jobs,
             threads=a.threads), notes="Chosen by validation accuracy (5,000 held-out training images); the test "
             "accuracy is reported only." + (" Runs shared the CPU (--jobs > 1): times are not the budget's." if a.jobs > 1 else ""))


if __name__ == "__main__":
    main()
