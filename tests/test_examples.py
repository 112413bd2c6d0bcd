"""The examples are documentation: they must keep running."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_python_api_example(monkeypatch, capsys):
    monkeypatch.setenv("SYNTHGEN_EXAMPLE_EPOCHS", "1")
    runpy.run_path(str(EXAMPLES / "python_api.py"), run_name="__main__")
    assert "gate" in capsys.readouterr().out


def test_pytest_fixture_example():
    env = {**os.environ, "SYNTHGEN_EXAMPLE_EPOCHS": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "test_with_synthetic_borrowers.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
