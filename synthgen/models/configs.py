"""Generator configurations and the one registry of generator types. Imports no torch.

A configuration is the recipe's ``generator:`` block, the keyword arguments of the generator's
constructor and the ``config.json`` of a saved model. `REGISTRY` maps each ``type`` to its config
class and to the module and class that implement it: the recipe's union of configs, `GENERATORS`
and `load_model` all read it, so a new generator is registered in one place.

A config says which of its fields do not change what is learned (`sampling_fields`: the device,
CUDA graph replay, and a generator's sampling-only settings): changing them does not retrain a model
the pipeline can reuse.
"""

from __future__ import annotations

import importlib
import inspect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from synthgen.models.base import Generator


class BudgetWarning(UserWarning):
    """A training budget that will not be spent as asked (a cap applies), said before training starts, so that
    a shorter fit than requested is never silent."""


class GeneratorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Fields that change how a trained model samples or where it runs, not what it learns.
    sampling_fields: ClassVar[frozenset[str]] = frozenset({"device", "cuda_graphs"})
    # Training fields added after models were saved: at their default they are left out of
    # `training_settings`, so that a model saved before they existed (which trained as the default
    # does) is still found for its recipe.
    later_fields: ClassVar[frozenset[str]] = frozenset()

    type: str
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="CUDA when present, else CPU.")
    seed: int = Field(default=0, description="Seeds training and, unless overridden, sampling.")
    mixed_precision: bool = Field(default=True, description="bfloat16 autocast on CUDA (ignored on the CPU).")
    cuda_graphs: bool = Field(
        default=True, description="Replay each training step as a captured CUDA graph on CUDA (ignored on the CPU)."
    )

    @classmethod
    def hyperparameters(cls) -> list[str]:
        """The keyword names a generator takes: its own fields first, then those every generator shares."""
        shared = [name for name in GeneratorConfig.model_fields if name != "type"]
        own = [name for name in cls.model_fields if name not in shared and name != "type"]
        return own + shared

    def budget_notes(self, rows: int) -> list[str]:
        """What of the requested training budget a fit on ``rows`` rows will not spend, and how to lift the cap
        (one sentence each; the generator warns them as `BudgetWarning` before it trains). None by default."""
        return []


def constructor_signature(config_class: type[GeneratorConfig]) -> inspect.Signature:
    """``(config=None, *, <every hyperparameter with its default>)``: what `inspect.signature` and ``help()``
    show for a generator class, whose ``__init__`` takes ``**params`` validated by ``config_class``."""
    fields = config_class.model_fields
    return inspect.Signature(
        [
            inspect.Parameter(
                "config", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=config_class | None
            )
        ]
        + [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=fields[name].default, annotation=fields[name].annotation
            )
            for name in config_class.hyperparameters()
        ]
    )


def hyperparameter_lines(config_class: type[GeneratorConfig]) -> str:
    """The docstring section listing every hyperparameter, one line each: name, default, description."""
    fields = config_class.model_fields
    lines = [
        f"Hyperparameters (keyword arguments, or a `{config_class.__name__}` as ``config``; a recipe's "
        "``generator:`` block takes the same names):",
        "",
    ]
    for name in config_class.hyperparameters():
        field = fields[name]
        lines.append(f"- ``{name}`` = {field.default!r} -- {field.description}")
    return "\n".join(lines)


