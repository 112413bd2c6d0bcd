"""Columns that are never learned, regenerated after sampling: ids and personal data.

Learning an id or an e-mail address would teach a generator to copy it. Instead synthgen keeps only
each column's *shape*: ids become fresh unique values in the original format, and PII values become
random strings of the same pattern, drawn from masked examples that hold none of the original
characters, whatever the script.

A masked shape is a list of runs ``[token, count]``. A token is one of:

- ``L:<SCRIPT>:<case>``: a letter of that script (the first word of its Unicode name: LATIN,
  CYRILLIC, CJK, HANGUL, ...) and case (``u`` upper or title, ``l`` lower, ``m`` modifier, ``o``
  caseless); accented Latin letters are LATIN.
- ``N:<SYSTEM>``: a decimal digit of that digit system (empty for ASCII, ``ARABIC-INDIC``, ...).
- ``=<c>``: a literal separator, whitespace or ASCII punctuation (``@ . - ' ``): structure, not content.
- ``M:<SCRIPT>``: a combining mark; ``P``: other punctuation; ``*``: anything else (emoji, symbols,
  private use, controls).

Filling draws every token from a fixed built-in alphabet computed from fixed Unicode ranges, never
from the data, so no source character can come back except by the chance that a built-in alphabet
holds it; ``fill_unmodelled(exclude=...)`` removes the chance that a whole value comes back.

A PII column whose schema names a Faker provider (``pii: {faker: email}``, see `synthgen.pii`) is
filled from that provider instead: realistic, format-valid values. Its template holds the provider,
the locale, the null rate and how the source spells values (all upper case; SSNs as bare digits),
never a value; ``exclude`` applies to it too, comparing values case-folded without separators.

Ids are sequential in the source's format by default: integers from the source's first id, text
ids as prefix + zero-padded number from 1. With ``id: {style: random}`` they are unique numbers of the
same width in a seeded random order (a keyed permutation of all the numbers of that width, so chunks
never repeat one), skipping every source id held in ``exclude``.

Sampling in chunks gives the same rows as sampling at once: each PII column draws from one random
stream per block of ``_BLOCK`` rows keyed by (seed, column, block), and ids are numbered from the
chunk's ``offset``.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from synthgen import pii
from synthgen.errors import InputError, ModelFileError
from synthgen.schema import ColumnKind, TableSchema

TEMPLATE_VERSION = 2  # of pattern templates
FAKER_TEMPLATE_VERSION = 1  # of Faker templates
_STYLES = ("integer", "prefixed", "pattern", "faker")
_ORDERS = ("sequential", "random")
_MAX_ID_DIGITS = 18  # random ids permute numbers below 10**18 (int64); a wider id is zero-padded
_MAX_SHAPES = 64
_SAMPLE = 1000
_BLOCK = 4096
_REDRAWS = 8
_FALLBACK_SHAPES = 16
_MAX_LENGTH = 1024  # characters of a stored shape: a longer value is learned by its first ones
_SEPARATORS = frozenset(string.punctuation)
_CASES = {"Lu": "u", "Lt": "u", "Ll": "l", "Lm": "m", "Lo": "o"}
_DEFAULT_SHAPE: list[list[Any]] = [["L:LATIN:l", 8]]
_TOKEN = re.compile(r"^(L:[A-Z][A-Z0-9-]*:[ulmo]|N:[A-Z0-9 -]*|M:[A-Z][A-Z0-9-]*|P|\*|=.)$", re.DOTALL)

# Built-in alphabets: the letters of each well-known script come from these fixed ranges (a script
# or case not listed is looked up over the first two Unicode planes).
_LETTER_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "LATIN": ((0x41, 0x5A), (0x61, 0x7A)),
    "GREEK": ((0x391, 0x3A9), (0x3B1, 0x3C9)),
    "CYRILLIC": ((0x410, 0x44F),),
    "ARMENIAN": ((0x531, 0x556), (0x561, 0x586)),
    "HEBREW": ((0x5D0, 0x5EA),),
    "ARABIC": ((0x621, 0x64A),),
    "DEVANAGARI": ((0x904, 0x939),),
    "THAI": ((0xE01, 0xE2E),),
    "GEORGIAN": ((0x10D0, 0x10FA),),
    "HIRAGANA": ((0x3041, 0x3096),),
    "KATAKANA": ((0x30A1, 0x30FA),),
    "HANGUL": ((0xAC00, 0xD7A3),),
    "CJK": ((0x4E00, 0x9FFF),),
}
_ACCENTED_LATIN = ((0xC0, 0x17F),)
_COMBINING = ((0x300, 0x36F),)
_PUNCTUATION = ((0x2010, 0x2027),)
_EMOTICONS = ((0x1F600, 0x1F64F),)
_SCAN = ((0x0, 0x1FFFF),)


# -- masking -----------------------------------------------------------------------------------
def _script(char: str) -> str:
    """The script of a letter or mark: the first word of its Unicode name ('CJK', 'LATIN', ...)."""
    word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
    return word if re.fullmatch(r"[A-Z][A-Z0-9-]*", word) else "UNKNOWN"


def _digit_system(char: str) -> str:
    """'ARABIC-INDIC' for U+0660..U+0669, '' for ASCII: the name before ' DIGIT '."""
    name = unicodedata.name(char, "DIGIT")
    return name.rsplit(" DIGIT ", 1)[0] if " DIGIT " in name else ""


def _token(char: str) -> str:
    """The class token of one character; only separators are kept as themselves."""
    if char.isspace() or char in _SEPARATORS:
        return "=" + char
    category = unicodedata.category(char)
    if category[0] == "L":
        return f"L:{_script(char)}:{_CASES.get(category, 'o')}"
    if category == "Nd":
        return f"N:{_digit_system(char)}"
    if category[0] == "M":
        return f"M:{_script(char)}"
    if category[0] == "P":
        return "P"
    return "*"


def _mask(text: str) -> tuple[tuple[str, int], ...]:
    """'Jane Doe-42' -> runs (L:LATIN:u,1)(L:LATIN:l,3)(= ,1)...(N:,2): the shape, no character kept."""
    runs: list[list[Any]] = []
    for char in text:
        token = _token(char)
        if runs and runs[-1][0] == token:
            runs[-1][1] += 1
        else:
            runs.append([token, 1])
    return tuple((token, count) for token, count in runs)


def _accent_share(values: Iterable[str]) -> float:
    """Share of Latin letters outside a-z/A-Z: how often a filled Latin letter is accented."""
    latin = accented = 0
    for value in values:
        for char in value:
            if unicodedata.category(char)[0] == "L" and _script(char) == "LATIN":
                latin += 1
                accented += not char.isascii()
    return round(accented / latin, 4) if latin else 0.0


# -- built-in alphabets -----------------------------------------------------------------------
def _chars(ranges: tuple[tuple[int, int], ...]) -> Iterable[str]:
    for low, high in ranges:
        for point in range(low, high + 1):
            yield chr(point)


@lru_cache(maxsize=1)
def _scan_index() -> dict[str, list[str]]:
    """Every letter and mark of the first two planes by token; built once, only when needed."""
    index: dict[str, list[str]] = {}
    for char in _chars(_SCAN):
        if unicodedata.category(char)[0] in "LM":
            index.setdefault(_token(char), []).append(char)
    return index


def _array(chars: list[str]) -> np.ndarray:
    """Code points as uint32: a row of them is, byte for byte, a numpy unicode string."""
    return np.array([ord(c) for c in chars], dtype=np.uint32)


def _pick(alphabet: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    index_type = np.uint16 if alphabet.size <= np.iinfo(np.uint16).max else np.int64
    return alphabet[rng.integers(alphabet.size, size=shape, dtype=index_type)]


@cache
def _alphabet(token: str) -> np.ndarray:
    """The fixed characters a token is filled with; a function of the token alone."""
    if token.startswith("="):
        return _array([token[1:]])
    if token.startswith("N:"):
        return _digits(token[2:])
    if token == "P":
        return _array([c for c in _chars(_PUNCTUATION) if unicodedata.category(c)[0] == "P"])
    if token == "*":
        return _array([c for c in _chars(_EMOTICONS) if unicodedata.category(c) == "So"])
    if token.startswith("M:"):
        marks = _scan_index().get(token) or [c for c in _chars(_COMBINING) if unicodedata.category(c) == "Mn"]
        return _array(marks)
    script, case = token.split(":")[1:]
    ranges = _LETTER_RANGES.get(script)
    letters = [c for c in _chars(ranges) if _token(c) == token] if ranges else []
    letters = letters or _scan_index().get(token, [])
    if not letters:
        return _alphabet("L:LATIN:u" if case == "u" else "L:LATIN:l")
    return _array(letters)


def _digits(system: str) -> np.ndarray:
    """The ten digits of a digit system, from its DIGIT ZERO; ASCII digits when it has none."""
    try:
        zero = ord(unicodedata.lookup(f"{system} DIGIT ZERO".strip()))
    except KeyError:
        return _array(list(string.digits))
    digits = [chr(zero + i) for i in range(10)]
    if [unicodedata.digit(c, -1) for c in digits] != list(range(10)):
        return _array(list(string.digits))
    return _array(digits)


@cache
def _accented(case: str) -> np.ndarray:
    """Common accented Latin letters of one case (U+00C0..U+017F 'LATIN ... WITH ...')."""
    token = f"L:LATIN:{case}"
    return _array([c for c in _chars(_ACCENTED_LATIN) if _token(c) == token and " WITH " in unicodedata.name(c, "")])


# -- learning ------------------------------------------------------------------------------------
def learn_unmodelled(data: pd.DataFrame, schema: TableSchema, seed: int = 0) -> dict[str, Any]:
    """JSON templates for the id and PII columns of ``data``; PII templates hold masked shapes only."""
    rng = np.random.default_rng(seed % (1 << 64))
    templates: dict[str, Any] = {}
    for column in schema.columns:
        if column.kind.is_modelled:
            continue
        values = data[column.name]
        present = values.dropna()
        null_rate = float(values.isna().mean())
        random_ids = column.kind is ColumnKind.ID and column.id is not None and column.id.style == "random"
        if column.kind is ColumnKind.ID and pd.api.types.is_numeric_dtype(values):
            start = int(present.min()) if len(present) else 1
            templates[column.name] = {"style": "integer", "start": start, "null_rate": null_rate}
            if random_ids:
                widest = int(present.abs().max()) if len(present) else 10**5
                templates[column.name].update(order="random", digits=len(str(widest)))
        elif column.kind is ColumnKind.ID:
            text = present.astype(str)
            prefix = _common_prefix(text.head(1000).tolist())
            digits = int(text.str.len().max() - len(prefix)) if len(text) else 6
            templates[column.name] = {
                "style": "prefixed",
                "prefix": prefix,
                "digits": max(digits, 1),
                "null_rate": null_rate,
            }
            if random_ids:
                templates[column.name]["order"] = "random"
        elif column.pii is not None and column.pii.faker is not None:
            templates[column.name] = _faker_template(column.pii, present, null_rate)
        else:
            text = present.astype(str)
            sample = text.sample(min(len(text), _SAMPLE), random_state=int(rng.integers(2**31))) if len(text) else text
            templates[column.name] = _pattern_template(sample.tolist(), null_rate, rng)
    return templates


def _pattern_template(values: list[str], null_rate: float, rng: np.random.Generator | None) -> dict[str, Any]:
    """At most ``_MAX_SHAPES`` distinct masked shapes, chosen at random when there are more."""
    shapes = sorted({_mask(value[:_MAX_LENGTH]) for value in values})
    if len(shapes) > _MAX_SHAPES:
        keep = (rng or np.random.default_rng(0)).choice(len(shapes), size=_MAX_SHAPES, replace=False)
        shapes = [shapes[i] for i in sorted(keep)]
    return {
        "style": "pattern",
        "version": TEMPLATE_VERSION,
        "shapes": [[list(run) for run in shape] for shape in shapes] or [list(_DEFAULT_SHAPE)],
        "accents": _accent_share(values),
        "null_rate": null_rate,
    }


def _faker_template(spec: pii.PiiSpec, present: pd.Series, null_rate: float) -> dict[str, Any]:
    """Provider, locale, null rate and the source's spelling (`synthgen.pii.learn_style`): no value."""
    assert spec.faker is not None
    template: dict[str, Any] = {
        "style": "faker",
        "version": FAKER_TEMPLATE_VERSION,
        "provider": spec.faker,
        "locale": spec.locale,
        "null_rate": null_rate,
        **pii.learn_style(spec.faker, present.head(10 * _SAMPLE).astype(str).tolist()),
    }
    if spec.faker == "date_of_birth":
        template["reference"] = dt.date.today().isoformat()  # ages are counted from the day of fitting
    return template


