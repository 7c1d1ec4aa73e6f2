"""Sessions: the test suite once per backend and the cross-backend agreement run, lint, the docs.

``nox`` runs every default session: ``tests`` (every CPU backend in one environment), ``dask``,
``cupy``, ``lint``, ``docs``. A backend that cannot run here (``cupy`` without a CUDA device) skips
with its reason, and fails instead when it was asked for by name (``nox -s cupy``) or in
``XPBACKPROP_BACKENDS``. ``nox -s "suite(backend='torch')"`` runs one CPU backend alone.
"""

from __future__ import annotations

import os
import subprocess
import sys

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = False

# What each CPU backend needs on top of `.[test]`. torch is pinned to the CPU
# build that lies on the CI machine's disk; any other release downloads gigabytes.
CPU_BACKENDS = {
    "numpy": [],
    "array_api_strict": [],
    "torch": ["torch==2.13.0"],
    "jax": ["jax[cpu]"],
}


#: one single-threaded test process per core (pytest-xdist): the tests are small and single-threaded
PARALLEL = ("-n", "auto")
THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _pytest(session: nox.Session, backends: str, *args: str, python: str = "python") -> None:
    env = {"XPBACKPROP_BACKENDS": backends, **THREADS}
    if "jax" in backends.split(","):
        # JAX compiles each new program; many tests compile the same ones: keep them on disk for the run
        env.update(JAX_COMPILATION_CACHE_DIR=os.path.join(session.create_tmp(), "jax-cache"),
                   JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                   JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="-1")
    session.run(python, "-m", "pytest", *PARALLEL, *args, *session.posargs, env=env)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite once per CPU backend, then every CPU backend against the NumPy float64
    reference (the agreement tests), all in one environment."""
    extras = [pkg for pkgs in CPU_BACKENDS.values() for pkg in pkgs]
    session.install("-e", ".[test]", *extras)
    for backend in CPU_BACKENDS:
        _pytest(session, backend, "-m", "not agreement")
    _pytest(session, ",".join(CPU_BACKENDS), "-m", "agreement")


@nox.session(default=False)
@nox.parametrize("backend", list(CPU_BACKENDS))
def suite(session: nox.Session, backend: str) -> None:
    """The whole suite on one CPU backend, with only that backend's library installed."""
    session.install("-e", ".[test]", *CPU_BACKENDS[backend])
    _pytest(session, backend, "-m", "not agreement")


@nox.session
def dask(session: nox.Session) -> None:
    """The suite on Dask: tests/test_dask.py (row chunks, a dask.distributed LocalCluster, zarr and .npy
    stores, examples/distributed_fit.py) and every generic test through the `xp` fixture, agreement
    included. Left out: test_examples.py, whose runs of thousands of 4-sample steps take many minutes
    on Dask (each step builds and schedules a graph, about 0.1 s); test_io_fuzz.py, which uses no
    backend (the other sessions run it)."""
    session.install("-e", ".[test,dask]")
    _pytest(session, "dask", "--ignore=tests/test_examples.py", "--ignore=tests/test_io_fuzz.py")


def _asked_for_by_name(name: str) -> bool:
    argv = sys.argv[1:]
    for i, arg in enumerate(argv[:-1]):
        if arg in ("-s", "--session", "--sessions", "-e") and name in argv[i + 1]:
            return True
    if any(arg.startswith(("--session=", "--sessions=")) and name in arg for arg in argv):
        return True
    return name in os.environ.get("XPBACKPROP_BACKENDS", "").split(",")


def _cuda_reason() -> str | None:
    probe = "import cupy; n = cupy.cuda.runtime.getDeviceCount(); assert n > 0, 'device count 0'"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    if result.returncode == 0:
        return None
    last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
    return f"no CUDA device answers for CuPy ({last})"


@nox.session(venv_backend="none")
def cupy(session: nox.Session) -> None:
    """The whole suite on CuPy, with the interpreter nox runs under (GPU machines have no index)."""
    reason = _cuda_reason()
    if reason is not None:
        if _asked_for_by_name("cupy"):
            session.error(f"cupy was asked for but cannot run: {reason}")
        session.skip(reason)
    _pytest(session, "cupy", python=sys.executable)  # the interpreter nox runs under, not PATH's python


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting-independent checks."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site into docs/_build/html, warnings as errors; the gallery runs the examples.
    The build fetches nothing: no intersphinx, no remote images."""
    session.install("-e", ".[docs]")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-E", "-q", "-b", "html",
        "-d", "docs/_build/doctrees", "docs", "docs/_build/html", *session.posargs,
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """The training-step benchmark (timings never gate the tests): `nox -s bench -- --all`."""
    session.install("-e", ".", "torch==2.13.0", "jax[cpu]", "scikit-learn")
    session.run("python", "benchmarks/gpu_benchmark.py", *session.posargs)
