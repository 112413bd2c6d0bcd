"""The pytest fixture's cold and warm times: what a test suite waits for the first time, and every time after.

    python -m evaluation.fixture_bench [--recipe recipes/german_credit.yaml] [--rows 1000] [--repeats 3]
                                       [--out evaluation/results/fixture_bench.json]

Each figure is the wall time of a fresh interpreter, from its start to 1,000 rows in hand, imports
included, doing what ``synthgen.dataset(recipe, rows=1000, seed=0)`` does (`synthgen.fixture_cache`):

- cold: an empty model cache, so the recipe's model is trained on the CPU (target: under 20 s); one-off
  cold times on a 2-core VM ranged from 14.5 s to 21.8 s in one hour, so the median of ``--repeats`` is
  the figure;
- warm, model: the model trained by the cold run is found in the cache, loaded and sampled;
- warm, rows kept: what the fixture does once a call was made before: the rows are read back from the
  cache without validating the recipe or loading torch and the model (target: under 1.5 s);
- pytest session, warm: ``python -m pytest`` on a one-test file using the fixture, for the whole
  session's overhead (collection, plugins) around the same call; and again with ``-p no:faker -p
  no:hypothesispytest``: faker (which synthgen needs to fill PII columns) and hypothesis install pytest
  plugins that import themselves in every session (about 1.5 s and 2 s here);
- ``synthgen --help``: the command line's start (target: under 0.5 s);
- the floor: a fresh interpreter that only imports torch (what the warm model path cannot avoid:
  sampling runs torch networks), and one that only imports pandas (what kept rows cannot avoid).

The child reports its own split (imports, finding or training the model, sampling) and the CPU time it
used (``cpu_s``, user + system, interpreter start included): about the wall time of a run on an idle
machine when it ran on one thread, whatever else the machine was doing. The load average
and the thread settings of the environment are recorded beside the figures: on a shared machine other
work slows every phase, and most of all torch's thread pool when it spins against other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD_TARGET_S = 20.0
WARM_TARGET_S = 1.5
HELP_TARGET_S = 0.5
THREAD_VARIABLES = ("SYNTHGEN_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")


def child(recipe: str, rows: int, cache: str, keep: bool) -> None:
    """Run in a fresh interpreter: the fixture's call, timed by phase, printed as JSON. With ``keep``, as
    the fixture does (`synthgen.fixture_rows.FixtureRows`): rows kept by an earlier run of the call are
    read back, else drawn and kept; without, the model is found (or trained) and sampled, nothing kept."""
    started = time.perf_counter()
    if keep:
        from synthgen.fixture_rows import FixtureRows

        imported = time.perf_counter()
        drawn = FixtureRows(cache, root=ROOT, device="cpu").dataset(recipe, rows=rows, seed=0)
        origin, frame = drawn.origin, drawn.frame
        loaded = done = time.perf_counter()
    else:
        from synthgen.fixture_cache import ModelCache
        from synthgen.recipe import load_recipe

        imported = time.perf_counter()
        found = ModelCache(cache, device="cpu").get(load_recipe(ROOT / recipe))
        loaded = time.perf_counter()
        origin, frame = found.origin, found.model.sample(rows, seed=0)
        done = time.perf_counter()
    heavy = sorted({name.split(".")[0] for name in sys.modules} & {"torch", "sklearn", "xgboost", "pydantic"})
    judge = sorted(name for name in sys.modules if name.startswith("synthgen.judge."))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "origin": origin,
                "rows": len(frame),
                "import_s": round(imported - started, 3),
                "model_s": round(loaded - imported, 3),
                "sample_s": round(done - loaded, 3),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                "imported": heavy + judge,
            }
        )
    )


def timed_child(recipe: str, rows: int, cache: Path, keep: bool = False) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "evaluation.fixture_bench", "--child", "--recipe", recipe, "--rows", str(rows)]
        + ["--cache", str(cache)]
        + ["--keep"] * keep,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 3), **json.loads(result.stdout.strip().splitlines()[-1])}


def timed_help(repeats: int) -> dict:
    """Wall time of ``synthgen --help`` (the console script beside this interpreter), median of ``repeats``."""
    script = Path(sys.executable).with_name("synthgen")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([str(script), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    median = round(statistics.median(times), 3)
    return {"wall_s_median": median, "target_s": HELP_TARGET_S, "meets_target": median < HELP_TARGET_S}


def timed_import(module: str) -> float:
    """Wall time of a fresh interpreter that only imports ``module``: the floor under the warm time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return round(time.perf_counter() - started, 3)


