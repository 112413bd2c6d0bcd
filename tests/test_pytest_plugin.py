"""The pytest plugin, run as users run it: inner pytest sessions (pytester) on a tiny recipe.

One tiny diffusion model (200 german_credit rows and a PII column, 30 training steps) is trained into a
cache shared by the module, by two threads at once; the tests that need a cold start, a retrain or a
committed model directory train their own.
"""

from __future__ import annotations

import shutil
import string
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.fixture_cache import CachedModel, ModelCache
from synthgen.recipe import load_recipe

pytest_plugins = ["pytester"]
# Inner sessions leave out the plugins they do not need (hypothesis's and faker's take seconds to import);
# in-process ones find synthgen imported already, so pytest cannot rewrite the plugin's package.
PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:faker")
INNER = (*PLUGINS, "-W", "ignore::pytest.PytestAssertRewriteWarning")

GERMAN = Path(__file__).resolve().parents[1] / "synthgen" / "data" / "german_credit.csv"
TINY_RECIPE = """\
name: tiny
source: borrowers.csv
schema:
  target: creditability
  columns:
    code: {{kind: pii}}
generator:
  type: ddpm
  steps: {steps}
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
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny recipe and its data, and ``cache/`` holding its model, trained there by two
    workers asking for it at once (`test_parallel_workers_train_once` checks how)."""
    root = tmp_path_factory.mktemp("plugin")
    borrowers = pd.read_csv(GERMAN).head(200)
    # A PII column of codes such as "K07": 200 of 2,600 possible, so rows drawn without excluding the real
    # values would repeat some of them.
    codes = [f"{letter}{number:02d}" for letter in string.ascii_uppercase for number in range(100)]
    borrowers.insert(0, "code", np.random.default_rng(0).choice(codes, len(borrowers), replace=False))
    borrowers.to_csv(root / "borrowers.csv", index=False)
    (root / "tiny.yaml").write_text(TINY_RECIPE.format(steps=30))
    recipe, found = load_recipe(root / "tiny.yaml"), []
    workers = [threading.Thread(target=lambda: found.append(ModelCache(root / "cache").get(recipe))) for _ in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    PARALLEL[:] = found
    return root


PARALLEL: list[CachedModel] = []


def test_cold_then_warm_same_rows(pytester: pytest.Pytester, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows meet their conditions, a seed gives the same rows in a session and in the next one, and the
    next session loads the model instead of training it."""
    cache, frames = pytester.path / "cache", pytester.path / "frames"
    frames.mkdir()
    pytester.makepyfile(
        f"""
        import os
        import pandas as pd
        import pytest

        RECIPE = {str(project / "tiny.yaml")!r}
        FRAMES = {str(frames)!r}

        def test_conditions(synthgen):
            rows = synthgen.dataset(RECIPE, rows=60, seed=1, conditions={{"creditability": "bad",
                                                                            "age_in_years": (30, None)}})
            assert len(rows) == 60
            assert (rows.creditability == "bad").all() and (rows.age_in_years >= 30).all()

        def test_same_seed_same_rows(synthgen):
            first = synthgen.dataset(RECIPE, rows=40, seed=3)
            first.loc[0, "age_in_years"] = -1  # each call gives the test its own frame
            again = synthgen.dataset(RECIPE, rows=40, seed=3)
            assert (again.age_in_years > 0).all()
            assert not again.equals(synthgen.dataset(RECIPE, rows=40, seed=4))
            again.to_csv(os.path.join(FRAMES, os.environ["RUN"] + ".csv"), index=False)

        @pytest.mark.synthgen(recipe=RECIPE, rows=25, seed=2, conditions={{"housing": "own"}})
        def test_marker(synthetic_rows):
            assert len(synthetic_rows) == 25 and (synthetic_rows.housing == "own").all()
        """
    )
    args = (*INNER, "--strict-markers", f"--synthgen-cache={cache}")
    monkeypatch.setenv("RUN", "cold")
    cold = pytester.runpytest(*args)
    cold.assert_outcomes(passed=3)
    assert "trained in" in cold.stdout.str()
    monkeypatch.setenv("RUN", "warm")
    warm = pytester.runpytest(*args)
    warm.assert_outcomes(passed=3)
    assert "trained in" not in warm.stdout.str() and "loaded (" not in warm.stdout.str()
    warm.stdout.fnmatch_lines(["tiny-*: 4 request(s) answered with rows kept from an earlier run"])
    pd.testing.assert_frame_equal(pd.read_csv(frames / "cold.csv"), pd.read_csv(frames / "warm.csv"))


def test_retrain_trains_again(pytester: pytest.Pytester, project: Path) -> None:
    cache = pytester.path / "cache"
    shutil.copytree(project / "cache", cache)
    recipe = str(project / "tiny.yaml")
    pytester.makepyfile(f"def test_rows(synthgen):\n    assert len(synthgen.dataset({recipe!r}, rows=5)) == 5\n")
    retrained = pytester.runpytest(*INNER, f"--synthgen-cache={cache}", "--synthgen-retrain")
    retrained.assert_outcomes(passed=1)
    assert "trained in" in retrained.stdout.str()


def test_failure_report_names_seed_and_recipe(pytester: pytest.Pytester, project: Path) -> None:
    """A failing test's report holds the call that gives its rows again and a command that replays it."""
    recipe = str(project / "tiny.yaml")
    pytester.makepyfile(
        test_fails=f"""
        def test_scores(synthgen):
            rows = synthgen.dataset({recipe!r}, rows=30, conditions={{"housing": "rent"}})
            assert rows.empty
        """
    )
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(
        *INNER, f"--synthgen-cache={project / 'cache'}", "--synthgen-seed=7", f"--junitxml={junit}"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- synthgen -*",
            f"synthgen.dataset('{recipe}', rows=30, seed=7, conditions={{'housing': 'rent'}})  # model *tiny-*",
            "replay: pytest 'test_fails.py::test_scores' --synthgen-seed 7",
        ]
    )
    call = f"synthgen.dataset('{recipe}', rows=30, seed=7"
    assert f'<property name="synthgen" value="{call}' in junit.read_text()


def test_committed_model_is_used_without_training(pytester: pytest.Pytester, project: Path) -> None:
    """A model directory made by `synthgen train RECIPE --out DIR` serves rows with an empty cache, named by
    ``model=`` or as the recipe's ``model_dir``; one trained from other settings is refused with a warning
    and a model is trained instead."""
    committed = pytester.path / "models" / "tiny"
    synthgen.train(project / "tiny.yaml", out=committed, device="cpu")
    stale_recipe = pytester.path / "stale.yaml"
    stale = TINY_RECIPE.format(steps=20).replace("name: tiny", "name: stale")
    stale_recipe.write_text(stale.replace("borrowers.csv", str(project / "borrowers.csv")))
    # The same training settings and data, with the committed folder as the recipe's own model_dir.
    own_recipe = project / f"own_{pytester.path.name}.yaml"
    own_recipe.write_text(TINY_RECIPE.format(steps=30) + f"model_dir: {committed}\n")
    pytester.makepyfile(
        f"""
        import pytest

        from synthgen.fixture_cache import StaleModelWarning

        @pytest.mark.synthgen({str(project / "tiny.yaml")!r}, rows=10, model="models/tiny")
        def test_committed(synthetic_rows):
            assert len(synthetic_rows) == 10

        def test_recipe_model_dir(synthgen):  # 11 rows: the 10 above are kept, and read back without loading
            assert len(synthgen.dataset({str(own_recipe)!r}, rows=11)) == 11

        def test_stale(synthgen):
            with pytest.warns(StaleModelWarning, match="models/tiny holds no model of"):
                assert len(synthgen.dataset("stale.yaml", rows=10, model="models/tiny")) == 10
        """
    )
    cache = pytester.path / "cache"
    result = pytester.runpytest(*INNER, f"--synthgen-cache={cache}")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["tiny: loaded (given) in * s from *models/tiny", "tiny: loaded (recipe) in *", "stale-*: trained in *"]
    )
    assert [p.name.split("-")[0] for p in cache.iterdir() if p.is_dir() and p.name != "samples"] == ["stale"]


