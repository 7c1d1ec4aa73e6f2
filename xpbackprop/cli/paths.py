"""The files a command reads and writes: checked before anything runs, written last, never lost.

- Every output path is compared with every input path and with the other outputs: the same file
  (also through a symbolic or hard link) is refused before anything runs.
- Every output path is proven writable (:func:`xpbackprop.npzfile.prove_writable`: a file created
  and removed there) before the work that produces it.
- A final write that still fails (the disk filled up meanwhile) writes the result to a fallback
  file in the temporary folder instead, and the command says where and exits with status 1.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..npzfile import prove_writable
from .common import CommandError

__all__ = ["check_paths", "write_with_fallback"]


def _same_file(a: Path, b: Path) -> bool:
    """Whether writing ``a`` would replace ``b``: the same file, through links too."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_paths(inputs: dict[str, Path | None], outputs: dict[str, Path | None]) -> None:
    """``CommandError`` (one line) when an output is an input or another output; then each output proven
    writable (``OSError`` naming it). The keys name the paths in the messages (``"--save"``)."""
    given_outputs = [(name, Path(p)) for name, p in outputs.items() if p is not None]
    given_inputs = [(name, Path(p)) for name, p in inputs.items() if p is not None]
    for k, (name, path) in enumerate(given_outputs):
        for other, source in given_inputs:
            if _same_file(path, source):
                raise CommandError(f"{name} {path} is the {other} {source} (the same file): writing it would "
                                   "destroy it; choose another path")
        for other, target in given_outputs[:k]:
            if _same_file(path, target):
                raise CommandError(f"{other} {target} and {name} {path} are the same file; choose two paths")
    for _, path in given_outputs:
        prove_writable(path)


def write_with_fallback(path: Path, write: Callable[[Path], None], what: str) -> bool:
    """``write(path)``; where that fails, ``write`` to a new file in the temporary folder, said on stderr.
    Returns ``True`` when ``path`` was written, ``False`` when the fallback was (``CommandError``
    when both fail: the result is lost, and the message says why)."""
    try:
        write(path)
        return True
    except OSError as exc:
        first = " ".join(str(exc).split())
    folder = tempfile.gettempdir()
    name = None
    try:
        fd, name = tempfile.mkstemp(prefix=f"xpbackprop-{path.stem}-", suffix=path.suffix, dir=folder)
        os.close(fd)
        write(Path(name))
    except OSError as exc:
        if name is not None:
            Path(name).unlink(missing_ok=True)
        raise CommandError(f"could not write {what} to {path} ({first}), nor to the fallback folder "
                           f"{folder} ({' '.join(str(exc).split())}): the {what} is lost") from exc
    print(f"xpbackprop: error: could not write {what} to {path} ({first}); it was written to {name} "
          "instead", file=sys.stderr)
    return False
