"""Distributed (DDP) training with the gloo backend: 2 CPU processes against 1, checkpoints and resuming.

The 2-process runs are real process groups (`tests.ddp_worker.launch` sets the torchrun variables);
the networks are tiny and the fits a hundred-odd steps, so the file runs in well under a minute.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen.checkpoint import (
    Checkpoint,
    Checkpointing,
    checkpoint_path,
    identity_of,
    read_checkpoint,
    write_checkpoint,
)
from synthgen.distributed import SINGLE, Dist, current, in_torchrun
from synthgen.errors import InputError
from synthgen.models import DDPM, load_model
from synthgen.schema import infer_schema
from synthgen.threads import available_cores
from tests.ddp_worker import ROOT, digest, fit, free_port, launch, table
from tests.parquet_parts import write_parts

CONFIG = {
    "width": 32,
    "depth": 2,
    "batch_size": 128,  # the global batch: 64 rows per rank with 2 ranks
    "steps": 120,
    "max_epochs": None,
    "timesteps": 100,
    "sampling_steps": 5,
    "lr": 3e-3,
    "device": "cpu",
}
SPEC = {"config": CONFIG, "rows": 1200}
CTGAN_SPEC = {
    "type": "ctgan",
    "rows": 1000,
    "config": {
        "epochs": 4,
        "batch_size": 100,
        "generator_dim": [32, 32],
        "discriminator_dim": [32, 32],
        "device": "cpu",
    },
}
LAST = 5  # logged intervals (of 6 steps) compared at the end of the fit


@pytest.fixture(scope="module")
def launched(tmp_path_factory) -> tuple[list[list[dict]], Path, dict]:
    """A 2-process DDPM fit killed and resumed: rank 1 dies after 50 steps (the last checkpoint is at 40),
    then a new 2-process job (one start-up for several fits) resumes it and saves the model, fits and
    saves a CTGAN, fits the DDPM uninterrupted, probes `Dist.from_main` with a failing rank 0, and fits
    the DDPM on the table as a streamed source (a Parquet folder).
    Returns each rank's results, the folder, and the checkpoint the killed job left."""
    from safetensors import safe_open

    folder = tmp_path_factory.mktemp("ddp")
    ddpm = {**SPEC, "checkpoint": str(folder / "ckpt.safetensors"), "every": 40}
    killed = launch({**ddpm, "die_rank": 1, "die_after": 50}, 2, folder / "killed", timeout=90)
    assert killed == [None, None]  # rank 1 died; rank 0 failed on its next collective (or was stopped)
    with safe_open(str(folder / "ckpt.safetensors"), framework="pt") as handle:
        left = json.loads(handle.metadata()["state"])
    resumed = {**ddpm, "resume": True, "save": str(folder / "model")}
    # the table as a streamed source: DDPM.fit_source, each rank its shard
    parts = write_parts(folder / "parts", _with_a_level_only_rank_1_sees(folder))
    streamed = {**SPEC, "parquet": str(parts), "save": str(folder / "streamed")}
    jobs = [resumed, {**CTGAN_SPEC, "save": str(folder / "ctgan")}, SPEC, {"probe": True}, streamed]
    results = launch({"jobs": jobs}, 2, folder / "run")
    assert all(r is not None for r in results), "a rank failed; its traceback is in the captured stderr"
    return results, folder, left


def _with_a_level_only_rank_1_sees(folder: Path) -> pd.DataFrame:
    """`table(1200)` with grade "E" in 3 training rows of rank 1's shard (odd rows) that the 500-row sample
    lacks: only the summed counts of the ranks' shards can give the model that level."""
    from synthgen.sources import ParquetSource, Part

    frame, part = table(1200), Part(0.2, 0, holdout=False)
    (folder / "probe").mkdir()
    frame.assign(row=np.arange(len(frame))).to_parquet(folder / "probe" / "p.parquet", index=False)
    sample = ParquetSource(folder / "probe").reservoir(500, seed=DDPM(**CONFIG).config.seed, part=part)
    training = np.flatnonzero(part.mask(np.arange(len(frame), dtype=np.uint64)))
    rare = [r for r in training if r % 2 == 1 and r not in set(sample["row"])][:3]
    frame.loc[rare, "grade"] = "E"
    return frame


@pytest.fixture(scope="module")
def two_ranks(launched) -> tuple[list[dict], Path]:
    """The resumed 2-process DDPM fit: each rank's result, and rank 0's model directory."""
    results, folder, _ = launched
    return [rank[0] for rank in results], folder / "model"


