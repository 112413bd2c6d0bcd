"""The evaluation report: every number, how it was obtained, and the gate's verdict.

``EvaluationReport`` is plain pydantic (JSON in, JSON out; never pickle). ``write_report`` writes
``report.json`` and a self-contained ``report.html`` (figures inlined as base64 PNG, no network),
each atomically through `synthgen.io.write_text` (fsynced, then renamed into place).

``from_json`` also reads a report of format 1 (synthgen 0.1): ``utility.models`` and each entry's
``model`` are read as ``utility.learners`` and ``learner``, and ``settings.holdout`` (now the recipe's
``split.holdout``, which the judge never read) is dropped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, model_validator

from synthgen.judge.fidelity import FidelityResult
from synthgen.judge.gate import GateResult
from synthgen.judge.privacy import PrivacyResult
from synthgen.judge.settings import EvaluateSettings, GateSettings
from synthgen.judge.utility import UtilityResult

REPORT_FORMAT = 2


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

    @model_validator(mode="before")
    @classmethod
    def _read_format_1(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("settings"), dict) and "holdout" in data["settings"]:
            data = {**data, "settings": {k: v for k, v in data["settings"].items() if k != "holdout"}}
        return data

    @property
    def passed(self) -> bool:
        return self.gate.passed

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, text: str) -> EvaluationReport:
        """A report from its JSON (``to_json`` or a ``report.json``, whose ``metadata`` is ignored), of this
        format or of format 1 (see the module docstring)."""
        return cls.model_validate_json(text)

    def summary(self) -> dict[str, Any]:
        """The headline figures, flat: the one place a report is flattened (logs, benchmark tables, results files).

        Fidelity: ``shape``, ``trend``, ``detection_auc``, ``alpha_precision``, ``beta_recall``. Utility:
        ``tstr_ratio``; ``tstr_auc`` / ``trtr_auc``, XGBoost's ROC AUC trained on synthetic / real rows and
        tested on the holdout, and ``tstr_auc_<learner>`` / ``trtr_auc_<learner>`` for every learner (None
        where the target is not a class or there is none). Privacy: ``dcr_share``, ``exact_copy_rate``
        against ``holdout_copy_rate``, the strongest membership attack (``mia_attack``, its ``mia_auc``,
        ``mia_auc_upper``) and ``mia_tpr_at_1pct_fpr_upper``; whole release: ``near_copy_share`` (released rows
        inside the near-copy radius, None without one), ``exposed_training`` / ``exposed_holdout`` (shares of
        the most isolated records exposed). Gate: ``gate_passed``, ``gate_failing``.
        """
        auc: dict[str, dict[str, float | None]] = {"tstr": {}, "trtr": {}}
        for entry in self.utility.learners:
            auc["tstr"][entry.learner] = entry.tstr.get("roc_auc")
            auc["trtr"][entry.learner] = entry.trtr.get("roc_auc")
        attacks = {a.name: a for a in self.privacy.attacks}
        strongest = attacks.get(self.privacy.strongest_attack)
        near, exposed = self.privacy.near_copies, self.privacy.exposed
        exposed = exposed if exposed is not None and exposed.training and exposed.holdout else None
        out: dict[str, Any] = {
            "shape": self.fidelity.shape,
            "trend": self.fidelity.trend,
            "detection_auc": self.fidelity.detection_auc,
            "alpha_precision": self.fidelity.alpha_precision,
            "beta_recall": self.fidelity.beta_recall,
            "tstr_ratio": self.utility.tstr_ratio,
            "tstr_auc": auc["tstr"].get("xgboost"),
            "trtr_auc": auc["trtr"].get("xgboost"),
        }
        for part in ("tstr", "trtr"):
            out.update({f"{part}_auc_{name}": value for name, value in auc[part].items()})
        out.update(
            {
                "dcr_share": self.privacy.dcr_share,
                "exact_copy_rate": self.privacy.exact_copy_rate,
                "holdout_copy_rate": self.privacy.holdout_copy_rate,
                "mia_attack": self.privacy.strongest_attack,
                "mia_auc": strongest.auc if strongest is not None else None,
                "mia_auc_upper": self.privacy.max_auc_upper,
                "mia_tpr_at_1pct_fpr_upper": self.privacy.max_tpr_at_1pct_fpr_upper,
                "near_copy_share": near.near_share if near is not None and near.radius is not None else None,
                "exposed_training": exposed.training_exposed / len(exposed.training) if exposed else None,
                "exposed_holdout": exposed.holdout_exposed / len(exposed.holdout) if exposed else None,
                "gate_passed": self.gate.passed,
                "gate_failing": list(self.gate.failing),
            }
        )
        return out


def write_report(
    report: EvaluationReport, directory: str | os.PathLike, extra_metadata: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write ``report.json`` and ``report.html`` into ``directory`` (created if needed); return their paths.

    ``extra_metadata`` (JSON-able: recipe name, model directory, ...) is stored under ``"metadata"``.
    """
    from synthgen.io import write_text
    from synthgen.judge.html import render_html

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = report.to_dict()
    if extra_metadata:
        payload["metadata"] = json.loads(json.dumps(extra_metadata, default=str))
    paths = {"json": directory / "report.json", "html": directory / "report.html"}
    write_text(json.dumps(payload, indent=2, allow_nan=False), paths["json"])
    write_text(render_html(report, extra_metadata), paths["html"])
    return paths
