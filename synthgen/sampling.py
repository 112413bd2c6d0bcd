"""Which rows `Generator.sample` must return, and the bounded redraw loop that returns exactly them.

Three ways to ask for particular rows, all turned into one per-row `Guide`:

- **conditions** on any column: a value, a list of allowed values, or a range (``{"min": a, "max": b}``
  or the tuple ``(a, b)``, either end ``None``);
- **rebalancing**: shares of some categories of a discrete column; the other rows keep the model's own
  mix of the remaining categories;
- **seed rows**: a DataFrame of partial rows (missing entries are free), each completed by the model.

A generator *steers* what it can (the diffusion model holds given values during denoising and only lets
the allowed categories be drawn; CTGAN puts one discrete column in its conditional vector) and says what
it cannot (`Generator.steers_numbers`). Everything is then *checked* on the sampled rows: rows that fail
a condition, a constraint or a uniqueness rule are redrawn from fresh random streams, a bounded number of
times, as replicas of the failing rows only. When too few rows pass, sampling stops with an error that
names the acceptance rate: never a hang, never fewer rows than asked (the peers' rejection samplers
stall or silently return fewer: SDV issues #696, #1815, #2519).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.errors import InputError
from synthgen.schema import ColumnKind, TableSchema
from synthgen.transforms.discrete import to_json_value

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
MAX_REDRAWS = 12
"""Redraw rounds after the first draw; each draws replicas of the rows still missing."""
MIN_PROBE_ROWS = 256
"""Rows drawn at least when rows are checked, so that a small request still measures the acceptance rate."""
DRAW_BUDGET = 100
"""At most this many rows are drawn per requested row (plus `MIN_PROBE_ROWS`) before giving up: an
acceptance rate below about 1 % is refused as soon as it is measured, not after minutes of drawing."""


@dataclass(frozen=True)
class Condition:
    """What one column must hold: allowed values, or a range on its number line (datetimes: seconds)."""

    column: str
    values: tuple[Any, ...] | None = None  # discrete: categories as stored; continuous: exact numbers
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    text: str = ""

    def holds(self, numbers: np.ndarray) -> np.ndarray:
        """Per value on the number line: inside the range (a missing value is not)."""
        ok = np.isfinite(numbers)
        if self.low is not None:
            ok &= numbers > self.low if self.low_open else numbers >= self.low
        if self.high is not None:
            ok &= numbers < self.high if self.high_open else numbers <= self.high
        return ok


# -- what the user wrote -> conditions ---------------------------------------------------------------
@dataclass(frozen=True)
class Range:
    """A range condition as `parse_where` reads it (``annual_inc > 50000``): open or closed ends."""

    low: Any = None
    high: Any = None
    low_open: bool = False
    high_open: bool = False


_OPERATORS = (">=", "<=", "!=", "==", ">", "<", "=")


def parse_where(text: str) -> tuple[str, Any]:
    """One ``--where`` clause -> (column, condition value): ``col=value``, ``col in (a,b)``,
    ``col>=x`` / ``>`` / ``<=`` / ``<``, ``col between a and b``. Values are text; the model's column
    decides how they are read (a category, a number, a date)."""
    raw = text.strip()
    lowered = raw.lower()
    for word in (" not in ", " in "):
        at = lowered.find(word)
        if at > 0 and word == " in ":
            column, rest = raw[:at].strip(), raw[at + len(word) :].strip()
            if not (rest.startswith("(") and rest.endswith(")")) and not (rest.startswith("[") and rest.endswith("]")):
                raise InputError(f"--where {text!r}: write a list of values in parentheses: {column} in (a,b)")
            values = [v.strip().strip("'\"") for v in rest[1:-1].split(",") if v.strip()]
            if not values:
                raise InputError(f"--where {text!r}: the list of values is empty")
            return _where_column(column, text), values
        if at > 0:
            raise InputError(f"--where {text!r}: 'not in' is not supported; list the values that are allowed")
    at = lowered.find(" between ")
    if at > 0:
        column, rest = raw[:at].strip(), raw[at + len(" between ") :]
        parts = rest.split(" and ") if " and " in rest else rest.split(" AND ")
        if len(parts) != 2:
            raise InputError(f"--where {text!r}: write {column} between LOW and HIGH")
        return _where_column(column, text), Range(parts[0].strip().strip("'\""), parts[1].strip().strip("'\""))
    for op in _OPERATORS:
        at = raw.find(op)
        if at > 0:
            column, value = raw[:at].strip(), raw[at + len(op) :].strip().strip("'\"")
            if value == "":
                raise InputError(f"--where {text!r}: no value after {op!r}")
            column = _where_column(column, text)
            if op in ("=", "=="):
                return column, value
            if op == "!=":
                raise InputError(f"--where {text!r}: '!=' is not supported; list the values that are allowed (in)")
            if op in (">", ">="):
                return column, Range(low=value, low_open=op == ">")
            return column, Range(high=value, high_open=op == "<")
    raise InputError(
        f"--where {text!r}: expected column=value, column in (a,b), column>=x, column<x or column between a and b"
    )


def _where_column(column: str, text: str) -> str:
    column = column.strip().strip("`'\"")
    if not column:
        raise InputError(f"--where {text!r}: no column name")
    return column


def _closest(name: str, names: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Columns:
    """What a fitted generator knows of each modelled column: categories (discrete) or the value codec
    (continuous: number line, learned range, how values are written back)."""

    def __init__(self, schema: TableSchema, encoders: Iterable[Any]) -> None:
        self.schema = schema
        self.encoders = {encoder.column.name: encoder for encoder in encoders}

    def discrete(self, name: str) -> bool:
        return self.schema[name].kind.is_discrete

    def categories(self, name: str) -> list[Any]:
        return list(self.encoders[name].categories_)

    def codec(self, name: str) -> Any:
        return self.encoders[name].codec

    def category_index(self, name: str, value: Any, where: str) -> int:
        """Index of ``value`` among the column's categories, matched as the recipe or command line writes
        it (``1`` and ``"1"`` alike); an unseen value fails at once (no row could ever hold it)."""
        categories = self.categories(name)
        wanted = _key(value)
        for i, category in enumerate(categories):
            if _key(category) == wanted:
                return i
        more = f" and {len(categories) - 12} more" if len(categories) > 12 else ""
        shown = ", ".join(repr(c) for c in categories[:12]) + more
        raise InputError(f"{where}: column {name!r} never holds {value!r} in the training data; it holds {shown}")

    def codes(self, name: str, values: pd.Series) -> np.ndarray:
        """Index of each value's category (-1: none, e.g. a value the constraints' decoding produced)."""
        index = {_key(c): i for i, c in enumerate(self.categories(name))}
        keys = pd.Series(values.to_numpy(dtype=object)).map(_key)
        return keys.map(index).fillna(-1).to_numpy(dtype=np.int64)

    def number(self, name: str, value: Any, where: str) -> float:
        """A value of a continuous column on its number line (a date as seconds), refused when it cannot be read."""
        try:
            number = float(self.codec(name).to_float(pd.Series([value]))[0])
        except (TypeError, ValueError, OverflowError):
            number = float("nan")
        if not math.isfinite(number):
            kind = self.schema[name].kind.value
            raise InputError(f"{where}: {value!r} is not a value of the {kind} column {name!r}")
        return number

    def learned_range(self, name: str) -> tuple[float | None, float | None]:
        codec = self.codec(name)
        return codec.low, codec.high

    def show(self, name: str, number: float) -> str:
        if self.schema[name].kind is ColumnKind.DATETIME:
            return str(pd.Timestamp(number, unit="s"))
        return f"{number:,.6g}"


def describe_columns(data: pd.DataFrame, schema: TableSchema, names: Iterable[str]) -> dict[str, Any]:
    """JSON descriptions of columns a generator does not learn as themselves (reparametrised by a
    constraint): a discrete column's categories, a continuous column's value codec. Conditions on them
    are read and checked in the user's terms."""
    from synthgen.transforms.discrete import OneHotEncoder
    from synthgen.transforms.values import ValueCodec

    out: dict[str, Any] = {}
    for name in names:
        column = schema[name]
        if column.kind.is_discrete:
            encoder = OneHotEncoder(column).fit(data[name], np.random.default_rng(0))
            out[name] = {"categories": encoder.categories_}
        else:
            out[name] = {"codec": ValueCodec(column).fit(data[name]).get_state()}
    return out


