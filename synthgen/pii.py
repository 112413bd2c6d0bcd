"""Personal data regenerated with Faker: realistic names, e-mails, SSNs, phones and addresses.

A PII column is never learned (`synthgen.unmodelled`). When its schema says which Faker provider it
holds (``pii: {faker: name, locale: en_US}`` in a recipe, or inferred from an obvious column name such
as ``email`` or ``first_name``), its values are drawn from that provider instead of from random
strings of the column's masked shape.

Faker itself is slow (2,000 to 4,000 names a second: it rebuilds a weighted choice over its name lists
on every call), so the built-in providers (`PROVIDERS`) are compiled into numpy samplers: Faker's
own locale data (its weighted name lists, its ``{{first_name}} {{last_name}}`` formats, its free
e-mail domains, its ``###`` placeholders) is read once and drawn from in bulk, a million values a
second. Rules Faker leaves loose are made strict: SSNs keep the area (001-899, never 666), group
(01-99) and serial (0001-9999) rules; e-mail domains are the locale's free e-mail domains (gmail.com,
yahoo.com, hotmail.com for en_US), never a made-up one; US phone numbers are valid NANP numbers (area
code and exchange 2-9, never N11); IBANs carry valid check digits. Any other Faker provider that takes
no argument (``job``, ``credit_card_number``, ``passport_number``...) works too: drawn in bulk when it
is Faker's generic choice from a list or from formats (``job``, ``country``), else called as Faker calls
it, at Faker's speed.

Faker is imported only when such a column is filled, or when a recipe names a provider or locale that
only Faker can check: importing synthgen and ``synthgen --help`` do not load it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synthgen.errors import InputError

DEFAULT_LOCALE = "en_US"

PROVIDERS: dict[str, str] = {
    "name": "a person's full name by the locale's weighted formats ('Norma Fisher', sometimes 'Dr. ...' or '... MD')",
    "first_name": "a first name, weighted as in the locale's name lists",
    "last_name": "a last name, weighted as in the locale's name lists",
    "email": "user name @ one of the locale's free e-mail domains (en_US: gmail.com, yahoo.com, hotmail.com)",
    "user_name": "a login name built from first and last names ('jsmith', 'mary.jones', 'brian48')",
    "ssn": "en_US: a valid US SSN 'AAA-GG-SSSS' (area 001-899 but not 666, group 01-99, serial 0001-9999); "
    "other locales: Faker's national identifier",
    "phone_number": "en_US: a valid NANP number (area code and exchange 2-9, never N11) in the usual "
    "spellings; other locales: the locale's formats",
    "address": "a postal address on one line ('8204 Bradford Square Suite 935, Lake Tara, NC 16961')",
    "street_address": "a building number and street, sometimes an apartment or suite",
    "city": "a city name of the locale's formats",
    "zipcode": "en_US: a 5-digit ZIP code 00501-99950; other locales: the locale's postcode formats",
    "company": "a company name ('Walker, Evans and Kramer', 'Scott Ltd')",
    "iban": "an IBAN of the locale's bank format with valid check digits (en_US uses Faker's GB format)",
    "date_of_birth": "an ISO date of birth of an adult, aged 18 to 80 on the day the model was fitted",
}
ALIASES: dict[str, str] = {
    "phone": "phone_number",
    "telephone": "phone_number",
    "postcode": "zipcode",
    "zip": "zipcode",
    "postal_code": "zipcode",
    "free_email": "email",
    "username": "user_name",
    "full_name": "name",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
}
# Providers whose values are lists of letters, where the source's case (all upper, all lower) is kept;
# SSNs and phone numbers instead keep whether the source writes them as bare digits.
CASED = frozenset({"name", "first_name", "last_name", "address", "street_address", "city", "company", "email"})
COMPACTABLE = frozenset({"ssn", "phone_number"})

Sampler = Callable[[int, np.random.Generator], np.ndarray]
_POOL = 2048  # Faker calls drawn once for a token of a format that has no list to draw from
_DEPTH = 6  # formats that refer to formats, at most this deep
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(_[A-Za-z]{2,4})?$")
_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# -- the recipe's spelling ---------------------------------------------------------------------------
class PiiSpec(BaseModel):
    """How a PII column is regenerated: ``pii: {faker: email, locale: en_US}`` in a recipe.

    ``faker`` is a built-in provider (see `PROVIDERS`; ``phone`` and a few other aliases are read as
    the provider they name) or any Faker provider method that takes no argument. Without it the column
    keeps the masked-shape filler of `synthgen.unmodelled` unless its name and values make the provider
    obvious (`infer_provider`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    faker: str | None = Field(
        default=None,
        description="Faker provider: " + ", ".join(PROVIDERS) + ", or any other Faker method without arguments "
        "(e.g. job). Default: inferred from the column's name and values; none: random strings of the source's shape.",
    )
    locale: str = Field(default=DEFAULT_LOCALE, description="Faker locale, e.g. en_US (default), en_GB, de_DE, fr_FR.")

    @field_validator("faker")
    @classmethod
    def _canonical(cls, value: str | None) -> str | None:
        return None if value is None else ALIASES.get(value, value)

    @model_validator(mode="after")
    def _known(self) -> PiiSpec:
        problem = locale_problem(self.locale)
        if problem is None and self.faker is not None:
            problem = provider_problem(self.faker, self.locale)
        if problem is not None:
            raise ValueError(problem)
        return self


def locale_problem(locale: str) -> str | None:
    """Why ``locale`` is not a Faker locale (None when it is); en_US is checked without importing Faker."""
    if locale == DEFAULT_LOCALE:
        return None
    if not _LOCALE.match(locale):
        return f"locale {locale!r} is not a locale name such as en_US or de_DE"
    try:
        from faker.config import AVAILABLE_LOCALES
    except ImportError:
        return None  # checked when the column is filled, with the message of `_faker`
    if locale in AVAILABLE_LOCALES:
        return None
    close = difflib.get_close_matches(locale, AVAILABLE_LOCALES, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return f"unknown Faker locale {locale!r}{hint}; Faker has {len(AVAILABLE_LOCALES)}, e.g. en_US, en_GB, de_DE"


def provider_problem(name: str, locale: str = DEFAULT_LOCALE) -> str | None:
    """Why ``name`` cannot fill a column (None when it can): a built-in provider, or a Faker provider
    method of ``locale`` that exists and takes no required argument (checked with Faker)."""
    if name in PROVIDERS and locale == DEFAULT_LOCALE:
        return None
    known = [*PROVIDERS, *ALIASES]
    if not _PROVIDER_NAME.match(name):
        return _unknown(name, known)
    try:
        fake = _faker(locale)
    except InputError:
        return None if name in PROVIDERS else f"Faker provider {name!r} is not built in and faker is not installed"
    if name in PROVIDERS:
        missing = [m for m in _BACKING.get(name, (name,)) if not callable(getattr(fake, m, None))]
        return f"Faker's locale {locale} has no {missing[0]!r} for provider {name!r}" if missing else None
    try:
        method = getattr(fake, name, None)
    except TypeError:
        method = None
    if not _is_provider_method(method):
        return _unknown(name, known + _provider_methods(fake))
    import inspect

    try:
        required = [
            p.name
            for p in inspect.signature(method).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    except (TypeError, ValueError):
        required = []
    if required:
        return f"Faker provider {name!r} needs argument(s) {', '.join(required)}; use one that takes none"
    return None


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, list(dict.fromkeys(known)), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return (
        f"unknown Faker provider {name!r}{hint}; built in: {', '.join(PROVIDERS)}; any other Faker provider "
        "method that takes no argument also works (e.g. job, credit_card_number)"
    )


# Faker methods a built-in provider needs in a locale other than en_US.
_BACKING: dict[str, tuple[str, ...]] = {
    "email": ("user_name", "free_email_domain"),
    "zipcode": ("postcode",),
    "date_of_birth": ("date_of_birth",),
}


def _is_provider_method(method: Any) -> bool:
    from faker.providers import BaseProvider

    return callable(method) and isinstance(getattr(method, "__self__", None), BaseProvider)


def _provider_methods(fake: Any) -> list[str]:
    names = []
    for name in dir(fake):
        try:
            if not name.startswith("_") and _is_provider_method(getattr(fake, name, None)):
                names.append(name)
        except TypeError:  # Faker's proxy refuses some names ('seed')
            continue
    return names


# -- inference from a column's name and values ------------------------------------------------------
_NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), provider)
    for pattern, provider in (
        (r"(^|_)(e_?mail|mail)(_|$)", "email"),
        (r"(^|_)(ssn|social_security(_number|_no)?)(_|$)", "ssn"),
        (r"(^|_)(first_?name|given_?name|fore_?name|middle_?name)(_|$)", "first_name"),
        (r"(^|_)(last_?name|surname|family_?name|maiden_?name)(_|$)", "last_name"),
        (r"(^|_)(user_?name|login)$", "user_name"),
        (r"(^|_)(phone|mobile|telephone|tel|cell|cellphone|fax)(_|$)", "phone_number"),
        (r"(^|_)(street|street_address|address_?line_?1|address_?1)(_|$)", "street_address"),
        (r"(^|_)(address|addr)(_|$)", "address"),
        (r"(^|_)iban(_|$)", "iban"),
        (r"(^|_)(date_of_birth|birth_?date|dob)(_|$)", "date_of_birth"),
        (r"(^|_)full_?name(_|$)", "name"),
    )
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SSN = re.compile(r"^\d{3}-?\d{2}-?\d{4}$")
_PHONE = re.compile(r"^[+()\d\s./-]+$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_AGREE = 0.9  # share of the sampled values that must look like the provider's
_EVIDENCE = 3  # values needed before the source's case or bare digits are kept


def infer_provider(words: str, values: pd.Series, person: bool = False) -> str | None:
    """The provider a PII column obviously holds, or None: its name (``words``, lowercase, words
    joined by ``_``) names one, or ``person`` says it names a person, and its values look like it.

    A column whose values do not fit (Cyrillic names for an en_US ``name``, numbers stored as numbers,
    hashed e-mails) keeps the masked-shape filler, which keeps the source's script and shape.
    """
    provider = next((p for rule, p in _NAME_RULES if rule.search(words)), "name" if person else None)
    present = values.dropna()
    if present.empty:
        return None
    if provider == "date_of_birth" and pd.api.types.is_datetime64_any_dtype(present):
        return provider
    if pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
        return None
    sample = [str(v).strip() for v in present.head(200)]
    if provider is None:
        return "email" if _share(sample, _EMAIL.match) >= _AGREE else None
    return provider if _share(sample, _FITS[provider]) >= _AGREE else None


def _share(values: list[str], test: Callable[[str], Any]) -> float:
    return sum(bool(test(v)) for v in values) / len(values) if values else 0.0


def _latin_words(value: str, digits: bool = False) -> bool:
    letters = [c for c in value if c.isalpha()]
    if not letters or (not digits and any(c.isdigit() for c in value)):
        return False
    return all(unicodedata.name(c, "").startswith("LATIN") for c in letters)


def _phone_like(value: str) -> bool:
    """Digits and the usual separators, 7 to 15 digits before an extension ('x123', 'ext. 12')."""
    number = re.split(r"\s*(?:x|ext\.?)\s*(?=\d+$)", value.lower())[0]
    return bool(_PHONE.match(number)) and 7 <= sum(c.isdigit() for c in number) <= 15


def _date_like(value: str) -> bool:
    return not pd.isna(pd.to_datetime(value, errors="coerce", format="mixed"))


_FITS: dict[str, Callable[[str], Any]] = {
    "email": _EMAIL.match,
    "ssn": _SSN.match,
    "first_name": _latin_words,
    "last_name": _latin_words,
    "name": _latin_words,
    "user_name": lambda v: _latin_words(v, digits=True) and " " not in v,
    "phone_number": _phone_like,
    "street_address": lambda v: _latin_words(v, digits=True),
    "address": lambda v: _latin_words(v, digits=True),
    "iban": lambda v: _IBAN.match(v.replace(" ", "").upper()),
    "date_of_birth": _date_like,
}


def learn_style(provider: str, values: Iterable[str]) -> dict[str, Any]:
    """What of the source's spelling a filled column keeps: its case when nearly every value is upper
    (or lower) case, and, for SSNs and phones, whether values are bare digits. Never a value."""
    texts = [v for v in values if any(c.isalpha() for c in v)]
    case = None
    if provider in CASED and len(texts) >= _EVIDENCE:
        if _share(texts, lambda v: v == v.upper()) >= _AGREE:
            case = "upper"
        elif provider != "email" and _share(texts, lambda v: v == v.lower()) >= _AGREE:
            case = "lower"
    digits = [v for v in values if v]
    compact = provider in COMPACTABLE and len(digits) >= _EVIDENCE and _share(digits, str.isdigit) >= _AGREE
    return {"case": case, "compact": compact}


_NOT_DIGIT = re.compile(r"\D+")
_ASCII_ALNUM = np.array([chr(i).isalnum() for i in range(128)])


def normalise(values: Iterable[str]) -> np.ndarray:
    """The form values are compared in for exclusion, in bulk: lower case, without ASCII punctuation
    or spaces, so 'J.Smith@Gmail.com' equals 'jsmith@gmail.com' and '123456789' equals '123-45-6789'."""
    text = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=str)
    if text.size == 0 or text.itemsize == 0:
        return text
    points = text.view(np.uint32).reshape(text.size, -1)
    if (points >= 128).any():
        points = np.char.lower(text).view(np.uint32).reshape(text.size, -1)
    else:  # ASCII: lower case in place of numpy's slower per-string lower()
        points = points + 32 * ((points >= 65) & (points <= 90)).astype(np.uint32)
    drop = (points < 128) & ~_ASCII_ALNUM[np.minimum(points, 127)]
    order = np.argsort(drop, axis=1, kind="stable")  # kept characters first, in their order
    packed = np.take_along_axis(points, order, axis=1)
    packed[np.take_along_axis(drop, order, axis=1)] = 0
    return np.ascontiguousarray(packed).view(f"U{points.shape[1]}").ravel()


# -- Faker ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _faker(locale: str) -> Any:
    """One Faker per locale, shared; every use seeds it first, so sharing it changes no value."""
    try:
        from faker import Faker
    except ImportError:
        raise InputError(
            "PII columns with a Faker provider need the faker package (a dependency of synthgen): pip install faker"
        ) from None
    try:
        return Faker(locale)
    except AttributeError:
        raise InputError(f"unknown Faker locale {locale!r}") from None


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


class _Choice:
    """A (weighted) choice from a fixed list of strings."""

    def __init__(self, values: list[str], weights: list[float] | np.ndarray | None = None) -> None:
        self.values = np.array(values, dtype=str)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.cumulative = None if self.weights is None else np.cumsum(self.weights)
        self.vocabulary: tuple[str, ...] = tuple(dict.fromkeys(values))

    def subset(self, keep: np.ndarray) -> _Choice:
        return _Choice(self.values[keep].tolist(), None if self.weights is None else self.weights[keep])

    def index(self, m: int, rng: np.random.Generator) -> np.ndarray:
        if self.cumulative is None:
            return rng.integers(self.values.size, size=m)
        index = np.searchsorted(self.cumulative, rng.random(m) * self.cumulative[-1], side="right")
        return np.minimum(index, self.values.size - 1)

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        return self.values[self.index(m, rng)]


class _Formats:
    """A choice of Faker formats ('{{first_name}} {{last_name}}', 'Apt. ###'), each filled in bulk."""

    def __init__(self, formats: list[list[str | Sampler]], weights: list[float] | None) -> None:
        self.formats = formats
        self.choice = _Choice([str(i) for i in range(len(formats))], weights)
        self.vocabulary = None

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        if len(self.formats) == 1:
            return _concat([_piece(piece, m, rng) for piece in self.formats[0]], m)
        which = self.choice.index(m, rng)
        groups = []
        for index in np.unique(which):
            rows = np.flatnonzero(which == index)
            groups.append((rows, _concat([_piece(piece, rows.size, rng) for piece in self.formats[index]], rows.size)))
        out = np.empty(m, dtype=max((values.dtype for _, values in groups), key=lambda d: d.itemsize))
        for rows, values in groups:
            out[rows] = values
        return out


def _piece(piece: str | Sampler, m: int, rng: np.random.Generator) -> np.ndarray | str:
    return _placeholders(piece, m, rng) if isinstance(piece, str) else piece(m, rng)


def _concat(parts: list[np.ndarray | str], m: int) -> np.ndarray:
    """The parts joined row by row, as a numpy unicode array (five times faster than Python strings)."""
    out = np.full(m, "", dtype="U1")
    for part in parts:
        out = np.char.add(out, part)
    return out


_DIGIT_RANGES = {"#": (48, 10), "%": (49, 9), "$": (50, 8), "?": (65, 26), "!": (48, 10), "@": (49, 9)}


def _placeholders(text: str, m: int, rng: np.random.Generator) -> np.ndarray | str:
    """Faker's numerify and lexify in bulk: '#' a digit, '%' 1-9, '$' 2-9, '?' a letter, '!' and '@' a
    digit (0-9, 1-9) or nothing; any other character is kept."""
    if not any(c in _DIGIT_RANGES for c in text):
        return text
    columns = []
    for char in text:
        if char not in _DIGIT_RANGES:
            columns.append(np.full(m, ord(char), dtype=np.uint32))
            continue
        low, size = _DIGIT_RANGES[char]
        codes = (low + rng.integers(size, size=m)).astype(np.uint32)
        if char in "!@":
            codes[rng.random(m) < 0.5] = 0
        columns.append(codes)
    points = np.ascontiguousarray(np.stack(columns, axis=1))
    values = points.view(f"U{points.shape[1]}").ravel()
    if "!" in text or "@" in text:
        values = np.array([v.replace("\0", "") for v in values.tolist()], dtype=str)
    return values


def _elements(data: Any) -> tuple[list[str], list[float] | None] | None:
    """Faker's element lists: a tuple or list (uniform) or a mapping value -> weight, of strings."""
    if isinstance(data, Mapping) and data and all(isinstance(k, str) for k in data):
        weights = list(data.values())
        if all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in weights) and sum(weights):
            return list(data.keys()), [float(w) for w in weights]
        return None
    if isinstance(data, (tuple, list)) and data and all(isinstance(v, str) for v in data):
        return list(data), None
    return None


