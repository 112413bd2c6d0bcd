"""Every generator shows its hyperparameters (signature, ``help()``), refuses unknown ones by name, and
says when it will not spend the training budget it was asked for."""

from __future__ import annotations

import inspect
import pydoc
import warnings

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import InputError
from synthgen.models import DDPM, DDPMConfig
from synthgen.models.configs import REGISTRY, BudgetWarning

GENERATORS = {name: entry.load() for name, entry in REGISTRY.items()}
TINY = {"width": 16, "depth": 1, "time_dim": 8, "timesteps": 20, "sampling_steps": 2, "device": "cpu"}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_signature_lists_every_hyperparameter_with_its_default(name):
    cls, config_class = GENERATORS[name], REGISTRY[name].config
    parameters = inspect.signature(cls).parameters
    fields = {key: field for key, field in config_class.model_fields.items() if key != "type"}
    assert list(parameters)[0] == "config"
    assert set(parameters) - {"config"} == set(fields)
    for key, field in fields.items():
        assert parameters[key].default == field.default, key
        assert parameters[key].kind is inspect.Parameter.KEYWORD_ONLY
    # The signature is a true one: calling it with every listed default gives the default config.
    bound = {key: p.default for key, p in parameters.items() if key != "config"}
    assert cls(**bound).config == config_class()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_help_lists_every_hyperparameter_on_one_line_with_its_description(name):
    cls, config_class = GENERATORS[name], REGISTRY[name].config
    shown = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    (header,) = [line for line in shown.splitlines() if line.startswith(f" |  {cls.__name__}(config")]
    assert "**params" not in header and "seed: int = 0" in header  # the hyperparameters, not **params
    for key, field in config_class.model_fields.items():
        if key == "type":
            continue
        assert field.description, f"{config_class.__name__}.{key} has no description"
        line = f"- ``{key}`` = {field.default!r} -- {field.description}"
        assert line in cls.__doc__, line
        assert f"``{key}`` = {field.default!r}" in shown


def test_the_class_docstring_keeps_its_own_text_first():
    assert DDPM.__doc__.startswith("Diffusion generator.")
    assert DDPM.__doc__.index("Sampling option") < DDPM.__doc__.index("Hyperparameters")


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_an_unknown_keyword_is_refused_with_the_closest_name(name):
    cls = GENERATORS[name]
    close = "epoch" if name == "ctgan" else "step"
    with pytest.raises(
        InputError, match=rf"{cls.__name__}: unknown parameter\(s\) '{close}' \(did you mean '{close}s'\?\), 'colour'"
    ):
        cls(**{close: 3, "colour": "red"})


def test_bad_values_and_config_plus_keywords_are_refused_as_before():
    with pytest.raises(
        InputError, match=r"DDPM: invalid parameters: (.|\n)*steps\n  Input should be greater than or equal to 1"
    ):
        DDPM(steps=0)
    with pytest.raises(TypeError, match="either a config object or keyword parameters"):
        DDPM(DDPMConfig(), steps=3)


# -- the max_epochs cap ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"amount": rng.normal(size=40).round(3), "grade": rng.choice(["A", "B"], 40)})


def test_requested_steps_cut_by_the_default_cap_are_warned_with_the_cap_and_how_to_lift_it(small_table):
    # 40 rows in batches of 40: the default cap of 350 passes is 350 steps, below the 360 asked for.
    with pytest.warns(BudgetWarning) as caught:
        model = DDPM(steps=360, batch_size=64, **TINY).fit(small_table)
    (message,) = [str(w.message) for w in caught if w.category is BudgetWarning]
    assert message.startswith("DDPM: steps=360 asked for, but training stops after 350 steps: max_epochs=350")
    assert "40 training rows in batches of 40" in message and "max_epochs=None" in message
    assert model.steps_done_ == 350 == model.config.training_steps(len(small_table))


@pytest.mark.parametrize(
    ("params", "steps"),
    [
        ({"steps": 360, "max_epochs": None}, 360),  # the cap lifted: every step asked for is trained
        ({"steps": 360, "max_epochs": 2}, 2),  # a cap the caller chose is not news
        ({"max_epochs": 2}, 2),
        ({"steps": 30}, 30),  # under the cap
    ],
)
def test_no_warning_when_the_steps_asked_for_are_trained_or_the_cap_was_chosen(small_table, params, steps):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BudgetWarning)
        model = DDPM(**params, **TINY).fit(small_table)
    assert model.steps_done_ == steps == model.config.training_steps(len(small_table))


def test_the_warning_survives_a_config_rebuilt_from_its_dump_as_command_line_overrides_do(small_table):
    asked, default = DDPMConfig(steps=360), DDPMConfig(profile="cpu")
    rebuilt = [DDPMConfig.model_validate(c.model_dump()) for c in (asked, default)]
    assert rebuilt[0].budget_notes(len(small_table)) == asked.budget_notes(len(small_table)) != []
    assert rebuilt[1].budget_notes(len(small_table)) == default.budget_notes(len(small_table)) == []
    assert DDPMConfig(steps=6000).budget_notes(len(small_table))  # the default steps, asked for by name


def test_a_recipe_asking_for_steps_gets_the_warning_too(small_table):
    from synthgen.recipe import parse_recipe

    asked = parse_recipe("name: x\nsource: a.csv\ngenerator: {type: ddpm, steps: 400}\n").generator
    default = parse_recipe("name: x\nsource: a.csv\ngenerator: {type: ddpm}\n").generator
    assert "steps=400 asked for" in asked.budget_notes(len(small_table))[0]
    assert default.budget_notes(len(small_table)) == []  # the default steps are not a request
