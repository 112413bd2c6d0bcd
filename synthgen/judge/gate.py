"""The release gate: each figure against its threshold from ``GateSettings``.

A check is ``passed``, ``failed``, ``not estimable`` (the data cannot support the figure, e.g. too
few holdout rows; reported, never silently passed or failed, and fatal only with
``fail_on_not_estimable``) or ``disabled`` (its threshold is null). The gate passes when no check
fails.
"""

from __future__ import annotations

import math

from typing import Literal

from pydantic import BaseModel

from synthgen.judge.extremes import ExtremeValues, allowance
from synthgen.judge.fidelity import FidelityResult
from synthgen.judge.privacy import PrivacyResult
from synthgen.judge.settings import GateSettings
from synthgen.judge.utility import UtilityResult

Status = Literal["passed", "failed", "not estimable", "disabled"]


class GateCheck(BaseModel):
    name: str
    value: float | None
    threshold: float | None
    direction: Literal[">=", "<="]
    status: Status
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status != "failed"


class GateResult(BaseModel):
    passed: bool
    checks: list[GateCheck]
    failing: list[str]
    not_estimable: list[str]


def _check(name: str, value: float | None, threshold: float | None, direction: str, detail: str = "",
           missing: str = "not estimable") -> GateCheck:
    if threshold is None:
        return GateCheck(name=name, value=value, threshold=None, direction=direction, status="disabled", detail=detail)
    if value is None:
        return GateCheck(name=name, value=None, threshold=threshold, direction=direction, status=missing, detail=detail)
    ok = value >= threshold if direction == ">=" else value <= threshold
    return GateCheck(name=name, value=value, threshold=threshold, direction=direction,
                     status="passed" if ok else "failed", detail=detail)


CHANCE_Z = 4.9
"""Standard errors above 0.5 that the strongest of the attacks' interval upper bounds reaches, at its 99th
percentile, when the synthetic data is an independent sample (interval 1.96 SE + max of four
correlated attacks about 2.9 SE)."""


def chance_auc_bound(members: int, non_members: int) -> float:
    """Highest ROC AUC upper bound a chance-level attack still reaches (99 %) at these sample sizes.

    A holdout of 200 rows cannot tell an AUC of 0.60 from chance, so a fixed 0.60 would refuse a
    perfect generator about one time in ten (measured on german_credit). The gate never demands more
    than the data can show; with thousands of non-members this bound (about 0.53) is below the
    default threshold and changes nothing. Hanley-McNeil standard error of an AUC of 0.5.
    """
    if members < 1 or non_members < 1:
        return 1.0
    se = math.sqrt((members + non_members + 1) / (12.0 * members * non_members))
    return 0.5 + CHANCE_Z * se


def _extreme_values_check(gates: GateSettings, extremes: ExtremeValues | None) -> GateCheck:
    """The continuous column whose synthetic share of extreme values exceeds its allowance the most.

    Judged per column against that column's natural rate, so a column that is naturally heavy-tailed
    is not blamed for being so; the check names the column, its bounds and both shares.
    """
    name, tolerance = "extreme_values", gates.max_extreme_excess
    if extremes is None:
        return _check(name, None, tolerance, "<=", "not computed (a report written before the check existed)")
    judged = [(c, allowance(c, tolerance if tolerance is not None else 0.0)) for c in extremes.columns]
    judged = [(c, a) for c, a in judged if a is not None and c.synthetic_share is not None]
    if not judged:
        return _check(name, None, tolerance, "<=", "no continuous column with values in both the synthetic and the holdout table")
    column, allowed = max(judged, key=lambda item: item[0].synthetic_share - item[1])
    detail = (f"column {column.column!r}: {column.synthetic_share:.2%} of synthetic values outside "
              f"[{column.low:.6g}, {column.high:.6g}] (the real train's median +- {extremes.spreads:g} robust "
              f"spreads); holdout (natural rate) {column.holdout_share:.2%}")
    if tolerance is None:
        return _check(name, column.synthetic_share, None, "<=", detail)
    detail += f" + margin {allowed - column.holdout_share:.2%}"
    return _check(name, column.synthetic_share, allowed, "<=", detail)