def pii_exclusions(data: pd.DataFrame, schema: TableSchema) -> dict[str, set[str]]:
    """The real values of each PII column and of each id column with random ids (`pii_columns`), as
    text, for ``fill_unmodelled(exclude=...)``; held in memory, never stored."""
    return {name: set(data[name].dropna().astype(str)) for name in pii_columns(schema) if name in data}


def pii_columns(schema: TableSchema) -> list[str]:
    """The columns whose real values a generated row must not carry: PII, and ids drawn at random."""
    return [
        column.name
        for column in schema.columns
        if column.kind is ColumnKind.PII or (column.kind is ColumnKind.ID and column.id and column.id.style == "random")
    ]


def _common_prefix(values: list[str]) -> str:
    if not values:
        return ""
    prefix = values[0]
    for value in values[1:]:
        while not value.startswith(prefix):
            prefix = prefix[:-1]
    return re.sub(r"\d+$", "", prefix)


# -- loading ---------------------------------------------------------------------------------------
def upgrade_unmodelled(templates: Mapping[str, Any]) -> dict[str, Any]:
    """Templates as this version writes them, checked; call it on every template read from disk.

    Version-1 pattern templates (``"Aaaa 99"`` strings) masked only ASCII, so they may hold source
    characters of other scripts: they are re-masked here, and nothing of them is ever emitted as is.
    """
    if not isinstance(templates, Mapping):
        raise ModelFileError(f"state.json: 'unmodelled' must be an object, got {type(templates).__name__}")
    upgraded: dict[str, Any] = {}
    for name, template in templates.items():
        if not isinstance(template, Mapping) or template.get("style") not in _STYLES:
            raise ModelFileError(f"state.json: unmodelled column {name!r} has no valid 'style'")
        if template["style"] == "faker":
            upgraded[name] = _checked_faker(name, template)
        elif template["style"] != "pattern":
            upgraded[name] = _checked_id(name, template)
        elif template.get("version", 1) == 1:
            shapes = template.get("shapes")
            if not isinstance(shapes, list) or not all(isinstance(s, str) for s in shapes):
                raise ModelFileError(f"state.json: unmodelled column {name!r}: 'shapes' must be a list of strings")
            upgraded[name] = _pattern_template(shapes, _null_rate(name, template), None)
        else:
            upgraded[name] = _checked_pattern(name, template)
    return upgraded


