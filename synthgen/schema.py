"""What each column of a table is, declared by the recipe or inferred from the data.

The schema is the contract between the data, the generators and the judge: generators model the
columns whose kind they can learn (everything but ``id`` and ``pii``), and the judge scores them by
kind. It is plain JSON so a model directory can carry it without pickle.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from synthgen.errors import DataError
from synthgen.numberformat import NumberFormat, first_unreadable, learn_number_format, odd_one_out, parse_numbers
from synthgen.pii import PiiSpec, infer_provider
from synthgen.spikes import LEVEL_ROWS, MAX_LEVELS, find_spikes, frequent_values


class ColumnKind(str, Enum):
    NUMERIC = "numeric"
    INTEGER = "integer"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ID = "id"
    PII = "pii"

    @property
    def is_continuous(self) -> bool:
        return self in (ColumnKind.NUMERIC, ColumnKind.INTEGER, ColumnKind.DATETIME)

    @property
    def is_discrete(self) -> bool:
        return self in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)

    @property
    def is_modelled(self) -> bool:
        """Ids and PII are never learned: learning them would copy them. They are regenerated."""
        return self not in (ColumnKind.ID, ColumnKind.PII)


Bound = float | int | str | None
NonFinite = Literal["error", "missing"]


class IdSpec(BaseModel):
    """How an id column is regenerated: ``id: {style: random}`` in a recipe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    style: Literal["sequential", "random"] = Field(
        default="sequential",
        description="sequential (default): numbered from the source's first id (integers) or from 1 (text ids), "
        "in the source's format; random: unique ids of the same width in an order that gives nothing away, never "
        "one of the source's ids.",
    )


