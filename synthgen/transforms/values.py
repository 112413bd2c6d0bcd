"""From a column's values to plain floats and back: datetimes, integers, bounds and precision.

Every continuous encoder works on float64 arrays; this codec is the one place that knows how a
datetime becomes a number, how many decimals a column keeps and which range it must stay in.
Rounding to the training data's precision and clipping to its range is not cosmetic: a detector
spots a non-integer age at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.schema import Column, ColumnKind

_DATETIME_UNITS = {"D": 86400.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}


class ValueCodec:
    """Learns kind, precision and range of one continuous column; JSON state."""

    def __init__(self, column: Column) -> None:
        self.column = column
        self.decimals: int | None = None
        self.low: float | None = None
        self.high: float | None = None
        self.datetime_unit: str | None = None
        self.dtype: str = "float64"

    # -- fit -------------------------------------------------------------------------------
    def fit(self, values: pd.Series) -> "ValueCodec":
        self.dtype = str(values.dtype)
        kind = self.column.kind
        if kind is ColumnKind.DATETIME:
            stamps = _to_datetime(values)
            self.datetime_unit = _datetime_resolution(stamps)
        numbers = self.to_float(values)
        finite = numbers[np.isfinite(numbers)]
        if finite.size:
            self.low, self.high = float(finite.min()), float(finite.max())
        if kind is ColumnKind.INTEGER:
            self.decimals = 0
        elif kind is ColumnKind.NUMERIC:
            self.decimals = self.column.rounding
        declared_low = self._bound(self.column.min)
        declared_high = self._bound(self.column.max)
        if declared_low is not None:
            self.low = declared_low if self.low is None else max(self.low, declared_low)
        if declared_high is not None:
            self.high = declared_high if self.high is None else min(self.high, declared_high)
        return self

    def _bound(self, value: Any) -> float | None:
        if value is None:
            return None
        if self.column.kind is ColumnKind.DATETIME:
            return float(pd.Timestamp(value).value / 1e9)
        return float(value)

    # -- conversions -----------------------------------------------------------------------
    def to_float(self, values: pd.Series) -> np.ndarray:
        """Values as float64 with NaN for missing; datetimes as seconds since the epoch."""
        if self.column.kind is ColumnKind.DATETIME:
            stamps = _to_datetime(values)
            out = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype(np.float64) / 1e9
            out[stamps.isna().to_numpy()] = np.nan
            return out
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    def from_float(self, numbers: np.ndarray) -> pd.Series:
        """Clip to the learned range, round to the learned precision, restore the dtype."""
        numbers = np.asarray(numbers, dtype=np.float64).copy()
        missing = ~np.isfinite(numbers)
        if self.low is not None or self.high is not None:
            numbers = np.clip(numbers, self.low, self.high)
        if self.column.kind is ColumnKind.DATETIME:
            unit = _DATETIME_UNITS[self.datetime_unit or "s"]
            numbers = np.round(numbers / unit) * unit
            nanos = np.where(missing, 0, numbers * 1e9).astype("int64")
            series = pd.Series(pd.to_datetime(nanos, unit="ns"), name=self.column.name)
            series[missing] = pd.NaT
            return series
        if self.decimals is not None:
            numbers = np.round(numbers, self.decimals)
        numbers[missing] = np.nan
        series = pd.Series(numbers, name=self.column.name)
        if self.dtype.lower().startswith(("int", "uint")):
            series = series.astype("Int64") if missing.any() else series.astype("int64")
        return series

    # -- state ------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "decimals": self.decimals,
            "low": self.low,
            "high": self.high,
            "datetime_unit": self.datetime_unit,
            "dtype": self.dtype,
        }

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> "ValueCodec":
        codec = cls(column)
        codec.decimals = state["decimals"]
        codec.low = state["low"]
        codec.high = state["high"]
        codec.datetime_unit = state["datetime_unit"]
        codec.dtype = state["dtype"]
        return codec


def _to_datetime(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        stamps = pd.to_datetime(values, errors="coerce", format="mixed")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


def _datetime_resolution(stamps: pd.Series) -> str:
    """The coarsest unit that represents every stamp exactly: days, seconds, ms or us."""
    present = stamps.dropna()
    nanos = present.to_numpy(dtype="datetime64[ns]").astype("int64")
    for unit, seconds in _DATETIME_UNITS.items():
        step = int(round(seconds * 1e9))
        if nanos.size == 0 or np.all(nanos % step == 0):
            return unit
    return "us"
