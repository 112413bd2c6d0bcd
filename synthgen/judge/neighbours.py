"""Nearest-neighbour distances and Gaussian kernel densities, computed in blocks with torch.

Memory stays bounded by ``block_rows x ref_block`` whatever the table sizes; the work runs on the
device the caller resolved (CUDA when present). Float64 keeps the distance of a copied row at 0.
"""

from __future__ import annotations

import math

import numpy as np
import torch

REF_BLOCK = 4_096  # with 1,024-2,048 query rows: a 32-64 MB block of float64 distances


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
    with torch.no_grad():
        for start in range(0, len(queries), block_rows):
            q = torch.as_tensor(
                np.ascontiguousarray(queries[start : start + block_rows]), dtype=torch.float64, device=device
            )
            q_sq = (q * q).sum(1)
            best_d = best_i = None
            for r_start in range(0, len(r_all), REF_BLOCK):
                r, r_sq = r_all[r_start : r_start + REF_BLOCK], r_sq_all[r_start : r_start + REF_BLOCK]
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
    with torch.no_grad():
        for start in range(0, len(queries), block_rows):
            q = torch.as_tensor(
                np.ascontiguousarray(queries[start : start + block_rows]), dtype=torch.float32, device=device
            )
            q_sq = (q * q).sum(1)
            parts = []
            for p_start in range(0, len(p_all), REF_BLOCK):
                d = _squared_distances(
                    q, p_all[p_start : p_start + REF_BLOCK], q_sq, p_sq_all[p_start : p_start + REF_BLOCK]
                )
                parts.append(torch.logsumexp(-d / (2.0 * bandwidth * bandwidth), dim=1))
            out[start : start + len(q)] = (torch.logsumexp(torch.stack(parts, 1), dim=1).double() - norm).cpu().numpy()
    return out


def cross_minima(
    queries: np.ndarray,
    refs: np.ndarray,
    device: torch.device | str = "cpu",
    block_rows: int = 2048,
    dtype: torch.dtype = torch.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of a nearest-neighbour search in one pass over the distance blocks: each query
    row's distance to its nearest reference row, and each reference row's distance to its nearest query.

    Built for the release-wide checks (every released row against every training row: 1.5M x 26k),
    where only minima are needed: no indices, no top-k, one block in memory at a time. Float32 by
    default, twice the speed of float64 on the CPU; its rounding (relative 1e-7 of the squared norms)
    moves distances by far less than the smallest thresholds compared with them, and exact copies are
    counted by hashing (``privacy.verbatim_records``), not here.
    """
    device = torch.device(device)
    zero_tol = 1e-12 if dtype == torch.float64 else 1e-6
    r_all = torch.as_tensor(np.ascontiguousarray(refs), dtype=dtype, device=device)
    r_sq_all = (r_all * r_all).sum(1)
    row_min = np.empty(len(queries))
    col_min = torch.full((len(refs),), float("inf"), dtype=dtype, device=device)
    with torch.no_grad():
        for start in range(0, len(queries), block_rows):
            q = torch.as_tensor(np.ascontiguousarray(queries[start : start + block_rows]), dtype=dtype, device=device)
            q_sq = (q * q).sum(1)
            best = torch.full((len(q),), float("inf"), dtype=dtype, device=device)
            for r_start in range(0, len(r_all), REF_BLOCK):
                r_sq = r_sq_all[r_start : r_start + REF_BLOCK]
                scale = q_sq[:, None] + r_sq[None, :]
                block = torch.addmm(scale, q, r_all[r_start : r_start + REF_BLOCK].T, alpha=-2.0)
                block.masked_fill_(block <= zero_tol * (scale + 1.0), 0.0)
                best = torch.minimum(best, block.amin(dim=1))
                part = col_min[r_start : r_start + REF_BLOCK]
                torch.minimum(part, block.amin(dim=0), out=part)
            row_min[start : start + len(q)] = best.sqrt().double().cpu().numpy()
    return row_min, col_min.sqrt().double().cpu().numpy()
