"""Compare the shipped models on the whole MNIST test set: accuracy, parameters, weight-file size, one-image CPU latency.

    DIGIT_LAB_MNIST_DIR=/path/to/mnist python bench/compare_models.py [--runs 200] [--threads 1]

Prints a Markdown table (the same rows as `digit_lab.evaluate.compare_models`) and the machine it ran on.
Latency is the median of `--runs` single-image calls on `--threads` CPU threads, after 20 warm-up calls.
"""
import argparse, time


from digit_lab.evaluate import compare_models
from digit_lab.train import machine_name
from digit_lab.models import markdown_table


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200, help="timed single-image calls per model")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for the latency measurement")
    p.add_argument("--root", default="data", help="MNIST folder (offline: $DIGIT_LAB_MNIST_DIR)")
    a = p.parse_args()
    from digit_lab.data import mnist_floats
    x, y = mnist_floats(a.root, train=False)
    t0 = time.perf_counter()
    rows = compare_models(x=x, y=y, runs=a.runs, threads=a.threads)
    print(markdown_table(rows))
    print(f"\n{len(x):,} test images; latency: median of {a.runs} one-image calls on {a.threads} thread(s); "
          f"{machine_name()}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
