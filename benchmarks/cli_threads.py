"""The command line's training time on torch (CPU) beside NumPy's, idle and with the cores kept busy.

Each run is a fresh ``python -m xpbackprop train ...`` process (torch's thread settings are
process-wide, so one process per setting), and its time is the one the command prints itself
(``trained N epochs in S s``: the training loop alone, not the imports). "loaded" runs the same
commands while ``os.cpu_count()`` other processes spin on every core, as a shared machine's
neighbours do. Each line gives the median and the minimum of ``--repeats`` runs (interleaved) and
torch's ratio to NumPy for each: on a shared machine the minimum is the least disturbed run.

    PYTHONPATH=. python benchmarks/cli_threads.py                    # both conditions, 3 repeats
    PYTHONPATH=. python benchmarks/cli_threads.py --extra=--threads=0  # torch at its own defaults
    PYTHONPATH=. python benchmarks/cli_threads.py --json cli_threads.json
    python benchmarks/cli_threads.py --checkout ../other-checkout           # another version of the code

``--extra`` passes options to every ``train`` command (``--threads=N`` where the command line
has that option); ``--env NAME=VALUE`` sets an environment variable for the commands.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

#: the command line's own data sets, with the settings the issue measured (spirals) and the defaults
CASES = {
    "spirals": ["spirals", "--hidden", "64,64", "--epochs", "20"],
    "xor": ["xor"],
    "digits": ["digits", "--epochs", "5"],
}
TRAINED = re.compile(r"^trained (\d+) epochs in ([0-9.]+) s", re.MULTILINE)


@contextmanager
def busy_cores(n: int):
    """``n`` processes that each keep a core busy until the block ends."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for p in spinners:
            p.kill()
        for p in spinners:
            p.wait()


def train_seconds(case: list[str], backend: str, extra: list[str], env: dict[str, str],
                  checkout: Path) -> float:
    """The training time one ``xpbackprop train`` process of ``checkout`` reports (run there: ``-m``
    puts the current folder first on the path)."""
    argv = [sys.executable, "-m", "xpbackprop", "train", *case, "--backend", backend, "--no-progress",
            *extra]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900, cwd=checkout)
    match = TRAINED.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return float(match.group(2))


def measure(conditions: list[str], repeats: int, extra: list[str], env: dict[str, str],
            checkout: Path) -> list[dict]:
    rows = []
    for condition in conditions:
        context = busy_cores(os.cpu_count() or 1) if condition == "loaded" else _nothing()
        with context:
            for name, case in CASES.items():
                times: dict[str, list[float]] = {"numpy": [], "torch": []}
                for _ in range(repeats):  # interleaved, so that drifts in the load hit both alike
                    for backend in times:
                        times[backend].append(train_seconds(case, backend, extra, env, checkout))
                numpy_s, torch_s = (statistics.median(times[b]) for b in ("numpy", "torch"))
                numpy_min, torch_min = (min(times[b]) for b in ("numpy", "torch"))
                row = {"condition": condition, "data": name, "numpy_s": numpy_s, "torch_s": torch_s,
                       "ratio": torch_s / numpy_s, "ratio_of_minima": torch_min / numpy_min, "runs": times}
                print(f"{condition:<7} {name:<8} median: numpy {numpy_s:7.3f} s, torch {torch_s:7.3f} s, "
                      f"torch/numpy {torch_s / numpy_s:5.2f};  minimum: numpy {numpy_min:7.3f} s, "
                      f"torch {torch_min:7.3f} s, torch/numpy {torch_min / numpy_min:5.2f}", flush=True)
                rows.append(row)
    return rows


@contextmanager
def _nothing():
    yield


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--conditions", default="idle,loaded", help="idle, loaded or both (default)")
    parser.add_argument("--extra", action="append", default=[], help="an option for every train command")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the xpbackprop checkout to run (default: this one), to compare two")
    args = parser.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(args.checkout.resolve()) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(item.split("=", 1) for item in args.env)
    load = os.getloadavg()
    print(f"{args.checkout}: {os.cpu_count()} CPUs, load average at start {load[0]:.2f}; extra options "
          f"{args.extra}, environment {args.env}")
    rows = measure(args.conditions.split(","), args.repeats, args.extra, env, args.checkout.resolve())
    if args.json is not None:
        args.json.write_text(json.dumps({"checkout": str(args.checkout), "extra": args.extra, "env": args.env,
                                         "load_at_start": load, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