def _null_rate(name: str, template: Mapping[str, Any]) -> float:
    rate = template.get("null_rate", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
        raise ModelFileError(f"state.json: unmodelled column {name!r}: 'null_rate' must be a number in [0, 1]")
    return float(rate)


def _checked_id(name: str, template: Mapping[str, Any]) -> dict[str, Any]:
    keys = {"integer": ("start",), "prefixed": ("prefix", "digits")}[template["style"]]
    types = {"start": int, "prefix": str, "digits": int}
    order = template.get("order", "sequential")
    if order not in _ORDERS:
        raise ModelFileError(f"state.json: unmodelled column {name!r}: 'order' must be one of {', '.join(_ORDERS)}")
    if order == "random":
        keys = (*keys, "digits")
    for key in keys:
        if isinstance(template.get(key), bool) or not isinstance(template.get(key), types[key]):
            raise ModelFileError(f"state.json: unmodelled column {name!r}: {key!r} must be {types[key].__name__}")
    if order == "random" and template["digits"] < 1:
        raise ModelFileError(f"state.json: unmodelled column {name!r}: 'digits' must be at least 1")
    return {**template, "null_rate": _null_rate(name, template)}


_PROVIDER = re.compile(r"^[a-z][a-z0-9_]*$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(_[A-Za-z]{2,4})?$")


def _checked_faker(name: str, template: Mapping[str, Any]) -> dict[str, Any]:
    """A Faker template: a provider and locale name, the spelling options, the null rate; nothing else."""
    where = f"state.json: unmodelled column {name!r}"
    if template.get("version") != FAKER_TEMPLATE_VERSION:
        raise ModelFileError(f"{where}: unknown Faker template version {template.get('version')!r}")
    for key, pattern in (("provider", _PROVIDER), ("locale", _LOCALE)):
        if not isinstance(template.get(key), str) or not pattern.match(template[key]):
            raise ModelFileError(f"{where}: {key!r} must be a Faker {key} name, got {template.get(key)!r}")
    if template.get("case") not in (None, "upper", "lower"):
        raise ModelFileError(f"{where}: 'case' must be null, 'upper' or 'lower'")
    if not isinstance(template.get("compact", False), bool):
        raise ModelFileError(f"{where}: 'compact' must be true or false")
    reference = template.get("reference")
    if reference is not None:
        try:
            dt.date.fromisoformat(reference)
        except (TypeError, ValueError):
            raise ModelFileError(f"{where}: 'reference' must be an ISO date, got {reference!r}") from None
    allowed = {"style", "version", "provider", "locale", "null_rate", "case", "compact", "reference"}
    unknown = sorted(set(template) - allowed)
    if unknown:
        raise ModelFileError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    return {**template, "null_rate": _null_rate(name, template)}


def _checked_pattern(name: str, template: Mapping[str, Any]) -> dict[str, Any]:
    """A version-2 template whose every token is a class or a one-character separator."""
    if template.get("version") != TEMPLATE_VERSION:
        raise ModelFileError(
            f"state.json: unmodelled column {name!r}: unknown template version {template.get('version')!r}"
        )
    shapes = template.get("shapes")
    if not isinstance(shapes, list) or not shapes:
        raise ModelFileError(f"state.json: unmodelled column {name!r}: 'shapes' must be a non-empty list")
    for shape in shapes:
        for run in shape if isinstance(shape, list) else [None]:
            if not (
                isinstance(run, list)
                and len(run) == 2
                and isinstance(run[0], str)
                and _valid_token(run[0])
                and isinstance(run[1], int)
                and not isinstance(run[1], bool)
                and run[1] > 0
            ):
                raise ModelFileError(f"state.json: unmodelled column {name!r}: invalid shape run {run!r}")
        if sum(run[1] for run in shape) > _MAX_LENGTH:
            raise ModelFileError(
                f"state.json: unmodelled column {name!r}: a shape longer than {_MAX_LENGTH} characters"
            )
    accents = template.get("accents", 0.0)
    if isinstance(accents, bool) or not isinstance(accents, (int, float)) or not 0.0 <= accents <= 1.0:
        raise ModelFileError(f"state.json: unmodelled column {name!r}: 'accents' must be a number in [0, 1]")
    return {**template, "accents": float(accents), "null_rate": _null_rate(name, template)}


def _valid_token(token: str) -> bool:
    if not _TOKEN.match(token):
        return False
    return not token.startswith("=") or token[1:].isspace() or token[1:] in _SEPARATORS


# -- filling ---------------------------------------------------------------------------------------
def fill_unmodelled(
    sampled: pd.DataFrame,
    schema: TableSchema,
    templates: Mapping[str, Any],
    seed: int = 0,
    *,
    exclude: Mapping[str, set[str]] | None = None,
    offset: int = 0,
) -> pd.DataFrame:
    """Add the id and PII columns back and order columns as the schema does.

    ``offset`` is the row number of ``sampled``'s first row in the whole sample: ids are numbered
    from it and the PII streams are keyed by it, so chunks concatenate to what one call would give.
    A PII value found in ``exclude[column]`` (the real values, as text) is drawn again.
    """
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
        raise InputError(f"offset must be a non-negative integer, got {offset!r}")
    templates = upgrade_unmodelled(templates)
    n, offset = len(sampled), int(offset)
    out = sampled.copy()
    for column in schema.columns:
        if column.kind.is_modelled:
            continue
        if column.name not in templates:
            raise ModelFileError(f"state.json: no template for unmodelled column {column.name!r}")
        template = templates[column.name]
        banned = (exclude or {}).get(column.name) or set()
        name_key = zlib.crc32(column.name.encode("utf-8", "surrogatepass"))
        if template.get("order") == "random":
            values = _random_ids(template, n, offset, (int(seed) % (1 << 64), 0x1D5, name_key), banned)
        elif template["style"] == "faker":
            values = _fill_faker(template, n, offset, (int(seed) % (1 << 64), 0xFA4E, name_key), banned)
        elif template["style"] == "integer":
            start = template["start"] + offset
            values: np.ndarray = np.arange(start, start + n, dtype=np.int64)
        elif template["style"] == "prefixed":
            layout = template["prefix"].replace("{", "{{").replace("}", "}}") + f"{{:0{template['digits']}d}}"
            values = np.array(list(map(layout.format, range(offset + 1, offset + n + 1))), dtype=object)
        else:
            values = _fill_column(template, n, offset, (int(seed) % (1 << 64), 0x5EED, name_key), banned)
        out[column.name] = values
    return out[[c.name for c in schema.columns]]


Shape = tuple[tuple[str, int], ...]


def _fill_column(template: dict[str, Any], n: int, offset: int, key: tuple[int, ...], banned: Any) -> np.ndarray:
    """Rows ``offset .. offset+n`` of the column: whole blocks are drawn, then sliced."""
    if n == 0:
        return np.empty(0, dtype=object)
    if not isinstance(banned, (set, frozenset)):
        banned = set(banned)
    shapes: list[Shape] = [tuple((token, count) for token, count in shape) for shape in template["shapes"]]
    first, last = offset // _BLOCK, (offset + n - 1) // _BLOCK
    blocks = [
        _fill_block(shapes, template["accents"], template["null_rate"], np.random.default_rng([*key, block]), banned)
        for block in range(first, last + 1)
    ]
    start = offset - first * _BLOCK
    return np.concatenate(blocks)[start : start + n]


def _fill_block(
    shapes: list[Shape], accents: float, null_rate: float, rng: np.random.Generator, banned: set[str]
) -> np.ndarray:
    missing = rng.random(_BLOCK) < null_rate
    values = _draw(shapes, accents, _BLOCK, rng)
    if banned:
        values = _avoid(values, missing, shapes, accents, rng, banned)
    values[missing] = None
    return values


def _draw(shapes: list[Shape], accents: float, m: int, rng: np.random.Generator) -> np.ndarray:
    chosen = rng.integers(len(shapes), size=m)
    values = np.empty(m, dtype=object)
    for index in np.unique(chosen):
        rows = np.flatnonzero(chosen == index)
        values[rows] = _render(shapes[index], rows.size, accents, rng)
    return values


def _render(shape: Shape, m: int, accents: float, rng: np.random.Generator) -> np.ndarray:
    """``m`` random strings of one shape, built column by column as one character matrix."""
    parts = []
    for token, count in shape:
        if token.startswith("="):
            parts.append(np.full((m, count), ord(token[1]), dtype=np.uint32))
            continue
        picks = _pick(_alphabet(token), (m, count), rng)
        if accents > 0 and token in ("L:LATIN:u", "L:LATIN:l"):
            swap = rng.random((m, count)) < accents
            picks = np.where(swap, _pick(_accented(token[-1]), (m, count), rng), picks)
        parts.append(picks)
    if not parts:
        return np.full(m, "", dtype=object)
    points = np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.uint32)
    return points.view(f"U{points.shape[1]}").ravel().astype(object)


