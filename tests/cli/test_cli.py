"""End-to-end runs of the `synthgen` command on tiny epochs, and every bad input it must refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import synthgen
from synthgen.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _figures_not_rasterised(monkeypatch):
    """The report's figures are built but not drawn to PNG (about 2.5 s a report): these tests check the
    command's plumbing and verdicts; the PNGs themselves are checked in tests/judge/test_evaluate_report.py."""
    from synthgen.judge import html

    monkeypatch.setattr(html, "_png", lambda fig: '<img alt="figure" src="data:image/png;base64,">')


# Gates off except the ones a 2-epoch model can meet: this test is about the plumbing.
OPEN_GATES = (
    "gates: {min_shape: null, min_trend: null, min_tstr_ratio: null, max_mia_auc: null, "
    "max_mia_tpr_at_1pct_fpr: null, near_copy_quantile: null, exposed_confidence: null, max_dcr_share: null}\n"
)


def _recipe(tmp_path: Path, body: str = "", gates: str = OPEN_GATES, name: str = "demo") -> Path:
    text = (
        f"name: {name}\n"
        "source: {builtin: german_credit}\n"
        "schema: {target: creditability}\n"
        "generator: {type: ctgan, epochs: 2, batch_size: 200, device: cpu}\n"
        "generate: {rows: 300, output: out/demo.csv}\n" + gates + body
    )
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


def _invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_generate_writes_the_table_the_report_and_reuses_the_model(tmp_path, german):
    recipe = _recipe(tmp_path)
    result = _invoke("generate", recipe)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "demo.csv"
    frame = pd.read_csv(out)
    assert len(frame) == 300
    assert list(frame.columns) == list(german.columns)
    assert frame["credit_amount"].dtype == german["credit_amount"].dtype
    assert set(frame["purpose"]) <= set(german["purpose"])
    report = json.loads((tmp_path / "out" / "demo_report" / "report.json").read_text())
    assert report["gate"]["passed"] is True
    assert (tmp_path / "out" / "demo_report" / "report.html").exists()
    meta = json.loads((tmp_path / "out" / "demo.csv.meta.json").read_text())
    assert meta["released"] is True and meta["rows"] == 300
    assert (tmp_path / ".synthgen" / "models" / "demo" / "weights.safetensors").exists()
    # second run: the model is up to date and reused; --rows and --seed apply to sampling only
    again = _invoke("generate", recipe, "--rows", "50", "--seed", "4", "--out", tmp_path / "b.parquet")
    assert again.exit_code == 0, again.output
    assert "(reused)" in again.output
    assert len(pd.read_parquet(tmp_path / "b.parquet")) == 50


def test_gate_failure_writes_nothing_and_exits_3(tmp_path):
    recipe = _recipe(tmp_path, gates="gates: {min_shape: 0.999}\n")
    result = _invoke("generate", recipe)
    assert result.exit_code == 3, result.output
    assert "gate failed" in result.output
    assert not (tmp_path / "out" / "demo.csv").exists()
    report = json.loads((tmp_path / "out" / "demo_report" / "report.json").read_text())
    assert report["gate"]["passed"] is False
    forced = _invoke("generate", recipe, "--force-release")
    assert forced.exit_code == 0, forced.output
    meta = json.loads((tmp_path / "out" / "demo.csv.meta.json").read_text())
    assert meta["status"] == "NOT RELEASED: gate failed"


def test_train_then_sample(tmp_path):
    recipe = _recipe(tmp_path)
    trained = _invoke("train", recipe, "--out", tmp_path / "model", "--epochs", "1")
    assert trained.exit_code == 0, trained.output
    sampled = _invoke("sample", tmp_path / "model", "--rows", "40", "--out", tmp_path / "s.csv", "--seed", "3")
    assert sampled.exit_code == 0, sampled.output
    first = pd.read_csv(tmp_path / "s.csv")
    _invoke("sample", tmp_path / "model", "--rows", "40", "--out", tmp_path / "t.csv", "--seed", "3")
    pd.testing.assert_frame_equal(first, pd.read_csv(tmp_path / "t.csv"))