def run_gate(gates: GateSettings, fidelity: FidelityResult, utility: UtilityResult, privacy: PrivacyResult) -> GateResult:
    checks = [
        _check("shape", fidelity.shape, gates.min_shape, ">=", "mean column-shape score (1 - KS, 1 - TVD)"),
        _check("trend", fidelity.trend, gates.min_trend, ">=",
               f"mean pair-trend score over {fidelity.trend_pairs_counted} associated pair(s)"),
    ]
    if utility.status == "skipped":
        checks.append(_check("tstr_ratio", None, gates.min_tstr_ratio, ">=", f"skipped: {utility.reason}"))
    else:
        detail = f"mean TSTR / TRTR {utility.primary_metric} over {len(utility.learners)} learners"
        notes = [f"{r.learner}: {r.note}" for r in utility.learners if r.note]
        # A synthetic table no learner can learn from is a utility failure, not a gap in the evidence;
        # a holdout on which nothing can be scored (one class) is a gap.
        checks.append(_check("tstr_ratio", utility.tstr_ratio, gates.min_tstr_ratio, ">=", "; ".join([detail, *notes]),
                             missing="failed" if utility.synthetic_unusable else "not estimable"))
    strongest = privacy.strongest_attack
    auc_threshold, auc_detail = gates.max_mia_auc, f"upper bound of the bootstrap interval of ROC AUC, strongest attack ({strongest})"
    chance = chance_auc_bound(privacy.members, privacy.non_members)
    if auc_threshold is not None and chance > auc_threshold:
        auc_detail += (f"; threshold raised from {auc_threshold:.2f} to {chance:.3f}, the bound a chance-level attack "
                       f"reaches with {privacy.members} members and {privacy.non_members} non-members")
        auc_threshold = chance
    checks.append(_check("mia_auc", privacy.max_auc_upper, auc_threshold, "<=", auc_detail))
    for name, fpr, value, threshold in (
        ("mia_tpr_at_1pct_fpr", 0.01, privacy.max_tpr_at_1pct_fpr_upper, gates.max_mia_tpr_at_1pct_fpr),
        ("mia_tpr_at_01pct_fpr", 0.001, privacy.max_tpr_at_01pct_fpr_upper, gates.max_mia_tpr_at_01pct_fpr),
    ):
        needed = gates.mia_min_false_positives / fpr
        detail = f"upper bound of the bootstrap interval of TPR at {fpr:.1%} FPR, strongest attack"
        if value is not None and privacy.non_members < needed - 1e-9:
            detail += f" ({value:.3f}); too few non-members to judge: {privacy.non_members}, needs >= {needed:,.0f}"
            value = None
        elif value is None:
            detail += f"; not estimable with {privacy.non_members} non-members"
        checks.append(_check(name, value, threshold, "<=", detail))
    if gates.exact_copy_tolerance is None:
        checks.append(_check("exact_copies", privacy.exact_copy_rate, None, "<=", "share of synthetic rows equal to a training row"))
    else:
        margin = max(gates.exact_copy_tolerance, 3 * privacy.copy_rate_standard_error)
        checks.append(_check("exact_copies", privacy.exact_copy_rate, privacy.holdout_copy_rate + margin, "<=",
                             f"share of synthetic rows equal to a training row; holdout baseline "
                             f"{privacy.holdout_copy_rate:.4f} + margin {margin:.4f}"))
    checks.append(_extreme_values_check(gates, fidelity.extremes))
    checks.append(_check("detection_auc", fidelity.detection_auc, gates.max_detection_auc, "<=", "boosted-tree detection ROC AUC"))
    failing = [c.name for c in checks if c.status == "failed"]
    not_estimable = [c.name for c in checks if c.status == "not estimable"]
    passed = not failing and not (gates.fail_on_not_estimable and not_estimable)
    return GateResult(passed=passed, checks=checks, failing=failing, not_estimable=not_estimable)
