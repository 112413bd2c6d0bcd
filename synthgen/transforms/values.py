"""From a column's values to plain floats and back: datetimes, integers, bounds and precision.

Every continuous encoder works on float64 arrays; this codec is the one place that knows how a
datetime becomes a number, how many decimals a column keeps and which range it must stay in.
Rounding to the training data's precision and clipping to its range is not cosmetic: a detector
spots a non-integer age at once, and a date written ``2021-03-15`` in a column of ``03/15/2021``
breaks every downstream parser that expects the source's format.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from synthgen.errors import InputError
from synthgen.numberformat import format_numbers, parse_numbers
from synthgen.schema import Column, ColumnKind

_DATETIME_UNITS = {"D": 86400.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}
_FORMAT_SAMPLE = 500
_GUESS_FROM = 5

# Formats of common lending exports, tried after pandas' own guess. Beyond strftime, a format may
# hold ``%-d`` (unpadded field: also -m, -H, -I, -M, -S), ``%3f`` (1-6 fraction digits) and ``%:z``
# (offset written ``+02:00``); only synthgen's formatter writes them.
_DATES = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y%m%d",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%m/%d/%y",
    "%d/%m/%y",
)
_TIMES = ("", " %H:%M:%S", "T%H:%M:%S", " %H:%M", "T%H:%M")
_ISO_ZONES = ("", "Z", "%z", "%:z")
_MONTHS = ("%b-%Y", "%b-%y", "%Y-%m", "%m/%Y", "%B %Y")
_CUSTOM = re.compile(r"(%-[dmHIMS]|%[1-6]f|%:z)")
_FIELDS = {"d": "day", "m": "month", "H": "hour", "M": "minute", "S": "second"}


class ValueCodec:
    """Learns kind, precision and range of one continuous column; JSON state.

    A numeric or integer column with a number format (`Column.format`: "83.70%", "36 months") is
    read from its text with that format and written back as text in it, rounded to the learned
    precision first (see `synthgen.numberformat`).

    A datetime column keeps how its source wrote it: ``format`` (a strftime format learned from
    source strings, verified to reproduce them exactly) and ``timezone`` (of a tz-aware source;
    numbers are always UTC seconds). With a format, ``from_float`` returns strings in it; without
    one (a datetime dtype, or strings in mixed formats that no single format reproduces) it returns
    datetimes, which writers render as ISO 8601.
    """

    def __init__(self, column: Column) -> None:
        self.column = column
        # The precision follows from the column alone: an unfitted codec already writes its numbers
        # (without clipping: the range is what fitting learns).
        kind = column.kind
        self.decimals: int | None = (
            0 if kind is ColumnKind.INTEGER else column.rounding if kind is ColumnKind.NUMERIC else None
        )
        self.low: float | None = None
        self.high: float | None = None
        self.datetime_unit: str | None = None
        self.dtype: str = "float64"
        self.format: str | None = None
        self.timezone: str | None = None

    # -- fit -------------------------------------------------------------------------------
    def fit(self, values: pd.Series) -> ValueCodec:
        self.dtype = str(values.dtype)
        kind = self.column.kind
        if kind is ColumnKind.DATETIME:
            self._learn_layout(values)
            self.datetime_unit = _datetime_resolution(self._stamps(values))
        numbers = self.to_float(values)
        finite = numbers[np.isfinite(numbers)]
        if finite.size:
            self.low, self.high = float(finite.min()), float(finite.max())
        declared_low = self._bound(self.column.min, "min")
        declared_high = self._bound(self.column.max, "max")
        if declared_low is not None:
            self.low = declared_low if self.low is None else max(self.low, declared_low)
        if declared_high is not None:
            self.high = declared_high if self.high is None else min(self.high, declared_high)
        return self

    def _learn_layout(self, values: pd.Series) -> None:
        """The source's timezone (datetime dtype) or string format (text), for ``from_float``."""
        self.format = self.timezone = None
        if pd.api.types.is_datetime64_any_dtype(values):
            tz = values.dt.tz
            self.timezone = None if tz is None else _tz_name(tz)
            return
        strings = _as_strings(values)
        if strings is not None:
            self.format, self.timezone = learn_datetime_format(strings)

    def _bound(self, value: Any, key: str) -> float | None:
        if value is None:
            return None
        try:
            if self.column.kind is ColumnKind.DATETIME:
                return float(self._bound_stamp(value).value / 1e9)
            return float(value)
        except (TypeError, ValueError, OverflowError):
            kind = "a date" if self.column.kind is ColumnKind.DATETIME else "a number"
            raise InputError(f"column {self.column.name!r}: {key} {value!r} is not {kind}") from None

    def _bound_stamp(self, value: Any) -> pd.Timestamp:
        if self.format is not None and isinstance(value, str):
            parsed = _parse(pd.Series([value]), self.format, errors="coerce", utc=self.timezone is not None)
            if parsed.notna().all():
                return pd.Timestamp(parsed.iloc[0])
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            raise ValueError(value)
        return stamp

    # -- conversions -----------------------------------------------------------------------
    def to_float(self, values: pd.Series) -> np.ndarray:
        """Values as float64 with NaN for missing; datetimes as seconds since the epoch (UTC)."""
        if self.column.kind is ColumnKind.DATETIME:
            stamps = self._stamps(values)
            out = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype(np.float64) / 1e9
            out[stamps.isna().to_numpy()] = np.nan
            return out
        if self.column.format is not None:
            return parse_numbers(values, self.column.format)[0]
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    def _stamps(self, values: pd.Series) -> pd.Series:
        """Naive UTC datetimes; text is read with the learned format when there is one."""
        if self.format is not None and not pd.api.types.is_datetime64_any_dtype(values):
            strings = _as_strings(values)
            if strings is not None:
                stamps = _parse(strings, self.format, errors="coerce", utc=self.timezone is not None)
                return _naive_utc(stamps)
        return _to_datetime(values)

    def from_float(self, numbers: np.ndarray) -> pd.Series:
        """Clip to the learned range, round to the learned precision, restore the dtype or format."""
        numbers = np.asarray(numbers, dtype=np.float64).copy()
        missing = ~np.isfinite(numbers)
        if self.low is not None or self.high is not None:
            numbers = np.clip(numbers, self.low, self.high)
        if self.column.kind is ColumnKind.DATETIME:
            return self._datetimes(numbers, missing)
        if self.decimals is not None:
            # Beyond 2**52 a float64 is already whole; rounding it would scale it by 10**decimals first
            # and overflow to inf for values near the float64 maximum.
            small = np.abs(numbers) < 2.0**52
            numbers[small] = np.round(numbers[small], self.decimals)
        numbers[missing] = np.nan
        if self.column.format is not None:
            text = format_numbers(numbers, self.column.format)
            text[missing] = np.nan
            return pd.Series(text, name=self.column.name, dtype=object)
        series = pd.Series(numbers, name=self.column.name)
        if self.dtype.lower().startswith(("int", "uint")):
            series = series.astype("Int64") if missing.any() else series.astype("int64")
        return series

    def _datetimes(self, numbers: np.ndarray, missing: np.ndarray) -> pd.Series:
        unit = _DATETIME_UNITS[self.datetime_unit or "s"]
        # whole units times nanoseconds per unit, in integers: float seconds * 1e9 truncates .250 to .249
        ticks = np.where(missing, 0, np.round(numbers / unit)).astype("int64")
        nanos = ticks * int(round(unit * 1e9))
        stamps = pd.Series(pd.to_datetime(nanos, unit="ns"), name=self.column.name)
        stamps[missing] = pd.NaT
        if self.timezone is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(_tz_from_name(self.timezone))
        if self.format is None:
            return stamps
        text = format_datetimes(stamps, self.format).rename(self.column.name)
        if self.dtype.lower().startswith(("int", "uint")):
            numeric = pd.to_numeric(text, errors="coerce")
            return numeric.astype("Int64") if missing.any() else numeric.astype("int64")
        return text

    # -- state ------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "decimals": self.decimals,
            "low": self.low,
            "high": self.high,
            "datetime_unit": self.datetime_unit,
            "dtype": self.dtype,
            "format": self.format,
            "timezone": self.timezone,
        }

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> ValueCodec:
        """Codec state; a state written before ``format``/``timezone`` existed loads as datetimes."""
        codec = cls(column)
        codec.decimals = state["decimals"]
        codec.low = state["low"]
        codec.high = state["high"]
        codec.datetime_unit = state["datetime_unit"]
        codec.dtype = state["dtype"]
        codec.format = state.get("format")
        codec.timezone = state.get("timezone")
        for key in ("format", "timezone"):
            if getattr(codec, key) is not None and not isinstance(getattr(codec, key), str):
                raise ValueError(f"codec {key!r} of column {column.name!r} must be a string or null")
        if codec.datetime_unit is not None and codec.datetime_unit not in _DATETIME_UNITS:
            raise ValueError(f"codec datetime_unit of column {column.name!r} must be one of {sorted(_DATETIME_UNITS)}")
        return codec


