import warnings
from pathlib import Path

import pytest

from synthgen.errors import RecipeError
from synthgen.models import DDPMConfig
from synthgen.recipe import Recipe, RecipeWarning, load_recipe, parse_recipe

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_recipes_validate(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecipeWarning)  # bundled recipes use the current key names
        recipe = load_recipe(path)
    assert recipe.name and recipe.generator.type


def test_demo_recipe_paths(tmp_path):
    recipe = load_recipe(ROOT / "recipes" / "german_credit.yaml")
    assert recipe.source.builtin == "german_credit"
    assert recipe.output_path == (ROOT / "recipes" / "out" / "german_credit_synthetic.csv").resolve()
    assert recipe.schema_.target == "creditability"


def test_source_shorthand_and_default_model():
    recipe = parse_recipe("name: x\nsource: data/x.csv\n")
    assert recipe.source.path == "data/x.csv"
    assert isinstance(recipe.generator, DDPMConfig), "recipes that name no model type get the diffusion model"
    assert parse_recipe("name: x\nsource: a.csv\ngenerator: {steps: 5}\n").generator.steps == 5
    assert parse_recipe("name: x\nsource: a.csv\ngenerator: {type: ctgan, epochs: 5}\n").generator.epochs == 5


def _error(text):
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, source=Path("r.yaml"))
    return str(info.value)


def test_unknown_key_has_line_and_suggestion():
    message = _error("name: x\nsource: a.csv\ngenerator:\n  type: ctgan\n  epochz: 3\n")
    assert message == "r.yaml:5: generator.epochz: unknown key (did you mean 'epochs'?)"


def test_unknown_top_level_key():
    assert "r.yaml:2: sourc: unknown key (did you mean 'source'?)" in _error("name: x\nsourc: a.csv\n")


def test_unknown_column_field_and_wrong_kind():
    assert "schema.columns.age.knd: unknown key (did you mean 'kind'?)" in _error(
        "name: x\nsource: a.csv\nschema:\n  columns:\n    age: {knd: integer}\n"
    )
    message = _error("name: x\nsource: a.csv\nschema:\n  columns:\n    age: {kind: intger}\n")
    assert message.startswith("r.yaml:5: schema.columns.age.kind:") and "'integer'" in message


def test_wrong_type_names_key_and_line():
    message = _error("name: x\nsource: a.csv\ngenerator:\n  steps: many\n")
    assert message.startswith("r.yaml:4: generator.steps:") and "integer" in message


def test_unknown_model_type_and_bad_yaml():
    assert "generator:" in _error("name: x\nsource: a.csv\ngenerator: {type: gan}\n")
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
    a = parse_recipe("name: x\nsource: a.csv\ngenerator: {steps: 5}\ngenerate: {rows: 10}\n")
    b = parse_recipe("name: x\nsource: a.csv\ngenerator: {steps: 5}\ngenerate: {rows: 99}\n")
    c = parse_recipe("name: x\nsource: a.csv\ngenerator: {steps: 6}\n")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_declared_spikes_retrain_and_unset_ones_keep_older_fingerprints():
    base = "name: x\nsource: a.csv\nschema:\n  columns:\n    balance: {kind: integer"
    plain = parse_recipe(base + "}\n")
    # The fingerprint of this recipe before the spikes field existed: a model saved then is still found.
    assert plain.fingerprint() == "1c7dd0d56698b2bf"
    assert parse_recipe(base + ", spikes: [0]}\n").fingerprint() != plain.fingerprint()
    assert parse_recipe(base + ", spikes: false}\n").fingerprint() != plain.fingerprint()


def test_generator_fields_added_later_keep_older_fingerprints_at_their_default():
    base = "name: x\nsource: a.csv\ngenerator: {type: ddpm, steps: 5"
    plain = parse_recipe(base + "}\n").fingerprint()
    assert plain == "61ea0afde30da8ed"  # before label_dropout and rare_level_rows existed (commit 5e8e90c)
    assert parse_recipe(base + ", label_dropout: 0.0, rare_level_rows: 0}\n").fingerprint() == plain
    assert parse_recipe(base + ", label_dropout: 0.1}\n").fingerprint() != plain
    assert parse_recipe(base + ", rare_level_rows: 5}\n").fingerprint() != plain


def test_fingerprint_ignores_device_and_sampling_only_settings():
    base = "name: x\nsource: a.csv\ngenerator: {type: ddpm, steps: 5"
    plain = parse_recipe(base + "}\n").fingerprint()
    for extra in (", device: cpu", ", device: cuda", ", sampling_steps: 20", ", eta: 0.0", ", sample_batch: 128"):
        assert parse_recipe(base + extra + "}\n").fingerprint() == plain, extra
    for extra in (", seed: 1", ", lr: 0.01", ", max_epochs: 3"):
        assert parse_recipe(base + extra + "}\n").fingerprint() != plain, extra
    assert parse_recipe(base + "}\nsplit: {holdout: 0.3}\n").fingerprint() != plain
    judge_seed = parse_recipe(base + "}\nsplit: {seed: 0}\nevaluate: {seed: 3}\n")
    assert judge_seed.fingerprint() == plain, "the judge's seed trains nothing"