class ColumnSpec(BaseModel):
    """A column as a recipe may declare it: every field optional, the rest is inferred.

    Bounds are checked against the kind as soon as the kind is known (here when declared, in
    `infer_schema` when inferred): a bound the generators cannot apply would otherwise pass
    validation and fail, or silently clamp every value, only after training.
    """

    model_config = ConfigDict(extra="forbid")

    kind: ColumnKind | None = None
    nullable: bool | None = None
    min: Bound = Field(
        default=None,
        description="Lower bound of a numeric, integer (a number) or datetime (a date) column; generated values "
        "are clipped to it. A bound that excludes some source values is allowed; one that excludes all is an error.",
    )
    max: Bound = Field(default=None, description="Upper bound; as `min`. `min` may not exceed `max`.")
    rounding: int | None = Field(
        default=None, ge=0, le=12, description="Decimals kept for numeric columns (inferred if unset)."
    )
    format: NumberFormat | None = Field(
        default=None,
        description='How a numeric or integer column writes its numbers as text, e.g. {suffix: "%", decimals: 2} '
        "for 83.70%; inferred from text columns if unset (see synthgen.numberformat). Declaring one makes "
        "the column a number; a value it cannot read is an error.",
    )
    pii: PiiSpec | None = Field(
        default=None,
        description="How a PII column is regenerated, e.g. {faker: name, locale: en_US} (see synthgen.pii); "
        "implies kind pii.",
    )
    id: IdSpec | None = Field(
        default=None, description="How an id column is regenerated, e.g. {style: random}; implies kind id."
    )
    spikes: list[float] | Literal[False, "levels"] | None = Field(
        default=None,
        description="Point masses of a numeric or integer column (0, round amounts, a sentinel such as -1 or 99), "
        "each modelled as a category of its own beside the continuous part (see synthgen.spikes); inferred if unset, "
        "`false` or [] for none, `levels` for every value of 50 rows or more (a scale such as ages in years).",
    )
    non_finite: NonFinite = Field(
        default="error",
        description="What an infinite value (inf, -inf, Infinity, or a number too large for a float) of a numeric "
        "column means: 'error' refuses the data, naming the column and the first row; 'missing' reads it as a "
        "missing value, and the column then counts as nullable.",
    )

    @model_validator(mode="after")
    def _blocks_fit_kind(self) -> ColumnSpec:
        """A ``pii:`` block makes the column pii and an ``id:`` block an id; neither fits another kind."""
        if self.pii is not None and self.id is not None:
            raise ValueError("a column is either pii (a 'pii:' block) or an id (an 'id:' block), not both")
        for block, kind in (("pii", ColumnKind.PII), ("id", ColumnKind.ID)):
            if getattr(self, block) is not None and self.kind not in (None, kind):
                raise ValueError(
                    f"a '{block}:' block applies to {kind.value} columns, not to a {self.kind.value} column"
                )
        return self

    @field_validator("min", "max", mode="before")
    @classmethod
    def _dates_as_text(cls, value: Any) -> Any:
        """YAML reads `2020-01-01` as a date object; a bound keeps it as ISO text so it stays JSON."""
        if isinstance(value, bool):
            raise ValueError("a bound is a number or a date, not true/false")
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return value

    @field_validator("min", "max")
    @classmethod
    def _bound_fits_kind(cls, value: Bound, info: ValidationInfo) -> Bound:
        problem = bound_problem(info.data.get("kind"), value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("max")
    @classmethod
    def _min_not_above_max(cls, value: Bound, info: ValidationInfo) -> Bound:
        problem = order_problem(info.data.get("kind"), info.data.get("min"), value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("format")
    @classmethod
    def _format_needs_numbers(cls, value: NumberFormat | None, info: ValidationInfo) -> NumberFormat | None:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind not in (ColumnKind.NUMERIC, ColumnKind.INTEGER):
            raise ValueError(f"a number format applies to numeric and integer columns, not to a {kind.value} column")
        return value

    @field_validator("spikes")
    @classmethod
    def _spikes_need_numbers(cls, value: list[float] | Literal[False, "levels"] | None, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if value and kind is not None and kind not in (ColumnKind.NUMERIC, ColumnKind.INTEGER):
            raise ValueError(f"spikes apply to numeric and integer columns, not to a {kind.value} column")
        if isinstance(value, list) and value:
            bad = [v for v in value if not math.isfinite(v)]
            if bad:
                raise ValueError(f"a spike is a finite number, got {bad[0]!r}")
            return sorted(set(value))
        return value

    @field_validator("non_finite")
    @classmethod
    def _missing_needs_numbers(cls, value: NonFinite, info: ValidationInfo) -> NonFinite:
        kind = info.data.get("kind")
        if value == "missing" and kind is not None and kind not in (ColumnKind.NUMERIC, ColumnKind.INTEGER):
            raise ValueError(f"applies to numeric and integer columns, not to a {kind.value} column")
        if value == "missing" and info.data.get("nullable") is False:
            raise ValueError("'missing' makes infinite values missing, which contradicts nullable: false")
        return value


_UNBOUNDED_KINDS = ("categorical", "boolean", "id", "pii")


def bound_problem(kind: ColumnKind | None, value: Bound) -> str | None:
    """Why ``value`` cannot bound a column of ``kind`` (None: unknown yet), or None when it can."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if kind is None:
        return None
    if kind.value in _UNBOUNDED_KINDS:
        return f"a {kind.value} column takes no bounds (min and max apply to numeric, integer and datetime columns)"
    if kind is ColumnKind.DATETIME:
        if not isinstance(value, str):
            return "must be a date or timestamp such as 2020-01-01 for a datetime column"
        try:
            stamp = pd.Timestamp(value)
            if stamp is pd.NaT:
                return "is not a date or timestamp"
            stamp.value  # noqa: B018 - the generators use nanoseconds; a date outside them must fail here
        except OverflowError:
            return "is outside the dates synthgen can represent (years 1678 to 2261)"
        except (ValueError, TypeError):
            return "is not a date or timestamp (use a form such as 2020-01-01 or 2020-01-01T08:30:00)"
        return None
    if isinstance(value, str):
        return f"must be a number for {'an' if kind is ColumnKind.INTEGER else 'a'} {kind.value} column"
    return None


def bound_value(kind: ColumnKind, value: Bound) -> float:
    """A valid bound on the column's number line: the number, or a timestamp's nanoseconds (UTC)."""
    if kind is ColumnKind.DATETIME:
        return float(pd.Timestamp(value).value)
    return float(value)  # type: ignore[arg-type]


def order_problem(kind: ColumnKind | None, low: Bound, high: Bound) -> str | None:
    """A message when ``low`` exceeds ``high`` (every generated value would be clipped to one of them)."""
    if low is None or high is None:
        return None
    if kind is None:
        if isinstance(low, str) or isinstance(high, str):
            return None  # dates or mistakes: decided once the kind is known
        kind = ColumnKind.NUMERIC
    if bound_problem(kind, low) or bound_problem(kind, high):
        return None
    if bound_value(kind, low) > bound_value(kind, high):
        return f"min ({low}) is greater than max ({high}); every generated value would be clipped to one of them"
    return None


class Column(BaseModel):
    """A column as the generators and the judge see it: every field resolved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: ColumnKind
    nullable: bool = False
    min: Bound = None
    max: Bound = None
    rounding: int | None = None
    format: NumberFormat | None = None
    spikes: list[float] | None = None
    pii: PiiSpec | None = None
    id: IdSpec | None = None


class TableSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[Column]
    target: str | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def modelled(self) -> list[Column]:
        return [c for c in self.columns if c.kind.is_modelled]

    def __getitem__(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def __iter__(self) -> Iterator[Column]:  # type: ignore[override]
        return iter(self.columns)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> TableSchema:
        return cls.model_validate(data)


# Names that almost always hold personal data; such columns are never modelled. Names are matched
# after camelCase and spaces become underscores ("firstName", "Customer Name").
_PII_NAME = re.compile(
    r"(^|_)(e?mail|phone|mobile|ssn|social_security|passport|first_?name|last_?name|full_?name|"
    r"surname|address|street|iban|account_number|card_number)($|_)",
    re.IGNORECASE,
)
# A bare "name", or the name of a person: "customer_name", "borrower name", "username". Names of
# things ("product_name", "loan_name", "branch_name", "company_name") are categories and stay learned.
_PERSON_NAME = re.compile(
    r"^((customer|cust|client|borrower|co_?borrower|applicant|co_?applicant|guarantor|cardholder|card_?holder|"
    r"account_?holder|holder|owner|member|user|person|contact|beneficiary|middle|maiden|given|family|nick|display)_?)?"
    r"name$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid)", re.IGNORECASE)
# Integer-valued columns with at most this many distinct values are treated as categories: codes
# such as "installment rate 1-4" carry no arithmetic meaning and a mixture fit to them is wasteful.
MAX_CODES_AS_CATEGORIES = 10
# A text column with at least this share of distinct values (over more than IDENTIFIER_MIN_ROWS
# present values) identifies rows: a category per row could only be copied, never learned.
IDENTIFIER_DISTINCT_SHARE = 0.95
IDENTIFIER_MIN_ROWS = 20


def _words(name: str) -> str:
    """'customerName', 'Customer Name' -> 'customer_Name', 'Customer_Name': one spelling for the name patterns."""
    return re.sub(r"[^0-9A-Za-z]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)).strip("_")


def is_pii_name(name: str) -> bool:
    """Whether a column's name says it holds personal data (see `_PII_NAME` and `_PERSON_NAME`)."""
    words = _words(name)
    return bool(_PII_NAME.search(words) or _PERSON_NAME.match(words))


def _decimals(values: pd.Series, cap: int = 6) -> int:
    """Smallest number of decimals that represents the (sampled) values exactly."""
    sample = values.to_numpy(dtype=float)[:5000]
    for d in range(cap + 1):
        if np.allclose(np.round(sample, d), sample, rtol=0, atol=10.0 ** -(cap + 2)):
            return d
    return cap


def _looks_like_datetime(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(200)
    if sample.empty or not sample.str.contains(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().all())


def infer_kind(name: str, values: pd.Series) -> ColumnKind:
    """Guess a column's kind from its name and values; the recipe can always override it.

    Two guesses keep data out of the model rather than risk copying it: a column with no values at
    all is PII (never learned; regenerated all-null, since PII keeps its null rate), and a text
    column whose values are (almost) all distinct is PII, or an id when its name says so, because a
    one-hot category per row can only be memorised. Text that is numbers in one format ("83.70%",
    "36 months", "$1,234") is a number column like any other (see `infer_number_format`).
    """
    return _infer(name, values)[0]


def infer_number_format(name: str, values: pd.Series) -> NumberFormat | None:
    """The number format of a text column inferred numeric or integer (None for any other column)."""
    return _infer(name, values)[1]


def _infer(name: str, values: pd.Series) -> tuple[ColumnKind, NumberFormat | None]:
    present = values.dropna()
    n_unique = present.nunique()
    if pd.api.types.is_bool_dtype(values):
        return ColumnKind.BOOLEAN, None
    if pd.api.types.is_datetime64_any_dtype(values):
        return ColumnKind.DATETIME, None
    if present.empty:
        return ColumnKind.PII, None
    if is_pii_name(name):
        return ColumnKind.PII, None
    if pd.api.types.is_numeric_dtype(values):
        return _number_kind(name, present.to_numpy(dtype=float)), None
    text = present.astype(str)
    if len(text) and text.head(200).map(lambda s: bool(_EMAIL.match(s))).all():
        return ColumnKind.PII, None
    if _looks_like_datetime(present):
        return ColumnKind.DATETIME, None
    lowered = set(text.str.lower().unique())
    if n_unique == 2 and lowered <= {"true", "false"}:
        return ColumnKind.BOOLEAN, None
    fmt = learn_number_format(present)
    if fmt is None:
        # Plain numbers in mixed layouts ("1.5" beside "1.50") are still numbers, written back in the nearest format.
        loose = learn_number_format(present, exact=False)
        plain = (
            loose is not None and not (loose.prefix or loose.suffix or loose.thousands) and loose.decimal_mark == "."
        )
        fmt = loose if plain else None
    # Bare digits ("004512", "918273") are codes: an identifier stays one, a zero-padded code a category.
    bare = fmt is not None and fmt == NumberFormat(width=fmt.width)
    if fmt is not None and not fmt.width and not (bare and _identifies(present, n_unique)):
        kind = _number_kind(name, parse_numbers(present, fmt)[0], fmt)
        return kind, fmt if kind in (ColumnKind.NUMERIC, ColumnKind.INTEGER) else None
    if _identifies(present, n_unique):
        return (ColumnKind.ID if _ID_NAME.search(name) else ColumnKind.PII), None
    return ColumnKind.CATEGORICAL, None


def _identifies(present: pd.Series, n_unique: int) -> bool:
    return len(present) > IDENTIFIER_MIN_ROWS and n_unique >= IDENTIFIER_DISTINCT_SHARE * len(present)


def _number_kind(name: str, numbers: np.ndarray, fmt: NumberFormat | None = None) -> ColumnKind:
    """Numbers: an id (whole, unique, named so), a code (few whole values), an integer or a number."""
    integral = bool(np.all(np.mod(numbers, 1) == 0))
    distinct = pd.unique(numbers)
    if integral and _ID_NAME.search(name) and distinct.size == numbers.size:
        return ColumnKind.ID
    if distinct.size <= 2 and set(distinct.tolist()) <= {0, 1}:
        return ColumnKind.CATEGORICAL
    if integral and distinct.size <= MAX_CODES_AS_CATEGORIES:
        return ColumnKind.CATEGORICAL
    return ColumnKind.INTEGER if integral and (fmt is None or fmt.decimals == 0) else ColumnKind.NUMERIC


def infer_schema(
    data: pd.DataFrame,
    declared: Mapping[str, ColumnSpec] | None = None,
    target: str | None = None,
    source: str = "the data",
) -> TableSchema:
    """Resolve every column of ``data``: declared fields win, the rest is inferred.

    ``source`` names the file in error messages.
    """
    declared = dict(declared or {})
    missing = [name for name in declared if name not in data.columns]
    if missing:
        raise DataError(
            f"{source}: declared column(s) {', '.join(repr(m) for m in missing)} not found; "
            f"the data has: {', '.join(map(str, data.columns))}"
        )
    if target is not None and target not in data.columns:
        raise DataError(f"{source}: target column {target!r} not found in the data")
    if target is not None and data[target].isna().all():
        raise DataError(f"{source}: target column {target!r} has no values")
    columns = []
    for name in data.columns:
        spec = declared.get(name, ColumnSpec())
        values = data[name]
        declared_kind = spec.kind or (ColumnKind.PII if spec.pii else ColumnKind.ID if spec.id else None)
        kind, fmt = (declared_kind, None) if declared_kind is not None else _infer(str(name), values)
        kind, fmt = _number_format(str(name), values, kind, fmt, spec, source)
        if name == target and not kind.is_discrete and kind is not ColumnKind.INTEGER:
            # A target may be numeric (regression), but never an id or PII.
            if not kind.is_modelled:
                raise DataError(f"{source}: target column {name!r} cannot be of kind {kind.value}")
        rounding = spec.rounding
        if rounding is None and kind is ColumnKind.NUMERIC and pd.api.types.is_numeric_dtype(values):
            present = values.dropna()
            rounding = _decimals(present) if len(present) else None
        if rounding is None and kind is ColumnKind.NUMERIC and fmt is not None:
            rounding = fmt.decimals
        nullable = spec.nullable if spec.nullable is not None else bool(values.isna().any())
        spikes = _spikes(str(name), values, kind, fmt, spec, source)
        column = Column(
            name=str(name),
            kind=kind,
            nullable=nullable,
            min=spec.min,
            max=spec.max,
            rounding=rounding,
            format=fmt,
            spikes=spikes,
            pii=_pii_spec(str(name), values, spec.pii) if kind is ColumnKind.PII else None,
            id=spec.id if kind is ColumnKind.ID else None,
        )
        _check_bounds(column, values, source, inferred=spec.kind is None)
        columns.append(column)
    schema = TableSchema(columns=columns, target=target)
    if target is not None:
        check_target(data[target], schema[target], source)
    return schema


def _number_format(
    name: str, values: pd.Series, kind: ColumnKind, inferred: NumberFormat | None, spec: ColumnSpec, source: str
) -> tuple[ColumnKind, NumberFormat | None]:
    """(kind, format) of a column: a declared format makes the column a number and must read every
    value; a text column declared numeric or integer gets the format its values are written in."""
    where = f"{source}: column {name!r}"
    if spec.format is not None:
        unreadable = first_unreadable(values, spec.format)
        if unreadable is not None:
            row, value = unreadable
            raise DataError(
                f"{where}: value {value!r} (data row {row + 1}) does not fit the declared format, which writes "
                f"1234.5 as {spec.format.example()!r}. Fix the format under schema.columns.{name}.format, or remove "
                "it to have the format inferred"
            )
        if kind not in (ColumnKind.NUMERIC, ColumnKind.INTEGER):
            numbers = parse_numbers(values, spec.format)[0]
            numbers = numbers[np.isfinite(numbers)]
            integral = bool(np.all(np.mod(numbers, 1) == 0)) and spec.format.decimals == 0
            kind = ColumnKind.INTEGER if integral else ColumnKind.NUMERIC
        return kind, spec.format
    if kind not in (ColumnKind.NUMERIC, ColumnKind.INTEGER) or not _is_text(values):
        return kind, None
    if inferred is not None:
        return kind, inferred
    fmt = learn_number_format(values) or learn_number_format(values, exact=False)
    if fmt is not None:
        return kind, fmt
    present = values.dropna()
    if bool(pd.to_numeric(present.astype(str).str.strip(), errors="coerce").notna().all()):
        return kind, None  # numbers as plain text ("1e5" among them): read as numbers, written as numbers
    row, value = odd_one_out(values) or (int(np.flatnonzero(values.notna().to_numpy())[0]), present.iloc[0])
    raise DataError(
        f"{where} is declared {kind.value} but its values are not numbers written in one format: "
        f"{value!r} (data row {row + 1}) is not written as the others. Declare how the numbers are written "
        f"under schema.columns.{name}.format (for example {{suffix: '%', decimals: 2}}), or declare another kind"
    )


def _spikes(
    name: str, values: pd.Series, kind: ColumnKind, fmt: NumberFormat | None, spec: ColumnSpec, source: str
) -> list[float] | None:
    """The declared spikes of a number column, else those of its values (`synthgen.spikes.find_spikes`)."""
    numeric = kind in (ColumnKind.NUMERIC, ColumnKind.INTEGER)
    if spec.spikes and not numeric:
        raise DataError(
            f"{source}: column {name!r} is {kind.value}; spikes apply to numeric and integer columns. Remove "
            f"schema.columns.{name}.spikes, or declare the column numeric"
        )
    if not numeric or spec.spikes is False:
        return None
    if spec.spikes == "levels":
        numbers = _as_number_line(kind, values, fmt)
        levels = frequent_values(numbers)
        if len(levels) > MAX_LEVELS:
            raise DataError(
                f"{source}: column {name!r} has {len(levels)} values of {LEVEL_ROWS} rows or more; `spikes: levels` "
                f"takes at most {MAX_LEVELS}. List the spikes instead, or remove schema.columns.{name}.spikes"
            )
        return levels or None
    if spec.spikes is not None:
        return list(spec.spikes) or None
    return find_spikes(_as_number_line(kind, values, fmt)) or None


def _is_text(values: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    return pd.api.types.is_string_dtype(values) or pd.api.types.infer_dtype(values, skipna=True) == "string"


def _pii_spec(name: str, values: pd.Series, declared: PiiSpec | None) -> PiiSpec | None:
    """The declared Faker provider of a PII column, else the one its name and values make obvious
    (`synthgen.pii.infer_provider`), else None: the masked-shape filler."""
    if declared is not None and declared.faker is not None:
        return declared
    words = _words(name).lower()
    provider = infer_provider(words, values, person=bool(_PERSON_NAME.match(words)))
    if provider is None:
        return declared
    return PiiSpec(faker=provider, locale=declared.locale if declared else PiiSpec().locale)


def _check_bounds(column: Column, values: pd.Series, source: str, inferred: bool) -> None:
    """Bounds must suit the resolved kind, be in order, and leave at least one value of the data.

    A bound that excludes only some values stays allowed: generated values are clipped to it, which
    is what a bound is for (no age below 18 even if the source has a typo of 17).
    """
    if column.min is None and column.max is None:
        return
    how = "inferred from the data; declare its kind to change it" if inferred else "declared"
    where = f"{source}: column {column.name!r} ({column.kind.value}, {how})"
    for label, bound in (("min", column.min), ("max", column.max)):
        problem = bound_problem(column.kind, bound)
        if problem is not None:
            raise DataError(f"{where}: {label} {problem}, got {bound!r}")
    problem = order_problem(column.kind, column.min, column.max)
    if problem is not None:
        raise DataError(f"{where}: {problem}")
    numbers = _as_number_line(column.kind, values, column.format)
    if numbers.size == 0:
        return
    low = -np.inf if column.min is None else bound_value(column.kind, column.min)
    high = np.inf if column.max is None else bound_value(column.kind, column.max)
    if not np.any((numbers >= low) & (numbers <= high)):
        given = [f"{label} {bound}" for label, bound in (("min", column.min), ("max", column.max)) if bound is not None]
        verb = "exclude" if len(given) == 2 else "excludes"
        smallest, largest = (_show(column.kind, x) for x in (numbers.min(), numbers.max()))
        raise DataError(
            f"{where}: {' and '.join(given)} {verb} every value of the data (which runs from {smallest} to {largest}); "
            "every generated value would be clipped to the bound. Widen or remove the bound"
        )


def _as_number_line(kind: ColumnKind, values: pd.Series, fmt: NumberFormat | None = None) -> np.ndarray:
    """The column's finite present values as floats (a datetime as nanoseconds since the epoch, UTC;
    text in a number format read with it)."""
    if kind is ColumnKind.DATETIME:
        stamps = values
        if not pd.api.types.is_datetime64_any_dtype(values):
            stamps = pd.to_datetime(values, errors="coerce", format="mixed")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        stamps = stamps.dropna()
        try:
            return stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype(np.float64)
        except (OverflowError, ValueError):
            return np.zeros(0)
    if pd.api.types.is_bool_dtype(values):
        values = values.astype("float64")
    if fmt is not None:
        numbers = parse_numbers(values, fmt)[0]
    else:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return numbers[np.isfinite(numbers)]


def _show(kind: ColumnKind, number: float) -> str:
    if kind is ColumnKind.DATETIME:
        return str(pd.Timestamp(int(number)))
    return f"{number:g}"


def check_target(values: pd.Series, column: Column, source: str) -> None:
    """A target needs values and, when discrete, two classes: the judge scores predicting it."""
    present = values.dropna()
    if present.empty:
        raise DataError(f"{source}: target column {column.name!r} has no values")
    if column.kind.is_discrete and present.nunique() < 2:
        raise DataError(
            f"{source}: target column {column.name!r} has a single class ({present.iloc[0]!r}); "
            "a target needs at least two classes to be learned or evaluated"
        )


def modelled_frame(data: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """The columns a generator learns, in schema order."""
    return data[[c.name for c in schema.modelled]]
