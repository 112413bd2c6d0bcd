"""Datasets that ship inside the package, so the demo and the tests never touch the network."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from synthgen.errors import InputError

BUILTIN: dict[str, str] = {"german_credit": "german_credit.csv"}
"""name -> file under ``synthgen/data`` (provenance and licence in ``synthgen/data/README.md``)."""


def builtin_path(name: str) -> Path:
    if name not in BUILTIN:
        raise InputError(f"unknown builtin dataset {name!r}; available: {', '.join(sorted(BUILTIN))}")
    return Path(str(resources.files("synthgen") / "data" / BUILTIN[name]))


def load_builtin(name: str) -> pd.DataFrame:
    """A bundled real table, e.g. ``load_builtin("german_credit")`` (1,000 loan applicants, CC BY 4.0)."""
    return pd.read_csv(builtin_path(name))
