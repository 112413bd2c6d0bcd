"""examples/python_api.py, as a user runs it: its full training budget, and its own rows pass its gate
(about 20 s on 2 CPU cores)."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "python_api.py"


def test_the_python_api_example_passes_its_gate(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "gate passed", printed[-1]
    assert "'gate_passed':" in printed[-2]  # the report's summary, just before the verdict
    assert list(tmp_path.iterdir()) == []  # the saved model went to a temporary folder, now gone
