"""The accuracy-time frontier on this CPU: every recipe, seeds 0-2, each run a fresh process, against the comparison recipe.

    python bench/frontier.py [--recipes speed,quick,...] [--seeds 0,1,2] [--comparison-epochs 1,2,3] [--threads N] [--quick]

Ours: `digit_lab.recipes.train_recipe(NAME, seed=S)` on the CPU (what `digit-lab train --recipe NAME` runs), float32
unless the CPU has bfloat16 hardware (AMX or AVX-512 BF16). The comparison: our re-implementation of https://github.com/tuomaso/train_mnist_fast
(bench/baselines/train_mnist_fast.py), for one epoch as published and for longer runs of the same recipe. Runs are
interleaved seed by seed, so a busy machine slows all alike. Times: the training loop only (data loading and the
test evaluation excluded). Accuracy: the 10,000 MNIST test images, reported, never used to choose anything.
Writes bench/results/frontier.json and the picture nbs/images/frontier.png (accuracy against seconds, log scale), which
04_train and the README show (with --results FILE, the picture goes next to FILE).

All recipes take hours on a laptop CPU (`best` and `tiny` train for minutes each, per seed); `--recipes` measures a
part, and the results file says which.
"""
import argparse, math, sys
from pathlib import Path
import _results as R

BASELINE = R.BENCH / "baselines" / "train_mnist_fast.py"
THEIRS = "tuomaso/train_mnist_fast"


AMP = {"recipe": {}, "fp32": {"amp": "off"}, "bf16": {"amp": "bf16"}}  # --precision -> train_recipe's amp override


def ours(recipe:str, seed:int, precision:str, root, out=None) -> dict:
    "One training run of our recipe in this process (with `out`, its run folder is kept there, as `digit-lab train` writes it)."
    from digit_lab.recipes import train_recipe
    flag = "".join(f" --amp {v}" for v in AMP[precision].values())  # as `digit-lab train` would be typed
    _, hist, m = train_recipe(recipe, seed=seed, device="cpu", root=root, progress=None, out=out,
                              command=f"digit-lab train --recipe {recipe} --seed {seed}{flag}", **AMP[precision])
    return dict(train_s=round(hist.seconds[-1], 3), test_accuracy=m["test_accuracy"], precision=m["precision"])


def epoch_list(s:str) -> list[int]:
    "`1,2,3` -> [1, 2, 3] (whole numbers >= 1)"
    return [R.positive_int(v) for v in s.split(",") if v.strip()]


def plot(summary:list, path, title:str):
    "Accuracy against training seconds (log scale): our recipes as labelled points, the comparison recipe as a line."
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    theirs = [r for r in summary if r["kind"] == "comparison"]
    mine = [r for r in summary if r["kind"] == "recipe"]
    err = lambda rs: [[r["test_accuracy_mean"] - r["test_accuracy_min"] for r in rs], [r["test_accuracy_max"] - r["test_accuracy_mean"] for r in rs]]
    if theirs:
        ax.errorbar([r["train_s_mean"] for r in theirs], [r["test_accuracy_mean"] for r in theirs], yerr=err(theirs),
                    fmt="s--", color="grey", capsize=3, label=f"{THEIRS} (1 epoch as published, then longer)")
        for r in theirs: ax.annotate(f"{r['epochs']} ep", (r["train_s_mean"], r["test_accuracy_mean"]), textcoords="offset points",
                                     xytext=(4, -11), fontsize=8, color="grey")
    ax.errorbar([r["train_s_mean"] for r in mine], [r["test_accuracy_mean"] for r in mine], yerr=err(mine), fmt="o",
                color="C1", capsize=3, label="digit-lab recipes")
    for r in mine: ax.annotate(r["name"] + (" (bf16)" if r["precision"] == "bf16" else ""), (r["train_s_mean"], r["test_accuracy_mean"]), textcoords="offset points",
                               xytext=(5, 4), fontsize=9)
    from matplotlib.ticker import FuncFormatter
    ax.set_xscale("log"); ax.grid(alpha=0.3, which="both"); ax.margins(0.1, 0.12)
    lead = lambda v: round(v / 10 ** math.floor(math.log10(v)), 6)  # 200 -> 2.0: label only 1, 2 and 5 x a power of ten
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if v > 0 and lead(v) in (2.0, 5.0) else ""))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel("training time on this CPU (s, log scale; mean of seeds)"); ax.set_ylabel("MNIST test accuracy (%)")
    ax.set_title(title, fontsize=10); ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout(); R.atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png")); plt.close(fig)


