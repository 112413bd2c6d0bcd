"""Generators, one algorithm per module, registered once in `synthgen.models.configs.REGISTRY`.

Names are imported on first use: the configs (pydantic only) load without torch, so reading a recipe
does not wait for the generators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthgen._lazy import lazy_names
from synthgen.models.configs import REGISTRY, CTGANConfig, DDPMConfig, GeneratorConfig

if TYPE_CHECKING:
    from synthgen.models.base import Generator, load_model
    from synthgen.models.ctgan import CTGAN
    from synthgen.models.ddpm import DDPM

_LAZY: dict[str, Any] = {
    "Generator": "synthgen.models.base",
    "load_model": "synthgen.models.base",
    **{entry.class_name: entry.module for entry in REGISTRY.values()},
    "GENERATORS": lambda: {name: entry.load() for name, entry in REGISTRY.items()},
}

__all__ = ["CTGAN", "CTGANConfig", "DDPM", "DDPMConfig", "GENERATORS", "Generator", "GeneratorConfig", "load_model"]


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
