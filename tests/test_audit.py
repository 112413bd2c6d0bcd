"""The shadow-model audit's parts: the design, the features, the statistics, the verdict, the report."""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgen.audit import (
    AttackResult,
    apply_verdict,
    auc,
    bootstrap_interval,
    check_audit_dir,
    classifier_scores,
    isolation,
    membership_design,
    min_p_value,
    permutation_p_value,
    run_audit,
    select_targets,
    shadow_rows,
    target_features,
    threshold_scores,
    write_audit,
)
from synthgen.errors import InputError
from synthgen.recipe import load_recipe

# The module itself: `synthgen.audit` on the package is the function (see test_synthgen_audit_is_callable_...).
audit_module = importlib.import_module("synthgen.audit")
ROOT = Path(__file__).resolve().parents[1]
GERMAN = ROOT / "synthgen" / "data" / "german_credit.csv"


def _tiny_recipe(tmp_path: Path, rows: int = 200) -> Path:
    """A recipe over the first rows of german_credit with a 1-epoch CTGAN: the plumbing, cheaply."""
    pd.read_csv(GERMAN).head(rows).to_csv(tmp_path / "loans.csv", index=False)
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "name: tiny\n"
        "source: loans.csv\n"
        "schema: {target: creditability}\n"
        "generator: {type: ctgan, epochs: 1, batch_size: 100, device: cpu}\n"
        "generate: {output: out/tiny.csv}\n"
    )
    return path


# -- design ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shadows", [2, 4, 8, 16])
def test_design_puts_each_target_in_exactly_half_the_shadows(shadows):
    design = membership_design(shadows, 7, np.random.default_rng(0))
    assert design.shape == (shadows, 7) and design.dtype == bool
    assert (design.sum(axis=0) == shadows // 2).all()


def test_design_draws_targets_independently_and_reproducibly():
    first = membership_design(8, 20, np.random.default_rng(3))
    again = membership_design(8, 20, np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)
    assert len({tuple(column) for column in first.T}) > 1  # not one pattern copied to every target


@pytest.mark.parametrize("shadows", [0, 1, 3, 7])
def test_design_refuses_an_odd_or_too_small_number_of_shadows(shadows):
    with pytest.raises(InputError, match="even"):
        membership_design(shadows, 2, np.random.default_rng(0))


def test_shadow_rows_hold_the_in_targets_and_none_of_the_out_targets():
    targets = np.array([3, 10, 42])
    members = np.array([True, False, True])
    rows = shadow_rows(100, targets, members, subset_size=97 - 3, rng=np.random.default_rng(1))
    assert len(rows) == 94 + 2 and len(set(rows)) == len(rows)
    assert {3, 42} <= set(rows) and 10 not in rows
    assert (np.diff(rows) > 0).all()
    with pytest.raises(InputError, match="pool"):
        shadow_rows(12, targets, members, subset_size=12, rng=np.random.default_rng(1))


# -- targets and features ------------------------------------------------------------------------------
def test_isolation_is_the_distance_to_the_nearest_other_row():
    real = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0], [10.0, 0.0]])
    np.testing.assert_allclose(isolation(real), [5.0, 0.0, 0.0, np.hypot(7.0, 4.0)])


def test_targets_are_the_most_isolated_training_rows_only():
    values = np.array([1.0, 9.0, 3.0, 9.0, 2.0, 100.0])  # the last row is a holdout row: never a target
    np.testing.assert_array_equal(select_targets(values, n_train=5, count=3), [1, 3, 2])
    with pytest.raises(InputError, match="--targets"):
        select_targets(values, n_train=5, count=6)


def test_features_are_neighbour_distances_over_isolation_and_the_rows_within_it():
    target = np.zeros((1, 2))
    release = np.array([[0.5, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, -3.0], [4.0, 0.0], [0.0, 5.0], [9.0, 9.0]])
    features = target_features(target, np.array([2.0]), release)
    np.testing.assert_allclose(features, [[0.25, 0.5, 2.0, 3.0]])  # d1 .5, d2 1, d5 4; 3 rows within 2.0
    copied = target_features(target, np.array([2.0]), np.vstack([release, target]))
    assert copied[0, 0] == 0.0 and copied[0, 3] == 4.0
    np.testing.assert_allclose(threshold_scores(features), [-0.25])
    with pytest.raises(InputError, match="at least 5"):
        target_features(target, np.array([1.0]), release[:4])


def test_a_target_with_a_real_duplicate_keeps_finite_features():
    features = target_features(np.zeros((1, 1)), np.array([0.0]), np.arange(6.0)[:, None])
    assert np.isfinite(features).all()


