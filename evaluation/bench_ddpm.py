"""synthgen's diffusion generator (DDPM) at growing training budgets, judged by synthgen's own evaluation.

    python -m evaluation.bench_ddpm [--threads 2] [--device cpu] [--out evaluation/results/ddpm_cpu.json]
                                    [--budgets 5,30,60,150,240] [--datasets credit_risk,german_credit]

For each dataset (80/20 split, seed 0, schema from its recipe) the model is trained with a
wall-clock budget (``max_minutes``; the learning-rate decay follows it) for each budget, and once at
the config's default budget (``steps``). Each model samples as many rows as the training split
(seed 1); `synthgen.evaluate.evaluate` scores them against real train and holdout. Reported: shape,
trend, detection AUC, TSTR ROC AUC (XGBoost; the other learners too), DCR share, the strongest
membership attack's AUC (point and upper bound), exact copies against the holdout baseline, the
gate, training seconds and steps, sampling rows/s. The default-budget model of each dataset is also
sampled at several numbers of respaced steps (the speed / quality trade-off). The load average is
recorded next to every timing: on a shared machine timings drift with it.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import torch

import synthgen
from synthgen.evaluate import EvaluateSettings, evaluate
from synthgen.pipeline import load_source, resolve_schema

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {"credit_risk": ROOT / "recipes" / "credit_risk.yaml", "german_credit": ROOT / "recipes" / "german_credit.yaml"}


def load_avg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def score(train, holdout, synthetic, schema) -> dict:
    report = evaluate(train, holdout, synthetic, schema, EvaluateSettings())
    tstr = {m.model: m.tstr.get("roc_auc") for m in report.utility.models}
    trtr = {m.model: m.trtr.get("roc_auc") for m in report.utility.models}
    strongest = max(report.privacy.attacks, key=lambda a: a.auc)
    return {
        "shape": report.fidelity.shape,
        "trend": report.fidelity.trend,
        "detection_auc": report.fidelity.detection_auc,
        "tstr_roc_auc": tstr.get("xgboost"),
        "tstr_roc_auc_all": tstr,
        "trtr_roc_auc_all": trtr,
        "tstr_ratio": report.utility.tstr_ratio,
        "dcr_share": report.privacy.dcr_share,
        "mia_auc": strongest.auc,
        "mia_attack": strongest.name,
        "mia_auc_upper": report.privacy.max_auc_upper,
        "exact_copy_rate": report.privacy.exact_copy_rate,
        "holdout_copy_rate": report.privacy.holdout_copy_rate,
        "gate_passed": report.gate.passed,
        "gate_failing": list(report.gate.failing),
    }


def run_one(train, holdout, schema, device: str, budget_s: float | None, steps_list=(None,), profile: str = "cpu") -> list[dict]:
    params = {"device": device, "seed": 0, "profile": profile}
    if budget_s is not None:
        params.update(max_minutes=budget_s / 60.0, steps=10**9, max_epochs=None)
    model = synthgen.DDPM(**params)
    load_fit = load_avg()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    model.fit(train, schema)
    fit_s = time.perf_counter() - start
    rows = []
    for steps in steps_list:
        load_sample = load_avg()
        start = time.perf_counter()
        synthetic = model.sample(len(train), seed=1, sampling_steps=steps)
        sample_s = time.perf_counter() - start
        row = {
            "budget_s": budget_s,
            "budget": f"{budget_s:g} s" if budget_s is not None else f"default ({model.config.steps} steps)",
            "train_s": round(model.train_seconds_, 2),
            "fit_s": round(fit_s, 2),
            "train_steps": model.steps_done_,
            "steps_per_s": round(model.steps_done_ / max(model.train_seconds_, 1e-9), 1),
            "load_avg_fit": load_fit,
            "sampling_steps": steps or model.config.sampling_steps,
            "sample_rows": len(train),
            "sample_s": round(sample_s, 2),
            "sample_rows_per_s": round(len(train) / sample_s),
            "load_avg_sample": load_sample,
            "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20) if device == "cuda" else None,
        }
        row.update(score(train, holdout, synthetic, schema))
        rows.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                          if k not in ("tstr_roc_auc_all", "trtr_roc_auc_all")}), flush=True)
    return rows


def table(rows: list[dict]) -> str:
    head = "| data | budget | steps | train s | sampling steps | rows/s | shape | trend | detection | TSTR | DCR share | MIA AUC | copies (holdout) | gate | load |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['budget']} | {r['train_steps']} | {r['train_s']:.0f} | {r['sampling_steps']} | {r['sample_rows_per_s']} "
            f"| {r['shape']:.3f} | {r['trend']:.3f} | {r['detection_auc']:.3f} | {r['tstr_roc_auc']:.3f} | {r['dcr_share']:.3f} "
            f"| {r['mia_auc']:.3f} | {r['exact_copy_rate']:.4f} ({r['holdout_copy_rate']:.4f}) | {'pass' if r['gate_passed'] else 'FAIL'} "
            f"| {r['load_avg_fit'][0]:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--profile", default="cpu", choices=["cpu", "gpu"], help="the model's preset (gpu: wider, larger batches)")
    parser.add_argument("--budgets", default="5,30,60,150,240", help="training budgets in seconds, comma-separated")
    parser.add_argument("--small-budgets", default="5,30", help="budgets for german_credit (800 rows: longer only memorises)")
    parser.add_argument("--sampling-steps", default="10,25,50,100", help="respaced steps for the trade-off")
    parser.add_argument("--datasets", default="credit_risk,german_credit")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "ddpm_cpu.json")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    budgets = [float(b) for b in args.budgets.split(",") if b]
    trade_off = [int(s) for s in args.sampling_steps.split(",") if s]

    results = []
    for name in args.datasets.split(","):
        recipe = synthgen.load_recipe(RECIPES[name])
        data = load_source(recipe)
        schema = resolve_schema(recipe, data)
        train, holdout = synthgen.split_holdout(data, 0.2, 0, schema)
        print(f"== {name}: {len(train)} train rows, {len(holdout)} holdout rows", flush=True)
        for budget in budgets if len(train) > 5000 else [float(b) for b in args.small_budgets.split(",") if b]:
            results += [{"data": name, **row} for row in run_one(train, holdout, schema, args.device, budget, profile=args.profile)]
        results += [{"data": name, "trade_off": True, **row}
                    for row in run_one(train, holdout, schema, args.device, None, [None, *trade_off], profile=args.profile)]

    payload = {
        "benchmark": "bench_ddpm",
        "synthgen": synthgen.__version__,
        "torch": torch.__version__,
        "device": args.device,
        "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
        "profile": args.profile,
        "threads": args.threads,
        "machine": platform.platform(),
        "cpu_count": __import__("os").cpu_count(),
        "config_defaults": synthgen.DDPMConfig().model_dump(mode="json"),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print(table(results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