# -- datetime formats ------------------------------------------------------------------------------
def learn_datetime_format(values: pd.Series) -> tuple[str | None, str | None]:
    """(format, timezone) that reproduce the column's strings exactly, or (None, None).

    The format must write every sampled string back character for character, and parse every
    distinct string of the column. Among ambiguous ones (``03/04/2021``) the first candidate wins:
    pandas' month-first guess, so ``%d/%m`` is chosen only when some first field exceeds 12. A
    timezone is kept when the strings carry one offset (``+02:00``); strings with several offsets
    or mixed formats get (None, None): the column is then written back as ISO datetimes.
    """
    strings = values.dropna().astype(str)
    distinct = pd.Series(strings.unique(), dtype=object)
    if distinct.empty:
        return None, None
    sample = distinct
    if len(distinct) > _FORMAT_SAMPLE:
        sample = distinct.iloc[np.linspace(0, len(distinct) - 1, _FORMAT_SAMPLE).astype(int)].reset_index(drop=True)
    first = str(sample.iloc[0])
    for fmt in _candidates(sample):
        if not _writes_back(first, fmt):
            continue
        zone = _round_trip_zone(sample, fmt)
        if zone is False:
            continue
        if _parse(distinct, fmt, errors="coerce", utc=True).notna().all():
            return fmt, zone
    return None, None


