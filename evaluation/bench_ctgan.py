"""synthgen's CTGAN against SDV's (`ctgan` package) on credit_risk, in one process, same settings.

    python -m evaluation.bench_ctgan [--epochs 30] [--device cpu|cuda] [--out evaluation/results/ctgan_vs_sdv_cpu.json]
    (or: python -m evaluation.run --job ctgan-vs-sdv [the same options])

What `evaluation.run` cannot measure, since it fits each model in its own process and times whole
fits: the transformers apart from training, and steady per-epoch and sampling times (the first epoch
and sampling call, with their kernel loading and graph capture, left out), both models in one warm
process. `python -m evaluation.report` renders its files as their own table.

Both see the same 80/20 split (seed 0), batch (500 unless --batch-size), pac 10 and epochs. Reported per implementation:
transformer fit and transform seconds, seconds per epoch (fit time minus the transformer, over
epochs), sampling rows/s for as many rows as the training split, and sdmetrics' QualityReport
column-shape and pair-trend scores on real train vs synthetic. Speed is quoted as SDV / synthgen
ratios from this same run, since absolute times on shared machines drift. Needs `pip install sdv`.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from evaluation.results import command_line, write_results
from synthgen import CTGAN, infer_schema, split_holdout
from synthgen.transforms import TableTransformer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "recipes" / "data" / "credit_risk.csv"


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, schema) -> dict[str, float]:
    from sdmetrics.reports.single_table import QualityReport

    metadata = {
        "columns": {c.name: {"sdtype": "categorical" if c.kind.is_discrete else "numerical"} for c in schema.modelled}
    }
    report = QualityReport()
    report.generate(real, synthetic, metadata, verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    return {
        "shape": float(scores["Column Shapes"]),
        "trend": float(scores["Column Pair Trends"]),
        "quality": float(report.get_score()),
    }


def timed_samples(sample, rows: int, device: str) -> tuple[dict[str, float], pd.DataFrame]:
    """Seconds to sample ``rows`` the first time (kernels load, shapes are new) and again (steady)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        synthetic = sample(rows)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {
        "sample_s": times[0],
        "sample_rows_per_s": rows / times[0],
        "sample_s_steady": times[1],
        "sample_rows_per_s_steady": rows / times[1],
    }, synthetic


def bench_synthgen(
    train, schema, epochs: int, device: str, batch_size: int, cuda_graphs: bool = True
) -> tuple[dict, pd.DataFrame]:
    start = time.perf_counter()
    transformer = TableTransformer().fit(train, schema)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    transformer.transform(train)
    transform_s = time.perf_counter() - start
    stamps: list[float] = []
    model = CTGAN(epochs=epochs, batch_size=batch_size, pac=10, device=device, seed=0, cuda_graphs=cuda_graphs)
    start = time.perf_counter()
    model.fit(train, schema, progress=lambda *_: stamps.append(time.perf_counter()))
    total = time.perf_counter() - start
    sampling, synthetic = timed_samples(lambda n: model.sample(n, seed=1), len(train), device)
    return {
        "cuda_graph": model.cuda_graph_,
        "transformer_fit_s": fit_s,
        "transform_s": transform_s,
        "fit_total_s": total,
        "s_per_epoch": (total - fit_s - transform_s) / epochs,
        "s_per_epoch_steady": float(np.median(np.diff(stamps))) if len(stamps) > 2 else None,
        **sampling,
    }, synthetic


