"""CPU cost of every registered model and of the batched augmentation vs torchvision's per-image pipeline.
Usage: python bench/models_augment_speed.py [THREADS]   (prints Markdown tables; numbers move with machine load)"""
import sys, time, torch
from digit_lab.data import mnist_floats
from digit_lab.models import MODEL_NAMES, get_model, model_table, markdown_table, train_throughput
from digit_lab.augment import default_augment, strong_augment, per_sample_torchvision, RandomAffine, RandomPerspective, Compose

if len(sys.argv) > 1: torch.set_num_threads(int(sys.argv[1]))
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
rows = model_table()
for r in rows: r["channels_last_img_s"] = round(train_throughput(get_model(r["model"]), channels_last=True))
print(markdown_table(rows), "\n")

x = mnist_floats()[0][:512]
def images_per_s(aug, reps=5):
    aug(x[:8]); t0 = time.perf_counter()
    for _ in range(reps): aug(x)
    return len(x) * reps / (time.perf_counter() - t0)
augs = {"torchvision v2 per image (affine + perspective)": per_sample_torchvision(),
        "batched affine + perspective": Compose(RandomAffine(12, (0.85, 1.1), 0.08, 12, p=1.), RandomPerspective(0.3, p=0.3)),
        "batched default_augment()": default_augment(), "batched strong_augment()": strong_augment()}
print(markdown_table([dict(pipeline=k, img_s=round(images_per_s(a))) for k, a in augs.items()]))
