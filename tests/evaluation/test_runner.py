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
    assert sorted((r["model"], r["seed"]) for r in main) == [
        ("synthgen.ctgan", 0),
        ("synthgen.ctgan", 1),
        ("synthgen.ddpm", 0),
        ("synthgen.ddpm", 1),
    ]
    for r in payload["runs"]:
        assert r["fit_s"] > 0 and r["sample_rows_per_s"] > 0 and r["peak_host_mib"] > 100
        assert 0 <= r["shape"] <= 1 and 0 <= r["trend"] <= 1 and 0 <= r["detection_auc"] <= 1
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


# -- a user's own table, through its recipe --------------------------------------------------------------------------
def _own_table(folder, rows=240):
    """A small lending table the runner has never seen: an id, a date, text categories, a flag, numbers."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    income = rng.lognormal(10.5, 0.4, rows).round(2)
    frame = pd.DataFrame(
        {
            "loan_id": [f"L{i:05d}" for i in range(rows)],
            "applied": (pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "term": rng.choice(["36 months", "60 months"], rows),
            "income": income,
            "amount": (income * rng.uniform(0.05, 0.4, rows)).round(),
            "owns_home": rng.random(rows) < 0.4,
            "defaulted": np.where(rng.random(rows) < 0.25, "yes", "no"),
        }
    )
    frame.to_csv(folder / "loans.csv", index=False)
    recipe = folder / "own.yaml"
    recipe.write_text(
        "name: my_loans\nsource: loans.csv\n"
        "schema:\n  target: defaulted\n  columns:\n    loan_id: {kind: id}\n    applied: {kind: datetime}\n"
        "split: {holdout: 0.25, seed: 3}\n",
        encoding="utf-8",
    )
    return recipe


def test_a_recipe_path_is_benchmarked_under_its_name_and_split(tmp_path):
    from synthgen import load_recipe
    from synthgen.pipeline import prepare_data

    recipe = _own_table(tmp_path)
    out = tmp_path / "own.json"
    payload = run.main(
        [
            "--datasets",
            str(recipe),
            "--models",
            "synthgen.ddpm",
            "--quick",
            "--isolated",  # the fresh interpreter per job of a real run (the fixture above runs in this process)
            "--out",
            str(out),
            "--note",
            "a test",
        ]
    )
    train, holdout, _ = prepare_data(load_recipe(recipe))
    settings = payload["settings"]
    assert settings["datasets"] == ["my_loans"] and settings["split"] == {"holdout": 0.25, "seed": 3}
    assert settings["recipes"] == {"my_loans": str(recipe.resolve())}
    assert settings["tables"]["my_loans"] == {
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "columns": 7,
        "target": "defaulted",
    }
    assert not payload["failed"] and [r["model"] for r in payload["runs"]] == ["synthgen.ddpm"]
    for r in payload["runs"]:  # the recipe's split, the judge's figures through summary()
        assert r["dataset"] == "my_loans" and (r["train_rows"], r["holdout_rows"]) == (len(train), len(holdout))
        assert 0 <= r["shape"] <= 1 and r["evaluate_s"] > 0 and isinstance(r["gate_failing"], list)
    written = json.loads(out.read_text())
    assert written["command"].startswith("python -m evaluation.run --datasets ") and written["notes"] == ["a test"]
    assert written["machine"]["cpu_count"] >= 1 and written["versions"]["synthgen"]
    text = report.render([out], tmp_path / "B.md", tmp_path / "b.png")
    assert "### my_loans" in text and "Split: 75/25 stratified, seed 3." in text and "> a test" in text
    assert f"Recipes: my_loans `{recipe.resolve()}`." in text


def test_the_shortcuts_are_the_bundled_recipes():
    args = run.parse_args(["--datasets", "german_credit," + str(run.SHORTCUTS["german_credit"]), "--quick"])
    assert [d.name for d in args.datasets] == ["german_credit"]  # the same recipe twice is one dataset
    assert args.datasets[0].train_rows == 800 and args.datasets[0].holdout == 0.2


@pytest.mark.parametrize(
    "write, message",
    [
        (None, "recipe file not found"),
        ("name: x\nsource: loans.csv\ngenerator: {type: gan}\n", "gan"),
        ("name: x\nsource: nowhere.csv\n", "nowhere.csv"),
    ],
)
def test_a_bad_recipe_is_one_line_and_exit_2(tmp_path, capsys, write, message):
    recipe = tmp_path / "r.yaml"
    if write is not None:
        recipe.write_text(write, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        run.parse_args(["--datasets", str(recipe), "--quick"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and message in err and "Traceback" not in err
    assert err.startswith("python -m evaluation.run: error: ")


def test_an_unknown_shortcut_and_a_clash_of_names_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--datasets", "germancredit", "--quick"])
    assert "unknown dataset 'germancredit'" in capsys.readouterr().err
    copy = tmp_path / "copy.yaml"
    copy.write_text("name: german_credit\nsource: {builtin: german_credit}\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        run.parse_args(["--datasets", f"german_credit,{copy}", "--quick"])
    assert "two datasets are named 'german_credit'" in capsys.readouterr().err


def test_peers_learn_the_modelled_columns_with_synthgen_kinds(tmp_path):
    from evaluation.peers import peer_table
    from synthgen import load_recipe
    from synthgen.pipeline import prepare_data

    train, _, schema = prepare_data(load_recipe(_own_table(tmp_path)))
    frame, kinds = peer_table(train, schema)
    assert "loan_id" not in frame and list(frame.columns) == [c.name for c in schema.modelled]
    assert kinds["applied"] == "datetime" and str(frame["applied"].dtype) == "datetime64[ns]"
    assert kinds["term"] == kinds["owns_home"] == kinds["defaulted"] == "categorical"
    assert kinds["income"] == "numerical" and frame["applied"].notna().all()


def _numbers_as_text(rows=60):
    """Numbers written as text, as lending_club writes them: '83.70%' (63 as '63%'), '36 months'; some missing."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    util = np.round(rng.uniform(0, 120, rows), 2)
    util[:3] = [63, 0.5, 100]
    frame = pd.DataFrame(
        {
            "revol_util": [f"{u:.0f}%" if float(u).is_integer() else f"{u:.2f}%" for u in util],
            "term": [f"{m} months" for m in rng.integers(6, 73, rows)],
            "income": rng.normal(50_000, 1_000, rows).round(1),
            "grade": rng.choice(list("ABC"), rows),
        }
    )
    frame.loc[5, "revol_util"] = None
    frame.loc[7, "term"] = None
    return frame


