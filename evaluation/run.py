"""The benchmark runner: synthgen's generators against their peers on real lending data, or on your own table.

    python -m evaluation.run [--datasets german_credit,credit_risk,path/to/recipe.yaml]
        [--models synthgen.ctgan,synthgen.ddpm,sdv.ctgan,sdv.tvae,sdv.gaussian_copula,mostly.argn]
        [--epochs N] [--device cpu|cuda] [--repeats 3] [--threads 2] [--ladder credit_risk]
        [--out evaluation/results/NAME.json] [--note TEXT] [--quick]
    python -m evaluation.run --job NAME [the job's own options]    (--job NAME --help lists them)

then `python -m evaluation.report RESULTS.json` writes evaluation/BENCHMARKS.md and its picture.

A dataset is a recipe: `german_credit` and `credit_risk` are shortcuts for the bundled
recipes/german_credit.yaml and recipes/credit_risk.yaml; any other recipe file benchmarks your own table
(its source, schema, target and split; its generator block sets synthgen's model of the same type). A
dataset's name in the results is its recipe's `name`. Every model sees the recipe's split (train and
holdout exactly as `synthgen generate` cuts them), samples as many rows as the training split and is
scored by the same code: `synthgen.evaluate` at default settings and gates. Peers learn the schema's
modelled columns (ids and PII are never learned), with the same column kinds synthgen uses.

Each run (one model, one dataset, one seed) happens in a fresh process, so its peak host memory is
its own and no thread pool outlives it. Per run: fit seconds, seconds per epoch and per 1,000 steps,
training rows/s (rows seen per second), sampling rows/s, peak host and GPU memory, the judge's seconds
and its headline figures (`EvaluationReport.summary()`). Repeats use model seeds 0..k-1 and give a
median and a range.

Time to quality (shape >= 0.95 and trend >= 0.95, fit plus sampling the training split's size) is
read off a ladder of growing training budgets for each model on the `--ladder` datasets: the first
rung that reaches the level, so the figure is an upper bound at the ladder's resolution.

`--quick` is the smoke mode the test suite runs: german_credit, synthgen's models, tiny budgets, the
judge with `QUICK_EVALUATE`, synthgen's jobs in this process (`run_in_process`).
Peers need `pip install 'synthgen[bench]'` (MOSTLY AI's engine pulls torchvision/torchaudio builds
that break its import beside a CPU torch: uninstall them).

Jobs measure what the comparison does not, each writing its own results file (`--job NAME --help`):
ctgan-vs-sdv (both CTGANs in one process: transformer and steady per-epoch times), judge-speed (the
whole evaluation of a 30,000 x 25 table), extreme-values (issue 10's absurd amounts), io (TableWriter
throughput and peak memory), sample-memory and training-memory (peak memory of sampling and training),
issue10 (issue 10's cases replayed), gate-patterns and judge-scale (issue 12's memorisation patterns and
the judge as the release grows), conditional (issue 13: conditioned sampling under constraints, speed and
fidelity against the real rows meeting the conditions, beside SDV's sample_from_conditions), threads
(issue 14: training steps/s beside other CPU-bound processes), fixture (issue 14: the pytest fixture's
cold and warm times, `synthgen --help`), step (the diffusion model's CPU time per training step and
sampling rows/s, beside an older checkout), sampler (issue 15: the diffusion model's quality and rows/s
per sampling solver and step count).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHORTCUTS = {  # the bundled datasets: a name for their recipe
    "german_credit": ROOT / "recipes" / "german_credit.yaml",
    "credit_risk": ROOT / "recipes" / "credit_risk.yaml",
    "lending_club": ROOT / "recipes" / "lending_club.yaml",
}
ALL_MODELS = ("synthgen.ctgan", "synthgen.ddpm", "sdv.ctgan", "sdv.tvae", "sdv.gaussian_copula", "mostly.argn")
JOBS = {  # --job NAME: the module whose main(argv) runs it
    "ctgan-vs-sdv": "evaluation.bench_ctgan",
    "judge-speed": "evaluation.bench_evaluate",
    "extreme-values": "evaluation.extreme_values",
    "io": "evaluation.bench_io",
    "sample-memory": "evaluation.bench_sample_memory",
    "training-memory": "evaluation.bench_training_memory",
    "issue10": "evaluation.issue10_cases",
    "gate-patterns": "evaluation.gate_patterns",
    "judge-scale": "evaluation.judge_scale",
    "conditional": "evaluation.conditional_bench",
    "threads": "evaluation.threads_bench",
    "fixture": "evaluation.fixture_bench",
    "step": "evaluation.step_bench",
    "sampler": "evaluation.sampler_bench",
}
QUALITY_LEVEL = {"shape": 0.95, "trend": 0.95}
LADDER = {"epochs": (10, 30, 100), "seconds": (2, 5, 10, 20, 40)}
QUICK_LADDER = {"epochs": (1,), "seconds": (0.5,)}
QUICK_EVALUATE = {"bootstrap": 100, "detection_max_rows": 2_000, "detection_folds": 3}
"""The judge's settings in smoke mode (`--quick`): fewer bootstrap draws and detection folds, the same checks."""
TIMINGS = (
    "fit_s",
    "sample_s",
    "s_per_epoch",
    "s_per_1k_steps",
    "train_rows_per_s",
    "sample_rows_per_s",
    "peak_host_mib",
    "peak_gpu_mib",
    "evaluate_s",
)
# Keys of a run that are not figures to take medians of (the judge's figures are whatever summary() gives).
NOT_FIGURES = {
    "seed",
    "epochs",
    "seconds",
    "rung",
    "train_rows",
    "holdout_rows",
    "epochs_done",
    "steps_done",
    "gate_passed",
}


