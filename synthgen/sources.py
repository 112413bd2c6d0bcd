"""Sources larger than memory: a Parquet dataset read record batch by record batch.

A recipe's ``source: {path: ...}`` is *streamed* (`is_streamed`) when it names a directory of Parquet
files, a glob (``data/parts/*.parquet``), or a single Parquet file larger than `STREAM_FILE_BYTES`;
any other file is read whole (`synthgen.io.read_table`). A streamed source is never a DataFrame:

- `ParquetSource.batches` yields the table in record batches (``pyarrow.dataset``, in file order,
  then row order), each with the global index of its first row, so memory is one batch at a time;
- the row count and the Arrow schema come from the files' metadata, without reading any data;
- `ParquetSource.reservoir` is a seeded, bounded, one-pass uniform sample: the schema is inferred
  and the transformer fitted on it (the quantiles are fitted on a bounded sample anyway);
- `Part` is the train/holdout assignment: row ``i`` is held out when a hash of (seed, ``i``) falls
  below the holdout share. It needs no pass over the data, is the same for any batch size, and is
  not stratified (the in-memory split is): on a large table the class shares of both parts match
  the table's to sampling error.

Both the reservoir and the split draw from `row_uniform`, a counter-based generator (SplitMix64 of
the seed and the global row index), so they are deterministic for a seed and a table and do not
depend on how the files are cut into batches.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.errors import DataError

if TYPE_CHECKING:
    from synthgen.schema import TableSchema

STREAM_FILE_BYTES = 1 << 30
"""A single Parquet file larger than this (1 GiB on disk, some 3-10 GiB as a DataFrame) is streamed;
a directory or a glob always is."""
BATCH_ROWS = 65_536
"""Rows per record batch read, at most (a batch may be shorter, at the end of a file or row group)."""
SAMPLE_ROWS = 200_000
"""Default size of the reservoir sample a streamed source's schema, transformer and judge see."""

_GLOB_CHARS = set("*?[")
_GAMMA = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def is_glob(path: str | os.PathLike[str]) -> bool:
    return any(ch in _GLOB_CHARS for ch in str(path))


def is_streamed(path: str | os.PathLike[str], file_bytes: int = STREAM_FILE_BYTES) -> bool:
    """Whether a source path is read as a Parquet dataset in batches rather than whole: a directory or
    a glob always; a ``.parquet`` file when it is larger than ``file_bytes``."""
    if is_glob(path):
        return True
    p = Path(path)
    if p.is_dir():
        return True
    return p.suffix.lower() == ".parquet" and p.is_file() and p.stat().st_size > file_bytes


