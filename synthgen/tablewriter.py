"""Writing a table chunk by chunk into one CSV or Parquet file, atomically (`TableWriter`).

The file is written through the atomic write path of `synthgen.files`: a temporary file beside the
target, renamed into place when the table is complete and removed on any failure.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from synthgen.errors import DataError, InputError
from synthgen.files import _begin, _discard, _finish, _first_line, _refuse_duplicates, _temp_sibling, table_format

# CSV text of a datetime column: the coarsest unit that shows every value exactly, as pandas writes it.
_DATETIME_UNITS = ("D", "s", "ms", "us", "ns")
_UNIT_NANOS = {"D": 86_400 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
# Rows buffered while a Parquet column has shown only nulls, to learn its type before the file's schema is fixed.
NULL_TYPE_ROWS = 100_000


class TableWriter:
    """Write a table chunk by chunk into one file, so sampling millions of rows keeps memory flat.

    ``with TableWriter(path) as w: w.write(chunk)``. Chunks go to a temporary file beside ``path``
    that is renamed into place when the block ends normally and deleted on any exception
    (KeyboardInterrupt included). CSV: the header once, then rows appended, and the same bytes
    whether a frame is written in one chunk or many (see `_CsvSink` for datetimes). Parquet: one row group per chunk,
    the schema of the first chunk; later chunks are converted to it (an all-null chunk, an integer
    column that became nullable or float). A column that is all null in the first chunks is buffered
    (up to `NULL_TYPE_ROWS` rows) until its type shows. ``rows`` counts the rows written.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.format = table_format(self.path)
        self.rows = 0
        self._tmp: Path | None = None
        self._created: list[Path] = []
        self._columns: list[str] | None = None
        self._sink: _CsvSink | _ParquetSink | None = None

    def __enter__(self) -> TableWriter:
        self._tmp, fd, self._created = _begin(self.path)
        try:
            if self.format == "csv":
                self._sink = _CsvSink(self.path, self._tmp, os.fdopen(fd, "w", encoding="utf-8", newline=""))
            else:
                os.close(fd)
                self._sink = _ParquetSink(self.path, self._tmp)
        except BaseException:
            _discard(self._tmp, self._created)
            raise
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        """Append ``chunk``; its columns must be those of the first chunk, in any order."""
        if self._sink is None:
            raise RuntimeError("TableWriter.write outside its `with` block")
        chunk = self._aligned(chunk)
        try:
            self._sink.write(chunk)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write the output: {exc.strerror or exc}") from None
        self.rows += len(chunk)
        _trim_heap()

    def _aligned(self, chunk: pd.DataFrame) -> pd.DataFrame:
        names = [str(c) for c in chunk.columns]
        _refuse_duplicates(self.path, names)
        if self._columns is None:
            self._columns = names
            return chunk
        if names == self._columns:
            return chunk
        if sorted(names) != sorted(self._columns):
            raise DataError(f"{self.path}: a chunk has columns {names}, the first chunk had {self._columns}")
        return chunk[self._columns]

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        sink, tmp = self._sink, self._tmp
        self._sink = None
        if sink is None or tmp is None:
            return
        if exc_type is not None:
            sink.abort()
            _discard(tmp, self._created)
            return
        try:
            if self._columns is None:
                raise DataError(f"{self.path}: nothing to write (no chunk was given)")
            sink.close()
            _finish(tmp, self.path)
        except OSError as exc:
            sink.abort()
            _discard(tmp, self._created)
            raise InputError(f"{self.path}: cannot write the output: {exc.strerror or exc}") from None
        except BaseException:
            sink.abort()
            _discard(tmp, self._created)
            raise


