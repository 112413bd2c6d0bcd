"""Rules every generated row must obey, declared in the recipe's ``constraints:`` list.

    constraints:
      - {type: inequality, low: loan_amnt, high: annual_inc}        # also between two datetimes
      - {type: expression, expression: "loan_amnt <= 0.8 * annual_inc"}
      - {type: fixed_combinations, columns: [addr_state, zip_code]}  # only pairs seen in the real data
      - {type: unique, columns: [account_number]}

A generator learns each column's distribution and the pairs' trends, but nothing in its loss says
that a loan never exceeds the income: sampled rows break such rules in a few per cent of rows, which
is enough for a downstream validator to reject a whole file. Constraints are enforced in two ways:

* by reparametrisation, which makes a violation impossible: an inequality between two numbers is
  learned as ``low`` and the non-negative gap ``high - low`` (stored in ``high``'s place), and a fixed
  combination of discrete columns is learned as one category per combination seen in the data;
* by rejection: every other rule (datetime inequalities, expressions, fixed combinations that cannot
  be merged) is checked row by row with `ConstraintSet.valid`, and the sampler redraws failing rows.

``unique`` is a rule about the whole output, not a row: the sampler tracks it across chunks with
`UniqueTracker`. A missing value in a constrained column satisfies the rule (there is nothing to
compare). The module is pandas/numpy only: `synthgen validate` checks constraints without torch.
"""

from __future__ import annotations

import difflib
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from synthgen.errors import DataError, InputError, ModelFileError, NotFittedError
from synthgen.expressions import Expression, ExpressionError
from synthgen.numberformat import format_numbers, parse_numbers
from synthgen.schema import Column, ColumnKind, TableSchema

STATE_FORMAT = 1
MERGE_MAX_COMBINATIONS = 2000
"""A fixed combination with more distinct combinations than this is enforced by rejection, not merged
into one category (a category per few rows could only be memorised)."""

_NUMBERS = (ColumnKind.NUMERIC, ColumnKind.INTEGER)
_NUMERIC_VALUED = (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)  # allowed when every value is a number


# -- recipe entries ---------------------------------------------------------------------------------
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _no_repeats(columns: list[str]) -> list[str]:
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValueError(f"column {repeated[0]!r} is listed twice")
    return columns


class InequalitySpec(_Spec):
    """``low <= high`` (``low < high`` when strict) in every row: two numeric or two datetime columns."""

    type: Literal["inequality"]
    low: str = Field(min_length=1, description="The column that is never above `high`.")
    high: str = Field(min_length=1, description="The column that is never below `low`.")
    strict: bool = Field(default=False, description="Require low < high (no ties).")

    @model_validator(mode="after")
    def _two_columns(self) -> InequalitySpec:
        if self.low == self.high:
            raise ValueError(f"low and high are the same column ({self.low!r})")
        return self


class ExpressionSpec(_Spec):
    """A comparison over numeric columns, such as ``loan_amnt <= 0.8 * annual_inc``."""

    type: Literal["expression"]
    expression: str = Field(
        description="Numbers, column names (`with spaces` in backticks), + - * / % **, abs min max round log "
        "log10 exp sqrt floor ceil, comparisons < <= > >= == != (chained), and/or/not. Parsed, never eval'd."
    )

    @field_validator("expression")
    @classmethod
    def _parses(cls, value: str) -> str:
        Expression(value)  # ExpressionError is a ValueError: pydantic reports it with the recipe line
        return value


class FixedCombinationsSpec(_Spec):
    """Only the combinations of these columns' values that occur in the real data (e.g. state and zip)."""

    type: Literal["fixed_combinations"]
    columns: list[str] = Field(min_length=2, description="Two or more columns whose joint values are fixed.")

    @field_validator("columns")
    @classmethod
    def _distinct(cls, columns: list[str]) -> list[str]:
        return _no_repeats(columns)


class UniqueSpec(_Spec):
    """No two generated rows share the values of these columns (together)."""

    type: Literal["unique"]
    columns: list[str] = Field(min_length=1, description="Column(s) whose combination is unique per row.")

    @field_validator("columns")
    @classmethod
    def _distinct(cls, columns: list[str]) -> list[str]:
        return _no_repeats(columns)


ConstraintSpec = Annotated[
    Union[InequalitySpec, ExpressionSpec, FixedCombinationsSpec, UniqueSpec],  # noqa: UP007 (pydantic discriminator)
    Field(discriminator="type"),
]
_SPEC = TypeAdapter(ConstraintSpec)


