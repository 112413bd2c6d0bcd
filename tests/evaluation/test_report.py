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
    assert f"| 500 | {replay['s_per_step'] * 1e3:.2f} ms | {replay['kernels_per_step']:.0f} | {replay['gpu_busy_share']:.0%} |" in text
    assert not (tmp_path / "b.png").exists()  # no time-to-quality ladder in these files, so no picture
