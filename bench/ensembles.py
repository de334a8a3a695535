"""Do members that differ make a better ensemble? Three ensembles fixed in advance, measured on the MNIST test set.

    python bench/ensembles.py [--runs DIR] [--seeds 0,1,2,3,4] [--quick]

The members are runs of the `best` recipe and of the `strided` recipe (the same training, a network that downsamples
by strided convolutions instead of max pooling; `02_models`, `04b_recipes`), one per seed. A run already in
DIR/RECIPE-sSEED (written by `digit-lab train --out` or `bench/frontier.py --keep-runs DIR`) is reused; a missing one
is trained there first (about 5 minutes each on a 2-core CPU with bfloat16 hardware). Every run is calibrated on
held-out data (`digit_lab.evaluate.calibration_set`) like the shipped models, and the three ensembles are: the
`best` runs, the `strided` runs, and all of them (probabilities averaged, equal weights). For each: its test
accuracy, how many test images all its members misread, and how long one image takes through it on this CPU.
The test accuracy is reported; it did not choose the members.
"""
import json, sys, tempfile
from pathlib import Path
import _results as R

RECIPES = ("best", "strided")


def forward_ms(model) -> float:
    "Milliseconds of one image through `model` (float32, inference mode), with `digit_lab.timing.latency_ms`."
    import torch
    from digit_lab.timing import latency_ms
    with torch.inference_mode(): return latency_ms(model, torch.rand(1, 1, 28, 28))


def main(argv=None):
    p = R.parser(__doc__, "ensembles")
    R.quick_option(p, "--seeds", "0,1,2,3,4", "0,1", "seeds, one run of each recipe per seed", type=R.seed_list)
    p.add_argument("--runs", type=Path, help="folder of the runs, DIR/RECIPE-sSEED; missing ones are trained there "
                   "(default: a temporary folder, so every run is trained)")
    R.data_option(p)
    a = R.parse(p, argv)
    import torch
    from digit_lab.data import mnist_floats
    from digit_lab.evaluate import calibrate, calibration_set, get_logits
    from digit_lab.hub import Ensemble, load_model
    from digit_lab.recipes import train_recipe
    runs_dir = a.runs or Path(tempfile.mkdtemp(prefix="ensembles-"))
    folders = {r: [runs_dir / f"{r}-s{s}" for s in a.seeds] for r in RECIPES}
    calib = None
    for recipe, dirs in folders.items():
        for seed, d in zip(a.seeds, dirs):
            if not (d / "metrics.json").is_file():
                print(f"training {recipe}, seed {seed} -> {d}", file=sys.stderr, flush=True)
                train_recipe(recipe, seed=seed, out=d, root=a.data, progress=None, **(dict(epochs=1, subset=3000) if a.quick else {}))
            if "temperature" not in json.loads((d / "metrics.json").read_text()):
                calib = calib or calibration_set(a.data, n_drawn=200 if a.quick else 2000)
                calibrate(d, data=calib, write=True)
    x, y = mnist_floats(a.data, train=False)
    candidates = {f"{len(folders['best'])} `best` runs": folders["best"],
                  f"{len(folders['strided'])} `strided` runs": folders["strided"],
                  "all of them": folders["best"] + folders["strided"]}
    runs, model, wrong, acc = [], {}, {}, {}  # by run folder: its calibrated model, the images it misreads, its accuracy
    for recipe, dirs in folders.items():
        for seed, d in zip(a.seeds, dirs):
            model[d], metrics = load_model(d)  # calibrated, as in an ensemble
            wrong[d] = get_logits(model[d], x).argmax(1) != y
            acc[d] = round(100 - wrong[d].float().mean().item() * 100, 2)
            runs.append(dict(recipe=recipe, seed=seed, test_accuracy=acc[d], train_s=metrics["train_seconds"],
                             precision=metrics["precision"], run=R._shown(d)))
    summary = []
    for name, dirs in candidates.items():
        ens = Ensemble([model[d] for d in dirs]).eval()  # what `make_ensemble(dirs)` builds, without loading them again
        errors = int((get_logits(ens, x).argmax(1) != y).sum())
        w = torch.stack([wrong[d] for d in dirs])
        member_acc = [acc[d] for d in dirs]
        summary.append(dict(ensemble=name, members=len(dirs), member_accuracy_mean=round(R.mean(member_acc), 2),
                            member_accuracy_max=max(member_acc), test_accuracy=round(100 - errors / len(y) * 100, 2),
                            errors=errors, misread_by_all=int(w.all(0).sum()), misread_by_any=int(w.any(0).sum()),
                            forward_ms=round(forward_ms(ens.eval()), 2)))
    cols = [("ensemble", "ensemble"), ("members", "members"), ("member_accuracy_mean", "member accuracy (%), mean"),
            ("member_accuracy_max", "best member (%)"), ("test_accuracy", "ensemble accuracy (%)"), ("errors", "errors"),
            ("misread_by_all", "misread by every member"), ("misread_by_any", "misread by at least one"),
            ("forward_ms", "one image (ms)")]
    figures = {f"{k}_{i}": r[k] for i, r in enumerate(summary) for k in ("test_accuracy", "errors", "misread_by_all", "forward_ms")}
    R.report(a, runs, summary, cols, figures, settings=dict(seeds=a.seeds, recipes=list(RECIPES), runs=R._shown(runs_dir)),
             notes=f"{len(y):,} MNIST test images; members calibrated, probabilities averaged with equal weights. "
                   "One image: the ensemble's forward pass in float32 on this CPU (median).")


if __name__ == "__main__":
    main()
