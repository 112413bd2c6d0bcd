"""Training memory of each generator against the encoded width (issue 10: a 20,000-level category).

A table of one high-cardinality category plus two ordinary columns is fitted, each case in a fresh
process that reports its peak resident memory (VmHWM) above the import baseline. The figures are
what `Generator.memory_per_cell` and `memory_per_column` are set from, and the check before training
(`synthgen.datacheck.check_learnable`) refuses a table whose estimate exceeds half the memory.

    python evaluation/bench_training_memory.py

Writes evaluation/results/training_memory.json (measured and estimated MiB per case).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results" / "training_memory.json"
CASES = [("ctgan", 6000, 2000), ("ctgan", 6000, 4000), ("ctgan", 12000, 4000), ("ctgan", 20000, 8000),
         ("ddpm", 6000, 4000), ("ddpm", 20000, 8000)]

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
                  "estimated_mib": round(type(model).training_memory(rows, width) / 2**20)}))
"""


def main() -> None:
    results = []
    for kind, rows, levels in CASES:
        done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(rows), str(levels)],
                              capture_output=True, text=True, check=True)
        entry = json.loads(done.stdout.strip().splitlines()[-1])
        print(entry, flush=True)
        results.append(entry)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "command": "python evaluation/bench_training_memory.py",
        "results": results,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
