"""The diffusion model on a streamed source (`DDPM.fit_source`) and a recipe whose source is a Parquet folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from synthgen.cli import app
from synthgen.errors import DataError
from synthgen.models import DDPM, load_model
from synthgen.schema import infer_schema
from synthgen.sources import ParquetSource, Part
from tests.parquet_parts import write_parts

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = {"steps": 120, "batch_size": 256, "width": 64, "depth": 2, "sampling_steps": 5, "device": "cpu", "seed": 1}


def _table(rows: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    grade = rng.choice(["A", "B", "C"], rows, p=[0.6, 0.3, 0.1])
    amount = np.where(grade == "A", rng.normal(10, 1, rows), rng.normal(20, 2, rows)).round(2)
    frame = pd.DataFrame(
        {"amount": amount, "grade": grade, "status": np.where(rng.random(rows) < 0.2, "default", "paid")}
    )
    return frame


def _weights(model: DDPM) -> list[torch.Tensor]:
    return [t.clone() for t in model.denoiser_.state_dict().values()]


def test_streamed_fit_trains_samples_and_learns_like_the_in_memory_fit(tmp_path):
    frame = _table()
    source = ParquetSource(write_parts(tmp_path / "parts", frame, row_group_size=500), batch_rows=700)
    schema = infer_schema(frame, target="status")
    streamed = DDPM(**SMALL).fit_source(source, schema, sample_rows=1500)
    assert streamed.steps_done_ == 120 and not streamed.encoded_mapped_
    in_memory = DDPM(**SMALL).fit(frame, schema)
    rows = {name: m.sample(3000, seed=2) for name, m in (("streamed", streamed), ("in_memory", in_memory))}
    for out in rows.values():
        assert list(out.columns) == list(frame.columns) and len(out) == 3000
    real_a = (frame["grade"] == "A").mean()
    for out in rows.values():  # the mixture of amounts follows the grade in both
        assert abs((out["grade"] == "A").mean() - real_a) < 0.1
        assert out.loc[out["grade"] == "A", "amount"].median() < out.loc[out["grade"] != "A", "amount"].median()
    assert abs(rows["streamed"]["amount"].mean() - rows["in_memory"]["amount"].mean()) < 1.5
    streamed.save(tmp_path / "model")
    pd.testing.assert_frame_equal(load_model(tmp_path / "model").sample(200, seed=3), streamed.sample(200, seed=3))


def test_streamed_fit_is_deterministic_and_memory_mapping_changes_nothing(tmp_path):
    frame = _table(2000)
    source = ParquetSource(write_parts(tmp_path / "parts", frame, row_group_size=500), batch_rows=300)
    part = Part(0.2, 0, holdout=False)
    config = {**SMALL, "steps": 20}
    held = DDPM(**config).fit_source(source, part=part, sample_rows=500)
    mapped = DDPM(**config).fit_source(source, part=part, sample_rows=500, memory_bytes=1)
    assert mapped.encoded_mapped_ and not held.encoded_mapped_
    for a, b in zip(_weights(held), _weights(mapped)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert held.schema_.target is None  # inferred on the reservoir sample


def test_levels_and_missing_values_outside_the_sample_are_learned(tmp_path):
    """A level and a missing value in 3 of 3,000 rows: a 200-row sample misses them, the full pass does not."""
    frame = _table(3000)
    frame.loc[[5, 1500, 2900], "grade"] = "Z"
    frame.loc[[7, 1600, 2950], "amount"] = np.nan
    source = ParquetSource(write_parts(tmp_path / "parts", frame, row_group_size=500), batch_rows=400)
    schema = infer_schema(frame, target="status")
    model = DDPM(**{**SMALL, "steps": 5}).fit_source(source, schema, sample_rows=200)
    encoders = {e.column.name: e for e in model.transformer_.encoders_}
    assert "Z" in encoders["grade"].categories_
    assert encoders["amount"].has_null_


def test_real_pii_outside_the_sample_is_excluded(tmp_path):
    """Every row's e-mail, not only the 200 of the sample's, is a value the model must never emit."""
    from synthgen.pipeline import exclude_real_pii
    from synthgen.recipe import load_recipe
    from synthgen.schema import ColumnKind, ColumnSpec

    frame = _table(3000).assign(email=[f"person{i}@example.org" for i in range(3000)])
    source = ParquetSource(write_parts(tmp_path / "parts", frame, row_group_size=500), batch_rows=400)
    schema = infer_schema(frame, {"email": ColumnSpec(kind="pii")}, target="status")
    assert schema["email"].kind is ColumnKind.PII
    part = Part(0.2, 0, holdout=False)
    model = DDPM(**{**SMALL, "steps": 5}).fit_source(source, schema, part=part, sample_rows=200)
    assert model.pii_exclude_["email"] == set(frame["email"])  # the holdout's too, never a sample's only
    model.save(tmp_path / "model")
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text("name: s\nsource: parts/\nschema: {columns: {email: {kind: pii}}}\n")
    reused = exclude_real_pii(load_recipe(recipe_file), load_model(tmp_path / "model"), frame.head(10))
    assert reused.pii_exclude_["email"] == set(frame["email"])  # what `generate` does for a reused model


def test_a_schema_column_missing_from_the_dataset_is_named(tmp_path):
    frame = _table(600)
    source = ParquetSource(write_parts(tmp_path / "parts", frame.drop(columns="grade"), row_group_size=500))
    with pytest.raises(DataError, match=r"parts: column\(s\) 'grade' not in the dataset"):
        DDPM(**SMALL).fit_source(source, infer_schema(frame))


def test_synthgen_train_on_a_folder_source(tmp_path):
    write_parts(tmp_path / "data" / "parts", _table(1500), row_group_size=500)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: streamed\n"
        "source: data/parts/\n"
        "schema: {target: status}\n"
        "generator: {type: ddpm, steps: 10, batch_size: 128, width: 32, depth: 1, device: cpu}\n"
        "split: {holdout: 0.2, seed: 0}\n"
    )
    result = CliRunner().invoke(app, ["train", str(recipe), "--out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    model = load_model(tmp_path / "model")
    rows = ParquetSource(tmp_path / "data" / "parts").part_rows(Part(0.2, 0, holdout=False))
    assert model.steps_done_ == 10
    assert len(model.sample(50)) == 50
    import json

    state = json.loads((tmp_path / "model" / "state.json").read_text())
    assert state["metadata"]["rows_trained"] == rows
    glob = recipe.read_text().replace("data/parts/", "data/parts/*.parquet")
    recipe.write_text(glob.replace("name: streamed", "name: globbed"))
    result = CliRunner().invoke(app, ["train", str(recipe), "--out", str(tmp_path / "model2")])
    assert result.exit_code == 0, result.output


def test_ctgan_refuses_a_streamed_source(tmp_path):
    write_parts(tmp_path / "parts", _table(600), row_group_size=500)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: s\nsource: parts/\ngenerator: {type: ctgan, epochs: 1, device: cpu}\n")
    result = CliRunner().invoke(app, ["train", str(recipe), "--out", str(tmp_path / "model")])
    assert result.exit_code == 2
    assert "cannot train on a streamed source" in result.output