def row_uniform(index: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """A uniform [0, 1) number per global row ``index`` for (``seed``, ``stream``): SplitMix64 of
    ``salt + index * gamma``. Counter-based, so a row's number does not depend on the batch it came in."""
    salt = int(np.random.SeedSequence([seed & _MASK, stream]).generate_state(1, dtype=np.uint64)[0])
    z = np.asarray(index, dtype=np.uint64) * np.uint64(_GAMMA) + np.uint64(salt)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (2.0**-53)


_SPLIT_STREAM, _RESERVOIR_STREAM = 1, 2


@dataclass(frozen=True)
class Part:
    """The training (``holdout=False``) or holdout part of a streamed table: row ``i`` is held out when
    ``row_uniform(i, seed) < share``."""

    share: float
    seed: int
    holdout: bool

    def mask(self, index: np.ndarray) -> np.ndarray:
        held = row_uniform(index, self.seed, _SPLIT_STREAM) < self.share
        return held if self.holdout else ~held


@dataclass(frozen=True)
class RankShard:
    """One rank's share of ``part`` (the whole table for None) in a distributed fit: the rows of ``part``
    whose global index is ``rank`` modulo ``world``. Strided like `synthgen.distributed.Dist.shard`, so a
    table sorted by some column gives every rank a fair mix, and like a `Part` it needs no pass over the
    data: the ranks' shards are disjoint and cover ``part`` for any batch size."""

    part: Part | None
    rank: int
    world: int

    def mask(self, index: np.ndarray) -> np.ndarray:
        mine = np.asarray(index, dtype=np.uint64) % np.uint64(self.world) == np.uint64(self.rank)
        return mine if self.part is None else mine & self.part.mask(index)


class ParquetSource:
    """A Parquet dataset (a directory, a glob or one file) read in record batches.

    ``prepare`` is applied to every batch read as a DataFrame (the pipeline's non-finite check).
    Errors name the path: no matching files, files whose schemas differ, a column that is missing.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        batch_rows: int = BATCH_ROWS,
        prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    ) -> None:
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        self.path = str(path)
        self.batch_rows = int(batch_rows)
        self.prepare = prepare
        self.files = _files(self.path)
        schemas, rows = [], 0
        for file in self.files:
            try:
                meta = pq.ParquetFile(file).metadata
            except Exception as exc:  # pyarrow raises many types for corrupt Parquet
                raise DataError(f"{file}: cannot read Parquet file: {str(exc).splitlines()[0]}") from None
            schemas.append(meta.schema.to_arrow_schema())
            rows += meta.num_rows
        first = schemas[0]
        for file, schema in zip(self.files[1:], schemas[1:]):
            if not schema.equals(first, check_metadata=False):
                raise DataError(
                    f"{self.path}: {file} does not have the schema of {self.files[0]}: {_difference(first, schema)}"
                )
        if len(set(first.names)) != len(first.names):
            raise DataError(f"{self.path}: duplicate column names in {self.files[0]}")
        self.arrow_schema = first.remove_metadata()
        self.rows = rows
        if rows == 0:
            raise DataError(f"{self.path}: the table has no rows")
        self.dataset = ds.dataset(self.files, format="parquet", schema=self.arrow_schema)

    def __repr__(self) -> str:
        return f"ParquetSource({self.path!r}: {len(self.files)} file(s), {self.rows:,} rows)"

    @property
    def columns(self) -> list[str]:
        return list(self.arrow_schema.names)

    def require_columns(self, columns: Sequence[str] | None) -> list[str] | None:
        """``columns`` as a list (None: all), or a `DataError` naming the dataset and the columns it lacks."""
        if columns is None:
            return None
        missing = [c for c in columns if c not in self.arrow_schema.names]
        if missing:
            raise DataError(f"{self.path}: column(s) {', '.join(map(repr, missing))} not in the dataset")
        return list(columns)

    def batches(
        self, columns: Sequence[str] | None = None, part: Part | RankShard | None = None
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """(global index of the batch's first row, the batch's rows of ``part`` as a DataFrame), in order.
        An empty part of a batch is skipped."""
        for start, batch, index in self._raw_batches(columns):
            if part is not None:
                keep = part.mask(index)
                if not keep.all():
                    batch = batch.filter(keep)
            if batch.num_rows:
                yield start, self._frame(batch)

    def _frame(self, batch) -> pd.DataFrame:  # noqa: ANN001 - a pyarrow RecordBatch
        frame = batch.to_pandas()
        return frame if self.prepare is None else self.prepare(frame)

    def _raw_batches(self, columns: Sequence[str] | None) -> Iterator[tuple[int, Any, np.ndarray]]:
        """(first row's global index, the Arrow record batch, its rows' global indices), in order."""
        columns = self.require_columns(columns)
        start = 0
        try:
            for batch in self.dataset.to_batches(columns=columns, batch_size=self.batch_rows):
                if batch.num_rows == 0:
                    continue
                index = np.arange(start, start + batch.num_rows, dtype=np.uint64)
                yield start, batch, index
                start += batch.num_rows
        except DataError:
            raise
        except Exception as exc:  # pyarrow's errors: corrupt pages, schema drift inside a file
            raise DataError(f"{self.path}: cannot read the dataset: {str(exc).splitlines()[0]}") from None

    def part_rows(self, part: Part | RankShard | None) -> int:
        """Rows of ``part`` (the whole table for None), from the row count alone: no data is read."""
        if part is None:
            return self.rows
        step, total = 1 << 22, 0
        for begin in range(0, self.rows, step):
            total += int(part.mask(np.arange(begin, min(begin + step, self.rows), dtype=np.uint64)).sum())
        return total

    def reservoir(
        self, size: int, seed: int = 0, part: Part | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """A uniform sample of ``size`` rows of ``part`` (all of them when it has fewer), in table order,
        in one pass holding at most about 2 x ``size`` rows and a batch.

        Bottom-k reservoir sampling: every row gets the key ``row_uniform(i, seed)`` and the sample is
        the ``size`` rows with the smallest keys, which is a uniform sample without replacement (every
        subset of ``size`` rows equally likely). A batch only contributes rows whose key beats the
        current ``size``-th smallest; the buffer is cut back to ``size`` when it doubles.
        """
        if size < 1:
            raise ValueError(f"reservoir size must be positive, got {size}")
        batches = ((batch, index) for _, batch, index in self._raw_batches(columns))
        if part is not None:
            batches = ((batch.filter(keep), index[keep]) for batch, index in batches for keep in [part.mask(index)])
        # Only the rows that enter the reservoir become pandas rows: most of a large table never does.
        sample = reservoir_sample(batches, size, seed, select=lambda batch, take: self._frame(batch.filter(take)))
        if sample is None:
            raise DataError(f"{self.path}: no rows in the {'holdout' if part and part.holdout else 'training'} part")
        return sample

    def profile(
        self, levels: Sequence[str], nulls: Sequence[str], part: Part | None = None
    ) -> tuple[dict[str, pd.Series], dict[str, int]]:
        """One pass over ``part`` (the whole table for None): per column of ``levels`` the count of every
        value (missing ones as NaN), per column of ``nulls`` its count of missing values. What a bounded
        sample can miss and an encoder must know: a categorical column's rare levels, a numeric column's
        rare missing values. Holds one batch and the counts."""
        counts: dict[str, pd.Series] = {c: pd.Series(dtype="int64") for c in levels}
        missing = dict.fromkeys(nulls, 0)
        columns = list(dict.fromkeys([*levels, *nulls]))
        if not columns:
            return counts, missing
        for _, frame in self.batches(columns, part):
            for c in levels:
                batch = frame[c].value_counts(dropna=False)
                counts[c] = counts[c].add(batch, fill_value=0) if len(counts[c]) else batch
            for c in nulls:
                missing[c] += int(frame[c].isna().sum())
        return {c: s.astype("int64") for c, s in counts.items()}, missing

    def pii_values(self, schema: TableSchema) -> dict[str, set[str]]:
        """`synthgen.unmodelled.pii_exclusions` over the whole table (every part): the real values of its PII
        and random-id columns, as text, which no generated row may carry. One pass reading those columns
        only (none when there are none); held in memory, never stored."""
        from synthgen.unmodelled import pii_columns, pii_exclusions

        columns = [c for c in pii_columns(schema) if c in self.arrow_schema.names]
        values: dict[str, set[str]] = {c: set() for c in columns}
        if columns:
            for _, frame in self.batches(columns):
                for name, found in pii_exclusions(frame, schema).items():
                    values[name] |= found
        return values

    def digest(self) -> str:
        """SHA-256 over each file's relative name and SHA-256: what a reused model must have been trained on.
        Each file is hashed once while it is unchanged (`file_digest`), however often a run asks."""
        import hashlib

        root = Path(self.files[0]).parent if len(self.files) == 1 else Path(os.path.commonpath(self.files))
        h = hashlib.sha256()
        for file in self.files:
            h.update(f"{os.path.relpath(file, root)}\0{file_digest(file)}\n".encode())
        return h.hexdigest()


_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def file_digest(file: str | os.PathLike[str]) -> str:
    """`synthgen.files.file_sha256` of ``file``, kept for this process under its path, size, modification
    time and inode: a run that fingerprints a large dataset several times (the checkpoint, the save, the
    reuse check) reads its bytes once, and a file written since is hashed again."""
    from synthgen.files import file_sha256

    path = os.path.abspath(file)
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _DIGESTS:
        if len(_DIGESTS) >= 100_000:
            _DIGESTS.clear()
        _DIGESTS[key] = file_sha256(Path(path))
    return _DIGESTS[key]


def reservoir_sample(
    batches: Iterable[tuple[Any, np.ndarray]],
    size: int,
    seed: int,
    select: Callable[[Any, np.ndarray], pd.DataFrame] | None = None,
) -> pd.DataFrame | None:
    """The ``size`` rows with the smallest keys ``row_uniform(index, seed)`` among ``batches`` of (rows, their
    global indices), in index order; None when there are no rows. See `ParquetSource.reservoir`. ``select``
    (rows, boolean mask) -> DataFrame takes a batch's entering rows (default: ``rows[mask]`` of a DataFrame)."""
    kept: list[pd.DataFrame] = []
    keys = np.zeros(0)
    order = np.zeros(0, dtype=np.uint64)
    threshold = np.inf
    for frame, index in batches:
        k = row_uniform(index, seed, _RESERVOIR_STREAM)
        take = k < threshold
        if not take.any():
            continue
        kept.append(frame[take] if select is None else select(frame, take))
        keys, order = np.concatenate([keys, k[take]]), np.concatenate([order, index[take]])
        if len(keys) >= 2 * size:
            kept, keys, order = _smallest(kept, keys, order, size)
            threshold = keys.max()
    if not kept:
        return None
    kept, keys, order = _smallest(kept, keys, order, size)
    return kept[0].iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def _smallest(
    kept: list[pd.DataFrame], keys: np.ndarray, order: np.ndarray, size: int
) -> tuple[list[pd.DataFrame], np.ndarray, np.ndarray]:
    frame = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0].reset_index(drop=True)
    if len(keys) > size:
        top = np.argpartition(keys, size - 1)[:size]
        frame, keys, order = frame.iloc[top].reset_index(drop=True), keys[top], order[top]
    return [frame], keys, order


