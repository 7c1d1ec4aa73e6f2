"""An adversarial run against the promises of docs/reliability.md: bad inputs of every kind, each
judged by what the library did with it.

Outcomes (one per input tried):

- ``clear``: the documented exception (``ModelFileError``, ``ValueError``, ``TypeError``, an
  ``OSError`` naming the path), raised before anything changed;
- ``harmless``: accepted, and the result is the undamaged input's (a bit flipped in a zip field
  nothing reads; a resumed run with the uninterrupted run's weights and history);
- ``unclear``: another exception (``AttributeError``, ``IndexError``, a raw ``MemoryError``, an
  ``OSError`` without the path ...), or the right one after something changed;
- ``accepted``: a damaged input taken, with a result other than the undamaged input's;
- ``blowup``: a hang (a child process past its time) or memory beyond 8 times the file's size
  plus 4 MiB (tracemalloc);
- ``loss``: data lost: a torn file after a killed save, trained weights or history lost after a
  failed write.

Sections: model files (every bit flipped, truncations, crafted compressible members, crafted
class lists and member names, pipes and devices), checkpoints (every field of ``meta`` of both
versions set to bad values, history arrays damaged), killed saves (``SIGKILL`` at seeded
moments: torn files, leftover temporary files), failing writes (``EROFS``/``ENOSPC`` injected
into ``fit(checkpoint=...)``), and bad training inputs on NumPy, PyTorch and Dask. Seeds are
fixed; the run takes a few minutes on two cores::

    PYTHONPATH=. python benchmarks/adversarial.py [--json figures.json] [--quick]
"""

from __future__ import annotations

import argparse
import collections
import copy
import errno
import importlib.util
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import xpbackprop as xb

OUTCOMES = ("clear", "harmless", "unclear", "accepted", "blowup", "loss")
PEAK_FACTOR, PEAK_SLACK = 8, 2**22
ROOT = Path(__file__).resolve().parents[1]


class Tally:
    """Outcomes per section, and a few examples of each bad one."""

    def __init__(self) -> None:
        self.counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.examples: dict[str, list[str]] = collections.defaultdict(list)

    def add(self, section: str, outcome: str, detail: str = "") -> None:
        self.counts[section][outcome] += 1
        if outcome not in ("clear", "harmless") and len(self.examples[section]) < 12:
            self.examples[section].append(f"{outcome}: {detail[:200]}")

    def table(self) -> str:
        lines = [f"{'section':<28}{'tried':>8}" + "".join(f"{o:>10}" for o in OUTCOMES)]
        total = collections.Counter()
        for section, counts in self.counts.items():
            total.update(counts)
            cells = "".join(f"{counts[o]:>10}" for o in OUTCOMES)
            lines.append(f"{section:<28}{sum(counts.values()):>8}{cells}")
        lines.append(f"{'all':<28}{sum(total.values()):>8}" + "".join(f"{total[o]:>10}" for o in OUTCOMES))
        for section, examples in self.examples.items():
            lines += [f"  {section}: {e}" for e in examples]
        return "\n".join(lines)


def host(net: Any) -> list[np.ndarray]:
    return [xb.to_numpy(p) for p in net.parameters]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


def load_outcome(path: Path, reference: tuple[dict, list[np.ndarray], Any]) -> tuple[str, str]:
    """Load ``path`` under tracemalloc and judge it against the undamaged file's network."""
    size = path.stat().st_size
    tracemalloc.start()
    try:
        try:
            net = xb.load(path)
            classes = xb.saved_classes(path)
        except xb.ModelFileError as exc:
            outcome = ("clear", "") if str(path) in str(exc) else ("unclear", f"unnamed: {exc}")
        except Exception as exc:
            outcome = ("unclear", f"{type(exc).__name__}: {exc}")
        else:
            config, params, labels = reference
            equal = net.config() == config and same(host(net), params) and classes == labels
            outcome = ("harmless", "") if equal else ("accepted", "loaded another network")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if peak > PEAK_FACTOR * size + PEAK_SLACK:
        return "blowup", f"{size}-byte file took {peak} bytes"
    return outcome


