"""Realistic borrower rows inside a pytest suite, trained once per session.

python -m pytest examples/test_with_synthetic_borrowers.py
"""

import os

import pytest

import synthgen

EPOCHS = int(os.environ.get("SYNTHGEN_EXAMPLE_EPOCHS", "50"))


@pytest.fixture(scope="session")
def borrower_model():
    frame = synthgen.load_builtin("german_credit")
    return synthgen.CTGAN(epochs=EPOCHS, batch_size=100, device="cpu", seed=0).fit(frame)


@pytest.fixture
def borrowers(borrower_model):
    """A factory: each test asks for the rows it needs, seeded so failures reproduce."""
    return lambda rows, seed=0: borrower_model.sample(rows, seed=seed)


def score(row) -> int:
    """The code under test: a toy scorecard."""
    points = 600 - 2 * row["duration_in_month"] + (20 if row["housing"] == "own" else 0)
    return max(300, min(850, points))


def test_scores_stay_in_range(borrowers):
    for _, row in borrowers(200).iterrows():
        assert 300 <= score(row) <= 850
