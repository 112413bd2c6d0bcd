"""One `synthgen generate` run, reused across assertions: progress for the whole job (fit, sample, evaluate)
when asked for off a terminal, --verbose details, and output files that follow the umask; then --quiet
and the default (no progress off a terminal) on the cheaper commands, and the Python API's ``progress=``
and ``GenerateResult.data`` with the model that run saved."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthgen.cli import app

runner = CliRunner()
COLUMNS = ["credit_amount", "purpose", "creditability"]  # few columns: the report's figures are the cost
# One gate the tiny model must fail, so that --force-release is exercised. No target: the judge's utility
# part (learners trained on the target) is skipped, the costliest part on a small table.
RECIPE = """\
name: small
source: small.csv
generator: {type: ctgan, epochs: 1, batch_size: 100, device: cpu}
generate: {rows: 100, output: out/small.csv}
evaluate: {bootstrap: 20, detection_folds: 2}
gates: {min_shape: 0.999, min_trend: null, min_tstr_ratio: null, max_mia_auc: null, max_mia_tpr_at_1pct_fpr: null,
        near_copy_quantile: null, exposed_confidence: null, max_dcr_share: null}
"""


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def job(tmp_path_factory, german):
    folder = tmp_path_factory.mktemp("job")
    german[COLUMNS].head(300).to_csv(folder / "small.csv", index=False)
    (folder / "small.yaml").write_text(RECIPE)
    old = os.umask(0o077)
    try:
        result = _invoke("--progress", "-v", "generate", folder / "small.yaml", "--force-release")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    return folder, result


def test_progress_covers_fit_sampling_and_evaluation(job):
    _, result = job
    lines = [line for line in result.stderr.splitlines() if ": " in line and "elapsed" in line]
    last = {line.split(":")[0]: line for line in lines}  # a slow stage may print more than its last line
    assert list(last) == ["fit ctgan", "sample", "evaluate"]
    fit, sample, evaluate = last.values()
    assert fit.startswith("fit ctgan: 1/1 epochs, loss_g ")
    assert sample.startswith("sample: 100/100 rows")
    # the judge's five parts, the report and the write; the forced release is said, not hidden
    assert evaluate.startswith("evaluate: 7/7 parts, gate failed: shape (written: force_release)")


def test_verbose_adds_the_time_of_each_part(job):
    _, result = job
    text = " ".join(result.stdout.split())
    assert "rows/s" in text
    for part in ("prepare", "encode", "fidelity", "utility", "privacy"):
        assert part in text
    assert "NOT RELEASED" in text


def test_outputs_follow_a_private_umask(job):
    folder, _ = job
    files = [
        folder / "out" / "small.csv",
        folder / "out" / "small.csv.meta.json",
        folder / "out" / "small_report" / "report.json",
        folder / "out" / "small_report" / "report.html",
        *sorted((folder / ".synthgen" / "models" / "small").iterdir()),
    ]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}
    for path in (folder / "out", folder / "out" / "small_report", folder / ".synthgen" / "models" / "small"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_quiet_prints_only_the_final_line(job):
    folder, _ = job
    recipe = folder / "small.yaml"
    trained = _invoke("-q", "train", recipe, "--out", folder / "m")
    assert trained.exit_code == 0, trained.output
    assert trained.output.splitlines() == [f"saved ctgan model to {folder / 'm'}"]
    sampled = _invoke("-q", "sample", folder / "m", "--rows", "20", "--out", folder / "s.csv")
    assert sampled.exit_code == 0 and len(sampled.output.splitlines()) == 1
    assert sampled.output.startswith("wrote 20 rows x 3 columns")
    checked = _invoke("-q", "validate", recipe)
    assert checked.output.splitlines() == [f"{recipe}: valid (300 rows)"]
    refused = _invoke("-q", "generate", recipe, "--rows", "5")  # errors are never silenced
    assert refused.exit_code == 2 and "error:" in refused.output and "at least 10 rows" in refused.output


def test_no_progress_off_a_terminal_unless_asked(job):
    folder, _ = job
    result = _invoke("train", folder / "small.yaml", "--out", folder / "m2")
    assert result.exit_code == 0, result.output
    assert "fit ctgan" not in result.output and "synthgen train" in result.output


def test_quiet_and_verbose_together_are_refused(job):
    folder, _ = job
    result = _invoke("-q", "-v", "validate", folder / "small.yaml")
    assert result.exit_code == 2 and "not both" in result.output


def test_a_result_read_back_says_it_was_not_released(job):
    from synthgen.pipeline import GenerateResult

    folder, _ = job
    result = GenerateResult(
        output=folder / "out" / "small.csv",
        rows=100,
        model_path=Path(folder / ".synthgen" / "models" / "small"),
        reused_model=False,
        released=False,
        fit_seconds=0.0,
        sample_seconds=0.0,
        evaluate_seconds=0.0,
    )
    assert len(result.data) == 100 and list(result.data.columns) == COLUMNS
    assert result.data.attrs["released"] is False


def test_python_api_reports_events_and_reads_the_rows_back(job):
    import synthgen

    folder, _ = job
    events = []
    result = synthgen.generate(
        folder / "small.yaml", out=folder / "api.parquet", force_release=True, progress=events.append
    )
    assert result.reused_model  # the model the command saved: no fit stage
    stages = [e.stage for e in events]
    assert stages == sorted(stages, key=["sample", "evaluate"].index)  # in order, each stage once
    finished = [e for e in events if e.finished]
    assert [(e.stage, e.done, e.total) for e in finished] == [("sample", 100, 100), ("evaluate", 7, 7)]
    parts = [e.detail for e in events if e.stage == "evaluate"][1:6]
    assert parts == ["prepare", "encode", "fidelity", "utility", "privacy"]
    assert all(0 <= e.fraction <= 1 for e in events)
    data = result.data
    assert data is result.data  # read once
    assert len(data) == 100 and list(data.columns) == COLUMNS and data.attrs["released"] is False
    pd.testing.assert_frame_equal(data, pd.read_parquet(folder / "api.parquet"))
