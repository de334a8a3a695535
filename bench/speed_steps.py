"""How the `speed` recipe was found: one change at a time, from the one-epoch recipe of tuomaso/train_mnist_fast to
ours, every row timed in the same run and scored on a VALIDATION split (10,000 training images held out; the test set
plays no part in these choices).

    python bench/speed_steps.py [--seeds 0,1,2] [--images 50000] [--precision auto|fp32|bf16|both] [--quick]

All rows train with `digit_lab.train.fit` (so the loop is the same): Adam (AdamW without weight decay), betas
(0.7, 0.9), peak lr 1e-2, one-cycle, batch 256, on the remaining 50,000 images. Row 0 is the network of
https://github.com/tuomaso/train_mnist_fast (`8_Final`, as re-implemented in bench/baselines/train_mnist_fast.py);
`fit`'s one-cycle warms up over 25% of the steps (theirs: 30%) and reshuffles the images. The rows up to
`channels_last` are float32; from there the float32 path keeps going, and, with `--precision` bf16/both (`auto` on
CPUs with bfloat16 hardware), a bfloat16 path branches off. Every row and seed is a fresh process (one row changes a process-wide
allocator setting), warmed up with a 2,560-image run of the same row before timing; rows run interleaved seed by seed.

On a machine shared with other jobs, run with OMP_WAIT_POLICY=PASSIVE (subprocesses inherit it): spinning OpenMP
threads slow down many-fold when another process holds one of the cores.
"""
import argparse, sys
import _results as R

BASE = dict(epochs=1, bs=256, lr=1e-2, betas=(0.7, 0.9), wd=0.0, sched="onecycle", progress=None, device="cpu",
            amp=None, keep_memory=False)


def rows(precs:list[str], images:int=50_000) -> list[tuple]:
    "(change, from row, model name, fit arguments, fraction of the training images, precision) per row."
    ls = dict(label_smoothing=0.1); cl = dict(ls, channels_last=True)
    out = [("tuomaso/train_mnist_fast one-epoch recipe (its net and optimiser)", None, "theirs", {}, 1.0, "fp32"),
           ("+ the `speed` net: BatchNorm after each max-pool, 16 (not 24) channels first, dense 64 (not 256)", 0,
            "speed", {}, 1.0, "fp32"),
           ("+ label smoothing 0.1", 1, "speed", ls, 1.0, "fp32"),
           ("+ channels_last memory format", 2, "speed", cl, 1.0, "fp32")]
    for p in sorted(precs, reverse=True):  # fp32 first: it runs on every CPU
        kw, last = cl, 3
        if p == "bf16":
            kw = dict(cl, amp="bf16")
            out.append(("+ bfloat16 autocast (fast on CPUs with bfloat16 hardware; `amp='auto'` picks it there)", 3, "speed", kw, 1.0, p))
            last = len(out) - 1
        out.append(("+ freed memory kept for the next step (`keep_freed_memory`, glibc)", last, "speed",
                    dict(kw, keep_memory=True), 1.0, p))
        out.append((f"+ 0.7 of an epoch ({int(0.7 * images):,} images): the `speed` recipe", len(out) - 1, "speed",
                    dict(kw, keep_memory=True), 0.7, p))
    return out


def work(row:tuple, seed:int, root, images:int) -> dict:
    "Time one row for one seed in this process (after a warm-up run of the same row)."
    import torch
    from digit_lab.data import mnist_floats
    from digit_lab.models import count_params, get_model
    from digit_lab.train import accuracy, fit, seed_everything, split_valid
    from baselines.train_mnist_fast import net
    *_, name, kw, frac, _ = row
    make = (lambda: net(normalize=True)) if name == "theirs" else (lambda: get_model(name))
    x, y = mnist_floats(root)
    xt, yt, xv, yv = split_valid(x, y, 10_000)
    keep = torch.randperm(len(xt), generator=torch.Generator().manual_seed(1))[:int(min(images, len(xt)) * frac)]
    seed_everything(99); fit(make(), (xt[:2560], yt[:2560]), seed=99, **{**BASE, **kw})  # warm-up: one-off costs
    seed_everything(seed); m = make()
    h = fit(m, (xt[keep], yt[keep]), seed=seed, **{**BASE, **kw})
    return dict(train_s=round(h.seconds[-1], 3), valid_accuracy=round(accuracy(m, xv, yv), 2), params=count_params(m),
                images=len(keep))


def main(argv=None):
    p = R.parser(__doc__, "speed_steps")
    R.quick_option(p, "--seeds", "0,1,2", "0", "seeds, one run of every row each", type=R.seed_list)
    R.quick_option(p, "--images", 50_000, 10_000, "training images (of the 50,000 left after the validation split)",
                   type=R.positive_int)
    p.add_argument("--threads", type=R.positive_int, help="torch threads (default: torch's choice)")
    R.precision_option(p); R.data_option(p)
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "ROW:SEED"
    a = R.parse(p, argv)
    steps = rows(R.precisions(a.precision), a.images)
    if a.worker:
        i, seed = (int(v) for v in a.worker.split(":"))
        R.emit(work(steps[i], seed, a.data, a.images)); return
    R.use_threads(a.threads); runs = []
    for s in a.seeds:
        for i, (change, *_, prec) in enumerate(steps):
            r = R.worker([sys.executable, __file__, "--worker", f"{i}:{s}", "--precision", a.precision, "--data", a.data,
                          "--images", a.images])
            runs.append(dict(step=i, seed=s, precision=prec, **r))
            print(f"seed {s} step {i}: {r['train_s']:.2f} s, valid {r['valid_accuracy']:.2f}%", file=sys.stderr, flush=True)
    summary = []
    for i, (change, after, *_, prec) in enumerate(steps):
        rs = [r for r in runs if r["step"] == i]
        t, accs = R.mean([r["train_s"] for r in rs]), [r["valid_accuracy"] for r in rs]
        summary.append(dict(step=i, change=change, after=after, precision=prec, params=rs[0]["params"],
                            images=rs[0]["images"], train_s_mean=round(t, 2),
                            vs_step_0=round(t / summary[0]["train_s_mean"], 2) if summary else 1.0,
                            valid_accuracy_mean=round(R.mean(accs), 2), valid_accuracy_min=min(accs),
                            valid_accuracy_max=max(accs)))
    cols = [("step", "step"), ("change", "change"), ("after", "from step"), ("precision", "precision"),
            ("params", "params"), ("train_s_mean", "train time (s), mean"), ("vs_step_0", "vs step 0"),
            ("valid_accuracy_mean", "validation acc (%), mean"), ("valid_accuracy_min", "min"),
            ("valid_accuracy_max", "max")]
    last = {r["precision"]: r for r in summary}  # the last row of each path: the `speed` recipe
    figures = {f"speed_{p}_vs_step_0": r["vs_step_0"] for p, r in last.items()}
    figures.update({f"speed_{p}_valid_accuracy": r["valid_accuracy_mean"] for p, r in last.items()})
    R.report(a, runs, summary, cols, figures, notes=f"validation: 10,000 training images held out; trained on "
             f"{a.images:,} of the others; seeds " + ",".join(map(str, a.seeds)))


if __name__ == "__main__":
    main()
