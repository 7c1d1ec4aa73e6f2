"""Dask: inputs chunked by rows, parameters in one chunk, each training step one materialised graph.

The formulas run on Dask unchanged (``array_api_compat.dask.array``): a full-batch
gradient ``A_prevᵀ dZ`` over row chunks is a sum of one product per chunk, which Dask
computes as a tree reduction. What this module adds is where the data lives:

- Host data (NumPy arrays) crossing into the backend becomes a Dask array chunked by
  rows only (every other axis whole; Dask's ``array.chunk-size`` decides the rows per
  chunk), and is persisted at once: with a ``dask.distributed`` client it is sent to
  the workers a single time, not embedded in every step's graph. Small arrays, such as
  the parameters, are one chunk.
- A Dask array the caller passes (for example ``dask.array.from_zarr`` on a store larger
  than memory) is only rechunked so that each sample lies whole in one chunk; it is
  never computed as a whole, so the data is read chunk by chunk at every pass.
- Each training step builds one graph (forward, loss, backward and update over all the
  chunks of its batch) and persists its results, the new parameters, optimizer state and
  the batch loss, in one call: the next step starts from materialised parameters, so
  graphs never grow from step to step, and the loss needs no separate pass.

This is a backend-boundary module (like :mod:`xpbackprop.backend`), so it may use NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["from_host", "is_dask", "persist", "whole_samples"]


def is_dask(x: Any) -> bool:
    """Whether ``x`` is a ``dask.array.Array`` (without importing Dask when it is not)."""
    return type(x).__module__.split(".")[0] == "dask"


def _row_chunks(shape: tuple[int, ...], dtype: Any) -> tuple[Any, ...]:
    """Chunks for ``shape``: rows as Dask's ``array.chunk-size`` allows, every other axis whole."""
    from dask.array.core import normalize_chunks

    if len(shape) == 0:
        return ()
    if 0 in shape:  # an empty array (which validation then reports): one chunk
        return tuple((s,) for s in shape)
    return normalize_chunks(("auto", *([-1] * (len(shape) - 1))), shape, dtype=dtype)


def from_host(x: Any, *, dtype: Any = None, copy: bool | None = None) -> Any:
    """Host data ``x`` as a persisted Dask array chunked by rows (small arrays: one chunk).

    ``copy=False`` is refused as it is by ``array_api_compat`` (host data cannot become a
    Dask array without a copy of some kind); the host array is copied, so the Dask array
    never shares memory with the caller's.
    """
    import dask.array as da

    if copy is False:
        raise ValueError("copy=False: host data cannot move onto the dask backend without a copy")
    host = np.array(x, dtype=dtype, copy=True)
    return da.from_array(host, chunks=_row_chunks(host.shape, host.dtype)).persist()


def whole_samples(x: Any) -> Any:
    """``x`` rechunked (lazily) so that every axis but the first is one chunk: each sample lies
    in a single chunk, the row-chunked layout the formulas reduce over. A no-op when it already is."""
    if x.ndim < 2 or all(len(c) == 1 for c in x.chunks[1:]):
        return x
    return x.rechunk({axis: -1 for axis in range(1, x.ndim)})


def persist(*values: Any) -> tuple[Any, ...]:
    """``dask.persist`` of the Dask arrays among ``values`` (lists of arrays included), in one
    graph, so that work they share (a step's forward pass) is done once; other values pass through.

    With a ``dask.distributed`` client this returns at once, the results computing on the
    cluster; with Dask's local schedulers it computes them before returning.
    """
    import dask

    flat: list[Any] = []
    layout: list[tuple[bool, int]] = []
    for v in values:
        if isinstance(v, (list, tuple)):
            layout.append((True, len(v)))
            flat.extend(v)
        else:
            layout.append((False, 1))
            flat.append(v)
    positions = [i for i, v in enumerate(flat) if is_dask(v)]
    done = dask.persist(*(flat[i] for i in positions))
    for i, v in zip(positions, done):
        flat[i] = v
    out: list[Any] = []
    start = 0
    for (is_list, n), original in zip(layout, values):
        if is_list:
            out.append(type(original)(flat[start : start + n]) if isinstance(original, tuple)
                       else flat[start : start + n])
        else:
            out.append(flat[start])
        start += n
    return tuple(out)