# -- statistics -------------------------------------------------------------------------------------
def test_auc_of_a_perfectly_separable_case_is_one():
    labels = np.array([True, False, True, False, True, False, True, False])
    scores = np.where(labels, 1.0, 0.0) + np.arange(8) * 0.01
    assert auc(labels, scores) == 1.0
    assert auc(labels, -scores) == 0.0
    assert auc(labels, np.zeros(8)) == 0.5  # ties count one half
    assert auc(labels, np.where(labels, np.nan, 0.0)) is None
    assert auc(np.ones(4, dtype=bool), np.arange(4.0)) is None
    assert bootstrap_interval(labels, scores, np.random.default_rng(0)) == (1.0, 1.0)
    assert permutation_p_value(labels, scores, np.random.default_rng(0)) == pytest.approx(1 / 70)


def test_auc_matches_scikit_learn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    labels = np.repeat([True, False], 10)
    scores = np.round(rng.normal(size=20) + labels * 0.5, 1)  # rounded: ties
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_the_bootstrap_interval_holds_the_auc_and_widens_with_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat([True, False], 4)
    scores = np.array([0.9, 0.8, 0.3, 0.7, 0.6, 0.2, 0.1, 0.4])
    low, high = bootstrap_interval(labels, scores, rng)
    assert low <= auc(labels, scores) <= high and low < high


def test_permutation_p_values_are_exact_for_small_designs():
    labels = np.repeat([True, False], 4)
    # one IN/OUT pair swapped: AUC 15/16; U >= 15 in 2 of the 70 labelings
    scores = np.array([8.0, 7.0, 6.0, 4.0, 5.0, 3.0, 2.0, 1.0])
    assert permutation_p_value(labels, scores, np.random.default_rng(0)) == pytest.approx(2 / 70)
    assert permutation_p_value(labels, np.zeros(8), np.random.default_rng(0)) == 1.0
    assert min_p_value(8) == pytest.approx(1 / 70) and min_p_value(4) == pytest.approx(1 / 6)


def test_large_designs_take_a_monte_carlo_p_value():
    labels = np.repeat([True, False], 12)  # C(24, 12) = 2.7 million labelings
    scores = labels + np.linspace(0, 0.5, 24)
    p = permutation_p_value(labels, scores, np.random.default_rng(0))
    assert p == pytest.approx(1 / (1 + audit_module.MONTE_CARLO_PERMUTATIONS))


def test_the_classifier_learns_membership_from_the_other_targets():
    rng = np.random.default_rng(0)
    design = membership_design(8, 3, rng)
    features = rng.uniform(1.0, 2.0, (8, 3, 4))
    features[..., 0] = np.where(design, 0.1, 1.5) + rng.uniform(0, 0.05, (8, 3))  # members: a row nearby
    scores = classifier_scores(features, design)
    for t in range(3):
        assert auc(design[:, t], scores[:, t]) == 1.0
    # a target's score never depends on its own labels: flipping them changes nothing
    flipped = design.copy()
    flipped[:, 1] = ~flipped[:, 1]
    np.testing.assert_array_equal(classifier_scores(features, flipped)[:, 1], scores[:, 1])
    # one target: nothing to learn from
    assert np.isnan(classifier_scores(np.ones((4, 1, 4)), design[:4, :1])).all()


def test_without_signal_the_classifier_is_not_biased_below_one_half():
    """Leave-one-shadow-out scoring pushed null AUCs down (mean 0.43 here); the target-out design does not."""
    rng = np.random.default_rng(1)
    values = []
    for _ in range(30):  # 150 null AUCs: mean 0.489 here, standard error 0.017 (the biased scoring's 0.43 fails)
        design = membership_design(8, 5, rng)
        features = rng.lognormal(0.0, 0.3, (8, 5, 4))
        scores = classifier_scores(features, design)
        values += [auc(design[:, t], scores[:, t]) for t in range(5)]
    assert abs(np.mean(values) - 0.5) < 0.03


def test_verdict_needs_both_the_interval_and_the_p_value():
    strong = AttackResult(auc=1.0, interval=(1.0, 1.0), p_value=1 / 70)
    swapped = AttackResult(auc=0.875, interval=(0.56, 1.0), p_value=4 / 70)  # interval above 0.5, p not
    missing = AttackResult(auc=None)
    assert apply_verdict(strong, missing, 8) == "vulnerable" and strong.significant
    assert apply_verdict(swapped, AttackResult(auc=0.5, interval=(0.1, 0.9), p_value=0.5), 8) == "not shown"
    assert not swapped.significant
    # p = 0.02 passes alone (0.05) but not once two attacks are scored (0.025 each)
    edge = AttackResult(auc=0.95, interval=(0.8, 1.0), p_value=0.03)
    assert apply_verdict(edge, missing, 8) == "vulnerable"
    assert apply_verdict(edge, AttackResult(auc=0.5, interval=(0.2, 0.8), p_value=0.6), 8) == "not shown"
    assert apply_verdict(AttackResult(auc=1.0, interval=(1.0, 1.0), p_value=1 / 6), missing, 4) == "inconclusive"
    assert apply_verdict(missing, AttackResult(auc=None), 8) == "inconclusive"


