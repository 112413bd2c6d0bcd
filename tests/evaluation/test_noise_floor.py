"""The noise-floor benchmark's law fit and its section of BENCHMARKS.md."""

import json
import math
from pathlib import Path

import pytest

from evaluation import report
from evaluation.noise_floor import fit_law

RESULTS = Path(__file__).resolve().parents[2] / "evaluation" / "results"


def test_the_law_is_recovered_from_exact_points_and_residuals_show_a_bad_one():
    sizes = [(400, 100), (400, 200), (400, 400), (4000, 4000)]
    c, residuals = fit_law([(a, b, 1.3 * math.sqrt(1 / a + 1 / b)) for a, b in sizes])
    assert c == pytest.approx(1.3)
    assert residuals == [0.0, 0.0, 0.0, 0.0]
    points = [(a, b, 1.3 * math.sqrt(1 / a + 1 / b)) for a, b in sizes[:3]] + [(4000, 4000, 0.2)]
    _, residuals = fit_law(points)
    assert residuals[-1] < -0.5  # a point far above the law is flagged by its residual


def test_the_report_renders_the_floor_table(tmp_path):
    path = RESULTS / "noise_floor.json"
    text = report.render([path], tmp_path / "B.md", tmp_path / "b.png")
    entry = json.loads(path.read_text())["recipes"]["recipes/credit_risk.yaml"]
    trend = entry["floor"]["trend"]
    assert (
        f"| `recipes/credit_risk.yaml` | 26,064 | {trend['copies']:.3f} | {trend['independent_at_train_size']:.3f} |"
        in text
    )
