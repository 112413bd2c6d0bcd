"""synthgen's diffusion model and CTGAN against SDV's CTGAN and MOSTLY AI's engine, scored by one judge.

    python -m evaluation.compare_generators [--datasets credit_risk,german_credit] [--ctgan-epochs 100]
        [--threads 2] [--out evaluation/results/compare_cpu.json]

Every model sees the same split (the recipe's: 80/20, seed 0), samples as many rows as the training
split, and is scored by `synthgen.evaluate` with default settings and gates. synthgen's models use
their recipe's model block (`recipes/credit_risk_ddpm.yaml`, `recipes/german_credit.yaml`); both CTGANs
run the same epochs, batch 500 and pac 10; MOSTLY AI's engine (TabularARGN) runs its defaults with
early stopping. Needs `pip install sdv mostlyai-engine` (then uninstall the torchvision/torchaudio
it pulls in, which break its import beside a CPU build of torch).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

from synthgen import CTGAN, GENERATORS, __version__, evaluate, load_recipe
from synthgen.pipeline import prepare_data

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {"credit_risk": "credit_risk_ddpm.yaml", "german_credit": "german_credit.yaml"}


def fit_synthgen_ddpm(recipe, train, schema, args):
    model = GENERATORS[recipe.model.type](recipe.model.model_copy(update={"device": "cpu"}))
    return model.fit(train, schema), lambda n: model.sample(n, seed=1)


def fit_synthgen_ctgan(recipe, train, schema, args):
    model = CTGAN(epochs=args.ctgan_epochs, batch_size=500, pac=10, device="cpu", seed=0).fit(train, schema)
    return model, lambda n: model.sample(n, seed=1)


def fit_sdv_ctgan(recipe, train, schema, args):
    from ctgan import CTGAN as SDVCTGAN

    torch.manual_seed(0)
    model = SDVCTGAN(epochs=args.ctgan_epochs, batch_size=500, pac=10, cuda=False, verbose=False)
    model.fit(train, discrete_columns=[c.name for c in schema.modelled if c.kind.is_discrete])
    return model, lambda n: model.sample(n)


def fit_mostly(recipe, train, schema, args):
    from mostlyai import engine

    workspace = Path(tempfile.mkdtemp(prefix="mostly-"))
    engine.set_random_state(0)
    engine.split(tgt_data=train, workspace_dir=workspace, model_type="TABULAR")
    engine.analyze(workspace_dir=workspace)
    engine.encode(workspace_dir=workspace)
    engine.train(workspace_dir=workspace, device="cpu")

    def sample(n: int) -> pd.DataFrame:
        engine.generate(workspace_dir=workspace, sample_size=n, device="cpu")
        frame = pd.concat(pd.read_parquet(p) for p in sorted((workspace / "SyntheticData").glob("*.parquet")))
        return frame[list(train.columns)].reset_index(drop=True)

    return None, sample


MODELS = {
    "synthgen.ddpm": fit_synthgen_ddpm,
    "synthgen.ctgan": fit_synthgen_ctgan,
    "sdv.ctgan": fit_sdv_ctgan,
    "mostly.argn": fit_mostly,
}


def run_one(name, dataset, args) -> dict:
    recipe = load_recipe(ROOT / "recipes" / RECIPES[dataset])
    train, holdout, schema = prepare_data(recipe)
    start = time.perf_counter()
    _, sample = MODELS[name](recipe, train, schema, args)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = sample(len(train))
    sample_s = time.perf_counter() - start
    report = evaluate(train, holdout, synthetic, schema)
    xgb = next((m for m in report.utility.models if m.model == "xgboost"), None)
    row = {
        "dataset": dataset,
        "model": name,
        "fit_s": round(fit_s, 1),
        "sample_s": round(sample_s, 2),
        "sample_rows_per_s": round(len(synthetic) / sample_s),
        **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in report.summary().items()},
        "tstr_xgboost_auc": xgb.tstr.get("roc_auc") if xgb else None,
        "trtr_xgboost_auc": xgb.trtr.get("roc_auc") if xgb else None,
        "gate_passed": report.passed,
        "failing": report.gate.failing,
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="credit_risk,german_credit")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--ctgan-epochs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "compare_cpu.json")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    rows = [run_one(m, d, args) for d in args.datasets.split(",") for m in args.models.split(",")]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "benchmark": "compare_generators",
                "ctgan_epochs": args.ctgan_epochs,
                "threads": args.threads,
                "machine": {"platform": platform.platform(), "cpu_count": torch.get_num_threads()},
                "versions": {"synthgen": __version__, "torch": torch.__version__},
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print("| dataset | model | fit s | sample s | shape | trend | detection | TSTR AUC (real) | DCR | MIA AUC ub | gate |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['dataset']} | {r['model']} | {r['fit_s']} | {r['sample_s']} | {r['shape']:.3f} | {r['trend']:.3f} | "
            f"{r['detection_auc']:.3f} | {r['tstr_xgboost_auc']:.3f} ({r['trtr_xgboost_auc']:.3f}) | {r['dcr_share']:.3f} | "
            f"{r['mia_auc_upper']:.3f} | {'pass' if r['gate_passed'] else 'fail: ' + ','.join(r['failing'])} |"
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