# --- model files -------------------------------------------------------------------------------------


def model_files(tally: Tally, work: Path, quick: bool) -> None:
    net = xb.MLP([4, 6, 3], hidden="tanh", dtype="float32", seed=1)
    good = work / "good.npz"
    labels = ["a", "b", "c"]
    xb.save(net, good, classes=labels)
    reference = (net.config(), host(net), labels)
    data = good.read_bytes()
    path = work / "damaged.npz"
    rng = np.random.default_rng(19)
    bits = range(len(data) * 8)
    if quick:
        bits = sorted(rng.choice(len(data) * 8, 2000, replace=False))
    for bit in bits:  # every bit flipped
        raw = bytearray(data)
        raw[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(raw))
        tally.add("model: bit flips", *load_outcome(path, reference))
    for cut in range(0, len(data), 7):
        path.write_bytes(data[:cut])
        tally.add("model: truncations", *load_outcome(path, reference))
    compressible(tally, work, reference)
    crafted_members(tally, work, good, reference)
    not_regular(tally, work)


def _mlp_bytes(sizes: list[int], dtype: str, params: list[np.ndarray], compressed: bool) -> bytes:
    config = {"class": "MLP", "sizes": sizes, "hidden": ["tanh"] * (len(sizes) - 2), "output": "softmax",
              "loss": {"name": "cross_entropy", "reduction": "mean"}, "dtype": dtype}
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(
        buf, format_version=np.asarray(1), config=np.asarray(json.dumps(config)),
        **{f"param_{i}": p for i, p in enumerate(params)})
    return buf.getvalue()


def compressible(tally: Tally, work: Path, reference: Any) -> None:
    """Valid architectures whose members are zeros or constants, compressed: zip bombs."""
    path = work / "bomb.npz"
    for width in (256, 1024, 2048, 4096):
        for dtype in ("float32", "float64"):
            for fill in (0.0, 0.5):
                shapes = [(width, width), (width,), (width, 2), (2,)]
                params = [np.full(s, fill, dtype) for s in shapes]
                path.write_bytes(_mlp_bytes([width, width, 2], dtype, params, compressed=True))
                outcome, detail = load_outcome(path, ({}, [], None))
                # a compressed file within the factor loads another network than `reference`: fine
                outcome = "harmless" if outcome == "accepted" else outcome
                tally.add("model: compressed members", outcome, detail)


def crafted_members(tally: Tally, work: Path, good: Path, reference: Any) -> None:
    with np.load(good) as f:
        content = {k: f[k] for k in f.files}
    path = work / "crafted.npz"
    cases = []
    for classes in (["a", "b"], ["a", "b", "c", "d"], ["a", "a", "b"], "abc", [1, [2], 3], None):
        cases.append({"classes": np.asarray(json.dumps({"classes": classes}))})
    cases += [{"classes": np.asarray('{"classes": [1.0, Infinity, 2.0]}')},
              {"config": np.asarray(json.dumps({**reference[0], "output": "identity"}))},
              {"config": np.asarray(json.dumps({**reference[0], "sizes": [4, 2**40, 3]}))},
              {"param_4": np.zeros(3)}, {"extra": np.zeros(2)}, {"classes ": content["classes"]}]
    for change in cases:
        np.savez(path, **{**content, **change})
        tally.add("model: crafted members", *load_outcome(path, reference))
    for name in ("clbsses.npy", "config.np", "param_0.npz", "Classes.npy"):  # member names damaged
        with zipfile.ZipFile(good) as zf, zipfile.ZipFile(path, "w") as out:
            for info in zf.infolist():
                out.writestr(name if info.filename == "classes.npy" else info.filename, zf.read(info))
        tally.add("model: crafted members", *load_outcome(path, reference))


