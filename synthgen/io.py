"""Reading and writing tables and JSON, so that nothing half-written is ever left behind.

Every write goes through the one atomic write path of `synthgen.files` (where file modes,
temporary names and the sweeping of stale leftovers are described); tables are streamed into
their file by `synthgen.tablewriter`. The names of both that callers import from here are
re-exported, so ``from synthgen.io import ...`` keeps working.
"""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from synthgen.errors import DataError
from synthgen.files import (
    FILE_MODE as FILE_MODE,
    TABLE_SUFFIXES as TABLE_SUFFIXES,
    UMASK as UMASK,
    _first_line,
    _refuse_duplicates,
    atomic_write as atomic_write,
    ensure_writable as ensure_writable,
    ensure_writable_dir as ensure_writable_dir,
    make_staging_dir as make_staging_dir,
    pid_alive as pid_alive,
    replace_directory as replace_directory,
    sweep_stale as sweep_stale,
    table_format as table_format,
)
from synthgen.tablewriter import NULL_TYPE_ROWS as NULL_TYPE_ROWS, TableWriter as TableWriter

DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50


# -- reading --------------------------------------------------------------------------------


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file; every failure becomes one `DataError` naming the file.

    A CSV's delimiter is detected (`,` `;` tab `|`) because a semicolon file read with commas becomes
    one text column that a generator would happily "learn" and copy. Duplicate column names are
    refused because pandas would silently rename the second ``age`` to ``age.1``.
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    try:
        frame = _read_csv(path) if fmt == "csv" else _read_parquet(path)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(f"{path}: not a readable CSV file: {_first_line(exc)}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a text CSV file (byte {exc.start} is not UTF-8)") from None
    except Exception as exc:  # pyarrow raises many types for corrupt Parquet
        raise DataError(f"{path}: cannot read {fmt} file: {_first_line(exc)}") from None
    if frame.shape[1] == 0:
        raise DataError(f"{path}: the table has no columns")
    if len(frame) == 0:
        raise DataError(f"{path}: the table has no rows")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
    if unnamed and fmt == "csv":
        raise DataError(f"{path}: header has {len(unnamed)} empty column name(s); every column needs a name")
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    sample = _text_sample(path)
    delimiter = detect_delimiter(sample) if sample else ","
    if sample:
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        _refuse_duplicates(path, header)
    with warnings.catch_warnings():
        # A row longer than the header would silently become an index or lose data.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(path, sep=delimiter, index_col=False, encoding="utf-8-sig")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception:  # corrupt: let the read below report it in the usual words
        names = []
    _refuse_duplicates(path, names)
    return pd.read_parquet(path)


def _text_sample(path: Path) -> str:
    """The first complete lines of the file (up to `SNIFF_BYTES`), or "" if they are not UTF-8.

    An undecodable sample is left to pandas, whose error names the offending byte.
    """
    with open(path, "rb") as handle:
        raw = handle.read(SNIFF_BYTES + 1)
    if len(raw) > SNIFF_BYTES:
        cut = raw.rfind(b"\n", 0, SNIFF_BYTES)  # a newline byte never sits inside a UTF-8 character
        raw = raw[: cut + 1] if cut >= 0 else raw[:SNIFF_BYTES]
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ""


def detect_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: one of `DELIMITERS`, "," when nothing else fits.

    `csv.Sniffer` guesses from character frequencies and can be fooled by a delimiter character
    inside quoted text, so its guess is kept only if the header splits into more than one field and
    every sampled line splits the same way. Otherwise the candidate whose lines most often match
    their header wins; a header that splits on no candidate is a one-column table (or a ragged
    file, which pandas then reports).
    """
    counts = {d: _field_counts(sample, d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in counts and _consistent(counts[sniffed]):
        return sniffed
    viable = [d for d in DELIMITERS if counts[d] and counts[d][0] > 1]
    if not viable:
        return ","
    return max(viable, key=lambda d: (_match_share(counts[d]), d == sniffed, -DELIMITERS.index(d)))


def _field_counts(sample: str, delimiter: str) -> list[int]:
    """Fields per record (header first) for the first `SNIFF_LINES` records of the sample."""
    counts: list[int] = []
    try:
        for row in csv.reader(io.StringIO(sample), delimiter=delimiter):
            if row:
                counts.append(len(row))
            if len(counts) >= SNIFF_LINES:
                break
    except csv.Error:
        pass
    return counts


def _consistent(counts: list[int]) -> bool:
    return bool(counts) and counts[0] > 1 and all(n == counts[0] for n in counts)


def _match_share(counts: list[int]) -> float:
    rows = counts[1:]
    return sum(n == counts[0] for n in rows) / len(rows) if rows else 1.0


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; a missing, unreadable or malformed file is one `DataError` naming it."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file: {exc.strerror or exc}") from None


# -- writing --------------------------------------------------------------------------------


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write UTF-8 text atomically (fsync, then rename; file mode ``0o666 & ~umask``)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write JSON atomically, indented; values JSON cannot hold are written as their text."""
    return write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", path)


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write CSV or Parquet (chosen by suffix) atomically: a `TableWriter` given one chunk."""
    with TableWriter(path) as writer:
        writer.write(frame)
    return writer.path