def described_column(column: Any, state: Mapping[str, Any]) -> Any:
    """An object `Columns` reads like an encoder (``column``, ``categories_`` or ``codec``) from `describe_columns`."""
    from types import SimpleNamespace

    from synthgen.transforms.values import ValueCodec

    if "categories" in state:
        return SimpleNamespace(column=column, categories_=list(state["categories"]))
    return SimpleNamespace(column=column, codec=ValueCodec.from_state(column, state["codec"]))


def _key(value: Any) -> str:
    """One spelling per category for matching what a user writes: ``1``, ``1.0`` and ``"1"`` alike,
    ``True`` and ``"true"`` alike."""
    value = to_json_value(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text.lower() if text.lower() in ("true", "false") else text


def parse_conditions(conditions: Mapping[str, Any] | None, columns: Columns) -> list[Condition]:
    """The user's conditions as `Condition` objects, checked against what the model learned: an unknown
    column, a category that never occurs, an empty range or one outside the learned values fail at once."""
    out = []
    for name, spec in (conditions or {}).items():
        where = f"condition on {name!r}"
        if name not in columns.schema:
            raise InputError(f"{where}: no such column{_closest(name, columns.schema.names)}")
        kind = columns.schema[name].kind
        if not kind.is_modelled:
            raise InputError(f"{where}: {name!r} is {kind.value}, regenerated after sampling; it cannot be conditioned")
        if columns.discrete(name):
            out.append(_discrete_condition(name, spec, columns, where))
        else:
            out.append(_continuous_condition(name, spec, columns, where))
    return out


def _as_range(spec: Any) -> Range | None:
    if isinstance(spec, Range):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2:
        return Range(spec[0], spec[1])
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"min", "max"}
        if unknown:
            raise InputError(f"a range takes 'min' and 'max', not {', '.join(sorted(map(str, unknown)))}")
        return Range(spec.get("min"), spec.get("max"))
    return None