def not_regular(tally: Tally, work: Path) -> None:
    fifo = work / "pipe.npz"
    os.mkfifo(fifo)
    targets = [str(fifo), "/dev/zero", "/dev/null", str(work)]
    for target in targets:
        for call in ("xb.load(p)", "xb.saved_classes(p)"):
            code = (f"import xpbackprop as xb\np = {target!r}\ntry:\n    {call}\n"
                    "except (xb.ModelFileError, IsADirectoryError) as e:\n    print('clear', e)\n"
                    "except Exception as e:\n    print('unclear', type(e).__name__, e)\n")
            try:
                result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                        timeout=30, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            except subprocess.TimeoutExpired:
                tally.add("model: pipes and devices", "blowup", f"{call} on {target} waited 30 s")
                continue
            word = (result.stdout.split() or ["unclear"])[0]
            tally.add("model: pipes and devices", word if word in OUTCOMES else "unclear",
                      result.stdout + result.stderr[-200:])


# --- checkpoints -------------------------------------------------------------------------------------


def _data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    return X[:24], y[:24], (X[24:], y[24:])


RUN = dict(epochs=5, lr=0.05, batch_size=7, optimizer="adam", schedule="adaptive", n_iter_no_change=1,
           seed=3)


def _net(seed: int = 0) -> Any:
    return xb.MLP([3, 5, 3], hidden="tanh", dtype="float64", seed=seed)


BAD_VALUES = [math.nan, math.inf, -math.inf, -1, 0, 0.5, 1e300, 10**30, "x", None, [], {}, True]


def _leaves(value: Any, where: tuple = ()) -> list[tuple]:
    """The paths of every value inside nested dicts and lists (the rng's state among them)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*where, k))] or [where]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _leaves(v, (*where, i))]
    return [where]


def _set(tree: Any, where: tuple, value: Any) -> None:
    for key in where[:-1]:
        tree = tree[key]
    tree[where[-1]] = value


def checkpoints(tally: Tally, work: Path, quick: bool) -> None:
    X, y, validation = _data()
    whole = _net()
    whole_history = whole.fit(X, y, validation_data=validation, **RUN)
    expected = host(whole), whole_history
    path = work / "c.npz"
    _net().fit(X, y, validation_data=validation, checkpoint=path,
               callbacks=[lambda net, e, logs: e == 3], **RUN)
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    meta = json.loads(str(content["meta"]))
    v1 = ROOT / "tests" / "data" / "checkpoint_adam_v1.npz"
    cases: list[tuple[str, str, dict]] = []
    for where in _leaves(meta):
        for bad in BAD_VALUES[: 4 if quick else None]:
            edited = copy.deepcopy(meta)
            _set(edited, where, bad)
            cases.append(("checkpoint v2: meta fields", f"meta{list(where)} = {bad!r}",
                          {**content, "meta": np.asarray(json.dumps(edited))}))
    for key in [k for k in content if k.startswith("history_")]:
        arr = content[key]
        first = np.arange(arr.size) == 0
        edits = [np.where(first, value, arr) for value in (-1, 1e300, np.inf)] if arr.dtype.kind == "f" else [
            np.where(first, -1, arr), np.where(first, 10**6, arr)]
        for changed in (arr[:-1], np.append(arr, arr[-1:]), arr[:0], *edits, np.full(arr.shape, np.nan),
                        arr.astype(str)):
            cases.append(("checkpoint v2: history arrays", f"{key} = {changed!r}", {**content, key: changed}))
    for case, what, edited in cases:
        np.savez(path, **edited)
        outcome, detail = resume_outcome(path, X, y, validation, expected)
        tally.add(case, outcome, f"{what}: {detail}")
    with np.load(v1) as f:
        old = {k: f[k] for k in f.files}
    v1_meta = json.loads(str(old["meta"]))
    v1_resume = version1_resume()
    for where in _leaves(v1_meta):
        for bad in BAD_VALUES[: 4 if quick else None]:
            edited = copy.deepcopy(v1_meta)
            _set(edited, where, bad)
            np.savez(path, **{**old, "meta": np.asarray(json.dumps(edited))})
            outcome, detail = v1_resume(path)
            tally.add("checkpoint v1: meta fields", outcome, f"meta{list(where)} = {bad!r}: {detail}")


def resume_outcome(path: Path, X: Any, y: Any, validation: Any,
                   expected: tuple[list[np.ndarray], Any]) -> tuple[str, str]:
    net = _net(seed=5)
    before, state = host(net), net.rng.bit_generator.state
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = net.fit(X, y, validation_data=validation, resume=path, **RUN)
    except (xb.ModelFileError, ValueError, TypeError) as exc:
        unchanged = same(host(net), before) and net.rng.bit_generator.state == state
        if not unchanged:
            return "unclear", f"changed before {type(exc).__name__}: {exc}"
        return ("clear", "") if str(path) in str(exc) else ("unclear", f"unnamed: {exc}")
    except Exception as exc:
        return "unclear", f"{type(exc).__name__}: {exc}"
    return _resumed(net, history, expected, path)


def _resumed(net: Any, history: Any, expected: tuple[list[np.ndarray], Any], path: Path) -> tuple[str, str]:
    """A damaged checkpoint resumed: harmless where the weights and the history are the uninterrupted
    run's, else accepted (naming what differs, and the edit)."""
    weights = same(host(net), expected[0])
    equal = {k: v == getattr(expected[1], k) or str(v) == str(getattr(expected[1], k))
             for k, v in vars(history).items()}
    if weights and all(equal.values()):
        return "harmless", ""
    differing = [k for k, ok in equal.items() if not ok]
    return "accepted", ("other weights; " if not weights else "") + f"history {differing}"


