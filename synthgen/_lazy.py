"""Names of a package imported on first use (PEP 562), so that importing the package stays cheap.

`import synthgen` (and with it the command line), reading a recipe and `synthgen --help` must not
wait for torch, scikit-learn and XGBoost; the packages that re-export heavy names use this.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, names: Mapping[str, str | Callable[[], Any]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``names`` maps a public name to the module that
    defines it, or to a function that builds it. A name is looked up once, then kept in the package."""

    def __getattr__(name: str) -> Any:
        source = names.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = source() if callable(source) else getattr(importlib.import_module(source), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
