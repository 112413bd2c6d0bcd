"""The exact record checks of a streamed source over every real row (issue 16): what the hash pass costs on
the 1,000,000-row x 50-column table, and the leak it closes.

    python -m evaluation.streamed_records_bench [--rows 1000000] [--parts 8] [--leaks 100] [--release 100000]
        [--sample-rows N] [--workdir DIR] [--out evaluation/results/streamed_records_bench.json]

The table is `evaluation.scale_table`'s (credit_risk resampled and perturbed to 50 columns, its docstring
says how), as ``--parts`` Parquet files: a streamed source, judged on reservoir samples of 200,000
training rows and 50,000 holdout rows. Each phase runs in a fresh child process reporting its peak
resident memory (VmHWM):

1. ``samples``: `synthgen.pipeline.prepare_data` alone: the schema and the two samples the judge scores;
2. ``hashes``: the same, then `synthgen.streamed_judging.real_hashes`: one more pass keeping every row's
   record hash; its seconds and the memory it adds are the cost of judging every real row;
3. in the same process, the attack: an honest release of ``--release`` rows (another part of the same
   resampled population, independent of the table) and the same with 1, 10 and ``--leaks`` training records
   added, each unique in the whole table and *outside* the judged sample. The verbatim checks are run on both,
   against the samples alone (as before this change) and against every row's hashes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results" / "streamed_records_bench.json"
if str(ROOT) not in sys.path:  # run as a file: the evaluation package
    sys.path.insert(0, str(ROOT))

from evaluation.results import PEAK_REPORT  # noqa: E402

_CHILD = PEAK_REPORT + "from evaluation.streamed_records_bench import child\nchild(sys.argv[1:])\n"


def child(argv: list[str]) -> None:
    """``samples FOLDER`` or ``hashes FOLDER RELEASE LEAKS``: prints one JSON line of the phase's figures."""
    import time

    import numpy as np
    import pandas as pd

    from synthgen.pipeline import open_source, prepare_data, stream_parts
    from synthgen.recipe import load_recipe

    phase, folder = argv[0], Path(argv[1])
    recipe = load_recipe(folder / "scale_table.yaml")
    started = time.perf_counter()
    train, holdout, schema = prepare_data(recipe)
    figures: dict[str, Any] = {
        "samples_seconds": round(time.perf_counter() - started, 1),
        "train_sample": len(train),
        "holdout_sample": len(holdout),
    }
    if phase == "samples":
        print(json.dumps(figures))
        return
    from evaluation.scale_table import _base, _derivations, build_part
    from synthgen.judge.gate import verbatim_checks
    from synthgen.judge.inputs import clean_table, prepare
    from synthgen.judge.privacy import row_hashes, verbatim_records
    from synthgen.judge.settings import GateSettings
    from synthgen.streamed_judging import real_hashes

    started = time.perf_counter()
    hashes = real_hashes(recipe, schema)
    seconds = time.perf_counter() - started
    rows = len(hashes.train) + len(hashes.holdout)
    figures.update(
        hash_seconds=round(seconds, 1),
        rows_hashed=rows,
        rows_per_second=round(rows / seconds),
        hash_mib=round((hashes.train.nbytes + hashes.holdout.nbytes) / 2**20, 1),
    )
    # The leak: training records unique in the whole table that the judged sample lacks.
    columns = list(schema.modelled)
    seen = set(row_hashes(clean_table(train, columns, "train"), columns).tolist())
    values, counts = np.unique(np.r_[hashes.train, hashes.holdout], return_counts=True)
    once = values[counts == 1]
    wanted, leaks = int(argv[3]), []
    source, training = open_source(recipe), stream_parts(recipe)[0]
    for start, frame in source.batches():
        keep = training.mask(np.arange(start, start + len(frame), dtype=np.uint64))
        frame = frame[keep].reset_index(drop=True)
        h = row_hashes(clean_table(frame, columns, "source"), columns)
        pick = np.isin(h, once) & ~np.isin(h, np.fromiter(seen, np.uint64, len(seen)))
        leaks.append(frame[pick].head(wanted - sum(len(x) for x in leaks)))
        if sum(len(x) for x in leaks) >= wanted:
            break
    leaked = pd.concat(leaks, ignore_index=True)
    base = _base()
    honest = build_part(base, int(argv[2]), 999, _derivations(base))  # the same population, another draw
    gates = GateSettings()
    releases = [("honest", honest)] + [
        (f"leaky_{k}" if k < len(leaked) else "leaky", pd.concat([honest, leaked.head(k)], ignore_index=True))
        for k in sorted({1, 10, len(leaked)})
        if k <= len(leaked)
    ]
    for name, release in releases:
        t = prepare(train, holdout, release, schema)
        for against, given in (("samples", None), ("every_row", hashes)):
            v = verbatim_records(t, given)
            checks = {c.name: c for c in verbatim_checks(gates, v)}
            figures[f"{name}_{against}"] = {
                "release_rows": len(release),
                "real_rows": v.real_rows,
                "reproduced": v.reproduced,
                "reproduced_unique": v.reproduced_unique,
                "verbatim_records": checks["verbatim_records"].status,
                "verbatim_unique_records": checks["verbatim_unique_records"].status,
            }
    figures["leaks"] = len(leaked)
    print(json.dumps(figures))


def main(argv: list[str] | None = None) -> None:
    import os

    from evaluation.results import command_line, write_results
    from evaluation.scale_table import run_phase, write_recipe

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.streamed_records_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--release", type=int, default=100_000)
    parser.add_argument("--leaks", type=int, default=100)
    parser.add_argument("--sample-rows", type=int, default=None, help="the judged sample (default 200,000)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep (and reuse) the table here")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    phases: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="synthgen-records-") as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "parts").is_dir():
            phases["build"] = run_phase(["build", str(folder), str(args.rows), str(args.parts)])
        write_recipe(folder, 1, args.sample_rows)
        for phase, extra in (("samples", []), ("hashes", [str(args.release), str(args.leaks)])):
            phases[phase] = run_phase([phase, str(folder), *extra], _CHILD)
            print(json.dumps({phase: phases[phase]}), flush=True)
    samples, hashed = phases["samples"], phases["hashes"]
    body = {
        "benchmark": "streamed_records_bench",
        "rows": args.rows,
        "columns": 50,
        "hash_pass": {
            "seconds": hashed["hash_seconds"],
            "rows_per_second": hashed["rows_per_second"],
            "hash_mib": hashed["hash_mib"],
            "peak_mib_samples_only": samples["peak_rss_mib"],
            "peak_mib_with_hashes_and_attack": hashed["peak_rss_mib"],
        },
        "attack": {k: hashed[k] for k in hashed if k.startswith(("honest_", "leaky_"))} | {"leaks": hashed["leaks"]},
        "notes": (
            f"2 CPU cores, load average at start {load[0]:.1f}. The hashes phase's peak includes the attack's "
            "releases and the full scan for leak candidates, which a release does not do."
        ),
        "phases": phases,
    }
    write_results(args.out, body, command=command_line("evaluation.streamed_records_bench", argv))
    print(json.dumps(body, indent=1))


if __name__ == "__main__":
    main()
