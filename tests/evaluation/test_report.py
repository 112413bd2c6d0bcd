"""The report's tables for the GPU files (CTGAN against SDV's in one process, and the GPU profile)."""

import json
from pathlib import Path

from evaluation import report

RESULTS = Path(__file__).resolve().parents[2] / "evaluation" / "results" / "gpu_h200"


def test_ctgan_pair_and_profile_get_tables(tmp_path):
    pair, profile = RESULTS / "ctgan_vs_sdv_cuda.json", RESULTS / "ctgan_gpu_profile.json"
    text = report.render([pair, profile], tmp_path / "B.md", tmp_path / "b.png")
    figures = json.loads(pair.read_text())
    steady = figures["speedups"]["s_per_epoch_steady"]
    assert f"| **speed-up** | | {figures['speedups']['s_per_epoch']:.1f}x | {steady:.1f}x |" in text
    assert "| synthgen | yes |" in text and "| SDV | - |" in text
    replay = json.loads(profile.read_text())["fits"]["500"]["replay"]
    assert (
        f"| 500 | {replay['s_per_step'] * 1e3:.2f} ms | {replay['kernels_per_step']:.0f} | "
        f"{replay['gpu_busy_share']:.0%} |" in text
    )
    assert not (tmp_path / "b.png").exists()  # no time-to-quality ladder in these files, so no picture


def test_older_ctgan_files_and_failed_profiles_still_render(tmp_path):
    older = json.loads((RESULTS / "ctgan_vs_sdv_cuda_b10000.json").read_text())
    for figures in older["results"].values():  # files from before steady sampling was measured
        figures.pop("sample_s_steady"), figures.pop("s_per_epoch_steady", None)
    profile = json.loads((RESULTS / "ctgan_gpu_profile.json").read_text())
    profile["fits"]["500"]["replay"] = {"error": "RuntimeError('profiler unavailable')"}
    paths = []
    for name, payload in (("older.json", older), ("profile.json", profile)):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(payload))
    text = report.render(paths, tmp_path / "B.md", tmp_path / "b.png")
    assert "| synthgen | yes |" in text and "| - |" in text
    assert "| 500 | profiler failed: RuntimeError('profiler unavailable') |" in text


def test_benchmarks_md_is_what_its_results_files_render(tmp_path):
    """The result keys the report reads stay put: BENCHMARKS.md re-renders, unchanged, from the files it names."""
    import re

    root = RESULTS.parents[2]
    markdown = (root / "evaluation" / "BENCHMARKS.md").read_text()
    sources = list(dict.fromkeys(re.findall(r"results in `(evaluation/results/[^`]+\.json)`", markdown)))
    assert sources
    text = report.render([root / s for s in sources], tmp_path / "BENCHMARKS.md", tmp_path / "benchmarks.png")
    assert text == markdown