def _plurals(token: str) -> list[str]:
    """'first_name_female' -> 'first_names_female', 'city_suffix' -> 'city_suffixes', 'city' -> 'cities'."""
    words = token.split("_")
    out = []
    for i, word in enumerate(words):
        forms = [word + "es", word + "s"] if word.endswith(("x", "s", "sh", "ch")) else [word + "s"]
        if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
            forms = [word[:-1] + "ies"]
        out += ["_".join([*words[:i], form, *words[i + 1 :]]) for form in forms]
    return out


_TOKEN = re.compile(r"\{\{\s*(\w+)(:\s*\w+?)?\s*\}\}")
_OWN_FORMATS = {"name": "formats", "company": "formats", "phone_number": "formats"}


def _compile_formats(fake: Any, locale: str, formats: Any, depth: int) -> Sampler:
    elements = _elements(formats)
    assert elements is not None
    patterns, weights = elements
    compiled: list[list[str | Sampler]] = []
    for pattern in patterns:
        pieces: list[str | Sampler] = []
        position = 0
        for match in _TOKEN.finditer(pattern):
            if match.start() > position:
                pieces.append(pattern[position : match.start()])
            if match.group(2):  # a token with an argument: Faker parses it
                pieces.append(_Pool(fake, match.group(0), parse=True))
            else:
                pieces.append(_token(fake, locale, match.group(1), depth + 1))
            position = match.end()
        if position < len(pattern):
            pieces.append(pattern[position:])
        compiled.append(pieces)
    return _Formats(compiled, weights)


