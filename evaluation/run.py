"""The benchmark runner: synthgen's generators against their peers on real lending data, in one run.

    python -m evaluation.run [--datasets german_credit,credit_risk]
        [--models synthgen.ctgan,synthgen.ddpm,sdv.ctgan,sdv.tvae,sdv.gaussian_copula,mostly.argn]
        [--epochs N] [--device cpu|cuda] [--repeats 3] [--threads 2] [--ladder credit_risk]
        [--out evaluation/results/NAME.json] [--quick]

then `python -m evaluation.report RESULTS.json` writes evaluation/BENCHMARKS.md and its picture.

Every model sees the same split (each dataset's recipe: 80/20, stratified, seed 0), samples as many
rows as the training split and is scored by the same code: `synthgen.evaluate` at default settings
and gates. Each run (one model, one dataset, one seed) happens in a fresh process, so its peak host
memory is its own and no thread pool outlives it. Per run: fit seconds, seconds per epoch and per
1,000 steps, training rows/s (rows seen per second), sampling rows/s, peak host and GPU memory, and
the judge's fidelity, utility and privacy figures. Repeats use model seeds 0..k-1 and give a median
and a range.

Time to quality (shape >= 0.95 and trend >= 0.95, fit plus sampling the training split's size) is
read off a ladder of growing training budgets for each model on the `--ladder` datasets: the first
rung that reaches the level, so the figure is an upper bound at the ladder's resolution.

`--quick` is the smoke mode the test suite runs: german_credit, synthgen's models, tiny budgets.
Peers need `pip install 'synthgen[bench]'` (MOSTLY AI's engine pulls torchvision/torchaudio builds
that break its import beside a CPU torch: uninstall them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
import warnings
import subprocess
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {"german_credit": ROOT / "recipes" / "german_credit.yaml", "credit_risk": ROOT / "recipes" / "credit_risk_ddpm.yaml"}
ALL_MODELS = ("synthgen.ctgan", "synthgen.ddpm", "sdv.ctgan", "sdv.tvae", "sdv.gaussian_copula", "mostly.argn")
QUALITY_LEVEL = {"shape": 0.95, "trend": 0.95}
LADDER = {"epochs": (10, 30, 100), "seconds": (2, 5, 10, 20, 40)}
QUICK_LADDER = {"epochs": (1,), "seconds": (0.5,)}
FIGURES = (
    "fit_s", "sample_s", "s_per_epoch", "s_per_1k_steps", "train_rows_per_s", "sample_rows_per_s", "peak_host_mib",
    "peak_gpu_mib", "shape", "trend", "detection_auc", "alpha_precision", "beta_recall", "tstr_auc", "trtr_auc",
    "tstr_ratio", "dcr_share", "mia_auc_upper", "exact_copy_rate", "holdout_copy_rate",
)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One fit, one sample and one evaluation, in the calling (fresh) process."""
    import resource

    import torch

    warnings.filterwarnings("ignore")
    torch.set_num_threads(job["threads"])
    from synthgen import evaluate, load_recipe
    from synthgen.pipeline import prepare_data

    from evaluation.peers import ADAPTERS, Budget

    recipe = load_recipe(RECIPES[job["dataset"]])
    train, holdout, schema = prepare_data(recipe)
    budget = Budget(epochs=job["epochs"], seconds=job["seconds"], device=job["device"], seed=job["seed"],
                    quick=job["quick"], model_options=recipe.model.model_dump())
    on_gpu = job["device"] == "cuda"
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    fitted = ADAPTERS[job["model"]](train, schema, budget)
    if on_gpu:
        torch.cuda.synchronize()
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = fitted.sample(len(train), job["seed"] + 1)
    if on_gpu:
        torch.cuda.synchronize()
    sample_s = time.perf_counter() - start
    peak_host_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    peak_gpu_mib = torch.cuda.max_memory_allocated() / 2**20 if on_gpu else None
    fitted.cleanup()
    report = evaluate(train, holdout, synthetic, schema, device="cpu")
    xgb = next((m for m in report.utility.models if m.model == "xgboost"), None)
    summary = report.summary()
    epochs, steps = fitted.epochs, fitted.steps
    return {
        **{k: job[k] for k in ("dataset", "model", "seed", "epochs", "seconds", "rung")},
        "train_rows": len(train),
        "epochs_done": epochs,
        "steps_done": steps,
        "fit_s": fit_s,
        "sample_s": sample_s,
        "s_per_epoch": fit_s / epochs if epochs else None,
        "s_per_1k_steps": 1000 * fit_s / steps if steps else None,
        "train_rows_per_s": epochs * len(train) / fit_s if epochs else None,
        "sample_rows_per_s": len(synthetic) / sample_s,
        "peak_host_mib": peak_host_mib,
        "peak_gpu_mib": peak_gpu_mib,
        **{k: summary.get(k) for k in ("shape", "trend", "detection_auc", "alpha_precision", "beta_recall", "tstr_ratio",
                                       "dcr_share", "mia_auc_upper", "exact_copy_rate", "holdout_copy_rate")},
        "tstr_auc": xgb.tstr.get("roc_auc") if xgb else None,
        "trtr_auc": xgb.trtr.get("roc_auc") if xgb else None,
        "gate_passed": report.passed,
        "gate_failing": list(report.gate.failing),
    }


