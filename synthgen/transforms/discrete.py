"""One-hot encoding of categorical and boolean columns, missing values as a category of their own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.schema import Column
from synthgen.transforms.base import ColumnEncoder, Span


def to_json_value(value: Any) -> Any:
    """A category as a JSON scalar: numpy scalars unwrapped, missing as None."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def restore_dtype(values: np.ndarray, dtype: str, name: str) -> pd.Series:
    """Give decoded categories the dtype the training column had, when the values allow it."""
    series = pd.Series(values, dtype=object, name=name)
    has_missing = series.isna().any()
    try:
        if dtype.lower().startswith(("int", "uint")) and has_missing:
            return series.astype("Int64")
        if dtype == "bool" and has_missing:
            return series.astype("boolean")
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


class OneHotEncoder(ColumnEncoder):
    name = "onehot"

    def __init__(self, column: Column) -> None:
        super().__init__(column)
        self.categories_: list[Any] = []
        self.dtype_ = "object"

    def fit(self, values: pd.Series, rng: np.random.Generator) -> OneHotEncoder:
        self.dtype_ = str(values.dtype)
        counts = values.value_counts(dropna=False)
        # Most frequent first; ties broken by text so the order is the same on every machine.
        ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        self.categories_ = [to_json_value(value) for value, _ in ordered]
        return self

    @property
    def spans(self) -> list[Span]:
        return [Span(self.column.name, len(self.categories_), "softmax", discrete=True)]

    def codes(self, values: pd.Series) -> np.ndarray:
        """Index of each value's category; unseen values map to the most frequent category."""
        index = {value: i for i, value in enumerate(self.categories_) if value is not None}
        codes = values.map(index)
        if None in self.categories_:
            codes = codes.where(values.notna(), self.categories_.index(None))
        return codes.fillna(0).to_numpy(dtype=np.int64)

    def transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        out = np.zeros((len(values), len(self.categories_)), dtype=np.float32)
        out[np.arange(len(values)), self.codes(values)] = 1.0
        return out

    def compact_transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        return self.codes(values).astype(np.float32)[:, None]

    def inverse(self, parts: list[np.ndarray]) -> pd.Series:
        lookup = np.empty(len(self.categories_), dtype=object)
        lookup[:] = self.categories_
        return restore_dtype(lookup[parts[0].astype(np.int64)], self.dtype_, self.column.name)

    def get_state(self) -> dict[str, Any]:
        return {"categories": self.categories_, "dtype": self.dtype_}

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> OneHotEncoder:
        encoder = cls(column)
        encoder.categories_ = list(state["categories"])
        encoder.dtype_ = state["dtype"]
        return encoder