@dataclass(frozen=True)
class Dataset:
    """A recipe the runner benchmarks on, checked in the parent before any run starts."""

    name: str  # the recipe's name: the dataset's name in the results
    recipe: str  # the recipe file, absolute
    given: str  # as given on the command line (a shortcut or a path)
    holdout: float
    split_seed: int
    train_rows: int
    holdout_rows: int
    columns: int
    target: str | None


TABLE_FIELDS = ("train_rows", "holdout_rows", "columns", "target")


def resolve_dataset(text: str) -> Dataset:
    """A shortcut or a recipe path, loaded and prepared as `synthgen generate` would (errors: `SynthgenError`)."""
    from synthgen import load_recipe
    from synthgen.errors import InputError
    from synthgen.pipeline import prepare_data

    path = SHORTCUTS.get(text)
    if path is None:
        path = Path(text).expanduser()
        if path.suffix.lower() not in (".yaml", ".yml") and not path.exists() and "/" not in text:
            raise InputError(f"unknown dataset {text!r}: give a recipe file (.yaml) or one of {', '.join(SHORTCUTS)}")
    recipe = load_recipe(path)
    train, holdout, schema = prepare_data(recipe)
    split = recipe.split
    return Dataset(
        name=recipe.name,
        recipe=str(Path(path).resolve()),
        given=text,
        holdout=split.holdout,
        split_seed=split.seed,
        train_rows=len(train),
        holdout_rows=len(holdout),
        columns=len(schema.columns),
        target=schema.target,
    )


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One fit, one sample and one evaluation, in the calling (fresh) process."""
    import resource

    import torch

    warnings.filterwarnings("ignore")
    torch.set_num_threads(job["threads"])
    from evaluation.peers import ADAPTERS, Budget
    from synthgen import EvaluateSettings, evaluate, load_recipe
    from synthgen.pipeline import prepare_data

    recipe = load_recipe(job["recipe"])
    train, holdout, schema = prepare_data(recipe)
    budget = Budget(
        epochs=job["epochs"],
        seconds=job["seconds"],
        device=job["device"],
        seed=job["seed"],
        quick=job["quick"],
        generator=recipe.generator.model_dump(mode="json"),
    )
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
    start = time.perf_counter()
    settings = EvaluateSettings(**QUICK_EVALUATE) if job["quick"] else None
    report = evaluate(train, holdout, synthetic, schema, settings, device="cpu")
    evaluate_s = time.perf_counter() - start
    epochs, steps = fitted.epochs, fitted.steps
    return {
        **{k: job[k] for k in ("dataset", "model", "seed", "epochs", "seconds", "rung")},
        "train_rows": len(train),
        "holdout_rows": len(holdout),
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
        "evaluate_s": evaluate_s,
        **report.summary(),
    }


def run_in_process(job: dict[str, Any]) -> dict[str, Any]:
    """`run_job` in this process: the smoke mode's way (synthgen's models only, which start no process
    pools), without a fresh interpreter and torch import per job. Its ``peak_host_mib`` is this
    process's peak so far, not the job's. Torch's thread count and the warning filters are restored."""
    import torch

    threads = torch.get_num_threads()
    try:
        with warnings.catch_warnings():
            return run_job(job)
    finally:
        torch.set_num_threads(threads)


