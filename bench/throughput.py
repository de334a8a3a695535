"""Augmented-training throughput: batched on-device augmentation (digit_lab.augment in digit_lab.train.fit) against the
common per-sample torchvision DataLoader pipeline, same model, same run.

    python bench/throughput.py [--rounds 3] [--images 9600] [--configs 64,256,64:glibc] [--precision auto]
                              [--threads N] [--quick]

The comparison is bench/baselines/torchvision_dataloader.py (per-image RandomAffine + RandomPerspective on PIL images,
DataLoader with 2 workers, batch 64, float32). The model is its 75K-parameter BatchNorm CNN; the augmentation kinds
are the same (random affine: rotation 10, translate 0.1, scale 0.9-1.1, shear 5; random perspective 0.2 on 30% of the
images). Ours runs `fit` (AdamW, one-cycle) on `--images` MNIST training images per measurement, channels_last as our
recipes, once per config `BS` or `BS:glibc` and precision (`--precision auto`: bfloat16 and float32 on CPUs with bfloat16 hardware,
float32 elsewhere). `BS` trains as `fit` does by default, keeping freed memory for the next step
(`keep_freed_memory`); `BS:glibc` passes `keep_memory=False`, leaving glibc's allocator defaults, as the DataLoader
pipeline runs.

The "ceiling" rows time the model's training step alone (`digit_lab.timing.train_throughput`: AdamW, channels_last,
one fixed batch of 64 random images, no augmentation, no batching, freed memory kept): no data pipeline, ours or any
other, trains this model faster on this machine at that precision.

Every measurement is a fresh process, each warmed up before timing (the DataLoader: 10 batches through its workers;
ours: a 640-image `fit`; a ceiling: 10 steps). Rounds alternate theirs / ours / ceilings so a busy machine slows all
alike.
"""
import argparse, sys
import _results as R

BASELINE = R.BENCH / "baselines" / "torchvision_dataloader.py"


def model():
    "The baseline's network, with our in-model normalisation (the baseline normalises in its transform)."
    from baselines.torchvision_dataloader import bn_cnn
    return bn_cnn(normalize=True)


