"""The device and what runs differently on it: resolution, seeded generators, autocast, graphed steps.

A generator (and the judge) resolves its device once, when it is built, and hands the `torch.device`
down. This module holds the library's CUDA calls; elsewhere only the judge's learners ask whether a GPU
is present. Mixed precision and `GraphedStep` do nothing special on the CPU, so training loops need no
branches.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Literal

import torch

from synthgen.errors import InputError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` takes CUDA when present, else the CPU; ``cuda`` without a GPU is an input error."""
    name = str(name).lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device {name!r} requested but no CUDA device is available; use 'auto' or 'cpu'")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise InputError(f"unknown device {name!r}; use 'auto', 'cpu' or 'cuda'")


def torch_generator(seed: int, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bfloat16 autocast on CUDA (no loss scaling needed); a no-op on the CPU."""
    if enabled and device.type == "cuda":
        # No weight-cast cache: each region uses a weight once, and a cache would break graph capture.
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16, cache_enabled=False)
    return contextlib.nullcontext()


StepKind = Literal["eager", "warmup", "capture", "replay"]
"""How one call of a `GraphedStep` ran (its ``last``)."""

StepObserver = Callable[["GraphedStep"], None]
"""Called by a `GraphedStep` when it is built and after each call (``on_step``)."""


class GraphedStep:
    """Run a training step eagerly a few times, then replay it as one CUDA graph.

    Small tabular networks are bound by kernel launches on a GPU, not by arithmetic: a CTGAN step is
    a few hundred kernels of microseconds each, and Python plus the launch queue take longer than the
    work. A captured graph launches them all in one call. The step must read and write only tensors
    that live on the device at fixed addresses (it draws its own random numbers, updates parameters
    in place, and accumulates its losses in place) and must never wait on the host.

    On the CPU, or with ``enabled`` false, every call runs the step eagerly. The first ``warmup``
    calls are eager on a side stream (real steps: they initialise optimiser state and library
    workspaces, as capture requires); the next call captures, and every call after replays.
    Capture replaces the call that triggers it: the captured step runs once, by replay, in it. If
    capture fails the step stays eager and one warning says why; ``captured`` tells which path ran.

    ``on_step`` observes the steps (profiling, tests): it is called with this object once when it is
    built (``calls`` is 0), then after every call, when ``calls`` counts the calls so far and ``last``
    says how the latest one ran: "eager", "warmup", "capture" (this call captured the graph and
    replayed it, or tried to: see ``failed``) or "replay". Generators pass it on from
    ``fit(..., step_hook=...)``. It runs on the host between steps: a device sync in it (a profiler's
    timestamp) stalls training, so it should do nothing after the calls it cares about.
    """

    def __init__(
        self,
        step: Callable[[], None],
        device: torch.device,
        enabled: bool = True,
        warmup: int = 3,
        on_step: StepObserver | None = None,
    ) -> None:
        self.step = step
        self.device = device
        self.enabled = enabled and device.type == "cuda"
        self.warmup = warmup
        self.calls = 0
        self.last: StepKind | None = None
        self.graph: torch.cuda.CUDAGraph | None = None
        self.failed: str | None = None
        self.on_step = on_step
        self._stream = torch.cuda.Stream(device) if self.enabled else None
        if on_step is not None:
            on_step(self)

    @property
    def captured(self) -> bool:
        return self.graph is not None

    def __call__(self) -> None:
        self.calls += 1
        if self.graph is not None:
            self.last = "replay"
            self.graph.replay()
        elif not self.enabled or self.failed is not None:
            self.last = "eager"
            self.step()
        elif self.calls <= self.warmup:
            self.last = "warmup"
            self._stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(self._stream):
                self.step()
            torch.cuda.current_stream(self.device).wait_stream(self._stream)
        else:
            self.last = "capture"
            self._capture()
            if self.graph is not None:
                self.graph.replay()
            else:
                self.step()
        if self.on_step is not None:
            self.on_step(self)

    def _capture(self) -> None:
        torch.cuda.synchronize(self.device)
        graph = torch.cuda.CUDAGraph()
        caller_stream = torch.cuda.current_stream(self.device)
        try:
            with torch.cuda.graph(graph):
                self.step()
        except RuntimeError as exc:  # an op that syncs or copies from the host cannot be captured
            # A failed capture can leave the capture stream current (its context is not exited).
            torch.cuda.set_stream(caller_stream)
            self.failed = str(exc).splitlines()[0]
            warnings.warn(
                f"CUDA graph capture failed, training without graphs: {self.failed}", RuntimeWarning, stacklevel=3
            )
            torch.cuda.synchronize(self.device)
            return
        self.graph = graph
