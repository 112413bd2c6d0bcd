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
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
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
    """The CSV as pandas reads it, with three corrections that keep each value as the file wrote it.

    - A column whose numbers pandas would write back differently is read as text, and its number
      format is learned by the schema (`synthgen.numberformat`): zero-padded codes ("00123" is not
      123), decimals with trailing zeros ("7.50" is not "7.5"), whole numbers beside decimals.
    - A column of whole numbers with blanks is nullable integers (Int64), not floats: "35" stays
      "35", never "35.0".
    - pandas' missing-value spellings ("n/a", "NA", "NULL", "None", ...) stay text in a column of
      categories, where they are a category of their own ("n/a" as an employment length), and are
      missing values elsewhere (numbers, booleans, dates, free text, identifiers), as pandas reads
      them. An empty field is always missing.

    All three are decided before the one read, from the raw text of a sample of lines (the first
    `SNIFF_BYTES`, and `SPREAD_BLOCKS` blocks of `SPREAD_BYTES` spread over a larger file), and are
    applied by pandas' own parser through per-column ``dtype`` and ``na_values``: a layout that shows
    only in lines outside the sample is read as pandas reads it.
    """
    sample = _text_sample(path)
    delimiter = detect_delimiter(sample) if sample else ","
    options: dict[str, Any] = {}
    raw: dict[str, list[str]] = {}
    if sample:
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        _refuse_duplicates(path, header)
        names = list(pd.read_csv(path, sep=delimiter, index_col=False, encoding="utf-8-sig", nrows=0).columns)
        if len(names) == len(header):
            raw = dict(zip(names, _raw_columns(path, sample, delimiter, len(header))))
            options = _column_options(raw)
    with warnings.catch_warnings():
        # A row longer than the header would silently become an index or lose data.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        frame = pd.read_csv(path, sep=delimiter, index_col=False, encoding="utf-8-sig", **options)
    for position, name in enumerate(frame.columns):
        values = frame.iloc[:, position]
        if values.dtype == np.float64 and _written_whole(values, raw.get(name)):
            frame.isetitem(position, values.astype("Int64"))
    return frame


# pandas' default missing-value spellings (pandas._libs.parsers.STR_NA_VALUES, less the empty field).
NA_SPELLINGS = (
    "-1.#IND", "1.#QNAN", "1.#IND", "-1.#QNAN", "#N/A N/A", "#N/A", "N/A", "n/a", "NA", "<NA>", "#NA",
    "NULL", "null", "NaN", "-NaN", "nan", "-nan", "None",
)  # fmt: skip
_SPELLED = frozenset(NA_SPELLINGS)
# Blocks of SPREAD_BYTES read at even offsets through a larger file to see its columns' layouts.
SPREAD_BLOCKS = 15
SPREAD_BYTES = 16 * 1024
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PADDED = re.compile(r"-?0\d")
_BOOLEANS = frozenset({"True", "False", "TRUE", "FALSE", "true", "false"})
# A text column with at most this share of distinct sampled values is a column of categories.
CATEGORY_SHARE = 0.5


def _raw_columns(path: Path, sample: str, delimiter: str, width: int) -> list[list[str]]:
    """The sampled raw text of each column, by position (complete rows of the header's width only)."""
    rows = _rows(sample, delimiter, width)[1:]
    size = path.stat().st_size
    if size > SNIFF_BYTES + SPREAD_BLOCKS * SPREAD_BYTES:
        with open(path, "rb") as handle:
            for k in range(1, SPREAD_BLOCKS + 1):
                handle.seek(size * k // (SPREAD_BLOCKS + 1))
                block = handle.read(SPREAD_BYTES)
                start, end = block.find(b"\n"), block.rfind(b"\n")
                if 0 <= start < end:
                    rows += _rows(block[start + 1 : end + 1].decode("utf-8", errors="replace"), delimiter, width)
    return [[row[i] for row in rows] for i in range(width)]


def _rows(text: str, delimiter: str, width: int) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if len(row) == width:
                rows.append(row)
    except csv.Error:  # a block that starts inside a quoted field: keep what was read
        pass
    return rows


def _column_options(raw: dict[str, list[str]]) -> dict[str, Any]:
    """read_csv's per-column ``dtype`` and ``na_values`` from the sampled text (see `_read_csv`)."""
    text, spelled = [""], ["", *NA_SPELLINGS]
    dtype = {name: str for name, values in raw.items() if _rewritten_numbers(values)}
    na_values = {name: text if _holds_categories(values) else spelled for name, values in raw.items()}
    return {"dtype": dtype or None, "keep_default_na": False, "na_values": na_values}


def _present(values: list[str] | None) -> list[str]:
    """The distinct sampled values that are not blank or a missing-value spelling, in first-seen order."""
    return [v for v in dict.fromkeys(values or ()) if v and v not in _SPELLED]


def _rewritten_numbers(values: list[str]) -> bool:
    """Whether pandas would read these plain numbers and write them back otherwise: zero-padded
    ("007"), trailing zeros ("7.50" -> "7.5"), whole numbers among decimals ("5" -> "5.0")."""
    present = _present(values)
    if not present or not all(_PLAIN_NUMBER.fullmatch(v) for v in present):
        return False
    if any(_PADDED.match(v) for v in present):
        return True
    if not any("." in v for v in present):
        return False
    return any(repr(float(v)) != v for v in present)


def _holds_categories(values: list[str]) -> bool:
    """Whether the sampled values are categories: text (words, codes; not numbers, booleans or dates)
    that repeats (at most `CATEGORY_SHARE` distinct). In free text or identifiers ("N/A" for a missing
    e-mail) a missing-value spelling stays a missing value."""
    filled = [v for v in values if v and v not in _SPELLED]
    present = _present(values)
    if not present or len(present) > CATEGORY_SHARE * len(filled):
        return False
    present = present[:200]
    if all(v in _BOOLEANS for v in present):
        return False
    head = pd.Series(present, dtype=object)
    if pd.to_numeric(head, errors="coerce").notna().all():
        return False
    if head.str.contains(r"\d").all():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if pd.to_datetime(head, errors="coerce", format="mixed").notna().all():
                return False
    return True


def _written_whole(values: pd.Series, raw: list[str] | None) -> bool:
    """A float column the file wrote as whole numbers ("35", blanks between): pandas made it float for the blanks."""
    present = _present(raw)
    if not present or not all(_PLAIN_NUMBER.fullmatch(v) and "." not in v for v in present):
        return False
    numbers = values.to_numpy()
    finite = numbers[~np.isnan(numbers)]
    return bool(np.all(np.abs(finite) < 2.0**53) and np.all(np.mod(finite, 1) == 0))


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
