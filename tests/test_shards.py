"""Sharded sampling: parts keyed by (seed, shard), the same bytes for any number of workers (issue 16)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthgen import shards
from synthgen.cli import app
from synthgen.errors import InputError
from synthgen.models import DDPM, load_model
from synthgen.schema import infer_schema


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, german):
    schema = infer_schema(german, target="creditability")
    model = DDPM(steps=30, width=32, depth=2, batch_size=256, sampling_steps=4, device="cpu", seed=0)
    return model.fit(german, schema).save(tmp_path_factory.mktemp("shards") / "model")


def test_rows_are_cut_evenly_and_each_shard_has_its_own_stream():
    assert shards.shard_rows(10, 3) == [4, 3, 3] and sum(shards.shard_rows(10**8, 400)) == 10**8
    seeds = {shards.shard_seed(0, s) for s in range(1000)} | {shards.shard_seed(1, s) for s in range(1000)}
    assert len(seeds) == 2000 and all(0 <= s < 2**63 for s in seeds)


def test_the_release_of_one_worker_is_whole_and_each_part_redraws_alone(model_dir, tmp_path):
    # the same bytes on two worker processes: test_real_pii_values_are_kept_out_of_every_part (one pool start)
    one = shards.sample_shards(model_dir, 2500, 5, tmp_path / "one", seed=7, workers=1)
    for name in [p["file"] for p in one["parts"]] + ["manifest.json"]:
        assert (tmp_path / "one" / name).is_file()
    rows = pd.concat([pd.read_parquet(tmp_path / "one" / p["file"]) for p in one["parts"]], ignore_index=True)
    assert len(rows) == one["rows"] == 2500 and [p["rows"] for p in one["parts"]] == [500] * 5
    assert list(rows.columns) == [c["name"] for c in one["columns"]]
    assert not rows.iloc[:500].reset_index(drop=True).equals(rows.iloc[500:1000].reset_index(drop=True))
    # a shard redrawn alone is the same part
    again = shards.write_shard(load_model(model_dir, device="cpu"), tmp_path, 3, 500, 7, None)
    assert again["sha256"] == one["parts"][3]["sha256"]
    assert one["model"]["sha256"] == shards.model_digest(model_dir) and one["gate"]["status"] == "not run"


def test_nothing_is_left_when_a_shard_fails_and_user_folders_are_refused(model_dir, tmp_path, monkeypatch):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="holds files that are not a sharded release"):
        shards.sample_shards(model_dir, 100, 2, user)
    assert (user / "notes.txt").read_text() == "keep me"

    real = shards.write_shard

    def fails_on_the_second(model, folder, shard, rows, seed, conditions):
        if shard == 1:
            raise RuntimeError("disk full")
        return real(model, folder, shard, rows, seed, conditions)

    monkeypatch.setattr(shards, "write_shard", fails_on_the_second)
    with pytest.raises(RuntimeError, match="disk full"):
        shards.sample_shards(model_dir, 300, 3, tmp_path / "release")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no release, no staging folder
    monkeypatch.setattr(shards, "write_shard", real)
    first = shards.sample_shards(model_dir, 300, 3, tmp_path / "release", seed=1)
    second = shards.sample_shards(model_dir, 200, 2, tmp_path / "release", seed=2)  # an earlier release is replaced
    assert second["release_sha256"] != first["release_sha256"]
    assert sorted(p.name for p in (tmp_path / "release").iterdir()) == [
        "manifest.json",
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    with pytest.raises(InputError, match="3 shards for 2 rows"):
        shards.sample_shards(model_dir, 2, 3, tmp_path / "x")


def test_the_command_writes_parts_and_refuses_workers_without_shards(model_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "release"
    result = runner.invoke(
        app,
        ["sample", str(model_dir), "--rows", "300", "--shards", "3", "--out", str(out), "--where", "creditability=bad"],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 300 rows in 3 parts" in result.output and "release sha256" in result.output
    parts = [pd.read_parquet(out / f"part-0000{i}.parquet") for i in range(3)]
    assert all((p["creditability"] == "bad").all() for p in parts)
    assert json.loads((out / "manifest.json").read_text())["conditions"] == {"creditability": "bad"}
    refused = runner.invoke(
        app, ["sample", str(model_dir), "--rows", "10", "--out", str(tmp_path / "a.csv"), "--workers", "2"]
    )
    assert refused.exit_code == 2 and "give --shards too" in refused.output


def test_real_pii_values_are_kept_out_of_every_part(german, tmp_path):
    """A loaded model knows no real PII (it is never saved): the workers are handed the values to avoid."""
    from synthgen.unmodelled import pii_exclusions

    rng = np.random.default_rng(0)
    frame = german.assign(passport=[rng.choice(list("AB")) + rng.choice(list("12")) for _ in range(len(german))])
    schema = infer_schema(frame, target="creditability")
    assert schema["passport"].kind.value == "pii"  # regenerated from its pattern: a letter and a digit
    model = DDPM(steps=10, width=16, depth=1, batch_size=256, sampling_steps=2, device="cpu", seed=0)
    model_dir = model.fit(frame, schema).save(tmp_path / "model")
    real = set(frame["passport"])
    drawn = shards.sample_shards(model_dir, 600, 3, tmp_path / "plain", seed=1)
    plain = pd.concat(pd.read_parquet(tmp_path / "plain" / p["file"]) for p in drawn["parts"])
    assert set(plain["passport"]) & real  # 4 of 260 patterns: they collide by chance, so the test can fail
    exclude = pii_exclusions(frame, schema)
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        manifest = shards.sample_shards(model_dir, 600, 3, out, seed=1, workers=workers, exclude_pii=exclude)
        rows = pd.concat(pd.read_parquet(out / p["file"]) for p in manifest["parts"])
        assert not set(rows["passport"]) & real and len(rows) == 600
    one = json.loads((tmp_path / "w1" / "manifest.json").read_text())
    two = json.loads((tmp_path / "w2" / "manifest.json").read_text())
    assert one["release_sha256"] == two["release_sha256"] == manifest["release_sha256"]  # the same bytes on 2 workers
    assert [p["sha256"] for p in one["parts"]] == [p["sha256"] for p in two["parts"]]
    assert one["workers"] == 1 and two["workers"] == 2
    assert not any(v in (tmp_path / "w2" / "manifest.json").read_text() for v in real)
