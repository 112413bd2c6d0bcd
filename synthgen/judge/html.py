"""A self-contained HTML page of a report: tables, and figures inlined as base64 PNG.

Matplotlib is driven through ``Figure`` + the Agg canvas directly (no pyplot), so rendering touches no
global state and needs no display. Nothing is fetched from the network when the page is opened.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.judge.console import COUNT_CHECKS, MEMORISATION_CHECKS, refusals

if TYPE_CHECKING:
    from synthgen.judge.extremes import ExtremeValues
    from synthgen.judge.gate import GateCheck
    from synthgen.judge.report import EvaluationReport

REAL, SYNTH = "#1f77b4", "#ff7f0e"
STATUS_COLOUR = {"passed": "#1a7f37", "failed": "#cf222e", "not estimable": "#9a6700", "disabled": "#6e7781"}

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1150px;color:#1f2328}
h1{margin-bottom:4px} h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0 16px 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right} th{background:#f6f8fa}
td.l,th.l{text-align:left}
.verdict{font-size:22px;font-weight:700;padding:10px 14px;border-radius:6px;display:inline-block}
.pass{background:#dafbe1;color:#1a7f37} .fail{background:#ffebe9;color:#cf222e}
.muted{color:#6e7781;font-size:12px} img{max-width:100%} .note{background:#fff8c5;padding:6px 10px;border-radius:4px}
"""


def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _e(x: Any) -> str:
    return html.escape(str(x))


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]], left: Iterable[int] = (0,)) -> str:
    left = set(left)
    head = "".join(f'<th class="{"l" if i in left else ""}">{_e(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"l" if i in left else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)  # laid out already: "tight" would draw it twice
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode("ascii")}">'


def _distribution_figure(report: EvaluationReport) -> str:
    from matplotlib.figure import Figure

    dists = report.fidelity.distributions
    scores = {c.column: c.score for c in report.fidelity.columns}
    cols = 4
    rows = max(1, math.ceil(len(dists) / cols))
    fig = Figure(figsize=(14, 2.6 * rows))
    for i, d in enumerate(dists):
        ax = fig.add_subplot(rows, cols, i + 1)
        if d.edges:
            centres = (np.array(d.edges[:-1]) + np.array(d.edges[1:])) / 2
            width = d.edges[1] - d.edges[0]
            ax.bar(centres, d.real, width=width, color=REAL, alpha=0.45, label="real")
            ax.step(centres, d.synthetic, where="mid", color=SYNTH, lw=1.6, label="synthetic")
        else:
            x = np.arange(len(d.labels))
            ax.bar(x - 0.2, d.real, width=0.4, color=REAL, label="real")
            ax.bar(x + 0.2, d.synthetic, width=0.4, color=SYNTH, label="synthetic")
            ax.set_xticks(x, [lab[:12] for lab in d.labels], rotation=60, ha="right", fontsize=6)
        ax.set_title(f"{d.column[:32]}  ({_f(scores.get(d.column), 2)})", fontsize=8)
        ax.tick_params(labelsize=6)
        if i == 0:
            ax.legend(fontsize=6)
    # Fixed margins: tight_layout measures every tick label of every panel, seconds for a wide table.
    fig.subplots_adjust(
        left=0.04,
        right=0.99,
        top=1 - 0.35 / fig.get_figheight(),
        bottom=0.9 / fig.get_figheight(),
        wspace=0.25,
        hspace=1.0,
    )
    return _png(fig)


