"""Latency of reading one drawn 280x280 canvas on the CPU: `to_mnist`, the model, and `predict()` end to end.

    python bench/latency.py [--model NAME[,NAME...]] [--repeat 300] [--threads N] [--weights-dir DIR] [--quick]

30 synthetic canvases (`digit_lab.styles.synth_canvases`) are cycled through; every call is timed on its own after 5
warm-up predictions; the table gives the median and 90th-percentile milliseconds. Inference runs in float32. The default
models: the card's default (`best`) and, when shipped, the `ensemble`.
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
    p.add_argument("--model", help="shipped model name(s), comma-separated (default: the card's default, and the ensemble if shipped)")
    p.add_argument("--weights-dir", type=Path, help="folder of weights (default: the package's)")
    R.quick_option(p, "--repeat", 300, 30, "timed calls per row", type=R.positive_int)
    p.add_argument("--threads", type=R.positive_int, help="torch threads (default: torch's choice)")
    a = R.parse(p, argv)
    import numpy as np, torch
    from digit_lab.inference import DigitPredictor, to_mnist
    from digit_lab.styles import synth_canvases
    R.use_threads(a.threads)
    canvases, _, _ = synth_canvases(30, seed=30_000, invert=None)
    from digit_lab.hub import model_card, shipped_models
    threads = dict(threads=a.threads) if a.threads else {}  # else the predictor's own default
    names = [n.strip() for n in a.model.split(",") if n.strip()] if a.model else \
        [model_card(a.weights_dir)["default"]] + (["ensemble"] if "ensemble" in shipped_models(a.weights_dir) else [])
    runs, summary, figures = [], [], {}
    for i, name in enumerate(names):
        pred = DigitPredictor.from_pretrained(name, weights_dir=a.weights_dir, **threads)
        tta = DigitPredictor(pred.model, name=pred.name, tta=True, **threads)
        prepared = [pred.prepare(c)[None] for c in canvases]
        for c in canvases[:5]: pred.predict(c)  # warm-up
        steps = ([("to_mnist", "to_mnist(canvas)", to_mnist, canvases)] if i == 0 else []) + [
                 ("model", "model forward (1 image)", pred.probabilities, prepared),
                 ("predict", "predict(canvas)", pred.predict, canvases),
                 ("predict_tta", "predict(canvas), tta=True", tta.predict, canvases)]
        for key, what, fn, items in steps:
            ts = timeit(fn, items, a.repeat)
            model = "-" if key == "to_mnist" else pred.name
            runs.append(dict(key=key, model=model, ms=[round(t, 4) for t in ts]))
            summary.append(dict(key=key, model=model, step=what, precision="fp32", median_ms=round(float(np.median(ts)), 3),
                                p90_ms=round(float(np.percentile(ts, 90)), 3)))
    cols = [("model", "model"), ("step", "step"), ("precision", "precision"), ("median_ms", "median (ms)"), ("p90_ms", "p90 (ms)")]
    for r in summary:  # the first model's keys as before (predict_median_ms ...), the others prefixed with their name
        prefix = "" if r["model"] in ("-", names[0]) else f"{r['model']}_"
        figures.update({f"{prefix}{r['key']}_{k}": r[k] for k in ("median_ms", "p90_ms")})
    R.report(a, runs, summary, cols, dict(figures, model=names[0], models=names),
             settings=dict(model=names[0], models=names, repeat=a.repeat, threads=torch.get_num_threads(), canvases=len(canvases)))


if __name__ == "__main__":
    main()