def parse_datetimes(values: pd.Series, fmt: str) -> pd.Series:
    """Values written in ``fmt`` (a learned format) as naive UTC datetimes; anything else is NaT.

    For readers of a learned format outside the codec (the judge), so that ``03/04/2021`` means the
    same day to them as to the generator.
    """
    strings = _as_strings(values)
    if strings is None:
        strings = values.astype(object).where(values.notna(), np.nan).map(lambda v: v if isinstance(v, str) else np.nan)
    return _naive_utc(_parse(strings, fmt, errors="coerce", utc=True))


def _candidates(sample: pd.Series) -> Iterator[str]:
    seen: set[str] = set()
    guesses = []
    for text in sample.iloc[:_GUESS_FROM]:
        for dayfirst in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                guess = guess_datetime_format(text, dayfirst=dayfirst)
            if guess:
                guesses.append(guess)
    common = [*_MONTHS, *(date + time for date in _DATES for time in _TIMES)]
    common += [f"%Y-%m-%dT%H:%M:%S{fraction}{zone}" for fraction in ("", ".%f") for zone in _ISO_ZONES]
    common += [f"%Y-%m-%d %H:%M:%S{fraction}{zone}" for fraction in ("", ".%f") for zone in _ISO_ZONES]
    for base in [*guesses, *common]:
        for fmt in _variants(base):
            if fmt not in seen:
                seen.add(fmt)
                yield fmt


def _variants(fmt: str) -> Iterator[str]:
    """The format as guessed, then with a fraction width, offset spelling and unpadded fields."""
    zones = [fmt]
    if fmt.endswith("%z"):
        zones += [fmt[:-2] + "%:z", fmt[:-2] + "Z"]
    for zoned in zones:
        fractions = [zoned.replace("%f", f"%{digits}f") for digits in (6, 3, 1, 2, 4, 5)] if "%f" in zoned else [zoned]
        for fractioned in fractions:
            yield from _unpadded(fractioned)


def _unpadded(fmt: str) -> Iterator[str]:
    fields = [f for f in ("%m", "%d", "%H") if f in fmt]
    for mask in range(1 << len(fields)):
        out = fmt
        for bit, field in enumerate(fields):
            if mask >> bit & 1:
                out = out.replace(field, "%-" + field[1])
        yield out


def _parse_format(fmt: str) -> str:
    return re.sub(r"%[1-6]f", "%f", fmt).replace("%:z", "%z").replace("%-", "%")


def _parse(strings: pd.Series, fmt: str, errors: str, utc: bool) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(strings, format=_parse_format(fmt), errors=errors, utc=utc)


def _writes_back(text: str, fmt: str) -> bool:
    """A cheap screen of one string in pure Python before the vectorised check of the sample."""
    try:
        stamp = _dt.datetime.strptime(text, _parse_format(fmt))
    except ValueError:
        return False
    parts = []
    for part in _CUSTOM.split(fmt):
        if part.startswith("%-"):
            parts.append(str(stamp.hour % 12 or 12 if part[2] == "I" else getattr(stamp, _FIELDS[part[2]])))
        elif re.fullmatch(r"%[1-6]f", part):
            parts.append(f"{stamp.microsecond:06d}"[: int(part[1])])
        elif part == "%:z":
            offset = stamp.strftime("%z")
            parts.append(offset[:3] + ":" + offset[3:5] if offset else "")
        elif part:
            parts.append(stamp.strftime(part))
    return "".join(parts) == text