def _trend_heatmap(report: EvaluationReport) -> str:
    from matplotlib.figure import Figure

    names = report.run.columns
    index = {n: i for i, n in enumerate(names)}
    m = np.full((len(names), len(names)), np.nan)
    for p in report.fidelity.pairs:
        if p.score is not None:
            i, j = index[p.column_1], index[p.column_2]
            m[i, j] = m[j, i] = 1.0 - p.score
    np.fill_diagonal(m, 0.0)
    size = min(12, 3 + 0.35 * len(names))
    fig = Figure(figsize=(size + 1.5, size))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(m, cmap="Reds", vmin=0, vmax=max(0.2, float(np.nanmax(m)) if np.isfinite(m).any() else 0.2))
    short = [n[:22] for n in names]
    ax.set_xticks(range(len(names)), short, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), short, fontsize=7)
    ax.set_title("pair-trend difference: 1 - score (correlation or contingency)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    return _png(fig)


def _roc_figure(report: EvaluationReport) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.6))
    linear, logs = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for a in report.privacy.attacks:
        label = f"{a.name} (AUC {a.auc:.3f})"
        linear.plot(a.roc_fpr, a.roc_tpr, label=label)
        fpr, tpr = np.array(a.roc_fpr), np.array(a.roc_tpr)
        keep = fpr > 0
        logs.plot(fpr[keep], np.clip(tpr[keep], 1e-4, 1), label=label)
    for ax in (linear, logs):
        ax.plot([1e-4, 1], [1e-4, 1], color="grey", ls="--", lw=1, label="chance")
        ax.set_xlabel("false positive rate (non-members flagged)")
        ax.set_ylabel("true positive rate (members flagged)")
    linear.set_xlim(0, 1)
    linear.set_ylim(0, 1)
    logs.set_xscale("log")
    logs.set_yscale("log")
    logs.set_xlim(1.0 / max(report.privacy.non_members, 1), 1)
    logs.set_ylim(1e-3, 1)
    logs.axvline(0.01, color="grey", lw=0.8, ls=":")
    linear.legend(fontsize=7, loc="lower right")
    linear.set_title("membership-inference ROC", fontsize=9)
    logs.set_title("same, log-log (the low-FPR region matters)", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _check_row(check: GateCheck, digits: int, last: str) -> list[str]:
    """A gate check as a table row: name, figure, threshold, coloured status and ``last`` (escaped HTML).
    Checks that count records show whole numbers."""
    digits = 0 if check.name in COUNT_CHECKS else digits
    threshold = "-" if check.threshold is None else _e(f"{check.direction} {check.threshold:.{digits}f}")
    status = f'<b style="color:{STATUS_COLOUR[check.status]}">{_e(check.status)}</b>'
    return [_e(check.name), _f(check.value, digits), threshold, status, last]


def _gate_section(report: EvaluationReport) -> str:
    rows = [_check_row(c, 4, f'<span class="muted">{_e(c.detail)}</span>') for c in report.gate.checks]
    return _table(["check", "value", "threshold", "status", "detail"], rows, left=(0, 4))


def _fidelity_section(report: EvaluationReport) -> str:
    f = report.fidelity
    summary = _table(
        ["measure", "value"],
        [
            ["column shapes (1 - KS / 1 - TVD)", _f(f.shape)],
            [f"pair trends ({f.trend_pairs_counted} associated pairs)", _f(f.trend)],
            ["pair trends (all pairs)", _f(f.trend_all_pairs)],
            ["alpha-precision (1 ideal)", _f(f.alpha_precision)],
            ["beta-recall (independent real sample: about 0.5)", _f(f.beta_recall)],
            [
                f"detection ROC AUC, {len(f.detection_auc_folds)}-fold, {f.detection_rows} rows a side (0.5 ideal; "
                "below 0.5: closer to the training rows than fresh real rows are)",
                _f(f.detection_auc),
            ],
        ],
    )
    rows = [
        [
            _e(c.column),
            _e(c.kind),
            _e(c.metric),
            _f(c.score),
            _f(c.null_rate_real),
            _f(c.null_rate_synthetic),
            _f(c.category_coverage),
            _f(c.novel_share),
            _f(c.out_of_range_share),
        ]
        for c in f.columns
    ]
    columns = _table(
        [
            "column",
            "kind",
            "metric",
            "score",
            "null real",
            "null synth",
            "category coverage",
            "novel categories",
            "out of range",
        ],
        rows,
    )
    note = f'<p class="note">{_e(f.trend_note)}</p>' if f.trend_note else ""
    extremes = _extremes_table(f.extremes)
    binning = (
        '<p class="muted">Pair trends follow SDMetrics\' QualityReport: a numeric column paired with a category is cut '
        "in equal-width bins of <i>each table's own</i> range, so one synthetic outlier shifts every bin of that "
        "column (a dark row in the heatmap below with good column shapes usually means exactly that).</p>"
    )
    return summary + note + columns + binning + extremes


def _extremes_table(extremes: ExtremeValues | None) -> str:
    """Shares of synthetic and holdout values beyond each continuous column's extreme-value bounds."""
    if extremes is None or not extremes.columns:
        return ""

    def share(x: float | None) -> str:
        return "-" if x is None else f"{x:.2%}"

    head = (
        f'<p class="muted">Extreme values: beyond the real train\'s median plus or minus {extremes.spreads:g} robust '
        f"spreads (interquartile range / 1.349). The holdout share is the natural rate; the gate's extreme_values "
        f"check compares the synthetic share with it.</p>"
    )
    rows = [
        [_e(c.column), _e(f"{c.low:.6g}"), _e(f"{c.high:.6g}"), share(c.synthetic_share), share(c.holdout_share)]
        for c in extremes.columns
    ]
    return head + _table(["column", "low bound", "high bound", "synthetic beyond", "holdout beyond"], rows)


def _utility_section(report: EvaluationReport) -> str:
    u = report.utility
    if u.status == "skipped":
        return f'<p class="note">Skipped: {_e(u.reason)}</p>'
    keys = ("roc_auc", "f1") if u.task == "classification" else ("r2", "rmse")
    rows = [
        [
            _e(r.learner),
            *(_f(r.trtr.get(k)) for k in keys),
            *(_f(r.tstr.get(k)) for k in keys),
            _f(r.ratio),
            _f(r.importance_agreement),
            _e(r.note or ""),
        ]
        for r in u.learners
    ]
    head = (
        f"<p>Target <b>{_e(u.target)}</b> ({_e(u.task)}); backend <b>{_e(u.backend)}</b>; {u.train_rows} real / "
        f"{u.synthetic_rows} synthetic training rows, {u.test_rows} holdout rows. Mean ratio: "
        f"<b>{_f(u.tstr_ratio)}</b></p>"
    )
    notes = "".join(f'<p class="muted">{_e(n)}</p>' for n in u.notes)
    return (
        head
        + _table(
            [
                "learner",
                *(f"TRTR {k}" for k in keys),
                *(f"TSTR {k}" for k in keys),
                "TSTR/TRTR",
                "importance rank corr.",
                "note",
            ],
            rows,
            left=(0, 8),
        )
        + notes
    )


def _privacy_section(report: EvaluationReport) -> str:
    p = report.privacy

    def ci(v, iv):
        return "not estimable" if v is None or iv is None else f"{v:.3f} [{iv[0]:.3f}, {iv[1]:.3f}]"

    attacks = _table(
        ["attack", "ROC AUC [95% CI]", "TPR @ 1% FPR [CI]", "TPR @ 0.1% FPR [CI]", "epsilon lower bound @ 1% FPR"],
        [
            [
                _e(a.name),
                ci(a.auc, a.auc_interval),
                ci(a.tpr_at_1pct_fpr, a.tpr_at_1pct_fpr_interval),
                ci(a.tpr_at_01pct_fpr, a.tpr_at_01pct_fpr_interval),
                _f(a.epsilon_lower_bound, 2),
            ]
            for a in p.attacks
        ],
    )
    head = (
        f"<p>{p.members} members (training rows) vs {p.non_members} non-members (holdout rows); reference: "
        f"{p.reference_rows} training rows of the other fold; the distance attack sees every released row, the "
        f"others {p.attack_synthetic_rows} synthetic rows. "
        f"Strongest attack: <b>{_e(p.strongest_attack)}</b>.</p>"
    )
    hygiene = _table(
        ["hygiene measure (not proof)", "synthetic", "holdout baseline"],
        [
            [
                "rows equal to a training row",
                f"{p.exact_copy_rate:.4f} ({p.exact_copies})",
                f"{p.holdout_copy_rate:.4f} ({p.holdout_copies})",
            ],
            [f"DCR share: closer to train than to holdout ({p.dcr_rows} rows)", _f(p.dcr_share), "0.500"],
            ["median distance to the closest training row", _f(p.dcr_median_synthetic), _f(p.dcr_median_holdout)],
            ["NNDR, 10th percentile", _f(p.nndr_q10_synthetic), _f(p.nndr_q10_holdout)],
        ],
    )
    notes = "".join(f'<p class="muted">{_e(n)}</p>' for n in p.notes)
    return _memorisation_section(report) + head + attacks + notes + hygiene


def _memorisation_section(report: EvaluationReport) -> str:
    """The memorisation checks (figure, threshold, verdict, one plain sentence) and the verbatim-record counts."""
    checks = [c for c in report.gate.checks if c.name in MEMORISATION_CHECKS and c.meaning]
    if not checks:
        return ""
    rows = [_check_row(c, 3, _e(c.meaning)) for c in checks]
    out = "<h3>Memorisation</h3>" + _table(["check", "figure", "threshold", "status", "what it means"], rows, (0, 4))
    v = report.privacy.verbatim
    if v is not None:
        out += (
            '<p class="muted">Verbatim records are counted over all the released rows, by distinct record; values '
            "are never shown. A training record that also occurs in the holdout is a natural duplicate and is not "
            "counted.</p>"
        )
        out += _table(
            ["verbatim records (whole release)", "count"],
            [
                ["released rows", f"{v.synthetic_rows:,}"],
                ["training records not in the holdout / of which unique in the real data", _pair(v, "training")],
                ["found verbatim in the release / of which unique in the real data", _pair(v, "reproduced")],
                [
                    "natural duplicates found (training records also in the holdout; not counted)",
                    f"{v.natural_duplicates:,}",
                ],
                ["holdout records (not training records) found in the release", f"{v.holdout_reproduced:,}"],
                [f"real rows (of {v.real_rows:,}) that repeat a training record", f"{v.real_recurrences:,}"],
                [
                    "training records an independent sample of the release's size reproduces (estimate)",
                    f"{v.expected:.1f}",
                ],
            ],
        )
    return out


def _exposed_section(report: EvaluationReport) -> str:
    """The most isolated records, by row index: how far each lies from its nearest real neighbour and from
    its nearest released row. Points below the diagonal are exposed."""
    ex = report.privacy.exposed
    if ex is None or not ex.training:
        return ""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.2, 4.6))
    ax = fig.add_subplot(1, 1, 1)
    top = max(max(r.isolation, r.nearest_release) for r in [*ex.training, *ex.holdout]) * 1.05 or 1.0
    for records, colour, label in ((ex.training, SYNTH, "training"), (ex.holdout, REAL, "holdout")):
        x = [r.isolation for r in records]
        y = [r.nearest_release for r in records]
        exposed = sum(r.exposed for r in records)
        ax.scatter(x, y, s=14, color=colour, alpha=0.7, label=f"{label}: {exposed} of {len(records)} exposed")
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="as close as its nearest real neighbour")
    fraction = report.gates.exposed_copy_fraction
    ax.plot(
        [0, top],
        [0, fraction * top],
        color="grey",
        ls=":",
        lw=1,
        label=f"within {fraction:g} of it: copied (exposed_copies)",
    )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("distance to its nearest other real row (isolation)")
    ax.set_ylabel("distance to its nearest released row")
    ax.set_title("most isolated records: below the line = exposed", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    exposed_rows = [r for r in ex.training if r.exposed][:50]
    listing = _table(
        ["exposed training record (row index)", "isolation", "nearest released row"],
        [[str(r.index), _f(r.isolation, 4), _f(r.nearest_release, 4)] for r in exposed_rows],
    )
    more = len([r for r in ex.training if r.exposed]) - len(exposed_rows)
    note = f'<p class="muted">and {more} more (all in report.json)</p>' if more > 0 else ""
    return (
        "<h3>Exposed records</h3>"
        f'<p class="muted">The {len(ex.training)} most isolated training records and {len(ex.holdout)} most isolated '
        "holdout records (the same share of each table). A record is exposed when a released row lies closer to it "
        "than any other real row: an attacker holding the record could single it out. Row indices only; values are "
        "never shown.</p>" + _png(fig) + (listing if exposed_rows else "") + note
    )


def _pair(v, kind: str) -> str:
    if kind == "training":
        return f"{v.training_records:,} / {v.training_unique_records:,}"
    return f"{v.reproduced:,} / {v.reproduced_unique:,}"


def _constraints_section(rows: list[dict[str, Any]]) -> str:
    """Each recipe constraint's share of breaking rows: in the real training rows (a rule the data itself
    breaks is worth a second look) and in the output (zero: the generator enforces them)."""
    body = [[_e(row["constraint"]), f"{row['real']:.3%}", f"{row['output']:.3%}"] for row in rows]
    return _table(["constraint", "real data", "output"], body)


def render_html(report: EvaluationReport, extra_metadata: dict[str, Any] | None = None) -> str:
    r = report.run
    extra_metadata = dict(extra_metadata or {})
    constraints = extra_metadata.pop("constraints", None) or []
    rules = (
        ["<h2>Constraints: share of rows breaking each</h2>", _constraints_section(constraints)] if constraints else []
    )
    verdict = (
        '<span class="verdict pass">Gate passed</span>'
        if report.gate.passed
        else '<span class="verdict fail">Gate failed: '
        f"{_e(', '.join(refusals(report)) or 'not estimable checks')}</span>"
    )
    meta = _table(
        ["run", ""],
        [
            ["rows (train / holdout / synthetic)", f"{r.train_rows} / {r.holdout_rows} / {r.synthetic_rows}"],
            ["columns scored", str(len(r.columns))],
            ["target", _e(r.target or "-")],
            [
                "backend / XGBoost device / distance device",
                f"{_e(r.backend)} / {_e(r.xgboost_device)} / {_e(r.device)}",
            ],
            ["seed", str(r.seed)],
            ["versions", _e(", ".join(f"{k} {v}" for k, v in r.versions.items()))],
            ["time (s)", _e(", ".join(f"{k} {v:.1f}" for k, v in r.timings_s.items()))],
            ["created", _e(r.created_at)],
            *([[_e(k), _e(json.dumps(v, default=str))] for k, v in extra_metadata.items()]),
        ],
    )
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>synthgen "
        f"evaluation</title><style>{CSS}</style></head><body>",
        "<h1>synthgen evaluation report</h1>",
        verdict,
        "<h2>Release gate</h2>",
        _gate_section(report),
        *rules,
        "<h2>Fidelity</h2>",
        _fidelity_section(report),
        "<h3>Column distributions: real train vs synthetic</h3>",
        _distribution_figure(report),
        "<h3>Column-pair trends</h3>",
        _trend_heatmap(report),
        "<h2>Utility: train on synthetic, test on real</h2>",
        _utility_section(report),
        "<h2>Privacy: membership inference</h2>",
        _privacy_section(report),
        _roc_figure(report),
        _exposed_section(report),
        "<h2>Run</h2>",
        meta,
        "</body></html>",
    ]
    return "\n".join(parts)
