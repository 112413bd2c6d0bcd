"""Numbers written as text: "83.70%", "36 months", "$1,234.50", "1.234,5": learned, read and written back.

A lending export writes many quantities as text. Learned as categories they can only be repeated
(Lending Club's revolving utilisation, "83.70%", is a category of 1,090 levels); learned as numbers
they must be written back the way the source wrote them, or every downstream parser (and every
reviewer's eye) sees the difference. A `NumberFormat` says how: a fixed ``prefix`` and ``suffix``
around the digits, the ``thousands`` separator and ``decimal_mark``, how many ``decimals`` and
whether ``trailing_zeros`` are kept, the zero-padded ``width`` of the integer part, and where the
minus sign goes. The value is the number as written: "83.70%" is 83.7, not 0.837.

`learn_number_format` finds the one format that writes every distinct value of a column back
byte for byte (or says there is none); `parse_numbers` reads text in a format (leniently: any
number of decimals, thousands separators optional, the prefix and suffix exact) and
`format_numbers` writes numbers in it. This module needs only pydantic, numpy and pandas, so the
judge reads formatted columns without importing the generators.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Separator = Literal["", ",", ".", " ", "'", "\u2019", "\u00a0", "\u202f"]
TrailingZeros = Literal["keep", "drop", "drop_if_whole"]
# A float64 holds every decimal of up to 15 significant digits exactly: longer numbers are not
# learned as numbers (an account number of 18 digits would come back altered).
MAX_DIGITS = 15
# Values tried before a column's every distinct value is: most text columns fail on the first few.
QUICK_SAMPLE = 200

# One number with fixed text around it: sign, prefix, sign (after a prefix), digits with separators, suffix.
_GENERIC = re.compile(r"(-?)(\D*?)(-?)(\d(?:[\d.,'\u2019 \u00a0\u202f]*\d)?)(\D*)")
# A prefix is symbols and spaces ("$", "€ "), optionally a currency code and a space ("USD ").
_PREFIX = re.compile(r"\W*(?:[A-Z]{3} )?")
# A suffix starts with a symbol or a space ("%", " months", " €"): letters glued to the digits are a code ("860xx").
_SUFFIX = re.compile(r"(?:\W\D*)?")


class NumberFormat(BaseModel):
    """How a column writes its numbers as text; every field optional in a recipe.

    ``{suffix: "%", decimals: 2, trailing_zeros: drop_if_whole}`` writes 83.7 as "83.70%" and 63 as
    "63%" (Lending Club's revol_util); ``{prefix: "$", thousands: ",", decimals: 2}`` writes 1234.5
    as "$1,234.50"; ``{suffix: " months"}`` writes 36 as "36 months"; ``{width: 5}`` writes 123 as
    "00123".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: str = Field(default="", description='Text before the number ("$", "USD "); no digits.')
    suffix: str = Field(default="", description='Text after the number ("%", " months"); no digits.')
    decimals: int = Field(
        default=0, ge=0, le=12, description="Decimals written (at most, unless trailing zeros are kept)."
    )
    trailing_zeros: TrailingZeros = Field(
        default="keep",
        description="'keep': always `decimals` digits (83.70); 'drop': trailing zeros removed (83.7, 63); "
        "'drop_if_whole': all decimals, except none for a whole number (83.70, 63).",
    )
    thousands: Separator = Field(default="", description='Thousands separator: "" (none), ",", ".", " ", "\'".')
    decimal_mark: Literal[".", ","] = Field(default=".", description='"." (1,234.5) or "," (1.234,5).')
    width: int = Field(default=0, ge=0, le=30, description="Zero-pad the integer part to this many digits (00123).")
    sign: Literal["before_prefix", "after_prefix"] = Field(
        default="before_prefix", description='Where a minus sign goes: "-$5" (before_prefix) or "$-5" (after_prefix).'
    )

    @field_validator("prefix", "suffix")
    @classmethod
    def _no_digits(cls, value: str) -> str:
        if any(ch.isdigit() for ch in value) or "\n" in value or "\r" in value:
            raise ValueError("may not contain digits or line breaks")
        return value

    @model_validator(mode="after")
    def _separators_differ(self) -> NumberFormat:
        if self.thousands == self.decimal_mark:
            raise ValueError(f"thousands separator and decimal mark are both {self.decimal_mark!r}")
        if self.width and self.thousands:
            raise ValueError("width (zero padding) and a thousands separator cannot be combined")
        if self.suffix[:1] == "-" or self.prefix[-1:] == "-":
            raise ValueError("a prefix may not end, and a suffix may not start, with '-' (the minus sign)")
        return self

    def example(self) -> str:
        """How 1234.5 is written: "$1,234.50"; for messages."""
        return str(format_numbers(np.array([1234.5]), self)[0])


# -- writing ----------------------------------------------------------------------------------------
def format_numbers(numbers: Iterable[float] | np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """``numbers`` written in ``fmt`` as an object array; NaN and infinities become None.

    Rounding is Python's (exact decimal of the binary value, ties to even), so a number read from
    text with as many decimals as the format keeps is written back as it was read.
    """
    x = np.asarray(numbers, dtype=np.float64).ravel()
    out = np.full(x.shape, None, dtype=object)
    finite = np.isfinite(x)
    if not finite.any():
        return out
    spec = f"{',' if fmt.thousands else ''}.{fmt.decimals}f"
    table = str.maketrans({",": fmt.thousands, ".": fmt.decimal_mark})
    translate = bool(fmt.thousands not in ("", ",") or fmt.decimal_mark != ".")
    trim, decimals, width = fmt.trailing_zeros, fmt.decimals, fmt.width
    zeros = "." + "0" * decimals
    prefix, suffix, before = fmt.prefix, fmt.suffix, fmt.sign == "before_prefix"

    def write(value: float) -> str:
        body = format(abs(value), spec)
        if decimals:
            if trim == "drop":
                body = body.rstrip("0").rstrip(".")
            elif trim == "drop_if_whole" and body.endswith(zeros):
                body = body[: -len(zeros)]
        if width:
            whole, dot, rest = body.partition(".")
            body = whole.zfill(width) + dot + rest
        negative = value < 0 and body.strip("0.,") != ""  # no "-0.00"
        if translate:
            body = body.translate(table)
        if not negative:
            return prefix + body + suffix
        return "-" + prefix + body + suffix if before else prefix + "-" + body + suffix

    out[finite] = [write(v) for v in x[finite].tolist()]
    return out


# -- reading ----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _pattern(fmt: NumberFormat) -> re.Pattern[str]:
    """Text in ``fmt``, leniently: any decimals, separators optional, the minus sign at either place."""
    grouping = rf"(?:{re.escape(fmt.thousands)}\d+)*" if fmt.thousands else ""
    return re.compile(
        rf"(-?){re.escape(fmt.prefix)}(-?)(\d+{grouping})(?:{re.escape(fmt.decimal_mark)}(\d+))?{re.escape(fmt.suffix)}"
    )


def parse_numbers(values: pd.Series, fmt: NumberFormat) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64 with NaN where missing or unreadable, which present values are unreadable).

    Text must carry the format's prefix and suffix exactly; the digits may have any number of
    decimals and may omit the thousands separators. Values that already are numbers are taken as
    they are. Each distinct value is read once.
    """
    values = pd.Series(values).reset_index(drop=True)
    n = len(values)
    if pd.api.types.is_bool_dtype(values):
        values = values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return numbers, np.zeros(n, dtype=bool)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    pattern, thousands = _pattern(fmt), fmt.thousands
    parsed = np.array([_read(value, pattern, thousands) for value in uniques.tolist()] + [np.nan], dtype=np.float64)
    numbers = parsed[codes]  # code -1 (missing) picks the trailing NaN
    bad = np.isnan(numbers) & (codes >= 0)
    return numbers, bad


def _read(value: object, pattern: re.Pattern[str], thousands: str) -> float:
    if not isinstance(value, str):
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return np.nan
        return number if np.isfinite(number) else np.nan
    match = pattern.fullmatch(value)
    if match is None:
        return np.nan
    first, second, digits, fraction = match.groups()
    if first and second:
        return np.nan
    if thousands:
        digits = digits.replace(thousands, "")
    number = float(f"{first or second}{digits}.{fraction or '0'}")
    return number if np.isfinite(number) else np.nan


def first_unreadable(values: pd.Series, fmt: NumberFormat) -> tuple[int, object] | None:
    """(position, value) of the first present value ``fmt`` cannot read, or None."""
    _, bad = parse_numbers(values, fmt)
    if not bad.any():
        return None
    row = int(np.flatnonzero(bad)[0])
    value = pd.Series(values).iloc[row]
    return row, value.item() if isinstance(value, np.generic) else value


def odd_one_out(values: pd.Series) -> tuple[int, object] | None:
    """(position, value) of the first present value outside the layout most values share ("n/a" among
    "5%", "7%"), for messages; None when every value is one number with the same prefix and suffix."""
    values = pd.Series(values).reset_index(drop=True)
    layouts: list[tuple[str, str] | None] = []
    for value in values.tolist():
        match = _GENERIC.fullmatch(value) if isinstance(value, str) else None
        layouts.append(None if match is None else (match[2], match[5]))
    present = values.notna().to_numpy()
    seen = [layout for layout, here in zip(layouts, present) if here and layout is not None]
    common = max(set(seen), key=seen.count) if seen else None
    for row, (layout, here) in enumerate(zip(layouts, present)):
        if here and layout != common:
            value = values.iloc[row]
            return row, value.item() if isinstance(value, np.generic) else value
    return None


# -- learning ---------------------------------------------------------------------------------------
def learn_number_format(values: pd.Series, exact: bool = True) -> NumberFormat | None:
    """The format in which the column's present text values are written, or None.

    With ``exact`` (inference) the format must write every distinct value back byte for byte;
    values in mixed layouts ("1.5" beside "1.50"), with text that is not one number ("10+ years",
    "n/a"), with letters glued to the digits ("860xx") or with more than `MAX_DIGITS` digits give
    None, and the column stays a category. Without ``exact`` (a column declared numeric) the format
    need only read every value; decimals are then the most any value has, trailing zeros dropped.
    A column of numbers (not text) has no format: None.
    """
    values = pd.Series(values)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    present = values.dropna()
    if present.empty or pd.api.types.infer_dtype(present, skipna=True) != "string":
        return None
    distinct = pd.unique(present.to_numpy(dtype=object)).tolist()
    if _layout(_split(distinct[:QUICK_SAMPLE])) is None:
        return None
    parts = _split(distinct)
    layout = _layout(parts)
    if parts is None or layout is None:
        return None
    prefix, suffix, sign = layout
    numbers = [p[3] for p in parts]
    text = np.asarray(distinct, dtype=object)
    for thousands, mark in _candidates(numbers):
        fmt = _format_for(numbers, prefix, suffix, sign, thousands, mark, exact)
        if fmt is None:
            continue
        parsed, bad = parse_numbers(pd.Series(text, dtype=object), fmt)
        if bad.any():
            continue
        if not exact:
            return fmt
        if _significant_digits(numbers) > MAX_DIGITS:
            return None
        if bool((format_numbers(parsed, fmt) == text).all()):
            return fmt
    return None


def _split(strings: list[str]) -> list[tuple[str, ...]] | None:
    """Each string as (sign, prefix, sign, digits, suffix), or None when one is not a single number."""
    parts = []
    for text in strings:
        match = _GENERIC.fullmatch(text)
        if match is None:
            return None
        parts.append(match.groups())
    return parts


def _layout(parts: list[tuple[str, ...]] | None) -> tuple[str, str, str] | None:
    """(prefix, suffix, sign position) shared by every value, or None."""
    if not parts:
        return None
    prefixes, suffixes = {p[1] for p in parts}, {p[4] for p in parts}
    if len(prefixes) != 1 or len(suffixes) != 1:
        return None
    prefix, suffix = prefixes.pop(), suffixes.pop()
    if not _PREFIX.fullmatch(prefix) or not _SUFFIX.fullmatch(suffix) or prefix.endswith("-") or suffix.startswith("-"):
        return None
    if prefix == "":
        return prefix, suffix, "before_prefix"
    before, after = any(p[0] for p in parts), any(p[2] for p in parts)
    if before and after:
        return None
    return prefix, suffix, "after_prefix" if after else "before_prefix"


def _candidates(numbers: list[str]) -> Iterable[tuple[str, str]]:
    """(thousands separator, decimal mark) pairs the digits could be written with, likeliest first."""
    chars = set("".join(numbers)) - set("0123456789")
    if not chars:
        yield "", "."
        return
    if len(chars) > 2:
        return
    if len(chars) == 2:
        # the mark is the separator that comes last in a number holding both: "1,234.5", "1.234,5"
        last = {next(ch for ch in reversed(s) if ch in chars) for s in numbers if len(set(s) & chars) == 2}
        if len(last) == 1 and last <= {".", ","}:
            mark = last.pop()
            (thousands,) = chars - {mark}
            yield thousands, mark
        return
    (ch,) = chars
    if ch in ".,":
        yield ch, "." if ch == "," else ","  # "1,234" is read as thousands first; the write-back decides
        yield "", ch
    else:
        yield ch, "."


def _format_for(
    numbers: list[str], prefix: str, suffix: str, sign: str, thousands: str, mark: str, exact: bool
) -> NumberFormat | None:
    """The format these digit strings are written in with this separator and mark, or None."""
    grouped = re.compile(rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+") if thousands else None
    lengths: set[int] = set()
    zero_ended = False
    width = 0
    for text in numbers:
        whole, fraction = text.rsplit(mark, 1) if mark in text else (text, "")
        if thousands and thousands in whole:
            if grouped is None or not grouped.fullmatch(whole):
                return None
            whole = whole.replace(thousands, "")
        if not whole.isdigit() or (mark in text and not fraction.isdigit()):
            return None
        lengths.add(len(fraction))
        zero_ended = zero_ended or fraction.endswith("0")
        if len(whole) > 1 and whole.startswith("0"):
            width = max(width, len(whole))
    decimals = max(lengths)
    if decimals > 12 or (width and thousands):
        return None
    if len(lengths) == 1:
        trailing = "keep"
    elif not zero_ended or not exact:
        trailing = "drop"
    elif lengths <= {0, decimals}:
        trailing = "drop_if_whole"
    else:
        return None
    try:
        return NumberFormat(
            prefix=prefix,
            suffix=suffix,
            decimals=decimals,
            trailing_zeros=trailing,
            thousands=thousands,
            decimal_mark=mark,
            width=width,
            sign=sign,
        )
    except ValueError:
        return None


def _significant_digits(numbers: list[str]) -> int:
    return max((len(re.sub(r"\D", "", text).lstrip("0")) for text in numbers), default=0)
