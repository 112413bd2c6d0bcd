"""Generators, one algorithm per module, registered by the recipe's ``model.type``."""

from synthgen.models.base import Generator, GeneratorConfig, load_model
from synthgen.models.ctgan import CTGAN, CTGANConfig

GENERATORS: dict[str, type[Generator]] = {"ctgan": CTGAN}

__all__ = ["CTGAN", "CTGANConfig", "GENERATORS", "Generator", "GeneratorConfig", "load_model"]
