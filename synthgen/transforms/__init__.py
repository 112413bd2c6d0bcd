"""Reversible column encodings; state is plain JSON."""

from synthgen.transforms.base import ColumnEncoder, NumericEncoder, Span
from synthgen.transforms.continuous import ModeSpecificNormalizer
from synthgen.transforms.discrete import OneHotEncoder
from synthgen.transforms.quantile import QuantileNormalizer
from synthgen.transforms.table import ENCODERS, TableTransformer

__all__ = [
    "ColumnEncoder",
    "ENCODERS",
    "ModeSpecificNormalizer",
    "NumericEncoder",
    "OneHotEncoder",
    "QuantileNormalizer",
    "Span",
    "TableTransformer",
]