def main(argv=None):
    from digit_lab.recipes import RECIPES
    p = R.parser(__doc__, "frontier")
    R.quick_option(p, "--seeds", "0,1,2", "0", "seeds, one run each of every recipe", type=R.seed_list)
    R.quick_option(p, "--recipes", ",".join(RECIPES), "speed,quick", "our recipes, comma-separated")
    R.quick_option(p, "--comparison-epochs", "1,2,3", "1", "epochs of the comparison recipe, one run each", type=epoch_list)
    p.add_argument("--threads", type=R.positive_int, help="torch threads for all (default: torch's choice)")
    p.add_argument("--precision", choices=("recipe", "fp32", "bf16", "both"), default="recipe",
                   help="our runs' precision: recipe = what the recipe picks on this CPU (bfloat16 where the CPU has "
                        "bfloat16 hardware, else float32); both = a float32 and a bfloat16 run of each (default: recipe)")
    R.data_option(p)
    p.add_argument("--replot", action="store_true", help="only draw the picture again from the results file")
    p.add_argument("--keep-runs", type=Path, metavar="DIR", help="keep each run of ours as DIR/RECIPE-sSEED (model.pt, metrics.json), "
                   "e.g. to ship or to combine into an ensemble")
    p.add_argument("--merge", action="store_true", help="keep the rows of recipes not measured now from the results file "
                   "(marked with the date of their run; their time ratios are from that run)")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "RECIPE:SEED:PRECISION", one run of ours
    a = R.parse(p, argv)
    if a.replot:
        import json
        res = json.loads(a._path.read_text())
        plot(res["summary"], R.ROOT / res["settings"]["picture"], f"MNIST test accuracy against CPU training time ({res['machine']['name']})")
        return
    if a.worker:
        recipe, seed, precision = a.worker.split(":")
        out = a.keep_runs / (f"{recipe}-s{seed}" + ("" if precision == "recipe" else f"-{precision}")) if a.keep_runs else None
        R.emit(ours(recipe, int(seed), precision, a.data, out)); return
    recipes = [r.strip() for r in a.recipes.split(",") if r.strip()]
    if bad := [r for r in recipes if r not in RECIPES]: p.error(f"unknown recipe(s) {', '.join(bad)}; choose from {', '.join(RECIPES)}")
    R.use_threads(a.threads)
    runs = []
    for s in a.seeds:
        for e in a.comparison_epochs:
            r = R.worker([sys.executable, BASELINE, "--seeds", s, "--epochs", e, "--no-results", "--data", a.data])
            runs.append(dict(seed=s, kind="comparison", name=f"{THEIRS} {e} epoch{'s' if e > 1 else ''}", epochs=e,
                             precision="fp32", train_s=r["train_s"], test_accuracy=r["test_accuracy"]))
        for name in recipes:
            for pr in (["fp32", "bf16"] if a.precision == "both" else [a.precision]):
                r = R.worker([sys.executable, __file__, "--worker", f"{name}:{s}:{pr}", "--data", a.data]
                             + (["--keep-runs", a.keep_runs] if a.keep_runs else []))
                runs.append(dict(seed=s, kind="recipe", name=name, epochs=RECIPES[name].epochs, **r))
        print(f"seed {s}: " + "; ".join(f"{r['name']} {r['train_s']:.1f} s {r['test_accuracy']:.2f}%"
                                        for r in runs if r["seed"] == s), file=sys.stderr, flush=True)
    summary = []
    for kind, name, precision in dict.fromkeys((r["kind"], r["name"], r["precision"]) for r in runs):
        rs = [r for r in runs if r["name"] == name and r["precision"] == precision]
        accs = [r["test_accuracy"] for r in rs]
        summary.append(dict(kind=kind, name=name, label=f"`{name}`" if kind == "recipe" else name, epochs=rs[0]["epochs"],
                            precision=rs[0]["precision"], seeds=len(rs), train_s_mean=round(R.mean([r["train_s"] for r in rs]), 2),
                            test_accuracy_mean=round(R.mean(accs), 2), test_accuracy_min=min(accs), test_accuracy_max=max(accs)))
    one = next((r["train_s_mean"] for r in summary if r["kind"] == "comparison" and r["epochs"] == 1), None)
    for r in summary: r["time_vs_one_epoch"] = round(r["train_s_mean"] / one, 2) if one else None
    merged_rows = []
    if a.merge and a._path.exists():  # earlier rows of recipes not measured now, with their own run's ratios
        import json
        old = json.loads(a._path.read_text())
        now = {(r["name"], r["precision"]) for r in summary}
        kept = [dict(r, measured=r.get("measured", old["date"][:16].replace("T", " "))) for r in old["summary"]
                if r["kind"] == "recipe" and (r["name"], r["precision"]) not in now]
        summary += kept
        runs += [r for r in old["runs"] if r["kind"] == "recipe" and (r["name"], r["precision"]) not in now]
        recipes = list(dict.fromkeys(recipes + [r["name"] for r in kept]))
        merged_rows = [f"{r['name']} ({r['precision']})" for r in kept]  # each with its own run's date in `measured`
    for r in summary: r.setdefault("measured", a._started.strftime("%Y-%m-%d %H:%M"))  # UTC: the run a row comes from
    summary.sort(key=lambda r: r["train_s_mean"])
    picture = R.ROOT / "nbs" / "images" / "frontier.png" if a.results is None else a._path.with_suffix(".png")  # lessons show it
    if not a.no_results:
        plot(summary, picture, f"MNIST test accuracy against CPU training time ({R.machine()['name']})")
    cols = [("label", "recipe"), ("epochs", "epochs"), ("precision", "precision"), ("seeds", "seeds"),
            ("train_s_mean", "train time (s), mean"), ("time_vs_one_epoch", "time vs one-epoch recipe"),
            ("test_accuracy_mean", "test accuracy (%), mean"), ("test_accuracy_min", "min"), ("test_accuracy_max", "max"),
            ("measured", "measured (UTC)")]
    key = lambda r: r["name"] if r["kind"] == "comparison" else f"{r['name']}_{r['precision']}"
    figures = {f"{key(r)}_accuracy": r["test_accuracy_mean"] for r in summary}
    figures.update({f"{key(r)}_train_s": r["train_s_mean"] for r in summary})
    R.report(a, runs, summary, cols, figures, settings=dict(recipes=recipes, all_recipes=set(recipes) == set(RECIPES),
             seeds=a.seeds, comparison_epochs=a.comparison_epochs, threads=a.threads, precision=a.precision, picture=R._shown(picture),
             merged_rows=merged_rows))


if __name__ == "__main__":
    main()
