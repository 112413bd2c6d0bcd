"""Parquet dataset sources (`synthgen.sources`): batches, the reservoir sample, the split, the errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import DataError
from synthgen.sources import ParquetSource, Part, is_streamed, reservoir_sample, row_uniform
from tests.parquet_parts import write_parts


def _table(rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "amount": rng.lognormal(8, 1, rows).round(2),
            "grade": rng.choice(["A", "B", "C"], rows, p=[0.6, 0.3, 0.1]),
            "status": rng.choice(["paid", "default"], rows, p=[0.8, 0.2]),
        }
    )
    frame.loc[rng.random(rows) < 0.05, "amount"] = np.nan
    return frame


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    frame = _table()
    return write_parts(tmp_path / "parts", frame, row_group_size=400), frame


def test_batches_are_the_table_in_order_and_rows_come_from_metadata(dataset):
    folder, frame = dataset
    source = ParquetSource(folder, batch_rows=256)
    assert source.rows == len(frame) and len(source.files) == 3 and source.columns == list(frame.columns)
    starts, frames = zip(*source.batches())
    assert max(len(f) for f in frames) <= 256
    assert list(starts) == list(np.cumsum([0, *[len(f) for f in frames[:-1]]]))
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), frame)
    glob = ParquetSource(f"{folder}/*.parquet")
    assert glob.files == source.files


def test_reservoir_is_seeded_bounded_and_independent_of_the_batch_size(dataset):
    folder, frame = dataset
    a = ParquetSource(folder, batch_rows=128).reservoir(500, seed=3)
    b = ParquetSource(folder, batch_rows=1000).reservoir(500, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 500 and a["id"].is_unique and a["id"].is_monotonic_increasing  # in table order
    pd.testing.assert_frame_equal(a, frame.iloc[a["id"]].reset_index(drop=True))  # whole rows
    assert not ParquetSource(folder).reservoir(500, seed=4)["id"].equals(a["id"])
    everything = ParquetSource(folder).reservoir(10_000, seed=0)
    pd.testing.assert_frame_equal(everything, frame)


def test_reservoir_inclusion_is_uniform():
    """Every row of a 400-row table, cut in batches of 90, is in a 100-row sample with probability 1/4: a
    chi-square over the rows' inclusion counts, and no batch favoured."""
    n, size, seeds = 400, 100, 300
    frame = pd.DataFrame({"id": np.arange(n)})
    batches = [(frame.iloc[i : i + 90], np.arange(i, min(i + 90, n), dtype=np.uint64)) for i in range(0, n, 90)]
    hits = np.zeros(n)
    for seed in range(seeds):
        sample = reservoir_sample(iter(batches), size, seed)
        assert len(sample) == size and sample["id"].is_monotonic_increasing
        hits[sample["id"].to_numpy()] += 1
    p = size / n
    chi2 = (((hits - seeds * p) ** 2) / (seeds * p * (1 - p))).sum()
    assert chi2 < n + 5 * np.sqrt(2 * n)
    per_batch = [hits[i : i + 90].mean() / seeds for i in range(0, n, 90)]
    assert np.abs(np.array(per_batch) - p).max() < 0.01
    # the counter-based draws themselves are uniform
    u = row_uniform(np.arange(200_000, dtype=np.uint64), seed=5, stream=2)
    counts, _ = np.histogram(u, bins=20, range=(0, 1))
    assert np.abs(counts / 10_000 - 1).max() < 0.05


def test_split_is_deterministic_disjoint_and_needs_no_data(dataset):
    folder, frame = dataset
    train, holdout = Part(0.2, 7, holdout=False), Part(0.2, 7, holdout=True)
    source = ParquetSource(folder, batch_rows=300)
    ids = {
        name: np.concatenate([f["id"].to_numpy() for _, f in source.batches(part=part)])
        for name, part in (("train", train), ("holdout", holdout))
    }
    assert len(np.intersect1d(ids["train"], ids["holdout"])) == 0
    assert len(ids["train"]) + len(ids["holdout"]) == len(frame)
    assert source.part_rows(holdout) == len(ids["holdout"]) and source.part_rows(train) == len(ids["train"])
    assert abs(len(ids["holdout"]) / len(frame) - 0.2) < 0.03
    other = ParquetSource(folder, batch_rows=2000)
    again = np.concatenate([f["id"].to_numpy() for _, f in other.batches(part=holdout)])
    np.testing.assert_array_equal(again, ids["holdout"])  # the same for any batch size
    moved = np.concatenate([f["id"].to_numpy() for _, f in other.batches(part=Part(0.2, 8, holdout=True))])
    assert not np.array_equal(moved, ids["holdout"])
    sample = source.reservoir(100, seed=1, part=holdout)
    assert set(sample["id"]) <= set(ids["holdout"])


