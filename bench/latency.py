"""Latency of reading one drawn 280x280 canvas on the CPU: `to_mnist`, the model, and `predict()` end to end.

    python bench/latency.py [--model NAME] [--repeat 300] [--threads N] [--weights-dir DIR] [--quick]

30 synthetic canvases (`digit_lab.styles.synth_canvases`) are cycled through; every call is timed on its own after 5
warm-up predictions; the table gives the median and 90th-percentile milliseconds. Inference runs in float32.
"""
import time
from pathlib import Path
import _results as R


def timeit(fn, items:list, repeat:int) -> list[float]:
    "Milliseconds of each of `repeat` calls `fn(item)`, cycling through `items` (each call timed: we want p90 too)."
    ts = []
    for i in range(repeat):
        x = items[i % len(items)]
        t0 = time.perf_counter(); fn(x); ts.append((time.perf_counter() - t0) * 1e3)
    return ts


def main(argv=None):
    p = R.parser(__doc__, "latency")
    p.add_argument("--model", help="shipped model name (default: the best shipped model)")
    p.add_argument("--weights-dir", type=Path, help="folder of weights (default: the package's)")
    R.quick_option(p, "--repeat", 300, 30, "timed calls per row", type=R.positive_int)
    p.add_argument("--threads", type=R.positive_int, help="torch threads (default: torch's choice)")
    a = R.parse(p, argv)
    import numpy as np, torch
    from digit_lab.inference import DigitPredictor, to_mnist
    from digit_lab.styles import synth_canvases
    R.use_threads(a.threads)
    canvases, _, _ = synth_canvases(30, seed=30_000, invert=None)
    threads = dict(threads=a.threads) if a.threads else {}  # else the predictor's own default
    pred = DigitPredictor.from_pretrained(a.model, weights_dir=a.weights_dir, **threads)
    tta = DigitPredictor(pred.model, name=pred.name, tta=True, **threads)
    prepared = [pred.prepare(c)[None] for c in canvases]
    for c in canvases[:5]: pred.predict(c)  # warm-up
    steps = [("to_mnist", "to_mnist(canvas)", to_mnist, canvases),
             ("model", f"model forward ({pred.name}, 1 image)", pred.probabilities, prepared),
             ("predict", "predict(canvas)", pred.predict, canvases),
             ("predict_tta", "predict(canvas), tta=True", tta.predict, canvases)]
    runs, summary = [], []
    for key, what, fn, items in steps:
        ts = timeit(fn, items, a.repeat)
        runs.append(dict(key=key, ms=[round(t, 4) for t in ts]))
        summary.append(dict(key=key, step=what, precision="fp32", median_ms=round(float(np.median(ts)), 3),
                            p90_ms=round(float(np.percentile(ts, 90)), 3)))
    cols = [("step", "step"), ("precision", "precision"), ("median_ms", "median (ms)"), ("p90_ms", "p90 (ms)")]
    figures = {f"{r['key']}_{k}": r[k] for r in summary for k in ("median_ms", "p90_ms")}
    R.report(a, runs, summary, cols, dict(figures, model=pred.name),
             settings=dict(model=pred.name, repeat=a.repeat, threads=torch.get_num_threads(), canvases=len(canvases)))


if __name__ == "__main__":
    main()
