"""Nearest-neighbour distances and Gaussian kernel densities, computed in blocks with torch.

Memory stays bounded by ``block_rows x ref_block`` whatever the table sizes; the work runs on the
device the caller resolved (CUDA when present). Float64 keeps the distance of a copied row at 0.

With so few columns (tens) a block's matrix product does little arithmetic per distance written, so
on the CPU the cost is moving the block through memory: blocks that stay in cache (about 4 MB) run the
release-wide pass 3-4x faster than 16-32 MB ones (`evaluation/judge_scale.py`). A GPU wants large blocks.
"""

from __future__ import annotations

import math

import numpy as np
import torch

GPU_REF_BLOCK = 4_096  # with 1,024-2,048 query rows: a 32-64 MB block of float64 distances
CPU_BLOCK_BYTES = 4 << 20  # a block that stays in the (shared) last-level cache


def ref_block(device: torch.device, block_rows: int, dtype: torch.dtype) -> int:
    """Reference rows per block: large on a GPU, cache-sized on the CPU."""
    if device.type != "cpu":
        return GPU_REF_BLOCK
    itemsize = torch.empty(0, dtype=dtype).element_size()
    return max(256, CPU_BLOCK_BYTES // (itemsize * max(block_rows, 1)))


def _squared_distances(q: torch.Tensor, r: torch.Tensor, q_sq: torch.Tensor, r_sq: torch.Tensor) -> torch.Tensor:
    scale = q_sq[:, None] + r_sq[None, :]
    d = scale - 2.0 * (q @ r.T)
    # Cancellation leaves ~1e-15 * scale where two rows are equal; call that 0 so copies tie exactly.
    # (The judge's encoding never puts distinct rows that close: its smallest step is ~1e-5.)
    return d.masked_fill_(d <= 1e-12 * (scale + 1.0), 0.0)


def nearest_distances(
    queries: np.ndarray, refs: np.ndarray, k: int = 1, device: torch.device | str = "cpu", block_rows: int = 2048
) -> np.ndarray:
    """Euclidean distances from each query row to its ``k`` nearest reference rows, ascending."""
    return nearest(queries, refs, k, device, block_rows)[0]


def nearest(
    queries: np.ndarray, refs: np.ndarray, k: int = 1, device: torch.device | str = "cpu", block_rows: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Distances (ascending) and row indices of each query row's ``k`` nearest reference rows."""
    if len(refs) < k:
        raise ValueError(f"need at least {k} reference rows, got {len(refs)}")
    device = torch.device(device)
    r_all = torch.as_tensor(np.ascontiguousarray(refs), dtype=torch.float64, device=device)
    r_sq_all = (r_all * r_all).sum(1)
    dist = np.empty((len(queries), k))
    index = np.empty((len(queries), k), dtype=np.int64)
    step = ref_block(device, block_rows, torch.float64)
    with torch.no_grad():
        for start in range(0, len(queries), block_rows):
            q = torch.as_tensor(
                np.ascontiguousarray(queries[start : start + block_rows]), dtype=torch.float64, device=device
            )
            q_sq = (q * q).sum(1)
            best_d = best_i = None
            for r_start in range(0, len(r_all), step):
                r, r_sq = r_all[r_start : r_start + step], r_sq_all[r_start : r_start + step]
                block = _squared_distances(q, r, q_sq, r_sq)
                if k == 1:  # min is several times faster than topk
                    d, i = block.min(dim=1, keepdim=True)
                else:
                    d, i = torch.topk(block, min(k, len(r)), dim=1, largest=False)
                i = i + r_start
                if best_d is not None:
                    d, i = torch.cat([best_d, d], 1), torch.cat([best_i, i], 1)
                    keep = torch.topk(d, k, dim=1, largest=False).indices
                    d, i = torch.gather(d, 1, keep), torch.gather(i, 1, keep)
                best_d, best_i = d, i
            dist[start : start + len(q)] = best_d.sqrt().cpu().numpy()
            index[start : start + len(q)] = best_i.cpu().numpy()
    return dist, index


def scott_bandwidth(n: int, dims: int) -> float:
    return float(n ** (-1.0 / (dims + 4)))


def log_density(
    queries: np.ndarray,
    points: np.ndarray,
    bandwidth: float,
    device: torch.device | str = "cpu",
    block_rows: int = 2048,
) -> np.ndarray:
    """Log of an isotropic Gaussian kernel density of ``points`` (whitened) at each query row.

    Float32: a density needs no exact zeros, and the exponentials dominate the cost.
    """
    device = torch.device(device)
    dims = points.shape[1]
    p_all = torch.as_tensor(np.ascontiguousarray(points), dtype=torch.float32, device=device)
    p_sq_all = (p_all * p_all).sum(1)
    norm = math.log(len(points)) + dims * math.log(bandwidth * math.sqrt(2.0 * math.pi))
    out = np.empty(len(queries))
    step = ref_block(device, block_rows, torch.float32)
    with torch.no_grad():
        for start in range(0, len(queries), block_rows):
            q = torch.as_tensor(
                np.ascontiguousarray(queries[start : start + block_rows]), dtype=torch.float32, device=device
            )
            q_sq = (q * q).sum(1)
            parts = []
            for p_start in range(0, len(p_all), step):
                d = _squared_distances(q, p_all[p_start : p_start + step], q_sq, p_sq_all[p_start : p_start + step])
                parts.append(torch.logsumexp(-d / (2.0 * bandwidth * bandwidth), dim=1))
            out[start : start + len(q)] = (torch.logsumexp(torch.stack(parts, 1), dim=1).double() - norm).cpu().numpy()
    return out


def cross_minima(
    queries: np.ndarray,
    refs: np.ndarray,
    device: torch.device | str = "cpu",
    block_rows: int = 1024,
    exclude_self: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of a nearest-neighbour search in one pass over the distance blocks: each query
    row's distance to its nearest reference row, and each reference row's distance to its nearest query.
    ``exclude_self`` (``queries`` is ``refs``): each row's nearest *other* row, a duplicate at 0.

    Built for the release-wide checks (every released row against every training row: 1.5M x 26k),
    where only minima are needed: one float32 matrix product per block gives the squared distances
    directly (rows augmented with their squared norms), then a row and a column minimum. Float32
    rounds a squared distance by up to ``rounding(queries, refs)``; where a comparison depends on
    less than that, the caller recomputes those rows exactly (``exact_nearest``).
    """
    device = torch.device(device)
    f32 = torch.float32
    q_all = torch.as_tensor(np.ascontiguousarray(queries), dtype=f32, device=device)
    r_all = torch.as_tensor(np.ascontiguousarray(refs), dtype=f32, device=device)
    one_q, one_r = torch.ones(len(q_all), 1, device=device), torch.ones(len(r_all), 1, device=device)
    # [q, |q|^2, 1] . [-2r, 1, |r|^2] = |q - r|^2
    q_aug = torch.cat([q_all, (q_all * q_all).sum(1, keepdim=True), one_q], 1)
    r_aug = torch.cat([-2.0 * r_all, one_r, (r_all * r_all).sum(1, keepdim=True)], 1)
    n_q, n_r = len(q_aug), len(r_aug)
    r_t = r_aug.T.contiguous()
    row_best = torch.full((n_q,), float("inf"), dtype=f32, device=device)
    col_best = torch.full((n_r,), float("inf"), dtype=f32, device=device)
    step = ref_block(device, block_rows, f32)
    # One block buffer reused throughout: a fresh multi-megabyte tensor per block costs page faults
    # (the allocator maps and unmaps it) that took 2-3x the arithmetic on the CPU.
    buffer = torch.empty(min(block_rows, n_q) * min(step, n_r), dtype=f32, device=device)
    row_part = torch.empty(min(block_rows, n_q), dtype=f32, device=device)
    col_part = torch.empty(min(step, n_r), dtype=f32, device=device)
    with torch.no_grad():
        for start in range(0, n_q, block_rows):
            q = q_aug[start : start + block_rows]
            best = row_best[start : start + len(q)]
            for r_start in range(0, n_r, step):
                r = r_t[:, r_start : r_start + step]
                block = buffer[: len(q) * r.shape[1]].view(len(q), r.shape[1])
                torch.mm(q, r, out=block)
                if exclude_self:
                    lo, hi = max(start, r_start), min(start + len(q), r_start + r.shape[1])
                    if lo < hi:
                        at = torch.arange(lo, hi, device=device)
                        block[at - start, at - r_start] = float("inf")
                rows, cols = row_part[: len(q)], col_part[: r.shape[1]]
                torch.amin(block, dim=1, out=rows)
                torch.minimum(best, rows, out=best)
                torch.amin(block, dim=0, out=cols)
                part = col_best[r_start : r_start + r.shape[1]]
                torch.minimum(part, cols, out=part)
    to_distance = lambda v: v.clamp_(min=0.0).sqrt_().double().cpu().numpy()  # noqa: E731
    return to_distance(row_best), to_distance(col_best)


def rounding(queries: np.ndarray, refs: np.ndarray) -> float:
    """The most float32 rounding can move a squared distance in ``cross_minima`` (with a safety factor of 8):
    relative 2**-24 of the largest squared norms, accumulated over the augmented product."""
    largest = lambda a: float((a.astype(np.float64) ** 2).sum(1).max()) if len(a) else 0.0  # noqa: E731
    return 8.0 * 2.0**-24 * (queries.shape[1] + 2) * (largest(queries) + largest(refs) + 1.0)


def exact_nearest(
    queries: np.ndarray, refs: np.ndarray, device: torch.device | str = "cpu", block_rows: int = 1024
) -> np.ndarray:
    """Float64 distance of each query row to its nearest reference row: what ``cross_minima`` approximates,
    for the few rows whose comparison its rounding could change."""
    if len(queries) == 0:
        return np.empty(0)
    return nearest(queries, refs, k=1, device=device, block_rows=block_rows)[0][:, 0]


def isolation(real: np.ndarray, device: torch.device | str = "cpu", block_rows: int = 1024) -> np.ndarray:
    """Each row's distance to its nearest *other* row (0 for a row with an exact duplicate): how easily
    a record is singled out. Float32 (``cross_minima``); ``exact_isolation`` for the few rows that are
    reported or compared."""
    return cross_minima(real, real, device=device, block_rows=block_rows, exclude_self=True)[0]


def exact_isolation(
    rows: np.ndarray, real: np.ndarray, device: torch.device | str = "cpu", block_rows: int = 1024
) -> np.ndarray:
    """``isolation`` in float64 for ``rows``, each of which is a row of ``real`` (its nearest is itself, at 0:
    the second nearest is the nearest other row)."""
    if len(rows) == 0:
        return np.empty(0)
    return nearest(rows, real, k=2, device=device, block_rows=block_rows)[0][:, 1]
