"""The one writer of results files: every script under evaluation/ that writes a results JSON calls `write_results`.

A results file is the script's own figures under one shared header, written atomically
(`synthgen.io.write_json`: a temporary file, then one rename, so an interrupted run never leaves half a file):

- ``command``: the command line that produced it (``python -m evaluation.run --datasets ...``);
- ``created_at``: when, UTC, ISO 8601 to the second;
- ``machine``: platform, CPU name, ``cpu_count`` (cores), memory, Python, torch's CPU threads, and the GPU's
  name when torch sees one (``processor`` is kept for the files written before this header existed);
- ``versions``: synthgen and the packages the figures depend on (None: not installed).

The header goes first; the script's own keys follow and may not overwrite it.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

HEADER = ("command", "created_at", "machine", "versions")
PACKAGES = (
    "synthgen",
    "torch",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "xgboost",
    "sdv",
    "ctgan",
    "sdmetrics",
    "mostlyai-engine",
)


PEAK_REPORT = """
import atexit, sys, time
started = time.perf_counter()
def report():
    # VmHWM, not ru_maxrss: Linux carries the parent's peak at fork over into a child's ru_maxrss.
    peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
    print(f"RESULT {peak} {time.perf_counter() - started:.3f}", file=sys.stderr)
atexit.register(report)
"""
"""The start of a benchmark's child script: at exit it prints ``RESULT <peak KiB> <seconds>`` to stderr, its
own peak resident memory and wall time (interpreter, imports and all)."""


def run_checkout(script: str | os.PathLike[str], source: Path, args: Sequence[str]) -> dict[str, Any]:
    """Run ``script`` (a benchmark's own file, with ``args``) in a fresh interpreter that imports synthgen from
    the checkout ``source``, and return the JSON object its last output line holds. A file, not ``-m``: an
    older checkout (a baseline) may have no such module."""
    import json
    import subprocess
    import sys

    command = [sys.executable, str(Path(script).resolve()), *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    """``python -m MODULE ARGS``: what to type to run it again (``argv`` default: this process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python -m", module, *([shlex.join(args)] if args else [])])


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name(device: str | None = None) -> str | None:
    """The CUDA device's name when ``device`` is cuda (None: whenever torch sees one), else None."""
    if device not in (None, "cuda") and not str(device).startswith("cuda"):
        return None
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a header must never fail a run
        return None


def machine(device: str | None = "cpu") -> dict[str, Any]:
    """Where the figures come from. ``device``: the run's torch device (its GPU is named when it is cuda)."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    gpu = gpu_name(device)
    if gpu is not None:
        info["gpu"] = gpu
    return info


def versions(packages: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for package in packages:
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def header(command: str, device: str | None = "cpu") -> dict[str, Any]:
    """The shared header; build it once per run and pass it to every `write_results` of that run."""
    return {
        "command": command,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(device),
        "versions": versions(),
    }


def write_results(
    path: str | os.PathLike[str],
    body: dict[str, Any],
    *,
    command: str | None = None,
    device: str | None = "cpu",
    head: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``header + body`` to ``path`` atomically and return it.

    Give ``head`` (from `header`) when a run writes the same file several times (partial results), else
    ``command`` (and ``device``) and the header is made here.
    """
    from synthgen.io import write_json

    if head is None:
        if command is None:
            raise TypeError("write_results needs command= or head=")
        head = header(command, device)
    clash = sorted(set(HEADER) & set(body))
    if clash:
        raise ValueError(f"the results body may not set header field(s) {', '.join(clash)}")
    payload = {**head, **body}
    write_json(payload, Path(path))
    return payload