def test_profile_counts_every_level_and_missing_value(dataset):
    folder, frame = dataset
    counts, missing = ParquetSource(folder, batch_rows=500).profile(["grade"], ["amount"])
    assert counts["grade"].to_dict() == frame["grade"].value_counts().to_dict()
    assert missing == {"amount": int(frame["amount"].isna().sum())}


def test_pii_values_reads_only_the_pii_columns_of_every_row(dataset, monkeypatch):
    from synthgen.schema import ColumnSpec, infer_schema

    folder, frame = dataset
    source = ParquetSource(folder, batch_rows=500)
    read = []
    raw = source._raw_batches
    monkeypatch.setattr(source, "_raw_batches", lambda columns: read.append(columns) or raw(columns))
    schema = infer_schema(frame, {"grade": ColumnSpec(kind="pii")})
    assert source.pii_values(schema) == {"grade": {"A", "B", "C"}} and read == [["grade"]]
    assert source.pii_values(infer_schema(frame)) == {} and len(read) == 1  # no PII column: nothing read


def test_errors_name_the_path(tmp_path, dataset):
    folder, frame = dataset
    with pytest.raises(DataError, match=r"nothing.*\.parquet: no files match"):
        ParquetSource(tmp_path / "nothing*.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: the directory holds no Parquet files"):
        ParquetSource(tmp_path / "empty")
    with pytest.raises(DataError, match=r"column\(s\) 'nope' not in the dataset"):
        list(ParquetSource(folder).batches(["amount", "nope"]))
    frame.head(10).drop(columns="grade").to_parquet(folder / "part-9.parquet", index=False)
    with pytest.raises(
        DataError, match=r"part-9\.parquet does not have the schema of .*part-0\.parquet: column 'grade'"
    ):
        ParquetSource(folder)
    frame.head(10).assign(id=lambda f: f["id"].astype(float)).to_parquet(folder / "part-9.parquet", index=False)
    with pytest.raises(DataError, match="column 'id' is double, not int64"):
        ParquetSource(folder)


def test_which_sources_are_streamed(tmp_path, dataset):
    folder, frame = dataset
    single = tmp_path / "one.parquet"
    frame.to_parquet(single)
    assert is_streamed(folder) and is_streamed(f"{folder}/*.parquet")
    assert not is_streamed(single) and is_streamed(single, file_bytes=10)
    assert not is_streamed(tmp_path / "one.csv")


def test_prepare_data_on_a_streamed_recipe_gives_samples_of_both_parts(tmp_path, dataset):
    from synthgen.pipeline import is_streamed_source, model_fingerprint, prepare_data
    from synthgen.recipe import load_recipe

    folder, frame = dataset
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text(
        "name: s\nsource: parts/*.parquet\nschema: {target: status}\ngenerator: {type: ddpm, device: cpu}\n"
        "split: {holdout: 0.25, seed: 3}\n"
    )
    recipe = load_recipe(recipe_file)
    assert is_streamed_source(recipe)
    train, holdout, schema = prepare_data(recipe)
    assert schema.target == "status" and set(schema.names) == set(frame.columns)
    assert len(train) + len(holdout) == len(frame)  # all of a small table, in the two parts
    assert not set(train["id"]) & set(holdout["id"])
    assert abs(len(holdout) / len(frame) - 0.25) < 0.03
    before = model_fingerprint(recipe)
    frame.head(5).to_parquet(folder / "part-3.parquet", index=False)
    assert model_fingerprint(recipe) != before  # a new file is new data


