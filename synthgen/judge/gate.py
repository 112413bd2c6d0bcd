"""The release gate: each figure against its threshold from ``GateSettings``.

A check is ``passed``, ``failed``, ``not estimable`` (the data cannot support the figure, e.g. too
few holdout rows; reported, never silently passed) or ``disabled`` (its threshold is null). The gate
passes when no check fails and no check it must have is ``not estimable``: the privacy checks every
release needs (``REQUIRED_PRIVACY_CHECKS``) with ``fail_on_not_estimable_privacy`` (the default), every
check with ``fail_on_not_estimable``.

Memorisation, whatever the release size: ``verbatim_records`` / ``verbatim_unique_records`` count the
distinct training records found verbatim in the whole synthetic table against what an independent
sample of its size would reproduce (``verbatim_checks``); ``detection_memorisation`` fails a detection
AUC significantly *below* 0.5, synthetic rows closer to the training rows than fresh real rows are.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel
from scipy.stats import nbinom, norm

from synthgen.judge.extremes import ExtremeValues, allowance
from synthgen.judge.fidelity import FidelityResult
from synthgen.judge.privacy import PrivacyResult, VerbatimRecords
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
    meaning: str = ""  # one plain sentence: what the figure says about the release

    @property
    def passed(self) -> bool:
        return self.status != "failed"


class GateResult(BaseModel):
    passed: bool
    checks: list[GateCheck]
    failing: list[str]
    not_estimable: list[str]
    blocking_not_estimable: list[str] = []  # not-estimable checks that fail the gate (see the module docstring)


REQUIRED_PRIVACY_CHECKS = ("mia_auc", "exact_copies", "verbatim_records", "verbatim_unique_records")
"""The privacy checks every release needs. Not estimable (e.g. a holdout too small to tell an attack from
chance), they fail the gate under ``fail_on_not_estimable_privacy``. The TPR-at-low-FPR checks are not
among them: they need 1,000 / 10,000 non-members, more rows than many real tables have (german_credit
has 1,000 in all); ``detection_memorisation`` neither: it is not estimable only for tables of a few rows."""


def _check(
    name: str,
    value: float | None,
    threshold: float | None,
    direction: str,
    detail: str = "",
    missing: str = "not estimable",
    meaning: str = "",
) -> GateCheck:
    common = dict(name=name, direction=direction, detail=detail, meaning=meaning)
    if threshold is None:
        return GateCheck(value=value, threshold=None, status="disabled", **common)
    if value is None:
        return GateCheck(value=None, threshold=threshold, status=missing, **common)
    ok = value >= threshold if direction == ">=" else value <= threshold
    return GateCheck(value=value, threshold=threshold, status="passed" if ok else "failed", **common)


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
    return min(1.0, 0.5 + CHANCE_Z * se)


def rows_needed_for_auc(limit: float) -> int:
    """Fewest members = non-members for which ``chance_auc_bound`` is at most ``limit`` (101 for 0.70)."""
    if limit >= 1.0:
        return 1
    n = max(1, int((CHANCE_Z / (limit - 0.5)) ** 2 / 6.0) - 2)
    while chance_auc_bound(n, n) > limit:
        n += 1
    return n


def _mia_auc_check(gates: GateSettings, privacy: PrivacyResult) -> GateCheck:
    """ROC AUC of the strongest attack; the threshold raised to what the holdout can tell from chance, and
    'not estimable' when even that would exceed ``mia_auc_chance_bound_limit``."""
    name, threshold = "mia_auc", gates.max_mia_auc
    detail = f"upper bound of the bootstrap interval of ROC AUC, strongest attack ({privacy.strongest_attack})"
    meaning = "how well the strongest attack tells training rows from holdout rows by the release (0.5: not at all)"
    chance = chance_auc_bound(privacy.members, privacy.non_members)
    if threshold is None or chance <= threshold:
        return _check(name, privacy.max_auc_upper, threshold, "<=", detail, meaning=meaning)
    sizes = f"{privacy.members} members and {privacy.non_members} non-members"
    if chance > gates.mia_auc_chance_bound_limit:
        needed = rows_needed_for_auc(max(threshold, gates.mia_auc_chance_bound_limit))
        detail += (
            f" ({privacy.max_auc_upper:.3f}); not estimable: with {sizes} a chance-level attack's bound reaches "
            f"{chance:.3f}, above {gates.mia_auc_chance_bound_limit:.2f}, so the data cannot tell an attack from "
            f"chance. Needs a holdout of at least {needed:,} rows (and {2 * needed:,} training rows)"
        )
        return GateCheck(
            name=name,
            value=privacy.max_auc_upper,
            threshold=threshold,
            direction="<=",
            status="not estimable",
            detail=detail,
            meaning=meaning,
        )
    detail += (
        f"; threshold raised from {threshold:.2f} to {chance:.3f}, the bound a chance-level attack reaches with {sizes}"
    )
    return _check(name, privacy.max_auc_upper, chance, "<=", detail, meaning=meaning)


def verbatim_allowance(comparison: int, release_weight: float, comparison_weight: float, confidence: float) -> int:
    """The most records a release may reproduce when ``comparison`` records were counted on the other side.

    Two Poisson counts with means in the ratio ``release_weight : comparison_weight`` (rows or records
    exposed) under honesty; given their sum, the release's count is binomial with share
    pi = release_weight / (release_weight + comparison_weight). The allowance is the largest count whose
    one-sided p-value exceeds 1 - ``confidence`` (the exact conditional test of two Poisson rates): the
    count of successes before the (comparison + 1)-th failure is negative binomial.
    """
    if comparison_weight <= 0:
        return 2**62  # nothing to compare with: no bound from this side
    share = release_weight / (release_weight + comparison_weight)
    return int(nbinom.ppf(confidence, comparison + 1, 1.0 - share))


def _verbatim_allowances(v: VerbatimRecords, confidence: float, unique: bool) -> tuple[int, str]:
    """Allowance and how it was set, for all counted records or for those unique in the real data."""
    recur = v.real_recurrences_unique if unique else v.real_recurrences
    control = v.holdout_reproduced_unique if unique else v.holdout_reproduced
    exposed = (
        (v.training_unique_records, v.holdout_unique_records) if unique else (v.training_records, v.holdout_records)
    )
    if recur == 0 and control == 0:
        return 0, (
            "no real row repeats such a training record and the release reproduces no holdout record: zero tolerance"
        )
    by_recurrence = verbatim_allowance(recur, v.synthetic_rows, v.real_rows, confidence)
    by_holdout = verbatim_allowance(control, exposed[0], exposed[1], confidence)
    expected = v.synthetic_rows * recur / max(v.real_rows, 1)
    how = (
        f"an independent sample of {v.synthetic_rows:,} rows reproduces about {expected:.1f} ({recur} of "
        f"{v.real_rows:,} real rows repeat such a training record): allowed {by_recurrence:,}"
    )
    if by_holdout < by_recurrence:
        how += (
            f"; the release reproduces {control} of {exposed[1]:,} holdout records, so at most {by_holdout:,} "
            f"of {exposed[0]:,} training records"
        )
    return min(by_recurrence, by_holdout), how


def verbatim_checks(gates: GateSettings, v: VerbatimRecords | None) -> list[GateCheck]:
    """Distinct training records found verbatim in the whole release, against an independent sample's count.

    ``verbatim_records``: training records that are not in the holdout (natural duplicates are never
    counted); ``verbatim_unique_records``: those that occur once in the real data. Each allowance is the
    smaller of two one-sided bounds at ``verbatim_confidence`` (see ``verbatim_allowance``): from how often
    real rows repeat such a record (scaled to the release's size), and from how many holdout records the
    release reproduces (an independent sample reproduces training and holdout records alike, so this
    bound does not grow with a release that merely repeats itself). Zero tolerance where neither shows a
    record recurring on its own.
    """
    confidence = gates.verbatim_confidence
    names = ("verbatim_records", "verbatim_unique_records")
    if v is None:
        missing = "not computed (a report written before the check existed)"
        return [_check(n, None, None if confidence is None else 0.0, "<=", missing) for n in names]
    out = []
    for name, unique in zip(names, (False, True)):
        count = v.reproduced_unique if unique else v.reproduced
        kind = "training records unique in the real data" if unique else "training records (not in the holdout)"
        detail = f"{count:,} distinct {kind} found verbatim among all {v.synthetic_rows:,} released rows"
        if not unique:
            detail += (
                f" ({v.synthetic_rows_reproducing:,} rows); {v.natural_duplicates:,} natural duplicates not counted"
            )
        meaning = (
            "real borrowers who occur once in the real data, released verbatim: each is a leak"
            if unique
            else "training records released verbatim, beyond what an independent sample of real rows would repeat"
        )
        if confidence is None:
            out.append(_check(name, float(count), None, "<=", detail, meaning=meaning))
            continue
        allowed, how = _verbatim_allowances(v, confidence, unique)
        out.append(_check(name, float(count), float(allowed), "<=", f"{detail}; {how}", meaning=meaning))
    return out


def detection_memorisation_check(gates: GateSettings, fidelity: FidelityResult) -> GateCheck:
    """The detection AUC significantly below 0.5, and below what two real samples give (memorisation).

    A detector scored on held-out folds falls below 0.5 when synthetic rows sit on top of training rows:
    a test row's twin is in the training fold with the other label. The threshold is the lowest AUC
    chance allows (0.5 - z x its standard error, one-sided at ``detection_memorisation_confidence``) and,
    where the AUC is below that, also the lowest the same test between real train and holdout rows allows
    (real tables with many repeated rows fall below 0.5 on their own): it fails only below both.
    """
    name, confidence = "detection_memorisation", gates.detection_memorisation_confidence
    auc, se = fidelity.detection_auc, fidelity.detection_auc_standard_error
    meaning = "below 0.5 the synthetic rows are closer to the training rows than fresh real rows are: memorisation"
    folds = ", ".join(f"{x:.3f}" for x in fidelity.detection_auc_folds)
    if auc is None or se is None:
        missing = "not computed (a report written before the check existed)"
        return _check(name, None, None if confidence is None else 0.5, ">=", missing, meaning=meaning)
    detail = f"detection ROC AUC, mean of folds {folds}; standard error under chance {se:.3f}"
    if confidence is None:
        return _check(name, auc, None, ">=", detail, meaning=meaning)
    z = float(norm.ppf(confidence))
    floor = 0.5 - z * se

    def unsupported(why: str) -> GateCheck:
        return GateCheck(
            name=name,
            value=auc,
            threshold=floor,
            direction=">=",
            status="not estimable",
            detail=f"{detail}; not estimable: {why}",
            meaning=meaning,
        )

    if floor < 0.1:
        return unsupported(f"too few rows ({fidelity.detection_rows} a side) to tell even an AUC of 0.10 from chance")
    if auc >= floor:  # not significantly below chance: nothing to explain
        return _check(name, auc, floor, ">=", detail, meaning=meaning)
    base, base_se = fidelity.detection_auc_holdout, fidelity.detection_auc_holdout_standard_error
    if base is not None and base_se is not None:
        # Significantly below chance; do real rows, which repeat one another, fall as far on their own?
        floor = min(floor, base - z * math.hypot(se, base_se))
        detail += (
            f"; real train vs {fidelity.detection_holdout_rows} holdout rows: {base:.3f} (standard error {base_se:.3f})"
        )
        if floor < 0.1:
            return unsupported(
                f"the holdout ({fidelity.detection_holdout_rows} rows) is too small to tell whether real rows fall "
                "this far below 0.5 on their own"
            )
    return _check(name, auc, floor, ">=", detail, meaning=meaning)


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
        return _check(
            name, None, tolerance, "<=", "no continuous column with values in both the synthetic and the holdout table"
        )
    column, allowed = max(judged, key=lambda item: item[0].synthetic_share - item[1])
    detail = (
        f"column {column.column!r}: {column.synthetic_share:.2%} of synthetic values outside "
        f"[{column.low:.6g}, {column.high:.6g}] (the real train's median +- {extremes.spreads:g} robust "
        f"spreads); holdout (natural rate) {column.holdout_share:.2%}"
    )
    if tolerance is None:
        return _check(name, column.synthetic_share, None, "<=", detail)
    detail += f" + margin {allowed - column.holdout_share:.2%}"
    return _check(name, column.synthetic_share, allowed, "<=", detail)


def run_gate(
    gates: GateSettings, fidelity: FidelityResult, utility: UtilityResult, privacy: PrivacyResult
) -> GateResult:
    checks = [
        _check("shape", fidelity.shape, gates.min_shape, ">=", "mean column-shape score (1 - KS, 1 - TVD)"),
        _check(
            "trend",
            fidelity.trend,
            gates.min_trend,
            ">=",
            f"mean pair-trend score over {fidelity.trend_pairs_counted} associated pair(s)",
        ),
    ]
    if utility.status == "skipped":
        checks.append(_check("tstr_ratio", None, gates.min_tstr_ratio, ">=", f"skipped: {utility.reason}"))
    else:
        detail = f"mean TSTR / TRTR {utility.primary_metric} over {len(utility.learners)} learners"
        notes = [f"{r.learner}: {r.note}" for r in utility.learners if r.note]
        # A synthetic table no learner can learn from is a utility failure, not a gap in the evidence;
        # a holdout on which nothing can be scored (one class) is a gap.
        checks.append(
            _check(
                "tstr_ratio",
                utility.tstr_ratio,
                gates.min_tstr_ratio,
                ">=",
                "; ".join([detail, *notes]),
                missing="failed" if utility.synthetic_unusable else "not estimable",
            )
        )
    checks.append(_mia_auc_check(gates, privacy))
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
        checks.append(
            _check(
                "exact_copies", privacy.exact_copy_rate, None, "<=", "share of synthetic rows equal to a training row"
            )
        )
    else:
        margin = max(gates.exact_copy_tolerance, 3 * privacy.copy_rate_standard_error)
        checks.append(
            _check(
                "exact_copies",
                privacy.exact_copy_rate,
                privacy.holdout_copy_rate + margin,
                "<=",
                f"share of synthetic rows equal to a training row; holdout baseline "
                f"{privacy.holdout_copy_rate:.4f} + margin {margin:.4f}",
            )
        )
    checks += verbatim_checks(gates, privacy.verbatim)
    checks.append(_extreme_values_check(gates, fidelity.extremes))
    checks.append(
        _check("detection_auc", fidelity.detection_auc, gates.max_detection_auc, "<=", "boosted-tree detection ROC AUC")
    )
    checks.append(detection_memorisation_check(gates, fidelity))
    failing = [c.name for c in checks if c.status == "failed"]
    not_estimable = [c.name for c in checks if c.status == "not estimable"]
    blocking = [
        n
        for n in not_estimable
        if gates.fail_on_not_estimable or (gates.fail_on_not_estimable_privacy and n in REQUIRED_PRIVACY_CHECKS)
    ]
    return GateResult(
        passed=not failing and not blocking,
        checks=checks,
        failing=failing,
        not_estimable=not_estimable,
        blocking_not_estimable=blocking,
    )
