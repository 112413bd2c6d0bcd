"""The pipeline's joints: overrides, the seed, model reuse, the split and the refusals before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import safetensors.torch

from synthgen.errors import DataError, InputError
from synthgen.models.configs import DDPMConfig
from synthgen.pipeline import (
    apply_overrides,
    check_targets,
    fit_model,
    generate,
    model_fingerprint,
    prepare_data,
    release_rows,
    reusable_model,
    sampling_seed,
    split_holdout,
)
from synthgen.recipe import parse_recipe
from synthgen.schema import infer_schema

OPEN_GATES = (
    "gates: {min_shape: null, min_trend: null, min_tstr_ratio: null, max_mia_auc: null, "
    "max_mia_tpr_at_1pct_fpr: null, max_extreme_excess: null, near_copy_quantile: null, exposed_confidence: null, "
    "max_dcr_share: null}\n"
)


def _recipe(tmp_path: Path, generator: str = "{type: ddpm, steps: 4, batch_size: 64, device: cpu}", extra: str = ""):
    text = (
        "name: demo\nsource: {builtin: german_credit}\nschema: {target: creditability}\n"
        f"generator: {generator}\ngenerate: {{rows: 40, output: out/demo.csv}}\n" + OPEN_GATES + extra
    )
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return parse_recipe(text, source=path)


# -- overrides and the seed --------------------------------------------------------------------------
def test_overrides_change_only_the_generator_block_and_keep_the_path(tmp_path):
    recipe = _recipe(tmp_path)
    changed = apply_overrides(recipe, epochs=3, device="cpu")
    assert changed.generator.max_epochs == 3 and changed.generator.steps == recipe.generator.steps
    assert changed.path == recipe.path and changed.split == recipe.split
    assert apply_overrides(recipe) is recipe
    ctgan = apply_overrides(_recipe(tmp_path, "{type: ctgan, epochs: 9}"), epochs=2)
    assert ctgan.generator.epochs == 2


def test_a_bad_override_is_one_input_error_naming_the_flag(tmp_path):
    with pytest.raises(InputError, match=r"--device: .*'cuda'"):
        apply_overrides(_recipe(tmp_path), device="tpu")
    with pytest.raises(InputError, match="--epochs"):
        apply_overrides(_recipe(tmp_path), epochs=0)


def test_the_sampling_seed_is_the_callers_then_the_recipes_then_the_generators(tmp_path):
    recipe = _recipe(tmp_path, "{type: ddpm, seed: 7}")
    assert sampling_seed(recipe) == 7
    assert sampling_seed(recipe, 3) == 3
    with_seed = _recipe(tmp_path, "{type: ddpm, seed: 7}", extra="")
    with_seed.generate.seed = 11
    assert sampling_seed(with_seed) == 11 and sampling_seed(with_seed, 0) == 0


# -- the split and the checks before training --------------------------------------------------------
def test_split_is_seeded_and_stratified(german):
    schema = infer_schema(german, target="creditability")
    train, holdout = split_holdout(german, 0.2, 0, schema)
    again, _ = split_holdout(german, 0.2, 0, schema)
    other, _ = split_holdout(german, 0.2, 1, schema)
    assert len(train) + len(holdout) == len(german) and len(holdout) == 200
    assert train.equals(again) and not train.equals(other)
    real = german["creditability"].value_counts(normalize=True)
    held = holdout["creditability"].value_counts(normalize=True)
    assert (real - held).abs().max() < 0.005


def test_prepare_data_follows_the_split_block(tmp_path):
    train, holdout, schema = prepare_data(_recipe(tmp_path, extra="split: {holdout: 0.3, seed: 2}\n"))
    assert (len(train), len(holdout)) == (700, 300) and schema.target == "creditability"


def test_release_rows_refuses_fewer_than_the_gate_can_judge(tmp_path):
    recipe = _recipe(tmp_path)
    assert release_rows(recipe, None, 1000) == 40 and release_rows(recipe, 500, 1000) == 500
    with pytest.raises(InputError, match="--rows is 3"):
        release_rows(recipe, 3, 1000)


def test_targets_that_would_destroy_the_source_are_refused(tmp_path):
    source = tmp_path / "data.csv"
    pd.DataFrame({"a": range(50), "b": ["x", "y"] * 25}).to_csv(source, index=False)
    text = "name: d\nsource: data.csv\n"
    (tmp_path / "r.yaml").write_text(text)
    recipe = parse_recipe(text, source=tmp_path / "r.yaml")
    with pytest.raises(InputError, match="holds the source data"):
        check_targets(recipe, tmp_path)
    with pytest.raises(InputError, match="is the source data file"):
        check_targets(recipe, tmp_path / "models", output=source)
    check_targets(recipe, tmp_path / "models", output=tmp_path / "out.csv")


def test_a_missing_source_is_a_data_error_naming_it(tmp_path):
    text = "name: d\nsource: nowhere.csv\n"
    with pytest.raises(DataError, match="nowhere.csv not found"):
        prepare_data(parse_recipe(text, source=tmp_path / "r.yaml"))


# -- reuse ---------------------------------------------------------------------------------------------
@pytest.fixture
def trained(tmp_path):
    recipe = _recipe(tmp_path)
    train, _, schema = prepare_data(recipe)
    model, path = fit_model(recipe, train, schema)
    return recipe, model, path


def test_device_and_sampling_settings_reuse_the_model_and_apply(tmp_path, trained, monkeypatch):
    recipe, _, path = trained
    reads = []  # every read of the weights file, whichever function does it
    real_load = safetensors.torch.load_file
    monkeypatch.setattr("safetensors.torch.load_file", lambda *a, **k: reads.append(a) or real_load(*a, **k))
    sampling = _recipe(tmp_path, "{type: ddpm, steps: 4, batch_size: 64, device: auto, sampling_steps: 7, eta: 0.0}")
    assert model_fingerprint(sampling) == model_fingerprint(recipe)
    reused = reusable_model(sampling, path)
    assert reused is not None and len(reads) == 1, "the model folder is read once"
    assert (reused.config.sampling_steps, reused.config.eta, reused.config.device) == (7, 0.0, "auto")
    retrain = _recipe(tmp_path, "{type: ddpm, steps: 5, batch_size: 64, device: cpu}")
    assert reusable_model(retrain, path) is None


def test_a_changed_source_file_is_not_reused(tmp_path):
    source = tmp_path / "data.csv"
    frame = pd.DataFrame({"a": range(60), "b": ["x", "y", "z"] * 20})
    frame.to_csv(source, index=False)
    text = "name: d\nsource: data.csv\ngenerator: {type: ddpm, steps: 2, batch_size: 16, device: cpu}\n"
    recipe = parse_recipe(text, source=tmp_path / "r.yaml")
    train, _, schema = prepare_data(recipe)
    _, path = fit_model(recipe, train, schema)
    assert reusable_model(recipe, path) is not None
    frame.assign(a=frame["a"] + 1).to_csv(source, index=False)
    assert reusable_model(recipe, path) is None


def test_generate_records_the_seed_it_sampled_with_and_reuses(tmp_path):
    recipe = _recipe(tmp_path, "{type: ddpm, steps: 4, batch_size: 64, device: cpu, seed: 5}")
    first = generate(recipe)
    meta = json.loads((tmp_path / "out" / "demo.csv.meta.json").read_text())
    assert first.released and not first.reused_model
    assert meta["seed"] == 5 and meta["model_type"] == "ddpm" and meta["rows"] == 40
    defaults = DDPMConfig()  # the sampling settings it used are recorded, defaults included
    assert meta["generator"]["seed"] == 5 and meta["generator"]["sampling_steps"] == defaults.sampling_steps
    assert meta["generator"]["solver"] == defaults.solver
    second = generate(apply_overrides(recipe, device="cpu"), seed=9, out=tmp_path / "b.csv")
    assert second.reused_model
    assert json.loads((tmp_path / "b.csv.meta.json").read_text())["seed"] == 9
    first_rows, second_rows = pd.read_csv(tmp_path / "out" / "demo.csv"), pd.read_csv(tmp_path / "b.csv")
    assert not first_rows.equals(second_rows), "another seed gives other rows"


def test_rebalanced_releases_are_judged_against_real_rows_with_the_same_mix():
    from synthgen.pipeline import with_shares

    frame = pd.DataFrame({"status": ["bad"] * 100 + ["good"] * 700 + ["other"] * 200, "x": range(1000)})
    judged = with_shares(frame, "status", {"bad": 0.5}, seed=1)
    counts = judged["status"].value_counts()
    assert counts["bad"] == 100 and counts["good"] + counts["other"] == 100  # the rest keep their own mix
    assert counts["good"] > counts["other"] and judged["x"].is_unique  # rows dropped, never repeated
    both = with_shares(frame, "status", {"bad": 0.25, "good": 0.75}, seed=1)
    assert set(both["status"]) == {"bad", "good"} and (both["status"] == "bad").mean() == 0.25
