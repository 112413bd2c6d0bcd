"""The recipe's ``evaluate:`` and ``gates:`` blocks. Imports pydantic only: recipes read it without torch.

``EvaluateSettings`` says how the judge measures (backend, seeds, sample sizes); ``GateSettings`` says
what it demands. Every gate threshold may be ``null`` to switch that check off. The defaults were
calibrated on german_credit (1,000 rows) and credit_risk (32,581 rows): an independent sample from the
same population passes with margin, a generator that copies its training rows fails (see
``tests/judge/test_evaluate_gate.py``). The split of the real table into train and holdout rows is
the recipe's ``split:`` block: the judge receives both parts and never cuts them itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EvaluateSettings(BaseModel):
    """How the evaluation is run. Sizes bound the cost: every part works on a bounded sample."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["auto", "cuml", "sklearn"] = Field(
        default="auto",
        description="Learners for train-synthetic-test-real: cuML when it imports and a GPU is present "
        "('auto'), else scikit-learn + XGBoost on the CPU.",
    )
    seed: int = Field(default=0, description="Seed of every subsample, fold split, learner and bootstrap.")
    n_jobs: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads for the random forests; None = all cores. (XGBoost runs on one thread on the CPU.)",
    )

    # Fidelity
    trend_min_real_correlation: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Numeric pairs count toward the overall trend only if |Pearson r| in the real data "
        "exceeds this (SDMetrics' QualityReport default). 0 averages every pair.",
    )
    trend_min_real_association: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Other pairs count only if Cramer's V in the real data exceeds this (SDMetrics' "
        "QualityReport default). 0 averages every pair.",
    )
    trend_bins: int = Field(
        default=10, ge=2, le=100, description="Equal-width bins of a numeric column paired with a categorical one."
    )
    detection_max_rows: int = Field(
        default=10_000, ge=100, description="Rows per side (real train, synthetic) for the detection classifier."
    )
    detection_folds: int = Field(default=5, ge=2, le=20)
    precision_recall_max_rows: int = Field(
        default=5_000, ge=100, description="Rows per side for alpha-precision / beta-recall."
    )
    extreme_spreads: float = Field(
        default=10.0,
        gt=0.0,
        description="A value is extreme beyond the real train column's median plus or minus this many robust spreads "
        "(interquartile range / 1.349): bounds a few absurd training values cannot move. Real columns: 0-0.3 "
        "% of values.",
    )

    # Utility
    utility_max_rows: int = Field(
        default=20_000, ge=100, description="Training rows per learner (real and synthetic) for TSTR / TRTR."
    )
    utility_test_max_rows: int = Field(
        default=20_000, ge=100, description="Holdout rows the TSTR / TRTR learners are scored on."
    )

    # Privacy
    mia_max_rows: int = Field(
        default=100_000,
        ge=50,
        description="Members (training rows) and, separately, non-members (holdout rows) scored by each attack: every "
        "row up to this many. Every training row is a member candidate; the attacks' real reference rows come from the "
        "other half of the training table (two folds, each scored against the other).",
    )
    mia_reference_max_rows: int = Field(
        default=5_000, ge=50, description="Real reference rows per fold (training rows of the other fold)."
    )
    mia_synthetic_max_rows: int = Field(default=20_000, ge=100, description="Synthetic rows the attacks see.")
    domias_synthetic_max_rows: int = Field(
        default=10_000, ge=100, description="Synthetic rows of the DOMIAS density estimate."
    )
    domias_components: int = Field(
        default=6, ge=1, le=50, description="PCA dimensions of the DOMIAS density estimates."
    )
    dcr_max_rows: int = Field(
        default=5_000, ge=50, description="Synthetic rows and train / holdout rows for DCR and NNDR."
    )
    exposed_share: float = Field(
        default=0.02,
        gt=0.0,
        le=0.5,
        description="exposed_records looks at this share of the most isolated training records and of the most "
        "isolated holdout records (isolation: distance to the nearest other real row).",
    )
    exposed_min_holdout_records: int = Field(
        default=10,
        ge=2,
        description="... and at least this many holdout records (the training records then the same share of their "
        "table): fewer cannot show a difference at the gate's confidence.",
    )
    bootstrap: int = Field(
        default=200, ge=20, le=10_000, description="Bootstrap resamples for the attack confidence intervals."
    )
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    block_rows: int = Field(
        default=1_024, ge=64, description="Query rows per block of the nearest-neighbour search (bounds memory)."
    )