def _listed(spec: Any) -> list[Any] | None:
    if isinstance(spec, (list, set, frozenset)) or (isinstance(spec, tuple) and len(spec) != 2):
        return list(spec)
    if isinstance(spec, (np.ndarray, pd.Series, pd.Index)):
        return list(spec)
    return None


def _discrete_condition(name: str, spec: Any, columns: Columns, where: str) -> Condition:
    if isinstance(spec, (Mapping, Range)):
        raise InputError(f"{where}: {name!r} is a category column; give a value or a list of values, not a range")
    values = _listed(spec)
    if values is None:
        values = list(spec) if isinstance(spec, tuple) else [spec]
    if not values:
        raise InputError(f"{where}: the list of allowed values is empty")
    codes = sorted({columns.category_index(name, v, where) for v in values})
    categories = columns.categories(name)
    shown = ", ".join(map(str, values))
    return Condition(name, values=tuple(categories[i] for i in codes), text=f"{name} in ({shown})")


def _continuous_condition(name: str, spec: Any, columns: Columns, where: str) -> Condition:
    rng = _as_range(spec)
    if rng is None:
        values = _listed(spec)
        values = [spec] if values is None else values
        if not values:
            raise InputError(f"{where}: the list of values is empty")
        numbers = tuple(columns.number(name, v, where) for v in values)
        for v, x in zip(values, numbers):
            _within_learned(name, x, x, columns, where, f"{v!r}")
        return Condition(name, values=numbers, text=f"{name} = {', '.join(map(str, values))}")
    low = None if rng.low is None else columns.number(name, rng.low, where)
    high = None if rng.high is None else columns.number(name, rng.high, where)
    if low is not None and high is not None and (low > high or (low == high and (rng.low_open or rng.high_open))):
        raise InputError(f"{where}: the range from {rng.low} to {rng.high} is empty")
    text = f"{name} in [{'' if rng.low is None else rng.low}, {'' if rng.high is None else rng.high}]"
    _within_learned(name, low, high, columns, where, text)
    return Condition(name, low=low, high=high, low_open=rng.low_open, high_open=rng.high_open, text=text)


