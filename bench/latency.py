"""Latency of reading one drawn 280x280 canvas on this CPU: to_mnist, the model, and predict() end to end.

    python bench/latency.py [--model NAME] [--repeat 300] [--threads N] [--weights-dir DIR]

Prints a table of median and 90th-percentile milliseconds. The goal: predict() of one canvas <= 5 ms median.
"""
import argparse, time
import numpy as np, torch
from digit_lab.styles import synth_canvases
from digit_lab.inference import DigitPredictor, to_mnist

def timeit(fn, items, repeat):
    ts = []
    for i in range(repeat):
        x = items[i % len(items)]
        t0 = time.perf_counter(); fn(x); ts.append((time.perf_counter() - t0) * 1e3)
    return np.median(ts), np.percentile(ts, 90)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None); ap.add_argument("--weights-dir", default=None)
    ap.add_argument("--repeat", type=int, default=300); ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads: torch.set_num_threads(args.threads)
    canvases, _, _ = synth_canvases(30, seed=30_000, invert=None)
    pred = DigitPredictor.from_pretrained(args.model, weights_dir=args.weights_dir)
    tta = DigitPredictor(pred.model, name=pred.name, tta=True)
    prepared = [pred.prepare(c)[None] for c in canvases]
    for c in canvases[:5]: pred.predict(c)  # warm-up
    rows = [("to_mnist(canvas)", *timeit(to_mnist, canvases, args.repeat)),
            (f"model forward ({pred.name}, 1 image)", *timeit(pred.probabilities, prepared, args.repeat)),
            ("predict(canvas)", *timeit(pred.predict, canvases, args.repeat)),
            ("predict(canvas), tta=True", *timeit(tta.predict, canvases, args.repeat))]
    print(f"torch threads: {torch.get_num_threads()}, repeats: {args.repeat}")
    print(f"{'step':<38}{'median ms':>10}{'p90 ms':>10}")
    for name, med, p90 in rows: print(f"{name:<38}{med:>10.2f}{p90:>10.2f}")
    return rows

if __name__ == "__main__": main()