def test_validate_and_inspect(tmp_path):
    assert _invoke("validate", ROOT / "recipes" / "credit_risk.yaml").exit_code == 0
    result = _invoke("inspect", ROOT / "recipes" / "data" / "credit_risk.csv", "--target", "loan_status")
    assert result.exit_code == 0, result.output
    assert "loan_int_rate:" in result.output and "kind: numeric" in result.output
    assert "spikes: [7.51]" in result.output, "the teaser rate's point mass is shown, to keep or turn off"


def test_evaluate_command_from_recipe(tmp_path, german):
    recipe = _recipe(tmp_path)
    german.sample(300, random_state=0).to_csv(tmp_path / "fake.csv", index=False)
    result = _invoke("evaluate", "--recipe", recipe, "--synthetic", tmp_path / "fake.csv")
    # rows copied from the real table: the privacy gate must catch them
    assert result.exit_code in (0, 3), result.output
    assert (tmp_path / "fake_report" / "report.json").exists()


# -- bad input: one clear message, exit code 2, nothing written ------------------------------------
def _assert_refused(result, *fragments: str, out: Path | None = None) -> None:
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for fragment in fragments:
        assert fragment in text, text
    assert "Traceback" not in result.output
    if out is not None:
        assert not out.exists()


def test_unknown_recipe_key(tmp_path):
    recipe = _recipe(tmp_path, body="modle: {}\n")
    _assert_refused(
        _invoke("generate", recipe),
        "recipe.yaml:",
        "modle: unknown key",
        "did you mean 'generator'? it was called 'model' before",
    )


