"""examples/python_api.py runs to its verdict. With its full budget it passes its own gate in about a
minute on 2 CPU cores (measured, not tested here); this runs it at one pass of training, in seconds."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "python_api.py"


def test_the_python_api_example_runs_to_its_gate_verdict(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SYNTHGEN_EXAMPLE_EPOCHS", "1")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"gate passed|gate failed: \[('\w+'(, )?)+\]", printed[-1]), printed[-1]
    assert "'gate_passed':" in printed[-2]  # the report's summary, just before the verdict
    assert list(tmp_path.iterdir()) == []  # the saved model went to a temporary folder, now gone
