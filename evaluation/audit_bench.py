"""What `synthgen audit` costs and finds on credit_risk: wall time, time per shadow, and the AUC per record.

    python -m evaluation.audit_bench [--recipe recipes/credit_risk.yaml] [--shadows 8] [--targets 5]
        [--epochs 20] [--device cpu] [--seed 0] [--out evaluation/results/audit_credit_risk.json]

Runs the command a user runs, ``synthgen audit RECIPE --shadows K --targets T --epochs E --device D
--seed S --out TMP``, in a fresh process (so the wall time includes imports), then reads its
``audit.json`` and writes the figures with `evaluation.results.write_results`. The audit's cost model is
setup (one all-pairs nearest-neighbour pass over the real rows) + K x (fit + sample); the file records
each part, and the machine's load average before and after, because a busy machine stretches every
figure. ``--epochs`` is the training budget per shadow (CTGAN's epochs; the diffusion model's cap on
passes): the recipe's own 300 CTGAN epochs would take roughly 50 to 80 minutes for 8 shadows on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evaluation.results import command_line, write_results

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "credit_risk.yaml"
OUT = ROOT / "evaluation" / "results" / "audit_credit_risk.json"


def synthgen_command() -> list[str]:
    """The `synthgen` console script of this interpreter's environment (else the same entry point via -c)."""
    script = Path(sys.executable).with_name("synthgen")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from synthgen._entry import main; main()"]


def audit_arguments(recipe: Path, shadows: int, targets: int, epochs: int | None, device: str, seed: int) -> list[str]:
    args = ["audit", str(recipe), "--shadows", str(shadows), "--targets", str(targets)]
    if epochs is not None:
        args += ["--epochs", str(epochs)]
    return args + ["--device", device, "--seed", str(seed)]


def run_audit_command(args: list[str], folder: Path) -> tuple[float, dict[str, Any], str]:
    """Run ``synthgen <args> --out folder``: (wall seconds, the audit.json it wrote, its printed table)."""
    started = time.perf_counter()
    done = subprocess.run(
        [*synthgen_command(), *args, "--out", str(folder)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"synthgen audit failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, json.loads((folder / "audit.json").read_text()), done.stdout


def summarise(report: dict[str, Any], wall_s: float, cli: str) -> dict[str, Any]:
    """The figures worth keeping: per-record AUCs and verdicts, and the cost of each part."""

    def attack(result: dict[str, Any]) -> dict[str, Any]:
        return {key: result[key] for key in ("auc", "interval", "p_value", "significant")}

    runs = report["shadow_runs"]
    return {
        "benchmark": "synthgen audit: shadow-model membership attacks on the most isolated training records",
        "cli": cli,
        "dataset": {"recipe": report["recipe"], "train_rows": report["train_rows"], "holdout": report["holdout_rows"]},
        "generator": report["generator"]["type"],
        "budget": report["budget"],
        "device": report["device"],
        "shadows": report["shadows"],
        "rows_per_shadow": report["rows"],
        "wall_s": round(wall_s, 1),
        "audit_s": report["total_s"],
        "setup_s": report["setup_s"],
        "shadow_s_mean": report["shadow_s"],
        "per_shadow": [
            {key: run[key] for key in ("index", "train_rows", "fit_s", "sample_s", "score_s")} for run in runs
        ],
        "cost_model": "setup_s + shadows x (fit_s + sample_s + score_s)",
        "targets": [
            {
                "index": target["index"],
                "isolation": round(target["isolation"], 4),
                "threshold": attack(target["threshold"]),
                "classifier": attack(target["classifier"]),
                "verdict": target["verdict"],
                "members": target["members"],  # with the features, enough to rescore the attacks offline
                "features": target["features"],
            }
            for target in report["targets"]
        ],
        "max_auc": report["max_auc"],
        "max_auc_target": report["max_auc_target"],
        "max_auc_attack": report["max_auc_attack"],
        "vulnerable": report["vulnerable"],
        "min_p_value": report["min_p_value"],
        "verdict_rule": report["verdict_rule"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m evaluation.audit_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=RECIPE)
    parser.add_argument("--shadows", type=int, default=8)
    parser.add_argument("--targets", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20, help="training budget per shadow (0: the recipe's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--note", default="", help="free text kept in the results (e.g. what else ran)")
    args = parser.parse_args(argv)

    audit_args = audit_arguments(args.recipe, args.shadows, args.targets, args.epochs or None, args.device, args.seed)
    shown = [a if a != str(args.recipe) else os.path.relpath(args.recipe, ROOT) for a in audit_args]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="synthgen-audit-") as tmp:
        wall, report, table = run_audit_command(audit_args, Path(tmp) / "audit")
    load_after = os.getloadavg()
    body = summarise(report, wall, "synthgen " + shlex.join(shown))
    body["load_average"] = {"before": [round(v, 2) for v in load_before], "after": [round(v, 2) for v in load_after]}
    if args.note:
        body["note"] = args.note
    write_results(args.out, body, command=command_line("evaluation.audit_bench", argv), device=args.device)
    sys.stdout.write(table)
    sys.stdout.write(f"wall {wall:.1f} s; written {args.out}\n")
    return body


if __name__ == "__main__":
    main()