def version1_resume() -> Callable[[Path], tuple[str, str]]:
    spec = importlib.util.spec_from_file_location("make_version1_files",
                                                  ROOT / "tests" / "data" / "make_version1_files.py")
    v1 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(v1)
    X, y, _, _ = v1.version1_data()
    template, kwargs, _ = v1.version1_runs()["checkpoint_adam_v1.npz"]
    whole = copy.deepcopy(template)
    whole_history = whole.fit(X, y, **kwargs)
    expected = host(whole), whole_history

    def judge(path: Path) -> tuple[str, str]:
        net = copy.deepcopy(template)
        before, state = host(net), net.rng.bit_generator.state
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                history = net.fit(X, y, resume=path, **kwargs)
        except (xb.ModelFileError, ValueError, TypeError) as exc:
            if not (same(host(net), before) and net.rng.bit_generator.state == state):
                return "unclear", f"changed before {type(exc).__name__}: {exc}"
            return ("clear", "") if str(path) in str(exc) else ("unclear", f"unnamed: {exc}")
        except Exception as exc:
            return "unclear", f"{type(exc).__name__}: {exc}"
        return _resumed(net, history, expected, path)

    return judge


# --- killed saves ------------------------------------------------------------------------------------

SAVER = """
import sys
import xpbackprop as xb
net = xb.MLP([1000, 1000, 10], dtype="float32", seed=int(sys.argv[2]))
print("ready", flush=True)
while True:
    xb.save(net, sys.argv[1])
"""