def _avoid(
    values: np.ndarray,
    missing: np.ndarray,
    shapes: list[Shape],
    accents: float,
    rng: np.random.Generator,
    banned: set[str],
) -> np.ndarray:
    """Redraw values that equal a real one; a shape too small to escape is lengthened."""
    for _ in range(_REDRAWS):
        hits = np.flatnonzero(np.fromiter(map(banned.__contains__, values), dtype=bool, count=values.size) & ~missing)
        if not hits.size:
            return values
        values[hits] = _draw(shapes, accents, hits.size, rng)
    for i, value in enumerate(values):
        if missing[i] or value not in banned:
            continue
        shape = shapes[int(rng.integers(len(shapes)))]
        while value in banned:  # ends: once longer than every banned value, nothing can match
            shape = _lengthen(shape)
            value = _render(shape, 1, accents, rng)[0]
        values[i] = value
    return values


def _lengthen(shape: Shape) -> Shape:
    """One more character in the last class run (a digit when the shape is all separators)."""
    runs = list(shape)
    for position in range(len(runs) - 1, -1, -1):
        token, count = runs[position]
        if not token.startswith("="):
            runs[position] = (token, count + 1)
            return tuple(runs)
    return tuple(runs) + (("N:", 1),)


# -- Faker columns -----------------------------------------------------------------------------------
def _fill_faker(template: dict[str, Any], n: int, offset: int, key: tuple[int, ...], banned: Any) -> np.ndarray:
    """Rows ``offset .. offset+n`` of a Faker column: whole blocks are drawn, then sliced."""
    if n == 0:
        return np.empty(0, dtype=object)
    draw = pii.sampler(template["provider"], template["locale"], template)
    taken = _normalised(banned) if banned else frozenset()
    if taken:  # a provider that draws from a list draws only its values that are not real
        draw = _without(draw, taken)
    first, last = offset // _BLOCK, (offset + n - 1) // _BLOCK
    blocks = []
    for block in range(first, last + 1):
        rng = np.random.default_rng([*key, block])
        missing = rng.random(_BLOCK) < template["null_rate"]
        values = draw(_BLOCK, rng)
        if taken:
            values = _avoid_taken(values, missing, draw, rng, taken)
        values[missing] = None
        blocks.append(values)
    start = offset - first * _BLOCK
    return np.concatenate(blocks)[start : start + n]