class _Pool:
    """A token no list describes: ``_POOL`` values Faker draws once (seeded), then drawn from in bulk."""

    def __init__(self, fake: Any, token: str, parse: bool = False) -> None:
        self.fake, self.token, self.parse = fake, token, parse
        self.choice: _Choice | None = None

    @property
    def vocabulary(self) -> tuple[str, ...]:
        return self._choice().vocabulary

    def _choice(self) -> _Choice:
        if self.choice is None:
            self.fake.seed_instance(0)
            draw = (lambda: self.fake.parse(self.token)) if self.parse else getattr(self.fake, self.token)
            self.choice = _Choice([_text(draw()) for _ in range(_POOL)])
        return self.choice

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        return self._choice()(m, rng)


def _token(fake: Any, locale: str, token: str, depth: int) -> Sampler:
    """A sampler of one Faker token: its formats, else its element list, else a pool of Faker's values."""
    special = _special(fake, locale, token)
    if special is not None:
        return special
    owner = getattr(getattr(fake, token, None), "__self__", None)
    if owner is not None and depth <= _DEPTH and _standard(owner, token):
        for attribute in (f"{token}_formats", _OWN_FORMATS.get(token)):
            formats = getattr(owner, attribute, None) if attribute else None
            if _elements(formats) is not None:
                return _compile_formats(fake, locale, formats, depth)
        for attribute in _plurals(token):
            elements = _elements(getattr(owner, attribute, None))
            if elements is not None:
                return _Choice(*elements)
    return _Pool(fake, token)


