"""The evaluation report: every number, how it was obtained, and the gate's verdict.

``EvaluationReport`` is plain pydantic (JSON in, JSON out; never pickle). ``write_report`` writes
``report.json`` and a self-contained ``report.html`` (figures inlined as base64 PNG, no network),
each atomically (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from synthgen.evaluate.fidelity import FidelityResult
from synthgen.evaluate.gate import GateResult
from synthgen.evaluate.privacy import PrivacyResult
from synthgen.evaluate.settings import EvaluateSettings, GateSettings
from synthgen.evaluate.utility import UtilityResult

REPORT_FORMAT = 1


class RunInfo(BaseModel):
    format: int = REPORT_FORMAT
    created_at: str
    versions: dict[str, str]
    seed: int
    backend: str  # "cuml" | "sklearn"
    xgboost_device: str
    device: str  # torch device of the distance computations
    train_rows: int
    holdout_rows: int
    synthetic_rows: int
    columns: list[str]
    target: str | None
    timings_s: dict[str, float]


class EvaluationReport(BaseModel):
    run: RunInfo
    settings: EvaluateSettings
    gates: GateSettings
    fidelity: FidelityResult
    utility: UtilityResult
    privacy: PrivacyResult
    gate: GateResult

    @property
    def passed(self) -> bool:
        return self.gate.passed

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, text: str) -> "EvaluationReport":
        return cls.model_validate_json(text)

    def summary(self) -> dict[str, float | None]:
        """The headline figures, flat (for logs and benchmark tables)."""
        return {
            "shape": self.fidelity.shape, "trend": self.fidelity.trend, "detection_auc": self.fidelity.detection_auc,
            "alpha_precision": self.fidelity.alpha_precision, "beta_recall": self.fidelity.beta_recall,
            "tstr_ratio": self.utility.tstr_ratio, "mia_auc_upper": self.privacy.max_auc_upper,
            "mia_tpr_at_1pct_fpr_upper": self.privacy.max_tpr_at_1pct_fpr_upper,
            "exact_copy_rate": self.privacy.exact_copy_rate, "holdout_copy_rate": self.privacy.holdout_copy_rate,
            "dcr_share": self.privacy.dcr_share,
        }


def _atomic_write(path: Path, data: str) -> None:
    """One write path for the whole package: fsynced, renamed into place, mode 0o666 & ~umask."""
    from synthgen.files import atomic_write

    atomic_write(path, lambda tmp: tmp.write_text(data, encoding="utf-8"))


def write_report(report: EvaluationReport, directory: str | os.PathLike, extra_metadata: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``report.json`` and ``report.html`` into ``directory`` (created if needed); return their paths.

    ``extra_metadata`` (JSON-able: recipe name, model directory, ...) is stored under ``"metadata"``.
    """
    from synthgen.evaluate.html import render_html

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = report.to_dict()
    if extra_metadata:
        payload["metadata"] = json.loads(json.dumps(extra_metadata, default=str))
    paths = {"json": directory / "report.json", "html": directory / "report.html"}
    _atomic_write(paths["json"], json.dumps(payload, indent=2, allow_nan=False))
    _atomic_write(paths["html"], render_html(report, extra_metadata))
    return paths
