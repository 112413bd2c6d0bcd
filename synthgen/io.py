"""Reading and writing tables and JSON, so that nothing half-written is ever left behind.

Every write goes to a temporary file in the destination folder and is renamed into place, so a
crash, a full disk or a refused gate leaves either the old file or no file, never a truncated one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from synthgen.errors import DataError, InputError

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: Path) -> str:
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; use one of {', '.join(TABLE_SUFFIXES)}"
        )
    return fmt


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file; every failure becomes one `DataError` naming the file."""
    path = Path(path)
    fmt = table_format(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    try:
        if fmt == "csv":
            with warnings.catch_warnings():
                # A row longer than the header would silently become an index or lose data.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(path, index_col=False)
        else:
            frame = pd.read_parquet(path)
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _prepare_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot create the output folder: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"{path}: the output folder is not writable")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file path")


def ensure_writable(path: str | os.PathLike[str]) -> Path:
    """Fail before any work is done if ``path`` cannot receive a table (creates missing folders)."""
    path = Path(path)
    table_format(path)
    _prepare_parent(path)
    return path


def atomic_write(path: str | os.PathLike[str], write: Any, binary: bool = False) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    path = Path(path)
    _prepare_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write CSV or Parquet (chosen by suffix) atomically."""
    path = Path(path)
    fmt = table_format(path)

    def _write(tmp: Path) -> None:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)

    try:
        return atomic_write(path, _write)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the output: {exc.strerror or exc}") from None


def write_json(data: Any, path: str | os.PathLike[str]) -> Path:
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def replace_directory(staging: Path, target: Path) -> None:
    """Move a fully written ``staging`` folder onto ``target``, replacing what was there."""
    if target.exists():
        trash = target.with_name(f".{target.name}.old")
        if trash.exists():
            shutil.rmtree(trash)
        os.replace(target, trash)
        os.replace(staging, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staging, target)
