"""Every file synthgen writes gets the mode any new file gets: 0666 less the umask at the time of writing
(0644 under 022, readable by teammates; 0600 under 077), although each is written to a temporary file
first and some writers (safetensors) create theirs 0600."""

from __future__ import annotations

import os
import stat

import pytest

from synthgen.io import write_json, write_table, write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def fitted(german):
    from synthgen.models import CTGAN

    return CTGAN(epochs=1, batch_size=50, device="cpu").fit(german[["credit_amount", "purpose"]].head(100))


def test_tables_sidecars_reports_and_models_follow_the_umask(tmp_path, umask, german, fitted):
    file_mode, folder_mode = 0o666 & ~umask, 0o777 & ~umask
    frame = german.head(20)
    written = [
        write_table(frame, tmp_path / "out" / "rows.csv"),
        write_table(frame, tmp_path / "out" / "rows.parquet"),
        write_json({"released": True}, tmp_path / "out" / "rows.csv.meta.json"),
        write_text("<html></html>", tmp_path / "out" / "rows_report" / "report.html"),
    ]
    model = fitted.save(tmp_path / "models" / "m")
    written += sorted(model.iterdir())
    assert {p.name for p in written} >= {"weights.safetensors", "config.json", "state.json"}
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(file_mode) for p in written}
    for folder in (tmp_path / "out", tmp_path / "out" / "rows_report", model):
        assert _mode(folder) == folder_mode, folder