def test_parallel_workers_train_once(project: Path) -> None:
    """Two workers asking at once for a model nobody has trained: one trains, the other waits and loads
    (the file lock is taken on separate file descriptors, as by pytest-xdist's processes)."""
    assert sorted(found.origin for found in PARALLEL) == ["cache", "trained"]
    first, second = (found.model.sample(20, seed=5) for found in PARALLEL)
    pd.testing.assert_frame_equal(first, second)


def test_warm_path_imports_no_training_or_judging_code(
    pytester: pytest.Pytester, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows drawn from a cached model hold no real PII value. Asked for again in a fresh process, they are
    read back without importing torch, scikit-learn, XGBoost, the judge or even the recipe's validation."""
    pytester.makepyfile(
        f"""
        import os
        import sys

        import pandas as pd

        def test_light(synthgen):
            rows = synthgen.dataset({str(project / "tiny.yaml")!r}, rows=1000, seed=1)
            assert len(rows) == 1000
            assert not set(rows.code) & set(pd.read_csv({str(project / "borrowers.csv")!r}).code)
            if os.environ.get("WARM"):
                heavy = [name for name in sys.modules if name.split(".")[0] in ("torch", "sklearn", "xgboost")]
                # nor the recipe's validation, the schema or the judge: the call alone finds the rows
                slow = ("pydantic", "synthgen.recipe", "synthgen.schema", "synthgen.pipeline", "synthgen.judge")
                loaded = [name for name in sys.modules if name.startswith(slow)]
                assert heavy == [] and loaded == [], heavy + loaded
        """
    )
    cache = pytester.path / "cache"
    shutil.copytree(project / "cache", cache)
    first = pytester.runpytest(*INNER, f"--synthgen-cache={cache}")  # in this process: draws and keeps them
    first.assert_outcomes(passed=1)
    assert "loaded (cache)" in first.stdout.str()
    monkeypatch.setenv("WARM", "1")
    warm = pytester.runpytest_subprocess(*PLUGINS, f"--synthgen-cache={cache}")
    warm.assert_outcomes(passed=1)
    warm.stdout.fnmatch_lines(["tiny-*: 1 request(s) answered with rows kept from an earlier run"])
