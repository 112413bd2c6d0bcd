"""The benchmark runner's smoke mode, so it cannot rot: real fits, real scores, tiny budgets."""

import json

import pytest

from evaluation import report, run


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    payload = run.main(["--quick", "--repeats", "2", "--ladder", "german_credit", "--out", str(out)])
    return payload, out


def test_quick_run_scores_every_model_and_repeat(quick):
    payload, out = quick
    assert json.loads(out.read_text())["runs"] == json.loads(json.dumps(payload["runs"], default=str))
    main = [r for r in payload["runs"] if r["rung"] is None]
    assert sorted((r["model"], r["seed"]) for r in main) == [("synthgen.ctgan", 0), ("synthgen.ctgan", 1),
                                                             ("synthgen.ddpm", 0), ("synthgen.ddpm", 1)]
    for r in payload["runs"]:
        assert r["fit_s"] > 0 and r["sample_rows_per_s"] > 0 and r["peak_host_mib"] > 100
        assert 0 <= r["shape"] <= 1 and 0 <= r["trend"] <= 1 and 0.5 <= r["detection_auc"] <= 1
        assert r["train_rows"] == 800 and r["epochs_done"] > 0
    ctgan = next(s for s in payload["summary"] if s["model"] == "synthgen.ctgan")
    assert ctgan["repeats"] == 2 and ctgan["fit_s"]["min"] <= ctgan["fit_s"]["median"] <= ctgan["fit_s"]["max"]
    assert payload["settings"]["seeds"] == [0, 1] and payload["machine"]["cpu_count"] >= 1


def test_time_to_quality_reads_the_ladder(quick):
    payload, _ = quick
    ladder = [r for r in payload["runs"] if r["rung"] is not None]
    assert {r["model"] for r in ladder} == {"synthgen.ctgan", "synthgen.ddpm"}
    assert next(r for r in ladder if r["model"] == "synthgen.ddpm")["seconds"] == 0.5
    for entry in payload["time_to_quality"]:
        reached = [p for p in entry["points"] if p["shape"] >= 0.95 and p["trend"] >= 0.95]
        assert entry["reached"] == bool(reached)
        if reached:
            assert entry["seconds"] == pytest.approx(min(p["total_s"] for p in reached))


def test_report_writes_tables_and_picture(quick, tmp_path):
    _, out = quick
    md, png = tmp_path / "BENCHMARKS.md", tmp_path / "bench.png"
    text = report.render([out], md, png)
    assert md.read_text() == text and "### german_credit" in text and "`synthgen.ddpm`" in text
    assert "Time to quality" in text and "![quality against training time](bench.png)" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_model_and_missing_peer_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.parse_args(["--models", "synthgen.gan"])
    assert exit_info.value.code == 2 and "unknown model synthgen.gan" in capsys.readouterr().err


def test_missing_peer_package_is_named(monkeypatch, capsys):
    from evaluation import peers

    monkeypatch.setattr(peers.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit):
        run.parse_args(["--models", "sdv.ctgan,synthgen.ddpm"])
    assert "sdv.ctgan needs sdv" in capsys.readouterr().err


def test_mostly_epochs_come_from_its_progress_log(tmp_path):
    from evaluation.peers import _mostly_progress

    assert _mostly_progress(tmp_path) == (None, None)  # no log: unknown, not the epoch cap
    log = tmp_path / "ModelStore" / "model-data" / "progress-messages.csv"
    log.parent.mkdir(parents=True)
    log.write_text("epoch,is_checkpoint,steps,samples\n1.0,0,80,640\n29.0,1,2320,18560\n")
    assert _mostly_progress(tmp_path) == (29.0, 2320)