def run_isolated(job: dict[str, Any]) -> dict[str, Any]:
    """`run_job` in a fresh interpreter (a plain child process: peers start process pools of their own,
    which hang at shutdown inside a multiprocessing worker)."""
    with tempfile.TemporaryDirectory(prefix="synthgen-bench-") as tmp:
        result = Path(tmp) / "run.json"
        command = [sys.executable, "-m", "evaluation.run", "--child", json.dumps(job), str(result)]
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": _pythonpath()},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        if done.returncode != 0 or not result.exists():
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            sys.stderr.write("\n".join(lines[-20:]) + "\n")
            last = lines[-1].strip() if lines else "no message"
            raise RuntimeError(
                f"{job['model']} on {job['dataset']} (seed {job['seed']}) failed with exit code "
                f"{done.returncode}: {last}"
            )
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
                jobs.append(
                    {
                        **base,
                        "dataset": dataset.name,
                        "recipe": dataset.recipe,
                        "model": model,
                        "seed": seed,
                        "epochs": epochs,
                        "seconds": None,
                        "rung": None,
                    }
                )
    ladder = QUICK_LADDER if args.quick else {"epochs": args.ladder_epochs, "seconds": args.ladder_seconds}
    for dataset in args.ladder:
        for model in args.models:
            unit = BUDGET_UNIT[model]
            for rung, value in enumerate(ladder.get(unit, ()) if unit else ()):
                jobs.append(
                    {
                        **base,
                        "dataset": dataset.name,
                        "recipe": dataset.recipe,
                        "model": model,
                        "seed": 0,
                        "epochs": value if unit == "epochs" else None,
                        "seconds": value if unit == "seconds" else None,
                        "rung": rung,
                    }
                )
    return jobs


def _is_figure(key: str, value: Any) -> bool:
    return key not in NOT_FIGURES and isinstance(value, (int, float)) and not isinstance(value, bool)


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median and range over repeats of each (dataset, model) at the main budget."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        if run["rung"] is None:
            groups.setdefault((run["dataset"], run["model"]), []).append(run)
    out = []
    for (dataset, model), group in groups.items():
        line: dict[str, Any] = {
            "dataset": dataset,
            "model": model,
            "repeats": len(group),
            "gate_passed": sum(bool(r["gate_passed"]) for r in group),
        }
        figures = dict.fromkeys(TIMINGS)
        figures.update(dict.fromkeys(k for r in group for k, v in r.items() if _is_figure(k, v)))
        for figure in figures:
            values = [r[figure] for r in group if _is_figure(figure, r.get(figure))]
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
        points = [
            {
                "train_s": r["fit_s"],
                "total_s": r["fit_s"] + r["sample_s"],
                "shape": r["shape"],
                "trend": r["trend"],
                "detection_auc": r["detection_auc"],
                "tstr_auc": r["tstr_auc"],
            }
            for r in group
        ]
        out.append(
            {
                "dataset": dataset,
                "model": model,
                "level": QUALITY_LEVEL,
                "reached": best is not None,
                "seconds": best["fit_s"] + best["sample_s"] if best else None,
                "fit_s": best["fit_s"] if best else None,
                "sample_s": best["sample_s"] if best else None,
                "budget": ({"epochs": best["epochs"], "seconds": best["seconds"]} if best else None),
                "points": sorted(points, key=lambda p: p["train_s"]),
            }
        )
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
        out.append(
            {
                "dataset": dataset,
                "ours": "synthgen.ctgan",
                "theirs": "sdv.ctgan",
                "whole_fit": med(theirs, "fit_s") / med(ours, "fit_s"),
                "s_per_epoch": med(theirs, "s_per_epoch") / med(ours, "s_per_epoch"),
                "sampling": med(ours, "sample_rows_per_s") / med(theirs, "sample_rows_per_s"),
                "shape_diff": med(ours, "shape") - med(theirs, "shape"),
                "trend_diff": med(ours, "trend") - med(theirs, "trend"),
            }
        )
    return out