def _standard(owner: Any, token: str) -> bool:
    """Whether Faker's method ``token`` is its generic one (in ``faker.providers.<kind>``), which draws
    from ``<token>_formats`` or the plural list; a locale's own method may do otherwise (en_GB
    postcodes), so its values are pooled from Faker instead."""
    for klass in type(owner).__mro__:
        if token in vars(klass):
            return klass.__module__.count(".") <= 2
    return False


def _special(fake: Any, locale: str, token: str) -> Sampler | None:
    """Tokens Faker computes rather than looks up, done here in bulk."""
    if locale == "en_US" and token in ("zipcode", "postcode"):
        return _zip_us
    if locale == "en_US" and token == "ssn":
        return _ssn_us
    if locale == "en_US" and token == "phone_number":
        return _phone_nanp
    return None


# -- the built-in providers, in bulk --------------------------------------------------------------------
def _ssn_us(m: int, rng: np.random.Generator) -> np.ndarray:
    """Valid US SSNs: area 001-899 except 666, group 01-99, serial 0001-9999."""
    area = rng.integers(1, 899, size=m)  # 1..898, then 666 -> 899: 898 areas, each as likely
    area[area == 666] = 899
    group = rng.integers(1, 100, size=m)
    serial = rng.integers(1, 10_000, size=m)
    return _digits_text([(area, 3), "-", (group, 2), "-", (serial, 4)], m)


