"""The release gate's record checks on a release judged part by part (a sharded release, of any size).

The record checks (verbatim records, near-copies, exposed records: `synthgen.judge.privacy`,
`synthgen.judge.closeness`) count *records*, over the *whole* release, so that no amount of honest
padding hides a leak. A release of a hundred million rows cannot be held in memory at once, but every
figure those checks use merges exactly across parts: the training and holdout records a part
reproduces (a union), the released rows inside the near-copy radius (a sum), the real rows with a
released row inside it (a union), the nearest released row to each of the most isolated records (a
minimum). So:

- `RecordIndex` holds the real rows as the checks need them (the judge's encoding fitted on the train
  table, the records' hashes, the near-copy radius, the most isolated records), built once per release
  and handed to every part: the broadcast index.
- `RecordIndex.part` reads one part against it: `PartRecords`, counts and row positions only, never
  values. Memory is the part's, whatever the release's size.
- `RecordIndex.merge` gives the whole release's `VerbatimRecords`, `NearCopies` and `ExposedRecords`:
  the figures `evaluate` computes on the release held in memory (tested), for the gate's unchanged
  whole-release checks. The same for one part alone judges that part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthgen.judge.closeness import (
    ExposedRecords,
    NearCopies,
    ReleaseDistances,
    exact_isolation_of,
    exposed_counts,
    exposed_list,
    inside_radius,
    most_isolated,
    near_copy_radius,
    nearest_release_of,
)
from synthgen.judge.encoding import RowEncoder
from synthgen.judge.inputs import clean_table
from synthgen.judge.neighbours import cross_minima, exact_nearest, isolation, rounding
from synthgen.judge.privacy import RealHashes, VerbatimIndex, VerbatimRecords, row_hashes, table_hashes
from synthgen.judge.settings import EvaluateSettings
from synthgen.schema import Column, TableSchema


@dataclass
class PartRecords:
    """What one part of a release shows the record checks: positions in the index's tables, never values."""

    rows: int
    found_train: np.ndarray  # training records reproduced (positions in the index's sorted training records)
    found_holdout: np.ndarray  # holdout records reproduced (likewise)
    rows_reproducing: int  # released rows equal to a training record that is not in the holdout
    near_rows: int  # released rows strictly inside the near-copy radius of a training row (0: no radius)
    covered_train: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # training rows
    covered_holdout: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # holdout rows
    exposed_train: np.ndarray = field(default_factory=lambda: np.empty(0))  # nearest release, isolated records
    exposed_holdout: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class RecordIndex:
    """The real train and holdout rows as the record checks read them; see the module docstring."""

    columns: list[Column]
    encoder: RowEncoder
    verbatim: VerbatimIndex
    train: np.ndarray  # the judge's encoding of the train rows
    holdout: np.ndarray
    holdout_to_train: np.ndarray
    train_isolation: np.ndarray
    holdout_isolation: np.ndarray
    quantile: float | None
    rank: int
    radius: float | None
    order_train: np.ndarray  # the most isolated training records, most isolated first
    order_holdout: np.ndarray
    iso_train: np.ndarray  # their exact distances to the nearest other real row
    iso_holdout: np.ndarray
    exposed_share: float
    exposed_min_holdout_records: int
    widest: np.ndarray  # the real row of largest norm: all `rounding` needs of the real side, per part
    device: str = "cpu"
    block_rows: int = 1024

    @classmethod
    def build(
        cls,
        train: pd.DataFrame,
        holdout: pd.DataFrame,
        schema: TableSchema,
        settings: EvaluateSettings | None = None,
        near_copy_quantile: float | None = 0.01,
        device: str = "cpu",
        real_hashes: RealHashes | None = None,
    ) -> RecordIndex:
        """Index the real rows once. The encoding is the judge's (`RowEncoder` with ``settings.seed``,
        fitted on the clean train table), so distances are those `evaluate` measures. ``real_hashes``:
        every real row's record when ``train`` and ``holdout`` are samples of a larger table, so that the
        verbatim check covers all of it (`synthgen.judge.privacy.RealHashes`)."""
        from synthgen.judge.inputs import prepare

        settings = settings if settings is not None else EvaluateSettings()
        tables = prepare(train, holdout, holdout, schema)  # the checks and clean form of `evaluate`
        encoder = RowEncoder(tables.columns, seed=settings.seed).fit(tables.train)
        enc_t, enc_h = encoder.transform(tables.train), encoder.transform(tables.holdout)
        b = settings.block_rows
        h_t = exact_nearest(enc_h, enc_t, device=device, block_rows=b)
        isolated = isolation(np.vstack([enc_t, enc_h]), device=device, block_rows=b)
        iso_t, iso_h = isolated[: len(enc_t)], isolated[len(enc_t) :]
        rank, radius = (0, None) if near_copy_quantile is None else near_copy_radius(h_t, near_copy_quantile)
        k_t, k_h = exposed_counts(len(enc_t), len(enc_h), settings.exposed_share, settings.exposed_min_holdout_records)
        order_t, order_h = most_isolated(iso_t, k_t), most_isolated(iso_h, k_h)
        # Exact isolation of the few records judged, once (`exposed_records` does the same per release).
        d = ReleaseDistances(
            synth_to_train=np.empty(0),
            train_to_synth=np.empty(0),
            holdout_to_synth=np.empty(0),
            holdout_to_train=h_t,
            train_isolation=iso_t,
            holdout_isolation=iso_h,
            train=enc_t,
            holdout=enc_h,
            device=str(device),
            block_rows=b,
        )
        return cls(
            columns=tables.columns,
            encoder=encoder,
            verbatim=VerbatimIndex.of(*table_hashes(tables, real_hashes)[:2]),
            train=enc_t,
            holdout=enc_h,
            holdout_to_train=h_t,
            train_isolation=iso_t,
            holdout_isolation=iso_h,
            quantile=near_copy_quantile,
            rank=rank,
            radius=radius,
            order_train=order_t,
            order_holdout=order_h,
            iso_train=exact_isolation_of(d, enc_t, order_t, iso_t),
            iso_holdout=exact_isolation_of(d, enc_h, order_h, iso_h),
            exposed_share=settings.exposed_share,
            exposed_min_holdout_records=settings.exposed_min_holdout_records,
            widest=_widest(np.vstack([enc_t, enc_h])),
            device=str(device),
            block_rows=b,
        )

    def part(self, frame: pd.DataFrame, role: str = "synthetic") -> PartRecords:
        """Match one part of a release (a DataFrame of released rows; ``role`` names it in errors)."""
        if len(frame) == 0:
            return PartRecords(0, np.empty(0, np.int64), np.empty(0, np.int64), 0, 0)
        clean = clean_table(frame, self.columns, role)
        found_t, found_h, reproducing = self.verbatim.match(row_hashes(clean, self.columns))
        synth = self.encoder.transform(clean)
        s_t, t_s = cross_minima(synth, self.train, device=self.device, block_rows=self.block_rows)
        h_s = cross_minima(synth, self.holdout, device=self.device, block_rows=self.block_rows)[1]
        d = ReleaseDistances(
            synth_to_train=s_t,
            train_to_synth=t_s,
            holdout_to_synth=h_s,
            holdout_to_train=self.holdout_to_train,
            train_isolation=self.train_isolation,
            holdout_isolation=self.holdout_isolation,
            train=self.train,
            holdout=self.holdout,
            synth=synth,
            slack=rounding(self.widest, synth),
            device=self.device,
            block_rows=self.block_rows,
        )
        out = PartRecords(len(frame), found_t, found_h, reproducing, 0)
        if self.radius is not None:
            out.near_rows, covered_t, covered_h = inside_radius(d, self.radius)
            out.covered_train, out.covered_holdout = np.flatnonzero(covered_t), np.flatnonzero(covered_h)
        out.exposed_train = nearest_release_of(d, t_s, self.train, self.order_train, self.iso_train)
        out.exposed_holdout = nearest_release_of(d, h_s, self.holdout, self.order_holdout, self.iso_holdout)
        return out

    def merge(self, parts: Sequence[PartRecords]) -> tuple[VerbatimRecords, NearCopies | None, ExposedRecords]:
        """The whole release's record figures from its parts' (or one part's alone)."""
        rows = sum(p.rows for p in parts)
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts] or [np.empty(0, np.int64)])  # noqa: E731
        verbatim = self.verbatim.records(
            cat("found_train"), cat("found_holdout"), sum(p.rows_reproducing for p in parts), rows
        )
        near = None
        if self.quantile is not None:
            near = NearCopies(
                quantile=self.quantile,
                rank=self.rank,
                radius=self.radius,
                synthetic_rows=rows,
                near_rows=sum(p.near_rows for p in parts),
                training_rows=len(self.train),
                holdout_rows=len(self.holdout),
                training_covered=len(np.unique(cat("covered_train"))),
                holdout_covered=len(np.unique(cat("covered_holdout"))),
            )

        def nearest(name: str, k: int) -> np.ndarray:
            found = [getattr(p, name) for p in parts if p.rows]
            return np.min(np.vstack(found), axis=0) if found else np.full(k, np.inf)

        exposed = ExposedRecords(
            share=self.exposed_share,
            min_holdout_records=self.exposed_min_holdout_records,
            training_rows=len(self.train),
            holdout_rows=len(self.holdout),
            training=exposed_list(self.order_train, self.iso_train, nearest("exposed_train", len(self.order_train))),
            holdout=exposed_list(
                self.order_holdout, self.iso_holdout, nearest("exposed_holdout", len(self.order_holdout))
            ),
        )
        return verbatim, near, exposed


def _widest(real: np.ndarray) -> np.ndarray:
    """The row of largest squared norm, as a one-row table: `neighbours.rounding` depends on a table only
    through that norm, so a part's float32 slack is computed without the whole real table."""
    if not len(real):
        return real
    norms = (real.astype(np.float64) ** 2).sum(1)
    return real[[int(np.argmax(norms))]]


__all__ = ["PartRecords", "RecordIndex"]