def bench_sdv(train, schema, epochs: int, device: str, batch_size: int) -> tuple[dict, pd.DataFrame]:
    from ctgan import CTGAN as SDVCTGAN
    from ctgan.data_transformer import DataTransformer

    discrete = [c.name for c in schema.modelled if c.kind.is_discrete]
    start = time.perf_counter()
    transformer = DataTransformer()
    transformer.fit(train, discrete)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    transformer.transform(train)
    transform_s = time.perf_counter() - start
    torch.manual_seed(0)
    np.random.seed(0)
    import ctgan.synthesizers.ctgan as sdv_module

    model = SDVCTGAN(epochs=epochs, batch_size=batch_size, pac=10, cuda=device == "cuda", verbose=False)
    # Its epoch loop iterates tqdm(range(epochs)): a stand-in stamps the start of every epoch (each
    # epoch ends in a host sync on its losses, as ours does in the progress callback).
    stamps: list[float] = []

    def stamped(iterable, **_):
        for item in iterable:
            stamps.append(time.perf_counter())
            yield item
        stamps.append(time.perf_counter())

    real_tqdm, sdv_module.tqdm = sdv_module.tqdm, stamped
    try:
        start = time.perf_counter()
        model.fit(train, discrete_columns=discrete)
        total = time.perf_counter() - start
    finally:
        sdv_module.tqdm = real_tqdm
    sampling, synthetic = timed_samples(model.sample, len(train), device)
    return {
        "transformer_fit_s": fit_s,
        "transform_s": transform_s,
        "fit_total_s": total,
        "s_per_epoch": (total - fit_s - transform_s) / epochs,
        "s_per_epoch_steady": float(np.median(np.diff(stamps[1:]))) if len(stamps) > 3 else None,
        **sampling,
    }, synthetic


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.bench_ctgan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch-size", type=int, default=500, help="rows per step, a multiple of pac (10)")
    parser.add_argument("--no-cuda-graphs", action="store_true", help="train ours without CUDA graphs (eager steps)")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "ctgan_vs_sdv_cpu.json")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    data = pd.read_csv(DATA)
    schema = infer_schema(data, target="loan_status")
    train, _ = split_holdout(data, 0.2, 0, schema)
    results = {}
    if args.device == "cuda":  # process start-up (CUDA, cuBLAS, cuDNN) before either is timed
        (torch.ones(64, 64, device="cuda") @ torch.ones(64, 64, device="cuda")).sum().item()
        torch.nn.BatchNorm1d(8).cuda()(torch.ones(4, 8, device="cuda")).sum().item()
    # SDV builds torch.optim optimisers, whose first build in a process imports torch._dynamo (1-4 s);
    # synthgen does not. Paid here, before either is timed, so per-epoch figures compare training alone.
    torch.optim.Adam([torch.nn.Parameter(torch.ones(1))])
    runs = (
        ("synthgen", lambda *a: bench_synthgen(*a, cuda_graphs=not args.no_cuda_graphs)),
        ("sdv", bench_sdv),
    )
    for name, bench in runs:
        if args.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        figures, synthetic = bench(train, schema, args.epochs, args.device, args.batch_size)
        if args.device == "cuda":
            figures["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
        figures.update(quality(train[synthetic.columns], synthetic, schema))
        results[name] = figures
        print(name, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))
    ours, theirs = results["synthgen"], results["sdv"]
    ratios = {
        "transformer_fit_plus_transform": (theirs["transformer_fit_s"] + theirs["transform_s"])
        / (ours["transformer_fit_s"] + ours["transform_s"]),
        "transformer_fit": theirs["transformer_fit_s"] / ours["transformer_fit_s"],
        "transform": theirs["transform_s"] / ours["transform_s"],
        "s_per_epoch": theirs["s_per_epoch"] / ours["s_per_epoch"],
        "s_per_epoch_steady": theirs["s_per_epoch_steady"] / ours["s_per_epoch_steady"]
        if ours["s_per_epoch_steady"] and theirs["s_per_epoch_steady"]
        else None,
        "whole_fit": theirs["fit_total_s"] / ours["fit_total_s"],
        "sampling_rows_per_s": ours["sample_rows_per_s"] / theirs["sample_rows_per_s"],
        "sampling_rows_per_s_steady": ours["sample_rows_per_s_steady"] / theirs["sample_rows_per_s_steady"],
    }
    rounded = {k: None if v is None else round(v, 2) for k, v in ratios.items()}
    print("speed-ups (SDV time / synthgen time):", json.dumps(rounded))
    body = {
        "benchmark": "ctgan_vs_sdv",
        "dataset": "credit_risk",
        "train_rows": len(train),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "pac": 10,
        "device": args.device,
        "results": results,
        "speedups": ratios,
    }
    write_results(args.out, body, command=command_line("evaluation.bench_ctgan", argv), device=args.device)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