@pytest.fixture(scope="module")
def one_process() -> dict[int, dict]:
    """Single-process fits of the same config at seeds 0-3 (the seed-to-seed spread of the loss)."""
    return {seed: fit({**SPEC, "config": {**CONFIG, "seed": seed}}) for seed in range(4)}


def _tail(history: list[dict], k: int = LAST) -> float:
    return float(np.mean([entry["loss"] for entry in history[-k:]]))


# -- the process group ------------------------------------------------------------------------------
def test_the_torchrun_environment_is_read_and_one_process_is_the_no_op_path(monkeypatch):
    assert Dist.from_env({}) == SINGLE and not SINGLE.active and not in_torchrun({})
    assert Dist.from_env({"WORLD_SIZE": "1", "RANK": "0"}) == SINGLE
    env = {"WORLD_SIZE": "3", "RANK": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "1"}
    assert Dist.from_env(env) == Dist(rank=2, world=3, local_rank=0, local_world=3)
    assert Dist.from_env({**env, "LOCAL_WORLD_SIZE": "1"}).local_world == 1
    assert Dist(0, 2, 0, 2).threads(3) == 3 and SINGLE.threads(None) is None
    monkeypatch.delenv("SYNTHGEN_THREADS", raising=False)
    assert Dist(0, 2, 0, 2).threads("auto") == max(1, available_cores() // 2)  # ranks share the cores
    with pytest.raises(InputError, match="MASTER_PORT"):
        Dist.from_env({**env, "MASTER_PORT": ""})
    with pytest.raises(InputError, match="outside WORLD_SIZE"):
        Dist.from_env({**env, "RANK": "3"})
    x = torch.ones(3)
    assert SINGLE.mean(x) is x and SINGLE.broadcast_json({"a": 1}) == {"a": 1} and SINGLE.local_batch(128) == 128
    assert SINGLE.init(torch.device("cpu")) == torch.device("cpu")  # no process group for one process


def test_shards_cover_every_row_once_and_ranks_draw_different_streams():
    ranks = [Dist(rank, 3, rank) for rank in range(3)]
    shards = [d.shard(10) for d in ranks]
    assert sorted(np.concatenate(shards).tolist()) == list(range(10))
    assert [len(s) for s in shards] == [4, 3, 3]
    assert len({d.seed(7) for d in ranks}) == 3 and ranks[1].seed(7) == Dist(1, 2, 1).seed(7)


def test_a_batch_that_does_not_divide_among_the_ranks_is_trained_whole():
    """128 rows on 3 ranks: 43 + 43 + 42, each rank's mean loss weighted by its share, so DDP's average
    of the ranks' gradients is the gradient of the mean over all 128 rows (not 126 of them)."""
    ranks = [Dist(rank, 3, rank) for rank in range(3)]
    assert [d.local_batch(128) for d in ranks] == [43, 43, 42]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(128, 4, dtype=torch.float64, generator=generator)
    w = torch.randn(4, dtype=torch.float64, generator=generator, requires_grad=True)
    (whole,) = torch.autograd.grad(((x @ w) ** 2).mean(), w)
    parts, start = [], 0
    for d in ranks:
        rows = x[start : start + d.local_batch(128)]
        start += len(rows)
        parts.append(torch.autograd.grad(((rows @ w) ** 2).mean() * d.batch_weight(128), w)[0])
    torch.testing.assert_close(sum(parts) / 3, whole)  # what DDP's all-reduce computes
    assert Dist(1, 2, 1).batch_weight(128) == 1.0 and SINGLE.batch_weight(7) == 1.0  # equal shares: as before


def test_fit_inside_a_callers_process_group_is_one_process_and_leaves_the_group(monkeypatch):
    """A library user's own torchrun job fitting a model per rank: `fit` without ``distributed`` is one
    process's (no collective that would wait for the other ranks), and synthgen does not end the
    process group it did not create."""
    env = {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    try:
        model = DDPM(**{**CONFIG, "steps": 6}).fit(table(300))
        assert model.dist_ == SINGLE and model.steps_done_ == 6
        current().close()
        assert torch.distributed.is_initialized()
    finally:
        torch.distributed.destroy_process_group()


def test_from_main_forwards_any_failure_of_rank_0_to_every_rank(launched):
    probes = [rank[3] for rank in launched[0]]
    assert probes[0] == {"raised": "ValueError", "message": "rank 0 broke", "forwarded": False}  # its own
    again = {"raised": "RuntimeError", "message": "rank 0 failed: ValueError: rank 0 broke", "forwarded": True}
    assert probes[1] == again  # raised again, marked so that the command line does not print it twice


@pytest.mark.parametrize("error", [InputError("no target for label_dropout"), RuntimeError("rank 0 failed: X: y")])
def test_a_failure_forwarded_from_rank_0_is_not_printed_again_by_another_rank(tmp_path, monkeypatch, error):
    """Rank 0 prints its failure; the other ranks exit with the same status and say nothing."""
    from typer.testing import CliRunner

    import synthgen.pipeline
    from synthgen.cli import app
    from synthgen.errors import forwarded

    def fails(*args, **kwargs):
        raise error

    def fails_on_rank_0(*args, **kwargs):
        raise forwarded(error)

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: ddp\nsource: {builtin: german_credit}\ngenerator: {type: ddpm, device: cpu}\n")
    args = ["train", str(recipe), "--out", str(tmp_path / "model")]
    monkeypatch.setattr(synthgen.pipeline, "train_model", fails)
    said = CliRunner().invoke(app, args)  # rank 0, or one process: its own failure, printed
    monkeypatch.setattr(synthgen.pipeline, "train_model", fails_on_rank_0)  # another rank: raised again
    quiet = CliRunner().invoke(app, args)
    if isinstance(error, InputError):
        assert said.exit_code == quiet.exit_code == 2 and "no target for label_dropout" in said.output
    else:
        assert isinstance(said.exception, RuntimeError) and quiet.exit_code == 1
    assert quiet.output == ""


# -- two processes against one ---------------------------------------------------------------------
def test_two_ranks_end_with_identical_weights_and_log(two_ranks):
    (rank0, rank1), _ = two_ranks
    assert rank0["world"] == 2 and rank1["rank"] == 1
    assert rank0["digest"] == rank1["digest"]  # the EMA, which is what samples
    assert _losses(rank0) == _losses(rank1) and rank0["steps"] == 120


def test_two_ranks_learn_like_one_process_at_the_same_global_batch(two_ranks, one_process):
    """The 2-process loss at the end of the fit lies inside the band of single-process seeds, and that
    band is narrow enough to tell a trained model from one 5/6 of the way short of it (the check has
    power: a DDP that dropped half the gradient, or trained on one shard only, moves the loss more)."""
    (rank0, _), _ = two_ranks
    ends = [_tail(run["history"]) for run in one_process.values()]
    centre, spread = statistics.mean(ends), statistics.stdev(ends)
    band = 4 * spread + 0.02
    assert abs(_tail(rank0["history"]) - centre) <= band, (rank0["history"][-LAST:], ends)
    early = statistics.mean(_tail(run["history"][:4], 4) for run in one_process.values())
    assert abs(early - centre) > band, "the band is too wide to tell trained from untrained"
    assert len(rank0["history"]) == len(one_process[0]["history"])  # the same steps, logged alike


def test_the_two_rank_model_loads_and_samples_in_one_process(two_ranks):
    _, model_dir = two_ranks
    model = load_model(model_dir)
    rows = model.sample(200, seed=1)
    assert len(rows) == 200 and set(rows.columns) == {"rate", "amount", "grade", "default"}
    assert set(rows["grade"]) <= set("ABCD") and rows["rate"].notna().all()
    assert (model_dir.parent / "ckpt.safetensors").exists()  # the Python API leaves it to the caller


def test_two_ranks_train_on_a_streamed_source_each_encoding_its_shard(launched):
    """`DDPM.fit_source` under DDP: one transformer for both ranks (rank 0's, sent as JSON), each rank
    encodes only its half of the training part, and the ranks end with one model."""
    from synthgen.sources import ParquetSource, Part, RankShard

    (rank0, rank1), folder = [rank[4] for rank in launched[0]], launched[1]
    source, part = ParquetSource(folder / "parts"), Part(0.2, 0, holdout=False)
    assert rank0["digest"] == rank1["digest"] and _losses(rank0) == _losses(rank1)
    shares = [rank0["encoded_rows"], rank1["encoded_rows"]]
    assert shares == [[source.part_rows(RankShard(part, r, 2))] for r in (0, 1)]
    assert sum(s[0] for s in shares) == source.part_rows(part) and min(shares)[0] > 0.45 * sum(s[0] for s in shares)
    assert rank0["levels"] == rank1["levels"] and "E" in rank0["levels"]["grade"]  # the ranks' counts, summed
    rows = load_model(folder / "streamed").sample(200, seed=1)
    assert len(rows) == 200 and set(rows["grade"]) <= set("ABCDE")


def test_rank_shards_of_a_part_are_disjoint_and_cover_it():
    from synthgen.sources import Part, RankShard

    index, part = np.arange(10_000, dtype=np.uint64), Part(0.2, 3, holdout=False)
    shards = np.stack([RankShard(part, r, 3).mask(index) for r in range(3)])
    assert (shards.sum(0) == part.mask(index)).all()  # each row of the part on exactly one rank
    assert np.array_equal(RankShard(None, 1, 3).mask(index), index % 3 == 1)


# -- checkpoints and resuming ----------------------------------------------------------------------
def test_a_killed_single_process_run_resumes_to_the_same_model(tmp_path, one_process):
    path = tmp_path / "ckpt.safetensors"
    model_config = {**CONFIG, "seed": 0}

    class Killed(Exception):
        pass

    def die(step):
        if step.calls == 50:  # after the checkpoint at step 40
            raise Killed

    data = table(1200)
    schema = infer_schema(data, target="default")
    killed = DDPM(**model_config)
    with pytest.raises(Killed):
        killed.fit(data, schema, step_hook=die, checkpoint=Checkpointing(path, every=20))
    assert read_checkpoint(path, _identity(killed, 1200)).step == 40
    resumed = DDPM(**model_config).fit(data, schema, checkpoint=Checkpointing(path, every=20, resume=True))
    assert resumed.steps_done_ == 120
    assert digest(resumed.denoiser_) == one_process[0]["digest"]["denoiser"]  # bit for bit
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in one_process[0]["history"]]


def test_a_killed_streamed_fit_resumes_to_the_same_model(tmp_path):
    """`DDPM.fit_source` writes checkpoints and resumes from them as `fit` does."""
    from synthgen.sources import ParquetSource, Part

    (tmp_path / "parts").mkdir()
    table(1200).to_parquet(tmp_path / "parts" / "part-0.parquet", index=False)
    source, part = ParquetSource(tmp_path / "parts", batch_rows=300), Part(0.2, 0, holdout=False)
    path, config = tmp_path / "ckpt.safetensors", {**CONFIG, "steps": 60}

    class Killed(Exception):
        pass

    def die(step):
        if step.calls == 50:  # after the checkpoint at step 40
            raise Killed

    def streamed(**options):
        return DDPM(**config).fit_source(source, part=part, sample_rows=400, **options)

    with pytest.raises(Killed):
        streamed(step_hook=die, checkpoint=Checkpointing(path, every=20))
    assert path.exists()
    calls: list[int] = []
    resumed = streamed(checkpoint=Checkpointing(path, every=20, resume=True), step_hook=lambda s: calls.append(s.calls))
    whole = streamed()
    assert resumed.steps_done_ == whole.steps_done_ == 60 and calls[-1] == 20  # from the checkpoint at 40
    assert digest(resumed.denoiser_) == digest(whole.denoiser_)


def _losses(run: dict) -> list[float]:
    return [entry["loss"] for entry in run["history"]]


def _identity(model, rows: int) -> dict:
    return identity_of(model, rows)


def test_a_checkpoint_of_another_config_is_refused(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    written = DDPM(**CONFIG)
    write_checkpoint(path, Checkpoint({"x": torch.zeros(1)}, {"step": 3, "identity": _identity(written, 1200)}))
    other = DDPM(**{**CONFIG, "lr": 1e-3, "sampling_steps": 9})
    with pytest.raises(InputError, match=r"ckpt.safetensors: checkpoint of another training run \(config lr"):
        read_checkpoint(path, _identity(other, 1200))
    with pytest.raises(InputError, match="training rows 1200 in the checkpoint, 999 now"):
        read_checkpoint(path, _identity(written, 999))
    sampling_only = DDPM(**{**CONFIG, "sampling_steps": 9})  # sampling settings are not the run's identity
    assert read_checkpoint(path, _identity(sampling_only, 1200)).step == 3
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        read_checkpoint(path, _identity(written, 1200))
    with pytest.raises(InputError, match="every"):
        Checkpointing(path, every=-1)


def test_a_killed_rank_is_resumed_and_the_step_count_continues(launched, two_ranks):
    """Resumed with as many ranks, each gets its random streams back: the fit runs the 80 steps left
    and ends with the uninterrupted 2-process fit's weights and losses, bit for bit (a resume that
    restarted would run 120 steps; one that skipped steps or lost a random stream would differ)."""
    results, _, left = launched
    (rank0, rank1), _ = two_ranks
    whole = results[0][2]  # the same fit, uninterrupted, in the same 2-process job
    assert left["step"] == 40 and left["world"] == 2
    assert rank0["steps"] == 120 and len(rank0["history"]) == 20
    assert rank0["calls"] == 80 and whole["calls"] == 120
    assert rank0["digest"] == whole["digest"] == rank1["digest"]
    assert _losses(rank0) == _losses(whole)


def test_a_checkpoint_of_another_table_with_as_many_rows_is_refused(tmp_path):
    """Through the Python API there is no recipe fingerprint: the fitted transformer tells the tables apart."""
    path = tmp_path / "ckpt.safetensors"
    config = {**CONFIG, "steps": 30}
    DDPM(**config).fit(table(600), checkpoint=Checkpointing(path, every=10))
    assert path.exists()  # the last one, after step 20
    with pytest.raises(InputError, match="checkpoint of another training run \\(another training table"):
        DDPM(**config).fit(table(600, seed=1), checkpoint=Checkpointing(path, every=10, resume=True))
    calls = []
    resumed = DDPM(**config).fit(
        table(600), step_hook=lambda step: calls.append(step.calls), checkpoint=Checkpointing(path, resume=True)
    )
    assert resumed.steps_done_ == 30 and calls[-1] == 10  # the same table resumes


# -- the command line --------------------------------------------------------------------------------
def test_synthgen_train_nproc_2_trains_with_ddp_and_only_rank_0_speaks(tmp_path):
    """On a streamed source (german_credit as a Parquet folder): `DDPM.fit_source` under torchrun."""
    write_parts(tmp_path / "parts", pd.read_csv(ROOT / "synthgen" / "data" / "german_credit.csv"), parts=2)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: ddp\nsource: parts/\nschema: {target: creditability}\n"
        "generator: {type: ddpm, steps: 30, max_epochs: null, width: 32, depth: 2, batch_size: 128, "
        "timesteps: 100, sampling_steps: 5, device: cpu}\n"
    )
    out = tmp_path / "model"
    env = {**os.environ, "COLUMNS": "200"}
    command = [sys.executable, "-m", "synthgen.cli", "-v", "train", str(recipe), "--out", str(out), "--nproc", "2"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("synthgen train") == 1  # one table: rank 0's
    assert "│ steps" in done.stdout and " 30 " in done.stdout
    assert len(load_model(out).sample(50, seed=2)) == 50
    assert not checkpoint_path(out).exists()


def test_nproc_is_checked_before_anything_starts(tmp_path):
    from typer.testing import CliRunner

    from synthgen.cli import app

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: ddp\nsource: {builtin: german_credit}\ngenerator: {type: ddpm, device: cpu}\n")
    result = CliRunner().invoke(app, ["train", str(recipe), "--nproc", "0"])
    assert result.exit_code == 2 and "--nproc" in result.output
    if not torch.cuda.is_available():
        result = CliRunner().invoke(app, ["train", str(recipe), "--nproc", "2", "--device", "cuda"])
        assert result.exit_code == 2 and "no CUDA device" in result.output


def test_nproc_with_bad_input_fails_once_before_torchrun_starts(tmp_path, monkeypatch):
    import torch.distributed.run as torchrun
    from typer.testing import CliRunner

    from synthgen.cli import app

    def started(args):
        raise AssertionError("torchrun started")

    monkeypatch.setattr(torchrun, "run", started)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"name: bad\nsource: {{path: {tmp_path / 'missing.csv'}}}\ngenerator: {{type: ddpm, device: cpu}}\n"
    )
    result = CliRunner().invoke(app, ["train", str(recipe), "--nproc", "2"])
    assert result.exit_code == 2 and result.output.count("missing.csv not found") == 1, result.output


def test_a_failed_rank_exits_with_rank_0s_status_in_one_line(tmp_path, monkeypatch):
    import torch.distributed.run as torchrun
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure
    from typer.testing import CliRunner

    from synthgen.cli import app

    def failed(args):
        missing = str(tmp_path / "no-error-file")
        raise ChildFailedError(
            "synthgen.cli", {1: ProcessFailure(1, 11, -15, missing), 0: ProcessFailure(0, 10, 2, missing)}
        )

    monkeypatch.setattr(torchrun, "run", failed)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: ddp\nsource: {builtin: german_credit}\ngenerator: {type: ddpm, device: cpu}\n")
    result = CliRunner().invoke(app, ["train", str(recipe), "--out", str(tmp_path / "model"), "--nproc", "2"])
    assert result.exit_code == 2, result.output  # InputError's, not the agent's 1
    assert result.output.strip() == "error: rank 0 of the torchrun job failed (exit status 2)"


# -- CTGAN ---------------------------------------------------------------------------------------------


def test_ctgan_on_two_ranks_ends_with_one_model_that_samples(launched):
    results, folder = [rank[1] for rank in launched[0]], launched[1]
    assert results[0]["digest"] == results[1]["digest"]  # weights and batch-norm statistics
    assert results[0]["history"] == results[1]["history"] and len(results[0]["history"]) == 4
    rows = load_model(folder / "ctgan").sample(100, seed=3)
    assert len(rows) == 100 and set(rows["grade"]) <= set("ABCD")


def test_ctgan_killed_between_epochs_resumes_to_the_same_model(tmp_path):
    from synthgen.models import CTGAN

    data = table(1000)
    schema = infer_schema(data, target="default")
    config = CTGAN_SPEC["config"]
    whole = CTGAN(**config).fit(data, schema)
    path = tmp_path / "ckpt.safetensors"

    class Killed(Exception):
        pass

    def die(step):
        if step.calls == 25:  # 10 steps an epoch: after the checkpoint at the end of epoch 2
            raise Killed

    with pytest.raises(Killed):
        CTGAN(**config).fit(data, schema, step_hook=die, checkpoint=Checkpointing(path, every=20))
    resumed = CTGAN(**config).fit(data, schema, checkpoint=Checkpointing(path, every=20, resume=True))
    assert digest(resumed.generator_) == digest(whole.generator_)
    assert resumed.history_ == whole.history_


def test_train_resume_refuses_a_checkpoint_of_another_recipe_and_leaves_none_behind(tmp_path):
    from typer.testing import CliRunner

    from synthgen.cli import app

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: ckpt\nsource: {builtin: german_credit}\nschema: {target: creditability}\n"
        "generator: {type: ddpm, steps: 30, max_epochs: null, width: 32, depth: 2, batch_size: 128, "
        "timesteps: 100, sampling_steps: 5, device: cpu}\n"
    )
    out = tmp_path / "model"
    stale = {"class": "DDPM", "config": {}, "rows": 1, "fingerprint": "another-recipe"}
    write_checkpoint(checkpoint_path(out), Checkpoint({"x": torch.zeros(1)}, {"step": 10, "identity": stale}))
    refused = CliRunner().invoke(app, ["train", str(recipe), "--out", str(out), "--resume"])
    assert refused.exit_code == 2 and "checkpoint of another training run (recipe fingerprint" in refused.output
    checkpoint_path(out).unlink()
    done = CliRunner().invoke(app, ["train", str(recipe), "--out", str(out), "--checkpoint-every", "10", "--resume"])
    assert done.exit_code == 0, done.output
    assert load_model(out).steps_done_ == 30 and not checkpoint_path(out).exists()  # written, then removed


def test_a_file_at_the_checkpoint_path_that_synthgen_did_not_write_is_never_replaced_or_removed(tmp_path):
    from synthgen.checkpoint import is_checkpoint, remove_checkpoint

    theirs = tmp_path / "model.checkpoint.safetensors"
    theirs.write_text("a user's file")
    with pytest.raises(InputError, match="is not a synthgen checkpoint"):
        write_checkpoint(theirs, Checkpoint({"x": torch.zeros(1)}, {"step": 1}))
    remove_checkpoint(theirs)
    assert theirs.read_text() == "a user's file" and not is_checkpoint(theirs)
    ours = tmp_path / "ours.checkpoint.safetensors"
    write_checkpoint(ours, Checkpoint({"x": torch.zeros(1)}, {"step": 1}))
    assert is_checkpoint(ours)
    write_checkpoint(ours, Checkpoint({"x": torch.ones(1)}, {"step": 2}))  # its own is replaced
    remove_checkpoint(ours)
    assert not ours.exists()
