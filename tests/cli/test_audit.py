"""`synthgen audit` end to end on tiny epochs: the report file, the table, the exit codes, the refusals."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from synthgen.cli import app

ROOT = Path(__file__).resolve().parents[2]
GERMAN = ROOT / "synthgen" / "data" / "german_credit.csv"
runner = CliRunner()


def _recipe(tmp_path: Path, rows: int = 300) -> Path:
    """german_credit's first rows with a small CTGAN (the tests cut it to 1 epoch): a shadow trains in a second."""
    pd.read_csv(GERMAN).head(rows).to_csv(tmp_path / "loans.csv", index=False)
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "name: demo\n"
        "source: loans.csv\n"
        "schema: {target: creditability}\n"
        "generator: {type: ctgan, epochs: 5, batch_size: 100, device: cpu}\n"
        "generate: {output: out/demo.csv}\n"
    )
    return path


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_audit_writes_its_report_and_exits_0(tmp_path):
    recipe = _recipe(tmp_path)
    result = _invoke("audit", recipe, "--shadows", 4, "--targets", 2, "--epochs", 1, "--rows", 60, "--seed", 1)
    assert result.exit_code == 0, result.output
    path = tmp_path / "out" / "demo_audit" / "audit.json"  # the default: beside the release
    report = json.loads(path.read_text())
    assert report["shadows"] == 4 and report["rows"] == 60 and report["seed"] == 1
    assert report["budget"]["epochs"] == 1  # --epochs reached the shadows' generator
    assert report["generator"]["type"] == "ctgan"
    assert len(report["targets"]) == 2 and len(report["shadow_runs"]) == 4
    for target in report["targets"]:
        assert len(target["members"]) == 2  # balanced: IN for half the shadows
        assert target["verdict"] == "inconclusive"  # 4 shadows cannot reach p <= 0.025
        assert target["threshold"]["auc"] is not None and target["classifier"]["auc"] is not None
    assert report["total_s"] > 0 and all(run["fit_s"] > 0 for run in report["shadow_runs"])
    assert "synthgen audit: 4 shadows" in result.output and str(report["targets"][0]["index"]) in result.output
    assert not (tmp_path / ".synthgen").exists()  # shadows are never saved
    assert not (tmp_path / "out" / "demo.csv").exists()  # nor is anything released


def test_fail_on_vulnerable_exits_3_only_when_a_record_is_vulnerable(tmp_path, monkeypatch):
    """The exit code follows the report (a real vulnerable finding needs many shadows: stubbed here)."""
    module = importlib.import_module("synthgen.audit")
    real_run = module.run_audit
    recipe = _recipe(tmp_path)

    def vulnerable(*args, **kwargs):
        report = real_run(*args, **kwargs)
        return report.model_copy(update={"vulnerable": [report.targets[0].index]})

    args = ("audit", recipe, "--shadows", 2, "--targets", 1, "--epochs", 1, "--rows", 30, "--out", tmp_path / "a")
    assert _invoke(*args).exit_code == 0  # nothing vulnerable, flag or not
    monkeypatch.setattr(module, "run_audit", vulnerable)
    assert _invoke(*args).exit_code == 0  # vulnerable, but a report is not a gate by default
    failed = _invoke(*args, "--fail-on-vulnerable")
    assert failed.exit_code == 3, failed.output
    assert "vulnerable records" in failed.output
    assert (tmp_path / "a" / "audit.json").exists()  # the report is written either way


def test_audit_refuses_bad_input_with_exit_2_before_training(tmp_path):
    recipe = _recipe(tmp_path)
    cases = {
        ("--shadows", 3): "even",
        ("--targets", 100_000): "--targets",
        ("--out", tmp_path / ".synthgen" / "models" / "demo"): "overlap",
        ("--device", "tpu"): "device",
    }
    for extra, message in cases.items():
        result = _invoke("audit", recipe, *extra)
        assert result.exit_code == 2, (extra, result.output)
        assert message in result.output, (extra, result.output)
    assert _invoke("audit", tmp_path / "missing.yaml").exit_code == 2
    assert not (tmp_path / "out").exists()
