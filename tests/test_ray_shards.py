"""Sharded sampling on Ray (issue 16): the same parts as the process pool, and nothing left by a failure.

Each test that draws starts a local Ray instance (about 4 s, and 5-10 s more for the actors to import
torch and load the model), so there are two of them.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from typer.testing import CliRunner

from synthgen import ray_shards, shards
from synthgen.cli import app
from synthgen.errors import InputError
from synthgen.models import DDPM
from synthgen.schema import infer_schema

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None or importlib.util.find_spec("ray.data") is None,
    reason="Ray Data is the optional extra synthgen[ray] (in dev, so CI runs these)",
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, german):
    schema = infer_schema(german, target="creditability")
    model = DDPM(steps=30, width=32, depth=2, batch_size=256, sampling_steps=4, device="cpu", seed=0)
    return model.fit(german, schema).save(tmp_path_factory.mktemp("ray_shards") / "model")


def test_actors_share_the_nodes_cores_and_addresses_lose_their_credentials():
    assert ray_shards.actor_cpus([2.0], 1) == 2.0 and ray_shards.actor_cpus([2.0], 2) == 1.0
    assert ray_shards.actor_cpus([2.0], 4) == 0.5  # more actors than cores share them
    assert ray_shards.actor_cpus([8.0, 8.0], 3) == 4.0  # 5 CPUs each would fit only one actor a node
    assert ray_shards.public_address("ray://ops:s3cret@head:10001") == "ray://head:10001"
    assert ray_shards.public_address("user@10.0.0.1:6379") == "10.0.0.1:6379"
    assert ray_shards.public_address("ray://ops:s3cret@[::1]:10001") == "ray://[::1]:10001"
    assert ray_shards.public_address("auto") == "auto"


@needs_ray
def test_the_ray_command_writes_the_same_parts_as_one_worker(model_dir, tmp_path):
    import ray

    one = shards.sample_shards(model_dir, 2500, 5, tmp_path / "one", seed=7, workers=1)
    out = tmp_path / "ray"
    args = ["sample", str(model_dir), "--rows", "2500", "--shards", "5", "--seed", "7", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--workers", "2", "--ray", "local"])
    assert result.exit_code == 0, result.output
    assert "2 Ray actor(s)" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["release_sha256"] == one["release_sha256"]
    assert [p["sha256"] for p in manifest["parts"]] == [p["sha256"] for p in one["parts"]]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"] + [f"part-0000{i}.parquet" for i in range(5)]
    assert manifest["engine"] == "ray" and one["engine"] == "processes"
    assert manifest["ray"] == {"address": "local", "actors": 2, "cpus_per_actor": 1.0, "gpus_per_actor": 0}
    assert not ray.is_initialized()  # the instance the command started is shut down


def _second_shard_fails() -> None:
    """Runs in every Ray worker process (``worker_process_setup_hook``): shard 1 fails there."""
    real = shards.write_shard

    def fails_on_the_second(model, folder, shard, rows, seed, conditions):
        if shard == 1:
            raise RuntimeError("disk full")
        return real(model, folder, shard, rows, seed, conditions)

    shards.write_shard = fails_on_the_second


@needs_ray
def test_a_failed_shard_on_ray_leaves_nothing(model_dir, tmp_path):
    import ray

    # the hook travels by value: Ray's workers need not find this test module on their path
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"worker_process_setup_hook": _second_shard_fails},
    )
    try:  # an existing connection is used as it is, and left open
        with pytest.raises(Exception, match="disk full"):
            shards.sample_shards(model_dir, 300, 3, tmp_path / "release", workers=1, ray=True)
        assert ray.is_initialized()
    finally:
        ray.shutdown()
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert list(tmp_path.iterdir()) == []  # no release, no staging folder


def test_ray_needs_shards_and_a_missing_ray_is_a_clear_error(model_dir, tmp_path, monkeypatch):
    refused = CliRunner().invoke(
        app, ["sample", str(model_dir), "--rows", "10", "--out", str(tmp_path / "a.csv"), "--ray", "local"]
    )
    assert refused.exit_code == 2 and "--ray draws shards in parallel: give --shards too" in refused.output
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(InputError, match=r"pip install 'synthgen\[ray\]'"):
        shards.sample_shards(model_dir, 100, 2, tmp_path / "release", ray=True)
    assert list(tmp_path.iterdir()) == []
