"""Rich tables of a report for the terminal; the CLI prints what ``render_console`` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from synthgen.judge.gate import GateCheck
    from synthgen.judge.report import EvaluationReport

MEMORISATION_CHECKS = (
    "verbatim_records",
    "verbatim_unique_records",
    "near_copies",
    "near_copy_records",
    "exposed_records",
    "exposed_copies",
    "dcr_share",
    "detection_memorisation",
    "mia_auc",
)
"""The gate's checks against memorisation, in the order the reports show them."""
COUNT_CHECKS = (
    "verbatim_records",
    "verbatim_unique_records",
    "near_copy_records",
    "exposed_records",
    "exposed_copies",
)
"""Checks whose figure is a count of records: shown as whole numbers."""

STATUS_STYLE = {"passed": "green", "failed": "bold red", "not estimable": "yellow", "disabled": "dim"}


def fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render_console(report: EvaluationReport) -> list:
    """Renderables, in order: the verdict, the gate table, then fidelity, extreme-value, utility and privacy tables."""
    verdict = Text(
        "GATE PASSED"
        if report.gate.passed
        else f"GATE FAILED: {', '.join(refusals(report)) or 'not estimable checks'}",
        style="bold green" if report.gate.passed else "bold red",
    )

    gate = Table(title="Release gate")
    for col in ("check", "value", "threshold", "status", "detail"):
        gate.add_column(col, overflow="fold")
    for c in report.gate.checks:
        gate.add_row(*_check_row(c, 4, c.detail))

    f = report.fidelity
    fidelity = Table(title="Fidelity (real train vs synthetic)")
    fidelity.add_column("measure")
    fidelity.add_column("value", justify="right")
    for name, value in (
        ("column shapes", f.shape),
        ("pair trends (associated pairs)", f.trend),
        ("pair trends (all pairs)", f.trend_all_pairs),
        ("alpha-precision", f.alpha_precision),
        ("beta-recall", f.beta_recall),
        ("detection ROC AUC (0.5 ideal; below 0.5: too close to the training rows)", f.detection_auc),
    ):
        fidelity.add_row(name, fmt(value))
    extremes = _extremes_table(report)

    u = report.utility
    utility = Table(title=f"Utility: TSTR vs TRTR on the real holdout ({u.backend})")
    if u.status == "skipped":
        utility.add_column("status")
        utility.add_row(f"skipped: {u.reason}")
    else:
        metrics = _metrics(u)
        header = (
            "learner",
            *(f"TRTR {k}" for k in metrics),
            *(f"TSTR {k}" for k in metrics),
            "ratio",
            "importance rho",
        )
        for col in header:
            utility.add_column(col, justify="right")
        for r in u.learners:
            utility.add_row(
                r.learner,
                *(fmt(r.trtr.get(k)) for k in metrics),
                *(fmt(r.tstr.get(k)) for k in metrics),
                fmt(r.ratio),
                fmt(r.importance_agreement),
            )

    p = report.privacy
    privacy = Table(title=f"Privacy: membership inference ({p.members} members vs {p.non_members} non-members)")
    for col in ("attack", "ROC AUC [95% CI]", "TPR@1%FPR [CI]", "TPR@0.1%FPR [CI]", "eps lower bound"):
        privacy.add_column(col, justify="right")
    for a in p.attacks:
        privacy.add_row(
            a.name,
            _ci(a.auc, a.auc_interval),
            _ci(a.tpr_at_1pct_fpr, a.tpr_at_1pct_fpr_interval),
            _ci(a.tpr_at_01pct_fpr, a.tpr_at_01pct_fpr_interval),
            fmt(a.epsilon_lower_bound, 2),
        )
    hygiene = Table(title="Privacy hygiene (not proof)")
    hygiene.add_column("measure")
    hygiene.add_column("synthetic", justify="right")
    hygiene.add_column("holdout baseline", justify="right")
    hygiene.add_row(
        "exact copies of training rows",
        f"{p.exact_copy_rate:.4f} ({p.exact_copies})",
        f"{p.holdout_copy_rate:.4f} ({p.holdout_copies})",
    )
    if p.verbatim is not None:
        hygiene.add_row(
            "distinct training records found verbatim, whole release (not in the holdout)",
            str(p.verbatim.reproduced),
            f"{p.verbatim.expected:.1f} (independent sample)",
        )
    if p.near_copies is not None and p.near_copies.radius is not None:
        nc = p.near_copies
        hygiene.add_row(
            f"rows inside the near-copy radius {nc.radius:.4g}, whole release",
            f"{nc.near_share:.4f} ({nc.near_rows:,})",
            f"{nc.quantile:.4f} (by construction)",
        )
    if p.exposed is not None:
        ex = p.exposed
        hygiene.add_row(
            "most isolated records exposed (training / holdout)",
            f"{ex.training_exposed} of {len(ex.training)}",
            f"{ex.holdout_exposed} of {len(ex.holdout)}",
        )
    hygiene.add_row("DCR share closer to train (0.5 ideal)", fmt(p.dcr_share), "0.500")
    hygiene.add_row("median distance to closest train row", fmt(p.dcr_median_synthetic), fmt(p.dcr_median_holdout))
    hygiene.add_row("NNDR, 10th percentile", fmt(p.nndr_q10_synthetic), fmt(p.nndr_q10_holdout))
    return [verdict, gate, *_memorisation_table(report), fidelity, *extremes, utility, privacy, hygiene]


