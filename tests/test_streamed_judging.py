"""A streamed source's release judged against every real row (`synthgen.streamed_judging`), end to end.

The judge scores uniform samples of a table too large to hold; a model that memorised borrowers outside
those samples must still be caught by the exact copy and verbatim checks, from the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthgen.cli import app
from synthgen.errors import InputError
from synthgen.pipeline import prepare_data, stream_parts
from synthgen.recipe import load_recipe
from synthgen.streamed_judging import real_hashes
from tests.parquet_parts import write_parts

pytestmark = pytest.mark.usefixtures("one_thread")

ROWS = 6_000


def _table(rows: int, seed: int, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grade = rng.choice(["A", "B", "C"], rows, p=[0.6, 0.3, 0.1])
    return pd.DataFrame(
        {
            "id": np.arange(start, start + rows),
            "amount": np.where(grade == "A", rng.lognormal(8, 0.5, rows), rng.lognormal(9, 0.5, rows)).round(2),
            "grade": grade,
            "status": np.where(rng.random(rows) < np.where(grade == "C", 0.4, 0.15), "default", "paid"),
        }
    )


@pytest.fixture(scope="module")
def streamed(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A 6,000-row table in three Parquet files, judged on samples of 1,000 training rows."""
    root = tmp_path_factory.mktemp("streamed")
    frame = _table(ROWS, seed=0)
    write_parts(root / "parts", frame, row_group_size=700)
    recipe = root / "recipe.yaml"
    recipe.write_text(
        "name: streamed\nsource: {path: parts/, sample_rows: 1000}\n"
        "schema: {target: status, columns: {id: {kind: id}}}\n"
        "generator: {type: ddpm, steps: 30, batch_size: 256, width: 32, depth: 1, sampling_steps: 4, device: cpu}\n"
        "split: {holdout: 0.2, seed: 0}\nevaluate: {mia_max_rows: 500}\n"
    )
    return recipe, frame


def _unseen_training_rows(recipe: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Training rows of the whole table that the judged sample lacks."""
    loaded = load_recipe(recipe)
    train, holdout, _ = prepare_data(loaded)
    training = stream_parts(loaded)[0].mask(frame["id"].to_numpy(dtype=np.uint64))
    assert len(train) == 1000 and training.sum() > 4000  # the judge sees a fifth of the training rows
    return frame[training & ~frame["id"].isin(train["id"]).to_numpy()]


def test_copies_of_borrowers_outside_the_judged_sample_stop_the_release(tmp_path, streamed):
    recipe, frame = streamed
    honest = _table(3_000, seed=1, start=10**6)  # independent draws of the same population
    leaked = _unseen_training_rows(recipe, frame).sample(40, random_state=0)
    checks = {}
    for name, rows in (("honest", honest), ("leaky", pd.concat([honest, leaked], ignore_index=True))):
        rows.to_csv(tmp_path / f"{name}.csv", index=False)
        result = CliRunner().invoke(
            app, ["evaluate", "--synthetic", str(tmp_path / f"{name}.csv"), "--recipe", str(recipe)]
        )
        assert result.exit_code in (0, 3), result.output
        report = json.loads((tmp_path / f"{name}_report" / "report.json").read_text())
        checks[name] = {c["name"]: c["status"] for c in report["gate"]["checks"]}
        verbatim = report["privacy"]["verbatim"]
        assert verbatim["real_rows"] == ROWS  # every real row hashed, not the 1,250 judged
        assert any("over all" in note and "training and" in note for note in report["privacy"]["notes"])
    assert checks["honest"]["verbatim_records"] == checks["honest"]["verbatim_unique_records"] == "passed"
    assert checks["honest"]["exact_copies"] == "passed"
    assert checks["leaky"]["verbatim_unique_records"] == "failed"
    assert checks["leaky"]["verbatim_records"] == "failed"


def test_conditions_are_read_by_the_model_that_draws(streamed):
    recipe, _ = streamed
    loaded = load_recipe(recipe)
    with pytest.raises(InputError, match="give the model too"):
        real_hashes(loaded, prepare_data(loaded)[2], {"grade": "A"})


def test_a_conditioned_release_hashes_the_rows_meeting_its_conditions(tmp_path, streamed):
    """`generate` and `generate --shards` (the model trained once, then reused) judge against every real row
    that meets the release's conditions."""
    recipe, frame = streamed
    meeting = int((frame["grade"] == "A").sum())
    for out, extra in ((tmp_path / "release.csv", []), (tmp_path / "parts", ["--shards", "2"])):
        result = CliRunner().invoke(
            app,
            ["generate", str(recipe), "--rows", "600", "--where", "grade=A", "--out", str(out), *extra]
            + ["--force-release"],
        )
        assert result.exit_code == 0, result.output
        report = json.loads((tmp_path / f"{out.stem}_report" / "report.json").read_text())
        assert report["privacy"]["verbatim"]["real_rows"] == meeting
        assert report["privacy"]["verbatim"]["synthetic_rows"] == 600
    assert (pd.read_csv(tmp_path / "release.csv")["grade"] == "A").all()


def test_a_real_row_the_judge_cannot_read_fails_the_run_before_training(tmp_path):
    """Training never reads the holdout rows and the samples hold few of them: the hash pass, which reads
    every row, runs before training, so such a row costs no training run."""
    from synthgen.errors import DataError
    from synthgen.pipeline import generate

    frame = _table(3_000, seed=2).astype({"amount": object})
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text(
        "name: bad\nsource: {path: parts/, sample_rows: 200}\n"
        "schema: {target: status, columns: {id: {kind: id}, amount: {kind: numeric}}}\n"
        "generator: {type: ddpm, steps: 5, width: 16, depth: 1, device: cpu}\nsplit: {holdout: 0.2, seed: 0}\n"
    )
    loaded = load_recipe(recipe_file)
    (tmp_path / "parts").mkdir()
    frame.to_parquet(tmp_path / "parts" / "p.parquet", index=False)
    holdout_ids = set(prepare_data(loaded)[1]["id"])
    held = stream_parts(loaded)[1].mask(frame["id"].to_numpy(dtype=np.uint64))
    unseen = frame.index[held & ~frame["id"].isin(holdout_ids).to_numpy()][0]
    frame.loc[unseen, "amount"] = "n/a"  # a holdout row outside the holdout sample
    frame.astype({"amount": str}).to_parquet(tmp_path / "parts" / "p.parquet", index=False)
    with pytest.raises(DataError, match="'amount'"):
        generate(load_recipe(recipe_file))
    assert not loaded.model_path.exists()  # refused before any training
