"""Columns that are never learned, regenerated after sampling: ids and personal data.

Learning an id or an e-mail address would teach a generator to copy it. Instead synthgen keeps only
each column's *shape*: ids become fresh unique values in the original format, and PII values become
random strings of the same pattern (letters for letters, digits for digits, punctuation kept), drawn
from masked examples that no longer hold any of the original characters.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from synthgen.schema import ColumnKind, TableSchema

_MAX_SHAPES = 64
_LOWER = np.array(list("abcdefghijklmnopqrstuvwxyz"))
_UPPER = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_DIGITS = np.array(list("0123456789"))


def _shape(text: str) -> str:
    """'Jane Doe-42' -> 'Aaaa Aaa-99': the pattern with every character class masked."""
    return re.sub(r"\d", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", text)))


def learn_unmodelled(data: pd.DataFrame, schema: TableSchema, seed: int = 0) -> dict[str, Any]:
    """JSON templates for the id and PII columns of ``data``."""
    rng = np.random.default_rng(seed)
    templates: dict[str, Any] = {}
    for column in schema.columns:
        if column.kind.is_modelled:
            continue
        values = data[column.name]
        present = values.dropna()
        null_rate = float(values.isna().mean())
        if column.kind is ColumnKind.ID and pd.api.types.is_numeric_dtype(values):
            start = int(present.min()) if len(present) else 1
            templates[column.name] = {"style": "integer", "start": start, "null_rate": null_rate}
        elif column.kind is ColumnKind.ID:
            text = present.astype(str)
            prefix = _common_prefix(text.head(1000).tolist())
            digits = int(text.str.len().max() - len(prefix)) if len(text) else 6
            templates[column.name] = {"style": "prefixed", "prefix": prefix, "digits": max(digits, 1), "null_rate": null_rate}
        else:
            text = present.astype(str)
            sample = text.sample(min(len(text), 1000), random_state=int(rng.integers(2**31))) if len(text) else text
            shapes = sorted(set(sample.map(_shape)))[:_MAX_SHAPES] or ["aaaaaaaa"]
            templates[column.name] = {"style": "pattern", "shapes": shapes, "null_rate": null_rate}
    return templates


def _common_prefix(values: list[str]) -> str:
    if not values:
        return ""
    prefix = values[0]
    for value in values[1:]:
        while not value.startswith(prefix):
            prefix = prefix[:-1]
    return re.sub(r"\d+$", "", prefix)


def fill_unmodelled(
    sampled: pd.DataFrame, schema: TableSchema, templates: dict[str, Any], seed: int = 0
) -> pd.DataFrame:
    """Add the id and PII columns back and order columns as the schema does."""
    rng = np.random.default_rng([seed, 0x5EED])
    n = len(sampled)
    out = sampled.copy()
    for column in schema.columns:
        if column.kind.is_modelled:
            continue
        template = templates[column.name]
        if template["style"] == "integer":
            values = pd.Series(np.arange(template["start"], template["start"] + n, dtype=np.int64))
        elif template["style"] == "prefixed":
            width = max(template["digits"], len(str(n)))
            values = pd.Series([f"{template['prefix']}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
        else:
            values = pd.Series(_fill_patterns(template["shapes"], n, rng), dtype=object)
        if template["null_rate"] > 0 and column.kind is ColumnKind.PII:
            values = values.astype(object).where(rng.random(n) >= template["null_rate"], None)
        out[column.name] = values.to_numpy()
    return out[[c.name for c in schema.columns]]


def _fill_patterns(shapes: list[str], n: int, rng: np.random.Generator) -> list[str]:
    chosen = rng.integers(len(shapes), size=n)
    result = []
    for index in chosen:
        chars = np.array(list(shapes[index]))
        lower, upper, digit = chars == "a", chars == "A", chars == "9"
        chars[lower] = rng.choice(_LOWER, size=int(lower.sum()))
        chars[upper] = rng.choice(_UPPER, size=int(upper.sum()))
        chars[digit] = rng.choice(_DIGITS, size=int(digit.sum()))
        result.append("".join(chars))
    return result