def _zip_us(m: int, rng: np.random.Generator) -> np.ndarray:
    return _digits_text([(rng.integers(501, 99_951, size=m), 5)], m)


_NANP_SPELLINGS = ("({a}) {e}-{s}", "{a}-{e}-{s}", "{a}.{e}.{s}", "+1-{a}-{e}-{s}", "{a}{e}{s}")


def _phone_nanp(m: int, rng: np.random.Generator, bare: bool = False) -> np.ndarray:
    """US numbers valid under the NANP: area code and exchange NXX (N 2-9), neither N11; written in
    the usual spellings, or as ten bare digits when the source writes them so."""
    parts = []
    for _ in range(2):
        first = rng.integers(2, 10, size=m)
        rest = rng.integers(0, 100, size=m)
        rest = np.where(rest == 11, 12 + rng.integers(0, 88, size=m), rest)  # never N11 (211..911)
        parts.append(first * 100 + rest)
    subscriber = rng.integers(0, 10_000, size=m)
    spelling = np.full(m, len(_NANP_SPELLINGS) - 1) if bare else rng.integers(len(_NANP_SPELLINGS) - 1, size=m)
    out = np.empty(m, dtype="U15")
    for index in np.unique(spelling):
        rows = np.flatnonzero(spelling == index)
        numbers = {"a": (parts[0][rows], 3), "e": (parts[1][rows], 3), "s": (subscriber[rows], 4)}
        layout = re.split(r"\{(\w)\}", _NANP_SPELLINGS[index])  # literal, field, literal, field, ...
        out[rows] = _digits_text([numbers[p] if i % 2 else p for i, p in enumerate(layout) if p], rows.size)
    return out


