"""Choose an ensemble on held-out training images only: greedy selection from a pool of runs, then one test.

    python bench/ensemble_select.py [--runs DIR] [--recipes best,strided] [--seeds 0,1,2,3,4] [--epochs 18] [--quick]

The pool: the `best` and `strided` recipes (`04b_recipes`), one run per seed, each trained for `--epochs` epochs with
the same 5,000 MNIST training images held out (`digit_lab.train.split_valid`, seed 42). A run already in
DIR/RECIPE-sSEED is reused; a missing one is trained there first (about 6 minutes each on a 2-core CPU with bfloat16
hardware). Each run is calibrated on held-out data (`digit_lab.evaluate.calibration_set`, whose MNIST part is those
5,000 images), as the shipped models are.

Everything is chosen on the 5,000 held-out images, by their negative log-likelihood (smoother than a count of a
dozen errors):
- the members, by greedy forward selection (Caruana et al., 2004): start from the best run, add the run that lowers
  the ensemble's loss most, stop when none does or at `--max-members`;
- whether each image is also read shifted by one pixel up, down, left and right (test-time augmentation: five views
  averaged), by doing the selection both ways and keeping the lower loss.
A run joins only while the members' times for one image, measured one by one, add up to at most `--budget-ms`.
Probabilities are averaged with equal weights. Only then is the chosen ensemble measured on the MNIST test set; the
test accuracy of each greedy step is printed too, and chose nothing. Also reported, never used to choose: the chosen
ensemble's accuracy on drawn styles (`digit_lab.recipes.styles_accuracy`); how many test images all runs of the pool,
or most of them, misread one by one; and the fewest test errors of any equal-weight subset of the pool, found by trying
every subset on the test set itself: not a fair result, but a bound on what any choice of members from this pool
could reach.
"""
import json, sys, tempfile
from pathlib import Path
import _results as R
from digit_lab.hub import ONE_PIXEL_SHIFTS

SHIFTS = {"none": ((0, 0),), "shifts": ONE_PIXEL_SHIFTS}  # the views of each image averaged: (down, right) pixels


def forward_ms(model, views:int=1) -> float:
    "Milliseconds of one image (as `views` images) through `model`: float32, inference mode, one thread like `DigitPredictor`."
    import torch
    from digit_lab.timing import latency_ms
    with torch.inference_mode(): return latency_ms(model, torch.rand(views, 1, 28, 28), num_threads=1)


def view_logprobs(model, x, shifts) -> "torch.Tensor":
    "Calibrated log-probabilities of `model` on each shifted view of `x`: [views, N, 10]."
    import torch
    from digit_lab.evaluate import get_logits
    from digit_lab.hub import shift_image
    return torch.stack([get_logits(model, shift_image(x, dy, dx)).float().log_softmax(1) for dy, dx in shifts])


def ensemble_logprob(lp:list) -> "torch.Tensor":
    "Log of the mean probability over members and views (each [views, N, 10])."
    import math, torch
    allv = torch.cat(lp)
    return torch.logsumexp(allv, 0) - math.log(len(allv))


def nll(logp, y) -> float: return float(-logp[range(len(y)), y].mean())


def greedy(lp:dict, y, max_members:int, cost:dict, budget:float) -> list:
    "Greedy forward selection without repeats, within `budget` ms of summed member `cost`: [(members so far, loss)]."
    path, chosen = [], []
    while len(chosen) < max_members:
        options = [r for r in lp if r not in chosen and sum(cost[c] for c in chosen) + cost[r] <= budget]
        if not options: break
        loss, run = min((nll(ensemble_logprob([lp[r] for r in chosen + [r]]), y), r) for r in options)
        if path and loss >= path[-1][1]: break
        chosen.append(run); path.append((list(chosen), loss))
    return path


def fewest_errors(probs:dict, y, most_runs:int=20) -> tuple:
    """The fewest errors of any equal-weight subset of the runs, and that subset (None beyond `most_runs` runs).
    Chosen on `y` itself, so a bound on what choosing members from this pool can reach, not a result."""
    import itertools, torch
    names = list(probs)
    if len(names) > most_runs: return None, None
    p = torch.stack([probs[n] for n in names])  # [runs, N, 10]
    some_wrong = (p.argmax(2) != y).any(0)  # where every run is right, so is any average of them: skip those images
    p, y = p[:, some_wrong], y[some_wrong]
    return min((int((p[list(s)].sum(0).argmax(1) != y).sum()), [names[i] for i in s])
               for k in range(1, len(names) + 1) for s in itertools.combinations(range(len(names)), k))


