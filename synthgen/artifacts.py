"""A model directory: everything JSON except the weights, which are safetensors.

Loading a model never runs code from the directory (SDV's cloudpickle files do): the config names a
registered class, the schema and transformer state are validated JSON, the weights are plain tensors.

Layout::

    config.json        {"format_version", "class", "synthgen_version", "config"}
    schema.json        TableSchema
    transforms.json    transformer state
    state.json         fitted state that is not a tensor (sampler frequencies, id/PII templates, log)
    weights.safetensors
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError

from synthgen._version import __version__
from synthgen.errors import InputError, ModelFileError
from synthgen.files import file_mode, make_staging_dir, replace_directory
from synthgen.schema import TableSchema

if TYPE_CHECKING:
    import torch

FORMAT_VERSION = 1
FILES = ("config.json", "schema.json", "transforms.json", "state.json", "weights.safetensors")


@dataclass
class ModelFiles:
    class_name: str
    config: dict[str, Any]
    schema: TableSchema
    transforms: dict[str, Any]
    state: dict[str, Any]
    weights: dict[str, torch.Tensor]
    synthgen_version: str
    path: Path | None = None


def check_model_target(path: str | Path) -> Path:
    """Refuse, before any training, a model directory that would destroy something that is not a model.

    Saving replaces the whole folder. That is safe only for a new or empty folder, or for a synthgen
    model directory holding nothing but its own files: a folder of the user's (or the folder of the
    source data, given as ``model_dir``) would be deleted with everything in it. Another process saving
    into the same folder swaps it out and in for an instant, so a refusal counts only when it holds on
    a second and third look.
    """
    path = Path(path)
    problem = ""
    for attempt in range(_LOOKS):
        problem = _target_problem(path)
        if not problem:
            return path
        time.sleep(0.02 * (attempt + 1))
    raise InputError(f"{path}: {problem}")


_LOOKS = 3


def _target_problem(path: Path) -> str:
    """Why saving a model at ``path`` would destroy something, or '' when it would not."""
    try:
        if not path.exists() and not path.is_symlink():
            return ""
        if not path.is_dir() or path.is_symlink():
            return "exists and is not a folder; choose a new folder for the model"
        entries = sorted(entry.name for entry in path.iterdir())
    except FileNotFoundError:
        return ""  # swapped away by a concurrent save: nothing of the user's is there
    except OSError as exc:
        return f"cannot be inspected: {exc.strerror or exc}"
    if not entries:
        return ""
    is_model = _is_model_dir(path) if "config.json" in entries else False
    if is_model is None:
        return ""  # listed a moment ago, gone now: a concurrent save swapped the folder
    if not is_model:
        shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        return (
            f"is not a synthgen model directory (it holds {shown}); saving a model replaces the "
            "whole folder, so choose a new or empty folder"
        )
    foreign = [name for name in entries if name not in FILES]
    if foreign:
        return (
            f"holds file(s) that are not part of the model ({', '.join(foreign[:3])}); saving a model "
            "replaces the whole folder, so move them out or choose another folder"
        )
    return ""


def _is_model_dir(path: Path) -> bool | None:
    """Whether ``path`` holds a synthgen model config; None when the folder was swapped away meanwhile."""
    try:
        header = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return False
    return isinstance(header, dict) and "format_version" in header and "class" in header


def save_model_dir(path: str | Path, files: ModelFiles) -> Path:
    """Write every file into a staging folder beside ``path``, then move it into place."""
    path = check_model_target(path)
    staging = make_staging_dir(path)  # creates the parent folders; its failures are InputErrors
    try:
        header = {
            "format_version": FORMAT_VERSION,
            "class": files.class_name,
            "synthgen_version": __version__,
            "config": files.config,
        }
        _dump(staging / "config.json", header)
        _dump(staging / "schema.json", files.schema.to_json_dict())
        _dump(staging / "transforms.json", files.transforms)
        _dump(staging / "state.json", files.state)
        tensors = {name: t.detach().to("cpu").contiguous() for name, t in files.weights.items()}
        from safetensors.torch import save_file  # torch is imported only where tensors are written

        save_file(tensors, str(staging / "weights.safetensors"), metadata={"format_version": str(FORMAT_VERSION)})
        _settle(staging)
        # The folder may have changed while the model was written: checked again before each move.
        replace_directory(staging, path, guard=check_model_target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"{path}: cannot write the model: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _settle(folder: Path) -> None:
    """Flush every file to disk before the folder is renamed into place (a crash then leaves the old
    model or the new one, never a truncated one), with the mode of any new file: safetensors writes
    its file 0600, which kept teammates from loading a shared model."""
    mode = file_mode()
    for item in folder.iterdir():
        os.chmod(item, mode)
        with open(item, "rb") as handle:
            os.fsync(handle.fileno())


def _dump(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def load_model_dir(path: str | Path) -> ModelFiles:
    """Read and check a model directory; every problem is one `ModelFileError` naming the file."""
    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"{path}: model directory not found")
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise ModelFileError(f"{path}: not a synthgen model directory (missing {', '.join(missing)})")
    header = _load_json(path / "config.json")
    if not isinstance(header, dict) or "format_version" not in header or "class" not in header:
        raise ModelFileError(f"{path / 'config.json'}: not a synthgen model config")
    if header["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {header['format_version']!r} is not supported by synthgen "
            f"{__version__} (which reads version {FORMAT_VERSION}); retrain the model with this version"
        )
    try:
        schema = TableSchema.from_json_dict(_load_json(path / "schema.json"))
    except ValueError as exc:
        raise ModelFileError(f"{path / 'schema.json'}: invalid schema: {exc}") from None
    try:
        from safetensors.torch import load_file  # and read: checking a model folder needs no torch

        weights = load_file(str(path / "weights.safetensors"), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path / 'weights.safetensors'}: corrupt weights file: {exc}") from None
    config = header.get("config") or {}
    if not isinstance(config, dict):
        raise ModelFileError(f"{path / 'config.json'}: 'config' must be a JSON object, got {type(config).__name__}")
    return ModelFiles(
        class_name=str(header["class"]),
        config=config,
        schema=schema,
        transforms=_load_object(path / "transforms.json"),
        state=_load_object(path / "state.json"),
        weights=weights,
        synthgen_version=str(header.get("synthgen_version", "unknown")),
        path=path,
    )


def _load_object(path: Path) -> dict[str, Any]:
    data = _load_json(path)
    if not isinstance(data, dict):
        raise ModelFileError(
            f"{path}: expected a JSON object, got {type(data).__name__}; the model directory is corrupt"
        )
    return data


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: corrupt JSON: {exc}") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
