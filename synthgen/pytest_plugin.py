"""Synthetic borrowers in test suites: the ``synthgen`` fixture and the ``synthgen`` marker.

Loaded by pytest through the ``pytest11`` entry point::

    def test_scores(synthgen):
        rows = synthgen.dataset("recipes/credit_risk.yaml", rows=200, seed=1, conditions={"loan_status": "1"})

    @pytest.mark.synthgen(recipe="recipes/german_credit.yaml", rows=500, model="tests/models/german_credit")
    def test_pipeline(synthetic_rows): ...

Recipe and model paths are relative to pytest's rootdir. Models come from `synthgen.fixture_cache`:
a committed model directory or the recipe's own when their fingerprint matches, else one trained once
into the cache (``--synthgen-cache``, ``SYNTHGEN_CACHE``, else pytest's cache folder). The recipe, seed
and conditions of every dataset a failing test used are printed in its report, so it can be replayed.

This module is imported by every pytest run of a project that installs synthgen: it imports nothing
heavy until a test asks for rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator as HookWrapper, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.fixture_rows import FixtureRows
    from synthgen.models.base import Generator

CACHE_ENV = "SYNTHGEN_CACHE"
MARKER_HELP = (
    "synthgen(recipe, rows=1000, seed=None, conditions=None, model=None): the rows the synthetic_rows "
    "fixture gives this test, drawn from the recipe's model (see the synthgen fixture)"
)


@dataclass
class Use:
    """One dataset a test drew: what replaying it needs."""

    recipe: str
    rows: int
    seed: int
    seed_given: bool
    conditions: dict[str, Any]
    model: Path
    origin: str

    def call(self) -> str:
        conditions = f", conditions={self.conditions!r}" if self.conditions else ""
        return f"synthgen.dataset({self.recipe!r}, rows={self.rows}, seed={self.seed}{conditions})"


_USES = pytest.StashKey[list[Use]]()
_RECORDER = pytest.StashKey["Recorder"]()


@dataclass
class Recorder:
    """Which test is running, so the session fixture can note the datasets each test draws."""

    current: list[Use] | None = None
    rows: FixtureRows | None = None
    """The session's source of rows, once a test asked for some: its models and kept rows are summed up."""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)


