"""Check the three tables against the schema and bring them to one plain form.

Every part of the judge reads the *clean* frames made here: continuous columns (numeric, integer,
datetime) as float64 (datetimes as epoch seconds), discrete columns (categorical, boolean) as
canonical strings, missing values as NaN / None. A column with a number format ("83.70%") is read
with it, so the judge compares numbers, never their spelling. A value that cannot be read as its kind
is an error that names the table and the column, never a silent null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.errors import DataError, InputError
from synthgen.numberformat import parse_numbers
from synthgen.schema import Column, ColumnKind, TableSchema

MIN_ROWS = 10


@dataclass(frozen=True)
class CleanTables:
    train: pd.DataFrame
    holdout: pd.DataFrame
    synthetic: pd.DataFrame
    columns: list[Column]  # the scored (modelled) columns, schema order

    @property
    def continuous(self) -> list[str]:
        return [c.name for c in self.columns if c.kind.is_continuous]

    @property
    def discrete(self) -> list[str]:
        return [c.name for c in self.columns if c.kind.is_discrete]


def prepare(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema) -> CleanTables:
    if not isinstance(schema, TableSchema):
        raise InputError(f"schema must be a synthgen.schema.TableSchema, got {type(schema).__name__}")
    columns = list(schema.modelled)
    if not columns:
        raise InputError("the schema has no modelled column to evaluate (every column is an id or PII)")
    if schema.target is not None and schema.target not in [c.name for c in columns]:
        raise InputError(f"target column {schema.target!r} is not a modelled column of the schema")
    tables = {}
    for role, frame in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"the {role} table must be a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) < MIN_ROWS and all(c.name in frame.columns for c in columns):
            raise DataError(f"the {role} table has {len(frame)} rows; the evaluation needs at least {MIN_ROWS}")
        tables[role] = clean_table(frame, columns, role)
    for c in columns:
        if tables["train"][c.name].isna().all():
            raise DataError(f"column {c.name!r} has no values in the train table")
    return CleanTables(tables["train"], tables["holdout"], tables["synthetic"], columns)


def clean_table(frame: pd.DataFrame, columns: list[Column], role: str) -> pd.DataFrame:
    """``frame``'s scored ``columns`` in the clean form; a missing column is an error naming the ``role``'s table.
    Also how a part of a sharded release is read (`synthgen.judge.release_records`)."""
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise DataError(
            f"the {role} table lacks column(s) {', '.join(repr(m) for m in missing)} of the schema; "
            f"it has: {', '.join(map(str, frame.columns))}"
        )
    return pd.DataFrame(
        {c.name: clean_column(frame[c.name], c, role) for c in columns}, index=pd.RangeIndex(len(frame))
    )


def clean_column(values: pd.Series, column: Column, role: str) -> pd.Series:
    values = values.reset_index(drop=True)
    if column.kind.is_continuous:
        return _continuous(values, column, role)
    return _discrete(values, column)


def _continuous(values: pd.Series, column: Column, role: str) -> pd.Series:
    if column.kind is ColumnKind.DATETIME:
        if pd.api.types.is_datetime64_any_dtype(values):
            parsed = values
        else:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=False)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = parsed.isna() & values.notna()
        out = pd.Series(np.full(len(values), np.nan), dtype="float64")
        ok = parsed.notna()
        out[ok] = (parsed[ok] - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
    elif column.format is not None:
        numbers, unreadable = parse_numbers(values, column.format)
        out, bad = pd.Series(numbers, dtype="float64"), pd.Series(unreadable)
    else:
        if pd.api.types.is_bool_dtype(values):
            values = values.astype("float64")
        out = pd.to_numeric(values, errors="coerce").astype("float64")
        bad = out.isna() & values.notna()
        out[~np.isfinite(out.to_numpy()) & out.notna()] = np.nan
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].head(3).tolist())
        what = "dates" if column.kind is ColumnKind.DATETIME else "numbers"
        if column.format is not None:
            what = f"numbers in the column's format (which writes 1234.5 as {column.format.example()!r})"
        raise DataError(
            f"column {column.name!r} ({column.kind.value}) of the {role} table has {int(bad.sum())} value(s) "
            f"that are not {what}, e.g. {examples}"
        )
    return out


def _canonical(value: object) -> object:
    """One spelling per category: 1, 1.0 and '1' (and True / 'true' for booleans) read the same."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def _discrete(values: pd.Series, column: Column) -> pd.Series:
    codes, categories = pd.factorize(values, use_na_sentinel=True)
    keys = [_canonical(c) for c in categories]
    if column.kind is ColumnKind.BOOLEAN:
        keys = [k.capitalize() if k is not None and k.lower() in ("true", "false") else k for k in keys]
    canon = np.array(keys + [None], dtype=object)  # code -1 (missing) picks the trailing None
    return pd.Series(canon[codes], dtype=object)