def _digits_text(parts: list[Any], m: int) -> np.ndarray:
    """Zero-padded numbers and literals joined, as one character matrix: [(array, width), '-', ...]."""
    columns = []
    for part in parts:
        if isinstance(part, str):
            columns += [np.full(m, ord(c), dtype=np.uint32) for c in part]
            continue
        numbers, width = part
        numbers = np.asarray(numbers, dtype=np.int64)
        for power in range(width - 1, -1, -1):
            columns.append((48 + (numbers // 10**power) % 10).astype(np.uint32))
    points = np.ascontiguousarray(np.stack(columns, axis=1))
    return points.view(f"U{points.shape[1]}").ravel()


class _Iban:
    """IBANs of a locale's bank format: country code, ISO 7064 mod-97 check digits, BBAN."""

    def __init__(self, fake: Any) -> None:
        bank = fake.iban.__self__
        self.country = str(bank.country_code)
        self.bban = str(bank.bban_format)

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        chars = list(self.bban)
        codes = np.empty((m, len(chars)), dtype=np.int64)
        for i, char in enumerate(chars):
            if char == "#":
                codes[:, i] = 48 + rng.integers(10, size=m)
            elif char == "?":
                codes[:, i] = 65 + rng.integers(26, size=m)
            else:
                codes[:, i] = ord(char.upper())
        remainder = np.zeros(m, dtype=np.int64)
        tail = np.array([ord(c) for c in self.country + "00"], dtype=np.int64)
        for column in [*codes.T, *(np.full(m, c) for c in tail)]:
            letter = column >= 65
            value = np.where(letter, column - 55, column - 48)
            remainder = np.where(letter, remainder * 100 + value, remainder * 10 + value) % 97
        check = 98 - remainder
        head = _digits_text([self.country, (check, 2)], m)
        body = np.ascontiguousarray(codes.astype(np.uint32)).view(f"U{len(chars)}").ravel()
        return np.char.add(head, body)


class _DateOfBirth:
    """ISO dates of birth of adults aged 18 to 80 on ``reference`` (the day the model was fitted)."""

    def __init__(self, reference: str) -> None:
        day = dt.date.fromisoformat(reference)
        self.latest = np.datetime64(_years_before(day, 18), "D")
        self.earliest = np.datetime64(_years_before(day, 81), "D") + 1

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        span = int((self.latest - self.earliest).astype(np.int64)) + 1
        days = self.earliest + rng.integers(span, size=m).astype("timedelta64[D]")
        return days.astype(str)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class _Email:
    """user_name @ free e-mail domain of the locale."""

    def __init__(self, fake: Any, locale: str) -> None:
        self.user = _UserName(fake, locale)
        domains = _elements(getattr(fake.free_email_domain.__self__, "free_email_domains", None))
        if domains is None or not all(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", d) for d in domains[0]):
            domains = (["gmail.com", "yahoo.com", "hotmail.com"], None)
        self.domain = _Choice(*domains)
        self.vocabulary = None

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        return np.char.add(np.char.add(self.user(m, rng), "@"), self.domain(m, rng))


_PLAIN = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


class _UserName:
    """Faker's user name formats ('{{last_name}}.{{first_name}}', '{{first_name}}##', '?{{last_name}}'),
    lower case, in ASCII (Faker's own transliteration), without characters an e-mail address refuses."""

    def __init__(self, fake: Any, locale: str) -> None:
        owner = fake.user_name.__self__
        self.formats = _compile_formats(fake, locale, owner.user_name_formats, 1)
        self.ascii = getattr(owner, "_to_ascii", None)
        self.vocabulary = None

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        distinct, inverse = np.unique(self.formats(m, rng), return_inverse=True)
        out = np.array([self._clean(v) for v in distinct.tolist()], dtype=str)[inverse.ravel()]
        empty = np.flatnonzero(out == "")
        if empty.size:
            out = out.astype(f"U{max(out.itemsize // 4, 8)}")
            out[empty] = np.char.add("user", _digits_text([(rng.integers(0, 10_000, size=empty.size), 4)], empty.size))
        return out

    def _clean(self, value: str) -> str:
        text = value.lower()
        if _PLAIN.match(text):
            return text
        if not text.isascii():
            if self.ascii is not None:
                text = self.ascii(text)
            text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        text = re.sub(r"[^a-z0-9._-]+", "", text)
        return re.sub(r"\.{2,}", ".", text).strip(".")


class _Calls:
    """Any other Faker provider, called as Faker calls it, from one Faker seeded by the block's stream."""

    def __init__(self, fake: Any, provider: str) -> None:
        self.fake, self.provider = fake, provider
        self.vocabulary = None

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        self.fake.seed_instance(int(rng.integers(2**63)))
        method = getattr(self.fake, self.provider)
        return np.array([_text(method()) for _ in range(m)], dtype=str)


class _Styled:
    """A sampler with the source's case, or bare digits; a value of several lines (Faker's addresses) on
    one line, its lines joined by ', ', so that it stays one CSV field of one line."""

    def __init__(self, inner: Sampler, case: str | None, compact: bool) -> None:
        self.inner, self.case, self.compact = inner, case, compact
        words = getattr(inner, "vocabulary", None)
        self.vocabulary = None if words is None else tuple(dict.fromkeys(map(self._style, words)))

    def _style(self, value: str) -> str:
        value = value.replace("\n", ", ")
        if self.case == "upper":
            value = value.upper()
        elif self.case == "lower":
            value = value.lower()
        if self.compact:
            value = _NOT_DIGIT.sub("", value)
        return value

    def without(self, taken: frozenset[str]) -> Sampler | None:
        """This sampler without the values in ``taken`` (normalised), when it draws from a list, keeping
        the weights of the others; None when it does not draw from a list or no value is left."""
        inner = self.inner._choice() if isinstance(self.inner, _Pool) else self.inner
        if not isinstance(inner, _Choice):
            return None
        styled = [self._style(v) for v in inner.values.tolist()]
        keep = np.array([v not in taken for v in normalise(styled).tolist()], dtype=bool)
        return _Styled(inner.subset(keep), self.case, self.compact) if keep.any() else None

    def __call__(self, m: int, rng: np.random.Generator) -> np.ndarray:
        values = np.char.replace(np.asarray(self.inner(m, rng), dtype=str), "\n", ", ")
        if self.case == "upper":
            values = np.char.upper(values)
        elif self.case == "lower":
            values = np.char.lower(values)
        if self.compact:
            values = np.array([_NOT_DIGIT.sub("", v) for v in values.tolist()], dtype=str)
        return values.astype(object)


def sampler(provider: str, locale: str, style: Mapping[str, Any] | None = None) -> Sampler:
    """The bulk sampler of a provider: ``sampler(m, rng)`` gives ``m`` values as an object array, from
    ``rng`` alone. It has ``vocabulary``: every value it can give when that is a short list, else None."""
    style = dict(style or {})
    return _sampler(provider, locale, style.get("case"), bool(style.get("compact")), style.get("reference"))


@lru_cache(maxsize=64)
def _sampler(provider: str, locale: str, case: str | None, compact: bool, reference: str | None) -> Sampler:
    fake = _faker(locale)
    inner: Sampler
    if provider == "email":
        inner = _Email(fake, locale)
    elif provider == "user_name":
        inner = _UserName(fake, locale)
    elif provider == "iban":
        inner = _Iban(fake)
    elif provider == "date_of_birth":
        inner = _DateOfBirth(reference or dt.date.today().isoformat())
    elif provider == "phone_number" and locale == "en_US":
        inner, compact = partial(_phone_nanp, bare=compact), False
    elif provider == "ssn" and locale != "en_US":
        inner = _Calls(fake, "ssn")
    elif provider == "zipcode" and locale != "en_US":
        postcode = fake.postcode.__self__
        formats = getattr(postcode, "postcode_formats", None)
        standard = _elements(formats) is not None and _standard(postcode, "postcode")
        inner = _compile_formats(fake, locale, formats, 1) if standard else _Calls(fake, "postcode")
        case = case or ("upper" if standard else None)  # Faker: bothify(...).upper()
    elif provider in PROVIDERS:
        inner = _token(fake, locale, provider, 0)
    else:
        problem = provider_problem(provider, locale)
        if problem is not None:
            raise InputError(problem)
        inner = _token(fake, locale, provider, 0)  # Faker's generic method on a list or formats: in bulk
        if isinstance(inner, _Pool):
            inner = _Calls(fake, provider)
    return _Styled(inner, case, compact)
