"""`generate_shards`: a sharded release is judged part by part and published only when the gate passes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthgen import shards
from synthgen.cli import app
from synthgen.errors import GateFailedError, InputError
from synthgen.pipeline import prepare_data
from synthgen.recipe import parse_recipe
from synthgen.schema import ColumnSpec
from synthgen.sharded_release import generate_shards

RAY = importlib.util.find_spec("ray") is not None and importlib.util.find_spec("ray.data") is not None

# The distribution checks are off (a model trained for a few steps cannot pass them); every record check
# (verbatim, near-copies, exposed records and copies) stays at its default.
GATES = (
    "gates: {min_shape: null, min_trend: null, min_tstr_ratio: null, max_mia_auc: null, "
    "max_mia_tpr_at_1pct_fpr: null, max_extreme_excess: null, max_dcr_share: null, max_detection_auc: null, "
    "detection_memorisation_confidence: null}\n"
)


def _recipe(tmp_path: Path, model_dir: Path, extra: str = ""):
    """A recipe whose model lives in ``model_dir``: trained by the first test, reused by the others."""
    text = (
        "name: demo\nsource: {builtin: german_credit}\nschema: {target: creditability}\n"
        "generator: {type: ddpm, steps: 20, batch_size: 128, width: 32, depth: 2, sampling_steps: 4, device: cpu}\n"
        "generate: {rows: 3000, output: out/demo.csv}\n"
        f"model_dir: {model_dir}\n"
        "evaluate: {bootstrap: 50, detection_max_rows: 1000, detection_folds: 2}\n" + GATES + extra
    )
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return parse_recipe(text, source=path), path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sharded") / "model"


@pytest.fixture(scope="module")
def honest(tmp_path_factory, model_dir):
    folder = tmp_path_factory.mktemp("honest")
    recipe, _ = _recipe(folder, model_dir)
    return folder, generate_shards(recipe, 4, out=folder / "release", progress=False)


def test_an_honest_release_is_judged_part_by_part_and_published(honest):
    folder, result = honest
    manifest = json.loads((folder / "release" / "manifest.json").read_text())
    assert result.released and manifest == result.manifest and not result.reused_model
    gate = manifest["gate"]
    assert gate["status"] == "passed" and gate["released"] and gate["parts_failing"] == []
    assert gate["sample"]["rows"] == 1000 and manifest["rows"] == 3000  # the sample: as many as the source
    assert all(part["gate"]["passed"] for part in manifest["parts"]) and len(manifest["parts"]) == 4
    checks = {c["name"]: c["status"] for c in gate["checks"]}
    for name in ("verbatim_records", "near_copy_records", "exposed_copies", "shard_records"):
        assert checks[name] == "passed", name
    assert result.report.privacy.verbatim.synthetic_rows == 3000  # every released row went through them
    assert (folder / "release_report" / "report.json").is_file()
    assert sorted(p.name for p in (folder / "release").iterdir()) == ["manifest.json"] + [
        f"part-0000{i}.parquet" for i in range(4)
    ]


def test_a_part_that_copies_training_rows_stops_the_whole_release(tmp_path, model_dir, honest, monkeypatch):
    recipe, _ = _recipe(tmp_path, model_dir)
    train, _, _ = prepare_data(recipe)
    real = shards.write_shard

    def leaky(model, folder, shard, rows, seed, conditions):
        record = real(model, folder, shard, rows, seed, conditions)
        if shard == 2:  # the third part carries 30 training rows among its honest ones
            path = Path(folder) / record["file"]
            frame = pd.read_parquet(path)
            frame.iloc[:30] = train.iloc[:30][frame.columns].to_numpy()
            frame.to_parquet(path, index=False)
        return record

    monkeypatch.setattr(shards, "write_shard", leaky)
    with pytest.raises(GateFailedError, match="nothing was published") as caught:
        generate_shards(recipe, 4, out=tmp_path / "release", progress=False)
    assert not (tmp_path / "release").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".release")]  # no staging left behind
    gate = caught.value.report.gate
    assert "shard_records" in gate.failing and "verbatim_records" in gate.failing
    report = json.loads((tmp_path / "release_report" / "report.json").read_text())
    assert report["metadata"]["status"] == "NOT RELEASED: gate failed"

    forced = generate_shards(recipe, 4, out=tmp_path / "release", force_release=True, progress=False)
    manifest = json.loads((tmp_path / "release" / "manifest.json").read_text())
    assert not forced.released and manifest["gate"]["status"] == "failed" and manifest["gate"]["parts_failing"] == [2]
    assert [p["gate"]["passed"] for p in manifest["parts"]] == [True, True, False, True]


def test_the_command_line_releases_shards_on_workers_and_refuses_what_it_cannot_do(tmp_path, model_dir, honest):
    _, path = _recipe(tmp_path, model_dir)
    runner = CliRunner()
    # two processes draw the parts and two judge them: the same release and verdict as one process
    result = runner.invoke(
        app, ["generate", str(path), "--shards", "4", "--workers", "2", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "released" in result.output and "(reused)" in result.output
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["release_sha256"] == honest[1].manifest["release_sha256"]
    assert manifest["gate"]["checks"] == honest[1].manifest["gate"]["checks"]
    for flag in (["--workers", "2"], ["--ray", "local"]):
        refused = runner.invoke(app, ["generate", str(path), *flag])
        assert refused.exit_code == InputError.exit_code and "--shards" in refused.output
    recipe, _ = _recipe(tmp_path, model_dir)
    with pytest.raises(InputError, match="a folder of parts"):
        generate_shards(recipe, 2, out=tmp_path / "release.parquet")
    # refused before any training: a folder of the user's, more shards than rows, a sample of no rows
    fresh, _ = _recipe(tmp_path, tmp_path / "never_trained")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    if RAY:  # real PII values are never sent to Ray actors: a table that has some is refused there
        with_pii, _ = _recipe(tmp_path, tmp_path / "never_trained")
        with_pii.schema_.columns["purpose"] = ColumnSpec(kind="pii")
        with pytest.raises(InputError, match="'purpose'.* hold PII or random ids .* instead of --ray"):
            generate_shards(with_pii, 2, out=tmp_path / "y", ray="local")
    for kwargs, message in (
        ({"out": mine}, "holds files that are not a sharded release"),
        ({"out": tmp_path / "y", "rows": 200, "shards": 300}, "would leave shards empty"),
        ({"out": tmp_path / "y", "sample_rows": 0}, "sample_rows must be a positive integer"),
    ):
        with pytest.raises(InputError, match=message):
            generate_shards(**{"recipe": fresh, "shards": 2, **kwargs})
    assert not (tmp_path / "never_trained").exists() and (mine / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "y_report").exists()
    recipe.generate.rebalance = {"creditability": {"bad": 0.5, "good": 0.5}}
    with pytest.raises(InputError, match="rebalance is not supported with shards"):
        generate_shards(recipe, 2, out=tmp_path / "x")


@pytest.mark.skipif(not RAY, reason="Ray Data is the optional extra synthgen[ray] (in dev, so CI runs this)")
def test_a_release_drawn_on_ray_comes_back_and_is_judged_here(tmp_path, model_dir, honest):
    """`generate --shards --ray local`: a Ray actor draws the parts, this process judges and publishes them:
    the same bytes and the same verdict as the release drawn on processes."""
    _, path = _recipe(tmp_path, model_dir)
    args = ["generate", str(path), "--shards", "4", "--ray", "local", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Ray actor(s)" in result.output and "released" in result.output
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["gate"]["released"] is True
    assert manifest["release_sha256"] == honest[1].manifest["release_sha256"]
    assert manifest["gate"]["checks"] == honest[1].manifest["gate"]["checks"]


def test_a_release_is_not_drawn_under_torchrun(tmp_path, model_dir, monkeypatch):
    from synthgen.pipeline import generate

    recipe, _ = _recipe(tmp_path, model_dir)
    env = {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for run in (lambda: generate(recipe), lambda: generate_shards(recipe, 2, out=tmp_path / "x")):
        with pytest.raises(InputError, match="not under torchrun"):
            run()
    assert not (tmp_path / "x").exists()
