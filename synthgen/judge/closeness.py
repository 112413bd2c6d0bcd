"""Is any released row too close to a training record, however large the release?

Share-based checks can be diluted: a leak hidden among many honest rows is a small share. The checks
here look at the *whole* release and, where dilution matters, count *records*, not rows, and compare
training records with holdout records. An independent sample treats both alike at any size; a
generator that memorises favours the records it was trained on.

- ``NearCopies``: released rows closer to the training table than the q-th percentile of the holdout
  rows' own nearest-training distance (the near-copy radius). The share of such rows is tested against
  what fresh real rows show (``near_copies``); the *training* records with a released row inside the
  radius are counted against the *holdout* records with one (``near_copy_records``), which no amount of
  honest padding can hide.
- ``ExposedRecords``: the most isolated records (far from every other real row) are the borrowers an
  attacker can single out. One is exposed when the release holds a row closer to it than its own nearest
  real neighbour; the exposed count among the most isolated training records is compared with that
  among the most isolated holdout records (``exposed_records``). Reported by row index, never by value.
- ``ReleaseDistances`` also serves the membership attacks and the DCR share, which thereby see every
  released row.

All distances are in the judge's own encoding (``synthgen.judge.encoding``) and come from two blocked
passes over the release (``neighbours.cross_minima``): released rows against the training rows, and
against the holdout rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from synthgen.judge.neighbours import cross_minima, exact_isolation, exact_nearest, isolation, rounding

CLOSER = 1.0 - 1e-5
"""Strictly closer means closer by more than float32 rounding: a released row equal to a real row must not
count as closer than that row's own distance (computed in another pass, with other rounding)."""


@dataclass
class ReleaseDistances:
    """Nearest-neighbour distances between the whole release and the real rows (no subsample).

    From ``neighbours.cross_minima`` (float32): within ``slack`` (squared) of the exact value. The checks
    compare them with thresholds and recompute exactly (``exact``) the few rows too close to call.
    """

    synth_to_train: np.ndarray  # each released row: distance to its nearest training row
    train_to_synth: np.ndarray  # each training row: distance to its nearest released row
    holdout_to_synth: np.ndarray  # each holdout row: distance to its nearest released row
    holdout_to_train: np.ndarray  # each holdout row: distance to its nearest training row (exact)
    train_isolation: np.ndarray  # each training row: distance to its nearest *other* real row
    holdout_isolation: np.ndarray  # each holdout row: likewise
    train: np.ndarray | None = None  # the encoded tables, for exact recomputation
    holdout: np.ndarray | None = None
    synth: np.ndarray | None = None
    slack: float = 0.0
    device: str = "cpu"
    block_rows: int = 1024

    def exact(self, values: np.ndarray, target, queries: np.ndarray, refs: np.ndarray | None) -> np.ndarray:
        """``values`` with the entries whose comparison with ``target`` (a number, or one per entry) float32
        rounding could change recomputed in float64 against ``refs``."""
        if refs is None or queries is None or self.slack == 0.0:
            return values
        unsure = np.flatnonzero(np.abs(values**2 - np.asarray(target, dtype=float) ** 2) <= self.slack)
        if len(unsure) == 0:
            return values
        out = values.copy()
        out[unsure] = exact_nearest(queries[unsure], refs, self.device, self.block_rows)
        return out


def release_distances(
    train: np.ndarray, holdout: np.ndarray, synth: np.ndarray, device, block_rows: int = 1024
) -> ReleaseDistances:
    s_t, t_s = cross_minima(synth, train, device=device, block_rows=block_rows)
    h_s = cross_minima(synth, holdout, device=device, block_rows=block_rows)[1]
    h_t = exact_nearest(holdout, train, device=device, block_rows=block_rows)
    real = np.vstack([train, holdout])
    isolated = isolation(real, device=device, block_rows=block_rows)
    return ReleaseDistances(
        synth_to_train=s_t,
        train_to_synth=t_s,
        holdout_to_synth=h_s,
        holdout_to_train=h_t,
        train_isolation=isolated[: len(train)],
        holdout_isolation=isolated[len(train) :],
        train=train,
        holdout=holdout,
        synth=synth,
        slack=rounding(real, synth),
        device=str(device),
        block_rows=block_rows,
    )


class NearCopies(BaseModel):
    """Released rows, and training records, inside the near-copy radius. Counts only, never values.

    The radius is the ``rank``-th smallest of the holdout rows' distances to their nearest training row
    (``rank`` = floor(quantile x holdout rows)): fresh real rows fall inside it at rate ``quantile``.
    """

    quantile: float
    rank: int  # 0: the holdout is too small for this quantile (fewer than 1 / quantile rows)
    radius: float | None
    synthetic_rows: int
    near_rows: int  # released rows strictly closer to some training row than the radius
    training_rows: int
    holdout_rows: int
    training_covered: int  # training rows with a released row strictly inside the radius
    holdout_covered: int  # holdout rows with a released row strictly inside the radius

    @property
    def near_share(self) -> float:
        return self.near_rows / max(self.synthetic_rows, 1)


def near_copy_radius(holdout_to_train: np.ndarray, quantile: float) -> tuple[int, float | None]:
    """(rank, radius): the ``rank``-th smallest holdout distance to the training rows; (0, None) when the
    holdout has fewer than 1 / ``quantile`` rows."""
    rank = int(math.floor(quantile * len(holdout_to_train) + 1e-9))
    if rank < 1:
        return rank, None
    return rank, float(np.partition(holdout_to_train, rank - 1)[rank - 1])


