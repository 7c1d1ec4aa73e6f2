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

Dask is imported only when one of these functions runs; the host arrays come from
:mod:`xpbackprop.backend`, so this module needs no NumPy of its own.
"""

from __future__ import annotations

from typing import Any

__all__ = ["from_host", "persist", "whole_samples"]


def _row_chunks(shape: tuple[int, ...], dtype: Any) -> tuple[Any, ...]:
    """Chunks for ``shape``: rows as Dask's ``array.chunk-size`` allows, every other axis whole."""
    from dask.array.core import normalize_chunks

    if len(shape) == 0:
        return ()
    if 0 in shape:  # an empty array (which validation then reports): one chunk
        return tuple((s,) for s in shape)
    return normalize_chunks(("auto", *([-1] * (len(shape) - 1))), shape, dtype=dtype)


def from_host(host: Any) -> Any:
    """The NumPy array ``host`` (a copy the caller no longer shares) as a persisted Dask array
    chunked by rows (small arrays: one chunk)."""
    import dask.array as da

    return da.from_array(host, chunks=_row_chunks(host.shape, host.dtype)).persist()


def whole_samples(x: Any, name: str = "X") -> Any:
    """``x`` rechunked (lazily) so that every axis but the first is one chunk: each sample lies
    in a single chunk, the row-chunked layout the formulas reduce over. A no-op when it already is.
    ``ValueError`` (naming ``name``) where the chunk sizes are unknown, as after a boolean mask."""
    if any(size != size for sizes in x.chunks for size in sizes):  # NaN: not known until computed
        raise ValueError(
            f"{name} is a Dask array whose chunk sizes are unknown (shape {x.shape}, as after "
            f"boolean indexing); call {name}.compute_chunk_sizes() first"
        )
    if x.ndim < 2 or all(len(c) == 1 for c in x.chunks[1:]):
        return x
    return x.rechunk({axis: -1 for axis in range(1, x.ndim)})


def persist(*values: Any) -> tuple[Any, ...]:
    """``dask.persist`` of ``values`` in one graph, so that work they share (a step's forward
    pass) is done once. Lists and tuples are walked; what is not a Dask array passes through.

    With a ``dask.distributed`` client this returns at once, the results computing on the
    cluster; with Dask's local schedulers it computes them before returning.
    """
    import dask

    return dask.persist(*values)
