"""The judge shares no code with the generators: it imports none of synthgen.models, .transforms, .pipeline, .cli."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

FORBIDDEN = ("synthgen.models", "synthgen.transforms", "synthgen.pipeline", "synthgen.cli")


def test_evaluate_imports_no_generator_code():
    # The judge is the package synthgen.judge (`synthgen.evaluate` is only its public function).
    package = Path(importlib.import_module("synthgen.judge").__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                if node.module == "synthgen":
                    names += [f"synthgen.{a.name}" for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert not offenders, offenders


def test_public_api():
    from synthgen.judge import EvaluateSettings, EvaluationReport, GateSettings, evaluate, render_console, write_report
    from synthgen.judge.settings import EvaluateSettings as E2, GateSettings as G2

    assert E2 is EvaluateSettings and G2 is GateSettings
    assert callable(evaluate) and callable(write_report) and callable(render_console)
    assert "gate" in EvaluationReport.model_fields