# -- the whole audit ---------------------------------------------------------------------------------
def test_a_tiny_audit_gives_a_json_safe_reproducible_report(tmp_path):
    recipe = load_recipe(_tiny_recipe(tmp_path))
    seen: list[int] = []
    report = run_audit(recipe, shadows=2, targets=2, rows=40, seed=3, progress=lambda done, _, __: seen.append(done))
    assert seen == [1, 2]
    assert report.shadows == 2 and report.rows == 40 and len(report.targets) == 2
    assert report.train_rows == 160 and report.holdout_rows == 40 and report.pool_rows == 198
    assert report.budget == {"epochs": 1, "batch_size": 100}
    for target in report.targets:
        assert 0 <= target.index < report.train_rows and target.isolation > 0
        assert len(target.members) == 1 and len(target.features) == 2
        assert target.threshold.auc in (0.0, 0.5, 1.0)
        assert target.verdict == "inconclusive"  # two shadows can show nothing
    for run in report.shadow_runs:
        assert run.train_rows == 160 - 2 + len(run.members)
        assert run.fit_s >= 0 and run.sample_s >= 0
    isolations = [t.isolation for t in report.targets]
    assert isolations == sorted(isolations, reverse=True)

    def refuse(token: str) -> None:
        raise AssertionError(f"not JSON: {token}")

    text = report.model_dump_json()
    json.loads(text, parse_constant=refuse)
    path = write_audit(report, tmp_path / "audit")
    saved = json.loads(path.read_text(), parse_constant=refuse)
    assert saved["targets"][0]["index"] == report.targets[0].index and saved["verdict_rule"]
    # no real value is in the report: targets are named by row only (no category of a target appears)
    source = pd.read_csv(tmp_path / "loans.csv")
    text = path.read_text()
    for target in report.targets:
        words = [v for v in source.iloc[target.index] if isinstance(v, str) and len(v) > 3 and v not in ("none",)]
        assert words and not [w for w in words if json.dumps(w) in text]

    again = run_audit(recipe, shadows=2, targets=2, rows=40, seed=3)
    assert [t.model_dump() for t in again.targets] == [t.model_dump() for t in report.targets]


def test_the_report_folder_is_checked_before_any_training(tmp_path):
    recipe = load_recipe(_tiny_recipe(tmp_path))
    with pytest.raises(InputError, match="overlap"):
        check_audit_dir(recipe, recipe.model_path / "audit")
    with pytest.raises(InputError, match="overlap"):
        check_audit_dir(recipe, recipe.model_path.parent)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_audit_dir(recipe, tmp_path / "file")
    assert check_audit_dir(recipe, tmp_path / "out" / "tiny_audit") == tmp_path / "out" / "tiny_audit"
    assert not (tmp_path / "out").exists()  # checked, not created


def test_audit_is_a_public_verb_and_refuses_bad_options_before_training(tmp_path):
    import synthgen

    recipe = _tiny_recipe(tmp_path)
    assert callable(synthgen.audit) and "audit" in synthgen.__all__
    with pytest.raises(InputError, match="even"):
        synthgen.audit(recipe, shadows=3)
    with pytest.raises(InputError, match="--targets"):
        synthgen.audit(recipe, shadows=2, targets=10_000)
    with pytest.raises(InputError, match="--rows"):
        synthgen.audit(recipe, shadows=2, rows=3)
    with pytest.raises(InputError, match="overlap"):
        synthgen.audit(recipe, shadows=2, out=tmp_path / ".synthgen" / "models" / "tiny")


def test_synthgen_audit_is_callable_whichever_import_comes_first():
    """Importing the submodule sets the package's ``audit`` to the module; the module answers calls."""
    code = (
        "import synthgen.audit as m, synthgen; assert callable(synthgen.audit); "
        "from synthgen.errors import InputError\n"
        "try:\n    synthgen.audit('missing.yaml')\nexcept InputError:\n    pass\n"
        "import synthgen as s2; print(callable(s2.audit))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    assert math.isfinite(min_p_value(16))