def describe(spec: ConstraintSpec) -> str:
    """How error messages name a constraint: its type and what it says."""
    if isinstance(spec, InequalitySpec):
        return f"inequality {spec.low} {'<' if spec.strict else '<='} {spec.high}"
    if isinstance(spec, ExpressionSpec):
        return f"expression {spec.expression!r}"
    return f"{spec.type} [{', '.join(spec.columns)}]"


def _label(spec: ConstraintSpec) -> str:
    if isinstance(spec, InequalitySpec):
        return f"{spec.low} {'<' if spec.strict else '<='} {spec.high}"
    if isinstance(spec, ExpressionSpec):
        return " ".join(spec.expression.split())
    names = ", ".join(spec.columns)
    if isinstance(spec, FixedCombinationsSpec):
        return f"fixed combinations of ({names})"
    return f"unique {names}" if len(spec.columns) == 1 else f"unique ({names})"


# -- learned pieces (JSON state) ----------------------------------------------------------------------
@dataclass
class _Gap:
    """An inequality learned as ``low`` and the gap ``high - low`` in ``high``'s place."""

    index: int
    low: str
    high: str
    strict: bool
    gap_kind: str  # "integer" or "numeric"
    gap_decimals: int | None
    high_decimals: int | None
    high_dtype: str
    lowest: float | None  # the high column's range: the training data's, within its declared bounds
    highest: float | None


@dataclass
class _Merge:
    """A fixed combination learned as one category per seen combination, in the first column's place."""

    index: int
    columns: list[str]
    combinations: list[list[Any]]  # JSON values per column; None for a missing value
    dtypes: list[str]


@dataclass
class _Seen:
    """The combinations of a fixed_combinations constraint seen in the training data, as codes."""

    index: int
    vocabularies: list[list[Any]]  # canonical values per column
    codes: list[list[int]]  # one row of codes per seen combination

    def holds(
        self, frame: pd.DataFrame, columns: list[str], kinds: list[ColumnKind], formats: dict[str, str | None]
    ) -> np.ndarray:
        """True per row whose combination was seen, or that has a missing value."""
        missing = np.zeros(len(frame), dtype=bool)
        codes = []
        for name, kind, vocabulary in zip(columns, kinds, self.vocabularies):
            values, absent = _canonical(frame[name], kind, formats.get(name))
            missing |= absent
            codes.append(pd.Index(vocabulary, dtype=object).get_indexer(values))
        if not self.codes or not len(frame):
            return missing
        seen = pd.MultiIndex.from_arrays([np.asarray(c, dtype=np.int64) for c in zip(*self.codes)])
        return missing | pd.MultiIndex.from_arrays(codes).isin(seen)