def main(argv=None):
    p = R.parser(__doc__, "ensemble_select")
    R.quick_option(p, "--seeds", "0,1,2,3,4", "0,1", "seeds, one run of each recipe per seed", type=R.seed_list)
    R.quick_option(p, "--epochs", 18, 1, "epochs of each run", type=R.positive_int)
    p.add_argument("--recipes", default="best,strided", help="recipes in the pool (default: best,strided)")
    p.add_argument("--max-members", type=R.positive_int, default=10, help="most members (default: 10)")
    p.add_argument("--budget-ms", type=R.positive_float, default=8.0,
                   help="most milliseconds of one image through the ensemble (default: 8, under the 10 ms a canvas may take)")
    p.add_argument("--runs", type=Path, help="folder of the runs, DIR/RECIPE-sSEED; missing ones are trained there "
                   "(default: a temporary folder, so every run is trained)")
    p.add_argument("--ship", metavar="NAME", help="ship the chosen ensemble under this name (`digit_lab.recipes.ship_ensemble`)")
    R.data_option(p)
    a = R.parse(p, argv)
    from digit_lab.recipes import RECIPES
    recipes = a.recipes.split(",")
    if any(r not in RECIPES for r in recipes): p.error(f"--recipes {a.recipes}: choose from {', '.join(RECIPES)}")
    if a.ship and a.quick: p.error("--ship with --quick would ship a smoke-run ensemble; leave out one of them")
    import torch
    from digit_lab.data import mnist_floats
    from digit_lab.evaluate import calibrate, calibration_set, get_logits
    from digit_lab.hub import Ensemble, load_model
    from digit_lab.recipes import styles_accuracy, train_recipe
    from digit_lab.train import split_valid
    runs_dir = a.runs or Path(tempfile.mkdtemp(prefix="ensemble-select-"))
    folders = [runs_dir / f"{r}-s{s}" for r in recipes for s in a.seeds]
    calib = None
    for d in folders:
        recipe, seed = d.name.rsplit("-s", 1)
        if not (d / "metrics.json").is_file():
            print(f"training {recipe}, seed {seed}, {a.epochs} epochs -> {d}", file=sys.stderr, flush=True)
            train_recipe(recipe, seed=int(seed), epochs=a.epochs, valid=5000, out=d, root=a.data, progress=None,
                         **(dict(subset=3000) if a.quick else {}),
                         command=f"train_recipe({recipe!r}, seed={seed}, epochs={a.epochs}, valid=5000)")
        m = json.loads((d / "metrics.json").read_text())
        if m["recipe_config"]["valid"] != 5000 or m["epochs"] != a.epochs:
            sys.exit(f"{d} was not trained with 5,000 images held out for {a.epochs} epochs: move it or choose another --runs")
        if "temperature" not in m:
            calib = calib or calibration_set(a.data, n_drawn=200 if a.quick else 2000)
            calibrate(d, data=calib, write=True)
    x, y = mnist_floats(a.data)
    _, _, xv, yv = split_valid(x, y, 5000)  # the images no run trained on
    if a.quick: xv, yv = xv[:1000], yv[:1000]  # a smoke run: its runs held out part of a 3,000-image subset, not these
    xt, yt = mnist_floats(a.data, train=False)
    models = {d.name: load_model(d)[0] for d in folders}  # calibrated
    metrics = {d.name: json.loads((d / "metrics.json").read_text()) for d in folders}
    runs = [dict(run=n, valid_accuracy=round(100 * float((get_logits(m, xv).argmax(1) == yv).float().mean()), 2),
                 test_accuracy=metrics[n]["test_accuracy"], train_s=metrics[n]["train_seconds"],
                 precision=metrics[n]["precision"]) for n, m in models.items()]
    assert all(v == ONE_PIXEL_SHIFTS[:len(v)] for v in SHIFTS.values())  # each view set is a start of the five views
    lp_valid = {n: view_logprobs(m, xv, ONE_PIXEL_SHIFTS) for n, m in models.items()}  # computed once, sliced per view set
    lp_test = {n: view_logprobs(m, xt, ONE_PIXEL_SHIFTS) for n, m in models.items()}
    paths = {}
    for views, shifts in SHIFTS.items():
        cost = {n: forward_ms(m, len(shifts)) for n, m in models.items()}  # what each member adds to one image
        path = greedy({n: lp[:len(shifts)] for n, lp in lp_valid.items()}, yv, a.max_members, cost, a.budget_ms)
        if path: paths[views] = (path, forward_ms(Ensemble([models[n] for n in path[-1][0]], shifts=shifts).eval()))
    if not paths: sys.exit(f"no run reads one image within {a.budget_ms} ms on this CPU: raise --budget-ms")
    chosen_views = min(paths, key=lambda v: paths[v][0][-1][1])
    summary = []
    for views, (path, ms) in paths.items():
        k = len(SHIFTS[views])
        for i, (members, loss) in enumerate(path):
            v_err, t_err = (int((ensemble_logprob([lp[n][:k] for n in members]).argmax(1) != ys).sum())
                            for lp, ys in ((lp_valid, yv), (lp_test, yt)))
            summary.append(dict(views=views, members=len(members), added=members[-1], valid_nll=round(loss, 5),
                                valid_errors=v_err, test_errors=t_err, test_accuracy=round(100 - 100 * t_err / len(yt), 2),
                                forward_ms=round(ms, 2) if i == len(path) - 1 else None,
                                chosen="yes" if views == chosen_views and i == len(path) - 1 else ""))
    chosen = next(r for r in summary if r["chosen"])
    cols = [("views", "views of each image"), ("members", "members"), ("added", "run added"),
            ("valid_nll", "held-out loss", ".5f"), ("valid_errors", f"held-out errors (of {len(yv):,})"),
            ("forward_ms", "one image (ms)"), ("chosen", "chosen"),
            ("test_errors", f"test errors (of {len(yt):,}), reported"), ("test_accuracy", "test accuracy (%), reported")]
    chosen_members = paths[chosen_views][0][-1][0]
    chosen_ens = Ensemble([models[n] for n in chosen_members], shifts=SHIFTS[chosen_views]).eval()
    wrong = torch.stack([lp[0].argmax(1) != yt for lp in lp_test.values()])  # [runs, test images]: each run alone, one view
    figures = dict(test_accuracy=chosen["test_accuracy"], test_errors=chosen["test_errors"], members=chosen["members"],
                   views=len(SHIFTS[chosen_views]), forward_ms=chosen["forward_ms"], valid_errors=chosen["valid_errors"],
                   chosen_runs=chosen_members, valid_nll=chosen["valid_nll"],
                   styles_accuracy=round(styles_accuracy(chosen_ens, n=200 if a.quick else 2000), 2),  # drawn styles, reported
                   pool_runs=len(models), test_misread_by_all=int(wrong.all(0).sum()),
                   test_misread_by_most=int((wrong.sum(0) > len(models) / 2).sum()))  # what averaging these runs seldom overturns
    figures["test_best_subset_errors"], figures["test_best_subset"] = fewest_errors({n: lp[0].exp() for n, lp in lp_test.items()}, yt)
    settings = dict(recipes=recipes, seeds=a.seeds, epochs=a.epochs, max_members=a.max_members, budget_ms=a.budget_ms,
                    runs=R._shown(runs_dir), shifts={k: [list(s) for s in v] for k, v in SHIFTS.items()})
    R.report(a, runs, summary, cols, figures, settings=settings,
             notes=f"Chosen on {len(yv):,} MNIST training images that no run trained on (negative log-likelihood, "
                   f"members calibrated, equal weights); {len(yt):,} MNIST test images reported only. One image: the "
                   "ensemble's forward pass in float32 on one thread of this CPU (median).")
    if a.ship:
        from digit_lab.recipes import ship_ensemble
        print(f"shipped {ship_ensemble([runs_dir / n for n in chosen_members], a.ship, shifts=SHIFTS[chosen_views], root=a.data)}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
