"""Rows for test suites without pytest: the same call answered from kept rows while, and only while, the
recipe, its data and the model behind them are unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import synthgen
from synthgen.fixture_rows import FixtureRows
from tests.conftest import GERMAN

RECIPE = """\
name: tiny
source: borrowers.csv
schema:
  target: creditability
generator:
  type: ddpm
  steps: 20
  width: 32
  depth: 2
  time_dim: 16
  batch_size: 128
  timesteps: 100
  sampling_steps: 10
split:
  holdout: 0.2
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the tiny recipe, its data, and ``cache/`` holding its model and one kept call."""
    root = tmp_path_factory.mktemp("rows")
    pd.read_csv(GERMAN).head(200).to_csv(root / "borrowers.csv", index=False)
    (root / "tiny.yaml").write_text(RECIPE)
    first = FixtureRows(root / "cache", root=root).dataset("tiny.yaml", rows=30, seed=1)
    assert first.origin == "trained"
    return root


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    """A copy of the trained folder, for a test that changes its files."""
    shutil.copytree(trained, tmp_path / "project")
    return tmp_path / "project"


def test_a_new_session_reads_the_rows_back_without_the_model(trained: Path) -> None:
    first = FixtureRows(trained / "cache", root=trained)
    drawn = first.dataset("tiny.yaml", rows=30, seed=1)
    assert drawn.origin == "kept rows" and first.models == {}
    assert (drawn.rows, drawn.seed, len(drawn.frame)) == (30, 1, 30)
    assert drawn.model.name.startswith("tiny-") and first.kept == {drawn.model: 1}
    drawn.frame.loc[0, "age_in_years"] = -1  # the caller's own copy
    again = first.dataset("tiny.yaml", rows=30, seed=1)
    assert (again.frame.age_in_years > 0).all()
    assert first.dataset("tiny.yaml", rows=30, seed=2).origin == "cache"  # a new call loads the model


def test_default_seed_and_rows_resolve_as_the_recipe_says(trained: Path) -> None:
    rows = FixtureRows(trained / "cache", root=trained, default_seed=1)
    drawn = rows.dataset(trained / "tiny.yaml", rows=30)
    assert drawn.seed == 1 and drawn.origin == "kept rows"  # the call above, made with the seed given
    assert len(rows.dataset("tiny.yaml", seed=3).frame) == 1000  # no rows, no generate.rows: 1,000


def test_a_recipe_edit_that_changes_nothing_reads_the_rows_by_content(project: Path) -> None:
    """Other recipe bytes miss the index; the validated recipe still finds the same model and request."""
    (project / "tiny.yaml").write_text("# a comment\n" + RECIPE)
    rows = FixtureRows(project / "cache", root=project)
    drawn = rows.dataset("tiny.yaml", rows=30, seed=1)
    assert drawn.origin == "kept rows" and rows.models == {}
    assert FixtureRows(project / "cache", root=project).dataset("tiny.yaml", rows=30, seed=1).origin == "kept rows"


def test_new_sampling_settings_sample_the_model_again(project: Path) -> None:
    kept = FixtureRows(project / "cache", root=project).dataset("tiny.yaml", rows=30, seed=1).frame
    (project / "tiny.yaml").write_text(RECIPE.replace("sampling_steps: 10", "sampling_steps: 5"))
    drawn = FixtureRows(project / "cache", root=project).dataset("tiny.yaml", rows=30, seed=1)
    assert drawn.origin == "cache"
    assert not drawn.frame.equals(kept)


def test_new_data_trains_again(project: Path) -> None:
    data = pd.read_csv(project / "borrowers.csv")
    data.iloc[:-1].to_csv(project / "borrowers.csv", index=False)
    assert FixtureRows(project / "cache", root=project).dataset("tiny.yaml", rows=30, seed=1).origin == "trained"


def test_a_model_in_the_recipes_own_folder_is_preferred_once_it_appears(project: Path) -> None:
    synthgen.train(project / "tiny.yaml", device="cpu")  # into the recipe's model_dir
    drawn = FixtureRows(project / "cache", root=project).dataset("tiny.yaml", rows=30, seed=1)
    assert drawn.origin == "recipe"
    assert FixtureRows(project / "cache", root=project).dataset("tiny.yaml", rows=30, seed=1).origin == "kept rows"


def test_retrain_reads_no_kept_rows(project: Path) -> None:
    rows = FixtureRows(project / "cache", root=project, retrain=True, run_id="r1")
    assert rows.dataset("tiny.yaml", rows=30, seed=1).origin == "trained"