class _Parser(argparse.ArgumentParser):
    def fail(self, message: str) -> None:
        """One line, no usage: for a dataset that cannot be read (the recipe's or the data's own message)."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(
        prog="python -m evaluation.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets", default=None, help="comma-separated recipe files and/or shortcuts: " + ", ".join(SHORTCUTS)
    )
    parser.add_argument("--models", default=None, help="comma-separated, from: " + ", ".join(ALL_MODELS))
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs of every epoch-based model (default: each model's own, or the recipe's)",
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=1, help="runs per model and dataset, model seeds 0..k-1")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads in each run")
    parser.add_argument(
        "--ladder",
        default=None,
        help="datasets (of --datasets) for time to quality (default: credit_risk if run, "
        "none with --quick; '' for none)",
    )
    parser.add_argument("--ladder-epochs", default=",".join(map(str, LADDER["epochs"])))
    parser.add_argument("--ladder-seconds", default=",".join(map(str, LADDER["seconds"])))
    parser.add_argument(
        "--out", type=Path, default=None, help="results JSON (default: evaluation/results/bench_DEVICE.json)"
    )
    parser.add_argument(
        "--note",
        action="append",
        default=[],
        help="a remark kept with the results and shown in the report (repeatable)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke mode: german_credit, synthgen's models, tiny budgets"
    )
    parser.add_argument(
        "--isolated", action="store_true", help="with --quick: each job in a fresh interpreter all the same"
    )
    parser.add_argument(
        "--job",
        choices=sorted(JOBS),
        help="run a named job instead; it must come first, followed by the job's own options",
    )
    args = parser.parse_args(argv)
    if args.job:
        parser.error("--job must come first: python -m evaluation.run --job NAME [its options]")

    def names(text: str | None, default: tuple[str, ...], known: tuple[str, ...], what: str) -> list[str]:
        chosen = list(default) if text is None else [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in known]
        if unknown:
            parser.error(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(known)}")
        return chosen

    default_models = ("synthgen.ctgan", "synthgen.ddpm") if args.quick else ALL_MODELS
    args.models = names(args.models, default_models, ALL_MODELS, "model")
    given = (
        [n.strip() for n in args.datasets.split(",") if n.strip()]
        if args.datasets is not None
        else (["german_credit"] if args.quick else list(SHORTCUTS))
    )
    if not given or not args.models:
        parser.error("--datasets and --models need at least one name each")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    from evaluation.peers import missing_package

    missing = {m: p for m in args.models if (p := missing_package(m))}
    if missing:
        parser.error(
            "not installed: "
            + ", ".join(f"{m} needs {p}" for m, p in missing.items())
            + "; pip install 'synthgen[bench]' or leave them out of --models"
        )
    args.datasets = _datasets(parser, given)
    by_name = {d.name: d for d in args.datasets}
    by_given = {d.given: d for d in args.datasets}
    if args.ladder is None:
        args.ladder = [] if args.quick else [d for d in args.datasets if d.name == "credit_risk"]
    else:
        ladder = []
        for text in (n.strip() for n in args.ladder.split(",") if n.strip()):
            found = by_name.get(text) or by_given.get(text) or _same_recipe(text, args.datasets)
            if found is None:
                parser.error(f"unknown ladder dataset {text}: it must be in --datasets ({', '.join(by_name)})")
            ladder.append(found)
        args.ladder = list(dict.fromkeys(ladder))
    args.ladder_epochs = tuple(int(x) for x in args.ladder_epochs.split(",") if x)
    args.ladder_seconds = tuple(float(x) for x in args.ladder_seconds.split(",") if x)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda but torch sees no CUDA device")
    if args.out is None:
        args.out = ROOT / "evaluation" / "results" / f"bench_{'quick' if args.quick else args.device}.json"
    return args


def _datasets(parser: _Parser, given: list[str]) -> list[Dataset]:
    from synthgen.errors import SynthgenError

    datasets: list[Dataset] = []
    for text in given:
        try:
            dataset = resolve_dataset(text)
        except SynthgenError as exc:
            parser.fail(str(exc))
        clash = next((d for d in datasets if d.name == dataset.name), None)
        if clash is not None and clash.recipe == dataset.recipe:
            continue  # the same recipe twice (a shortcut and its path)
        if clash is not None:
            parser.fail(
                f"two datasets are named {dataset.name!r} ({clash.recipe} and {dataset.recipe}): "
                "results are keyed by the recipe's name, so give each recipe its own"
            )
        datasets.append(dataset)
    return datasets


def _same_recipe(text: str, datasets: list[Dataset]) -> Dataset | None:
    path = str(SHORTCUTS.get(text) or Path(text).expanduser().resolve())
    return next((d for d in datasets if d.recipe == path), None)


def _display(path: str) -> str:
    try:
        return Path(path).relative_to(ROOT).as_posix()
    except ValueError:
        return path


def settings(args: argparse.Namespace) -> dict[str, Any]:
    splits = {d.name: {"holdout": d.holdout, "seed": d.split_seed} for d in args.datasets}
    uniform = [dict(s) for s in {tuple(s.items()) for s in splits.values()}]
    return {
        "datasets": [d.name for d in args.datasets],
        "models": args.models,
        "epochs": args.epochs,
        "device": args.device,
        "repeats": args.repeats,
        "seeds": list(range(args.repeats)),
        "split": uniform[0] if len(uniform) == 1 else None,
        "splits": splits,
        "recipes": {d.name: _display(d.recipe) for d in args.datasets},
        "tables": {d.name: {k: v for k, v in asdict(d).items() if k in TABLE_FIELDS} for d in args.datasets},
        "threads": args.threads,
        "quick": args.quick,
        "quality_level": QUALITY_LEVEL,
        "ladder": {
            "datasets": [d.name for d in args.ladder],
            "epochs": list(args.ladder_epochs),
            "seconds": list(args.ladder_seconds),
        },
    }


def main(argv: list[str] | None = None) -> Any:
    from evaluation.results import command_line, header, write_results

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--job"]:
        return run_named_job(argv[1] if len(argv) > 1 else "", argv[2:])
    args = parse_args(argv)
    head = header(command_line("evaluation.run", argv), args.device)
    jobs = jobs_for(args)
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []

    def payload(complete: bool) -> dict[str, Any]:
        summary = summarise(runs)
        return {
            "benchmark": "evaluation.run",
            "complete": complete,
            "settings": settings(args),
            **({"notes": args.note} if args.note else {}),
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
            in_process = args.quick and not args.isolated and job["model"].startswith("synthgen.")
            run = run_in_process(job) if in_process else run_isolated(job)
        except RuntimeError as exc:  # one peer failing must not cost the rest of a long run
            failed.append({**job, "error": str(exc)})
            print(f"{label}: FAILED ({exc})", flush=True)
            continue
        runs.append(run)
        print(
            f"{label}: fit {run['fit_s']:.1f} s, sample {run['sample_s']:.2f} s, shape {run['shape']:.3f}, "
            f"trend {run['trend']:.3f}, detection {run['detection_auc']:.3f}, "
            f"gate {'pass' if run['gate_passed'] else 'FAIL'}",
            flush=True,
        )
        if i < len(jobs):
            write_results(args.out, payload(complete=False), head=head)  # what is done survives an interrupted run
    result = write_results(args.out, payload(complete=True), head=head)
    print(f"wrote {args.out}" + (f"; {len(failed)} run(s) failed" if failed else ""))
    return result


def run_named_job(name: str, argv: list[str]) -> Any:
    """``--job NAME ARGS``: the job module's ``main(ARGS)``."""
    if name not in JOBS:
        print(
            f"python -m evaluation.run: error: unknown job {name!r}; choose from {', '.join(sorted(JOBS))}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return importlib.import_module(JOBS[name]).main(argv)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # one run, in the child process `run_isolated` starts
        Path(sys.argv[3]).write_text(json.dumps(run_job(json.loads(sys.argv[2]))))
    else:
        outcome = main()
        sys.exit(outcome if isinstance(outcome, int) else 0)
