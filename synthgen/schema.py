"""What each column of a table is, declared by the recipe or inferred from the data.

The schema is the contract between the data, the generators and the judge: generators model the
columns whose kind they can learn (everything but ``id`` and ``pii``), and the judge scores them by
kind. It is plain JSON so a model directory can carry it without pickle.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from synthgen.errors import DataError


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


class ColumnSpec(BaseModel):
    """A column as a recipe may declare it: every field optional, the rest is inferred."""

    model_config = ConfigDict(extra="forbid")

    kind: ColumnKind | None = None
    nullable: bool | None = None
    min: Bound = Field(default=None, description="Lower bound; generated values are clipped to it.")
    max: Bound = Field(default=None, description="Upper bound; generated values are clipped to it.")
    rounding: int | None = Field(
        default=None, ge=0, le=12, description="Decimals kept for numeric columns (inferred if unset)."
    )


class Column(BaseModel):
    """A column as the generators and the judge see it: every field resolved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: ColumnKind
    nullable: bool = False
    min: Bound = None
    max: Bound = None
    rounding: int | None = None


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
    def from_json_dict(cls, data: Mapping[str, Any]) -> "TableSchema":
        return cls.model_validate(data)


# Names that almost always hold personal data; such columns are never modelled.
_PII_NAME = re.compile(
    r"(^|_)(e?mail|phone|mobile|ssn|social_security|passport|first_?name|last_?name|full_?name|"
    r"surname|address|street|iban|account_number|card_number)($|_)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid)", re.IGNORECASE)
# Integer-valued columns with at most this many distinct values are treated as categories: codes
# such as "installment rate 1-4" carry no arithmetic meaning and a mixture fit to them is wasteful.
MAX_CODES_AS_CATEGORIES = 10


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
    """Guess a column's kind from its name and values; the recipe can always override it."""
    present = values.dropna()
    n_unique = present.nunique()
    if pd.api.types.is_bool_dtype(values):
        return ColumnKind.BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(values):
        return ColumnKind.DATETIME
    if _PII_NAME.search(name):
        return ColumnKind.PII
    if pd.api.types.is_numeric_dtype(values):
        if present.empty:
            return ColumnKind.NUMERIC
        integral = bool(np.all(np.mod(present.to_numpy(dtype=float), 1) == 0))
        if integral and _ID_NAME.search(name) and n_unique == len(present):
            return ColumnKind.ID
        if n_unique <= 2 and set(present.unique()) <= {0, 1}:
            return ColumnKind.CATEGORICAL
        if integral and n_unique <= MAX_CODES_AS_CATEGORIES:
            return ColumnKind.CATEGORICAL
        return ColumnKind.INTEGER if integral else ColumnKind.NUMERIC
    text = present.astype(str)
    if len(text) and text.head(200).map(lambda s: bool(_EMAIL.match(s))).all():
        return ColumnKind.PII
    if _looks_like_datetime(present):
        return ColumnKind.DATETIME
    if len(present) > 20 and n_unique == len(present) and _ID_NAME.search(name):
        return ColumnKind.ID
    lowered = set(text.str.lower().unique())
    if n_unique == 2 and lowered <= {"true", "false"}:
        return ColumnKind.BOOLEAN
    return ColumnKind.CATEGORICAL


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
    columns = []
    for name in data.columns:
        spec = declared.get(name, ColumnSpec())
        values = data[name]
        kind = spec.kind or infer_kind(str(name), values)
        if name == target and not kind.is_discrete and kind is not ColumnKind.INTEGER:
            # A target may be numeric (regression), but never an id or PII.
            if not kind.is_modelled:
                raise DataError(f"{source}: target column {name!r} cannot be of kind {kind.value}")
        rounding = spec.rounding
        if rounding is None and kind is ColumnKind.NUMERIC and pd.api.types.is_numeric_dtype(values):
            present = values.dropna()
            rounding = _decimals(present) if len(present) else None
        nullable = spec.nullable if spec.nullable is not None else bool(values.isna().any())
        columns.append(
            Column(name=str(name), kind=kind, nullable=nullable, min=spec.min, max=spec.max, rounding=rounding)
        )
    schema = TableSchema(columns=columns, target=target)
    if target is not None:
        _check_target(data[target], schema[target], source)
    return schema


def _check_target(values: pd.Series, column: Column, source: str) -> None:
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

