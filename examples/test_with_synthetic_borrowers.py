"""Realistic borrowers inside a pytest suite, from a model committed beside the tests: nothing trains.

    python -m pytest examples/test_with_synthetic_borrowers.py

The synthgen pytest plugin (installed with synthgen) gives the ``synthgen`` fixture and the
``@pytest.mark.synthgen`` marker. The model directory examples/models/german_credit (1.6 MB) was made
once, from the repository root, with

    synthgen train recipes/german_credit.yaml --out examples/models/german_credit --device cpu

It is used as long as it was trained from this recipe, its data and this synthgen version; otherwise
the plugin warns and trains a model into pytest's cache instead. Paths are relative to pytest's rootdir
(the repository root). A failing test's report prints the recipe, seed and conditions of its rows.
"""

import pytest

RECIPE = "recipes/german_credit.yaml"
MODEL = "examples/models/german_credit"


def score(row) -> int:
    """The code under test: a toy scorecard (600 points, less for long loans, more for home owners)."""
    points = 600 - 2 * row["duration_in_month"] + (20 if row["housing"] == "own" else 0)
    return max(300, min(850, points))


def approved(row) -> bool:
    return score(row) >= 520


def test_scores_stay_in_range(synthgen):
    borrowers = synthgen.dataset(RECIPE, rows=1000, seed=0, model=MODEL)
    assert all(300 <= score(row) <= 850 for _, row in borrowers.iterrows())


SEGMENT = "male : divorced/separated"


@pytest.mark.synthgen(recipe=RECIPE, rows=300, seed=1, model=MODEL, conditions={"personal_status_and_sex": SEGMENT})
def test_a_small_segment_is_approved_like_the_rest(synthetic_rows):
    """A fairness check on a segment too small in the real data (50 of 1,000 rows) to test on its own."""
    assert (synthetic_rows["personal_status_and_sex"] == SEGMENT).all()
    rate = synthetic_rows.apply(approved, axis=1).mean()
    assert rate >= 0.85, f"only {rate:.0%} of {SEGMENT} applicants are approved (policy: 85 %)"
