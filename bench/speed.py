"""Time to 99%: our `speed` recipe against the one-epoch recipe of tuomaso/train_mnist_fast, in the same run.

    python bench/speed.py [--seeds 0,1,2] [--precision auto|fp32|bf16|both] [--threads N] [--quick]

The comparison is our re-implementation of https://github.com/tuomaso/train_mnist_fast (`8_Final`:
bench/baselines/train_mnist_fast.py, float32 as published). Ours is `digit_lab.recipes.train_recipe("speed")`, what
`digit-lab train --recipe speed` runs, on the CPU in each precision asked for (`auto`: bfloat16 and float32 on CPUs
with bfloat16 hardware: AMX or AVX-512 BF16; float32 elsewhere). Every run is a fresh process; runs are interleaved seed by seed (theirs, ours in each
precision, next seed...), so a busy machine slows all alike. Times are the training loop only for both (data loading
and the test evaluation excluded), each process's first steps included. Accuracy: the 10,000 MNIST test images.

On a machine shared with other jobs, run with OMP_WAIT_POLICY=PASSIVE (subprocesses inherit it): spinning OpenMP
threads slow down many-fold when another process holds one of the cores.
"""
import argparse, sys
import _results as R

BASELINE = R.BENCH / "baselines" / "train_mnist_fast.py"
THEIRS = "tuomaso/train_mnist_fast one-epoch"


def ours(recipe:str, seed:int, precision:str, root) -> dict:
    "One training run of our recipe in this process."
    from digit_lab.recipes import train_recipe
    _, hist, m = train_recipe(recipe, seed=seed, device="cpu", root=root, progress=None,
                              amp="bf16" if precision == "bf16" else "off")
    return dict(train_s=round(hist.seconds[-1], 3), test_accuracy=m["test_accuracy"], precision=m["precision"])


def main(argv=None):
    p = R.parser(__doc__, "speed")
    R.quick_option(p, "--seeds", "0,1,2", "0", "seeds, one run each of theirs and ours", type=R.seed_list)
    p.add_argument("--recipe", default="speed", help="our recipe (default: speed)")
    p.add_argument("--threads", type=R.positive_int, help="torch threads for both (default: torch's choice)")
    R.precision_option(p); R.data_option(p)
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "SEED:PRECISION", one run of ours
    a = R.parse(p, argv)
    if a.worker:
        seed, precision = a.worker.split(":")
        R.emit(ours(a.recipe, int(seed), precision, a.data)); return
    from digit_lab.recipes import RECIPES
    if a.recipe not in RECIPES: p.error(f"unknown recipe {a.recipe!r}; choose from {', '.join(RECIPES)}")
    R.use_threads(a.threads); precs = R.precisions(a.precision)
    runs = []
    for s in a.seeds:
        r = R.worker([sys.executable, BASELINE, "--seeds", s, "--no-results", "--data", a.data])
        runs.append(dict(seed=s, recipe=THEIRS, precision="fp32", train_s=r["train_s"], test_accuracy=r["test_accuracy"]))
        for pr in precs:
            r = R.worker([sys.executable, __file__, "--worker", f"{s}:{pr}", "--recipe", a.recipe, "--data", a.data])
            runs.append(dict(seed=s, recipe=a.recipe, **r))
        print(f"seed {s}: " + "; ".join(f"{r['recipe']} {r['precision']} {r['train_s']:.2f} s {r['test_accuracy']:.2f}%"
                                        for r in runs if r["seed"] == s), file=sys.stderr, flush=True)
    summary, figures, t_theirs = [], {}, None
    for name, pr, key in [(THEIRS, "fp32", "theirs")] + [(a.recipe, pr, f"ours_{pr}") for pr in precs]:
        rs = [r for r in runs if r["recipe"] == name and r["precision"] == pr]
        t, accs = R.mean([r["train_s"] for r in rs]), [r["test_accuracy"] for r in rs]
        t_theirs = t_theirs or t
        row = dict(recipe=f"`{name}`" if name == a.recipe else name, precision=pr, seeds=len(rs), train_s_mean=round(t, 2),
                   test_accuracy_mean=round(R.mean(accs), 2), test_accuracy_min=min(accs), test_accuracy_max=max(accs))
        summary.append(dict(row, time_vs_theirs=round(t / t_theirs, 2)))
        row = summary[-1]
        figures.update({f"{key}_train_s": row["train_s_mean"], f"{key}_accuracy": row["test_accuracy_mean"],
                        f"{key}_time_ratio": row["time_vs_theirs"]})
    cols = [("recipe", "recipe"), ("precision", "precision"), ("seeds", "seeds"), ("train_s_mean", "train time (s), mean"),
            ("test_accuracy_mean", "test accuracy (%), mean"), ("test_accuracy_min", "min"), ("test_accuracy_max", "max"),
            ("time_vs_theirs", "time vs one-epoch recipe")]
    R.report(a, runs, summary, cols, figures)


if __name__ == "__main__":
    main()
