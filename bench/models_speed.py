"""Training cost of every registered architecture on the CPU: size, multiply-adds and training images/second.

    python bench/models_speed.py [--bs 256] [--min-run-time 1] [--threads N] [--precision auto|fp32|bf16|both] [--quick]

`digit_lab.timing.train_throughput`: forward, backward and an SGD step on one random batch, after 2 warm-up steps,
the median step of `--min-run-time` seconds of steps (`torch.utils.benchmark`'s `blocked_autorange`), in the default
memory layout and in channels_last, in each precision asked for (`auto`: bfloat16 and float32 on CPUs
with bfloat16 hardware: AMX or AVX-512 BF16; float32 elsewhere). One process; numbers move with machine load.
"""
import _results as R


def main(argv=None):
    p = R.parser(__doc__, "models_speed")
    p.add_argument("--bs", type=R.positive_int, default=256, help="batch size (default: 256)")
    R.quick_option(p, "--min-run-time", 1.0, 0.2, "seconds of timed steps per measurement", type=R.positive_float)
    p.add_argument("--threads", type=R.positive_int, help="torch threads (default: torch's choice)")
    R.precision_option(p)
    a = R.parse(p, argv)
    import torch
    from digit_lab.models import get_model, model_table
    from digit_lab.timing import train_throughput
    R.use_threads(a.threads)
    summary = []
    for info in model_table():
        for prec in R.precisions(a.precision):
            amp = torch.bfloat16 if prec == "bf16" else None
            speed = {layout: round(train_throughput(get_model(info["model"]), bs=a.bs, min_run_time=a.min_run_time, amp=amp,
                                                    channels_last=layout == "channels_last"))
                     for layout in ("contiguous", "channels_last")}
            summary.append(dict(info, precision=prec, train_img_s=speed["contiguous"],
                                channels_last_img_s=speed["channels_last"]))
    cols = [("model", "model"), ("params", "params"), ("mmacs", "multiply-adds (M)"), ("kb", "float32 size (KB)", ",.1f"),
            ("precision", "precision"), ("train_img_s", "training images/s"),
            ("channels_last_img_s", "training images/s, channels_last")]
    R.report(a, summary, summary, cols, notes=f"batch {a.bs}, {a.min_run_time:g} s of timed steps per measurement, "
             f"torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
