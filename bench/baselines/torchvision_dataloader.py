"""The common per-sample torchvision training pipeline, re-implemented to measure its augmented-training throughput.

The way most PyTorch MNIST code augments (e.g. https://github.com/pytorch/examples/tree/main/mnist with the transforms
of https://pytorch.org/vision/stable/transforms.html): `torchvision.datasets.MNIST` hands out one PIL image at a time,
each transformed on its own (RandomAffine: rotation 10 degrees, translation 0.1, scale 0.9-1.1, shear 5; then
RandomPerspective 0.2 on 30% of the images; ToTensor; Normalize), a `torch.utils.data.DataLoader` with 2 worker
processes batches them (64, shuffled), and the main process trains a 75K-parameter BatchNorm CNN (five
conv-BN-ReLU blocks, Adam lr 1e-3) in float32. Our own re-implementation, written for this benchmark.

After 10 warm-up batches (the workers start), it times `--batches` training steps and prints images per second.
MNIST comes from `digit_lab.data.mnist` (offline from $DIGIT_LAB_MNIST_DIR, else torchvision's download), which
leaves the files where `torchvision.datasets.MNIST` reads them.

    python bench/baselines/torchvision_dataloader.py [--batches 150] [--workers 2] [--quick]

writes bench/results/torchvision_dataloader.json; `bench/throughput.py` runs it once per round in a fresh process.
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: the shared _results helper
import _results as R
import torch, torch.nn as nn, torch.nn.functional as F

MEAN, STD, WARMUP = 0.1307, 0.3081, 10


def bn_cnn(normalize:bool=False) -> nn.Sequential:
    "The 75K-parameter BatchNorm CNN; `normalize=True` puts the input standardisation in the model."
    from digit_lab.models import Normalize
    def block(ci, co): return [nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU()]
    return nn.Sequential(*([Normalize(MEAN, STD)] if normalize else []), *block(1, 16), *block(16, 32), nn.MaxPool2d(2),
                         *block(32, 32), *block(32, 64), nn.MaxPool2d(2), *block(64, 64), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(576, 10))


def loader(root, bs:int=64, workers:int=2) -> torch.utils.data.DataLoader:
    "Shuffled batches of MNIST training images, each augmented on its own as a PIL image in a worker process."
    from torchvision import datasets, transforms as T
    from digit_lab.data import mnist
    mnist(root)  # the files in root/MNIST/raw, where torchvision reads them
    tf = T.Compose([T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5), T.RandomPerspective(0.2, p=0.3),
                    T.ToTensor(), T.Normalize((MEAN,), (STD,))])
    ds = datasets.MNIST(root, train=True, transform=tf)
    return torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, num_workers=workers,
                                       persistent_workers=workers > 0)


def measure(root, batches:int, bs:int=64, workers:int=2) -> dict:
    "Images per second of augmented training through the DataLoader, after warm-up."
    torch.manual_seed(0)
    m = bn_cnn(); opt = torch.optim.Adam(m.parameters(), 1e-3)
    it = iter(loader(root, bs, workers))
    for _ in range(WARMUP): next(it)
    t0, n = time.perf_counter(), 0
    for _ in range(batches):
        x, y = next(it)
        loss = F.cross_entropy(m(x), y); opt.zero_grad(); loss.backward(); opt.step(); n += len(x)
    dt = time.perf_counter() - t0
    return dict(images=n, seconds=round(dt, 3), imgs_per_s=round(n / dt, 1))


def main(argv=None):
    p = R.parser(__doc__, "baselines/torchvision_dataloader")
    R.quick_option(p, "--batches", 150, 20, "timed training steps", type=R.positive_int)
    p.add_argument("--bs", type=R.positive_int, default=64, help="batch size (default: 64)")
    p.add_argument("--workers", type=R.nonnegative_int, default=2, help="DataLoader worker processes (default: 2)")
    p.add_argument("--threads", type=R.positive_int, help="torch threads of the training process (default: torch's)")
    R.data_option(p)
    a = R.parse(p, argv)
    R.use_threads(a.threads)
    run = dict(measure(a.data, a.batches, a.bs, a.workers), bs=a.bs, workers=a.workers, precision="fp32")
    R.emit(run)
    summary = [dict(pipeline=f"torchvision per-sample transforms + DataLoader ({a.workers} workers)", bs=a.bs,
                    precision="fp32", imgs_per_s=round(run["imgs_per_s"]), epoch_s=round(60_000 / run["imgs_per_s"], 1))]
    cols = [("pipeline", "pipeline"), ("bs", "batch"), ("precision", "precision"), ("imgs_per_s", "images/s"),
            ("epoch_s", "one epoch (s, estimated)", ".1f")]
    R.report(a, [run], summary, cols, figures=dict(imgs_per_s=summary[0]["imgs_per_s"]))


if __name__ == "__main__":
    main()
