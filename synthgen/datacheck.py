"""Every check of a table that needs no training, in one place.

`synthgen validate` and `synthgen generate`/`train` run the same checks, so validate accepts exactly
what generate accepts: a table that cannot be learned (a column with no values, too few rows to hold
some out, nothing but ids and PII, a one-hot encoding that will not fit in memory) is refused in
milliseconds with the column named, not after minutes of training with a traceback.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from synthgen.errors import DataError, InputError
from synthgen.schema import Column, ColumnKind, ColumnSpec, TableSchema, check_target

# The judge refuses a train or holdout table of fewer rows (synthgen.judge.inputs.MIN_ROWS), and
# CTGAN packs its critic's input by pac (10) rows; a test keeps these equal to the judge's minimum.
MIN_TRAIN_ROWS = 10
MIN_HOLDOUT_ROWS = 10
# Mode-specific normalisation (CTGAN's representation, the wider of the two) gives a continuous column
# one scalar plus one slot per mixture mode (at most max_modes = 10) plus one for missing values.
MAX_MODES = 10
# Bytes of training memory per encoded cell (rows x encoded columns) when the generator does not say
# (`GeneratorType.training_memory` does): four float32 copies of the encoded matrix alive at once.
MEMORY_FACTOR = 4
# Refuse a table whose encoding would take more than this share of the machine's memory.
MEMORY_SHARE = 0.5
# Warn above this encoded width: training slows with every column, and it usually means a column of
# identifiers was taken for a category.
WARN_WIDTH = 1_000
BYTES_PER_VALUE = 4


class WideEncodingWarning(UserWarning):
    """The encoded table is wide enough to make training slow and memory-hungry (but it fits)."""


# -- non-finite values ----------------------------------------------------------------------------
def clean_non_finite(
    data: pd.DataFrame, declared: Mapping[str, ColumnSpec] | None = None, source: str = "the data"
) -> pd.DataFrame:
    """The table with infinite numbers set to missing where the recipe allows it; else a `DataError`.

    An infinity cannot be scaled, clipped or learned, and a number too large for a float (1e400)
    reads as one. Each column's `ColumnSpec.non_finite` decides: "error" (the default) names the
    column, the count and the first row; "missing" turns them into NaN, so the column counts as
    nullable when its schema is inferred. Columns declared of a non-numeric kind are left alone.
    The input frame is never modified.
    """
    declared = dict(declared or {})
    out: pd.DataFrame | None = None
    for position, name in enumerate(data.columns):
        spec = declared.get(name) or ColumnSpec()
        if spec.kind is not None and spec.kind not in (ColumnKind.NUMERIC, ColumnKind.INTEGER):
            continue
        values = data.iloc[:, position]
        numbers = _numbers(values, declared_numeric=spec.kind is not None)
        if numbers is None:
            continue
        infinite = np.isinf(numbers)
        if not infinite.any():
            continue
        if spec.non_finite == "error":
            raise DataError(_non_finite_message(name, values, infinite, source))
        out = data.copy() if out is None else out
        if pd.api.types.is_numeric_dtype(values) or spec.kind is None:
            out.isetitem(position, pd.Series(np.where(infinite, np.nan, numbers), index=data.index, name=name))
        else:  # declared numeric over text: other unreadable values stay for the judge to name
            out.isetitem(position, values.where(~infinite, np.nan))
    return data if out is None else out


def _numbers(values: pd.Series, declared_numeric: bool) -> np.ndarray | None:
    """The column as float64 (NaN where missing), or None when it is not a column of numbers.

    Text that pandas could not read as a number is tried with `float`, which reads "1e400" as inf;
    an undeclared column is numeric only if every present value reads as a number.
    """
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if not declared_numeric and not _reads_as_number(values):
        return None  # a text column: its first value is no number, so parsing every row would be wasted
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    unread = np.flatnonzero(np.isnan(numbers) & values.notna().to_numpy())
    for row in unread:
        try:
            numbers[row] = float(str(values.iloc[row]).strip())
        except ValueError:
            if not declared_numeric:
                return None
    return numbers


def _reads_as_number(values: pd.Series) -> bool:
    """Whether the column's first present value reads as a number, as `_numbers` reads each (pandas, then
    `float`); True for a column with no present value."""
    present = np.flatnonzero(values.notna().to_numpy())
    if not len(present):
        return True
    value = values.iloc[present[0]]
    try:
        float(str(value).strip())
        return True
    except ValueError:
        return not np.isnan(pd.to_numeric(pd.Series([value]), errors="coerce").to_numpy(dtype=np.float64)[0])


def _non_finite_message(name: object, values: pd.Series, infinite: np.ndarray, source: str) -> str:
    first = int(np.flatnonzero(infinite)[0])
    value = values.iloc[first]
    value = value.item() if isinstance(value, np.generic) else value
    return (
        f"{source}: column {name!r} holds {int(infinite.sum())} infinite value(s) (inf, -inf, or a number too large "
        f"for a float), first at data row {first + 1} ({value!r}; row 1 is the first after the header). "
        f"Fix the data, or declare `non_finite: missing` under schema.columns.{name} to read them as missing values"
    )


# -- the table can be learned ---------------------------------------------------------------------
def check_learnable(
    data: pd.DataFrame,
    schema: TableSchema,
    source: str,
    holdout: float,
    *,
    memory_share: float = MEMORY_SHARE,
    memory_bytes: int | None = None,
    training_memory: Callable[[int, int, int], float] | None = None,
) -> None:
    """Raise a `DataError` naming the column or the count at fault if training could not succeed.

    ``data`` is the whole source table (before the holdout is cut), ``schema`` its resolved schema and
    ``holdout`` the recipe's `split.holdout`. The memory check refuses an encoding larger than
    ``memory_share`` of ``memory_bytes`` (default: the machine's memory) and warns
    (`WideEncodingWarning`) above `WARN_WIDTH` encoded columns. ``training_memory(rows, width, columns)`` is the
    generator's own estimate in bytes (`synthgen.models.configs.GeneratorType.training_memory`);
    without it, `MEMORY_FACTOR` float32 copies of the encoded matrix.
    """
    if not 0.0 < holdout < 1.0:
        raise InputError(f"holdout must be between 0 and 1 (exclusive), got {holdout}")
    _check_modelled(data, schema, source)
    if schema.target is not None:
        check_target(data[schema.target], schema[schema.target], source)
    _check_rows(data, schema, source, holdout)
    _check_width(data, schema, source, memory_share, memory_bytes, training_memory)


def _check_modelled(data: pd.DataFrame, schema: TableSchema, source: str) -> None:
    if not schema.modelled:
        raise DataError(
            f"{source}: nothing to learn: every column is an id or PII ({', '.join(schema.names)}), and those "
            "are regenerated, never learned. Declare the kind of the columns that should be modelled"
        )
    empty = [c.name for c in schema.modelled if data[c.name].isna().all()]
    if empty:
        raise DataError(
            f"{source}: column(s) {', '.join(repr(n) for n in empty)} have no values (every row is empty), so "
            "they cannot be learned. Remove them from the data, or declare them `kind: pii` to regenerate them "
            "as empty columns (an undeclared empty column is inferred so)"
        )


def holdout_sizes(data: pd.DataFrame, schema: TableSchema, fraction: float) -> tuple[int, int]:
    """(train rows, holdout rows) that `synthgen.pipeline.split_holdout` will cut, without cutting.

    The split is stratified on a discrete target: each class holds out round(size x fraction) rows.
    """
    target = schema.target
    if target is not None and target in schema and schema[target].kind.is_discrete:
        sizes = data[target].astype(str).value_counts().tolist()
    else:
        sizes = [len(data)]
    held = sum(int(round(size * fraction)) for size in sizes)
    return len(data) - held, held


def _check_rows(data: pd.DataFrame, schema: TableSchema, source: str, holdout: float) -> None:
    train, held = holdout_sizes(data, schema, holdout)
    if train >= MIN_TRAIN_ROWS and held >= MIN_HOLDOUT_ROWS:
        return
    needed = int(np.ceil(max(MIN_HOLDOUT_ROWS / holdout, MIN_TRAIN_ROWS / (1.0 - holdout))))
    raise DataError(
        f"{source}: the table has {len(data)} row(s): holding out {holdout:.0%} (split.holdout) leaves {train} "
        f"to train on and {held} to judge the result with; synthgen needs at least {MIN_TRAIN_ROWS} of each "
        f"(about {needed} rows at this holdout)"
    )


# -- the encoding fits in memory ------------------------------------------------------------------
def column_widths(data: pd.DataFrame, schema: TableSchema) -> dict[str, int]:
    """Encoded columns of each modelled column: its levels (one-hot), or 1 + modes for a number.

    A missing value is a level of its own in both encodings. This is the CTGAN representation; the
    diffusion model one-hot encodes its categories the same way before it compacts them.
    """
    widths: dict[str, int] = {}
    for column in schema.modelled:
        values = data[column.name]
        has_null = int(bool(values.isna().any()))
        levels = int(values.nunique(dropna=True))
        if column.kind.is_discrete:
            widths[column.name] = levels + has_null
        else:
            widths[column.name] = 1 + min(MAX_MODES, levels) + has_null
    return widths


def estimate_encoded_width(data: pd.DataFrame, schema: TableSchema) -> int:
    """Columns of the encoded training matrix (see `column_widths`)."""
    return sum(column_widths(data, schema).values())


def available_memory() -> int | None:
    """Bytes of memory a new job can use: psutil's figure when installed, else Linux's MemAvailable,
    else the machine's physical memory."""
    try:
        import psutil  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _check_width(
    data: pd.DataFrame,
    schema: TableSchema,
    source: str,
    memory_share: float,
    memory_bytes: int | None,
    training_memory: Callable[[int, int, int], float] | None,
) -> None:
    widths = column_widths(data, schema)
    width = sum(widths.values())
    if training_memory is not None:
        needed = training_memory(len(data), width, len(schema.modelled))
    else:
        needed = len(data) * width * BYTES_PER_VALUE * MEMORY_FACTOR
    memory = memory_bytes if memory_bytes is not None else available_memory()
    widest = _widest(schema, widths)
    if memory is not None and needed > memory_share * memory:
        raise DataError(
            f"{source}: the encoded table would be {len(data):,} rows x {width:,} columns, about "
            f"{_gb(needed)} while training, more than {memory_share:.0%} of the {_gb(memory)} of memory; {widest}. "
            "Declare identifier-like columns `kind: id` or `kind: pii` (regenerated, never learned), or group "
            "rare levels"
        )
    if width > WARN_WIDTH:
        warnings.warn(
            f"{source}: the encoded table is {width:,} columns wide ({widest}); training will be slow and "
            "memory-hungry. Identifier-like columns should be declared `kind: id` or `kind: pii`",
            WideEncodingWarning,
            stacklevel=3,
        )


def _widest(schema: TableSchema, widths: dict[str, int], count: int = 3) -> str:
    ranked = sorted(widths.items(), key=lambda item: (-item[1], item[0]))[:count]
    parts = []
    for name, width in ranked:
        column: Column = schema[name]
        unit = "levels" if column.kind.is_discrete else "encoded columns"
        parts.append(f"column {name!r} has {width:,} {unit}")
    return "widest: " + ", ".join(parts)


def _gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.1f} GB"
