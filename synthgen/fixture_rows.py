"""Rows of recipes for test suites, by any test framework: what the pytest fixture (`synthgen.pytest_plugin`)
does, without pytest.

A call is answered by the first of:

1. this object's own answer to the same call (each call still gets its own copy of the rows);
2. rows kept by an earlier run of the same call, while the recipe, its data and the model are unchanged
   (`synthgen.kept_calls`): nothing but pandas and the Parquet reader is imported;
3. rows kept from the same model for the same resolved request (`ModelCache.kept_rows`: the recipe is
   validated, no model is loaded);
4. the model, found or trained once (`synthgen.fixture_cache.ModelCache`), sampled; the rows are kept.

So a test suite's second run reads its rows back in about the time it takes to import pandas, and a
first run trains each recipe's model once however many tests and pytest-xdist workers ask for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgen._version import __version__
from synthgen.kept_calls import CallIndex, canonical

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

    from synthgen.fixture_cache import CachedModel, ModelCache
    from synthgen.models.base import Generator
    from synthgen.recipe import Recipe

DEFAULT_ROWS = 1000


@dataclass(frozen=True)
class Drawn:
    """One call's rows and what it resolved to: enough to replay it."""

    frame: pd.DataFrame
    rows: int
    seed: int
    model: Path
    """The model directory the rows came from."""
    origin: str
    """"kept rows" (read back, no model loaded), else where the model came from: given, recipe, cache, trained."""


class FixtureRows:
    """Rows of recipes, with models kept in ``cache_dir`` and relative paths read from ``root``.

    ``default_seed`` is the seed of calls that give none (None: the recipe's sampling seed); ``device`` is
    where models train and sample (``cpu`` gives the same rows on every machine); ``retrain`` trains every
    model again once per ``run_id`` and reads no kept rows.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str],
        *,
        root: str | os.PathLike[str] | None = None,
        device: str = "cpu",
        retrain: bool = False,
        run_id: str = "",
        default_seed: int | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.root = Path.cwd() if root is None else Path(root)
        self.device = device
        self.retrain = retrain
        self.run_id = run_id
        self.default_seed = default_seed
        self.models: dict[str, CachedModel] = {}
        """The models this object loaded or trained, by recipe and model folder."""
        self.kept: dict[Path, int] = {}
        """Per model directory, the calls answered with rows kept by an earlier run (no model loaded)."""
        self._calls = CallIndex(self.cache_dir)
        self._answers: dict[str, Drawn] = {}
        self._recipes: dict[Path, Recipe] = {}
        self._cache: ModelCache | None = None

    def dataset(
        self,
        recipe: str | os.PathLike[str],
        rows: int | None = None,
        seed: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        model: str | os.PathLike[str] | None = None,
    ) -> Drawn:
        """``rows`` rows of ``recipe``'s model (default: the recipe's ``generate.rows``, else 1,000);
        see the ``synthgen`` fixture for the arguments. The frame is the caller's own copy."""
        call = {
            "recipe": str(self.path(recipe)),
            "rows": None if rows is None else int(rows),
            "seed": self.default_seed if seed is None else int(seed),
            "conditions": dict(conditions or {}),
            "model": None if model is None else str(self.path(model)),
            "device": self.device,
            "version": __version__,
        }
        key = canonical(call)
        if key not in self._answers:
            self._answers[key] = self._answer(call)
        answer = self._answers[key]
        return replace(answer, frame=answer.frame.copy())

    def model(self, recipe: str | os.PathLike[str], model: str | os.PathLike[str] | None = None) -> Generator:
        """The fitted generator behind `dataset` (for seed rows, `iter_sample` or sampling options)."""
        return self._model(self.path(recipe), None if model is None else self.path(model)).model

    def path(self, path: str | os.PathLike[str]) -> Path:
        return self.root / Path(path).expanduser()  # an absolute path stays itself

    @property
    def cache(self) -> ModelCache:
        if self._cache is None:
            from synthgen.fixture_cache import ModelCache

            self._cache = ModelCache(self.cache_dir, retrain=self.retrain, device=self.device, run_id=self.run_id)
        return self._cache

    def _answer(self, call: dict[str, Any]) -> Drawn:
        found = None if self.retrain else self._calls.find(call)
        if found is not None:
            self.kept[found.model] = self.kept.get(found.model, 0) + 1
            return Drawn(found.frame, found.rows, found.seed, found.model, "kept rows")
        from synthgen.pipeline import sampling_seed

        recipe_path = Path(call["recipe"])
        model_dir = None if call["model"] is None else Path(call["model"])
        loaded = self._recipe(recipe_path)
        n = call["rows"] if call["rows"] is not None else loaded.generate.rows or DEFAULT_ROWS
        request = {
            "rows": n,
            "seed": sampling_seed(loaded, call["seed"]),
            "conditions": {**loaded.generate.conditions, **call["conditions"]},
            "rebalance": loaded.generate.rebalance,
        }
        kept = self.cache.kept_rows(loaded, request, model_dir)  # None with ``retrain``
        if kept is not None:
            path, rows_file, frame = kept
            self.kept[path] = self.kept.get(path, 0) + 1
            drawn = Drawn(frame, n, request["seed"], path, "kept rows")
        else:
            cached = self._model(recipe_path, model_dir)
            frame = cached.model.sample(
                n, seed=request["seed"], conditions=request["conditions"], rebalance=request["rebalance"]
            )
            rows_file = self.cache.keep_rows(loaded, cached.path, request, frame)
            drawn = Drawn(frame, n, request["seed"], cached.path, cached.origin)
        if model_dir is None or drawn.model == model_dir:  # past a stale given folder: its warning every run
            self._calls.record(
                call,
                rows_file=rows_file,
                model=drawn.model,
                rows=n,
                seed=request["seed"],
                files=self.cache.inputs(loaded, drawn.model, model_dir),
            )
        return drawn

    def _model(self, recipe_path: Path, model_dir: Path | None) -> CachedModel:
        key = f"{recipe_path.resolve()}|{model_dir}"
        if key not in self.models:
            self.models[key] = self.cache.get(self._recipe(recipe_path), model_dir=model_dir)
        return self.models[key]

    def _recipe(self, path: Path) -> Recipe:
        from synthgen.recipe import load_recipe

        if path not in self._recipes:
            self._recipes[path] = load_recipe(path)
        return self._recipes[path]