class CTGANConfig(GeneratorConfig):
    type: Literal["ctgan"] = "ctgan"
    epochs: int = Field(default=300, ge=1, description="Passes over the data; steps per epoch = rows / batch_size.")
    batch_size: int = Field(default=500, ge=2, description="Rows per step; a multiple of pac.")
    pac: int = Field(default=10, ge=1, description="Rows the discriminator judges together (PacGAN).")
    embedding_dim: int = Field(default=128, ge=1, description="Size of the generator's noise vector.")
    generator_dim: tuple[int, ...] = Field(
        default=(256, 256), description="Hidden widths of the generator's residual layers."
    )
    discriminator_dim: tuple[int, ...] = Field(
        default=(256, 256), description="Hidden widths of the discriminator (critic) layers."
    )
    generator_lr: float = Field(default=2e-4, gt=0, description="Adam learning rate of the generator.")
    generator_decay: float = Field(default=1e-6, ge=0, description="Adam weight decay of the generator.")
    discriminator_lr: float = Field(default=2e-4, gt=0, description="Adam learning rate of the discriminator.")
    discriminator_decay: float = Field(default=1e-6, ge=0, description="Adam weight decay of the discriminator.")
    discriminator_steps: int = Field(default=1, ge=1, description="Discriminator updates per generator update.")
    gradient_penalty: float = Field(default=10.0, ge=0, description="WGAN-GP lambda.")
    tau: float = Field(default=0.2, gt=0, description="Gumbel-softmax temperature.")
    log_frequency: bool = Field(default=True, description="Sample training conditions by log-frequency.")
    max_modes: int = Field(default=10, ge=1, description="Mixture modes per continuous column.")
    transformer_fit_rows: int = Field(default=5000, ge=100, description="Rows sampled to fit each mixture.")

    @model_validator(mode="after")
    def _batch_fits_pac(self) -> CTGANConfig:
        if self.batch_size % self.pac:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of pac ({self.pac})")
        return self


# Larger settings for a GPU (`profile: gpu`); any field set explicitly wins over the preset. About as
# many passes over credit_risk as the CPU default (1,600 x 4,096 rows = 250 epochs), with a wider net.
# Not yet measured on a GPU.
Solver = Literal["ddim", "dpm++2m-sde"]
SOLVERS: tuple[str, ...] = get_args(Solver)
"""The diffusion model's numeric sampling solvers (`synthgen.models.diffusion.gaussian`)."""

GPU_PRESET: dict[str, Any] = {"batch_size": 4096, "width": 512, "depth": 4, "steps": 1600}


