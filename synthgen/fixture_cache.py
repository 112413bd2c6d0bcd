"""Trained models for test suites: found where they already are, else trained once and kept on disk.

A test suite asks for rows from a recipe many times, in many sessions and, under pytest-xdist, in
several processes at once. Training is the only slow part, so a model is looked for, in order:

1. a model directory named by the caller (``model=``), e.g. one committed beside the tests and made by
   ``synthgen train RECIPE --out DIR``;
2. the recipe's own model directory (``model_dir:``, where ``synthgen generate`` keeps its model);
3. this cache, under ``<name>-<fingerprint>``.

Each is used only if its fingerprint is the recipe's (`synthgen.pipeline.model_fingerprint`: the
recipe's training settings, the source file's bytes and the synthgen version), so a changed recipe, new
data or a new synthgen never serve rows from a stale model. When none fits, the model is trained into
the cache under a file lock: the first process trains, the others wait and then load what it saved.
Every model is loaded from its directory, a freshly trained one too, so a seed gives the same rows on
the first run as on every later one.

The rows themselves are kept too (``samples/<key>.parquet``), keyed by the bytes of the model directory
they came from and everything that decides them (rows, seed, conditions, rebalancing, sampling settings,
device, synthgen version). A test run that asks for the same rows again reads them back without loading
torch or the model: that is the warm path, about a second in a fresh process.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from filelock import FileLock

from synthgen._version import __version__
from synthgen.artifacts import FILES
from synthgen.errors import DataError, ModelFileError
from synthgen.io import read_json, write_json, write_table
from synthgen.pipeline import (
    apply_overrides,
    is_streamed_source,
    load_source,
    model_fingerprint,
    open_source,
    reusable_model,
    source_path,
    train_model,
)
from synthgen.unmodelled import pii_exclusions

if TYPE_CHECKING:
    from synthgen.models.base import Generator
    from synthgen.recipe import Recipe

Origin = Literal["given", "recipe", "cache", "trained"]


class StaleModelWarning(UserWarning):
    """A model directory named for a recipe was trained from other settings, data or synthgen version."""


@dataclass(frozen=True)
class CachedModel:
    model: Generator
    path: Path
    origin: Origin
    """Where the model came from: the caller's directory, the recipe's, the cache, or trained just now."""
    seconds: float
    """Time taken to find (or train) and load it."""


class ModelCache:
    """The models of recipes, kept in ``root``; ``retrain`` ignores every saved model once per ``run_id``.

    ``run_id`` names one test run (pytest-xdist gives all its workers the same one): with ``retrain``,
    the first worker trains again and the others load its model instead of each retraining.
    """

    def __init__(self, root: str | Path, *, retrain: bool = False, device: str = "cpu", run_id: str = "") -> None:
        self.root = Path(root)
        self.retrain = retrain
        self.device = device
        self.run_id = run_id

    def get(self, recipe: Recipe, model_dir: str | Path | None = None) -> CachedModel:
        """The fitted model of ``recipe``, set to sample on this cache's device."""
        started = time.perf_counter()
        recipe = apply_overrides(recipe, device=self.device)
        cached = self.path_for(recipe)
        found = None if self.retrain else self._saved(recipe, model_dir, cached)
        if found is None:
            found = self._cached_or_trained(recipe, cached)
        model, path, origin = found
        if _regenerates_real_values(model):  # as `generate` does: no real PII value or random id comes back
            model.exclude_source_pii(open_source(recipe) if is_streamed_source(recipe) else load_source(recipe))
        return CachedModel(model, path, origin, time.perf_counter() - started)

    def path_for(self, recipe: Recipe) -> Path:
        return self.root / f"{recipe.name}-{model_fingerprint(recipe)}"

    def current_dir(self, recipe: Recipe, model_dir: str | Path | None = None) -> Path | None:
        """The directory `get` would load, told by the fingerprint it saved (nothing is loaded); None when
        it would train, or with ``retrain``."""
        if self.retrain:
            return None
        fingerprint = model_fingerprint(recipe)
        if model_dir is not None:  # the caller's folder or nothing: a stale one is trained past, with a warning
            return Path(model_dir) if _saved_fingerprint(Path(model_dir)) == fingerprint else None
        for path in (recipe.model_path, self.path_for(recipe)):
            if _saved_fingerprint(path) == fingerprint:
                return path
        return None

    def kept_rows(
        self, recipe: Recipe, request: dict, model_dir: str | Path | None = None
    ) -> tuple[Path, Path, pd.DataFrame] | None:
        """(model directory, rows file, rows) when the model `get` would load drew ``request`` before and
        kept the rows; found without loading it. ``request``: what decides the rows (rows, seed, ...)."""
        current = self.current_dir(recipe, model_dir)  # None with ``retrain`` too
        if current is None:
            return None
        path = self.rows_path(recipe, current, request)
        if not path.is_file():
            return None
        try:
            return current, path, pd.read_parquet(path)
        except (OSError, ValueError):  # unreadable: drawn again and kept anew
            return None

    def keep_rows(self, recipe: Recipe, model_dir: Path, request: dict, frame: pd.DataFrame) -> Path:
        """Keep ``frame``, drawn for ``request`` from the model in ``model_dir`` (a temporary file, then a
        rename: parallel workers never read half a file); returns the rows file."""
        path = self.rows_path(recipe, model_dir, request)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_table(frame, path)

    def rows_path(self, recipe: Recipe, model_dir: Path, request: dict) -> Path:
        """Where the rows of ``request`` drawn from the model in ``model_dir`` are kept: named by the
        model's bytes and everything else that decides the rows."""
        digest = hashlib.sha256()
        for name in FILES:
            digest.update((model_dir / name).read_bytes())
        settings = apply_overrides(recipe, device=self.device).generator.model_dump(mode="json")
        key = {"request": request, "generator": settings, "device": self.device, "version": __version__}
        digest.update(json.dumps(key, sort_keys=True, default=repr).encode())
        return self.root / "samples" / f"{digest.hexdigest()[:32]}.parquet"

    def inputs(self, recipe: Recipe, used: Path, given: str | Path | None = None) -> list[Path]:
        """The files whose bytes decide the rows drawn from the model in ``used`` (see
        `synthgen.kept_calls`): the recipe, its source table, the model's files, and the state of every
        model folder `get` looks in before ``used`` (one becoming current would be chosen instead)."""
        files = [] if recipe.path is None else [recipe.path]
        files += [source_path(recipe), *(used / name for name in FILES)]
        for candidate in (given, recipe.model_path, self.path_for(recipe)):
            if candidate is None:
                continue
            if Path(candidate) == used:
                break
            files.append(Path(candidate) / "state.json")
        return files

    def _saved(
        self, recipe: Recipe, model_dir: str | Path | None, cached: Path
    ) -> tuple[Generator, Path, Origin] | None:
        if model_dir is not None:
            given = Path(model_dir)
            model = _load_if_current(recipe, given)
            if model is not None:
                return model, given, "given"
            warnings.warn(
                f"{given} holds no model of {recipe.label} as it is now (recipe settings, source data and synthgen "
                f"version must match); training one into the test cache instead. Refresh it with: "
                f"synthgen train {recipe.path or recipe.name} --out {given}",
                StaleModelWarning,
                stacklevel=3,
            )
        own = recipe.model_path
        model = _load_if_current(recipe, own)
        if model is not None:
            return model, own, "recipe"
        model = _load_if_current(recipe, cached)
        return None if model is None else (model, cached, "cache")

    def _cached_or_trained(self, recipe: Recipe, path: Path) -> tuple[Generator, Path, Origin]:
        stamp = path.with_name(path.name + ".json")
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path.with_name(path.name + ".lock"))):
            # Another process may have trained it while this one waited for the lock.
            if not self.retrain or _trained_in(stamp) == self.run_id:
                model = _load_if_current(recipe, path)
                if model is not None:
                    return model, path, "cache"
            started = time.perf_counter()
            train_model(recipe, out=path)
            write_json({"run_id": self.run_id, "seconds": round(time.perf_counter() - started, 3)}, stamp)
            model = _load_if_current(recipe, path)
        if model is None:  # saved a moment ago with this very fingerprint: only a broken disk gets here
            raise ModelFileError(f"{path}: the model just trained for {recipe.label} cannot be read back")
        return model, path, "trained"


def _regenerates_real_values(model: Generator) -> bool:
    """Whether the model fills PII or random-id columns, whose real values must be kept out of its rows
    (read from the source, which is otherwise not needed to sample)."""
    schema = model.schema_
    return bool(pii_exclusions(pd.DataFrame(columns=[column.name for column in schema.columns]), schema))


def _load_if_current(recipe: Recipe, path: Path) -> Generator | None:
    return reusable_model(recipe, path) if path.is_dir() else None


def _saved_fingerprint(path: Path) -> str | None:
    """The fingerprint a model directory was saved with, read from its state.json alone."""
    try:
        state = read_json(path / "state.json")
    except DataError:
        return None
    metadata = state.get("metadata") if isinstance(state, dict) else None
    return metadata.get("fingerprint") if isinstance(metadata, dict) else None


def _trained_in(stamp: Path) -> str | None:
    try:
        data = read_json(stamp)
    except DataError:  # no stamp, or an unreadable one: the model is retrained
        return None
    return str(data.get("run_id")) if isinstance(data, dict) else None
