"""Time to 99%: our `speed` recipe against the peer one-epoch recipe (tuomaso/train_mnist_fast, 8_Final), same run.

Usage: python bench/speed.py [--seeds 0,1,2] [--peer PATH] [--mnist DIR] [--recipe speed] [--threads N]

Both run as fresh processes, interleaved seed by seed (peer, ours, peer, ours, ...), so a busy machine slows both
alike. Times are the training loop only (data loading and the test evaluation excluded) for both: the peer prints
`train_s`; ours is `train_seconds` from `digit-lab train`'s metrics.json (all of `fit`). Accuracy is on the 10,000
MNIST test images.

On a machine shared with other jobs, run with OMP_WAIT_POLICY=PASSIVE (subprocesses inherit it): spinning OpenMP
threads slow down many-fold when another process holds one of the cores.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile
from pathlib import Path

root = Path(__file__).resolve().parents[1]
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--seeds", default="0,1,2")
p.add_argument("--peer", default=str(root.parent / "shared/bench/peer_fast_cpu.py"))
p.add_argument("--mnist", default=os.environ.get("DIGIT_LAB_MNIST_DIR", str(root.parent / "shared/data/mnist")))
p.add_argument("--recipe", default="speed")
p.add_argument("--threads", type=int, help="torch threads for both (default: torch's default)")
a = p.parse_args()
env = {**os.environ, "DIGIT_LAB_MNIST_DIR": a.mnist}
if a.threads: env.update(OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
py = sys.executable

def peer(seed):
    out = subprocess.run([py, a.peer, a.mnist, str(seed)], capture_output=True, text=True, env=env, check=True).stdout
    m = re.search(r"train_s=([\d.]+).*acc=([\d.]+)", out)
    return float(m[1]), float(m[2])

def ours(seed):
    with tempfile.TemporaryDirectory() as d:
        cmd = [py, "-c", "import sys; from digit_lab.train import cli; sys.exit(cli(sys.argv[1:]))",
               "--recipe", a.recipe, "--seed", str(seed), "--device", "cpu", "--out", d, "--quiet", "--root", str(root / "data")]
        subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, cwd=root)
        m = json.loads((Path(d) / "metrics.json").read_text())
    return m["train_seconds"], m["test_accuracy"]

rows = []
for s in [int(s) for s in a.seeds.split(",")]:
    (pt, pa), (ot, oa) = peer(s), ours(s)
    rows.append((s, pt, pa, ot, oa))
    print(f"seed {s}: peer {pt:.2f} s {pa:.2f}%   {a.recipe} {ot:.2f} s {oa:.2f}%   ratio {ot/pt:.2f}", file=sys.stderr, flush=True)

mean = lambda i: statistics.mean(r[i] for r in rows)
print(f"\n| seed | peer one-epoch (s) | peer test acc (%) | `{a.recipe}` (s) | `{a.recipe}` test acc (%) | time ratio |")
print("|---|---|---|---|---|---|")
for s, pt, pa, ot, oa in rows: print(f"| {s} | {pt:.2f} | {pa:.2f} | {ot:.2f} | {oa:.2f} | {ot/pt:.2f} |")
print(f"| **mean** | {mean(1):.2f} | {mean(2):.2f} | {mean(3):.2f} | {mean(4):.2f} | **{mean(3)/mean(1):.2f}** |")
ok = mean(4) >= 99.0 and mean(3) / mean(1) <= 0.6
print(f"\ntarget (mean acc >= 99.0% in <= 0.6x the peer's time): {'met' if ok else 'NOT met'}")