def _within_learned(name: str, low: float | None, high: float | None, columns: Columns, where: str, text: str) -> None:
    """A range that misses every value the model learned cannot be met by any row: say so at once."""
    learned_low, learned_high = columns.learned_range(name)
    if learned_low is None or learned_high is None:
        return
    if (low is not None and low > learned_high) or (high is not None and high < learned_low):
        raise InputError(
            f"{where}: {text} lies outside the values the model learned for {name!r} "
            f"({columns.show(name, learned_low)} to {columns.show(name, learned_high)}); no row can hold it"
        )


def parse_rebalance(rebalance: Mapping[str, Mapping[Any, float]] | None, columns: Columns) -> dict[str, np.ndarray]:
    """``{column: {category: share}}`` -> per discrete column, the share of each of its categories; the
    categories not named share what is left (the model's own mix among them). Shares must be in [0, 1]
    and add up to at most 1."""
    out: dict[str, np.ndarray] = {}
    for name, shares in (rebalance or {}).items():
        where = f"rebalance of {name!r}"
        if name not in columns.schema:
            raise InputError(f"{where}: no such column{_closest(name, columns.schema.names)}")
        if not columns.schema[name].kind.is_discrete:
            raise InputError(f"{where}: only a discrete (categorical or boolean) column can be rebalanced")
        if not isinstance(shares, Mapping) or not shares:
            raise InputError(f"{where}: give shares of categories, e.g. {{'{name}': {{'some value': 0.5}}}}")
        vector = np.full(len(columns.categories(name)), np.nan)
        for value, share in shares.items():
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= float(share) <= 1.0:
                raise InputError(f"{where}: the share of {value!r} must be a number from 0 to 1, got {share!r}")
            vector[columns.category_index(name, value, where)] = float(share)
        total = float(np.nansum(vector))
        if total > 1.0 + 1e-9:
            raise InputError(f"{where}: the shares add up to {total:g}, more than 1")
        if np.isnan(vector).sum() == 0 and total < 1.0 - 1e-9:
            raise InputError(f"{where}: every category has a share and they add up to {total:g}, not 1")
        out[name] = vector
    return out


# -- the per-row guide ---------------------------------------------------------------------------------
@dataclass
class Allowed:
    """The categories each row of a discrete column may take, stored once per distinct set: row i may
    take category k when ``patterns[which[i], k]``. (A per-row matrix for a 823-level column and many
    redraw replicas would take gigabytes.)"""

    patterns: np.ndarray  # (distinct sets, categories) bool
    which: np.ndarray  # (rows,) index into patterns

    def take(self, index: np.ndarray) -> Allowed:
        return Allowed(self.patterns, self.which[index])

    def rows(self, index: slice | np.ndarray | None = None) -> np.ndarray:
        """The (rows, categories) matrix, for the rows given (all by default)."""
        return self.patterns[self.which if index is None else self.which[index]]

    def single(self) -> np.ndarray:
        """Per row, its one allowed category, or -1 where several are."""
        counts = self.patterns.sum(axis=1)
        per_pattern = np.where(counts == 1, self.patterns.argmax(axis=1), -1)
        return per_pattern[self.which]

    def hits(self, codes: np.ndarray) -> np.ndarray:
        seen = codes >= 0
        out = np.zeros(codes.size, dtype=bool)
        out[seen] = self.patterns[self.which[seen], codes[seen]]
        return out

    def restrict(self, mask: np.ndarray, where: str) -> Allowed:
        """Every row's set intersected with ``mask`` (one set for all rows)."""
        patterns = self.patterns & mask[None, :]
        empty = ~patterns[self.which].any(axis=1)
        if empty.any():
            raise InputError(f"{where}: row {int(np.flatnonzero(empty)[0])} is left with no allowed category")
        return Allowed(patterns, self.which)


