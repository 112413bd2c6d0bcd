from pathlib import Path

import pytest

from synthgen.errors import RecipeError
from synthgen.models import DDPMConfig
from synthgen.recipe import load_recipe, parse_recipe

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_recipes_validate(path):
    recipe = load_recipe(path)
    assert recipe.name and recipe.model.type


def test_demo_recipe_paths(tmp_path):
    recipe = load_recipe(ROOT / "recipes" / "german_credit.yaml")
    assert recipe.source.builtin == "german_credit"
    assert recipe.output_path == (ROOT / "recipes" / "out" / "german_credit_synthetic.csv").resolve()
    assert recipe.schema_.target == "creditability"


def test_source_shorthand_and_default_model():
    recipe = parse_recipe("name: x\nsource: data/x.csv\n")
    assert recipe.source.path == "data/x.csv"
    assert isinstance(recipe.model, DDPMConfig), "recipes that name no model type get the diffusion model"
    assert parse_recipe("name: x\nsource: a.csv\nmodel: {steps: 5}\n").model.steps == 5
    assert parse_recipe("name: x\nsource: a.csv\nmodel: {type: ctgan, epochs: 5}\n").model.epochs == 5


def _error(text):
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, source=Path("r.yaml"))
    return str(info.value)


def test_unknown_key_has_line_and_suggestion():
    message = _error("name: x\nsource: a.csv\nmodel:\n  type: ctgan\n  epochz: 3\n")
    assert message == "r.yaml:5: model.epochz: unknown key (did you mean 'epochs'?)"


def test_unknown_top_level_key():
    assert "r.yaml:2: sourc: unknown key (did you mean 'source'?)" in _error("name: x\nsourc: a.csv\n")


def test_unknown_column_field_and_wrong_kind():
    assert "schema.columns.age.knd: unknown key (did you mean 'kind'?)" in _error(
        "name: x\nsource: a.csv\nschema:\n  columns:\n    age: {knd: integer}\n"
    )
    message = _error("name: x\nsource: a.csv\nschema:\n  columns:\n    age: {kind: intger}\n")
    assert message.startswith("r.yaml:5: schema.columns.age.kind:") and "'integer'" in message


def test_wrong_type_names_key_and_line():
    message = _error("name: x\nsource: a.csv\nmodel:\n  steps: many\n")
    assert message.startswith("r.yaml:4: model.steps:") and "integer" in message


def test_unknown_model_type_and_bad_yaml():
    assert "model:" in _error("name: x\nsource: a.csv\nmodel: {type: gan}\n")
    assert "not valid YAML" in _error("name: [x\n")
    assert "a recipe is a mapping" in _error("- just\n- a list\n")


def test_gate_keys_are_validated():
    assert "gates.min_shap: unknown key (did you mean 'min_shape'?)" in _error(
        "name: x\nsource: a.csv\ngates: {min_shap: 0.9}\n"
    )


def test_missing_recipe_file(tmp_path):
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "nope.yaml")


def test_fingerprint_tracks_model_not_output():
    a = parse_recipe("name: x\nsource: a.csv\nmodel: {steps: 5}\ngenerate: {rows: 10}\n")
    b = parse_recipe("name: x\nsource: a.csv\nmodel: {steps: 5}\ngenerate: {rows: 99}\n")
    c = parse_recipe("name: x\nsource: a.csv\nmodel: {steps: 6}\n")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_suggestions_follow_the_model_type():
    assert "model.stepz: unknown key (did you mean 'steps'?)" in _error("name: x\nsource: a.csv\nmodel: {type: ddpm, stepz: 5}\n")
    assert "model.epochz: unknown key (did you mean 'epochs'?)" in _error("name: x\nsource: a.csv\nmodel: {type: ctgan, epochz: 5}\n")


def test_epochs_override_follows_the_model_type():
    from synthgen.pipeline import apply_overrides

    assert apply_overrides(parse_recipe("name: x\nsource: a.csv\nmodel: {type: ctgan}\n"), epochs=7).model.epochs == 7
    assert apply_overrides(parse_recipe("name: x\nsource: a.csv\n"), epochs=3).model.max_epochs == 3