def ours(cfg:str, precision:str, images:int, root) -> float:
    "Images/s of `fit` with batched augmentation on `images` MNIST images."
    from digit_lab.augment import Compose, RandomAffine, RandomPerspective
    from digit_lab.data import mnist_floats
    from digit_lab.train import fit, seed_everything
    bs, *rest = cfg.split(":")
    x, y = mnist_floats(root); x, y = x[:images], y[:images]
    augment = Compose(RandomAffine(degrees=10, translate=0.1, scale=(0.9, 1.1), shear=5, p=1.0),
                      RandomPerspective(distortion=0.2, p=0.3))
    kw = dict(epochs=1, bs=int(bs), lr=1e-3, augment=augment, progress=None, device="cpu", channels_last=True,
              amp="bf16" if precision == "bf16" else None, keep_memory=rest != ["glibc"])
    seed_everything(1); fit(model(), (x[:640], y[:640]), **kw)  # warm-up: one-off costs of a fresh process
    seed_everything(0); h = fit(model(), (x, y), **kw)
    return (len(x) // int(bs) * int(bs)) / h.seconds[-1]


def ceiling(precision:str, steps:int) -> float:
    "Images/s of the training step alone on one fixed batch: the most any data pipeline could reach."
    import torch
    from digit_lab.device import keep_freed_memory
    from digit_lab.timing import train_throughput
    from digit_lab.train import seed_everything
    keep_freed_memory(); seed_everything(0)
    return train_throughput(model(), bs=64, steps=steps, channels_last=True, optimizer=torch.optim.AdamW,
                            amp=torch.bfloat16 if precision == "bf16" else None, warmup=10)


def config(s:str) -> list[str]:
    "argparse type: `64,256,64:glibc`."
    cs = [c for c in s.split(",") if c]
    for c in cs:
        bs, *rest = c.split(":")
        if not (bs.isdigit() and int(bs) > 0 and rest in ([], ["glibc"])):
            raise argparse.ArgumentTypeError(f"{s!r}: expected batch sizes, each optionally with :glibc, "
                                             "e.g. 64,256,64:glibc")
    return cs


def label(key:str) -> tuple:
    "(pipeline, batch) of a measurement key."
    kind, _precision, *cfg = key.split(":")
    if kind == "theirs": return "torchvision per-sample transforms + DataLoader (2 workers)", 64
    if kind == "ceiling": return "ceiling: the training step alone (one fixed batch, no augmentation)", 64
    glibc = ", glibc's malloc defaults" if cfg[1:] == ["glibc"] else ""
    return "ours: whole tensors + batched `digit_lab.augment` in `fit`" + glibc, int(cfg[0])


def main(argv=None):
    p = R.parser(__doc__, "throughput")
    R.quick_option(p, "--rounds", 3, 1, "rounds; each measures everything once", type=R.positive_int)
    R.quick_option(p, "--images", 9600, 1280, "MNIST images per measurement of ours", type=R.positive_int)
    R.quick_option(p, "--batches", 150, 20, "timed batches per measurement of the DataLoader", type=R.positive_int)
    R.quick_option(p, "--steps", 150, 20, "timed steps per ceiling measurement", type=R.positive_int)
    p.add_argument("--configs", type=config, default=config("64,256,64:glibc"),
                   help="ours, as batch sizes, optionally :glibc (default: 64,256,64:glibc)")
    p.add_argument("--no-ceilings", action="store_true", help="skip the model-only ceiling rows")
    p.add_argument("--threads", type=R.positive_int, help="torch threads of every training process (default: torch's)")
    R.precision_option(p); R.data_option(p)
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "ours:PRECISION:CONFIG" or "ceiling:PRECISION"
    a = R.parse(p, argv)
    if a.worker:
        kind, precision, *cfg = a.worker.split(":", 2)
        v = ours(cfg[0], precision, a.images, a.data) if kind == "ours" else ceiling(precision, a.steps)
        R.emit(dict(imgs_per_s=round(v, 1))); return
    R.use_threads(a.threads); precs = R.precisions(a.precision)
    me = [sys.executable, __file__, "--data", a.data, "--images", a.images, "--steps", a.steps, "--worker"]
    jobs = {"theirs:fp32": [sys.executable, BASELINE, "--no-results", "--data", a.data, "--batches", a.batches]}
    jobs.update({f"ours:{pr}:{c}": me + [f"ours:{pr}:{c}"] for pr in precs for c in a.configs})
    if not a.no_ceilings: jobs.update({f"ceiling:{pr}": me + [f"ceiling:{pr}"] for pr in precs})
    runs = []
    for r in range(a.rounds):
        for k, cmd in jobs.items(): runs.append(dict(round=r, key=k, imgs_per_s=R.worker(cmd)["imgs_per_s"]))
        print(f"round {r + 1}: " + "; ".join(f"{x['key']} {x['imgs_per_s']:.0f}" for x in runs if x["round"] == r),
              file=sys.stderr, flush=True)
    mean = {k: R.mean([x["imgs_per_s"] for x in runs if x["key"] == k]) for k in jobs}
    summary, figures = [], {}
    for k, v in mean.items():
        kind, prec, *cfg = k.split(":", 2)
        what, bs = label(k)
        summary.append(dict(key=k, pipeline=what, bs=bs, precision=prec, imgs_per_s=round(v),
                            vs_theirs=round(v / mean["theirs:fp32"], 2)))
        figures[k.replace(":", "_") + "_imgs_per_s"] = round(v)
        figures[k.replace(":", "_") + "_vs_theirs"] = summary[-1]["vs_theirs"]
    cols = [("pipeline", "pipeline"), ("bs", "batch"), ("precision", "precision"),
            ("imgs_per_s", "images/s (mean of rounds)"), ("vs_theirs", "vs DataLoader")]
    from digit_lab.models import count_params
    R.report(a, runs, summary, cols, figures, notes=f"model: {count_params(model()):,} parameters; {a.rounds} round(s) "
             f"of {a.images:,} images (ours), each measurement a fresh process")


if __name__ == "__main__":
    main()
