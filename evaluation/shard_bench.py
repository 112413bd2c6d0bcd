"""Sharded sampling's rows/s for 1, 2 and 4 local workers and 1 and 2 Ray actors, and whether the release is
the same bytes for all of them (issue 16).

    python -m evaluation.shard_bench [--recipe recipes/credit_risk_ddpm.yaml] [--steps 300] [--rows 200000]
        [--shards 8] [--workers 1 2 4] [--ray-actors 1 2] [--repeat 1] [--out evaluation/results/shard_bench.json]

One model is trained on the recipe's training split with a short budget (``--steps``: the speed of
sampling does not depend on how long the model trained), saved, and sampled into ``--shards`` Parquet
parts by each worker count in turn (`synthgen.shards.sample_shards`, the code behind `synthgen sample
--shards`), each a fresh pool that loads the model once per worker. Figures: wall seconds and rows/s of
the whole call (process start-up and model loading included), and the release's SHA-256, which must be
equal across worker counts. Every worker count gets the machine's cores shared out between its workers.

The Ray runs (``--ray-actors``, none to skip) are `synthgen sample --shards --ray local --workers K`: each
starts a local Ray instance on the machine's cores, draws the same shards on K Ray Data actors (each loads
the model once) and shuts the instance down, so their seconds include Ray's start-up (timed alone as
``ray_start_seconds``) and the parts' trip through the driver. ``ray_overhead`` sets each against the
process pool of the same size, from the fastest of ``--repeat`` rounds (each round runs every
configuration once, so a burst of other work hits all of them alike). Other work on the machine skews
all of this: the share of the CPUs busy while the benchmark itself is idle (2 s before it starts and
after each run, ``others_busy``) and the 1-minute load average around each run (``load``, which counts
the benchmark's own processes too) are recorded, and ``under_load`` is set when other work held more
than a quarter of the CPUs at any of those moments: such figures are not the machine's.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    parser.add_argument("--ray-actors", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
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
    others_busy = [_busy_share()]
    body: dict[str, Any] = {
        "recipe": args.recipe,
        "rows": args.rows,
        "shards": args.shards,
        "cores": available_cores(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        model_dir = synthgen.DDPM(config).fit(train, schema).save(Path(folder) / "model")
        if args.ray_actors:
            body["ray_start_seconds"] = _ray_start_seconds()
        runs = [("processes", workers) for workers in args.workers] + [("ray", actors) for actors in args.ray_actors]
        for round_, (engine, workers) in [(r, run) for r in range(args.repeat) for run in runs]:
            load = round(os.getloadavg()[0], 2)
            started = time.perf_counter()
            out = Path(folder) / f"{engine}{workers}-{round_}"
            manifest = sample_shards(
                model_dir,
                args.rows,
                args.shards,
                out,
                workers=workers,
                device=args.device,
                ray="local" if engine == "ray" else None,
            )
            seconds = time.perf_counter() - started
            body["runs"].append(
                {
                    "engine": engine,
                    "workers": workers,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(args.rows / seconds),
                    "release_sha256": manifest["release_sha256"],
                    "part_seconds": [p["seconds"] for p in manifest["parts"]],
                    "load": [load, round(os.getloadavg()[0], 2)],
                    **({"round": round_} if args.repeat > 1 else {}),
                }
            )
            body["bytes_per_row"] = round(sum(f.stat().st_size for f in out.glob("part-*")) / args.rows, 1)
            shutil.rmtree(out)
            others_busy.append(_busy_share())
            body["runs"][-1]["others_busy_after"] = others_busy[-1]
            print(body["runs"][-1], flush=True)
    body["same_release"] = len({r["release_sha256"] for r in body["runs"]}) == 1
    fastest: dict[tuple[str, int], float] = {}
    for r in body["runs"]:
        key = (r["engine"], r["workers"])
        fastest[key] = min(fastest.get(key, r["seconds"]), r["seconds"])
    body["ray_overhead"] = [
        {
            "workers": workers,
            "ray_seconds": seconds,
            "processes_seconds": fastest[("processes", workers)],
            "overhead_seconds": round(seconds - fastest[("processes", workers)], 2),
            "ratio": round(seconds / fastest[("processes", workers)], 3),
        }
        for (engine, workers), seconds in fastest.items()
        if engine == "ray" and ("processes", workers) in fastest
    ]
    body["others_busy"] = others_busy
    body["under_load"] = max(others_busy) > 0.25
    write_results(args.out, body, command=command_line("evaluation.shard_bench", argv), device=args.device)
    return body


def _busy_share(seconds: float = 2.0) -> float:
    """The share of all CPUs busy over ``seconds`` (``/proc/stat``): other work, when this process idles."""

    def ticks() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # all, idle + iowait

    (total0, idle0), _, (total1, idle1) = ticks(), time.sleep(seconds), ticks()
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 2)


def _ray_start_seconds() -> float:
    """Seconds to start and stop a bare local Ray instance on this machine's cores (no actors)."""
    import ray

    from synthgen.threads import available_cores

    started = time.perf_counter()
    ray.init(num_cpus=available_cores(), include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.shutdown()
    return round(time.perf_counter() - started, 2)


if __name__ == "__main__":
    main()
