"""Compare the shipped models on the whole MNIST test set: accuracy, parameters, weight-file size, one-image CPU latency.

    python bench/compare_models.py [--runs 200] [--threads 1] [--quick]

The rows are those of `digit_lab.evaluate.compare_models`; `card accuracy` is what the model card records. Latency is
the median of `--runs` single-image calls on `--threads` CPU threads, after 20 warm-up calls, in float32.
"""
import _results as R


def main(argv=None):
    p = R.parser(__doc__, "compare_models")
    R.quick_option(p, "--runs", 200, 20, "timed single-image calls per model", type=R.positive_int)
    p.add_argument("--threads", type=R.positive_int, default=1, help="CPU threads for the latency (default: 1)")
    R.data_option(p)
    a = R.parse(p, argv)
    from digit_lab.data import mnist_floats
    from digit_lab.evaluate import compare_models
    x, y = mnist_floats(a.data, train=False)
    summary = [dict(r, precision="fp32") for r in compare_models(x=x, y=y, runs=a.runs, threads=a.threads)]
    cols = [("model", "model"), ("arch", "architecture"), ("accuracy", "test accuracy (%)"),
            ("card_accuracy", "card accuracy (%)"), ("params", "params"), ("file_kb", "file (KB)", ",.1f"),
            ("precision", "precision"), ("latency_ms", "latency (ms)", ".3f")]
    R.report(a, summary, summary, cols, notes=f"{len(x):,} test images; latency: median of {a.runs} one-image calls on "
             f"{a.threads} thread(s)")


if __name__ == "__main__":
    main()