class DDPMConfig(GeneratorConfig):
    sampling_fields: ClassVar[frozenset[str]] = GeneratorConfig.sampling_fields | {
        "sampling_steps",
        "solver",
        "eta",
        "sample_batch",
        "guidance",
    }

    later_fields: ClassVar[frozenset[str]] = frozenset({"rare_level_rows", "label_dropout"})

    type: Literal["ddpm"] = "ddpm"
    profile: Literal["cpu", "gpu"] = Field(
        default="cpu",
        description="'cpu': defaults that train credit_risk (26k rows) in 2-3 minutes on 2 cores "
        "(6,000 steps at 35-55 steps/s). "
        f"'gpu': unset fields take {GPU_PRESET}.",
    )
    steps: int = Field(
        default=6000, ge=1, description="Training steps (batches); the learning rate decays linearly to 0 over them."
    )
    max_minutes: float | None = Field(
        default=None,
        gt=0,
        description="Wall-clock training budget; training stops at whichever of steps / minutes ends first, "
        "and the learning-rate decay follows the one that is ahead.",
    )
    max_epochs: float | None = Field(
        default=350,
        gt=0,
        description="Caps steps at this many passes over the training rows, so small tables are not memorised "
        "(long training "
        "creeps towards copying rows); None: no cap. 350 was chosen on german_credit over 4 seeds "
        "(evaluation/results/ddpm_small_data.json): 1,000 passes fails the privacy gate, 100-150 lose the pair trends.",
    )
    batch_size: int = Field(default=1024, ge=1, description="Rows per training step.")
    lr: float = Field(default=2e-3, gt=0, description="AdamW peak learning rate.")
    weight_decay: float = Field(default=1e-4, ge=0, description="AdamW weight decay.")
    width: int = Field(default=256, ge=8, description="Hidden width of the MLP denoiser.")
    depth: int = Field(default=4, ge=1, description="Hidden layers of the MLP denoiser.")
    time_dim: int = Field(default=128, ge=2, description="Size of the sinusoidal time embedding.")
    dropout: float = Field(default=0.0, ge=0, lt=1, description="Dropout after each hidden layer.")
    timesteps: int = Field(default=1000, ge=2, description="Diffusion steps T of the training schedule.")
    sampling_steps: int = Field(
        default=15,
        ge=1,
        description="Respaced steps taken when sampling (<= timesteps). 15 with 'dpm++2m-sde' matched 50 DDIM "
        "steps on german_credit, credit_risk and lending_club at 2.6-3.6x the rows/s; 10 is 3-5x as fast and "
        "loses up to 0.015 of pair trend (evaluation/results/sampler_bench*.json).",
    )
    solver: Solver = Field(
        default="dpm++2m-sde",
        description="Numeric sampling solver: 'ddim' (with eta) or 'dpm++2m-sde' (stochastic second-order "
        "DPM-Solver++: DDIM's quality at 50 steps in 15).",
    )
    eta: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="DDIM's sampling noise (solver 'ddim' only): 1 = DDPM posterior of the respaced chain, "
        "0 = deterministic DDIM; 0.5 matched 100 DDPM steps at 50 on credit_risk.",
    )
    ema_decay: float = Field(
        default=0.999,
        ge=0,
        lt=1,
        description="Decay of the weight average used for sampling (warmed up over the first steps).",
    )
    condition_on_target: bool = Field(
        default=True,
        description="Condition on a discrete target as a class embedding; its shares can then be chosen at "
        "sampling time.",
    )
    rare_level_rows: int = Field(
        default=0,
        ge=0,
        description="A categorical level seen in fewer training rows than this is pooled with the column's other "
        "rare levels into one token for training and drawn back by their training shares when sampled: no "
        "capacity (and no row's details) spent on levels too rare to learn. The drawn level ignores the rest of "
        "the row, so a column another one decides (a zip prefix and its state) loses those pairs: on lending_club "
        "5 / 10 / 20 rows cost 0.001 / 0.013 / 0.020 of pair trend for no privacy or speed gain "
        "(evaluation/results/gpu_h200/sampler_bench_cuda_rare_levels.json). 0 (the default): every level its "
        "own token.",
    )
    label_dropout: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Share of training rows whose target class is hidden (a learned 'no class' embedding), so "
        "that the model also learns the unconditional rows and can sample with ``guidance``; 0: no such class.",
    )
    guidance: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="Classifier-free guidance weight when sampling (needs label_dropout > 0): the prediction "
        "for the row's class is pushed away from the class-free one by this multiple of their difference, "
        "sharpening what sets the classes apart; 0: plain conditional sampling. Each step then runs the "
        "denoiser twice.",
    )
    quantile_fit_rows: int = Field(default=100_000, ge=100, description="Rows sampled to fit each column's quantiles.")
    sample_batch: int = Field(default=16_384, ge=1, description="Rows denoised at once when sampling (bounds memory).")

    def training_steps(self, rows: int) -> int:
        """The steps a fit on ``rows`` training rows takes (``max_minutes`` may stop it sooner): ``steps``,
        capped at ``max_epochs`` passes of batches of ``min(batch_size, rows)`` rows."""
        if self.max_epochs is None:
            return self.steps
        return max(1, min(self.steps, math.ceil(self.max_epochs * rows / min(self.batch_size, rows))))

    def budget_notes(self, rows: int) -> list[str]:
        """The default ``max_epochs`` cap, when it cuts the ``steps`` the caller asked for.

        Asked for: steps other than the default, or set alone (a config rebuilt from a full dump, as
        command-line overrides do, has every field set, so there only the values tell). A ``max_epochs``
        other than the default was chosen by the caller (``--epochs``), and is not news."""
        total = self.training_steps(rows)
        fields, given = type(self).model_fields, self.model_fields_set
        asked = self.steps != fields["steps"].default or ("steps" in given and "max_epochs" not in given)
        if total >= self.steps or not asked or self.max_epochs != fields["max_epochs"].default:
            return []
        batch = min(self.batch_size, rows)
        return [
            f"steps={self.steps} asked for, but training stops after {total} steps: max_epochs={self.max_epochs:g} "
            f"(the default) caps it at {self.max_epochs:g} passes over the {rows} training rows in batches of {batch}, "
            "so that a small table is not memorised. To train every step, pass max_epochs=None (in a recipe, "
            "max_epochs: null) or a larger max_epochs; the release gate's privacy checks then say whether the "
            "longer fit leaks rows"
        ]

    @model_validator(mode="after")
    def _guidance_has_a_null_class(self) -> DDPMConfig:
        if self.guidance > 0 and self.label_dropout == 0:
            raise ValueError(
                f"guidance={self.guidance:g} needs a model trained with label_dropout > 0 (0.1 is usual): "
                "guidance contrasts each class with the class-free prediction, which only such a model learns"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("profile") == "gpu":
            return {**GPU_PRESET, **data}
        return data


@dataclass(frozen=True)
class GeneratorType:
    """One registered generator: its config, where its implementation lives (imported on use), and
    the memory its training takes on the CPU, so that the check before training needs no torch.

    Memory is measured (evaluation/bench_training_memory.py): bytes per encoded cell (rows x one-hot
    width), per encoded column (weights, gradients and optimiser state that grow with the width), and
    per row and table column (a representation of one or a few numbers per column, whatever its levels).
    """

    config: type[GeneratorConfig]
    module: str
    class_name: str
    memory_per_cell: float = 16.0
    memory_per_column: float = 0.0
    memory_per_row_column: float = 0.0

    def load(self) -> type[Generator]:
        return getattr(importlib.import_module(self.module), self.class_name)

    def training_memory(self, rows: int, width: int, columns: int = 0) -> float:
        """Bytes of memory training is expected to take on a table of ``rows`` x ``width`` encoded columns
        (one-hot), from ``columns`` modelled columns."""
        return (
            rows * width * self.memory_per_cell
            + width * self.memory_per_column
            + rows * columns * self.memory_per_row_column
        )


REGISTRY: dict[str, GeneratorType] = {
    # The encoded matrix and its transform blocks per cell; per column, the critic's first layer (it
    # sees pac x (data + condition) columns) with gradients and Adam's moments, and batch activations.
    # Fitted to 1,900-7,400 encoded columns on 6,000-20,000 rows (within 5 %).
    "ctgan": GeneratorType(CTGANConfig, "synthgen.models.ctgan", "CTGAN", 8.0, 280_000.0),
    # The table is encoded straight to one code per column (no one-hot matrix): per row and column, the
    # codes and scores with their float32, float64 and int64 copies (24 bytes: a tall, narrow table);
    # per encoded column, the denoiser's embedding and output rows (weights, gradients, Adam's moments,
    # the average) and a batch's logits: 52 kB, measured on 3,142-15,590 columns
    # (evaluation/results/training_memory.json; 1.0-1.5x the measured peak, on the safe side).
    "ddpm": GeneratorType(DDPMConfig, "synthgen.models.ddpm", "DDPM", 0.0, 52_000.0, 24.0),
}
"""``type`` -> generator: the one registry of generator types."""

DEFAULT_TYPE = "ddpm"
"""The generator of a recipe whose ``generator:`` block names no ``type``."""


def generator_type(name: str) -> GeneratorType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown generator type {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def training_settings(config: GeneratorConfig) -> dict[str, Any]:
    """The config without its sampling-only fields: what decides the trained weights (fields added later
    left out while at their default: `GeneratorConfig.later_fields`)."""
    fields = type(config).model_fields
    unchanged = {name for name in config.later_fields if getattr(config, name) == fields[name].default}
    return config.model_dump(mode="json", exclude=set(config.sampling_fields) | unchanged)