def test_peers_read_numbers_written_as_text_with_their_format():
    import numpy as np

    from evaluation.peers import peer_table
    from synthgen.numberformat import parse_numbers
    from synthgen.schema import ColumnKind, infer_schema

    source = _numbers_as_text()
    schema = infer_schema(source)
    assert schema["revol_util"].kind is ColumnKind.NUMERIC and schema["revol_util"].format.suffix == "%"
    assert schema["term"].kind is ColumnKind.INTEGER and schema["term"].format.suffix == " months"
    frame, kinds = peer_table(source, schema)
    assert kinds["revol_util"] == kinds["term"] == kinds["income"] == "numerical"
    assert str(frame["revol_util"].dtype) == str(frame["term"].dtype) == "float64"
    assert frame["revol_util"].head(3).tolist() == [63.0, 0.5, 100.0]
    assert frame["term"].tolist()[:2] == [float(source["term"][0].split()[0]), float(source["term"][1].split()[0])]
    for name in ("revol_util", "term"):  # not the all-missing column to_numeric makes of them
        assert frame[name].isna().tolist() == source[name].isna().tolist()
        expected = parse_numbers(source[name], schema[name].format)[0]
        np.testing.assert_array_equal(frame[name].to_numpy(), expected)
    assert frame["income"].equals(source["income"]) and frame["grade"].equals(source["grade"])


def test_peer_output_writes_numbers_back_in_the_source_format():
    import numpy as np
    import pandas as pd

    from evaluation.peers import peer_output, peer_table
    from synthgen.judge.inputs import clean_column
    from synthgen.schema import infer_schema

    source = _numbers_as_text()
    schema = infer_schema(source)
    frame, _ = peer_table(source, schema)
    back = peer_output(frame, schema)
    assert list(back.columns) == list(source.columns)
    for name in ("revol_util", "term"):  # the training rows come back as the very same strings, missing kept
        assert back[name].dtype == object and back[name].isna().tolist() == source[name].isna().tolist()
        assert back[name].dropna().tolist() == source[name].dropna().tolist()
        # ... and the judge reads a peer's rows exactly as it reads the real ones
        pd.testing.assert_series_equal(
            clean_column(back[name], schema[name], "synthetic"), clean_column(source[name], schema[name], "train")
        )
    pd.testing.assert_series_equal(back["income"], source["income"])  # a column without a format: as given
    # A peer's raw numbers: rounded to the column's precision (an integer to whole numbers) before writing.
    raw = pd.DataFrame({"revol_util": [83.7049, 62.996, np.nan, -0.001], "term": [35.6, 60.2, 12.0, np.nan]})
    written = peer_output(raw, schema)
    assert written["revol_util"].tolist()[:2] == ["83.70%", "63%"] and pd.isna(written["revol_util"][2])
    assert written["revol_util"][3] == "0%"
    assert written["term"].tolist()[:3] == ["36 months", "60 months", "12 months"] and pd.isna(written["term"][3])


def test_one_results_writer(tmp_path):
    from evaluation.results import HEADER, write_results

    path = tmp_path / "sub" / "r.json"
    payload = write_results(path, {"benchmark": "x", "figure": 1.5}, command="python -m evaluation.x --a 1")
    assert list(payload)[:4] == list(HEADER) and json.loads(path.read_text()) == payload
    assert payload["machine"]["cpu_count"] >= 1 and payload["machine"]["cpu"] and "torch" in payload["versions"]
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # atomic: no temporary file left
    with pytest.raises(ValueError):
        write_results(path, {"machine": "mine"}, command="c")


def test_a_named_job_runs_through_the_runner(tmp_path):
    out = tmp_path / "judge.json"
    run.main(["--job", "judge-speed", "--rows", "1500", "--threads", "2", "--out", str(out)])
    written = json.loads(out.read_text())
    assert written["command"] == f"python -m evaluation.bench_evaluate --rows 1500 --threads 2 --out {out}"
    assert written["table"]["columns"] == 25 and written["wall_s"] > 0
    assert {"shape", "tstr_auc", "tstr_auc_logistic_regression", "mia_auc", "gate_passed"} <= set(written["summary"])
    with pytest.raises(SystemExit):
        run.main(["--job", "no-such-job"])


def test_a_dataset_without_runs_is_said_so(quick, tmp_path):
    payload, _ = quick
    payload = json.loads(json.dumps(payload, default=str))
    payload["settings"]["datasets"].append("other")
    payload["failed"] = [{"dataset": "other", "model": "sdv.ctgan", "error": "boom"}]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(payload))
    text = report.render([path], tmp_path / "B.md", tmp_path / "b.png")
    assert "### other\n\nNo run completed (failed: sdv.ctgan;" in text and "### german_credit\n\n| model |" in text
