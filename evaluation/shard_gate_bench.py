"""The release gate on a sharded release: its seconds and memory against the release's size (issue 16).

    python -m evaluation.shard_gate_bench [--recipe recipes/credit_risk_ddpm.yaml] [--steps 300]
        [--rows 100000 1000000] [--shards 20] [--out evaluation/results/shard_gate_bench.json]

One model is trained on the recipe's training split with a short budget (the gate's cost does not depend
on how well it learned), saved, and each ``--rows`` is released by `synthgen.sharded_release.generate_shards`
(the code behind `synthgen generate --shards`) into ``--shards`` parts in a fresh child process, which
reports its peak resident memory (VmHWM: interpreter, torch and the model included). Figures per size:
the seconds of drawing and of the gate, the gate's rows/s, the peak memory, and the verdict. The record
checks read every released row, part by part; the other checks judge a sample of the source's size, so
the gate's cost should grow with the rows for the record checks alone, and memory stay flat.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (python evaluation/...py): the evaluation package
    sys.path.insert(0, str(ROOT))

_CHILD = """
import json, sys
from synthgen.pipeline import apply_overrides
from synthgen.recipe import load_recipe
from synthgen.sharded_release import generate_shards
recipe_path, rows, shards, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
recipe = apply_overrides(load_recipe(recipe_path), device="cpu")
result = generate_shards(recipe, shards, rows=rows, out=out, progress=False, force_release=True)
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
print("RESULT " + json.dumps({
    "fit_s": round(result.fit_seconds, 2), "sample_s": round(result.sample_seconds, 2),
    "gate_s": round(result.evaluate_seconds, 2), "peak_mib": round(int(peak) / 1024),
    "released": result.released, "failing": result.manifest["gate"]["failing"],
    "sample_rows": result.manifest["gate"]["sample"]["rows"], "reused_model": result.reused_model,
}))
"""


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m evaluation.shard_gate_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="recipes/credit_risk_ddpm.yaml")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--shards", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "shard_gate_bench.json")
    args = parser.parse_args(argv)

    import yaml

    from evaluation.results import command_line, write_results
    from synthgen.threads import available_cores

    body: dict[str, Any] = {"recipe": args.recipe, "shards": args.shards, "cores": available_cores(), "runs": []}
    with tempfile.TemporaryDirectory() as folder:
        # The recipe with a short training budget and its model in the temporary folder; trained by the first
        # run, reused by the others (the fingerprint matches).
        text = yaml.safe_load((ROOT / args.recipe).read_text())
        text["generator"].update({"steps": args.steps, "max_epochs": None, "max_minutes": None})
        text["model_dir"] = str(Path(folder) / "model")
        source = text["source"]
        if isinstance(source, str):  # a path relative to the recipe's folder
            text["source"] = str((ROOT / args.recipe).parent / source)
        elif isinstance(source, dict) and "path" in source:
            source["path"] = str((ROOT / args.recipe).parent / source["path"])
        recipe = Path(folder) / "recipe.yaml"
        recipe.write_text(yaml.safe_dump(text))
        for rows in args.rows:
            out = Path(folder) / f"release_{rows}"
            child = subprocess.run(
                [sys.executable, "-c", _CHILD, str(recipe), str(rows), str(args.shards), str(out)],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            line = next((x for x in child.stdout.splitlines() if x.startswith("RESULT ")), None)
            if child.returncode != 0 or line is None:
                raise SystemExit(f"the {rows:,}-row release failed:\n{child.stderr[-3000:]}")
            run = {"rows": rows, **json.loads(line[len("RESULT ") :])}
            run["gate_rows_per_s"] = round(rows / max(run["gate_s"], 1e-9))
            body["runs"].append(run)
            print(run, flush=True)
    write_results(args.out, body, command=command_line("evaluation.shard_gate_bench", argv), device="cpu")
    return body


if __name__ == "__main__":
    main()