def _avoid_taken(
    values: np.ndarray, missing: np.ndarray, draw: pii.Sampler, rng: np.random.Generator, taken: frozenset[str]
) -> np.ndarray:
    """Redraw values that equal a real one (`synthgen.pii.normalise`d). Past ``_REDRAWS`` tries, or as
    soon as most redraws are real too (the provider has few values, all real), random strings of the
    shapes of a few of those values, lengthened where still real."""

    def real(rows: np.ndarray) -> np.ndarray:
        found = np.fromiter(map(taken.__contains__, pii.normalise(values[rows]).tolist()), bool, count=rows.size)
        return rows[found]

    index = real(np.flatnonzero(~missing))
    for _ in range(_REDRAWS):
        if not index.size:
            return values
        values[index] = draw(index.size, rng)
        before, index = index.size, real(index)
        if index.size > before // 2:
            break
    if not index.size:
        return values
    shapes = sorted({_mask(value[:_MAX_LENGTH]) for value in sorted(set(values[index].tolist()))[:_FALLBACK_SHAPES]})
    chosen = rng.integers(len(shapes), size=index.size)
    for which in np.unique(chosen):
        rows = index[chosen == which]
        values[rows] = _render(shapes[which], rows.size, 0.0, rng)
    for i in real(index):
        shape, value = _mask(values[i]), values[i]
        while pii.normalise([value])[0] in taken:  # ends: each round adds a letter or digit
            shape = _grow(shape)
            value = _render(shape, 1, 0.0, rng)[0]
        values[i] = value
    return values


