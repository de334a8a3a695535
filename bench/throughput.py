"""Augmented-training throughput: batched on-device augmentation (digit_lab.augment + digit_lab.train.fit) against the
common per-sample DataLoader pipeline (/work/shared/bench/peer_dataloader_cpu.py), same model, same run.

Usage: python bench/throughput.py [--rounds 2] [--images 9600] [--configs 64:fp32,64:bf16,256:bf16] [--peer PATH]

The model is the peer's 75K-parameter BatchNorm CNN; the augmentation kinds are the same (random affine: rotation 10,
translate 0.1, scale 0.9-1.1, shear 5; random perspective 0.2 on 30% of the images). Ours runs `fit` (AdamW, one-cycle)
on `--images` MNIST training images per measurement, channels_last as our recipes, in float32 and in bfloat16
autocast (what `amp="auto"` picks on CPUs with AMX, such as this one); the peer trains 150 batches of 64 (9,600 images) after warming up
its two workers. Rounds alternate peer / ours so a busy machine slows both alike.

On a machine shared with other jobs, run with OMP_WAIT_POLICY=PASSIVE (subprocesses inherit it): spinning OpenMP
threads slow down many-fold when another process holds one of the cores.
"""
import argparse, os, re, statistics, subprocess, sys, time
from pathlib import Path
import torch, torch.nn as nn

root = Path(__file__).resolve().parents[1]
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--rounds", type=int, default=2)
p.add_argument("--images", type=int, default=9600)
p.add_argument("--configs", default="64:fp32,64:bf16,256:bf16", help="our batch size:precision pairs (the peer: 64, fp32)")
p.add_argument("--peer", default=str(root.parent / "shared/bench/peer_dataloader_cpu.py"))
p.add_argument("--data", default=str(root / "data"), help="dataset root (MNIST/raw is filled from DIGIT_LAB_MNIST_DIR)")
a = p.parse_args()

from digit_lab.data import mnist_floats
from digit_lab.models import Normalize, count_params
from digit_lab.augment import Compose, RandomAffine, RandomPerspective
from digit_lab.train import fit, seed_everything

def peer_model():  # exactly the peer's network, plus our in-model normalisation (the peer normalises in its transform)
    def bn(ci, co): return [nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU()]
    return nn.Sequential(Normalize(), *bn(1, 16), *bn(16, 32), nn.MaxPool2d(2), *bn(32, 32), *bn(32, 64), nn.MaxPool2d(2),
                         *bn(64, 64), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(576, 10))

augment = Compose(RandomAffine(degrees=10, translate=0.1, scale=(0.9, 1.1), shear=5, p=1.0),
                  RandomPerspective(distortion=0.2, p=0.3))
x, y = mnist_floats(a.data)
x, y = x[:a.images], y[:a.images]

def peer():
    out = subprocess.run([sys.executable, a.peer, a.data], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"imgs_per_s=([\d.]+)", out)[1])

def ours(cfg):
    bs, precision = cfg
    seed_everything(0); m = peer_model()
    h = fit(m, (x, y), epochs=1, bs=bs, lr=1e-3, augment=augment, progress=None, device="cpu", channels_last=True,
            amp=None if precision == "fp32" else precision)
    return (len(x) // bs * bs) / h.seconds[-1]

print(f"model: {count_params(peer_model()):,} parameters; torch threads {torch.get_num_threads()}; "
      f"{os.cpu_count()} cores", file=sys.stderr)
bss = [(int(c.split(":")[0]), c.split(":")[1]) for c in a.configs.split(",")]
res = {"peer": [], **{b: [] for b in bss}}
for r in range(a.rounds):
    res["peer"].append(peer())
    for b in bss: res[b].append(ours(b))
    print(f"round {r+1}: peer {res['peer'][-1]:.0f} img/s; " + "; ".join(f"ours bs={b[0]} {b[1]} {res[b][-1]:.0f} img/s" for b in bss),
          file=sys.stderr, flush=True)
base = statistics.mean(res["peer"])
from digit_lab.train import machine_name, cpu_has_amx
print(f"\n{machine_name()}, AMX: {cpu_has_amx()}; {a.rounds} rounds of {a.images:,} images\n")
print("| pipeline | batch | precision | images/s (mean of rounds) | vs peer |")
print("|---|---|---|---|---|")
print(f"| peer: torchvision per-sample transforms + DataLoader (2 workers) | 64 | fp32 | {base:,.0f} | 1.00 |")
for b in bss:
    v = statistics.mean(res[b])
    print(f"| ours: whole tensors + batched `digit_lab.augment` in `fit` | {b[0]} | {b[1]} | {v:,.0f} | **{v/base:.2f}x** |")
