"""Constraints that hold in a table, proposed by `synthgen inspect` as commented-out recipe lines.

A rule that holds in every real row may be a law of the domain (a loan never exceeds the income,
education and its numeric code name the same thing) or an accident of the sample. Only the person
who knows the data can tell, so the proposals are printed commented out, each with the evidence:

* inequalities ``low <= high`` between numeric, integer or datetime columns that hold in every row,
  and that columns unrelated to each other would break: the comment gives how many rows would break
  it if the two columns were independent (pairs whose ranges do not overlap hold trivially and are
  left out, as are pairs whose names say they measure different things, a rate against an age);
* functional dependencies (each value of one column goes with one value of the other, both ways for
  education <-> education_num) and fixed combinations (zip prefix and state: far fewer pairs occur
  than two unrelated columns would show), as ``fixed_combinations``.

The search runs on a bounded sample of rows and every proposal is verified on all of them, so the
work is bounded on any table (about a second for 40,000 rows x 16 columns).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.constraints import _learn_format, _stamps, column_numbers
from synthgen.schema import Column, ColumnKind, TableSchema

SEARCH_ROWS = 5000
MAX_COLUMNS = 60
MAX_INEQUALITIES = 5
MAX_COMBINATIONS = 8
MAX_LEVELS = 1000
MIN_EXPECTED_BREAKS = 10.0
"""An inequality is proposed only if independent columns would break it in this many rows or more: then
its holding in every row is evidence (odds of about e^-10 by chance) rather than an accident of ranges."""
MAX_COMBINATION_SHARE = 0.5
"""Fixed combinations are proposed when at most this share of the combinations independent columns
would show actually occur."""

# Words in column names that say what a column measures; a pair measuring different things is skipped.
# The first class a name matches wins: "loan_percent_income" is a ratio, "delinq_2yrs" a count.
_UNITS = (
    ("ratio", {"rate", "ratio", "pct", "percent", "percentage", "util", "utilization", "utilisation", "share", "dti"}),
    ("count", {"num", "count", "cnt", "acc", "accounts", "inq", "delinq", "delinquencies", "n", "number"}),
    (
        "money",
        {"amnt", "amt", "amount", "inc", "income", "bal", "balance", "salary", "price", "value", "limit", "payment"}
        | {"pymnt", "revenue", "debt", "loan", "principal", "cost", "fee", "wage", "wages", "savings"},
    ),
    ("time", {"age", "years", "yrs", "year", "months", "mths", "month", "days", "day", "length", "hist", "tenure"}),
)


@dataclass
class _Proposal:
    line: str
    score: float


def propose_constraints(data: pd.DataFrame, schema: TableSchema, max_items: int = 20, seed: int = 0) -> list[str]:
    """Commented-out YAML list items (``#  - {type: ...}   # evidence``) for the constraints that hold in
    ``data``: inequalities first, strongest first, then dependencies and fixed combinations."""
    if len(data) == 0 or max_items <= 0:
        return []
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(data), SEARCH_ROWS, replace=False)) if len(data) > SEARCH_ROWS else None
    inequalities = _inequalities(data, schema, rows)[:MAX_INEQUALITIES]
    combinations = _combinations(data, schema)[:MAX_COMBINATIONS]
    return [p.line for p in [*inequalities, *combinations]][:max_items]


# -- inequalities ---------------------------------------------------------------------------------------
def _inequalities(data: pd.DataFrame, schema: TableSchema, rows: np.ndarray | None) -> list[_Proposal]:
    numbers = [c.name for c in schema.columns if c.kind in (ColumnKind.NUMERIC, ColumnKind.INTEGER)]
    datetimes = [c.name for c in schema.columns if c.kind is ColumnKind.DATETIME]
    proposals: list[_Proposal] = []
    for names, is_time in ((numbers[:MAX_COLUMNS], False), (datetimes[:MAX_COLUMNS], True)):
        if len(names) < 2:
            continue
        full = np.column_stack([_as_line(data[name], schema[name], is_time) for name in names])
        usable = ~np.isnan(full).all(axis=0)
        names, full = [n for n, ok in zip(names, usable) if ok], full[:, usable]
        if len(names) < 2:
            continue
        proposals += _ordered_pairs(names, full, full if rows is None else full[rows], len(data))
    return sorted(proposals, key=lambda p: -p.score)


def _as_line(values: pd.Series, column: Column, is_time: bool) -> np.ndarray:
    """A column on the number line (datetimes as float nanoseconds), NaN for missing."""
    if not is_time:
        return column_numbers(values, column)
    nanos, missing = _stamps(values, _learn_format(values))
    return np.where(missing, np.nan, nanos.astype(np.float64))


def _ordered_pairs(names: list[str], full: np.ndarray, sample: np.ndarray, n_rows: int) -> list[_Proposal]:
    k = len(names)
    present = ~np.isnan(sample)
    with np.errstate(invalid="ignore"):
        holds = np.ones((k, k), dtype=bool)
        for i in range(k):
            ok = (sample[:, [i]] <= sample) | ~present[:, [i]] | ~present
            holds[i] = ok.all(axis=0)
    np.fill_diagonal(holds, False)
    lows = np.nanmin(full, axis=0)
    highs = np.nanmax(full, axis=0)
    trivial = highs[:, None] <= lows[None, :]  # every value of i is at most every value of j
    candidates = []
    for i, j in zip(*np.nonzero(holds & ~holds.T & ~trivial)):
        a, b = full[:, i], full[:, j]
        both = ~np.isnan(a) & ~np.isnan(b)
        if both.sum() < 2 or not np.all(a[both] <= b[both]):
            continue  # verified on every row
        if not _same_units(names[i], names[j]):
            continue
        breaks = _independent_breaks(sample[:, i], sample[:, j]) * both.sum()
        if breaks < MIN_EXPECTED_BREAKS:
            continue
        candidates.append((i, j, int(both.sum()), breaks))
    implied = holds & ~holds.T  # for the transitive reduction: a <= b and b <= c imply a <= c
    implied |= trivial
    kept = []
    for i, j, count, breaks in candidates:
        if any(implied[i, m] and implied[m, j] for m in range(k) if m not in (i, j)):
            continue
        low, high = _yaml_name(names[i]), _yaml_name(names[j])
        line = (
            f"#  - {{type: inequality, low: {low}, high: {high}}}   # holds in 100.0 % of {count:,} rows; "
            f"~{breaks:,.0f} would break it if the columns were unrelated"
        )
        kept.append(_Proposal(line, breaks))
    return kept


def _independent_breaks(low: np.ndarray, high: np.ndarray) -> float:
    """The share of pairs (a from low, b from high) with a > b: how often unrelated columns break low <= high."""
    a, b = low[~np.isnan(low)], np.sort(high[~np.isnan(high)])
    if not a.size or not b.size:
        return 0.0
    return float(np.searchsorted(b, a, side="left").sum() / (a.size * b.size))


def _unit(name: str) -> str | None:
    words = set(re.sub(r"[^0-9a-z]+", " ", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()).split())
    words |= {re.sub(r"\d+", "", word) for word in words}
    for unit, vocabulary in _UNITS:
        if words & vocabulary:
            return unit
    return None


def _same_units(a: str, b: str) -> bool:
    unit_a, unit_b = _unit(a), _unit(b)
    return unit_a is None or unit_b is None or unit_a == unit_b


# -- dependencies and fixed combinations -----------------------------------------------------------------
def _combinations(data: pd.DataFrame, schema: TableSchema) -> list[_Proposal]:
    n = len(data)
    columns = []
    for column in schema.columns:
        if not column.kind.is_modelled or column.kind is ColumnKind.DATETIME:
            continue
        codes, levels = pd.factorize(data[column.name], use_na_sentinel=False)
        if 2 <= len(levels) <= min(MAX_LEVELS, n // 2):
            columns.append((column, codes, len(levels)))
    columns = columns[:MAX_COLUMNS]
    found: list[tuple[int, float, str]] = []
    for x in range(len(columns)):
        for y in range(x + 1, len(columns)):
            (a, a_codes, a_levels), (b, b_codes, b_levels) = columns[x], columns[y]
            if not (a.kind.is_discrete or b.kind.is_discrete):
                continue
            pairs = np.bincount(a_codes * b_levels + b_codes, minlength=a_levels * b_levels)
            occurring = int(np.count_nonzero(pairs))
            expected = _expected_pairs(np.bincount(a_codes) / n, np.bincount(b_codes) / n, n)
            if occurring > MAX_COMBINATION_SHARE * expected:
                continue
            a_name, b_name = _yaml_name(a.name), _yaml_name(b.name)
            if occurring == a_levels and occurring == b_levels:
                rank, evidence = 0, f"one-to-one: {a.name} <-> {b.name}, {occurring} pairs in {n:,} rows"
            elif occurring in (a_levels, b_levels):
                source, target = (a.name, b.name) if occurring == a_levels else (b.name, a.name)
                rank, evidence = 1, f"{source} determines {target}: {occurring:,} pairs in {n:,} rows"
            else:
                rank, evidence = 2, f"{occurring:,} of {a_levels * b_levels:,} pairs of values occur in {n:,} rows"
            line = (
                f"#  - {{type: fixed_combinations, columns: [{a_name}, {b_name}]}}   # {evidence} "
                f"(~{expected:,.0f} if unrelated)"
            )
            found.append((rank, occurring / expected, line))
    found.sort(key=lambda item: (item[0], item[1]))
    return [_Proposal(line, -ratio) for _, ratio, line in found]


def _expected_pairs(p: np.ndarray, q: np.ndarray, n: int) -> float:
    """How many distinct pairs ``n`` rows of two independent columns with these level shares would show."""
    share = np.outer(p, q)
    return float(-np.expm1(n * np.log1p(-np.minimum(share, 1 - 1e-12))).sum())


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _yaml_name(name: str) -> str:
    """A column name as a YAML flow scalar: bare when safe, else a JSON string (which YAML reads)."""
    if _PLAIN.fullmatch(name) and name.lower() not in _YAML_WORDS:
        return name
    return json.dumps(name, ensure_ascii=False)
