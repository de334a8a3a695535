"""How the `speed` recipe was found: one change at a time, from the peer's one-epoch recipe (tuomaso/train_mnist_fast,
8_Final) to ours, every row timed in the same run and scored on a VALIDATION split (10,000 training images held out;
the test set plays no part in these choices).

Usage: python bench/speed_steps.py [--seeds 0,1,2]

All rows train with `digit_lab.train.fit` (so the loop is the same), Adam/AdamW betas (0.7, 0.9), peak lr 1e-2,
one-cycle, batch 256, on the remaining 50,000 images. Every row and seed is a fresh process (one row changes a
process-wide allocator setting), warmed up with a 2,560-image run of the same row before timing; rows run interleaved
seed by seed.

On a machine shared with other jobs, run with OMP_WAIT_POLICY=PASSIVE (subprocesses inherit it): spinning OpenMP
threads slow down many-fold when another process holds one of the cores.
"""
import argparse, statistics, subprocess, sys
from pathlib import Path
import torch, torch.nn as nn

root = Path(__file__).resolve().parents[1]
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--seeds", default="0,1,2")
p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "ROW:SEED"
a = p.parse_args()

from digit_lab.data import mnist_floats
from digit_lab.models import Normalize, get_model, count_params
from digit_lab.train import fit, seed_everything, split_valid, accuracy

def peer_net():  # the peer's network; normalisation moved into the model as everywhere here
    return nn.Sequential(Normalize(), nn.Conv2d(1, 24, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(24, 32, 3), nn.MaxPool2d(2),
                         nn.ReLU(), nn.Flatten(), nn.Linear(800, 256), nn.ReLU(), nn.Linear(256, 10))

base = dict(epochs=1, bs=256, lr=1e-2, betas=(0.7, 0.9), wd=0.0, sched="onecycle", progress=None, device="cpu", amp=None,
            keep_memory=False)
speed = dict(label_smoothing=0.1, channels_last=True, amp="bf16", keep_memory=True)
STEPS = [  # (change, model builder, fit arguments, fraction of the 50,000 training images)
    ("peer recipe: tuomaso 8_Final net and one-cycle Adam, 1 epoch", peer_net, {}, 1.0),
    ("+ BatchNorm after each max-pool, dense 256 -> 64 (the `speed` net)", lambda: get_model("speed"), {}, 1.0),
    ("+ label smoothing 0.1", lambda: get_model("speed"), dict(label_smoothing=0.1), 1.0),
    ("+ channels_last memory format", lambda: get_model("speed"), dict(label_smoothing=0.1, channels_last=True), 1.0),
    ("+ bfloat16 autocast (AMX; `amp='auto'` picks it on such CPUs)", lambda: get_model("speed"),
     dict(label_smoothing=0.1, channels_last=True, amp="bf16"), 1.0),
    ("+ freed memory kept for the next step (`keep_freed_memory`, glibc)", lambda: get_model("speed"), speed, 1.0),
    ("+ 0.7 of an epoch (35,000 images): the `speed` recipe", lambda: get_model("speed"), speed, 0.7),
]

if a.worker:
    row, seed = (int(v) for v in a.worker.split(":"))
    _, make, kw, frac = STEPS[row]
    x, y = mnist_floats(root / "data")
    xt, yt, xv, yv = split_valid(x, y, 10_000)
    n = int(len(xt) * frac)
    keep = torch.randperm(len(xt), generator=torch.Generator().manual_seed(1))[:n]
    seed_everything(99); fit(make(), (xt[:2560], yt[:2560]), seed=99, **{**base, **kw})  # warm-up: one-off costs
    seed_everything(seed); m = make()
    h = fit(m, (xt[keep], yt[keep]), seed=seed, **{**base, **kw})
    print(f"result {h.seconds[-1]} {accuracy(m, xv, yv)} {count_params(m)}"); sys.exit(0)

def run(row, seed):
    out = subprocess.run([sys.executable, __file__, "--worker", f"{row}:{seed}"], capture_output=True, text=True,
                         check=True, cwd=root).stdout
    t, acc, params = out.split("result ")[1].split()
    return float(t), float(acc), int(params)

seeds = [int(s) for s in a.seeds.split(",")]
res = [[] for _ in STEPS]
for s in seeds:
    for i in range(len(STEPS)):
        res[i].append(run(i, s))
        print(f"seed {s} step {i}: {res[i][-1][0]:.2f} s, valid {res[i][-1][1]:.2f}%", file=sys.stderr, flush=True)
t0 = statistics.mean(r[0] for r in res[0])
from digit_lab.train import machine_name, cpu_has_amx
print(f"\n{machine_name()}, AMX: {cpu_has_amx()}; torch threads: {torch.get_num_threads()}; seeds {a.seeds}; "
      "validation: 10,000 held-out training images\n")
print("| step | change | params | train time (s) | vs step 0 | validation acc (%) mean [min, max] |")
print("|---|---|---|---|---|---|")
for i, (name, *_ ) in enumerate(STEPS):
    t = statistics.mean(r[0] for r in res[i]); accs = [r[1] for r in res[i]]
    print(f"| {i} | {name} | {res[i][0][2]:,} | {t:.2f} | {t/t0:.2f} | {statistics.mean(accs):.2f} [{min(accs):.2f}, {max(accs):.2f}] |")
