"""Augmentation alone on the CPU: batched `digit_lab.augment` against torchvision's per-image pipeline.

    python bench/augment_speed.py [--images 512] [--reps 5] [--threads N] [--quick]

Images/second of each pipeline on `--images` MNIST training images, `--reps` times after one small warm-up call,
in float32. The per-image row is `digit_lab.augment.per_sample_torchvision` (torchvision.transforms.v2 RandomAffine +
RandomPerspective, one image at a time as a Dataset would); the batched affine + perspective row draws the same
distributions for the whole batch at once.
"""
import time
import _results as R


def images_per_s(aug, x, reps:int) -> float:
    aug(x[:8])  # warm-up
    t0 = time.perf_counter()
    for _ in range(reps): aug(x)
    return len(x) * reps / (time.perf_counter() - t0)


def main(argv=None):
    p = R.parser(__doc__, "augment_speed")
    R.quick_option(p, "--images", 512, 128, "images per call", type=R.positive_int)
    R.quick_option(p, "--reps", 5, 1, "timed calls per pipeline", type=R.positive_int)
    p.add_argument("--threads", type=R.positive_int, help="torch threads (default: torch's choice)")
    R.data_option(p)
    a = R.parse(p, argv)
    import torch
    from digit_lab.augment import (Compose, RandomAffine, RandomPerspective, default_augment, per_sample_torchvision,
                                   strong_augment)
    from digit_lab.data import mnist_floats
    R.use_threads(a.threads)
    x = mnist_floats(a.data)[0][:a.images]
    augs = {"per_image": ("torchvision v2, one image at a time (affine + perspective)", per_sample_torchvision()),
            "batched": ("batched affine + perspective", Compose(RandomAffine(12, (0.85, 1.1), 0.08, 12, p=1.),
                                                               RandomPerspective(0.3, p=0.3))),
            "default": ("batched `default_augment()`", default_augment()),
            "strong": ("batched `strong_augment()`", strong_augment())}
    summary = [dict(key=k, pipeline=what, precision="fp32", imgs_per_s=round(images_per_s(aug, x, a.reps)))
               for k, (what, aug) in augs.items()]
    for r in summary: r["vs_per_image"] = round(r["imgs_per_s"] / summary[0]["imgs_per_s"], 1)
    cols = [("pipeline", "pipeline"), ("precision", "precision"), ("imgs_per_s", "images/s"),
            ("vs_per_image", "vs per image", ",.1f")]
    figures = {f"{r['key']}_imgs_per_s": r["imgs_per_s"] for r in summary}
    figures.update({f"{r['key']}_vs_per_image": r["vs_per_image"] for r in summary[1:]})
    R.report(a, summary, summary, cols, figures, notes=f"{len(x):,} images per call, {a.reps} timed call(s), "
             f"torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