def run_isolated(job: dict[str, Any]) -> dict[str, Any]:
    """`run_job` in a fresh interpreter (a plain child process: peers start process pools of their own,
    which hang at shutdown inside a multiprocessing worker)."""
    with tempfile.TemporaryDirectory(prefix="synthgen-bench-") as tmp:
        result = Path(tmp) / "run.json"
        command = [sys.executable, "-m", "evaluation.run", "--job", json.dumps(job), str(result)]
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": _pythonpath()})
        if done.returncode != 0 or not result.exists():
            raise RuntimeError(f"{job['model']} on {job['dataset']} (seed {job['seed']}) failed with exit code {done.returncode}")
        return json.loads(result.read_text())


def _pythonpath() -> str:
    parts = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return os.pathsep.join(dict.fromkeys(parts))


def jobs_for(args: argparse.Namespace) -> list[dict[str, Any]]:
    from evaluation.peers import BUDGET_UNIT

    base = {"device": args.device, "threads": args.threads, "quick": args.quick}
    jobs = []
    for dataset in args.datasets:
        for model in args.models:
            for seed in range(args.repeats):
                epochs = args.epochs if BUDGET_UNIT[model] == "epochs" else None
                jobs.append({**base, "dataset": dataset, "model": model, "seed": seed, "epochs": epochs, "seconds": None, "rung": None})
    ladder = QUICK_LADDER if args.quick else {"epochs": args.ladder_epochs, "seconds": args.ladder_seconds}
    for dataset in args.ladder:
        for model in args.models:
            unit = BUDGET_UNIT[model]
            for rung, value in enumerate(ladder.get(unit, ()) if unit else ()):
                jobs.append({**base, "dataset": dataset, "model": model, "seed": 0, "epochs": value if unit == "epochs" else None,
                             "seconds": value if unit == "seconds" else None, "rung": rung})
    return jobs


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median and range over repeats of each (dataset, model) at the main budget."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        if run["rung"] is None:
            groups.setdefault((run["dataset"], run["model"]), []).append(run)
    out = []
    for (dataset, model), group in groups.items():
        line: dict[str, Any] = {"dataset": dataset, "model": model, "repeats": len(group),
                                "gate_passed": sum(r["gate_passed"] for r in group)}
        for figure in FIGURES:
            values = [r[figure] for r in group if r.get(figure) is not None]
            if values:
                line[figure] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
        out.append(line)
    return out


