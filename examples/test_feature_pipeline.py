"""Testing a feature pipeline on synthetic borrowers: every edge case the real data may hold, none of its people.

    python -m pytest examples/test_feature_pipeline.py

``add_features`` is the code under test; the ``synthgen`` fixture (the synthgen pytest plugin) gives it
1,000 borrowers from the model committed in examples/models/german_credit (see
examples/test_with_synthetic_borrowers.py for how it was made). Conditions ask for the rows a real
sample has few of. Ranges work too (``{"duration_in_month": (36, None)}``); the diffusion model meets
them by inpainting, which takes a few seconds more than a category.
"""

import numpy as np
import pandas as pd

RECIPE = "recipes/german_credit.yaml"
MODEL = "examples/models/german_credit"
AGE_BANDS = ["18-24", "25-34", "35-49", "50-64", "65+"]


def add_features(applicants: pd.DataFrame) -> pd.DataFrame:
    """The features a scoring model reads: monthly payment, payment burden, age band, thin credit file."""
    features = applicants.copy()
    features["monthly_payment"] = features["credit_amount"] / features["duration_in_month"]
    # installment rate: 1 (under 20 % of disposable income) to 4 (35 % or more)
    features["high_burden"] = features["installment_rate_in_percentage_of_disposable_income"] >= 3
    features["age_band"] = pd.cut(
        features["age_in_years"], bins=[18, 25, 35, 50, 65, np.inf], right=False, labels=AGE_BANDS
    )
    features["thin_file"] = features["number_of_existing_credits_at_this_bank"] <= 1
    return features


def test_features_are_defined_for_every_applicant(synthgen):
    applicants = synthgen.dataset(RECIPE, rows=1000, seed=0, model=MODEL)
    features = add_features(applicants)
    assert len(features) == len(applicants)
    assert features["age_band"].notna().all(), "an age outside every band"
    assert np.isfinite(features["monthly_payment"]).all() and (features["monthly_payment"] >= 0).all()
    assert set(features["age_band"].unique()) >= {"25-34", "35-49"}


def test_the_input_is_left_alone(synthgen):
    applicants = synthgen.dataset(RECIPE, rows=1000, seed=0, model=MODEL)  # drawn once, a copy per call
    before = applicants.copy()
    add_features(applicants)
    pd.testing.assert_frame_equal(applicants, before)


def test_bad_risks_on_business_loans(synthgen):
    """Rows a real sample has few of (34 in 1,000), asked for directly: bad credit risks borrowing for a business."""
    rows = synthgen.dataset(
        RECIPE, rows=200, seed=2, model=MODEL, conditions={"creditability": "bad", "purpose": "business"}
    )
    features = add_features(rows)
    assert (features["creditability"] == "bad").all() and (features["purpose"] == "business").all()
    assert (features["monthly_payment"] <= features["credit_amount"]).all()
    assert features["age_band"].notna().all()