def _without(draw: pii.Sampler, taken: frozenset[str]) -> pii.Sampler:
    """``draw.without(taken)`` (see `synthgen.pii`), kept for the last set of real values."""
    key = (id(draw), id(taken))
    if _WITHOUT.get(key, (None,))[0] is not taken:
        restricted = getattr(draw, "without", lambda taken: None)(taken)
        _WITHOUT.clear()
        _WITHOUT[key] = (taken, restricted or draw)
    return _WITHOUT[key][1]


_WITHOUT: dict[tuple[int, int], tuple[Any, pii.Sampler]] = {}


def _grow(shape: Shape) -> Shape:
    """One more letter or digit in the last run of letters or digits (a digit when there is none)."""
    runs = list(shape)
    for position in range(len(runs) - 1, -1, -1):
        token, count = runs[position]
        if token.startswith(("L:", "N:")):
            runs[position] = (token, count + 1)
            return tuple(runs)
    return tuple(runs) + (("N:", 1),)


_NORMALISED: dict[int, tuple[Any, int, frozenset[str]]] = {}


def _normalised(banned: Any) -> frozenset[str]:
    """The real values as `synthgen.pii.normalise` writes them; kept for the set of the last calls
    (a generator passes the same set for every chunk), recomputed when the set changed size."""
    entry = _NORMALISED.get(id(banned))
    if entry is not None and entry[0] is banned and entry[1] == len(banned):
        return entry[2]
    normalised = frozenset(pii.normalise([str(v) for v in banned]).tolist())
    if len(_NORMALISED) >= 8:
        _NORMALISED.pop(next(iter(_NORMALISED)))
    _NORMALISED[id(banned)] = (banned, len(banned), normalised)
    return normalised