# -- options and marker ----------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("synthgen", "synthetic rows from synthgen recipes")
    group.addoption(
        "--synthgen-seed",
        type=int,
        default=None,
        metavar="N",
        help="Seed of the synthgen datasets whose call gives none (default: the recipe's sampling seed).",
    )
    group.addoption(
        "--synthgen-retrain", action="store_true", help="Train every synthgen model again, ignoring saved ones."
    )
    group.addoption(
        "--synthgen-cache",
        default=None,
        metavar="DIR",
        help=f"Folder of the models synthgen trains for tests (default: ${CACHE_ENV}, else pytest's cache).",
    )
    group.addoption(
        "--synthgen-device",
        default="cpu",
        choices=("cpu", "cuda", "auto"),
        help="Device synthgen trains and samples on (default: cpu, whose rows are the same on every machine).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[_RECORDER] = Recorder()


# -- fixtures --------------------------------------------------------------------------------------
class SyntheticData:
    """The ``synthgen`` fixture: rows from recipes, with each model found or trained once per session."""

    def __init__(self, rows: FixtureRows, recorder: Recorder) -> None:
        self._rows = rows
        self._recorder = recorder

    def dataset(
        self,
        recipe: str | os.PathLike[str],
        rows: int | None = None,
        seed: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        model: str | os.PathLike[str] | None = None,
    ) -> pd.DataFrame:
        """``rows`` rows of ``recipe``'s model (default: the recipe's ``generate.rows``, else 1,000).

        ``seed`` defaults to ``--synthgen-seed``, else the recipe's sampling seed; ``conditions`` are
        `Generator.sample`'s (added to the recipe's ``generate.conditions``, whose ``rebalance`` applies
        too); ``model`` names a model directory to use instead of training. Each call returns a new
        DataFrame: the test may change it.
        """
        drawn = self._rows.dataset(recipe, rows=rows, seed=seed, conditions=conditions, model=model)
        if self._recorder.current is not None:
            given = seed is not None
            use = Use(str(recipe), drawn.rows, drawn.seed, given, dict(conditions or {}), drawn.model, drawn.origin)
            self._recorder.current.append(use)
        return drawn.frame

    def model(self, recipe: str | os.PathLike[str], model: str | os.PathLike[str] | None = None) -> Generator:
        """The fitted generator behind `dataset` (for seed rows, `iter_sample` or sampling options)."""
        return self._rows.model(recipe, model)


@pytest.fixture(scope="session")
def synthgen(pytestconfig: pytest.Config) -> SyntheticData:
    """Synthetic rows from synthgen recipes: ``synthgen.dataset(recipe, rows=, seed=, conditions=, model=)``."""
    from synthgen.fixture_rows import FixtureRows

    rows = FixtureRows(
        cache_dir(pytestconfig),
        root=pytestconfig.rootpath,
        device=pytestconfig.getoption("synthgen_device"),
        retrain=pytestconfig.getoption("synthgen_retrain"),
        run_id=run_id(pytestconfig),
        default_seed=pytestconfig.getoption("synthgen_seed"),
    )
    recorder = pytestconfig.stash[_RECORDER]
    recorder.rows = rows
    return SyntheticData(rows, recorder)


@pytest.fixture
def synthetic_rows(request: pytest.FixtureRequest, synthgen: SyntheticData) -> pd.DataFrame:
    """The rows of the test's ``@pytest.mark.synthgen(recipe=..., rows=..., seed=..., conditions=..., model=...)``."""
    marker = request.node.get_closest_marker("synthgen")
    if marker is None:
        pytest.fail(
            "the synthetic_rows fixture needs a @pytest.mark.synthgen(recipe=..., rows=...) marker on the test, "
            "its class or its module",
            pytrace=False,
        )
    kwargs = dict(marker.kwargs)
    if marker.args:
        kwargs.setdefault("recipe", marker.args[0])
    if "recipe" not in kwargs:
        pytest.fail("@pytest.mark.synthgen needs recipe=", pytrace=False)
    unknown = sorted(set(kwargs) - {"recipe", "rows", "seed", "conditions", "model"})
    if unknown:
        pytest.fail(f"@pytest.mark.synthgen takes no {', '.join(unknown)}", pytrace=False)
    return synthgen.dataset(**kwargs)


def cache_dir(config: pytest.Config) -> Path:
    """``--synthgen-cache``, else ``$SYNTHGEN_CACHE``, else ``synthgen`` in pytest's cache folder."""
    chosen = config.getoption("synthgen_cache") or os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    if cache is not None:
        return Path(cache.mkdir("synthgen"))
    return Path(config.rootpath) / ".synthgen" / "pytest"


def run_id(config: pytest.Config) -> str:
    """One id for the whole run: pytest-xdist hands its own to every worker."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "testrunuid" in workerinput:
        return str(workerinput["testrunuid"])
    return config.stash[_RECORDER].run_id


# -- reporting -------------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> HookWrapper[None, object, object]:
    recorder = item.config.stash[_RECORDER]
    recorder.current = item.stash.setdefault(_USES, [])
    try:
        return (yield)
    finally:
        recorder.current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> HookWrapper[None, Any, Any]:
    report = yield
    uses = item.stash.get(_USES, [])
    if report.failed and uses:
        report.sections.append(("synthgen", replay_text(item.nodeid, uses)))
        # --junitxml writes the properties of the test's last report (teardown), taken from the item
        item.user_properties.extend(("synthgen", use.call()) for use in uses)
    return report


def replay_text(nodeid: str, uses: list[Use]) -> str:
    """The datasets a failed test drew, each as the call that gives the same rows, and a replay command."""
    lines = [f"{use.call()}  # model {use.model} ({use.origin})" for use in uses]
    defaulted = sorted({use.seed for use in uses if not use.seed_given})
    if len(defaulted) == 1:
        lines.append(f"replay: pytest '{nodeid}' --synthgen-seed {defaulted[0]}")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    recorder = config.stash.get(_RECORDER, None)
    rows = None if recorder is None else recorder.rows
    if rows is None or not (rows.models or rows.kept):
        return
    terminalreporter.section("synthgen", sep="-")
    for cached in rows.models.values():
        verb = "trained" if cached.origin == "trained" else f"loaded ({cached.origin})"
        terminalreporter.write_line(f"{cached.path.name}: {verb} in {cached.seconds:.1f} s from {cached.path}")
    for path, count in rows.kept.items():
        terminalreporter.write_line(f"{path.name}: {count} request(s) answered with rows kept from an earlier run")