def killed_saves(tally: Tally, work: Path, quick: bool) -> None:
    target = work / "m.npz"
    rng = np.random.default_rng(5)
    most = 0
    for k in range(10 if quick else 40):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(target), str(k)], stdout=subprocess.PIPE,
                                text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        proc.stdout.readline()
        time.sleep(float(rng.uniform(0.0, 0.4)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        leftovers = [p for p in work.iterdir() if p.name.startswith(".m.npz.")]
        most = max(most, len(leftovers))
        try:
            net = xb.load(target)
        except FileNotFoundError:
            tally.add("killed saves", "harmless")  # killed before the first save finished: no file yet
            continue
        except Exception as exc:
            tally.add("killed saves", "loss", f"torn file: {type(exc).__name__}: {exc}")
            continue
        tally.add("killed saves", "harmless" if net.config()["sizes"] == [1000, 1000, 10] else "loss")
    xb.save(_net(), target)
    left = [p.name for p in work.iterdir() if p.name.startswith(".m.npz.")]
    tally.add("killed saves: leftovers", "loss" if left else "clear",
              f"{len(left)} temporary files left after a save (at most {most} at once)")
    print(f"killed saves: at most {most} temporary files at once; {len(left)} after the next save")


# --- failing writes ----------------------------------------------------------------------------------


def failing_writes(tally: Tally, work: Path) -> None:
    X, y, _ = _data()
    real_savez, real_mkstemp, real_fsync = np.savez, tempfile.mkstemp, os.fsync
    for code in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO):
        for fail_at in (1, 2, 4):  # the epoch whose checkpoint write fails
            calls = []

            def savez(file, *args, fail_at=fail_at, code=code, calls=calls, **kwds):
                calls.append(1)
                if len(calls) == fail_at:
                    raise OSError(code, os.strerror(code))
                return real_savez(file, *args, **kwds)

            np.savez = savez
            path = work / f"w{code}-{fail_at}.npz"
            net = _net()
            try:
                net.fit(X, y, epochs=5, lr=0.05, batch_size=8, checkpoint=path)
            except OSError as exc:
                reference = _net()
                history = reference.fit(X, y, epochs=fail_at, lr=0.05, batch_size=8)
                saved = getattr(exc, "history", None)
                kept = same(host(net), host(reference)) and saved is not None and saved.loss == history.loss
                named = str(path) in str(exc) and exc.errno == code
                outcome = "clear" if kept and named else ("loss" if not kept else "unclear")
                tally.add("failing writes", outcome, str(exc))
            else:
                tally.add("failing writes", "accepted", "no error")
            finally:
                np.savez = real_savez
        # before training: the probe fails
        for where in ("mkstemp", "fsync"):
            def refuse(*args, code=code, **kwargs):
                raise OSError(code, os.strerror(code))

            if where == "mkstemp":
                tempfile.mkstemp = refuse
            else:
                os.fsync = refuse
            net = _net()
            before = host(net)
            try:
                net.fit(X, y, epochs=3, lr=0.05, checkpoint=work / "p.npz")
            except OSError as exc:
                ok = same(host(net), before) and str(work / "p.npz") in str(exc)
                tally.add("failing writes", "clear" if ok else "unclear", str(exc))
            else:
                tally.add("failing writes", "accepted", "trained into an unwritable path")
            finally:
                tempfile.mkstemp, os.fsync = real_mkstemp, real_fsync
    for where in ("/proc/x.npz", "/sys/x.npz", "/proc/self/x.npz"):
        net = _net()
        before = host(net)
        try:
            net.fit(X, y, epochs=3, lr=0.05, checkpoint=where)
        except (OSError, ValueError) as exc:
            ok = same(host(net), before) and where in str(exc)
            tally.add("failing writes", "clear" if ok else "unclear", str(exc))
        else:
            tally.add("failing writes", "accepted", f"trained into {where}")


# --- bad training inputs -----------------------------------------------------------------------------


def bad_inputs(tally: Tally) -> None:
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(12, 3)), np.arange(12) % 3
    masked = np.ma.masked_array(X, mask=np.eye(12, 3, dtype=bool))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        matrix = np.matrix(X)
    for backend in [b for b in ("numpy", "torch", "dask") if b in xb.available_backends()]:
        _inputs_on(tally, backend, X, y, masked, matrix)