class _CsvSink:
    """CSV rows appended to one open file; datetime columns formatted with one unit for the whole file.

    pandas picks a datetime column's text per call (dates only, or seconds, or as many decimals as
    the finest value needs), so chunks written one by one would differ from the frame written at
    once. The unit is fixed by the first chunk; when a later chunk needs a finer one, the rows
    already written are re-formatted once, at close, so no value loses precision and the bytes are
    those of a single write.
    """

    def __init__(self, path: Path, tmp: Path, handle: Any) -> None:
        self.path = path
        self.tmp = tmp
        self.handle = handle
        self.header = True
        self.units: dict[str, str] = {}
        self.widened: set[str] = set()

    def write(self, chunk: pd.DataFrame) -> None:
        chunk = self._datetimes_as_text(chunk)
        chunk.to_csv(self.handle, index=False, header=self.header)
        self.header = False

    def _datetimes_as_text(self, chunk: pd.DataFrame) -> pd.DataFrame:
        out = chunk
        for position, dtype in enumerate(chunk.dtypes):
            if not (isinstance(dtype, np.dtype) and dtype.kind == "M"):
                continue  # tz-aware columns keep pandas' own text, which carries the offset per value
            name = str(chunk.columns[position])
            values = chunk.iloc[:, position].to_numpy()
            unit = _coarsest_unit(values)
            fixed = self.units.get(name)
            if fixed is None or _DATETIME_UNITS.index(unit) > _DATETIME_UNITS.index(fixed):
                if fixed is not None and not self.header:
                    self.widened.add(name)
                self.units[name] = fixed = unit
            if out is chunk:
                out = chunk.copy(deep=False)
            out.isetitem(position, _datetime_text(values, fixed))
        return out

    def close(self) -> None:
        self.handle.flush()
        self.handle.close()
        if self.widened:
            self._reformat_widened()

    def _reformat_widened(self) -> None:
        """Rewrite the file once so every widened datetime column shows its final unit on every row."""
        rewritten = _temp_sibling(self.path, ".tmp")
        limit = csv.field_size_limit()
        csv.field_size_limit(max(limit, 2**31 - 1))  # a long text cell must not stop the rewrite
        try:
            with (
                open(self.tmp, encoding="utf-8", newline="") as source,
                open(rewritten, "x", encoding="utf-8", newline="") as target,
            ):
                reader = csv.reader(source)
                writer = csv.writer(target, lineterminator=os.linesep)  # pandas' own writer and dialect
                header = next(reader)
                writer.writerow(header)
                columns = {header.index(name): self.units[name] for name in self.widened}
                while batch := [row for _, row in zip(range(50_000), reader)]:
                    for index, unit in columns.items():
                        stamps = np.array([row[index] for row in batch], dtype="datetime64[ns]")
                        for row, text in zip(batch, _datetime_text(stamps, unit)):
                            row[index] = text
                    writer.writerows(batch)
            os.replace(rewritten, self.tmp)
        finally:
            csv.field_size_limit(limit)
            rewritten.unlink(missing_ok=True)

    def abort(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass


def _coarsest_unit(values: np.ndarray) -> str:
    """The coarsest of days, s, ms, us, ns that shows every (non-missing) value exactly."""
    dtype_unit, step = np.datetime_data(values.dtype)
    dtype_nanos = _UNIT_NANOS.get(dtype_unit, 1) * step
    ticks = values[~np.isnat(values)].view("i8")
    for unit in _DATETIME_UNITS:
        if _UNIT_NANOS[unit] <= dtype_nanos:
            return unit
        if not np.any(ticks % (_UNIT_NANOS[unit] // dtype_nanos)):
            return unit
    return "ns"


def _datetime_text(values: np.ndarray, unit: str) -> np.ndarray:
    """ISO text as pandas writes it (a space, not "T", before the time); "" for a missing value."""
    text = np.datetime_as_string(values, unit=unit)
    if unit != "D" and text.size:
        # Fixed-width UCS-4 strings, and "T" appears only between date and time (or in "NaT",
        # blanked below): swap it in place rather than in a Python loop over millions of values.
        cells = text.view(np.uint32)
        cells[cells == ord("T")] = ord(" ")
    out = text.astype(object)
    out[np.isnat(values)] = ""
    return out


class _ParquetSink:
    def __init__(self, path: Path, tmp: Path) -> None:
        self.path = path
        self.tmp = tmp
        self.writer: Any = None
        self.schema: Any = None
        self.pending: list[tuple[pd.DataFrame, Any]] = []
        self.pending_rows = 0

    def write(self, chunk: pd.DataFrame) -> None:
        if self.writer is not None:
            self.writer.write_table(self._to_arrow(chunk))
            return
        self.pending.append((chunk, self._infer(chunk)))
        self.pending_rows += len(chunk)
        schema = self._schema_of_pending()
        if self.pending_rows >= NULL_TYPE_ROWS or not _has_null_fields(schema):
            self._open(schema)

    def _schema_of_pending(self) -> Any:
        """The first chunk's schema, with each all-null field typed by the first chunk that has values."""
        import pyarrow as pa

        schema = self.pending[0][1].schema
        for _, table in self.pending[1:]:
            if not _has_null_fields(schema):
                break
            for index, field in enumerate(schema):
                other = table.schema.field(field.name)
                if pa.types.is_null(field.type) and not pa.types.is_null(other.type):
                    schema = schema.set(index, field.with_type(other.type))
        return schema

    def _infer(self, chunk: pd.DataFrame) -> Any:
        """The chunk as an Arrow table of its own types (kept: most files need no second conversion)."""
        import pyarrow as pa

        try:
            return pa.Table.from_pandas(chunk, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError) as exc:
            raise DataError(f"{self.path}: cannot write as Parquet: {_first_line(exc)}") from None

    def _open(self, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.schema = schema
        self.writer = pq.ParquetWriter(str(self.tmp), schema)
        pending, self.pending = self.pending, []
        for chunk, table in pending:
            same = table.schema.equals(schema, check_metadata=False)
            self.writer.write_table(table if same else self._to_arrow(chunk))

    def _to_arrow(self, chunk: pd.DataFrame) -> Any:
        import pyarrow as pa

        try:
            return pa.Table.from_pandas(chunk, schema=self.schema, preserve_index=False, safe=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
            pass  # convert column by column to say which one does not fit
        arrays = [self._column(chunk[field.name], field) for field in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def _column(self, series: pd.Series, field: Any) -> Any:
        """One column in the file's type: all-null, same values in another dtype, or an error naming it."""
        import pyarrow as pa

        if series.isna().all():
            return pa.nulls(len(series), type=field.type)
        try:
            return pa.array(series, type=field.type, from_pandas=True, safe=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
            pass
        try:
            return pa.array(series, from_pandas=True).cast(field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError) as exc:
            raise DataError(
                f"{self.path}: column {field.name!r} has {series.dtype} values that do not fit the type "
                f"{field.type} it had in the first chunk: {_first_line(exc)}"
            ) from None

    def close(self) -> None:
        if self.writer is None:
            self._open(self._schema_of_pending())
        self.writer.close()

    def abort(self) -> None:
        self.pending = []
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:
                pass


def _has_null_fields(schema: Any) -> bool:
    import pyarrow as pa

    return any(pa.types.is_null(field.type) for field in schema)


def _load_trim() -> Any:
    """glibc's ``malloc_trim``, or None elsewhere."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


_MALLOC_TRIM = _load_trim()


def _trim_heap() -> None:
    """Hand the memory a written chunk used back to the system.

    glibc keeps freed memory in per-thread arenas (torch's threads make several), so without a trim
    the resident size of a long streamed write wanders by a chunk's worth and its peak creeps up with
    the number of chunks; with one after each chunk it stays flat (evaluation/bench_sample_memory.py).
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
