"""`synthgen inspect DATA --out recipes/x.yaml`: a recipe whose source resolves from the recipe's own folder,
so that `validate` passes on it at once; an existing file is replaced only with --force."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from synthgen.cli import app

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def project(tmp_path, german, monkeypatch) -> Path:
    """A project folder with its data in data/, run from the project folder."""
    (tmp_path / "data").mkdir()
    german.head(300).to_csv(tmp_path / "data" / "applicants.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_out_writes_a_recipe_that_validates(project):
    result = _invoke("inspect", "data/applicants.csv", "--target", "creditability", "--out", "recipes/applicants.yaml")
    assert result.exit_code == 0, result.output
    written = project / "recipes" / "applicants.yaml"
    recipe = yaml.safe_load(written.read_text())
    assert recipe["source"] == "../data/applicants.csv"  # relative to recipes/, not to the current folder
    assert recipe["schema"]["target"] == "creditability"
    assert "synthgen validate recipes/applicants.yaml" in result.output
    checked = _invoke("validate", "recipes/applicants.yaml")
    assert checked.exit_code == 0, checked.output
    assert not list((project / "recipes").glob(".*tmp"))  # written through a temporary file, renamed


def test_an_existing_recipe_is_replaced_only_with_force(project):
    target = project / "recipes" / "x.yaml"
    target.parent.mkdir()
    target.write_text("name: mine\n")
    refused = _invoke("inspect", "data/applicants.csv", "--out", target)
    assert refused.exit_code == 2
    assert "already exists" in refused.output and "--force" in refused.output
    assert target.read_text() == "name: mine\n"
    forced = _invoke("inspect", "data/applicants.csv", "--out", target, "--force")
    assert forced.exit_code == 0, forced.output
    assert yaml.safe_load(target.read_text())["name"] == "applicants"


def test_the_data_file_is_never_overwritten(project):
    data = project / "data" / "applicants.csv"
    before = data.read_bytes()
    result = _invoke("inspect", data, "--out", data, "--force")
    assert result.exit_code == 2 and "data file itself" in result.output
    assert data.read_bytes() == before


def test_printed_recipe_names_an_absolute_source_and_says_why(project):
    result = _invoke("inspect", "data/applicants.csv")
    assert result.exit_code == 0, result.output
    recipe = yaml.safe_load(result.stdout)
    assert recipe["source"] == (project / "data" / "applicants.csv").resolve().as_posix()
    assert "# source: absolute" in result.stdout
    saved = project / "elsewhere" / "r.yaml"  # saved anywhere, it still finds its data
    saved.parent.mkdir()
    saved.write_text(result.stdout)
    assert _invoke("validate", saved).exit_code == 0


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the redirect target is read from /proc")
def test_redirected_to_a_recipe_file_the_source_is_relative_to_it(project, monkeypatch):
    from synthgen import cli

    (project / "recipes").mkdir()
    with open(project / "recipes" / "r.yaml", "w") as handle:  # as the shell's `> recipes/r.yaml` does
        monkeypatch.setattr(sys, "stdout", handle)
        cli.inspect(Path("data/applicants.csv"), target=None, out=None, force=False)
    monkeypatch.undo()
    assert yaml.safe_load((project / "recipes" / "r.yaml").read_text())["source"] == "../data/applicants.csv"
    assert _invoke("validate", project / "recipes" / "r.yaml").exit_code == 0