def refusals(report: EvaluationReport) -> list[str]:
    """The checks that refused the release: failed ones, then those the gate needed but could not estimate."""
    gate = report.gate
    return [*gate.failing, *(f"{name} (not estimable)" for name in gate.blocking_not_estimable)]


def _memorisation_table(report: EvaluationReport) -> list:
    """The memorisation checks, each with its figure, threshold, verdict and one sentence on what it means."""
    rows = [c for c in report.gate.checks if c.name in MEMORISATION_CHECKS and c.meaning]
    if not rows:
        return []
    table = Table(title="Memorisation: what the privacy checks say (whole release; never row values)")
    for col in ("check", "figure", "threshold", "status", "what it means"):
        table.add_column(col, overflow="fold")
    for c in rows:
        table.add_row(*_check_row(c, 3, c.meaning))
    return [table]


def _check_row(check: GateCheck, digits: int, last: str) -> tuple:
    """A gate check as a table row: name, figure, threshold, coloured status and ``last``. Checks that count
    records show whole numbers."""
    digits = 0 if check.name in COUNT_CHECKS else digits
    threshold = "-" if check.threshold is None else f"{check.direction} {check.threshold:.{digits}f}"
    return check.name, fmt(check.value, digits), threshold, Text(check.status, style=STATUS_STYLE[check.status]), last


def _extremes_table(report: EvaluationReport) -> list:
    """Per continuous column, the shares of synthetic and holdout values beyond the extreme-value bounds."""
    extremes = report.fidelity.extremes
    if extremes is None or not extremes.columns:
        return []
    table = Table(title=f"Extreme values: beyond the real train's median +- {extremes.spreads:g} robust spreads")
    for col in ("column", "low", "high", "synthetic", "holdout (natural rate)"):
        table.add_column(col, justify="left" if col == "column" else "right")
    for c in extremes.columns:
        table.add_row(c.column, f"{c.low:.6g}", f"{c.high:.6g}", _share(c.synthetic_share), _share(c.holdout_share))
    return [table]


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.2%}"


def _metrics(u) -> tuple[str, str]:
    return ("roc_auc", "f1") if u.task == "classification" else ("r2", "rmse")


def _ci(value: float | None, interval: tuple[float, float] | None) -> str:
    if value is None or interval is None:
        return "not estimable"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"
