"""Augmented-training throughput: batched on-device augmentation (digit_lab.augment + digit_lab.train.fit) against the
common per-sample DataLoader pipeline (/work/shared/bench/peer_dataloader_cpu.py), same model, same run.

Usage: python bench/throughput.py [--rounds 3] [--images 9600] [--configs 64:fp32,64:bf16,256:bf16,64:bf16:glibc]
                                  [--ceilings fp32,bf16] [--peer PATH]

The model is the peer's 75K-parameter BatchNorm CNN; the augmentation kinds are the same (random affine: rotation 10,
translate 0.1, scale 0.9-1.1, shear 5; random perspective 0.2 on 30% of the images). Ours runs `fit` (AdamW, one-cycle)
on `--images` MNIST training images per measurement, channels_last as our recipes, in float32 or in bfloat16 autocast
(what `amp="auto"` picks on CPUs with AMX, such as this one). A config `BS:PRECISION` trains as `fit` does by default,
keeping freed memory for the next step (`keep_freed_memory`); `BS:PRECISION:glibc` passes `keep_memory=False`, leaving
glibc's allocator defaults, as the peer runs.

The "ceiling" rows time the model's training step alone (`digit_lab.models.train_throughput`: AdamW, channels_last,
one fixed batch of 64 random images, no augmentation, no batching, freed memory kept): no data pipeline, ours or any
other, trains this model faster on this machine at that precision.

Every measurement is a fresh process (the peer's, ours, the ceilings), each warmed up before timing (the peer: 10
batches through its workers; ours: a 640-image `fit`; a ceiling: 10 steps). Rounds alternate peer / ours / ceilings so
a busy machine slows all alike.
"""
import argparse, os, re, statistics, subprocess, sys
from pathlib import Path
import torch, torch.nn as nn

root = Path(__file__).resolve().parents[1]
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--images", type=int, default=9600)
p.add_argument("--configs", default="64:fp32,64:bf16,256:bf16,64:bf16:glibc",
               help="ours, as batch size:precision[:glibc] (the peer: 64, fp32)")
p.add_argument("--ceilings", default="fp32,bf16", help="precisions of the model-only ceiling rows ('' for none)")
p.add_argument("--peer", default=str(root.parent / "shared/bench/peer_dataloader_cpu.py"))
p.add_argument("--data", default=str(root / "data"), help="dataset root (MNIST/raw is filled from DIGIT_LAB_MNIST_DIR)")
p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "ours:CONFIG" or "ceiling:PRECISION"
a = p.parse_args()

def peer_model():  # exactly the peer's network, plus our in-model normalisation (the peer normalises in its transform)
    from digit_lab.models import Normalize
    def bn(ci, co): return [nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU()]
    return nn.Sequential(Normalize(), *bn(1, 16), *bn(16, 32), nn.MaxPool2d(2), *bn(32, 32), *bn(32, 64), nn.MaxPool2d(2),
                         *bn(64, 64), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(576, 10))

def ours(cfg, x, y):
    from digit_lab.augment import Compose, RandomAffine, RandomPerspective
    from digit_lab.train import fit, seed_everything
    bs, precision, *rest = cfg.split(":")
    augment = Compose(RandomAffine(degrees=10, translate=0.1, scale=(0.9, 1.1), shear=5, p=1.0),
                      RandomPerspective(distortion=0.2, p=0.3))
    kw = dict(epochs=1, bs=int(bs), lr=1e-3, augment=augment, progress=None, device="cpu", channels_last=True,
              amp=None if precision == "fp32" else precision, keep_memory=rest != ["glibc"])
    seed_everything(1); fit(peer_model(), (x[:640], y[:640]), **kw)  # warm-up: one-off costs of a fresh process
    seed_everything(0); h = fit(peer_model(), (x, y), **kw)
    return (len(x) // int(bs) * int(bs)) / h.seconds[-1]

def ceiling(precision, steps=150):
    "Images/s of the training step alone on one fixed batch: the most any data pipeline could reach."
    from digit_lab.models import train_throughput
    from digit_lab.train import keep_freed_memory, seed_everything
    keep_freed_memory(); seed_everything(0)
    return train_throughput(peer_model(), bs=64, steps=steps, channels_last=True, optimizer=torch.optim.AdamW,
                            amp=torch.bfloat16 if precision == "bf16" else None, warmup=10)

if a.worker:
    kind, cfg = a.worker.split(":", 1)
    if kind == "ours":
        from digit_lab.data import mnist_floats
        x, y = mnist_floats(a.data)
        v = ours(cfg, x[:a.images], y[:a.images])
    else: v = ceiling(cfg)
    print(f"imgs_per_s={v:.1f}"); sys.exit(0)

def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=root).stdout
    return float(re.search(r"imgs_per_s=([\d.]+)", out)[1])

me = [sys.executable, __file__, "--data", a.data, "--images", str(a.images), "--worker"]
jobs = {"peer": [sys.executable, a.peer, a.data]}
jobs.update({f"ours:{c}": me + [f"ours:{c}"] for c in a.configs.split(",") if c})
jobs.update({f"ceiling:{c}": me + [f"ceiling:{c}"] for c in a.ceilings.split(",") if c})
from digit_lab.models import count_params
print(f"model: {count_params(peer_model()):,} parameters; torch threads {torch.get_num_threads()}; "
      f"{os.cpu_count()} cores", file=sys.stderr)
res = {k: [] for k in jobs}
for r in range(a.rounds):
    for k, cmd in jobs.items(): res[k].append(run(cmd))
    print(f"round {r+1}: " + "; ".join(f"{k} {v[-1]:.0f}" for k, v in res.items()), file=sys.stderr, flush=True)

base = statistics.mean(res["peer"])
from digit_lab.train import machine_name, cpu_has_amx
print(f"\n{machine_name()}, AMX: {cpu_has_amx()}; {a.rounds} rounds of {a.images:,} images, each a fresh process\n")
print("| pipeline | batch | precision | images/s (mean of rounds) | vs peer |")
print("|---|---|---|---|---|")
print(f"| peer: torchvision per-sample transforms + DataLoader (2 workers) | 64 | fp32 | {base:,.0f} | 1.00 |")
for k, v in res.items():
    v = statistics.mean(v); kind, *cfg = k.split(":")
    if kind == "ours":
        bs, precision, *rest = cfg
        what = "ours: whole tensors + batched `digit_lab.augment` in `fit`" + (", glibc's malloc defaults" if rest else "")
        print(f"| {what} | {bs} | {precision} | {v:,.0f} | **{v/base:.2f}x** |")
    elif kind == "ceiling":
        print(f"| ceiling: the training step alone (one fixed batch, no augmentation) | 64 | {cfg[0]} | {v:,.0f} | {v/base:.2f}x |")