# -- random ids -----------------------------------------------------------------------------------------
def _random_ids(template: dict[str, Any], n: int, offset: int, key: tuple[int, ...], banned: Any) -> np.ndarray:
    """Rows ``offset .. offset+n`` of random unique ids of the source's width.

    Row ``i`` takes the ``i``-th number of a keyed permutation of every number of that width (integers
    10**(w-1) .. 10**w - 1, text ids 1 .. 10**d - 1), skipping the numbers of source ids: unique across
    chunks, as row ``i`` depends on ``i`` alone. Past the last number of that width ids grow a digit,
    as sequential ids do.
    """
    integer = template["style"] == "integer"
    digits = min(template["digits"], _MAX_ID_DIGITS)
    low = (0 if digits == 1 else 10 ** (digits - 1)) if integer else 1
    size = 10**digits - low
    permutation = _Permutation(size, key)
    taken = np.array(sorted({x - low for x in _id_numbers(template, banned) if 0 <= x - low < size}), dtype=np.int64)
    skipped = np.sort(permutation.inverse(taken)) - np.arange(taken.size, dtype=np.int64)
    rows = np.arange(offset, offset + n, dtype=np.int64)
    position = rows + np.searchsorted(skipped, rows, side="right")
    numbers = position.copy()
    inside = position < size
    numbers[inside] = permutation.forward(position[inside])
    numbers += low
    if integer:
        return numbers
    layout = template["prefix"].replace("{", "{{").replace("}", "}}") + f"{{:0{template['digits']}d}}"
    return np.array(list(map(layout.format, numbers.tolist())), dtype=object)


