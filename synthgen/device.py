"""Resolve the device once, at the entry point, and hand it down.

Everything else receives a `torch.device`; no module calls `torch.cuda` on its own. Mixed precision is
a context that does nothing on the CPU, so training loops need no branches.
"""

from __future__ import annotations

import contextlib

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
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
