"""Training checkpoints: one safetensors file beside the model directory, written every N steps.

A killed run (or a killed rank of a DDP run, which takes the others down with it) resumes from the
last checkpoint instead of from step 0. The file holds plain tensors (the network's and the EMA's
weights, the optimiser's moments and step counts, each rank's random generator state) and, in the
safetensors header's metadata, one JSON document: the step, the loss log, and the *identity* of the
run (generator class, training config, training rows, recipe fingerprint, and a digest of the fitted
transformer: the table's quantiles, modes and categories, so another table of as many rows differs
even where no recipe fingerprint is given, as through `Generator.fit`). Nothing in it is a pickle:
reading a checkpoint runs no code, like reading a model directory (`synthgen.artifacts`).

One file rather than a folder of two, so the write is one atomic rename (`synthgen.files.atomic_write`):
a rank killed in the middle of writing leaves the previous checkpoint whole. Only rank 0 writes.

A checkpoint is resumed only by the run that wrote it: `read_checkpoint` refuses one whose identity
differs from the run's (another recipe, another config, another table) and names what differs.
Settings that change only how a model samples (and the device) are not part of the identity.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgen.errors import InputError
from synthgen.files import atomic_write

if TYPE_CHECKING:  # torch is imported where tensors are handled: the command line imports this module
    import torch

    from synthgen.distributed import Dist

CHECKPOINT_EVERY = 500
"""Steps between checkpoints by default: about 1 % of a default DDPM fit's time on a CPU (writing a
default denoiser's ~4 M parameters three times over takes tens of milliseconds)."""
FORMAT = "synthgen-checkpoint-1"
SUFFIX = ".checkpoint.safetensors"


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often a fit writes checkpoints, and whether it starts from the one there.

    ``path``: the checkpoint file (`checkpoint_path` of the model directory by default). ``every``:
    steps between checkpoints (0: never write one). ``resume``: continue from ``path`` when it exists
    (a fresh start when it does not, so a restarted job can always pass it). ``fingerprint``: what
    ties the checkpoint to its recipe and data (`synthgen.pipeline.model_fingerprint`)."""

    path: Path
    every: int = CHECKPOINT_EVERY
    resume: bool = False
    fingerprint: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 0:
            raise InputError(f"checkpoint every must be a whole number of steps >= 0, got {self.every!r}")
        object.__setattr__(self, "path", Path(self.path))

    def due(self, step: int, total: int) -> bool:
        """Whether a checkpoint is written after ``step`` steps of ``total`` (never after the last: the
        model itself is saved then)."""
        return self.every > 0 and step % self.every == 0 and step < total


@dataclass
class Checkpoint:
    """What a checkpoint holds: ``tensors`` by name, and ``state`` (JSON: step, log, identity)."""

    tensors: dict[str, torch.Tensor]
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def step(self) -> int:
        return int(self.state["step"])


def checkpoint_path(model_dir: str | Path) -> Path:
    """The checkpoint of a model directory: a file beside it (the folder itself holds only the model)."""
    model_dir = Path(model_dir)
    return model_dir.with_name(model_dir.name + SUFFIX)


def run_identity(
    class_name: str,
    config: dict[str, Any],
    ignored: set[str],
    rows: int,
    fingerprint: str | None,
    data: str | None = None,
) -> dict[str, Any]:
    """What a resumed run must share with the run that wrote the checkpoint. ``ignored``: config fields
    that do not change training (sampling settings, the device). ``data``: `transformer_digest`."""
    kept = {key: value for key, value in sorted(config.items()) if key not in ignored}
    return {"class": class_name, "config": kept, "rows": int(rows), "fingerprint": fingerprint, "data": data}


def transformer_digest(state: dict[str, Any] | None) -> str | None:
    """SHA-256 of a fitted transformer's JSON state (what the training table encodes to: its quantiles,
    modes and categories), None before one is fitted. Every rank holds the same state (rank 0's)."""
    if state is None:
        return None
    return hashlib.sha256(json.dumps(state, sort_keys=True, allow_nan=True).encode()).hexdigest()


def identity_of(model: Any, rows: int) -> dict[str, Any]:
    """`run_identity` of a generator's fit on ``rows`` training rows (all ranks together)."""
    config = model.config
    plan = model.checkpointing_
    ignored = set(config.sampling_fields) | {"device"}
    fingerprint = None if plan is None else plan.fingerprint
    transformer = getattr(model, "transformer_", None)
    data = transformer_digest(None if transformer is None else transformer.get_state())
    return run_identity(type(model).__name__, config.model_dump(mode="json"), ignored, rows, fingerprint, data)


def save_training(
    model: Any,
    rows: int,
    step: int,
    networks: dict[str, torch.nn.Module],
    optimizers: dict[str, Any],
    per_rank: dict[str, torch.Tensor],
    state: dict[str, Any],
) -> None:
    """Checkpoint a generator's training after ``step`` steps to ``model.checkpointing_.path``.

    Every rank calls it: each sends its random streams and its ``per_rank`` tensors (a loss sum), which
    differ between ranks; rank 0 adds the ``networks``' weights and the ``optimizers``' state (the same
    on every rank) and ``state`` (JSON), and writes the file."""
    dist: Dist = model.dist_
    tensors: dict[str, torch.Tensor] = {}
    named = {f"rng.{name}": value for name, value in rng_tensors(model.device_).items()}
    named |= {f"rank.{name}": value.reshape(-1) for name, value in per_rank.items()}
    for name, value in named.items():
        for rank, part in enumerate(dist.gather(value)):
            tensors[f"{name}.{rank}"] = part
    if not dist.is_main:
        return
    for prefix, network in networks.items():
        tensors |= module_tensors(prefix, network)
    for prefix, optimizer in optimizers.items():
        tensors |= optimizer_tensors(prefix, optimizer)
    full = {**state, "step": step, "world": dist.world, "identity": identity_of(model, rows)}
    write_checkpoint(model.checkpointing_.path, Checkpoint(tensors, full))


def resume_training(
    model: Any,
    rows: int,
    networks: dict[str, torch.nn.Module],
    optimizers: dict[str, Any],
    per_rank: dict[str, torch.Tensor],
) -> dict[str, Any] | None:
    """Load the checkpoint a generator's fit resumes from into its ``networks``, ``optimizers`` and
    ``per_rank`` tensors (in place), and return its JSON state; None for a fresh start (no resume asked
    for, or no checkpoint yet).

    Every rank reads the file (a local torchrun, or storage the nodes share). With as many ranks as
    wrote it, each gets its own random streams back, so the fit ends as the uninterrupted one would;
    with another number of ranks, fresh streams from (seed, rank, step)."""
    import torch

    plan, dist = model.checkpointing_, model.dist_
    if plan is None or not plan.resume:
        return None
    identity = identity_of(model, rows)
    if dist.active:  # rank 0's (the digest of its transformer, which the others restored from JSON)
        identity = dist.broadcast_json(identity if dist.is_main else None)
    saved = read_checkpoint(plan.path, identity)
    if saved is None:
        return None
    for prefix, network in networks.items():
        load_module(prefix, network, saved.tensors)
    for prefix, optimizer in optimizers.items():
        load_optimizer(prefix, optimizer, saved.tensors)
    if int(saved.state.get("world", 1)) == dist.world:
        rng = {name: saved.tensors[f"rng.{name}.{dist.rank}"] for name in rng_tensors(model.device_)}
        set_rng(rng, model.device_)
        with torch.no_grad():
            for name, tensor in per_rank.items():
                tensor.copy_(saved.tensors[f"rank.{name}.{dist.rank}"].reshape(tensor.shape))
    else:
        torch.manual_seed(dist.seed(model.config.seed, salt=saved.step))
    return saved.state


def is_checkpoint(path: Path) -> bool:
    """Whether ``path`` is a file synthgen wrote as a checkpoint (its header names the format): the only
    kind of file a fit replaces or removes at a checkpoint's path."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            return (handle.metadata() or {}).get("format") == FORMAT
    except (SafetensorError, OSError, ValueError):
        return False


def remove_checkpoint(path: Path) -> None:
    """Remove the checkpoint at ``path`` once its model is saved; any other file there is left alone."""
    path = Path(path)
    if path.is_file() and is_checkpoint(path):
        path.unlink(missing_ok=True)


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` through a temporary file and one rename; a file there that is not a
    synthgen checkpoint is refused, never replaced."""
    from safetensors.torch import save_file

    if Path(path).exists() and not is_checkpoint(Path(path)):
        raise InputError(
            f"{path}: exists and is not a synthgen checkpoint; move it, or train with --checkpoint-every 0"
        )

    tensors = {name: t.detach().to("cpu").contiguous() for name, t in checkpoint.tensors.items()}
    metadata = {"format": FORMAT, "state": json.dumps(checkpoint.state, allow_nan=False)}
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def read_checkpoint(path: Path, identity: dict[str, Any]) -> Checkpoint | None:
    """The checkpoint at ``path`` (None when there is none), refused with an `InputError` naming the
    difference when it was written by another run (``identity``: `run_identity`)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not a dict)
        state = json.loads(metadata.get("state", "null"))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable checkpoint ({exc}); delete it to train from the start") from None
    if metadata.get("format") != FORMAT or not isinstance(state, dict) or "step" not in state:
        raise InputError(f"{path}: not a synthgen checkpoint; delete it to train from the start")
    differences = _differences(state.get("identity", {}), identity)
    if differences:
        raise InputError(
            f"{path}: checkpoint of another training run ({'; '.join(differences[:3])}); "
            "delete it, or train without --resume to start afresh"
        )
    return Checkpoint(tensors, state)


def _differences(saved: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Human lines for each identity key that differs (config fields one by one)."""
    out = []
    for key in ("class", "fingerprint", "rows", "data"):
        if saved.get(key) != wanted.get(key):
            if key == "data":  # a digest says nothing to a reader: name what differs
                out.append("another training table (the fitted transformer differs)")
                continue
            label = {"fingerprint": "recipe fingerprint", "rows": "training rows"}.get(key, key)
            out.append(f"{label} {saved.get(key)!r} in the checkpoint, {wanted.get(key)!r} now")
    saved_config, config = saved.get("config", {}), wanted.get("config", {})
    for name in sorted(set(saved_config) | set(config)):
        if saved_config.get(name) != config.get(name):
            out.append(f"config {name} {saved_config.get(name)!r} in the checkpoint, {config.get(name)!r} now")
    return out


def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's state dict under ``prefix.``."""
    return {f"{prefix}.{key}": value for key, value in module.state_dict().items()}


def load_module(prefix: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Load the ``prefix.`` tensors of a checkpoint into ``module`` (in place, keeping its storage, so
    optimiser and EMA views of the parameters stay valid)."""
    own = {key[len(prefix) + 1 :]: value for key, value in tensors.items() if key.startswith(prefix + ".")}
    module.load_state_dict(own)


def optimizer_tensors(prefix: str, optimizer: Any) -> dict[str, torch.Tensor]:
    """A `synthgen.models.optim.FusedAdam`'s moments and step counts, by parameter index."""
    out = {}
    for name in ("exp_avg", "exp_avg_sq", "steps"):
        for i, tensor in enumerate(getattr(optimizer, name)):
            out[f"{prefix}.{name}.{i}"] = tensor
    return out


def load_optimizer(prefix: str, optimizer: Any, tensors: dict[str, torch.Tensor]) -> None:
    """Copy a checkpoint's optimiser state into ``optimizer``'s tensors, in place."""
    import torch

    with torch.no_grad():
        for name in ("exp_avg", "exp_avg_sq", "steps"):
            for i, tensor in enumerate(getattr(optimizer, name)):
                tensor.copy_(tensors[f"{prefix}.{name}.{i}"])


def rng_tensors(device: torch.device) -> dict[str, torch.Tensor]:
    """This process's torch random states: the CPU's, and the CUDA device's when training there."""
    import torch

    out = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    return out


def set_rng(states: dict[str, torch.Tensor], device: torch.device) -> None:
    """Restore what `rng_tensors` returned."""
    import torch

    torch.set_rng_state(states["cpu"])
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)