def _files(path: str) -> list[str]:
    """The Parquet files of a directory (recursively, skipping hidden and ``_``-prefixed names such as
    ``_SUCCESS``), a glob, or a single file, sorted so the row order is the same on every machine."""
    if is_glob(path):
        files = sorted(f for f in glob.glob(path, recursive=True) if os.path.isfile(f))
        if not files:
            raise DataError(f"{path}: no files match this pattern")
        return files
    p = Path(path)
    if p.is_dir():
        files = sorted(
            str(f)
            for f in p.rglob("*")
            if f.is_file()
            and f.suffix.lower() in (".parquet", ".parq", ".pq")
            and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts)
        )
        if not files:
            raise DataError(f"{path}: the directory holds no Parquet files (*.parquet)")
        return files
    if not p.is_file():
        raise DataError(f"{path}: source not found")
    return [str(p)]


def _difference(first, other) -> str:  # noqa: ANN001 - two pyarrow schemas
    """The first column where two Arrow schemas disagree, in words."""
    for name in dict.fromkeys([*first.names, *other.names]):
        if name not in other.names:
            return f"column {name!r} is missing"
        if name not in first.names:
            return f"column {name!r} is extra"
        a, b = first.field(name).type, other.field(name).type
        if a != b:
            return f"column {name!r} is {b}, not {a}"
    return "the columns are in another order"
