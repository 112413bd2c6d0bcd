"""The parts of CTGAN that are not the training loop: the conditional vector and the output activations."""

from synthgen.models.gan.activations import SpanActivation
from synthgen.models.gan.conditional import ConditionSampler

__all__ = ["ConditionSampler", "SpanActivation"]