def _inputs_on(tally: Tally, backend: str, X: Any, y: Any, masked: Any, matrix: Any) -> None:
    nets = {"clf": lambda: xb.MLP([3, 5, 3], hidden="tanh", backend=backend, seed=1),
            "bce": lambda: xb.MLP([3, 4, 1], output="sigmoid", loss="bce", backend=backend, seed=1),
            "reg": lambda: xb.MLP([3, 4, 2], output="identity", loss="mse", backend=backend, seed=1),
            "conv": lambda: xb.Sequential([xb.Conv1D(1, 2, 2), xb.Activation("tanh"), xb.Flatten(),
                                           xb.Dense(4, 1)], backend=backend, seed=1)}
    calls = []
    for kind in nets:
        data = X if kind != "conv" else X[:, None, :]
        calls += [(kind, "fit(X, None)", lambda n, data=data: n.fit(data, None))]
    calls += [
        ("clf", "fit(masked, y)", lambda n: n.fit(masked, y)),
        ("clf", "predict(masked)", lambda n: n.predict(masked)),
        ("reg", "fit(X, masked)", lambda n: n.fit(X, np.ma.masked_array(X[:, :2], mask=True))),
        ("clf", "stop_on_zero_errors='x'", lambda n: n.fit(X, y, stop_on_zero_errors="x")),
        ("clf", "progress='x'", lambda n: n.fit(X, y, progress="x")),
        ("clf", "early_stopping='x'", lambda n: n.fit(X, y, early_stopping="x")),
        ("clf", "validation Y None", lambda n: n.fit(X, y, validation_data=(X, None))),
        ("clf", "lr=nan", lambda n: n.fit(X, y, lr=math.nan)),
        ("clf", "epochs=1.5", lambda n: n.fit(X, y, epochs=1.5)),
        ("clf", "labels 3", lambda n: n.fit(X, y + 1)),
        ("clf", "X with inf", lambda n: n.fit(np.where(X > 2, np.inf, X), y)),
    ]
    constructors = [
        ("MLP([2, 3], hidden='swish')", lambda: xb.MLP([2, 3], hidden="swish", backend=backend)),
        ("identity + cross_entropy", lambda: xb.MLP([4, 8, 3], output="identity", backend=backend)),
        ("tanh + bce", lambda: xb.MLP([4, 8, 1], output="tanh", loss="bce", backend=backend)),
        ("relu + cross_entropy", lambda: xb.MLP([4, 8, 3], output="relu", backend=backend)),
        ("10**12 parameters", lambda: xb.MLP([2, 10**6, 10**6, 2], backend=backend)),
        ("--hidden 100000000", lambda: xb.MLP([64, 100_000_000, 10], backend=backend)),
    ]
    for kind, name, call in calls:
        net = nets[kind]()
        before = host(net)
        try:
            call(net)
        except (TypeError, ValueError) as exc:
            tally.add(f"inputs: {backend}", "clear" if same(host(net), before) else "unclear",
                      f"{name}: {exc}")
        except Exception as exc:
            tally.add(f"inputs: {backend}", "unclear", f"{name}: {type(exc).__name__}: {exc}")
        else:
            tally.add(f"inputs: {backend}", "accepted", name)
    for name, build in constructors:
        try:
            build()
        except ValueError as exc:
            tally.add(f"inputs: {backend}", "clear", str(exc))
        except Exception as exc:
            tally.add(f"inputs: {backend}", "unclear", f"{name}: {type(exc).__name__}: {exc}")
        else:
            tally.add(f"inputs: {backend}", "accepted", name)
    # a matrix is a 2-d array: the same training
    a, b = nets["clf"](), nets["clf"]()
    a.fit(X, y, epochs=2)
    b.fit(matrix, y, epochs=2)
    tally.add(f"inputs: {backend}", "harmless" if same(host(a), host(b)) else "accepted", "np.matrix")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="a sample of each section (under a minute)")
    args = parser.parse_args()
    tally = Tally()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        sections = {"model files": lambda w: model_files(tally, w, args.quick),
                    "checkpoints": lambda w: checkpoints(tally, w, args.quick),
                    "killed saves": lambda w: killed_saves(tally, w, args.quick),
                    "failing writes": lambda w: failing_writes(tally, w),
                    "bad inputs": lambda w: bad_inputs(tally)}
        for name, section in sections.items():
            section_start = time.perf_counter()
            folder = work / name.replace(" ", "_")
            folder.mkdir()
            section(folder)
            print(f"{name}: {time.perf_counter() - section_start:.0f} s", flush=True)
    print(tally.table())
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({s: dict(c) for s, c in tally.counts.items()}, indent=1))


if __name__ == "__main__":
    main()
