"""The shape every column encoder has (fit, transform, inverse, and JSON state), and what the encoders
of continuous columns share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import torch

from synthgen.schema import Column
from synthgen.transforms.values import ValueCodec

Activation = Literal["tanh", "softmax", "identity"]


@dataclass(frozen=True)
class Span:
    """A block of encoded columns with one output activation.

    ``discrete`` marks the one-hot of a categorical column: CTGAN conditions on those.
    ``identity`` marks an unbounded scalar (a quantile-normal score, modelled by diffusion).
    """

    column: str
    width: int
    activation: Activation
    discrete: bool = False


def compact_spans(encoded: torch.Tensor, spans: list[Span]) -> torch.Tensor:
    """One float column per span of ``encoded``, computed where it lives: a scalar span's value, a softmax
    span's argmax (first maximum on ties). Columns past the spans are ignored (the caller checks widths)."""
    columns, start = [], 0
    for span in spans:
        block = encoded[:, start : start + span.width]
        columns.append(block.argmax(dim=1).float() if span.activation == "softmax" else block[:, 0].float())
        start += span.width
    return torch.stack(columns, dim=1) if columns else encoded.new_zeros(encoded.shape[0], 0, dtype=torch.float32)


class ColumnEncoder(ABC):
    """One reversible column encoding. Subclasses register a ``name`` used in the JSON state."""

    name: ClassVar[str]

    def __init__(self, column: Column) -> None:
        self.column = column

    @abstractmethod
    def fit(self, values: pd.Series, rng: np.random.Generator) -> ColumnEncoder: ...

    @abstractmethod
    def transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """(n, width) float32 block."""

    def compact_transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """(n, spans) float32: one column per span, a scalar span's value or a softmax span's category
        index; what `TableTransformer.compact` makes of `transform`'s block (the same draws from ``rng``).
        Encoders whose block is mostly one-hot override it, so that a column of 20,000 levels is never
        a rows x 20,000 matrix."""
        return compact_spans(torch.from_numpy(self.transform(values, rng)), self.spans).numpy()

    @abstractmethod
    def inverse(self, parts: list[np.ndarray]) -> pd.Series:
        """Values from one decoded vector per span: a scalar span's value, a softmax span's argmax."""

    @property
    @abstractmethod
    def spans(self) -> list[Span]: ...

    @abstractmethod
    def get_state(self) -> dict[str, Any]: ...

    @classmethod
    @abstractmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> ColumnEncoder: ...

    @property
    def width(self) -> int:
        return sum(span.width for span in self.spans)


class NumericEncoder(ColumnEncoder):
    """What the encoders of continuous columns share (`ModeSpecificNormalizer`, `QuantileNormalizer`).

    Values become float64 through the column's `ValueCodec`, which learns the column's range and
    precision and applies them when decoding (`codec.from_float`). The encoder's model of the values
    is fitted on at most ``max_fit_rows`` of the finite values, drawn at random; ``has_null_`` says
    whether the column had missing values, which each encoder then encodes as a category of its own.
    The JSON state holds the constructor's `settings`, ``has_null`` and ``codec``, then whatever a
    subclass adds in `get_state` (and reads back in `from_state`, after calling this one).
    """

    settings: ClassVar[tuple[str, ...]] = ("max_fit_rows",)
    """Constructor arguments saved in the state, in the order they are written."""

    def __init__(self, column: Column, max_fit_rows: int) -> None:
        super().__init__(column)
        self.max_fit_rows = max_fit_rows
        self.codec = ValueCodec(column)
        self.has_null_ = False

    def fit(self, values: pd.Series, rng: np.random.Generator) -> NumericEncoder:
        self.codec.fit(values)
        numbers = self.codec.to_float(values)
        finite = numbers[np.isfinite(numbers)]
        self.has_null_ = bool(finite.size < numbers.size)
        if finite.size:
            if finite.size > self.max_fit_rows:
                finite = rng.choice(finite, size=self.max_fit_rows, replace=False)
            self._fit_values(finite)
        return self

    @abstractmethod
    def _fit_values(self, finite: np.ndarray) -> None:
        """Fit the model of the column to its finite values (at least one, at most ``max_fit_rows``)."""

    def _numbers(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(the values as float64, which of them are present); refuses missing values unless fitted with some."""
        numbers = self.codec.to_float(values)
        present = np.isfinite(numbers)
        if not self.has_null_ and not present.all():
            raise ValueError(f"column {self.column.name!r} has missing values it was not fitted with")
        return numbers, present

    def get_state(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in self.settings},
            "has_null": self.has_null_,
            "codec": self.codec.get_state(),
        }

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> NumericEncoder:
        encoder = cls(column, **{name: state[name] for name in cls.settings})
        encoder.codec = ValueCodec.from_state(column, state["codec"])
        encoder.has_null_ = bool(state["has_null"])
        return encoder
