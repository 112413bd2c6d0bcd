"""Memory and time of the diffusion model on a categorical column of 20,000 levels (issue 16).

    python -m evaluation.high_cardinality [--rows 30000] [--levels 20000] [--steps 30] [--sample 20000]
        [--baseline DIR] [--out evaluation/results/high_cardinality.json]

The table is built here, seeded: ``--rows`` loans, a ``merchant`` code of ``--levels`` levels (every
level once, the rest drawn with Zipf-like weights 1 / rank^0.6, so most levels hold one or two rows), a
log-normal amount, a normal rate, a two-level term and a status target (15 % default). Each measurement
is a fresh process that fits the diffusion model for ``--steps`` steps on the CPU and samples
``--sample`` rows; its peak resident memory is read after the fit and after sampling (``ru_maxrss``).
``--baseline DIR`` runs another checkout (``git worktree add DIR COMMIT``) the same way, for a before and
after in one run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def table(rows: int, levels: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, levels + 1) ** 0.6
    codes = rng.choice(levels, rows, p=weights / weights.sum())
    codes[: min(levels, rows)] = np.arange(min(levels, rows))  # every level seen at least once
    rng.shuffle(codes)
    return pd.DataFrame(
        {
            "merchant": [f"M{c:05d}" for c in codes],
            "amount": rng.lognormal(8, 1, rows).round(2),
            "rate": rng.normal(12, 3, rows).round(2),
            "term": rng.choice(["36 months", "60 months"], rows),
            "status": rng.choice(["paid", "default"], rows, p=[0.85, 0.15]),
        }
    )


def child(rows: int, levels: int, steps: int, sample: int) -> dict[str, Any]:
    import resource
    import time

    import torch

    import synthgen
    from synthgen.schema import infer_schema

    torch.set_num_threads(2)
    frame = table(rows, levels)
    schema = infer_schema(frame, target="status")
    started = time.perf_counter()
    model = synthgen.DDPM(steps=steps, max_epochs=None, device="cpu", seed=0).fit(frame, schema)
    fit_s = time.perf_counter() - started
    fit_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    out = model.sample(sample, seed=1)
    sample_s = time.perf_counter() - started
    return {
        "source": str(Path(synthgen.__file__).parents[1]),
        "fit_s": round(fit_s, 1),
        "s_per_step": round(model.train_seconds_ / model.steps_done_, 3),
        "peak_mib_after_fit": round(fit_peak),
        "sample_s": round(sample_s, 1),
        "sample_rows_per_s": round(sample / sample_s),
        "peak_mib_after_sampling": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "levels_sampled": int(out["merchant"].nunique()),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m evaluation.high_cardinality", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--levels", type=int, default=20_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--baseline", type=Path, help="Another checkout, measured the same way.")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "high_cardinality.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = (args.rows, args.levels, args.steps, args.sample)
    if args.child:
        print(json.dumps(child(*sizes)))
        return {}
    from evaluation.results import command_line, run_checkout, write_results

    sources = {"current": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    body: dict[str, Any] = {"rows": args.rows, "levels": args.levels, "steps": args.steps, "sample": args.sample}
    child_args = ["--child", "--rows", args.rows, "--levels", args.levels, "--steps", args.steps]
    child_args += ["--sample", args.sample]
    for name, source in sources.items():
        body[name] = run_checkout(__file__, source, child_args)
        print(name, body[name], flush=True)
    write_results(args.out, body, command=command_line("evaluation.high_cardinality", argv))
    return body


if __name__ == "__main__":
    main()
