"""The shape every column encoder has: fit, transform, inverse, and JSON state."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from synthgen.schema import Column

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


class ColumnEncoder(ABC):
    """One reversible column encoding. Subclasses register a ``name`` used in the JSON state."""

    name: ClassVar[str]

    def __init__(self, column: Column) -> None:
        self.column = column

    @abstractmethod
    def fit(self, values: pd.Series, rng: np.random.Generator) -> "ColumnEncoder": ...

    @abstractmethod
    def transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """(n, width) float32 block."""

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
    def from_state(cls, column: Column, state: dict[str, Any]) -> "ColumnEncoder": ...

    @property
    def width(self) -> int:
        return sum(span.width for span in self.spans)