@dataclass
class Guide:
    """Per row: the categories each discrete column may take and the values continuous columns must hold
    (NaN: free)."""

    rows: int
    allowed: dict[str, Allowed] = field(default_factory=dict)
    known: dict[str, np.ndarray] = field(default_factory=dict)  # column -> (rows,) float, NaN = free
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # same for every row

    def take(self, index: np.ndarray) -> Guide:
        return Guide(
            rows=len(index),
            allowed={k: v.take(index) for k, v in self.allowed.items()},
            known={k: v[index] for k, v in self.known.items()},
            ranges=dict(self.ranges),
        )


class SamplePlan:
    """Everything a `sample` call asks for, ready to guide any chunk of rows and check what was drawn.

    ``row_check`` (the constraints' per-row validity) and ``unique`` (column lists whose combination
    may not repeat within the sample) are checked on drawn rows; ``decode`` (the constraints'
    reparametrisation) turns what the generator drew into the table's own columns first.
    """

    def __init__(
        self,
        columns: Columns,
        conditions: Mapping[str, Any] | None = None,
        rebalance: Mapping[str, Mapping[Any, float]] | None = None,
        seed_rows: pd.DataFrame | None = None,
        seed: int = 0,
        row_check: Callable[[pd.DataFrame], np.ndarray] | None = None,
        unique: list[list[str]] | None = None,
        decode: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    ) -> None:
        self.columns = columns
        self.conditions = parse_conditions(conditions, columns)
        self.rebalance = parse_rebalance(rebalance, columns)
        clash = {c.column for c in self.conditions} & set(self.rebalance)
        if clash:
            raise InputError(f"column(s) {', '.join(sorted(clash))} both conditioned and rebalanced; choose one")
        self.seed_rows = _check_seed_rows(seed_rows, columns) if seed_rows is not None else None
        self.phase = (seed * GOLDEN) % 1.0
        self.row_check = row_check
        self.unique = [list(u) for u in (unique or [])]
        self.decode = decode
        self._seen: list[set] = [set() for _ in self.unique]

    @property
    def active(self) -> bool:
        """Whether anything is asked beyond plain sampling (plain sampling keeps its exact old rows)."""
        return bool(
            self.conditions or self.rebalance or self.seed_rows is not None or self.row_check or self.unique
        ) or (self.decode is not None)

    def describe(self) -> str:
        parts = [c.text for c in self.conditions]
        parts += [f"rebalance {name}" for name in self.rebalance]
        if self.seed_rows is not None:
            parts.append(f"{len(self.seed_rows):,} seed rows")
        if self.row_check is not None:
            parts.append("the constraints")
        parts += [f"unique ({', '.join(u)})" for u in self.unique]
        return "; ".join(parts) or "no conditions"

    # -- per chunk ------------------------------------------------------------------------------------
    def guide(self, start: int, rows: int) -> Guide:
        """The guide of rows ``start .. start + rows`` of the sample (rebalancing and seed rows depend on
        the row's position in the whole sample, so chunks add up to the same rows as one call)."""
        guide = Guide(rows)
        positions = (self.phase + (start + np.arange(rows)) * GOLDEN) % 1.0
        for c in self.conditions:
            if self.columns.discrete(c.column):
                mask = np.zeros(len(self.columns.categories(c.column)), dtype=bool)
                mask[[self.columns.category_index(c.column, v, "condition") for v in c.values]] = True
                guide.allowed[c.column] = Allowed(mask[None, :], np.zeros(rows, dtype=np.int64))
            elif c.values is not None:
                guide.known[c.column] = np.asarray(c.values, dtype=float)[(positions * len(c.values)).astype(int)]
            else:
                guide.ranges[c.column] = (c.low, c.high)
        for name, shares in self.rebalance.items():
            guide.allowed[name] = _rebalanced(shares, positions)
        if self.seed_rows is not None:
            self._seed_guide(guide, start, rows)
        return guide

    def _seed_guide(self, guide: Guide, start: int, rows: int) -> None:
        part = self.seed_rows.iloc[start : start + rows]
        for name in part.columns:
            values = part[name]
            present = values.notna().to_numpy()
            if not present.any():
                continue
            kind = self.columns.schema[name].kind
            if not kind.is_modelled:
                continue  # written into the finished rows by `give_unmodelled`
            if kind.is_discrete:
                size = len(self.columns.categories(name))
                which = np.zeros(rows, dtype=np.int64)  # pattern 0: any category
                codes = self.columns.codes(name, values)
                bad = present & (codes < 0)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    self.columns.category_index(name, values.iloc[i], f"seed row {start + i}")  # raises, naming it
                which[present] = codes[present] + 1
                patterns = np.vstack([np.ones((1, size), dtype=bool), np.eye(size, dtype=bool)])
                seeded = Allowed(patterns, which)
                if name in guide.allowed:
                    before = guide.allowed[name].rows()
                    clash = present & ~before[np.arange(rows), np.maximum(codes, 0)]
                    if clash.any():
                        i = int(np.flatnonzero(clash)[0])
                        raise InputError(
                            f"seed row {start + i}: {name}={values.iloc[i]!r} contradicts the conditions on {name!r}"
                        )
                    which = np.where(present, codes + rows, np.arange(rows))
                    seeded = Allowed(np.vstack([before, np.eye(size, dtype=bool)]), which)
                guide.allowed[name] = seeded
            else:
                numbers = self.columns.codec(name).to_float(values.reset_index(drop=True))
                bad = present & ~np.isfinite(numbers)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    self.columns.number(name, values.iloc[i], f"seed row {start + i}")  # raises, naming it
                low, high = self.columns.learned_range(name)
                outside = present & (
                    (numbers < (-np.inf if low is None else low)) | (numbers > (np.inf if high is None else high))
                )
                if outside.any():
                    i = int(np.flatnonzero(outside)[0])
                    where = f"seed row {start + i}"
                    _within_learned(name, numbers[i], numbers[i], self.columns, where, f"{name}={values.iloc[i]!r}")
                if name in guide.known:
                    numbers = np.where(np.isnan(numbers), guide.known[name], numbers)
                guide.known[name] = numbers

    def apply(self, frame: pd.DataFrame, guide: Guide) -> pd.DataFrame:
        """Write the given continuous values into sampled rows exactly, through the column's codec (a
        generator steers towards them; their exact spelling comes from here)."""
        if not guide.known:
            return frame
        frame = frame.copy()
        for name, numbers in guide.known.items():
            fixed = ~np.isnan(numbers)
            if fixed.any():
                codec = self.columns.codec(name)
                sampled = codec.to_float(frame[name].reset_index(drop=True))
                frame[name] = codec.from_float(np.where(fixed, numbers, sampled)).to_numpy()
        return frame

    def give_unmodelled(self, frame: pd.DataFrame, start: int) -> pd.DataFrame:
        """Seed rows' values of ids and PII columns, written as given over the regenerated ones."""
        if self.seed_rows is None:
            return frame
        part = self.seed_rows.iloc[start : start + len(frame)].reset_index(drop=True)
        for name in part.columns:
            if self.columns.schema[name].kind.is_modelled or not part[name].notna().any():
                continue
            present = part[name].notna().to_numpy()
            column = frame[name].astype(object).to_numpy()
            column[present] = part[name].to_numpy(dtype=object)[present]
            frame[name] = column
        return frame

    def meets_conditions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row of any table with the schema's columns (real rows too): does it meet the conditions?"""
        ok = np.ones(len(frame), dtype=bool)
        for c in self.conditions:
            values = frame[c.column].reset_index(drop=True)
            if self.columns.discrete(c.column):
                allowed = {_key(v) for v in c.values}
                ok &= pd.Series(values.to_numpy(dtype=object)).map(_key).isin(allowed).to_numpy()
            elif c.values is not None:
                ok &= np.isin(self.columns.codec(c.column).to_float(values), np.asarray(c.values, dtype=float))
            else:
                ok &= c.holds(self.columns.codec(c.column).to_float(values))
        return ok

    def accepts(self, frame: pd.DataFrame, guide: Guide) -> np.ndarray:
        """Per sampled row: does it meet the conditions, its row's guide and the constraints?"""
        ok = np.ones(len(frame), dtype=bool)
        for name, allowed in guide.allowed.items():
            ok &= allowed.hits(self.columns.codes(name, frame[name]))
        for c in self.conditions:
            if not self.columns.discrete(c.column) and c.values is None:
                ok &= c.holds(self.columns.codec(c.column).to_float(frame[c.column].reset_index(drop=True)))
        if self.row_check is not None:
            ok &= np.asarray(self.row_check(frame), dtype=bool)
        return ok

    def claim_unique(self, frame: pd.DataFrame, candidates: np.ndarray, wanted: int) -> np.ndarray:
        """Which of the ``candidates`` (drawn positions, in order) to place: the first ``wanted`` whose
        unique keys no earlier row holds; their keys are claimed."""
        keep = np.zeros(len(candidates), dtype=bool)
        rows = frame.iloc[candidates]
        keys = [list(rows[u].astype(str).itertuples(index=False, name=None)) for u in self.unique]
        for i in range(len(candidates)):
            if keep.sum() >= wanted:
                break
            if any(keys[u][i] in seen for u, seen in enumerate(self._seen)):
                continue
            keep[i] = True
            for u, seen in enumerate(self._seen):
                seen.add(keys[u][i])
        return keep


