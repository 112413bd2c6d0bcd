"""The process group of a distributed (DDP) training run, and the few collectives training needs.

``torchrun`` (`torch.distributed.run`) starts one process per rank and tells each its place through
the environment: ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``.
`Dist.from_env` reads them once; without them (an ordinary process) it is the single-process
`Dist` whose collectives return their input and never touch `torch.distributed`, so a one-process
fit pays nothing and draws the same random numbers as before DDP existed.

The backend follows the device: gloo on the CPU (DDP on CPU cores, as the tests run it), NCCL on CUDA
with the device index taken from ``LOCAL_RANK``. Only JSON-able objects cross between ranks
(`Dist.broadcast_json`), never pickles: a rank has no more reason to trust another's pickle than a
model directory's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import torch

from synthgen.errors import InputError, forwarded

ENV_KEYS = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
_OWNED = {"group": False}  # whether `Dist.init` created the process group (only then does `close` end it)
TIMEOUT = timedelta(minutes=30)
"""How long a collective waits for a missing rank before failing (torch's default is 30 minutes too);
a killed rank makes the others fail, and the run is resumed from its last checkpoint."""


@dataclass(frozen=True)
class Dist:
    """Where this process stands: ``rank`` of ``world`` processes, ``local_rank`` on its machine."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1  # ranks on this machine (torchrun's LOCAL_WORLD_SIZE), which share its cores

    @property
    def active(self) -> bool:
        """True when there is more than one process (a process group exists)."""
        return self.world > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that fits the transformer, writes checkpoints and models, and prints."""
        return self.rank == 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Dist:
        """The rank and world torchrun set, or the single process when ``WORLD_SIZE`` is absent or 1."""
        env = os.environ if environ is None else environ
        if "WORLD_SIZE" not in env:
            return cls()
        missing = [key for key in ENV_KEYS if not env.get(key)]
        try:
            world, rank, local = int(env["WORLD_SIZE"]), int(env.get("RANK", 0)), int(env.get("LOCAL_RANK", 0))
        except ValueError:
            shown = {key: env.get(key) for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
            raise InputError(
                f"torchrun environment: WORLD_SIZE, RANK and LOCAL_RANK must be integers, got {shown}"
            ) from None
        if world <= 1:
            return cls()
        if missing:
            raise InputError(f"torchrun environment: WORLD_SIZE={world} but {', '.join(missing)} not set")
        if not 0 <= rank < world or local < 0:
            raise InputError(f"torchrun environment: RANK={rank} / LOCAL_RANK={local} outside WORLD_SIZE={world}")
        local_world = env.get("LOCAL_WORLD_SIZE", "")
        return cls(rank, world, local, int(local_world) if local_world.isdigit() else world)

    def threads(self, setting: int | str | None) -> int | str | None:
        """The CPU thread setting of this rank: a recipe's (or ``SYNTHGEN_THREADS``) as given, else, when
        several ranks share a machine, its cores divided among them (one thread each on 2 cores and 2
        ranks, not 2 each spinning against the other)."""
        from synthgen.threads import ENV, available_cores

        if not self.active or (setting is not None and setting != "auto") or os.environ.get(ENV):
            return setting
        return max(1, available_cores() // max(1, self.local_world))

    # -- the process group ----------------------------------------------------------------------------
    def init(self, device: torch.device) -> torch.device:
        """Join the process group (once per process) and return this rank's device: ``cuda:LOCAL_RANK``
        with NCCL when ``device`` is CUDA, the CPU with gloo otherwise. A no-op for one process."""
        if not self.active:
            return device
        if device.type == "cuda":
            if torch.cuda.device_count() <= self.local_rank:
                raise InputError(
                    f"LOCAL_RANK={self.local_rank} needs {self.local_rank + 1} CUDA devices; "
                    f"{torch.cuda.device_count()} visible"
                )
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
            backend = "nccl"
        else:
            backend = "gloo"
        if not torch.distributed.is_initialized():
            kwargs: dict[str, Any] = {"backend": backend, "timeout": TIMEOUT}
            if backend == "nccl":
                kwargs["device_id"] = device
            torch.distributed.init_process_group(rank=self.rank, world_size=self.world, **kwargs)
            _OWNED["group"] = True
        return device

    def close(self) -> None:
        """Leave the process group `init` created (a no-op for one process, or when none was joined, or
        when the caller created the group: synthgen does not end what it did not start)."""
        if self.active and _OWNED["group"] and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        _OWNED["group"] = False

    def barrier(self) -> None:
        """Wait for every rank (a no-op for one process, or when no process group was joined)."""
        if self.active and torch.distributed.is_initialized():
            torch.distributed.barrier()

    # -- collectives --------------------------------------------------------------------------------
    def _wire(self) -> torch.device:
        """Where tensors must be to cross between ranks: the rank's GPU under NCCL, else the CPU."""
        if torch.distributed.get_backend() == "nccl":
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    def shared_fit(self, fit: Callable[[], Any], restore: Callable[[dict[str, Any]], Any]) -> Any:
        """A fitted object (a transformer) that is the same on every rank: ``fit()`` on rank 0 only (on its
        bounded sample), its ``get_state()`` sent as JSON, ``restore(state)`` on the other ranks. One
        process: ``fit()``."""
        fitted: list[Any] = []

        def on_main() -> dict[str, Any]:
            fitted.append(fit())
            return fitted[0].get_state()

        if not self.active:
            return fit()
        state = self.from_main(on_main)
        return fitted[0] if self.is_main else restore(state)

    def broadcast_json(self, value: Any = None) -> Any:
        """Rank 0's ``value`` on every rank, sent as the bytes of its JSON text (others pass None). Not
        `torch.distributed.broadcast_object_list`, which pickles: what crosses is data (a transformer's
        state), and it round-trips the way a model directory does."""
        if not self.active:
            return value
        wire = self._wire()
        data = _json_bytes(value) if self.is_main else torch.empty(0, dtype=torch.uint8)
        size = torch.tensor([len(data)], dtype=torch.int64, device=wire)
        torch.distributed.broadcast(size, src=0)
        buffer = data.to(wire) if self.is_main else torch.empty(int(size.item()), dtype=torch.uint8, device=wire)
        torch.distributed.broadcast(buffer, src=0)
        return _json_value(buffer)

    def gather_json(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (JSON-able), in rank order, on every rank: the bytes of each rank's JSON text,
        padded to the longest and all-gathered (never pickled, as `broadcast_json`). One process: ``[value]``."""
        if not self.active:
            return [value]
        data = _json_bytes(value)
        sizes = [int(size.item()) for size in self.gather(torch.tensor([len(data)], dtype=torch.int64))]
        padded = torch.zeros(max(sizes), dtype=torch.uint8)
        padded[: len(data)] = data
        return [_json_value(part[:size]) for part, size in zip(self.gather(padded), sizes)]

    def from_main(self, make: Callable[[], Any]) -> Any:
        """``make()`` run on rank 0 only, its JSON-able result given to every rank. Whatever it raises is
        raised on every rank, so no rank is left waiting for rank 0: rank 0 raises its own exception, the
        others an `InputError` with its message for an input error, else a `RuntimeError` naming it."""
        if not self.active:
            return make()
        message, failure = None, None
        if self.is_main:
            try:
                message = {"value": make()}
                json.dumps(message, allow_nan=True)  # not JSON-able: a failure too, before any rank waits
            except Exception as exc:  # any failure: forwarded to every rank, then raised
                failure = exc
                message = {"error": str(exc), "input": isinstance(exc, InputError), "type": type(exc).__name__}
        message = self.broadcast_json(message)
        if failure is not None:
            raise failure
        if "error" in message:
            if message["input"]:
                raise forwarded(InputError(message["error"]))
            raise forwarded(RuntimeError(f"rank 0 failed: {message['type']}: {message['error']}"))
        return message["value"]

    def sum_counts(self, counts: np.ndarray) -> np.ndarray:
        """``counts`` (integers) summed over the ranks, on every rank: per-shard counts -> the table's."""
        if not self.active:
            return counts
        tensor = torch.as_tensor(np.ascontiguousarray(counts, dtype=np.int64)).to(self._wire())
        torch.distributed.all_reduce(tensor)
        return tensor.cpu().numpy()

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """The mean of a tensor over the ranks (a new tensor; the input is left as it was)."""
        if not self.active:
            return value
        out = value.detach().clone()
        torch.distributed.all_reduce(out)
        return out / self.world

    def gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's ``tensor`` (same shape and dtype on all), in rank order, on every rank."""
        if not self.active:
            return [tensor]
        home = tensor.device
        tensor = tensor.to(self._wire())  # NCCL moves CUDA tensors only (random states are CPU bytes)
        parts = [torch.empty_like(tensor) for _ in range(self.world)]
        torch.distributed.all_gather(parts, tensor.contiguous())
        return [part.to(home) for part in parts]

    def broadcast_tensors(self, tensors: list[torch.Tensor]) -> None:
        """Overwrite ``tensors`` in place with rank 0's (buffers that each rank updated from its own
        batch, such as batch-norm running statistics, made one model's again)."""
        if not self.active:
            return
        for tensor in tensors:
            torch.distributed.broadcast(tensor, src=0)

    def broadcast_float(self, value: float) -> float:
        """Rank 0's ``value`` on every rank (a time-budget share, so every rank sets the same rate)."""
        if not self.active:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self._wire())
        torch.distributed.broadcast(tensor, src=0)
        return float(tensor.item())

    # -- the data -----------------------------------------------------------------------------------
    def shard(self, rows: int) -> np.ndarray:
        """The row indices this rank holds: every ``world``-th row from ``rank`` (all rows for one process).

        Strided, not contiguous, so a table sorted by some column still gives each rank a fair mix; the
        shards differ by at most one row."""
        return np.arange(self.rank, rows, self.world)

    def local_batch(self, batch: int) -> int:
        """This rank's share of a global batch of ``batch`` rows (or packs): ``batch // world``, and one
        more on the first ``batch % world`` ranks, so the shares add up to ``batch`` (at least 1 each)."""
        return max(1, batch // self.world + (self.rank < batch % self.world))

    def batch_weight(self, batch: int) -> float:
        """The factor on this rank's mean loss over its `local_batch` rows that makes DDP's average of
        the ranks' gradients the gradient of the mean over all ``batch`` rows: share x world / batch.
        Exactly 1.0 for one process and for equal shares (the loss is then left as it is)."""
        if not self.active:
            return 1.0
        return self.local_batch(batch) * self.world / batch

    def seed(self, seed: int, salt: int = 0) -> int:
        """The seed of this rank's random stream (batches, noise): derived from (seed, rank), so ranks
        draw different rows and noise and a rerun draws the same ones. ``salt`` (a step count) gives
        fresh streams to a run resumed with another number of ranks."""
        words = [seed & 0xFFFFFFFFFFFFFFFF, 0x44445000 + self.rank] + ([salt] if salt else [])
        return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0] >> 1)


def _json_bytes(value: Any) -> torch.Tensor:
    """What crosses between ranks: the UTF-8 bytes of ``value``'s JSON text, as a uint8 tensor."""
    return torch.frombuffer(bytearray(json.dumps(value, allow_nan=True).encode()), dtype=torch.uint8)


def _json_value(data: torch.Tensor) -> Any:
    return json.loads(bytes(data.cpu().numpy()).decode())


SINGLE = Dist()
"""The single process: every collective is the identity."""


def current() -> Dist:
    """The `Dist` of this process: the torchrun environment's, or `SINGLE`."""
    return Dist.from_env()


def in_torchrun(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process was started by torchrun with more than one rank."""
    return Dist.from_env(environ).active