def timed_pytest(recipe: str, rows: int, cache: Path, folder: Path, *plugins_off: str) -> dict:
    test = folder / "test_fixture_bench.py"
    call = f"synthgen.dataset({str(ROOT / recipe)!r}, rows={rows}, seed=0)"
    test.write_text(f"def test_rows(synthgen):\n    assert len({call}) == {rows}\n")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--synthgen-cache={cache}", str(test)]
        + [arg for plugin in plugins_off for arg in ("-p", f"no:{plugin}")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stdout + result.stderr)
    return {"wall_s": round(wall, 3), "rows_kept": "rows kept from an earlier run" in result.stdout}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evaluation.fixture_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="recipes/german_credit.yaml")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="Runs of each kind (the median is reported).")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "fixture_bench.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.recipe, args.rows, args.cache, args.keep)
        return

    from evaluation.results import command_line, write_results

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="fixture_bench_") as tmp:
        cache = Path(tmp) / "cache"
        # Each cold run trains into an empty cache; the last one's model serves the warm runs.
        colds = [timed_child(args.recipe, args.rows, Path(tmp) / f"cold{i}") for i in range(args.repeats - 1)]
        colds.append(timed_child(args.recipe, args.rows, cache))
        warm = [timed_child(args.recipe, args.rows, cache) for _ in range(args.repeats)]
        timed_child(args.recipe, args.rows, cache, keep=True)  # draws the rows and keeps them
        kept = [timed_child(args.recipe, args.rows, cache, keep=True) for _ in range(args.repeats)]
        session = timed_pytest(args.recipe, args.rows, cache, Path(tmp))
        # faker (a dependency of synthgen) and hypothesis ship pytest plugins that every session imports
        bare = timed_pytest(args.recipe, args.rows, cache, Path(tmp), "faker", "hypothesispytest")
    floor = {f"import_{module}_s": timed_import(module) for module in ("torch", "pandas")}
    help_time = timed_help(args.repeats)
    cold_wall = statistics.median(run["wall_s"] for run in colds)
    warm_wall = statistics.median(run["wall_s"] for run in warm)
    kept_wall = statistics.median(run["wall_s"] for run in kept)
    body = {
        "recipe": args.recipe,
        "rows": args.rows,
        "device": "cpu",
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "thread_settings": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "cold": {
            "wall_s_median": cold_wall,
            "target_s": COLD_TARGET_S,
            "meets_target": cold_wall < COLD_TARGET_S,
            "runs": colds,
        },
        "warm": {
            "wall_s_median": warm_wall,
            "target_s": WARM_TARGET_S,
            "meets_target": warm_wall < WARM_TARGET_S,
            "runs": warm,
        },
        "warm_rows_kept": {
            "wall_s_median": kept_wall,
            "target_s": WARM_TARGET_S,
            "meets_target": kept_wall < WARM_TARGET_S,
            "runs": kept,
        },
        "pytest_session_warm": session,
        "pytest_session_warm_without_faker_and_hypothesis_plugins": bare,
        "fresh_interpreter_floor": floor,
        "synthgen_help": help_time,
    }
    write_results(args.out, body, command=command_line("evaluation.fixture_bench", argv))
    print(json.dumps(body, indent=2))


if __name__ == "__main__":
    main()
