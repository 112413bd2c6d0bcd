"""Training memory of each generator against the encoded width (issue 10: a 20,000-level category).

A table of one high-cardinality category plus two ordinary columns is fitted, each case in a fresh
process that reports its peak resident memory (VmHWM) above the import baseline. The figures are
what `Generator.memory_per_cell` and `memory_per_column` are set from, and the check before training
(`synthgen.datacheck.check_learnable`) refuses a table whose estimate exceeds half the memory.

    python -m evaluation.bench_training_memory [--out FILE]
    (or: python -m evaluation.run --job training-memory)

Writes evaluation/results/training_memory.json (measured and estimated MiB per case): memory against
the encoded width, which the benchmark runner (whole runs on the bundled or a recipe's table) does not vary.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results" / "training_memory.json"
if str(ROOT) not in sys.path:  # run as a file (python evaluation/...py): the evaluation package
    sys.path.insert(0, str(ROOT))
CASES = [
    ("ctgan", 6000, 2000),
    ("ctgan", 6000, 4000),
    ("ctgan", 12000, 4000),
    ("ctgan", 20000, 8000),
    ("ddpm", 6000, 4000),
    ("ddpm", 20000, 8000),
    ("ddpm", 30000, 20000),
]

_CHILD = """
import json, sys, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
import synthgen
from synthgen.datacheck import estimate_encoded_width
from synthgen.schema import ColumnSpec

def hwm():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]) * 1024

kind, rows, levels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
frame = pd.DataFrame({"code": [f"L{i}" for i in rng.integers(0, levels, rows)],
                      "x": rng.normal(size=rows), "y": rng.integers(0, 2, rows)})
schema = synthgen.infer_schema(frame, declared={"code": ColumnSpec(kind="categorical")})
model = synthgen.CTGAN(epochs=1, device="cpu") if kind == "ctgan" else synthgen.DDPM(steps=5, device="cpu")
base = hwm()
model.fit(frame, schema)
width = estimate_encoded_width(frame, schema)
print(json.dumps({"model": kind, "rows": rows, "width": width, "measured_mib": round((hwm() - base) / 2**20),
                  "estimated_mib": round(type(model).training_memory(rows, width, len(schema.modelled)) / 2**20)}))
"""


def main(argv: list[str] | None = None) -> None:
    from evaluation.results import command_line, write_results

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.bench_training_memory", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = []
    for kind, rows, levels in CASES:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, str(rows), str(levels)], capture_output=True, text=True, check=True
        )
        entry = json.loads(done.stdout.strip().splitlines()[-1])
        print(entry, flush=True)
        results.append(entry)
    body = {"benchmark": "training_memory", "results": results}
    write_results(args.out, body, command=command_line("evaluation.bench_training_memory", argv))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