def test_wrong_type_in_recipe(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nsource: {builtin: german_credit}\ngenerator: {steps: lots}\n")
    _assert_refused(_invoke("generate", recipe), "r.yaml:3", "generator.steps")


def test_missing_source_file(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nsource: nowhere.csv\n")
    _assert_refused(_invoke("generate", recipe), "nowhere.csv", "not found", out=tmp_path / "out")


def _data_recipe(tmp_path: Path, csv_text: str, extra: str = "") -> Path:
    (tmp_path / "data.csv").write_text(csv_text)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nsource: data.csv\ngenerator: {type: ctgan, epochs: 1, batch_size: 10}\n" + extra)
    return recipe


def test_empty_table(tmp_path):
    _assert_refused(_invoke("generate", _data_recipe(tmp_path, "a,b\n")), "data.csv", "no rows", out=tmp_path / "out")


def test_unparseable_csv(tmp_path):
    recipe = _data_recipe(tmp_path, 'a,b\n1,2\n3,"4\n')
    _assert_refused(_invoke("generate", recipe), "data.csv", "not a readable CSV", out=tmp_path / "out")


def test_declared_column_absent(tmp_path, german):
    german.head(50).to_csv(tmp_path / "g.csv", index=False)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nsource: g.csv\nschema: {columns: {salary: {kind: numeric}}}\n")
    _assert_refused(_invoke("generate", recipe), "g.csv", "'salary'", "not found", out=tmp_path / "out")


def test_target_with_one_class(tmp_path, german):
    german.assign(creditability="good").head(100).to_csv(tmp_path / "g.csv", index=False)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nsource: g.csv\nschema: {target: creditability}\n")
    _assert_refused(_invoke("generate", recipe), "creditability", "single class", out=tmp_path / "out")


@pytest.mark.parametrize("rows", ["0", "-5"])
def test_rows_must_be_positive(tmp_path, rows):
    _assert_refused(_invoke("generate", _recipe(tmp_path), "--rows", rows), "--rows", out=tmp_path / "out")


def test_corrupt_or_foreign_model_directory(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "model.pkl").write_bytes(b"\x80\x04")
    _assert_refused(
        _invoke("sample", foreign, "--rows", "5", "--out", tmp_path / "s.csv"),
        "not a synthgen model",
        out=tmp_path / "s.csv",
    )
    model = tmp_path / "model"
    assert _invoke("train", _recipe(tmp_path), "--out", model, "--epochs", "1").exit_code == 0
    (model / "transforms.json").write_text("{not json")
    _assert_refused(
        _invoke("sample", model, "--rows", "5", "--out", tmp_path / "s.csv"),
        "transforms.json",
        "corrupt JSON",
        out=tmp_path / "s.csv",
    )


def test_output_path_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("I am a file, not a folder")
    _assert_refused(
        _invoke("generate", _recipe(tmp_path), "--out", blocker / "out.csv"), "cannot create the output folder"
    )


def test_unsupported_output_suffix(tmp_path):
    model = tmp_path / "model"
    assert _invoke("train", _recipe(tmp_path), "--out", model, "--epochs", "1").exit_code == 0
    _assert_refused(
        _invoke("sample", model, "--rows", "5", "--out", tmp_path / "s.xlsx"),
        "unsupported file type",
        out=tmp_path / "s.xlsx",
    )


@pytest.mark.parametrize("args", [["--help"], ["validate", str(ROOT / "recipes" / "german_credit.yaml")]])
def test_help_and_validate_start_without_torch(args):
    """`synthgen --help` and `synthgen validate` answer without loading torch, scikit-learn or XGBoost."""
    import subprocess
    import sys

    code = (
        "import sys, json; from typer.testing import CliRunner; from synthgen.cli import app; "
        "r = CliRunner().invoke(app, json.loads(sys.argv[1])); assert r.exit_code == 0, r.output; "
        "print(','.join(m for m in ('torch', 'sklearn', 'xgboost') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1:] in ([], [""]), f"imported {result.stdout.strip()}"


# -- conditions (issue 13) ----------------------------------------------------------------------------
def test_sample_where_gives_exactly_the_rows_or_a_clear_error(tmp_path):
    assert _invoke("train", _recipe(tmp_path), "--out", tmp_path / "model", "--epochs", "1").exit_code == 0
    out = tmp_path / "s.csv"
    result = _invoke(
        "sample", tmp_path / "model", "--rows", "120", "--out", out, "--seed", "2",
        "--where", "creditability=bad", "--where", "purpose in (radio/television, 'car (new)')",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert len(rows) == 120 and (rows["creditability"] == "bad").all()
    assert set(rows["purpose"]) <= {"radio/television", "car (new)"}
    refused = _invoke(
        "sample", tmp_path / "model", "--rows", "5", "--out", tmp_path / "t.csv", "--where", "purpose=yacht"
    )
    assert refused.exit_code == 2 and "never holds 'yacht'" in refused.output
    assert not (tmp_path / "t.csv").exists()
    twice = _invoke(
        "sample", tmp_path / "model", "--rows", "5", "--out", tmp_path / "t.csv", "--where", "a=1", "--where", "a=2"
    )
    assert twice.exit_code == 2 and "conditioned twice" in twice.output


def test_generate_with_recipe_conditions_and_rebalancing(tmp_path):
    body = (
        "generate: {rows: 200, output: out/demo.csv, conditions: {age_in_years: {min: 30}}, "
        "rebalance: {creditability: {bad: 0.5}}}\n"
    )
    recipe = _recipe(tmp_path)
    recipe.write_text(recipe.read_text().replace("generate: {rows: 300, output: out/demo.csv}\n", body))
    result = _invoke("generate", recipe, "--where", "housing=own")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "out" / "demo.csv")
    assert len(rows) == 200 and (rows["age_in_years"] >= 30).all() and (rows["housing"] == "own").all()
    assert (rows["creditability"] == "bad").mean() == 0.5
    meta = json.loads((tmp_path / "out" / "demo.csv.meta.json").read_text())
    assert meta["rebalance"] == {"creditability": {"bad": 0.5}} and meta["conditions"]["housing"] == "own"
    # the distribution checks compare real rows of the rebalanced mix, a subset; the exact checks read every
    # real row meeting the conditions, which the model could have copied
    german = pd.read_csv(Path(synthgen.__file__).parent / "data" / "german_credit.csv")
    meeting = int(((german["age_in_years"] >= 30) & (german["housing"] == "own")).sum())
    report = json.loads((tmp_path / "out" / "demo_report" / "report.json").read_text())
    judged = report["run"]["train_rows"] + report["run"]["holdout_rows"]
    assert report["privacy"]["verbatim"]["real_rows"] == meeting > judged