# -- the set ---------------------------------------------------------------------------------------------
class ConstraintSet:
    """A recipe's constraints checked against a schema, then fitted on the real training rows.

    ``source`` (the recipe file) prefixes error messages. See the module docstring for how each
    constraint is enforced; `reparametrised` lists the columns a generator does not learn as they are.
    """

    def __init__(self, specs: Sequence[ConstraintSpec], schema: TableSchema, source: str | None = None) -> None:
        self.specs: list[ConstraintSpec] = [_SPEC.validate_python(s) if isinstance(s, dict) else s for s in specs]
        self.schema = schema
        self.source = source
        self.expressions: dict[int, Expression] = {}
        for index, spec in enumerate(self.specs):
            self._check(index, spec)
        labels = [_label(spec) for spec in self.specs]
        self.labels: list[str] = [
            label if labels.count(label) == 1 else f"{label} (constraint {i + 1})" for i, label in enumerate(labels)
        ]
        self.unique: list[list[str]] = [list(s.columns) for s in self.specs if isinstance(s, UniqueSpec)]
        self._gaps: list[_Gap] = []
        self._merges: list[_Merge] = []
        self._seen: dict[int, _Seen] = {}
        self._formats: dict[str, str | None] = {}
        self._fitted = False

    def __len__(self) -> int:
        return len(self.specs)

    def __bool__(self) -> bool:
        return bool(self.specs)

    # -- checks against the schema ------------------------------------------------------------------
    def _error(self, index: int, problem: str, error: type[InputError] = InputError) -> InputError:
        prefix = f"{self.source}: " if self.source else ""
        return error(f"{prefix}constraint {index + 1} ({describe(self.specs[index])}): {problem}")

    def _column(self, index: int, name: str) -> Column:
        if name in self.schema:
            return self.schema[name]
        close = difflib.get_close_matches(name, self.schema.names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; the data has: {', '.join(self.schema.names)}"
        raise self._error(index, f"unknown column {name!r}{hint}")

    def _check(self, index: int, spec: ConstraintSpec) -> None:
        if isinstance(spec, InequalitySpec):
            low, high = self._column(index, spec.low), self._column(index, spec.high)
            for column in (low, high):
                if column.kind not in (*_NUMBERS, ColumnKind.DATETIME, *_NUMERIC_VALUED):
                    raise self._error(
                        index,
                        f"{column.name!r} is {_a(column.kind)} column; an inequality compares numeric, integer or "
                        "datetime columns",
                    )
            if (low.kind is ColumnKind.DATETIME) != (high.kind is ColumnKind.DATETIME):
                raise self._error(
                    index,
                    f"{low.name!r} is {_a(low.kind)} column and {high.name!r} is {_a(high.kind)} column; "
                    "an inequality compares two numbers or two datetimes",
                )
        elif isinstance(spec, ExpressionSpec):
            try:
                expression = Expression(spec.expression)
            except ExpressionError as exc:
                raise self._error(index, str(exc)) from None
            unknown = expression.unknown(self.schema.names)
            if unknown is not None:
                raise self._error(index, f"unknown column {unknown[0]!r}{unknown[1]}")
            for name in expression.columns:
                column = self.schema[name]
                if column.kind not in (*_NUMBERS, *_NUMERIC_VALUED):
                    extra = "; compare datetimes with an inequality" if column.kind is ColumnKind.DATETIME else ""
                    raise self._error(
                        index,
                        f"{name!r} is {_a(column.kind)} column; expressions compute with numeric and integer "
                        f"columns{extra}",
                    )
            self.expressions[index] = expression
        elif isinstance(spec, FixedCombinationsSpec):
            for name in spec.columns:
                column = self._column(index, name)
                if not column.kind.is_modelled:
                    raise self._error(
                        index, f"{name!r} is {_a(column.kind)} column, which is regenerated, never learned"
                    )
        else:
            for name in spec.columns:
                self._column(index, name)

    # -- fit ----------------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame) -> ConstraintSet:
        """Learn from the real training rows: seen combinations, dtypes, ranges, datetime formats, and which
        constraints are reparametrised (decided here, kept in the state)."""
        self._require_columns(data)
        self._formats = {}
        for spec in self.specs:
            for name in _columns_of(spec):
                if self.schema[name].kind is ColumnKind.DATETIME and name not in self._formats:
                    self._formats[name] = _learn_format(data[name])
        for index, spec in enumerate(self.specs):
            names = self.expressions[index].columns if index in self.expressions else []
            if isinstance(spec, InequalitySpec):
                names = [spec.low, spec.high]
            for name in names:
                if self.schema[name].kind in _NUMERIC_VALUED:
                    self._require_numbers(index, data[name])
        self._seen = {
            index: _learn_seen(index, data, spec.columns, self._kinds(spec.columns), self._formats)
            for index, spec in enumerate(self.specs)
            if isinstance(spec, FixedCombinationsSpec)
        }
        self._gaps = self._plan_gaps(data)
        self._merges = self._plan_merges(data)
        self._fitted = True
        return self

    def _require_numbers(self, index: int, values: pd.Series) -> None:
        present = values.dropna()
        numbers = column_numbers(present, self.schema[str(values.name)])
        bad = present[np.isnan(numbers)]
        if len(bad):
            raise self._error(
                index,
                f"column {values.name!r} is {_a(self.schema[str(values.name)].kind)} column with values that are "
                f"not numbers (such as {bad.iloc[0]!r}); a comparison needs numbers",
                DataError,
            )

    def _require_columns(self, frame: pd.DataFrame) -> None:
        for index, spec in enumerate(self.specs):
            for name in _columns_of(spec, self.expressions.get(index)):
                if name not in frame.columns:
                    raise self._error(index, f"the table has no column {name!r}", DataError)

    def _kinds(self, names: Sequence[str]) -> list[ColumnKind]:
        return [self.schema[name].kind for name in names]

    def _plan_gaps(self, data: pd.DataFrame) -> list[_Gap]:
        gaps: list[_Gap] = []
        derived: dict[str, str] = {}  # high -> low
        for index, spec in enumerate(self.specs):
            if not isinstance(spec, InequalitySpec):
                continue
            low, high = self.schema[spec.low], self.schema[spec.high]
            if low.kind not in _NUMBERS or high.kind not in _NUMBERS:
                continue
            if low.nullable or data[low.name].isna().any() or high.name == self.schema.target:
                continue
            if high.name in derived or _ancestor(derived, low.name, high.name):
                continue
            derived[high.name] = low.name
            low_decimals, high_decimals = _decimals(low), _decimals(high)
            integer = low.kind is ColumnKind.INTEGER and high.kind is ColumnKind.INTEGER
            gap_decimals = None if low_decimals is None or high_decimals is None else max(low_decimals, high_decimals)
            lowest, highest = _range(high, column_numbers(data[high.name], high))
            gaps.append(
                _Gap(
                    index=index,
                    low=low.name,
                    high=high.name,
                    strict=spec.strict,
                    gap_kind="integer" if integer else "numeric",
                    gap_decimals=0 if integer else gap_decimals,
                    high_decimals=high_decimals,
                    high_dtype=str(data[high.name].dtype),
                    lowest=lowest,
                    highest=highest,
                )
            )
        return _decode_order(gaps)

    def _plan_merges(self, data: pd.DataFrame) -> list[_Merge]:
        merges: list[_Merge] = []
        taken = {gap.high for gap in self._gaps}
        mergeable = (*_NUMBERS, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)
        for index, spec in enumerate(self.specs):
            if not isinstance(spec, FixedCombinationsSpec):
                continue
            columns = [self.schema[name] for name in spec.columns]
            if any(c.kind not in mergeable or c.name == self.schema.target or c.name in taken for c in columns):
                continue
            frame = data[spec.columns]
            first_rows, _ = _combinations([frame[name] for name in spec.columns])
            if len(first_rows) > MERGE_MAX_COMBINATIONS:
                continue
            first_rows.sort()  # combinations in order of first appearance: the same on every machine
            combinations = [[_json_value(frame[name].iloc[row]) for name in spec.columns] for row in first_rows]
            merges.append(
                _Merge(index, list(spec.columns), combinations, [str(frame[name].dtype) for name in spec.columns])
            )
            taken.update(spec.columns)
        return merges

    # -- the reparametrisation ----------------------------------------------------------------------------
    def _require_fitted(self) -> None:
        if not self._fitted:
            raise NotFittedError("the constraints are not fitted: call ConstraintSet.fit(training rows) first")

    @property
    def reparametrised(self) -> dict[str, str]:
        """Columns a generator learns as something else, and what: conditions on them need `condition_values`."""
        self._require_fitted()
        out = {gap.high: f"the gap {gap.high} - {gap.low}" for gap in self._gaps}
        for merge in self._merges:
            for name in merge.columns:
                out[name] = f"one category per seen combination of ({', '.join(merge.columns)}), in {merge.columns[0]}"
        return out

    def encode(self, data: pd.DataFrame) -> pd.DataFrame:
        """The rows as the generator learns them (a copy): gaps in the high columns' places, merged columns
        as one category column in the first column's place (the others dropped)."""
        self._require_fitted()
        out = data.copy()
        for gap in self._gaps:  # every gap from the real values, before any column is replaced
            low, high = self._numbers(data, gap.low), self._numbers(data, gap.high)
            values = high - low
            if gap.gap_decimals is not None:
                values = _round(values, gap.gap_decimals)
            integral = _is_int(data[gap.low].dtype) and _is_int(data[gap.high].dtype) and not np.isnan(values).any()
            out[gap.high] = values.astype(np.int64) if integral else values
        for merge in self._merges:
            keys = [_key(c) for c in merge.combinations]
            lookup = {key: i for i, key in enumerate(keys)}
            first, inverse = _combinations([data[name] for name in merge.columns])
            merged = []
            for row in first:
                key = _key([_json_value(data[name].iloc[row]) for name in merge.columns])
                merged.append(key if key in lookup else None)  # unseen: rows outside the training data
            values = np.array(merged, dtype=object)[inverse]
            out[merge.columns[0]] = pd.Series(values, index=out.index, dtype=object)
            out = out.drop(columns=merge.columns[1:])
        return out

    def model_schema(self, schema: TableSchema) -> TableSchema:
        """The schema the generator learns: a gap column (kind of the gap, min 0, no max) in each high
        column's place; one categorical column per merged combination, in its first column's place."""
        self._require_fitted()
        gaps = {gap.high: gap for gap in self._gaps}
        merged = {merge.columns[0]: merge for merge in self._merges}
        dropped = {name for merge in self._merges for name in merge.columns[1:]}
        columns = []
        for column in schema.columns:
            if column.name in dropped:
                continue
            if column.name in gaps:
                gap = gaps[column.name]
                kind = ColumnKind(gap.gap_kind)
                rounding = gap.gap_decimals if kind is ColumnKind.NUMERIC else None
                column = Column(name=column.name, kind=kind, nullable=column.nullable, min=0, rounding=rounding)
            elif column.name in merged:
                column = Column(name=column.name, kind=ColumnKind.CATEGORICAL, nullable=False)
            columns.append(column)
        return TableSchema(columns=columns, target=schema.target)

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The inverse of `encode` on sampled rows: merged categories back to their columns, gaps added back
        (a row then satisfies its inequality exactly, rounding and ``strict`` included), the high columns
        kept within their range. Columns come back in the schema's order."""
        self._require_fitted()
        out = frame.copy()
        for merge in self._merges:
            keys = pd.Index([_key(c) for c in merge.combinations])
            rows = keys.get_indexer(out[merge.columns[0]].astype(object))
            known = rows >= 0
            for position, (name, dtype) in enumerate(zip(merge.columns, merge.dtypes)):
                table = np.array([c[position] for c in merge.combinations] + [None], dtype=object)
                out[name] = _restore(table[np.where(known, rows, len(table) - 1)], dtype, name, out.index)
        for gap in self._gaps:
            out[gap.high] = self._add_gap(gap, out)
        order = [name for name in self.schema.names if name in out.columns]
        return out[order + [name for name in out.columns if name not in set(order)]]

    def _numbers(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        return column_numbers(frame[name], self.schema[name])

    def _add_gap(self, gap: _Gap, frame: pd.DataFrame) -> pd.Series:
        low = self._numbers(frame, gap.low)
        with np.errstate(invalid="ignore"):
            high = low + np.maximum(_numbers(frame[gap.high]), 0.0)
            if gap.high_decimals is not None:
                high = _round(high, gap.high_decimals)
                least = _ceil(low, gap.high_decimals)  # the smallest value the high column can hold >= low
                if gap.strict:
                    least = np.where(least <= low, _round(least + 10.0**-gap.high_decimals, gap.high_decimals), least)
            else:
                least = np.nextafter(low, np.inf) if gap.strict else low
            short = (high <= low) if gap.strict else (high < low)
            high = np.where(short, least, high)
            if gap.lowest is not None or gap.highest is not None:
                high = np.clip(high, gap.lowest, gap.highest)
        fmt = getattr(self.schema[gap.high], "format", None)
        if fmt is not None:  # written back as the source wrote it ("36 months")
            text = pd.Series(format_numbers(high, fmt), index=frame.index, name=gap.high, dtype=object)
            return text.where(text.notna(), np.nan)
        return _restore_numbers(high, gap.high_dtype, gap.high, frame.index)

    # -- checks ----------------------------------------------------------------------------------------
    def violations(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per row-local constraint (all but unique): its label and a bool per row, True where violated."""
        self._require_fitted()
        self._require_columns_local(frame)
        out = {}
        for index, spec in enumerate(self.specs):
            if isinstance(spec, UniqueSpec):
                continue
            out[self.labels[index]] = ~self._holds(index, spec, frame)
        return out

    def valid(self, frame: pd.DataFrame) -> np.ndarray:
        """A bool per row: True where every row-local constraint holds (a missing value satisfies)."""
        ok = np.ones(len(frame), dtype=bool)
        for violated in self.violations(frame).values():
            ok &= ~violated
        return ok

    def violation_rates(self, frame: pd.DataFrame) -> dict[str, float]:
        """Label -> share of rows violating it; for unique, the share of rows repeating an earlier row."""
        broken = self.violations(frame)
        rates = {}
        for index, spec in enumerate(self.specs):
            label = self.labels[index]
            if isinstance(spec, UniqueSpec):
                violated = duplicated(frame, spec.columns, self._kinds(spec.columns), self._formats)
            else:
                violated = broken[label]
            rates[label] = float(violated.mean()) if len(frame) else 0.0
        return rates

    def _require_columns_local(self, frame: pd.DataFrame) -> None:
        for index, spec in enumerate(self.specs):
            if isinstance(spec, UniqueSpec):
                continue
            for name in _columns_of(spec, self.expressions.get(index)):
                if name not in frame.columns:
                    raise self._error(index, f"the rows have no column {name!r}", DataError)

    def _holds(self, index: int, spec: ConstraintSpec, frame: pd.DataFrame) -> np.ndarray:
        if isinstance(spec, InequalitySpec):
            if self.schema[spec.low].kind is ColumnKind.DATETIME:
                low, low_missing = _stamps(frame[spec.low], self._formats.get(spec.low))
                high, high_missing = _stamps(frame[spec.high], self._formats.get(spec.high))
                ordered = (low < high) if spec.strict else (low <= high)
                return low_missing | high_missing | ordered
            low, high = self._numbers(frame, spec.low), self._numbers(frame, spec.high)
            with np.errstate(invalid="ignore"):
                ordered = (low < high) if spec.strict else (low <= high)
            return np.isnan(low) | np.isnan(high) | ordered
        if isinstance(spec, ExpressionSpec):
            expression = self.expressions[index]
            return expression.check({name: self._numbers(frame, name) for name in expression.columns})
        return self._seen[index].holds(frame, spec.columns, self._kinds(spec.columns), self._formats)

    # -- conditions ----------------------------------------------------------------------------------------
    def condition_values(self, column: str, value: Any) -> tuple[str, list[Any]]:
        """A condition ``column == value`` in the generator's terms: (model column, the values it may take).

        For an unchanged column that is (column, [value]); for a column merged into a fixed combination, the
        merged column and every seen combination holding ``value``. A gap column cannot be conditioned on.
        """
        self._require_fitted()
        for gap in self._gaps:
            if gap.high == column:
                raise InputError(
                    f"cannot condition on {column!r}: it is learned as the gap {gap.high} - {gap.low} "
                    f"(constraint {gap.index + 1}); condition on {gap.low!r} or filter the sampled rows"
                )
        for merge in self._merges:
            if column in merge.columns:
                position = merge.columns.index(column)
                wanted = _canonical_scalar(_json_value(value))
                keys = [_key(c) for c in merge.combinations if _canonical_scalar(c[position]) == wanted]
                return merge.columns[0], keys
        return column, [value]

    # -- state ---------------------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        self._require_fitted()
        return {
            "format": STATE_FORMAT,
            "specs": [spec.model_dump(mode="json") for spec in self.specs],
            "formats": dict(self._formats),
            "gaps": [asdict(gap) for gap in self._gaps],
            "merges": [asdict(merge) for merge in self._merges],
            "seen": [asdict(seen) for seen in self._seen.values()],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], schema: TableSchema) -> ConstraintSet:
        """The fitted set of `get_state`; a malformed state is a `ModelFileError`."""
        try:
            if state.get("format") != STATE_FORMAT:
                raise ValueError(f"unknown constraints format {state.get('format')!r} (this synthgen reads 1)")
            constraints = cls([_SPEC.validate_python(spec) for spec in state["specs"]], schema)
            constraints._formats = {str(k): v for k, v in state["formats"].items()}
            constraints._gaps = [_Gap(**gap) for gap in state["gaps"]]
            constraints._merges = [_Merge(**merge) for merge in state["merges"]]
            constraints._seen = {seen["index"]: _Seen(**seen) for seen in state["seen"]}
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError, InputError) as exc:
            raise ModelFileError(f"the model's constraints state cannot be read: {exc}") from None
        constraints._fitted = True
        return constraints


def _a(kind: ColumnKind) -> str:
    return f"{'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value}"


def _columns_of(spec: ConstraintSpec, expression: Expression | None = None) -> list[str]:
    if isinstance(spec, InequalitySpec):
        return [spec.low, spec.high]
    if isinstance(spec, ExpressionSpec):
        return list((expression or Expression(spec.expression)).columns)
    return list(spec.columns)


def _ancestor(derived: dict[str, str], name: str, candidate: str) -> bool:
    """Whether ``candidate`` is ``name`` or one it is derived from (a cycle if ``name`` derived from it)."""
    while True:
        if name == candidate:
            return True
        if name not in derived:
            return False
        name = derived[name]


def _decode_order(gaps: list[_Gap]) -> list[_Gap]:
    """Gaps ordered so that a low column that is itself a gap is decoded before it is used."""
    by_high = {gap.high: gap for gap in gaps}
    order: list[_Gap] = []

    def place(gap: _Gap) -> None:
        if gap in order:
            return
        if gap.low in by_high:
            place(by_high[gap.low])
        order.append(gap)

    for gap in gaps:
        place(gap)
    return order


# -- values --------------------------------------------------------------------------------------------
def _is_int(dtype: Any) -> bool:
    return str(dtype).lower().startswith(("int", "uint"))


def column_numbers(values: pd.Series, column: Column) -> np.ndarray:
    """A column's values as float64, NaN where missing: text in the column's number format ("83.70%") read
    with it."""
    fmt = getattr(column, "format", None)
    if fmt is not None:
        return parse_numbers(values, fmt)[0]
    return _numbers(values)


def _numbers(values: pd.Series) -> np.ndarray:
    """Float64 with NaN for a missing value (or a value that is not a number)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _decimals(column: Column) -> int | None:
    if column.kind is ColumnKind.INTEGER:
        return 0
    return column.rounding


def _round(values: np.ndarray, decimals: int) -> np.ndarray:
    small = np.abs(values) < 2.0**52  # beyond that a float is whole; scaling it could overflow
    out = values.copy()
    out[small] = np.round(values[small], decimals)
    return out


def _ceil(values: np.ndarray, decimals: int) -> np.ndarray:
    """The smallest number with ``decimals`` decimals that is >= each value (float noise forgiven)."""
    scale = 10.0**decimals
    with np.errstate(invalid="ignore", over="ignore"):
        up = np.ceil(np.round(values * scale, 6)) / scale
    up = _round(up, decimals)
    return np.where(up < values, _round(up + 1.0 / scale, decimals), up)


def _range(column: Column, values: np.ndarray) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    lowest = float(finite.min()) if finite.size else None
    highest = float(finite.max()) if finite.size else None
    if isinstance(column.min, (int, float)):
        lowest = float(column.min) if lowest is None else max(lowest, float(column.min))
    if isinstance(column.max, (int, float)):
        highest = float(column.max) if highest is None else min(highest, float(column.max))
    return lowest, highest


def _restore_numbers(values: np.ndarray, dtype: str, name: str, index: pd.Index) -> pd.Series:
    series = pd.Series(values, index=index, name=name)
    missing = np.isnan(values)
    if _is_int(dtype):
        return series.astype("Int64") if missing.any() else series.astype(dtype)
    return series


def _restore(values: np.ndarray, dtype: str, name: str, index: pd.Index) -> pd.Series:
    """Merged values with the dtype the training column had, when the values allow it."""
    series = pd.Series(values, dtype=object, index=index, name=name)
    missing = series.isna().any()
    try:
        if _is_int(dtype) and missing:
            return series.astype("Int64")
        if dtype == "bool" and missing:
            return series.astype("boolean")
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


def _json_value(value: Any) -> Any:
    """A value as JSON: numpy scalars unwrapped, missing as None, timestamps as ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _key(values: list[Any]) -> str:
    """A merged category: the combination as JSON text (readable, unambiguous)."""
    return json.dumps(values, ensure_ascii=False, default=str)


def _canonical_scalar(value: Any) -> Any:
    """One spelling per value: numbers (and booleans) as floats, everything else as text."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_, int, float, np.number)):
        return float(value)
    return str(value)


def _canonical(values: pd.Series, kind: ColumnKind, fmt: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(canonical values, missing) of a column, so that 1, 1.0 and a bool compare as the data means."""
    if kind is ColumnKind.DATETIME:
        stamps, missing = _stamps(values, fmt)
        return stamps.astype(object), missing
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = _numbers(values)
        return numbers.astype(object), np.isnan(numbers)
    codes, uniques = pd.factorize(values)  # each distinct value spelled once, not each row
    missing = codes < 0
    spelled = np.array([_canonical_scalar(v) for v in np.asarray(uniques, dtype=object)] + [None], dtype=object)
    return spelled[codes], missing


def _stamps(values: pd.Series, fmt: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(int64 nanoseconds, UTC; missing) of a datetime column, read with its learned format if any."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        stamps = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt is not None:
                stamps = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
            left = stamps.isna() & values.notna()
            if left.any():
                stamps[left] = pd.to_datetime(values[left], format="mixed", errors="coerce", utc=True)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = stamps.isna().to_numpy()
    nanos = stamps.to_numpy(dtype="datetime64[ns]").astype("int64")
    return np.where(missing, 0, nanos), missing


def _learn_format(values: pd.Series) -> str | None:
    """A strftime format that reads every distinct (sampled) string of a datetime column, or None (mixed).

    Reading ``03/04/2021`` needs the column's convention: element-wise guessing would read it as March
    while ``13/04/2021`` in the same column is April.
    """
    from pandas.tseries.api import guess_datetime_format

    if pd.api.types.is_datetime64_any_dtype(values):
        return None
    distinct = pd.Series(values.dropna().astype(str).unique())
    if distinct.empty:
        return None
    sample = distinct.iloc[np.linspace(0, len(distinct) - 1, min(len(distinct), 500)).astype(int)]
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fmt = guess_datetime_format(str(sample.iloc[0]), dayfirst=dayfirst)
            if fmt is not None and pd.to_datetime(sample, format=fmt, errors="coerce").notna().all():
                return fmt
    return None


# -- fixed combinations ------------------------------------------------------------------------------
def _learn_seen(
    index: int, data: pd.DataFrame, columns: list[str], kinds: list[ColumnKind], formats: dict[str, str | None]
) -> _Seen:
    """The combinations of the training rows without a missing value, as codes into per-column vocabularies."""
    canonical, missing = [], np.zeros(len(data), dtype=bool)
    for name, kind in zip(columns, kinds):
        values, absent = _canonical(data[name], kind, formats.get(name))
        missing |= absent
        canonical.append(values)
    vocabularies, codes = [], []
    for values in canonical:
        uniques = pd.unique(pd.Series(values[~missing], dtype=object))
        vocabularies.append([_json_value(v) for v in uniques])
        codes.append(pd.Index(uniques, dtype=object).get_indexer(values[~missing]))
    if not (~missing).any():
        return _Seen(index, vocabularies, [])
    combined = _combined_codes(codes, [len(v) for v in vocabularies])
    _, first = np.unique(combined, return_index=True)
    seen = np.stack([c[first] for c in codes], axis=1)
    return _Seen(index, vocabularies, seen.astype(int).tolist())


def _combined_codes(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """One integer per row for a tuple of codes (mixed radix); the row tuples factorized when that overflows."""
    if math.prod(max(size, 1) for size in sizes) < 2**62:
        combined = np.zeros(len(codes[0]), dtype=np.int64)
        for column, size in zip(codes, sizes):
            combined = combined * max(size, 1) + column
        return combined
    return pd.MultiIndex.from_arrays(codes).factorize()[0]


def _combinations(columns: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct combination, in order of appearance; each row's combination number).
    A missing value is a value of its own."""
    factorized = [pd.factorize(column, use_na_sentinel=False) for column in columns]
    combined = _combined_codes([codes for codes, _ in factorized], [len(uniques) for _, uniques in factorized])
    inverse, _ = pd.factorize(combined)
    _, first = np.unique(inverse, return_index=True)
    return first, inverse


# -- unique ------------------------------------------------------------------------------------------------
def _row_hashes(
    frame: pd.DataFrame, columns: list[str], kinds: list[ColumnKind], formats: dict[str, str | None]
) -> tuple[np.ndarray, np.ndarray]:
    """(a 64-bit hash of each row's canonical values, whether the row has a missing value)."""
    parts, missing = {}, np.zeros(len(frame), dtype=bool)
    for name, kind in zip(columns, kinds):
        values, absent = _canonical(frame[name], kind, formats.get(name))
        missing |= absent
        parts[name] = pd.Series(values, dtype=object).astype(str).to_numpy(dtype=object)
    hashes = pd.util.hash_pandas_object(pd.DataFrame(parts), index=False).to_numpy(dtype=np.uint64)
    return hashes, missing


def duplicated(
    frame: pd.DataFrame,
    columns: list[str],
    kinds: list[ColumnKind] | None = None,
    formats: dict[str, str | None] | None = None,
) -> np.ndarray:
    """True for each row whose values of ``columns`` repeat an earlier row's (rows with a missing value never)."""
    kinds = kinds or [ColumnKind.CATEGORICAL] * len(columns)
    hashes, missing = _row_hashes(frame, columns, kinds, formats or {})
    return pd.Series(hashes).duplicated().to_numpy() & ~missing


class UniqueTracker:
    """Keeps the unique constraints across sampled chunks: `admit` says which rows of a chunk are new.

    Rows are compared by a 64-bit hash of their canonical values; a collision (odds ~1e-8 over a million
    rows) can only turn away a row that was new, never let a duplicate through.
    """

    def __init__(self, constraints: ConstraintSet) -> None:
        self.constraints = constraints
        self._seen: list[np.ndarray] = [np.zeros(0, dtype=np.uint64) for _ in constraints.unique]

    def admit(self, frame: pd.DataFrame) -> np.ndarray:
        """A bool per row: True where the row repeats no admitted row (nor an earlier row of this frame) on
        any unique constraint. The admitted rows are remembered."""
        keep = np.ones(len(frame), dtype=bool)
        hashes = []
        for position, columns in enumerate(self.constraints.unique):
            kinds = [self.constraints.schema[name].kind for name in columns]
            row_hashes, missing = _row_hashes(frame, columns, kinds, self.constraints._formats)
            repeated = pd.Series(row_hashes).duplicated().to_numpy() | np.isin(row_hashes, self._seen[position])
            keep &= ~(repeated & ~missing)
            hashes.append((row_hashes, missing))
        for position, (row_hashes, missing) in enumerate(hashes):
            new = row_hashes[keep & ~missing]
            self._seen[position] = np.concatenate([self._seen[position], new])
        return keep