def test_renamed_keys_are_read_with_a_warning_naming_the_line():
    text = "name: x\nsource: a.csv\nmodel:\n  type: ctgan\nevaluate:\n  holdout: 0.3\n  seed: 4\n"
    with pytest.warns(RecipeWarning) as caught:
        recipe = parse_recipe(text, source="r.yaml")
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("r.yaml:3: 'model:' is now 'generator:'") for m in messages), messages
    assert any(m.startswith("r.yaml:6: 'evaluate.holdout' is now 'split.holdout'") for m in messages), messages
    assert recipe.generator.type == "ctgan"
    assert (recipe.split.holdout, recipe.split.seed, recipe.evaluate.seed) == (0.3, 4, 4), "the old split is kept"
    new = parse_recipe("name: x\nsource: a.csv\ngenerator: {type: ctgan}\nsplit: {holdout: 0.3, seed: 4}\n")
    assert new.fingerprint() == recipe.fingerprint()


def test_old_and_new_name_together_is_an_error_naming_the_line():
    assert "r.yaml:3: give the generator once" in _error("name: x\nsource: a.csv\nmodel: {}\ngenerator: {}\n")
    both = "name: x\nsource: a.csv\nsplit: {holdout: 0.1}\nevaluate:\n  holdout: 0.2\n"
    assert "r.yaml:5: give the holdout once: 'evaluate.holdout' is the old name of 'split.holdout'" in _error(both)


def test_an_old_judge_seed_keeps_cutting_the_split_of_a_recipe_without_split():
    with pytest.warns(RecipeWarning, match=r"r.yaml:4: 'evaluate.seed' seeds the judge only.*split: \{seed: 3\}"):
        old = parse_recipe("name: x\nsource: a.csv\nevaluate:\n  seed: 3\n", source="r.yaml")
    assert (old.split.seed, old.evaluate.seed) == (3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecipeWarning)
        new = parse_recipe("name: x\nsource: a.csv\nsplit: {seed: 0}\nevaluate: {seed: 3}\n", source="r.yaml")
    assert (new.split.seed, new.evaluate.seed) == (0, 3)


def test_python_mapping_with_old_keys_is_read_too():
    with pytest.warns(RecipeWarning, match="'model:' is now 'generator:'"):
        recipe = Recipe.model_validate({"name": "x", "source": "a.csv", "model": {"type": "ctgan"}})
    assert recipe.generator.type == "ctgan"


def test_loading_a_recipe_imports_no_torch(tmp_path):
    """The recipe is the bottom layer: reading and validating one must not wait for torch or the judge."""
    import subprocess
    import sys

    path = tmp_path / "r.yaml"
    path.write_text("name: x\nsource: a.csv\ngenerator: {type: ctgan, epochs: 3}\n")
    code = (
        "import sys, synthgen; r = synthgen.load_recipe(sys.argv[1]); r.fingerprint(); "
        "heavy = sorted(m for m in ('torch', 'sklearn', 'xgboost', 'scipy', 'synthgen.judge.evaluation') "
        "if m in sys.modules); print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"loading a recipe imported {result.stdout.strip()}"


def test_suggestions_follow_the_model_type():
    assert "generator.stepz: unknown key (did you mean 'steps'?)" in _error(
        "name: x\nsource: a.csv\ngenerator: {type: ddpm, stepz: 5}\n"
    )
    assert "generator.epochz: unknown key (did you mean 'epochs'?)" in _error(
        "name: x\nsource: a.csv\ngenerator: {type: ctgan, epochz: 5}\n"
    )


def test_epochs_override_follows_the_model_type():
    from synthgen.pipeline import apply_overrides

    assert (
        apply_overrides(parse_recipe("name: x\nsource: a.csv\ngenerator: {type: ctgan}\n"), epochs=7).generator.epochs
        == 7
    )
    assert apply_overrides(parse_recipe("name: x\nsource: a.csv\n"), epochs=3).generator.max_epochs == 3


# -- recipes that cannot hurt ----------------------------------------------------------------------
def _alias_bomb(levels: int = 9, fanout: int = 9) -> str:
    names = "abcdefghijklmnop"
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * fanout)}]"]
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [{', '.join([f'*{names[i - 1]}'] * fanout)}]")
    lines.append(f"name: *{names[levels - 1]}\nsource: a.csv")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_once():
    import time

    started = time.perf_counter()
    message = _error(_alias_bomb())
    assert time.perf_counter() - started < 0.5
    assert message.startswith("r.yaml:1: YAML aliases are not allowed in recipes")