@pytest.mark.parametrize("source", ["parts/", "parts/*.parquet", "parts/**/*.parquet"])
def test_nothing_is_written_inside_a_streamed_source_folder(tmp_path, dataset, source):
    """A release, its sidecar or report inside the folder would be read as real rows by the next run."""
    from typer.testing import CliRunner

    from synthgen.cli import app
    from synthgen.errors import InputError
    from synthgen.pipeline import check_targets
    from synthgen.recipe import load_recipe

    folder, _ = dataset
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text(f"name: s\nsource: {source}\ngenerator: {{type: ddpm, device: cpu}}\n")
    recipe = load_recipe(recipe_file)
    model = tmp_path / "model"
    for out, says in [
        (folder / "release", "is inside"),  # a sharded release: a folder of part-*.parquet
        (folder / "sub" / "release.parquet", "is inside"),
        (tmp_path, "holds"),
    ]:
        with pytest.raises(InputError, match=f"the output .* {says} the folder of the source"):
            check_targets(recipe, model, out)
    check_targets(recipe, model, tmp_path / "out" / "release.csv")  # beside the folder: fine
    check_targets(recipe, model, tmp_path / "parts_release")
    result = CliRunner().invoke(app, ["generate", str(recipe_file), "--out", str(folder / "release.parquet")])
    assert result.exit_code == 2 and "is inside the folder of the source" in result.output
    assert not (folder / "release.parquet").exists() and not (folder / "release_report").exists()


def test_a_run_hashes_each_file_of_a_streamed_source_once(tmp_path, dataset, monkeypatch):
    import synthgen.files
    from synthgen.pipeline import model_fingerprint
    from synthgen.recipe import load_recipe

    folder, frame = dataset
    hashed = []
    real = synthgen.files.file_sha256
    monkeypatch.setattr(synthgen.files, "file_sha256", lambda path: hashed.append(path.name) or real(path))
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text("name: s\nsource: parts/\ngenerator: {type: ddpm, device: cpu}\n")
    recipe = load_recipe(recipe_file)
    first = {model_fingerprint(recipe) for _ in range(3)}  # the checkpoint, the save, the reuse check
    assert len(first) == 1 and sorted(hashed) == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    frame.head(7).to_parquet(folder / "part-1.parquet", index=False)  # rewritten: hashed again, the others not
    assert model_fingerprint(recipe) not in first
    assert sorted(hashed) == ["part-0.parquet", "part-1.parquet", "part-1.parquet", "part-2.parquet"]


def test_constraints_on_a_streamed_source_are_refused_before_any_row_is_read(tmp_path, dataset, monkeypatch):
    from synthgen.errors import InputError
    from synthgen.pipeline import prepare_data
    from synthgen.recipe import load_recipe

    def no_reading(self, columns):  # noqa: ANN001, ANN202
        raise AssertionError("read the data before refusing the constraints")

    monkeypatch.setattr(ParquetSource, "_raw_batches", no_reading)
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text(
        "name: s\nsource: parts/\ngenerator: {type: ddpm, device: cpu}\n"
        "constraints:\n  - {type: inequality, low: id, high: amount}\n"
    )
    with pytest.raises(InputError, match=r"constraints are not supported with a streamed source \(.*parts\)"):
        prepare_data(load_recipe(recipe_file))


def test_sample_rows_sizes_the_judged_sample_and_only_a_streamed_source_takes_it(tmp_path, dataset):
    import warnings

    from synthgen.errors import RecipeError
    from synthgen.pipeline import prepare_data
    from synthgen.recipe import RecipeWarning, load_recipe, parse_recipe

    folder, frame = dataset
    recipe_file = tmp_path / "recipe.yaml"
    recipe_file.write_text("name: s\nsource: {path: parts/, sample_rows: 800}\nsplit: {holdout: 0.25}\n")
    recipe = load_recipe(recipe_file)
    train, holdout, _ = prepare_data(recipe)
    assert len(train) == 800 and len(holdout) == round(800 * 0.25 / 0.75)
    unset = parse_recipe("name: s\nsource: {path: parts/}\n", source=recipe_file)
    assert unset.fingerprint() == parse_recipe("name: s\nsource: parts/\n", source=recipe_file).fingerprint()
    assert recipe.fingerprint() != unset.fingerprint()  # another sample fits another transformer
    with pytest.raises(RecipeError, match="sample_rows' applies to a streamed source"):
        parse_recipe("name: s\nsource: {builtin: german_credit, sample_rows: 800}\n", source=recipe_file)
    frame.to_csv(tmp_path / "whole.csv", index=False)
    recipe_file.write_text("name: s\nsource: {path: whole.csv, sample_rows: 800}\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train, holdout, _ = prepare_data(load_recipe(recipe_file))
    assert len(train) + len(holdout) == len(frame)
    assert any(issubclass(w.category, RecipeWarning) and "read whole" in str(w.message) for w in caught)
