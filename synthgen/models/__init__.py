"""Generators, one algorithm per module, registered by the recipe's ``model.type``."""

from synthgen.models.base import Generator, GeneratorConfig, load_model
from synthgen.models.ctgan import CTGAN, CTGANConfig
from synthgen.models.ddpm import DDPM, DDPMConfig

GENERATORS: dict[str, type[Generator]] = {"ctgan": CTGAN, "ddpm": DDPM}

__all__ = ["CTGAN", "CTGANConfig", "DDPM", "DDPMConfig", "GENERATORS", "Generator", "GeneratorConfig", "load_model"]
