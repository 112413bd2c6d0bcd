"""Thread settings: where the count comes from, and passive OpenMP waits set before torch loads."""

import os
import subprocess
import sys

import pytest
import torch

from synthgen.errors import InputError, RecipeError
from synthgen.threads import ENV, available_cores, resolve_threads, use_threads


def test_count_comes_from_the_setting_then_the_environment_then_the_cores(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert resolve_threads() == resolve_threads("auto") == available_cores() >= 1
    assert available_cores() <= (os.cpu_count() or 1)
    monkeypatch.setenv(ENV, "3")
    assert resolve_threads() == resolve_threads("auto") == 3
    assert resolve_threads(1) == resolve_threads("1") == 1  # the recipe's number wins over the environment


@pytest.mark.parametrize("bad", [0, -2, "two", 1.5, True])
def test_a_bad_count_is_refused_naming_its_source(monkeypatch, bad):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(InputError, match="threads must be a positive integer"):
        resolve_threads(bad)
    monkeypatch.setenv(ENV, "many")
    with pytest.raises(InputError, match=f"{ENV} must be"):
        resolve_threads()


def test_use_threads_sets_torch():
    before = torch.get_num_threads()
    try:
        assert use_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(("preset", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_importing_synthgen_asks_for_passive_waits_unless_told_otherwise(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    code = "import os, synthgen; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_a_recipes_threads_reach_torch_when_it_trains(tmp_path):
    from synthgen.pipeline import fit_model, prepare_data
    from synthgen.recipe import load_recipe

    path = tmp_path / "r.yaml"
    path.write_text(
        "name: demo\nsource: {builtin: german_credit}\nschema: {target: creditability}\nthreads: 1\n"
        "generator: {type: ddpm, steps: 2, batch_size: 64, device: cpu}\n"
    )
    recipe = load_recipe(path)
    train, _, schema = prepare_data(recipe)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        fit_model(recipe, train, schema, out=tmp_path / "model", progress=False)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    path.write_text(path.read_text().replace("threads: 1", "threads: 0"))
    with pytest.raises(RecipeError, match="threads"):
        load_recipe(path)
