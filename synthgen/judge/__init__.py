"""The judge: is a synthetic table faithful, useful, and not leaking its training rows?

    report = evaluate(train, holdout, synthetic, schema)
    write_report(report, "out/")          # report.json + report.html
    report.gate.passed                    # the release decision

Names are imported on first use: the recipe reads `synthgen.judge.settings` (pydantic only) without
loading the judge's learners and their libraries (torch, scikit-learn, XGBoost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthgen._lazy import lazy_names

if TYPE_CHECKING:
    from synthgen.judge.console import render_console
    from synthgen.judge.evaluation import evaluate
    from synthgen.judge.gate import GateCheck, GateResult
    from synthgen.judge.privacy import RealHashes
    from synthgen.judge.report import EvaluationReport, write_report
    from synthgen.judge.settings import EvaluateSettings, GateSettings

_LAZY: dict[str, str] = {
    "evaluate": "synthgen.judge.evaluation",
    "render_console": "synthgen.judge.console",
    "GateCheck": "synthgen.judge.gate",
    "GateResult": "synthgen.judge.gate",
    "RealHashes": "synthgen.judge.privacy",
    "EvaluationReport": "synthgen.judge.report",
    "write_report": "synthgen.judge.report",
    "EvaluateSettings": "synthgen.judge.settings",
    "GateSettings": "synthgen.judge.settings",
}

__all__ = [
    "EvaluateSettings",
    "EvaluationReport",
    "GateCheck",
    "GateResult",
    "GateSettings",
    "RealHashes",
    "evaluate",
    "render_console",
    "write_report",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
