"""Sharded sampling's rows/s for 1, 2 and 4 local workers, and whether the release is the same bytes (issue 16).

    python -m evaluation.shard_bench [--recipe recipes/credit_risk_ddpm.yaml] [--steps 300] [--rows 200000]
        [--shards 8] [--workers 1 2 4] [--out evaluation/results/shard_bench.json]

One model is trained on the recipe's training split with a short budget (``--steps``: the speed of
sampling does not depend on how long the model trained), saved, and sampled into ``--shards`` Parquet
parts by each worker count in turn (`synthgen.shards.sample_shards`, the code behind `synthgen sample
--shards`), each a fresh pool that loads the model once per worker. Figures: wall seconds and rows/s of
the whole call (process start-up and model loading included), and the release's SHA-256, which must be
equal across worker counts. Every worker count gets the machine's cores shared out between its workers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m evaluation.shard_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="recipes/credit_risk_ddpm.yaml")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "shard_bench.json")
    args = parser.parse_args(argv)

    import synthgen
    from evaluation.results import command_line, write_results
    from synthgen.pipeline import apply_overrides, prepare_data
    from synthgen.recipe import load_recipe
    from synthgen.shards import sample_shards
    from synthgen.threads import available_cores

    loaded = apply_overrides(load_recipe(ROOT / args.recipe), device=args.device)
    train, _, schema = prepare_data(loaded)
    config = loaded.generator.model_copy(update={"steps": args.steps, "max_epochs": None, "max_minutes": None})
    body: dict[str, Any] = {
        "recipe": args.recipe,
        "rows": args.rows,
        "shards": args.shards,
        "cores": available_cores(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        model_dir = synthgen.DDPM(config).fit(train, schema).save(Path(folder) / "model")
        for workers in args.workers:
            started = time.perf_counter()
            manifest = sample_shards(
                model_dir, args.rows, args.shards, Path(folder) / f"w{workers}", workers=workers, device=args.device
            )
            seconds = time.perf_counter() - started
            body["runs"].append(
                {
                    "workers": workers,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(args.rows / seconds),
                    "release_sha256": manifest["release_sha256"],
                    "part_seconds": [p["seconds"] for p in manifest["parts"]],
                }
            )
            print(body["runs"][-1], flush=True)
    body["same_release"] = len({r["release_sha256"] for r in body["runs"]}) == 1
    write_results(args.out, body, command=command_line("evaluation.shard_bench", argv), device=args.device)
    return body


if __name__ == "__main__":
    main()
