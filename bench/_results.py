"""What every bench script shares: its command line (`--quick`, `--results`), the machine it ran on, fresh worker
processes, and the results file it writes, `bench/results/<script>.json`, with the Markdown table it prints.

The file's keys are documented in bench/results/README.md; notebooks and the README render from them.
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, shlex, subprocess, sys, tempfile, time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent                                # the clone: workers run here
RESULTS = BENCH / "results"
SCHEMA = 1                                         # bumped if a key changes meaning
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")

if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))  # `import digit_lab` from a plain clone, too
from digit_lab.core import CommandParser, atomic_write, data_dir  # noqa: E402
from digit_lab.core import nonnegative_int, positive_float, positive_int  # noqa: E402, F401 (the scripts' argument types)


def seed_list(s:str) -> list[int]:
    "argparse type: `0,1,2` -> [0, 1, 2]."
    try: seeds = [int(v) for v in s.split(",")]
    except ValueError: seeds = []
    if not seeds or min(seeds) < 0: raise argparse.ArgumentTypeError(f"{s!r} is not a list of seeds like 0,1,2")
    return seeds


def parser(doc:str, # the script's docstring: its first line becomes the description
           script:str, # the script's path in bench/ without `.py`; results go to bench/results/{its name}.json
          ) -> CommandParser:
    "A parser with the options every bench script has; add others with `quick_option` or `add_argument`."
    p = CommandParser(prog=f"python bench/{script}.py", description=doc.strip().splitlines()[0],
                      epilog="More: the script's docstring and bench/README.md.")
    p.set_defaults(_script=Path(script).name, _quick={})
    p.add_argument("--quick", action="store_true", help="the fewest seeds/rounds that exercise the script (a smoke "
                   "run; its results file says quick: true)")
    p.add_argument("--results", type=Path, help=f"results file (default: bench/results/{Path(script).name}.json)")
    p.add_argument("--no-results", action="store_true", help="print only; write no results file")
    return p


def quick_option(p:CommandParser, flag:str, full, quick, help:str, type=str):
    "An option whose default is `full`, or `quick` under `--quick` (both given as on the command line)."
    p.add_argument(flag, type=type, default=None, help=f"{help} (default: {full}; with --quick: {quick})")
    p.get_default("_quick")[flag.lstrip("-").replace("-", "_")] = (type(str(full)), type(str(quick)))


def data_option(p:CommandParser):
    p.add_argument("--data", type=Path, default=data_dir(), help="dataset folder; MNIST goes in DATA/MNIST/raw, copied "
                   "from $DIGIT_LAB_MNIST_DIR if set, else downloaded by torchvision (default: digit_lab.core.data_dir())")


def precision_option(p:CommandParser):
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "both"), default="auto",
                   help="CPU training precision(s) of our rows: auto = bf16 and fp32 on CPUs with bfloat16 hardware, AMX or AVX-512 BF16 (where bf16 pays "
                        "off), fp32 only elsewhere (default: auto)")


def precisions(choice:str) -> list[str]:
    "The precisions to measure for `--precision choice`, bf16 first."
    from digit_lab.device import cpu_has_bf16
    if choice == "auto": choice = "both" if cpu_has_bf16() else "fp32"
    return ["bf16", "fp32"] if choice == "both" else [choice]


def parse(p:CommandParser, argv:list[str]|None=None) -> argparse.Namespace:
    "Parse, fill the quick/full defaults, and remember when and how the run started."
    a = p.parse_args(argv)
    for k, (full, quick) in a._quick.items():
        if getattr(a, k) is None: setattr(a, k, quick if a.quick else full)
    a._path = Path(a.results or RESULTS / f"{a._script}.json")
    if not a.no_results and not getattr(a, "worker", None):  # fail now, not after the whole run
        try:
            if a._path.is_dir(): raise IsADirectoryError(21, "it is a folder")
            a._path.parent.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=a._path.parent, prefix=".write-test-"); os.close(fd); os.unlink(probe)
        except OSError as e:
            p.error(f"cannot write results to {a._path}: {e.strerror or e}; use --results FILE or --no-results")
    a._started, a._t0 = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()
    env = " ".join(f"{k}={os.environ[k]}" for k in THREAD_ENV if k in os.environ)
    args = sys.argv[1:] if argv is None else argv
    a._command = (env + " " if env else "") + shlex.join(["python", f"bench/{_rel(sys.argv[0])}", *map(str, args)])
    return a


def _rel(script) -> str:
    try: return Path(script).resolve().relative_to(BENCH).as_posix()
    except ValueError: return Path(script).name


def machine() -> dict:
    "What the figures were measured on."
    import torch
    from digit_lab.device import cpu_has_amx, cpu_has_bf16, machine_name
    return dict(name=machine_name(), cores=os.cpu_count(), os=platform.platform(), python=platform.python_version(),
                torch=torch.__version__, amx=cpu_has_amx(), bf16=cpu_has_bf16(), torch_threads=torch.get_num_threads(),
                load_average=round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
                env={k: os.environ[k] for k in THREAD_ENV if k in os.environ})


def emit(result:dict):
    "A worker's answer: one `RESULT {json}` line on stdout (what `worker` reads)."
    print("RESULT " + json.dumps(result), flush=True)


def worker(cmd:list, # a command line; a fresh process, run in the clone
           env:dict|None=None) -> dict:
    "Run `cmd` and return what it `emit`ted; on failure, exit with the end of its stderr."
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    if p.returncode or not lines:
        sys.exit(f"{shlex.join(str(c) for c in cmd)} failed (exit status {p.returncode}):\n{p.stderr[-1500:]}")
    return json.loads(lines[-1][len("RESULT "):])


def use_threads(threads:int|None):
    "Run torch on `threads` threads, here and in the worker processes started after this (None: torch's choice)."
    if not threads: return
    os.environ.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if "torch" in sys.modules: sys.modules["torch"].set_num_threads(threads)


def mean(xs): return sum(xs) / len(xs)


def _cell(v, fmt):
    if v is None: return "-"
    if fmt: return format(v, fmt)
    if isinstance(v, bool) or not isinstance(v, (int, float)): return str(v)
    return f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"


def render(results:dict) -> str:
    "The Markdown table of a results file's `summary` rows, as the script printed it."
    cols = results["columns"]
    lines = ["| " + " | ".join(c["header"] for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cell(r.get(c["key"]), c.get("format")) for c in cols) + " |" for r in results["summary"]]
    return "\n".join(lines)


def load(script:str) -> dict:
    "The results file `bench/results/{script}.json`."
    return json.loads((RESULTS / f"{script}.json").read_text())


def report(a:argparse.Namespace, # from `parse`
           runs:list[dict], # every raw measurement (one dict per seed / round / call)
           summary:list[dict], # the table's rows
           columns:list[tuple], # (key, header) or (key, header, format spec) per table column
           figures:dict|None=None, # named headline numbers for prose
           settings:dict|None=None, # what the run measured with (default: the parsed options)
           notes:str="") -> dict:
    "Print the summary table (with the machine) and write the results file atomically, unless `--no-results`."
    settings = settings if settings is not None else {k: (str(v) if isinstance(v, Path) else v)
                                                      for k, v in vars(a).items() if not k.startswith("_")}
    res = dict(schema=SCHEMA, script=a._script, quick=a.quick, date=a._started.isoformat(timespec="seconds"),
               command=a._command, seconds=round(time.perf_counter() - a._t0, 1), machine=machine(),
               settings=settings, notes=notes,
               columns=[dict(key=c[0], header=c[1], **({"format": c[2]} if len(c) > 2 else {})) for c in columns],
               summary=summary, figures=figures or {}, runs=runs)
    res["table"] = render(res)
    m = res["machine"]
    from digit_lab.device import cpu_features
    print(f"\n{m['name']}, {cpu_features(m)}, torch threads {m['torch_threads']}"
          f"{' (QUICK run: not timing evidence)' if a.quick else ''}\n\n{res['table']}")
    if notes: print(f"\n{notes}")
    if not a.no_results:
        atomic_write(a._path, json.dumps(res, indent=1) + "\n")
        print(f"\nwrote {_shown(a._path)}", file=sys.stderr)
    return res


def _shown(path:Path) -> str:
    try: return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError: return str(path)