def _id_numbers(template: dict[str, Any], banned: Any) -> list[int]:
    """The numbers of the source ids (as text) in the template's format; others cannot collide."""
    numbers = []
    for value in banned:
        text = str(value).strip()
        if template["style"] == "integer":
            try:
                number = float(text)
            except ValueError:
                continue
            if np.isfinite(number) and number == int(number):
                numbers.append(int(number))
        elif text.startswith(template["prefix"]) and text[len(template["prefix"]) :].isdigit():
            numbers.append(int(text[len(template["prefix"]) :]))
    return numbers


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective scramble of 64-bit words."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class _Permutation:
    """A keyed bijection of 0 .. size-1: a four-round Feistel network on the smallest even number of
    bits that holds ``size``, walked again while it lands outside (format-preserving encryption)."""

    def __init__(self, size: int, key: tuple[int, ...]) -> None:
        self.size = size
        bits = max(2, (size - 1).bit_length())
        bits += bits % 2
        self.half = np.uint64(bits // 2)
        self.mask = np.uint64((1 << (bits // 2)) - 1)
        self.keys = np.random.SeedSequence(list(key)).generate_state(4, dtype=np.uint64)

    def _round(self, x: np.ndarray, keys: Iterable[np.uint64], inverse: bool) -> np.ndarray:
        left, right = x >> self.half, x & self.mask
        for k in keys:
            if inverse:
                left, right = right ^ (_mix(left ^ k) & self.mask), left
            else:
                left, right = right, left ^ (_mix(right ^ k) & self.mask)
        return (left << self.half) | right

    def _walk(self, x: np.ndarray, inverse: bool) -> np.ndarray:
        keys = self.keys[::-1] if inverse else self.keys
        y = self._round(np.asarray(x, dtype=np.uint64), keys, inverse)
        outside = np.flatnonzero(y >= self.size)
        while outside.size:
            y[outside] = self._round(y[outside], keys, inverse)
            outside = outside[y[outside] >= self.size]
        return y.astype(np.int64)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._walk(x, inverse=False)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return self._walk(y, inverse=True)
