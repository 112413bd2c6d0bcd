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
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from synthgen._version import __version__
from synthgen.errors import InputError, ModelFileError
from synthgen.io import replace_directory
from synthgen.schema import TableSchema

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


def save_model_dir(path: str | Path, files: ModelFiles) -> Path:
    """Write every file into a staging folder beside ``path``, then move it into place."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:
        raise InputError(f"{path}: cannot create the model folder: {exc.strerror or exc}") from None
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
        save_file(tensors, str(staging / "weights.safetensors"), metadata={"format_version": str(FORMAT_VERSION)})
        replace_directory(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


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
        weights = load_file(str(path / "weights.safetensors"), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path / 'weights.safetensors'}: corrupt weights file: {exc}") from None
    return ModelFiles(
        class_name=str(header["class"]),
        config=dict(header.get("config") or {}),
        schema=schema,
        transforms=_load_json(path / "transforms.json"),
        state=_load_json(path / "state.json"),
        weights=weights,
        synthgen_version=str(header.get("synthgen_version", "unknown")),
    )


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: corrupt JSON: {exc}") from None
