"""Write throughput of the streaming TableWriter, and peak memory of one-shot against chunked writes.

    python -m evaluation.bench_io [--rows 1000000] [--chunk 50000] [--out evaluation/results/io.json]
    (or: python -m evaluation.run --job io [the same options])

Writing rows, not generating them: nothing here that the benchmark runner measures.

The table has 20 mixed columns, drawn chunk by chunk with a seed per chunk so any chunking gives
the same rows: 6 floats (two with missing values), 4 integers (one nullable Int64), 4 categoricals
(object strings, one with missing values), 2 booleans, 2 datetimes (dates; seconds) and 2 text
columns shaped like PII (Unicode names, emails).

Throughput: the chunks are drawn first, then only the writes are timed: `TableWriter` fed 50k-row
chunks, and for reference the one-shot pandas call that `write_table` made before streaming
(``to_csv`` / ``to_parquet`` of the whole frame into a temporary file), on the same machine.

Peak memory: each mode runs in a fresh interpreter that reports its own peak RSS (``ru_maxrss``):
"one-shot" draws every chunk, concatenates them and calls `write_table` (what sampling did: hold
every row until the final write); "chunked" draws and writes one chunk at a time. "baseline"
only imports, so the rows' share is the difference. Peak RSS is VmHWM from /proc (Linux).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIRST_NAMES = np.array(["Anna", "Иван", "王伟", "José", "Zoë", "Mohammed", "Ngozi", "Søren"], dtype=object)


def make_chunk(index: int, rows: int, seed: int = 0) -> pd.DataFrame:
    """Rows ``index * rows`` onward of the benchmark table (20 columns)."""
    rng = np.random.default_rng([seed, index])
    n = rows
    frame = pd.DataFrame(
        {
            "loan_amount": np.round(rng.lognormal(9, 0.8, n), 2),
            "income": np.round(rng.lognormal(10.8, 0.5, n), 2),
            "rate": np.round(rng.normal(11, 3, n), 2),
            "ratio": rng.random(n),
            "score": rng.normal(650, 80, n),
            "balance": np.round(rng.normal(0, 1e4, n), 2),
            "age": rng.integers(18, 90, n),
            "term_months": rng.choice([12, 24, 36, 60], n),
            "accounts": rng.integers(0, 30, n),
            "delinquencies": pd.array(rng.poisson(0.3, n), dtype="Int64"),
            "grade": rng.choice(["A", "B", "C", "D", "E", "F", "G"], n).astype(object),
            "purpose": rng.choice(["EDUCATION", "MEDICAL", "VENTURE", "PERSONAL", "DEBTCONSOLIDATION"], n).astype(
                object
            ),
            "home": rng.choice(["RENT", "OWN", "MORTGAGE", "OTHER"], n).astype(object),
            "region": rng.choice([f"R{i:02d}" for i in range(40)], n).astype(object),
            "default": rng.random(n) < 0.2,
            "has_cosigner": rng.random(n) < 0.1,
            "opened": pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D"),
            "applied_at": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
            "name": FIRST_NAMES[rng.integers(0, len(FIRST_NAMES), n)],
            "email": np.char.add(rng.integers(10**6, 10**7, n).astype(str), "@example.org").astype(object),
        }
    )
    frame.loc[rng.random(n) < 0.05, "rate"] = np.nan
    frame.loc[rng.random(n) < 0.02, "income"] = np.nan
    frame.loc[rng.random(n) < 0.03, "delinquencies"] = pd.NA
    frame.loc[rng.random(n) < 0.04, "purpose"] = None
    return frame


def chunk_sizes(rows: int, chunk: int) -> list[int]:
    return [min(chunk, rows - start) for start in range(0, rows, chunk)]


def throughput(rows: int, chunk: int, folder: Path) -> dict[str, dict[str, float]]:
    from synthgen.io import TableWriter

    chunks = [make_chunk(i, n) for i, n in enumerate(chunk_sizes(rows, chunk))]
    whole = pd.concat(chunks, ignore_index=True)
    result: dict[str, dict[str, float]] = {}
    for fmt in ("csv", "parquet"):
        path = folder / f"t.{fmt}"
        started = time.perf_counter()
        with TableWriter(path) as writer:
            for part in chunks:
                writer.write(part)
        streamed = time.perf_counter() - started
        size = path.stat().st_size
        path.unlink()
        started = time.perf_counter()
        if fmt == "csv":
            whole.to_csv(path, index=False)
        else:
            whole.to_parquet(path, index=False)
        oneshot = time.perf_counter() - started
        path.unlink()
        result[fmt] = {
            "table_writer_s": round(streamed, 2),
            "table_writer_rows_per_s": round(writer.rows / streamed),
            "pandas_one_shot_s": round(oneshot, 2),
            "pandas_one_shot_rows_per_s": round(len(whole) / oneshot),
            "file_mb": round(size / 2**20, 1),
        }
        print(fmt, result[fmt], flush=True)
    return result


def child(mode: str, fmt: str, rows: int, chunk: int, folder: Path) -> None:
    """Run one write in this (fresh) interpreter and print its peak RSS."""
    import pyarrow.parquet  # noqa: F401  (in every mode, so the baseline holds the same libraries)

    from synthgen.io import TableWriter, write_table

    path = folder / f"{mode}.{fmt}"
    started = time.perf_counter()
    if mode == "one-shot":
        chunks = [make_chunk(i, n) for i, n in enumerate(chunk_sizes(rows, chunk))]
        write_table(pd.concat(chunks, ignore_index=True), path)
    elif mode == "chunked":
        with TableWriter(path) as writer:
            for i, n in enumerate(chunk_sizes(rows, chunk)):
                writer.write(make_chunk(i, n))
    seconds = time.perf_counter() - started
    peak_kib = _peak_rss_kib()
    print(json.dumps({"peak_rss_mb": round(peak_kib / 1024, 1), "seconds": round(seconds, 2)}))


def _peak_rss_kib() -> int:
    """This process's peak RSS. ``ru_maxrss`` would not do: Linux carries it over a fork and exec, so
    a child started by a parent that held the whole table reports the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_memory(rows: int, chunk: int, folder: Path) -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = {}
    for fmt in ("csv", "parquet"):
        for mode in ("baseline", "one-shot", "chunked"):
            if mode == "baseline" and fmt != "csv":
                continue
            command = [
                sys.executable,
                "-m",
                "evaluation.bench_io",
                "--child",
                mode,
                "--format",
                fmt,
                "--rows",
                str(rows),
                "--chunk",
                str(chunk),
                "--folder",
                str(folder),
            ]
            line = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
            key = "baseline" if mode == "baseline" else f"{fmt} {mode}"
            result[key] = json.loads(line.splitlines()[-1])
            print(key, result[key], flush=True)
    base = result["baseline"]["peak_rss_mb"]
    for fmt in ("csv", "parquet"):
        one, many = result[f"{fmt} one-shot"]["peak_rss_mb"], result[f"{fmt} chunked"]["peak_rss_mb"]
        result[f"{fmt} difference"] = {
            "one_shot_minus_chunked_mb": round(one - many, 1),
            "rows_share_one_shot_mb": round(one - base, 1),
            "rows_share_chunked_mb": round(many - base, 1),
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evaluation.bench_io", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "io.json")
    parser.add_argument("--child", choices=["baseline", "one-shot", "chunked"], help=argparse.SUPPRESS)
    parser.add_argument("--format", default="csv", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.format, args.rows, args.chunk, args.folder)
        return

    from evaluation.results import command_line, write_results

    with tempfile.TemporaryDirectory(prefix="bench_io_") as folder:
        speed = throughput(args.rows, args.chunk, Path(folder))
        memory = peak_memory(args.rows, args.chunk, Path(folder))
    result = {
        "benchmark": "TableWriter write throughput and peak RSS, one-shot vs chunked",
        "table": {"rows": args.rows, "columns": 20, "chunk_rows": args.chunk},
        "throughput": speed,
        "peak_rss": memory,
    }
    write_results(args.out, result, command=command_line("evaluation.bench_io", argv))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