def test_any_anchor_or_alias_is_refused(tmp_path):
    assert "r.yaml:3: YAML aliases are not allowed" in _error("name: x\nsource: a.csv\ngenerator: &m {steps: 5}\n")
    merge = "name: x\nsource: a.csv\ngenerator:\n  steps: 5\n  <<: *m\n"
    assert "r.yaml:5: YAML aliases are not allowed" in _error(merge)
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    with pytest.raises(RecipeError, match=r"bomb\.yaml:1: YAML aliases are not allowed in recipes"):
        load_recipe(path)


def test_duplicate_keys_name_both_lines():
    assert _error("name: x\nsource: a.csv\nname: y\n").startswith("r.yaml:3: duplicate key 'name' (first at line 1)")
    nested = "name: x\nsource: a.csv\nschema:\n  columns:\n    age: {kind: integer}\n    age: {kind: numeric}\n"
    assert "r.yaml:6: duplicate key 'age' (first at line 5)" in _error(nested)
    assert "r.yaml:3: duplicate key 'steps' (first at line 3)" in _error(
        "name: x\nsource: a.csv\ngenerator: {steps: 5, steps: 6}\n"
    )


def test_keys_are_compared_as_values_not_as_spelling():
    quoted = 'name: x\nsource: a.csv\nschema:\n  columns:\n    age: {kind: integer}\n    "age": {kind: numeric}\n'
    assert "r.yaml:6: duplicate key 'age' (first at line 5)" in _error(quoted)
    recipe = parse_recipe(
        "name: x\nsource: a.csv\nschema:\n  columns:\n    '1': {kind: integer}\n    '01': {kind: integer}\n"
    )
    assert set(recipe.schema_.columns) == {"1", "01"}


def test_deeply_nested_yaml_is_a_recipe_error():
    assert "nested too deeply" in _error("name: " + "[" * 5000 + "\n")


def test_bound_that_is_not_a_number_names_the_line():
    text = "name: x\nsource: a.csv\nschema:\n  columns:\n    age:\n      kind: integer\n      min: eighteen\n"
    assert _error(text) == "r.yaml:7: schema.columns.age.min: must be a number for an integer column (got 'eighteen')"


def test_min_above_max_is_refused():
    message = _error("name: x\nsource: a.csv\nschema:\n  columns:\n    age: {kind: integer, min: 90, max: 10}\n")
    assert message.startswith("r.yaml:5: schema.columns.age.max: min (90) is greater than max (10)")
    # without a declared kind, two numbers are still compared
    assert "min (3.5) is greater than max (1)" in _error(
        "name: x\nsource: a.csv\nschema:\n  columns:\n    a: {min: 3.5, max: 1}\n"
    )


def test_bounds_follow_the_declared_kind():
    def columns(body: str):
        return "name: x\nsource: a.csv\nschema:\n  columns:\n" + body

    assert "a categorical column takes no bounds" in _error(columns("    grade: {kind: categorical, max: 3}\n"))
    assert "a pii column takes no bounds" in _error(columns("    email: {kind: pii, min: 0}\n"))
    assert "must be a date or timestamp" in _error(columns("    opened: {kind: datetime, min: 5}\n"))
    assert "is not a date or timestamp" in _error(columns("    opened: {kind: datetime, min: soon}\n"))
    assert "outside the dates synthgen can represent" in _error(
        columns("    opened: {kind: datetime, max: 3000-01-01}\n")
    )
    assert "must be a finite number" in _error(columns("    a: {min: .inf}\n"))
    assert "not true/false" in _error(columns("    a: {kind: numeric, min: true}\n"))
    assert "min (2021-01-01) is greater than max" in _error(
        columns("    d: {kind: datetime, min: 2021-01-01, max: 2020-06-30}\n")
    )
    ok = parse_recipe(
        columns(
            "    opened: {kind: datetime, min: 2020-01-01, max: '2021-06-30T12:00:00'}\n    n: {kind: "
            "numeric, min: -1.5, max: 2}\n"
        )
    )
    assert ok.schema_.columns["opened"].min == "2020-01-01", "YAML dates are kept as ISO text (JSON, fingerprint)"
    assert ok.schema_.columns["n"].max == 2


def test_non_finite_setting_is_validated():
    def columns(body: str):
        return "name: x\nsource: a.csv\nschema:\n  columns:\n" + body

    assert parse_recipe(columns("    rate: {non_finite: missing}\n")).schema_.columns["rate"].non_finite == "missing"
    assert parse_recipe(columns("    rate: {kind: numeric}\n")).schema_.columns["rate"].non_finite == "error"
    assert "schema.columns.rate.non_finite:" in _error(columns("    rate: {non_finite: ignore}\n"))
    assert "not to a categorical column" in _error(columns("    g: {kind: categorical, non_finite: missing}\n"))
    assert "contradicts nullable: false" in _error(
        columns("    r: {kind: numeric, nullable: false, non_finite: missing}\n")
    )


def test_wrong_device_is_a_recipe_error_naming_the_line():
    message = _error("name: x\nsource: a.csv\ngenerator:\n  type: ctgan\n  device: foo\n")
    assert message.startswith("r.yaml:5: generator.device:") and "'cuda'" in message and "'foo'" in message