def time_to_quality(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (dataset, model) on the ladder: the cheapest run (fit + sampling) that reached the quality level."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    ladder_sets = {r["dataset"] for r in runs if r["rung"] is not None}
    for run in runs:
        if run["dataset"] in ladder_sets and run["seed"] == 0:
            groups.setdefault((run["dataset"], run["model"]), []).append(run)
    out = []
    for (dataset, model), group in groups.items():
        reached = [r for r in group if all((r[k] or 0) >= v for k, v in QUALITY_LEVEL.items())]
        best = min(reached, key=lambda r: r["fit_s"] + r["sample_s"]) if reached else None
        out.append({
            "dataset": dataset, "model": model, "level": QUALITY_LEVEL,
            "reached": best is not None,
            "seconds": best["fit_s"] + best["sample_s"] if best else None,
            "fit_s": best["fit_s"] if best else None,
            "sample_s": best["sample_s"] if best else None,
            "budget": ({"epochs": best["epochs"], "seconds": best["seconds"]} if best else None),
            "points": sorted(({"train_s": r["fit_s"], "total_s": r["fit_s"] + r["sample_s"], "shape": r["shape"], "trend": r["trend"],
                               "detection_auc": r["detection_auc"], "tstr_auc": r["tstr_auc"]} for r in group), key=lambda p: p["train_s"]),
        })
    return out


def speed_ratios(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ours against SDV's CTGAN, from medians of the same run (same machine, epochs and batch)."""
    index = {(s["dataset"], s["model"]): s for s in summary}
    out = []
    for dataset in sorted({s["dataset"] for s in summary}):
        ours, theirs = index.get((dataset, "synthgen.ctgan")), index.get((dataset, "sdv.ctgan"))
        if not ours or not theirs:
            continue
        med = lambda s, k: s[k]["median"] if k in s else None  # noqa: E731
        out.append({
            "dataset": dataset, "ours": "synthgen.ctgan", "theirs": "sdv.ctgan",
            "whole_fit": med(theirs, "fit_s") / med(ours, "fit_s"),
            "s_per_epoch": med(theirs, "s_per_epoch") / med(ours, "s_per_epoch"),
            "sampling": med(ours, "sample_rows_per_s") / med(theirs, "sample_rows_per_s"),
            "shape_diff": med(ours, "shape") - med(theirs, "shape"),
            "trend_diff": med(ours, "trend") - med(theirs, "trend"),
        })
    return out


def machine(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                            "cpu_count": os.cpu_count(), "python": platform.python_version()}
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def versions() -> dict[str, str | None]:
    out = {}
    for package in ("synthgen", "torch", "xgboost", "scikit-learn", "pandas", "sdv", "ctgan", "mostlyai-engine"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evaluation.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=None, help="comma-separated: german_credit, credit_risk")
    parser.add_argument("--models", default=None, help="comma-separated, from: " + ", ".join(ALL_MODELS))
    parser.add_argument("--epochs", type=int, default=None, help="epochs of every epoch-based model (default: each model's own)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=1, help="runs per model and dataset, model seeds 0..k-1")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads in each run")
    parser.add_argument("--ladder", default=None, help="datasets for time to quality (default: credit_risk if run, none with --quick; '' for none)")
    parser.add_argument("--ladder-epochs", default=",".join(map(str, LADDER["epochs"])))
    parser.add_argument("--ladder-seconds", default=",".join(map(str, LADDER["seconds"])))
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default: evaluation/results/bench_DEVICE.json)")
    parser.add_argument("--quick", action="store_true", help="smoke mode: german_credit, synthgen's models, tiny budgets")
    args = parser.parse_args(argv)

    def names(text: str | None, default: tuple[str, ...], known: tuple[str, ...], what: str) -> list[str]:
        chosen = list(default) if text is None else [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in known]
        if unknown:
            parser.error(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(known)}")
        return chosen

    args.datasets = names(args.datasets, ("german_credit",) if args.quick else tuple(RECIPES), tuple(RECIPES), "dataset")
    args.models = names(args.models, ("synthgen.ctgan", "synthgen.ddpm") if args.quick else ALL_MODELS, ALL_MODELS, "model")
    default_ladder = () if args.quick else tuple(d for d in args.datasets if d == "credit_risk")
    args.ladder = names(args.ladder, default_ladder, tuple(args.datasets), "ladder dataset (it must be in --datasets)")
    args.ladder_epochs = tuple(int(x) for x in args.ladder_epochs.split(",") if x)
    args.ladder_seconds = tuple(float(x) for x in args.ladder_seconds.split(",") if x)
    if not args.datasets or not args.models:
        parser.error("--datasets and --models need at least one name each")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    from evaluation.peers import missing_package

    missing = {m: p for m in args.models if (p := missing_package(m))}
    if missing:
        parser.error("not installed: " + ", ".join(f"{m} needs {p}" for m, p in missing.items())
                     + "; pip install 'synthgen[bench]' or leave them out of --models")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda but torch sees no CUDA device")
    if args.out is None:
        args.out = ROOT / "evaluation" / "results" / f"bench_{'quick' if args.quick else args.device}.json"
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from synthgen.io import write_json

    jobs = jobs_for(args)
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []

    def payload(complete: bool) -> dict[str, Any]:
        summary = summarise(runs)
        return {
            "benchmark": "evaluation.run",
            "complete": complete,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(["python -m evaluation.run", *(argv if argv is not None else sys.argv[1:])]),
            "settings": {"datasets": args.datasets, "models": args.models, "epochs": args.epochs, "device": args.device,
                         "repeats": args.repeats, "seeds": list(range(args.repeats)), "split": {"holdout": 0.2, "seed": 0},
                         "threads": args.threads, "quick": args.quick, "quality_level": QUALITY_LEVEL,
                         "ladder": {"datasets": args.ladder, "epochs": list(args.ladder_epochs), "seconds": list(args.ladder_seconds)}},
            "machine": machine(args.device),
            "versions": versions(),
            "wall_s": time.perf_counter() - started,
            "runs": runs,
            "failed": failed,
            "summary": summary,
            "time_to_quality": time_to_quality(runs),
            "speed_ratios": speed_ratios(summary),
        }

    for i, job in enumerate(jobs, 1):
        label = f"[{i}/{len(jobs)}] {job['dataset']} {job['model']} seed {job['seed']}"
        if job["rung"] is not None:
            label += f" ladder {job['epochs'] if job['epochs'] is not None else job['seconds']}"
        try:
            run = run_isolated(job)
        except RuntimeError as exc:  # one peer failing must not cost the rest of a long run
            failed.append({**job, "error": str(exc)})
            print(f"{label}: FAILED ({exc})", flush=True)
            continue
        runs.append(run)
        print(f"{label}: fit {run['fit_s']:.1f} s, sample {run['sample_s']:.2f} s, shape {run['shape']:.3f}, "
              f"trend {run['trend']:.3f}, detection {run['detection_auc']:.3f}, gate {'pass' if run['gate_passed'] else 'FAIL'}",
              flush=True)
        if i < len(jobs):
            write_json(payload(complete=False), args.out)  # what is done survives an interrupted run
    result = payload(complete=True)
    write_json(result, args.out)
    print(f"wrote {args.out}" + (f"; {len(failed)} run(s) failed" if failed else ""))
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--job"]:  # one run, in the child process `run_isolated` starts
        Path(sys.argv[3]).write_text(json.dumps(run_job(json.loads(sys.argv[2]))))
    else:
        main()