class GateSettings(BaseModel):
    """What the synthetic data must show to be released. ``None`` disables a check.

    Fidelity and utility thresholds are lower bounds on point estimates; the privacy thresholds are
    upper bounds applied to the *upper* end of the bootstrap interval of the *strongest* attack, so the
    burden of proof lies on the generator, not on the auditor.
    """

    model_config = ConfigDict(extra="forbid")

    min_shape: float | None = Field(
        default=0.85,
        ge=0.0,
        le=1.0,
        description="Overall column-shape score (1 - KS / 1 - TVD). Peers on our data: 0.77 (TVAE) to 0.97; "
        "an independent "
        "real sample 0.96 (german_credit) to 0.99 (credit_risk).",
    )
    min_trend: float | None = Field(
        default=0.80,
        ge=0.0,
        le=1.0,
        description="Overall column-pair trend score. Peers: CTGAN 0.84-0.87, MOSTLY AI 0.93-0.98, TVAE 0.65-0.79; an "
        "independent real sample 0.91 (german_credit) to 0.96 (credit_risk).",
    )
    min_tstr_ratio: float | None = Field(
        default=0.90,
        ge=0.0,
        description="Mean over learners of TSTR / TRTR (ROC AUC for classification, R2 for regression). An "
        "independent real "
        "sample: 0.98-1.02; SDV CTGAN on credit_risk about 0.83 (XGBoost), MOSTLY AI about 0.93. Where the holdout "
        "is too small to tell this from chance the gate lowers it to what an independent sample reaches (99 %; "
        "gate.tstr_chance_floor): about 0.83 with german_credit's 200 holdout rows, where honest samples range "
        "0.88-1.09.",
    )
    max_mia_auc: float | None = Field(
        default=0.60,
        ge=0.5,
        le=1.0,
        description="Upper bound of the 95% interval of ROC AUC, strongest attack. Independent real data: "
        "0.52-0.53 with "
        "3,258 non-members (credit_risk), 0.56-0.62 with 200 (german_credit; 1 split in 20 above 0.60). "
        "Copies: 0.89-1.0. "
        "Where the holdout is too small to tell this threshold from chance, the gate raises it to the bound a "
        "chance-level attack reaches (0.64 with 200 non-members; see gate.chance_auc_bound), up to "
        "mia_auc_chance_bound_limit; beyond that the check is 'not estimable'.",
    )
    max_mia_tpr_at_1pct_fpr: float | None = Field(
        default=0.03,
        ge=0.0,
        le=1.0,
        description="Upper bound of the 95% interval of TPR at 1% FPR, strongest attack (chance = 0.01). "
        "Independent data with 3,258 non-members: 0.014-0.025.",
    )
    max_mia_tpr_at_01pct_fpr: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Same at 0.1% FPR. Off by default: it needs 10,000 non-members to be judged (see below).",
    )
    mia_min_false_positives: float = Field(
        default=10.0,
        ge=1.0,
        description="A TPR-at-FPR check is judged only when non-members x FPR reaches this (10: 1,000 non-members at "
        "1% FPR); below, it is 'not estimable'. With 200 non-members even a chance-level attack's upper bound is "
        "0.04-0.10 at 1% FPR, so no threshold near 0.03 can be met.",
    )
    exact_copy_tolerance: float | None = Field(
        default=0.002,
        ge=0.0,
        le=1.0,
        description="Synthetic rows equal to a training row may exceed the holdout baseline rate by this share, "
        "or by 3 standard errors of the difference if that is larger. A share: a large release dilutes it, "
        "which the count of verbatim_records (below) does not allow.",
    )
    max_extreme_excess: float | None = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="For the worst continuous column: share of synthetic values beyond the real train's extreme-value "
        "bounds, minus the share of holdout values beyond them (the natural rate). The margin is this, or 3 standard "
        "errors of the difference where the tables are small (about 0.023 with 200 holdout rows). An independent real "
        "sample: the worst column's excess is under 0.01 in 95 % of 200 random splits of german_credit (400 / "
        "200 / 400 "
        "rows) and under 0.004 on credit_risk (6,000 / 1,500 / 6,000); none of 600 splits failed. With 0.7 % "
        "of german_credit's "
        "amounts near 1e12, the diffusion model put 4.2 % of its rows out there before issue 10 (refused: "
        "allowance 2.1 %).",
    )
    max_detection_auc: float | None = Field(
        default=None,
        ge=0.5,
        le=1.0,
        description="Detection classifier ROC AUC. Off by default: boosted detectors tell every current "
        "generator apart.",
    )
    fail_on_not_estimable: bool = Field(
        default=False, description="Fail the gate when any check cannot be estimated (e.g. too few holdout rows)."
    )
    fail_on_not_estimable_privacy: bool = Field(
        default=True,
        description="Fail the gate when a privacy check every release needs (mia_auc, exact_copies, verbatim_records, "
        "verbatim_unique_records, near_copies, near_copy_records, exposed_records; gate.REQUIRED_PRIVACY_CHECKS) "
        "cannot be estimated, e.g. a holdout too small to tell "
        "an attack from chance: the burden of proof lies on the generator. The message says how large the holdout "
        "must be. The TPR-at-low-FPR checks are exempt (they need 1,000 / 10,000 non-members; fatal only with "
        "fail_on_not_estimable).",
    )
    mia_auc_chance_bound_limit: float = Field(
        default=0.70,
        ge=0.5,
        le=1.0,
        description="The gate raises max_mia_auc to the bound a chance-level attack reaches (gate.chance_auc_bound), "
        "but never above this: beyond it the holdout is too small to tell an attack from chance and mia_auc is 'not "
        "estimable' (0.70 needs 101 non-members; 12 non-members would put the bound at 1.0 and pass anything). "
        "german_credit's 200 holdout rows: 0.64.",
    )
    verbatim_confidence: float | None = Field(
        default=0.999,
        gt=0.5,
        lt=1.0,
        description="verbatim_records / verbatim_unique_records: the distinct training records (not in the holdout; "
        "unique in the real data) found verbatim anywhere in the whole release may exceed what an independent "
        "sample of its size reproduces only by chance at this one-sided confidence (gate.verbatim_checks). Zero "
        "tolerance where no real row repeats a training record and the release reproduces no holdout record (every "
        "german_credit split): one unique training record fails. credit_risk repeats rows (165 duplicate pairs): "
        "an independent sample of 6,000 rows reproduces 8-12 training records, all unique in train + holdout (the "
        "twin is elsewhere), allowed 26-40; all 6,000 training rows among 126,000 or 1.5M honest rows: 5,995 "
        "against 49, fail. Honest releases (20 german_credit splits 400 / 200 / 400 and 5 credit_risk 6,000 / "
        "1,500 / 6,000; the training split's size, the holdout's, and 20x resampled): none of 75 refused. Limit: 5 "
        "unique records added to an honest 6,000-row credit_risk release pass (17 against 22), below what the "
        "real rows' own repetition can tell apart. null switches both checks off.",
    )
    near_copy_quantile: float | None = Field(
        default=0.01,
        gt=0.0,
        lt=0.5,
        description="near_copies / near_copy_records: the near-copy radius is this quantile of the holdout rows' "
        "distances to their nearest training row, so fresh real rows fall inside it at this rate. near_copies: the "
        "share of all released rows inside it may exceed this rate only by chance (beta-binomial bound at "
        "near_copy_confidence, which includes the holdout's own sampling error); near_copy_records: the training "
        "records with a released row inside it, against the holdout records with one (an independent sample treats "
        "both alike at any release size: exact hypergeometric bound). Needs a holdout of at least 1 / quantile rows "
        "(100). null switches both checks off.",
    )
    near_copy_confidence: float = Field(default=0.999, gt=0.5, lt=1.0)
    exposed_confidence: float | None = Field(
        default=0.999,
        gt=0.5,
        lt=1.0,
        description="exposed_records: among the most isolated training records (EvaluateSettings.exposed_share), those "
        "with a released row closer than their own nearest real neighbour, against the same count among the most "
        "isolated holdout records (exact hypergeometric bound at this one-sided confidence); exposed_copies likewise. "
        "null switches both off.",
    )
    exposed_copy_fraction: float = Field(
        default=0.1,
        gt=0.0,
        lt=1.0,
        description="exposed_copies: a most isolated record counts when a released row lies within this fraction of "
        "its distance to its nearest real neighbour (a copy or near-copy of a borrower who is easy to single out). "
        "Unlike exposed_records it does not saturate when the release is many times the real table, where an honest "
        "release comes closer than the nearest real neighbour to most isolated records.",
    )
    max_dcr_share: float | None = Field(
        default=0.52,
        ge=0.5,
        le=1.0,
        description="DCR share (synthetic rows closer to an equal-size sample of training rows than of holdout rows; "
        "0.5 for an independent sample) may exceed this by 3 standard errors. Hygiene that near_copies and the attacks "
        "complement: a share is diluted by a large honest release.",
    )
    detection_memorisation_confidence: float | None = Field(
        default=0.999,
        gt=0.5,
        lt=1.0,
        description="detection_memorisation: the detection AUC (not floored) fails when it lies below 0.5, and below "
        "the same test between real train and holdout rows, by more than its one-sided bound at this confidence: "
        "synthetic rows on top of training rows. An exact copy of the training table: 0.03 (german_credit) and 0.08 "
        "(credit_risk) against thresholds of 0.42-0.45. Honest releases (20 german_credit and 5 credit_risk splits): "
        "none refused; the lowest lay 2.3 standard errors below 0.5 (the threshold: 3.1). Applies even with "
        "max_detection_auc off. null switches it off.",
    )