def inside_radius(d: ReleaseDistances, radius: float) -> tuple[int, np.ndarray, np.ndarray]:
    """Released rows strictly inside ``radius`` of a training row (a count), and the training and holdout
    rows with a released row strictly inside it (masks): what `near_copies` counts, kept per row so that
    the parts of a release can be merged (`synthgen.judge.release_records`)."""
    limit = radius * CLOSER
    near_rows = int((d.exact(d.synth_to_train, limit, d.synth, d.train) < limit).sum())
    training = d.exact(d.train_to_synth, limit, d.train, d.synth) < limit
    holdout = d.exact(d.holdout_to_synth, limit, d.holdout, d.synth) < limit
    return near_rows, training, holdout


def near_copies(d: ReleaseDistances, quantile: float) -> NearCopies:
    rank, radius = near_copy_radius(d.holdout_to_train, quantile)
    common = dict(
        quantile=quantile,
        rank=rank,
        synthetic_rows=len(d.synth_to_train),
        training_rows=len(d.train_to_synth),
        holdout_rows=len(d.holdout_to_train),
    )
    if radius is None:
        return NearCopies(radius=None, near_rows=0, training_covered=0, holdout_covered=0, **common)
    near_rows, training, holdout = inside_radius(d, radius)
    return NearCopies(
        radius=radius,
        near_rows=near_rows,
        training_covered=int(training.sum()),
        holdout_covered=int(holdout.sum()),
        **common,
    )


class ExposedRecord(BaseModel):
    index: int  # row position in its table (train or holdout), never the values
    isolation: float  # distance to its nearest other real row
    nearest_release: float  # distance to its nearest released row
    exposed: bool  # nearest_release < isolation


class ExposedRecords(BaseModel):
    """The most isolated training and holdout records, and whether the release singles them out."""

    share: float  # the most isolated share of each table is looked at ...
    min_holdout_records: int  # ... and at least this many holdout records (training: the same share)
    training_rows: int
    holdout_rows: int
    training: list[ExposedRecord]
    holdout: list[ExposedRecord]

    @property
    def training_exposed(self) -> int:
        return sum(r.exposed for r in self.training)

    @property
    def holdout_exposed(self) -> int:
        return sum(r.exposed for r in self.holdout)


def most_isolated(isolation: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` most isolated rows, most isolated first (ties in row order)."""
    return np.argsort(-isolation, kind="stable")[:k]


def exact_isolation_of(d: ReleaseDistances, rows: np.ndarray | None, order: np.ndarray, isolation: np.ndarray):
    """Exact distances of the rows at ``order`` to their nearest other real row (the float32 ones when the
    encoded tables are not at hand)."""
    if rows is None or d.train is None:
        return isolation[order]
    return exact_isolation(rows[order], np.vstack([d.train, d.holdout]), device=d.device, block_rows=d.block_rows)


def nearest_release_of(
    d: ReleaseDistances, nearest_release: np.ndarray, rows: np.ndarray | None, order: np.ndarray, iso: np.ndarray
) -> np.ndarray:
    """Distances of the rows at ``order`` to their nearest released row, exact where the comparison with
    their isolation ``iso`` is too close for float32."""
    near = nearest_release[order]
    if rows is None or d.train is None:
        return near
    return d.exact(near, iso * CLOSER, rows[order], d.synth)


def exposed_list(order: np.ndarray, iso: np.ndarray, near: np.ndarray) -> list[ExposedRecord]:
    return [
        ExposedRecord(index=int(i), isolation=float(a), nearest_release=float(b), exposed=bool(b < a * CLOSER))
        for i, a, b in zip(order, iso, near)
    ]


def _most_isolated(
    d: ReleaseDistances, isolation: np.ndarray, nearest_release: np.ndarray, rows: np.ndarray | None, k: int
) -> list[ExposedRecord]:
    # Exact distances for the few records shown: to their nearest other real row, and to the released
    # rows nearest to them where it is close.
    order = most_isolated(isolation, k)
    iso = exact_isolation_of(d, rows, order, isolation)
    return exposed_list(order, iso, nearest_release_of(d, nearest_release, rows, order, iso))


def exposed_counts(n_t: int, n_h: int, share: float, min_holdout_records: int) -> tuple[int, int]:
    """How many of the most isolated training and holdout records are looked at (see `exposed_records`)."""
    k_h = min(n_h, max(min_holdout_records, math.ceil(share * n_h)))
    k_t = min(n_t, max(1, round(k_h * n_t / max(n_h, 1))))
    return k_t, k_h


def exposed_records(d: ReleaseDistances, share: float, min_holdout_records: int) -> ExposedRecords:
    """The same share of each table (so both sets reach equally far into the tail of isolation):
    ceil(share x holdout rows), at least ``min_holdout_records``, of the holdout; as large a share of
    the training table."""
    n_t, n_h = len(d.train_isolation), len(d.holdout_isolation)
    k_t, k_h = exposed_counts(n_t, n_h, share, min_holdout_records)
    return ExposedRecords(
        share=share,
        min_holdout_records=min_holdout_records,
        training_rows=n_t,
        holdout_rows=n_h,
        training=_most_isolated(d, d.train_isolation, d.train_to_synth, d.train, k_t),
        holdout=_most_isolated(d, d.holdout_isolation, d.holdout_to_synth, d.holdout, k_h),
    )