def _round_trip_zone(strings: pd.Series, fmt: str) -> str | None | bool:
    """False unless ``fmt`` writes ``strings`` back exactly; else their timezone name (or None)."""
    try:
        stamps = _parse(strings, fmt, errors="raise", utc=False)
    except (ValueError, TypeError, OverflowError):
        return False
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        return False  # several offsets: no single timezone writes them back
    try:
        written = format_datetimes(stamps, fmt)
    except (ValueError, TypeError):
        return False
    if not bool((written.to_numpy(dtype=object) == strings.to_numpy(dtype=object)).all()):
        return False
    tz = stamps.dt.tz
    return None if tz is None else _tz_name(tz)


def format_datetimes(stamps: pd.Series, fmt: str) -> pd.Series:
    """``stamps`` written with ``fmt`` (strftime plus ``%-d``, ``%3f``, ``%:z``); NaT stays missing."""
    present = stamps.notna().to_numpy()
    out = pd.Series(np.full(len(stamps), np.nan, dtype=object), index=stamps.index, dtype=object)
    if not present.any():
        return out
    values = stamps[present]
    pieces = [_piece(values, part) for part in _CUSTOM.split(fmt) if part]
    text = pieces[0] if pieces else pd.Series("", index=values.index)
    for piece in pieces[1:]:
        text = text + piece
    out[present] = text.to_numpy(dtype=object)
    return out


def _piece(stamps: pd.Series, part: str) -> pd.Series:
    accessor = stamps.dt
    if part.startswith("%-"):
        field = {
            "d": accessor.day,
            "m": accessor.month,
            "H": accessor.hour,
            "M": accessor.minute,
            "S": accessor.second,
            "I": (accessor.hour + 11) % 12 + 1,
        }[part[2]]
        return field.astype(int).astype(str)
    if re.fullmatch(r"%[1-6]f", part):
        return accessor.microsecond.astype(int).astype(str).str.zfill(6).str[: int(part[1])]
    if part == "%:z":
        offset = accessor.strftime("%z")
        return offset.str[:3] + ":" + offset.str[3:5]
    return accessor.strftime(part).astype(object)


# -- timezones -------------------------------------------------------------------------------------
def _tz_name(tz: Any) -> str:
    """An IANA name ('Europe/Berlin', 'UTC') or a fixed offset '+02:00'."""
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if isinstance(name, str):
        return name
    if str(tz) == "UTC":
        return "UTC"
    offset = tz.utcoffset(None)
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _tz_from_name(name: str) -> Any:
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", name)
    if match is None:
        return name
    minutes = int(match[2]) * 60 + int(match[3])
    return _dt.timezone(_dt.timedelta(minutes=-minutes if match[1] == "-" else minutes))


# -- helpers ----------------------------------------------------------------------------------------
def _as_strings(values: pd.Series) -> pd.Series | None:
    """Text as object strings with NaN for missing; integer-valued numbers (20210315) as digits."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        present = values.dropna()
        if present.empty or not np.all(np.mod(present.to_numpy(dtype=np.float64), 1) == 0):
            return None
        return values.astype("Int64").astype(object).map(lambda v: np.nan if pd.isna(v) else str(v))
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None  # datetime objects, mixed types: not text whose layout can be kept
    text = values.astype(object)
    present = text.notna()
    text = text.where(present, np.nan)
    text[present] = text[present].astype(str)
    return text


def _naive_utc(stamps: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        stamps = pd.to_datetime(stamps, errors="coerce", utc=True)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


def _to_datetime(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        # utc=True: mixed offsets become one UTC column (naive strings are read as UTC, as before)
        stamps = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    return _naive_utc(stamps)


def _datetime_resolution(stamps: pd.Series) -> str:
    """The coarsest unit that represents every stamp exactly: days, seconds, ms or us."""
    present = stamps.dropna()
    nanos = present.to_numpy(dtype="datetime64[ns]").astype("int64")
    for unit, seconds in _DATETIME_UNITS.items():
        step = int(round(seconds * 1e9))
        if nanos.size == 0 or np.all(nanos % step == 0):
            return unit
    return "us"