def _rebalanced(shares: np.ndarray, positions: np.ndarray) -> Allowed:
    """Allowed categories per row for a rebalanced column: each named category for its share of the rows,
    spread evenly over the sample by a golden-ratio sequence (so any run of rows, any chunk, holds its
    share within a row or two); the other rows may take any category that was not named."""
    named = np.flatnonzero(~np.isnan(shares))
    bounds = np.cumsum(shares[named])
    patterns = np.vstack([np.eye(shares.size, dtype=bool)[named], np.isnan(shares)[None, :]])
    slot = np.searchsorted(bounds, positions, side="right")  # len(named): the rest
    return Allowed(patterns, np.minimum(slot, len(named)))


def _check_seed_rows(seed_rows: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    if not isinstance(seed_rows, pd.DataFrame):
        raise InputError(f"seed rows must be a pandas DataFrame, got {type(seed_rows).__name__}")
    if len(seed_rows) == 0:
        raise InputError("the seed rows DataFrame has no rows")
    unknown = [str(c) for c in seed_rows.columns if c not in columns.schema]
    if unknown:
        hint = _closest(unknown[0], columns.schema.names)
        raise InputError(f"seed rows: column(s) {', '.join(map(repr, unknown))} not in the model's schema{hint}")
    return seed_rows.reset_index(drop=True)


# -- drawing exactly the rows asked for ------------------------------------------------------------------
def draw(
    plan: SamplePlan, rows: int, start: int, seed: int, sample: Callable[[int, int, Guide], pd.DataFrame]
) -> pd.DataFrame:
    """Rows ``start .. start + rows`` of a guided sample. ``sample(n, seed, guide)`` draws from the
    generator; every row is checked and the failing ones are redrawn as replicas (seeds derived from
    ``seed`` and the round), until each row has one that passes. Raises `InputError` naming the
    acceptance rate when the rows asked for are too rare to draw within `DRAW_BUDGET`."""
    guide = plan.guide(start, rows)
    group = _groups(guide)
    frames: list[pd.DataFrame] = []
    source = np.full(rows, -1)  # the round whose frame holds each output row ...
    position = np.full(rows, -1)  # ... and its position there
    pending = np.arange(rows)
    drawn = accepted = 0
    budget = DRAW_BUDGET * rows + MIN_PROBE_ROWS
    for round_ in range(MAX_REDRAWS + 1):
        if round_ == 0:
            copies = 1
        else:
            rate = max(accepted / drawn, 1.0 / DRAW_BUDGET)
            copies = max(math.ceil(1.2 / rate), math.ceil(MIN_PROBE_ROWS / len(pending)))
            copies = max(1, min(copies, (budget - drawn) // len(pending)))
        index = np.repeat(pending, copies)
        part = guide.take(index)
        frame = sample(len(index), _round_seed(seed, round_), part).reset_index(drop=True)
        if plan.decode is not None:
            frame = plan.decode(frame).reset_index(drop=True)
        frame = plan.apply(frame, part)
        ok = plan.accepts(frame, part)
        drawn += len(index)
        accepted += int(ok.sum())
        chosen, slots = _assign(plan, frame, ok, index, group, source < 0)
        source[slots], position[slots] = len(frames), np.arange(len(slots))
        frames.append(frame.iloc[chosen])  # only the rows placed: replicas are dropped at once
        pending = np.flatnonzero(source < 0)
        if len(pending) == 0:
            break
        rate = accepted / drawn
        projected = drawn + len(pending) / max(rate, 1e-12)
        if drawn >= min(budget, MIN_PROBE_ROWS) and projected > budget:
            break
    if len(pending):
        rate = accepted / max(drawn, 1)
        raise InputError(
            f"cannot draw {rows:,} rows meeting {plan.describe()}: {accepted:,} of {drawn:,} drawn rows passed "
            f"(acceptance rate {rate:.3%}), {len(pending):,} rows still missing; the model rarely produces such "
            "rows. Widen the conditions or constraints, or condition on a discrete column the generator steers"
        )
    parts = [frames[r].iloc[position[source == r]].set_axis(np.flatnonzero(source == r)) for r in range(len(frames))]
    return pd.concat(parts).sort_index().reset_index(drop=True)


def _groups(guide: Guide) -> np.ndarray:
    """Rows with the same guide are interchangeable: a passing row drawn for one may fill another."""
    keys = [a.which.astype(np.float64) for a in guide.allowed.values()]
    keys += [np.nan_to_num(v, nan=np.inf) for v in guide.known.values()]
    if not keys:
        return np.zeros(guide.rows, dtype=np.int64)
    return np.unique(np.column_stack(keys), axis=0, return_inverse=True)[1].reshape(-1)


def _assign(
    plan: SamplePlan, frame: pd.DataFrame, ok: np.ndarray, index: np.ndarray, group: np.ndarray, open_: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Passing drawn rows -> open output rows of the same group, in order: (drawn positions, output rows).
    Unique keys are claimed as rows are placed, so a key taken earlier (in this chunk or an earlier one)
    leaves its row open."""
    passing = np.flatnonzero(ok)
    chosen, slots = [], []
    for g in np.unique(group[index[passing]]):
        candidates = passing[group[index[passing]] == g]
        free = np.flatnonzero(open_ & (group == g))
        if plan.unique:
            candidates = candidates[plan.claim_unique(frame, candidates, len(free))]
        m = min(len(candidates), len(free))
        chosen.append(candidates[:m])
        slots.append(free[:m])
    if not chosen:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(chosen), np.concatenate(slots)


def _round_seed(seed: int, round_: int) -> int:
    """Round 0 uses the chunk's own seed (so steering alone draws the rows plain sampling would);
    redraws get independent streams."""
    if round_ == 0:
        return seed
    state = np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, 7919, round_]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> 1)
