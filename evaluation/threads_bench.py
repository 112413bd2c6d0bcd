"""Training throughput on a shared CPU: steps/s of both generators alone and beside other CPU-bound
processes, with torch's thread defaults (before) and with synthgen's thread policy (after), issue 14.

    python -m evaluation.threads_bench [--recipe recipes/credit_risk_ddpm.yaml] [--seconds 20]
        [--competitors 0 1 2] [--out evaluation/results/threads_bench.json]
    (or: python -m evaluation.run --job threads ...)

Each measurement runs in a fresh interpreter, because OpenMP reads its wait policy once, when torch's
library loads. The policies (``--policies``, `POLICIES`):

- ``torch defaults``: torch imported before synthgen, its default intra-op threads (one per core) and
  the OpenMP runtime's default wait policy: what every release before this policy did;
- ``synthgen``: synthgen imported first (`synthgen.threads`: passive OpenMP waits) and the threads
  `synthgen.threads.use_threads` chooses;
- alternatives it was chosen against: ``passive waits`` (the same, set by hand), ``short spins``
  (libgomp's ``GOMP_SPINCOUNT=20000``: spin briefly, then sleep) and ``one thread``.

Competitors are plain busy loops (``python -c 'while True: pass'``), one core's worth each. A generator
is trained on the recipe's training split for ``--seconds`` (its time budget), and steps/s is counted
from the training loop's per-step hook after the first 10 % of the budget (warm-up excluded; CTGAN's
discriminator and generator updates count as separate steps). Beside ``k``
competitors every process's fair share is ``1 / (k + 1)`` of the machine (``fair_ratio``: a fit that
used every core when alone should keep at least that share of its quiet steps/s); ``ratio_to_quiet``
is what was measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POLICIES: dict[str, dict[str, Any]] = {
    "torch defaults": {"torch_first": True},  # what every release before the thread policy did
    "synthgen": {},  # synthgen imported first: `synthgen.threads` decides
    "passive waits": {"torch_first": True, "env": {"OMP_WAIT_POLICY": "PASSIVE"}},
    "short spins": {"torch_first": True, "env": {"GOMP_SPINCOUNT": "20000"}},
    "one thread": {"torch_first": True, "threads": 1},
}
BUSY = "while True: pass"


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One timed fit in this (fresh) process."""
    policy = POLICIES[spec["policy"]]
    os.environ.update(policy.get("env", {}))
    if policy.get("torch_first"):
        import torch  # before synthgen: the OpenMP runtime starts with the environment given here

        torch.set_num_threads(policy.get("threads") or torch.get_num_threads())
        threads = torch.get_num_threads()
    import synthgen
    from synthgen.models.configs import generator_type
    from synthgen.pipeline import prepare_data

    if not policy.get("torch_first"):
        from synthgen.threads import use_threads

        threads = use_threads()
    recipe = synthgen.load_recipe(spec["recipe"])
    train, _, schema = prepare_data(recipe)
    kind = generator_type(spec["generator"]).config
    budget = (  # a time budget where the generator takes one, else about as many epochs
        {"max_minutes": spec["seconds"] / 60} if "max_minutes" in kind.model_fields else {"epochs": spec["epochs"]}
    )
    config = kind(device="cpu", seed=0, **budget)
    stamps: list[float] = []  # one per training step (each call of a network update)

    model = generator_type(spec["generator"]).load()(config)
    model.fit(train, schema, step_hook=lambda step: stamps.append(time.perf_counter()))
    start = stamps[0] + 0.1 * (stamps[-1] - stamps[0])
    kept = [s for s in stamps if s >= start]
    steps = len(kept) - 1
    return {"threads": threads, "steps": steps, "steps_per_s": steps / (kept[-1] - kept[0])}


def measure(spec: dict[str, Any], competitors: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "SYNTHGEN_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(competitors)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            command = [sys.executable, "-m", "evaluation.threads_bench", "--child", json.dumps(spec), str(out)]
            subprocess.run(command, cwd=ROOT, env=env, check=True)
            return json.loads(out.read_text())
    finally:
        for process in busy:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from evaluation.results import command_line, write_results

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        result = child(json.loads(argv[1]))
        Path(argv[2]).write_text(json.dumps(result))
        return result
    parser = argparse.ArgumentParser(prog="python -m evaluation.threads_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", type=Path, default=ROOT / "recipes" / "credit_risk_ddpm.yaml")
    parser.add_argument("--generators", nargs="+", default=["ddpm", "ctgan"])
    parser.add_argument("--seconds", type=float, default=20.0, help="Training budget per measurement.")
    parser.add_argument("--epochs", type=int, default=6, help="CTGAN's budget (it takes no time budget).")
    parser.add_argument("--competitors", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=list(POLICIES))
    parser.add_argument("--out", default=str(ROOT / "evaluation" / "results" / "threads_bench.json"))
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    runs = []
    quiet: dict[tuple[str, str], float] = {}
    for generator in args.generators:
        for competitors in sorted(args.competitors):  # every policy at one load in a row: a slow spell hits all
            for policy in args.policies:
                spec = {
                    "policy": policy,
                    "generator": generator,
                    "recipe": str(args.recipe),
                    "seconds": args.seconds,
                    "epochs": args.epochs,
                }
                try:
                    result = measure(spec, competitors)
                except subprocess.CalledProcessError as exc:  # one failed measurement must not cost the rest
                    failed = {"generator": generator, "policy": policy, "competitors": competitors}
                    runs.append({**failed, "error": str(exc)})
                    print(runs[-1], flush=True)
                    continue
                if competitors == 0:
                    quiet[generator, policy] = result["steps_per_s"]
                row = {"generator": generator, "policy": policy, "competitors": competitors, **result}
                if (generator, policy) in quiet:
                    row["ratio_to_quiet"] = round(result["steps_per_s"] / quiet[generator, policy], 3)
                    row["fair_ratio"] = round(1 / (competitors + 1), 3)
                row["steps_per_s"] = round(row["steps_per_s"], 2)
                runs.append(row)
                print(row, flush=True)
    body = {"recipe": str(args.recipe.relative_to(ROOT)), "seconds": args.seconds, "cores": cores, "runs": runs}
    write_results(args.out, body, command=command_line("evaluation.threads_bench", argv))
    return body


if __name__ == "__main__":
    main()
