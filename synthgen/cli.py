"""The `synthgen` command: parses arguments, calls the public verbs, renders with rich. Nothing else.

Exit codes:
    0  success
    1  unexpected internal error (a bug: please report it with the traceback from --debug)
    2  bad input: recipe, data file, model directory or argument (the message names it)
    3  the release gate refused the synthetic data (nothing written; the report says why)
  130  interrupted
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from synthgen._version import __version__
from synthgen.checkpoint import CHECKPOINT_EVERY
from synthgen.errors import GateFailedError, InputError, SynthgenError, is_forwarded
from synthgen.progress import Display, Stage

app = typer.Typer(
    name="synthgen",
    help="Synthetic tabular data for lending: learn a real table, generate faithful, useful, private rows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()
_state: dict[str, Any] = {"debug": False, "said": False, "verbosity": 0, "progress": None}
"""Set by the global options: ``verbosity`` -1 (--quiet), 0 or 1 (--verbose); ``progress`` None (bars when
stderr is a terminal), True or False (--progress / --no-progress)."""

EXIT_CODES_HELP = "Exit codes: 0 success, 1 internal error, 2 bad input, 3 release gate failed, 130 interrupted."


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every clean-up on the way out runs (temporary files are removed)."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def _run(action: Callable[[], Any]) -> Any:
    """Turn synthgen's errors into one red line and the documented exit code."""
    try:
        return action()
    except Terminated:
        console.print("[yellow]terminated[/]")
        _state["said"] = True
        raise typer.Exit(143) from None
    except GateFailedError as exc:
        if exc.report is not None and not _quiet():
            _print_gate(exc.report)
        console.print(f"[bold red]gate failed:[/] {exc}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except SynthgenError as exc:
        if _state["debug"]:
            console.print_exception()
        if not is_forwarded(exc):  # rank 0 of a torchrun job reports its own failure once, not every rank
            console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except RuntimeError as exc:
        if not is_forwarded(exc):
            raise
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        _state["said"] = True
        raise typer.Exit(130) from None


def _quiet() -> bool:
    return _state["verbosity"] < 0


def _verbose() -> bool:
    return _state["verbosity"] > 0


def _final(text: str) -> None:
    """A result line on stdout, unwrapped and unstyled, so that scripts can read it."""
    out_console.print(text, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def _progress() -> Iterator[Display | None]:
    """The job's progress display on stderr, or None: shown on a terminal unless --quiet, and wherever
    --progress asks for it (a line per stage for a log), never with --no-progress."""
    wanted = _state["progress"]
    if wanted is None:
        wanted = not _quiet() and console.is_terminal
    if not wanted:
        yield None
        return
    with Display(console) as display:
        yield display


def _print_gate(report: Any) -> None:
    from synthgen.judge import render_console

    for renderable in render_console(report):
        console.print(renderable)


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """A warning is one yellow line for the person at the terminal, not a source location; none under --quiet."""
    if _quiet():
        return
    console.print(f"[yellow]warning:[/] {message}", soft_wrap=True, markup=True, highlight=False)


def _print_version(value: bool) -> None:
    if value:
        _final(f"synthgen {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only errors and the final line: no tables, warnings or progress."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Add details: the time of each stage and of the judge's parts, rates, devices."
    ),
    progress: bool | None = typer.Option(
        None,
        "--progress/--no-progress",
        help="Progress of the fit, the sampling and the evaluation on stderr (default: only on a terminal; "
        "elsewhere --progress prints a line per stage).",
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
) -> None:
    """synthgen: synthetic borrower tables that keep the statistics, the signal, and the secrets."""
    if quiet and verbose:
        console.print("[bold red]error:[/] give --quiet or --verbose, not both")
        raise typer.Exit(InputError.exit_code)
    _state.update(debug=debug, verbosity=-1 if quiet else 1 if verbose else 0, progress=progress)
    if not debug:
        warnings.showwarning = _show_warning


def _conditions(where: list[str] | None) -> dict[str, Any]:
    """``--where`` clauses -> the conditions of `Generator.sample`; a column given twice is refused."""
    from synthgen.sampling import parse_where

    conditions: dict[str, Any] = {}
    for clause in where or []:
        column, value = parse_where(clause)
        if column in conditions:
            raise InputError(f"--where: column {column!r} is conditioned twice; give one condition per column")
        conditions[column] = value
    return conditions


@app.command(epilog=EXIT_CODES_HELP)
def generate(
    recipe: Path = typer.Argument(..., help="Recipe YAML file."),
    rows: int | None = typer.Option(None, "--rows", min=1, help="Rows to generate (default: the recipe's)."),
    out: Path | None = typer.Option(None, "--out", help="Output .csv or .parquet (default: the recipe's)."),
    seed: int | None = typer.Option(None, "--seed", help="Sampling seed."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda (overrides the recipe)."),
    epochs: int | None = typer.Option(
        None, "--epochs", min=1, help="Training epochs (ctgan) or the cap on passes over the data (ddpm)."
    ),
    retrain: bool = typer.Option(False, "--retrain", help="Train even if an up-to-date model exists."),
    force_release: bool = typer.Option(
        False, "--force-release", help="Write the data even if the gate fails (marked NOT RELEASED)."
    ),
    where: list[str] | None = typer.Option(
        None,
        "--where",
        help="A condition every row meets (repeatable): 'col=value', 'col in (a,b)', 'col>=x', 'col<x', "
        "'col between a and b'.",
    ),
    shards: int | None = typer.Option(
        None,
        "--shards",
        min=1,
        help="Release the rows as this many Parquet parts plus manifest.json in the folder --out: every row's "
        "record checks part by part, the rest of the gate on a seeded sample; published only if the gate passes.",
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Processes drawing and judging shards (with --shards); with --ray, Ray actors."
    ),
    ray: str | None = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS",
        help="Draw the shards on Ray (with --shards; pip install 'synthgen\\[ray]'): 'local', 'auto' or a cluster "
        "address. The parts come back to this machine and are judged here; a table with PII or random-id columns "
        "is refused (their real values are not sent to actors).",
    ),
) -> None:
    """Train (or reuse) the recipe's model, sample, evaluate, and write the data if the gate passes."""
    if shards is not None:
        options = (rows, out, seed, device, epochs, retrain, force_release, where, shards, workers, ray)
        _generate_shards(recipe, *options)
        return
    if workers != 1 or ray is not None:
        flag = "--ray" if ray is not None else "--workers"
        console.print(f"[bold red]error:[/] {flag} draws shards in parallel: give --shards too")
        raise typer.Exit(InputError.exit_code)

    def action() -> Any:
        from synthgen.pipeline import apply_overrides, generate as run_generate
        from synthgen.recipe import load_recipe

        loaded = apply_overrides(load_recipe(recipe), epochs=epochs, device=device)
        with _progress() as display:
            return run_generate(
                loaded,
                rows=rows,
                out=out,
                seed=seed,
                retrain=retrain,
                force_release=force_release,
                progress=display if display is not None else False,
                conditions=_conditions(where),
            )

    result = _run(action)
    status = "released" if result.released else "NOT RELEASED (gate failed; written by --force-release)"
    if _quiet():
        _final(f"{status}: {result.rows:,} rows in {result.output}")
        return
    _print_gate(result.report)
    table = Table(title="synthgen generate", show_header=False)
    table.add_row("output", str(result.output))
    table.add_row("rows", f"{result.rows:,}")
    table.add_row("model", f"{result.model_path}{' (reused)' if result.reused_model else ''}")
    table.add_row("fit", f"{result.fit_seconds:.1f} s")
    table.add_row(
        "sample", _rate(result.sample_seconds, result.rows) if _verbose() else f"{result.sample_seconds:.1f} s"
    )
    table.add_row("evaluate", f"{result.evaluate_seconds:.1f} s")
    if _verbose():
        timings = result.report.run.timings_s
        parts = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in timings.items() if part != "total")
        table.add_row("  judge parts", parts)
        table.add_row("  judge", f"{result.report.run.backend} learners, device {result.report.run.device}")
    table.add_row("report", f"{result.report_dir} ({result.report_seconds:.1f} s)")
    table.add_row("status", "[green]released[/]" if result.released else "[bold red]NOT RELEASED: gate failed[/]")
    out_console.print(table)
    if result.constraints:
        rules = Table(title="constraints: share of rows breaking each")
        for name in ("constraint", "real data", "output"):
            rules.add_column(name)
        for row in result.constraints:
            rules.add_row(row["constraint"], f"{row['real']:.3%}", f"{row['output']:.3%}")
        out_console.print(rules)


def _generate_shards(
    recipe: Path,
    rows: int | None,
    out: Path | None,
    seed: int | None,
    device: str | None,
    epochs: int | None,
    retrain: bool,
    force_release: bool,
    where: list[str] | None,
    shards: int,
    workers: int,
    ray: str | None = None,
) -> None:
    def action() -> Any:
        from synthgen.pipeline import apply_overrides
        from synthgen.recipe import load_recipe
        from synthgen.sharded_release import generate_shards

        loaded = apply_overrides(load_recipe(recipe), epochs=epochs, device=device)
        with _progress() as display:
            return generate_shards(
                loaded,
                shards,
                rows=rows,
                out=out,
                workers=workers,
                seed=seed,
                retrain=retrain,
                force_release=force_release,
                progress=display if display is not None else False,
                conditions=_conditions(where),
                ray=ray,
            )

    result = _run(action)
    status = "released" if result.released else "NOT RELEASED (gate failed; published by --force-release)"
    gate = result.manifest["gate"]
    if _quiet():
        _final(f"{status}: {result.rows:,} rows in {result.shards} parts in {result.output}")
        return
    _print_gate(result.report)
    table = Table(title="synthgen generate --shards", show_header=False)
    table.add_row("output", f"{result.output} ({result.shards} parts + manifest.json)")
    table.add_row("rows", f"{result.rows:,}")
    table.add_row("model", f"{result.model_path}{' (reused)' if result.reused_model else ''}")
    table.add_row("fit", f"{result.fit_seconds:.1f} s")
    engine = "Ray actor(s)" if result.manifest.get("engine") == "ray" else "worker(s)"
    table.add_row("sample", f"{_rate(result.sample_seconds, result.rows)} on {result.manifest['workers']} {engine}")
    table.add_row(
        "gate",
        f"{result.evaluate_seconds:.1f} s: record checks on all {result.rows:,} rows, "
        f"{len(gate['parts_failing'])} part(s) failing; the rest on a sample of {gate['sample']['rows']:,} rows",
    )
    table.add_row("release sha256", result.manifest["release_sha256"])
    table.add_row("report", str(result.report_dir))
    table.add_row("status", "[green]released[/]" if result.released else "[bold red]NOT RELEASED: gate failed[/]")
    out_console.print(table)


def _rate(seconds: float, rows: int) -> str:
    return f"{seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)"


@app.command(epilog=EXIT_CODES_HELP)
def train(
    recipe: Path = typer.Argument(..., help="Recipe YAML file."),
    out: Path | None = typer.Option(None, "--out", help="Model directory (default: the recipe's model_dir)."),
    epochs: int | None = typer.Option(
        None, "--epochs", min=1, help="Training epochs (ctgan) or the cap on passes over the data (ddpm)."
    ),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda (overrides the recipe)."),
    nproc: int | None = typer.Option(
        None,
        "--nproc",
        min=1,
        help="Train with DDP in this many local processes (launched through torchrun; gloo on the CPU, one GPU "
        "each with NCCL). Inside a torchrun job, train is distributed without it.",
    ),
    checkpoint_every: int = typer.Option(
        CHECKPOINT_EVERY,
        "--checkpoint-every",
        min=0,
        help="Write a training checkpoint beside the model directory every this many steps (0: none); "
        "it is removed once the model is saved.",
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue from the checkpoint a killed run left (refused if another recipe wrote it)."
    ),
) -> None:
    """Train the recipe's model on its training split and save it as a model directory."""
    from synthgen.distributed import current

    if nproc is not None and nproc > 1:
        raise typer.Exit(_run(lambda: _launch_train(nproc, recipe, out, epochs, device, checkpoint_every, resume)))
    dist = _run(current)  # the torchrun environment's ranks (one process without it)
    main_rank = dist.is_main
    if not main_rank:  # rank 0 speaks for a distributed job: no display, warnings or table from the others
        _state.update(progress=False, verbosity=-1)

    def action() -> Any:
        from synthgen.pipeline import apply_overrides, train_model
        from synthgen.recipe import load_recipe

        loaded = apply_overrides(load_recipe(recipe), epochs=epochs, device=device)
        started = time.perf_counter()
        with _progress() as display:
            model, path, train_rows, _, _ = train_model(
                loaded,
                out=out,
                progress=display if display is not None else False,
                checkpoint_every=checkpoint_every,
                resume=resume,
                distributed=dist,
            )
        return model, path, len(train_rows), time.perf_counter() - started

    model, path, n_train, seconds = _run(action)
    if not main_rank:  # rank 0 speaks for the job
        return
    if _quiet():
        _final(f"saved {model.config.type} model to {path}")
        return
    table = Table(title="synthgen train", show_header=False)
    table.add_row("model", str(path))
    table.add_row("type", model.config.type)
    table.add_row("device", str(model.device_))
    table.add_row("training rows", f"{n_train:,}")
    table.add_row("time", f"{seconds:.1f} s")
    if _verbose():
        done = getattr(model, "steps_done_", None)
        if done is not None:
            table.add_row("steps", f"{done:,}")
        table.add_row("config", model.config.model_dump_json(exclude_defaults=True))
    out_console.print(table)


def _launch_train(
    nproc: int,
    recipe: Path,
    out: Path | None,
    epochs: int | None,
    device: str | None,
    checkpoint_every: int,
    resume: bool,
) -> int:
    """Run `synthgen train` in ``nproc`` local processes under torchrun (`torch.distributed.run`,
    ``--standalone``: a free local port, no rendezvous server); its exit status. Each process trains
    with DDP on its shard of the rows; rank 0 prints and saves.

    What needs no training is checked here first, once (the recipe, the model directory, the source and
    its schema: `prepare_data`), so bad input is one error with exit code 2, not one per rank. The agent
    runs in this process: when a rank fails, the exit status is rank 0's (else the first failed rank's)
    and one line says so, instead of torchrun's traceback."""
    from synthgen.device import resolve_device
    from synthgen.distributed import in_torchrun
    from synthgen.pipeline import apply_overrides, check_model_dir, prepare_data
    from synthgen.recipe import load_recipe

    if in_torchrun():
        raise InputError("--nproc: already inside a torchrun job; run `synthgen train` without --nproc there")
    loaded = apply_overrides(load_recipe(recipe), epochs=epochs, device=device)
    check_model_dir(loaded, out)
    prepare_data(loaded)
    wanted = loaded.generator.device
    if resolve_device(wanted).type == "cuda":
        import torch

        if torch.cuda.device_count() < nproc:
            raise InputError(
                f"--nproc {nproc} with device {wanted!r} needs {nproc} CUDA devices, {torch.cuda.device_count()} "
                "visible; lower --nproc or use --device cpu"
            )
    command = ["--standalone", f"--nproc-per-node={nproc}", "-m", "synthgen.cli"]
    command += ["--debug"] if _state["debug"] else []
    command += ["--quiet"] if _quiet() else ["--verbose"] if _verbose() else []
    if _state["progress"] is not None:
        command += ["--progress" if _state["progress"] else "--no-progress"]
    command += ["train", str(recipe), f"--checkpoint-every={checkpoint_every}"]
    command += [f"--out={out}"] if out is not None else []
    command += [f"--epochs={epochs}"] if epochs is not None else []
    command += [f"--device={device}"] if device is not None else []
    command += ["--resume"] if resume else []
    return _torchrun(command)


def _torchrun(arguments: list[str]) -> int:
    """Run torchrun's agent (`torch.distributed.run`) in this process on ``arguments``; 0, or the exit
    status of the failed job's rank 0 (else of its first rank that exited with a status) after one line
    naming it. The ranks print their own errors; the agent's log and traceback are left out."""
    import logging

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the ranks share the cores (torchrun's own default, unannounced)
    agent_log = logging.getLogger("torch.distributed.elastic")
    level = agent_log.level
    agent_log.setLevel(logging.CRITICAL)
    try:
        run(parse_args(arguments))
    except ChildFailedError as exc:
        exited = {rank: failure.exitcode for rank, failure in exc.failures.items()}
        ranked = sorted(exited, key=lambda rank: (exited[rank] <= 0, rank))  # a status before a signal
        rank = 0 if exited.get(0, 0) > 0 else ranked[0]
        code = exited[rank]
        console.print(
            f"[bold red]error:[/] rank {rank} of the torchrun job failed (exit status {code})", soft_wrap=True
        )
        _state["said"] = True
        return code if code > 0 else 1
    finally:
        agent_log.setLevel(level)
    return 0


@app.command(epilog=EXIT_CODES_HELP)
def sample(
    model: Path = typer.Argument(..., help="Model directory written by `synthgen train`."),
    rows: int = typer.Option(..., "--rows", min=1, help="Rows to sample."),
    out: Path = typer.Option(..., "--out", help="Output .csv or .parquet; with --shards, a folder."),
    seed: int | None = typer.Option(None, "--seed", help="Sampling seed (default: the model's)."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda."),
    where: list[str] | None = typer.Option(
        None,
        "--where",
        help="A condition every row meets (repeatable): 'col=value', 'col in (a,b)', 'col>=x', 'col<x', "
        "'col between a and b'.",
    ),
    shards: int | None = typer.Option(
        None,
        "--shards",
        min=1,
        help="Write the rows as this many Parquet parts plus manifest.json in the folder --out; each part has "
        "its own random stream, so the rows do not depend on --workers.",
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Local processes drawing shards (with --shards); with --ray, Ray actors."
    ),
    ray: str | None = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS",
        help="Draw the shards on Ray (with --shards; pip install 'synthgen\\[ray]'): 'local' starts a Ray instance "
        "on this machine, 'auto' joins the cluster this machine is part of, or a cluster's address "
        "(ray://head:10001). The parts are the same bytes as without --ray.",
    ),
) -> None:
    """Sample rows from a saved model (no evaluation: use `synthgen generate` to release data).

    Rows are streamed to the file chunk by chunk, so memory stays flat whatever ``--rows``. With
    ``--shards``, the rows go to numbered Parquet parts drawn by ``--workers`` processes; the folder
    appears only when every part is written.
    """
    if shards is not None:
        _sample_shards(model, rows, out, seed, device, where, shards, workers, ray=ray)
        return
    if workers != 1 or ray is not None:
        flag = "--ray" if ray is not None else "--workers"
        console.print(f"[bold red]error:[/] {flag} draws shards in parallel: give --shards too")
        raise typer.Exit(InputError.exit_code)

    def action() -> Any:
        from synthgen.files import ensure_writable
        from synthgen.models import load_model
        from synthgen.tablewriter import TableWriter
        from synthgen.threads import use_threads

        if out.resolve() == model.resolve() or model.resolve() in out.resolve().parents:
            raise InputError(f"--out {out} is inside the model directory {model}; write the rows elsewhere")
        ensure_writable(out)  # refuse a bad output path before the work
        loaded = load_model(model, device=device or "auto")
        use_threads()  # SYNTHGEN_THREADS, else every core this process may use
        started = time.perf_counter()
        with _progress() as display, TableWriter(out) as writer:
            stage = None if display is None else Stage(display, "sample", "sample", "rows", total=rows)
            for chunk in loaded.iter_sample(rows, seed=seed, conditions=_conditions(where)):
                writer.write(chunk)
                if stage is not None:
                    stage.advance(len(chunk))
            if stage is not None:
                stage.finish()
        return writer.rows, len(loaded.schema_.columns), time.perf_counter() - started

    written, width, seconds = _run(action)
    _final(
        f"wrote {written:,} rows x {width} columns to {out} in {seconds:.2f} s "
        f"({written / max(seconds, 1e-9):,.0f} rows/s)"
    )


def _sample_shards(
    model: Path,
    rows: int,
    out: Path,
    seed: int | None,
    device: str | None,
    where: list[str] | None,
    shards: int,
    workers: int,
    ray: str | None = None,
) -> None:
    def action() -> Any:
        from synthgen.shards import sample_shards

        with _progress() as display:
            stage = None if display is None else Stage(display, "sample", "sample", "rows", total=rows)
            manifest = sample_shards(
                model,
                rows,
                shards,
                out,
                seed=seed,
                workers=workers,
                device=device or "auto",
                conditions=_conditions(where),
                on_shard=None if stage is None else lambda record: stage.advance(record["rows"]),
                ray=ray,
            )
            if stage is not None:
                stage.finish()
        return manifest

    manifest = _run(action)
    seconds = manifest["seconds"]
    engine = "Ray actor(s)" if manifest.get("engine") == "ray" else "worker(s)"
    _final(
        f"wrote {manifest['rows']:,} rows in {manifest['shards']} parts to {out} in {seconds:.2f} s "
        f"({manifest['rows'] / max(seconds, 1e-9):,.0f} rows/s, {manifest['workers']} {engine}); "
        f"release sha256 {manifest['release_sha256'][:16]}"
    )


@app.command(epilog=EXIT_CODES_HELP)
def validate(recipe: Path = typer.Argument(..., help="Recipe YAML file.")) -> None:
    """Check a recipe, its data and its output places: every check that needs no training.

    What `validate` passes, `generate` accepts (short of the release gate, which needs a model).
    """

    def action() -> Any:
        from synthgen.artifacts import check_model_target
        from synthgen.files import ensure_writable, ensure_writable_dir
        from synthgen.pipeline import check_targets, prepare_data, release_rows, report_dir_for
        from synthgen.recipe import load_recipe

        loaded = load_recipe(recipe)
        check_targets(loaded, loaded.model_path, loaded.output_path)
        check_model_target(loaded.model_path)
        ensure_writable(loaded.output_path)
        ensure_writable_dir(report_dir_for(loaded.output_path))
        train_rows, holdout_rows, schema = prepare_data(loaded)
        release_rows(loaded, None, len(train_rows) + len(holdout_rows))
        return loaded, len(train_rows) + len(holdout_rows), schema

    loaded, n_rows, schema = _run(action)
    if _quiet():
        _final(f"{recipe}: valid ({n_rows:,} rows)")
        return
    table = Table(title=f"{recipe}: valid ({n_rows:,} rows)")
    for name in ("column", "kind", "nullable", "bounds"):
        table.add_column(name)
    for column in schema.columns:
        bounds = "" if column.min is None and column.max is None else f"[{column.min}, {column.max}]"
        mark = " (target)" if column.name == schema.target else ""
        table.add_row(column.name + mark, column.kind.value, "yes" if column.nullable else "", bounds)
    out_console.print(table)
    generator = loaded.generator
    _final(f"generator: {generator.type} on {generator.device}; output: {loaded.output_path}")


@app.command(epilog=EXIT_CODES_HELP)
def inspect(
    data: Path = typer.Argument(..., help="CSV or Parquet file."),
    target: str | None = typer.Option(None, "--target", help="Target column."),
    out: Path | None = typer.Option(
        None, "--out", help="Write the recipe to this file (its source path relative to it) instead of printing it."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the --out file if it exists."),
) -> None:
    """Print (or write, with --out) a recipe skeleton with the schema inferred from a data file.

    A recipe reads its paths relative to its own folder. With --out, ``source:`` is written relative
    to the recipe file, so `synthgen validate` passes on it right away. Printed, it is relative to the
    file standard output is redirected to when that can be told (``> recipes/x.yaml`` on Linux), else
    absolute, with a comment saying so.
    """

    def action() -> Any:
        from synthgen.io import read_table, write_text
        from synthgen.proposals import propose_constraints
        from synthgen.schema import infer_schema

        if out is not None:
            _check_recipe_target(out, data, force)
        frame = read_table(data)
        inferred = infer_schema(frame, target=target, source=str(data))
        text = _skeleton(data, frame, inferred, propose_constraints(frame, inferred), out or _stdout_file())
        if out is None:
            sys.stdout.write(text)
            return None
        _check_recipe_target(out, data, force)  # again: the file may have appeared meanwhile
        return write_text(text, out)

    written = _run(action)
    if written is not None:
        if not _quiet():
            console.print(f"review every kind, then run: synthgen validate {written}", markup=False, highlight=False)
        _final(f"wrote {written}")


def _check_recipe_target(out: Path, data: Path, force: bool) -> None:
    if out.exists() and out.resolve() == data.resolve():
        raise InputError(f"--out {out} is the data file itself; write the recipe elsewhere")
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; give the recipe file's path, e.g. {out / (data.stem + '.yaml')}")
    if out.exists() and not force:
        raise InputError(f"--out {out} already exists; pass --force to replace it")


def _stdout_file() -> Path | None:
    """The regular file standard output is redirected to, where the system tells it (Linux), else None."""
    try:
        fd = sys.stdout.fileno()
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            return None
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        found = path.stat()
    except (AttributeError, OSError, ValueError):
        return None
    same = (found.st_dev, found.st_ino) == (opened.st_dev, opened.st_ino)
    return path if same and path.is_absolute() else None


def _source_path(data: Path, recipe_file: Path | None) -> tuple[str, str]:
    """``source:`` for a recipe saved at ``recipe_file`` (None: unknown), and a comment on what it is relative to."""
    absolute = data.resolve()
    if recipe_file is not None:
        folder = recipe_file.resolve().parent
        try:
            shared = Path(os.path.commonpath([absolute, folder]))
        except ValueError:  # another drive (Windows): no relative path exists
            shared = Path(absolute.anchor)
        if shared != Path(absolute.anchor):  # a common folder below the root: the pair moves together
            relative = os.path.relpath(absolute, folder)
            return Path(relative).as_posix(), "# source: relative to this recipe file's folder\n"
    return absolute.as_posix(), (
        "# source: absolute, so this recipe works wherever it is saved; a relative path would be read from\n"
        "# the recipe file's folder, not from the current directory\n"
    )


class _FlowList(list):
    """A list the skeleton writes on one line (wrapped), ``[21, 22, 23]``: a scale's levels, one per line,
    would bury the rest of the column's entry."""


class _SkeletonDumper(yaml.SafeDumper):
    pass


_SkeletonDumper.add_representer(
    _FlowList, lambda dumper, value: dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)
)


def _skeleton(data: Path, frame: Any, schema: Any, proposals: list[str], recipe_file: Path | None) -> str:
    columns = {}
    for column in schema.columns:
        entry: dict[str, Any] = {"kind": column.kind.value}
        if column.nullable:
            entry["nullable"] = True
        if column.rounding is not None:
            entry["rounding"] = column.rounding
        if getattr(column, "format", None) is not None:
            entry["format"] = column.format.model_dump(mode="json", exclude_defaults=True)
        if getattr(column, "spikes", None):  # shown so a reviewer sees (and may turn off) what was inferred
            entry["spikes"] = _FlowList(int(v) if float(v).is_integer() else v for v in column.spikes)
        columns[column.name] = entry
    source, note = _source_path(data, recipe_file)
    skeleton = {
        "schema": {"target": schema.target, "columns": columns},
        "generator": {"type": "ddpm", "steps": 6000, "device": "auto", "seed": 0},
        "split": {"holdout": 0.2, "seed": 0},
        "generate": {"rows": len(frame), "output": f"out/{data.stem}_synthetic.csv"},
    }
    dump = {"sort_keys": False, "allow_unicode": True}
    text = f"# recipe skeleton inferred from {data} ({len(frame):,} rows); review every kind\n"
    text += yaml.safe_dump({"name": data.stem}, **dump) + note + yaml.safe_dump({"source": source}, **dump)
    text += yaml.dump(skeleton, Dumper=_SkeletonDumper, **dump)
    if proposals:
        text += (
            "# Constraints that hold in every row of the data. Uncomment the rules of the domain (not the accidents\n"
            "# of this sample): generated rows will then obey them exactly.\n# constraints:\n"
        )
        text += "\n".join(proposals) + "\n"
    return text


@app.command(epilog=EXIT_CODES_HELP)
def evaluate(
    synthetic: Path = typer.Option(..., "--synthetic", help="Synthetic table to judge."),
    recipe: Path | None = typer.Option(None, "--recipe", help="Take the real data, split and gates from a recipe."),
    real: Path | None = typer.Option(None, "--real", help="Real training rows (without --recipe)."),
    holdout: Path | None = typer.Option(None, "--holdout", help="Real holdout rows (without --recipe)."),
    target: str | None = typer.Option(None, "--target", help="Target column (without --recipe)."),
    report: Path | None = typer.Option(None, "--report", help="Report folder (default: beside the synthetic file)."),
) -> None:
    """Judge a synthetic table against real data: fidelity, utility, privacy, and the release gate."""

    def action() -> Any:
        from synthgen.files import ensure_writable_dir
        from synthgen.io import read_table
        from synthgen.judge import EvaluateSettings, GateSettings, evaluate as judge, write_report
        from synthgen.judge.evaluation import PARTS
        from synthgen.pipeline import prepare_data
        from synthgen.recipe import load_recipe
        from synthgen.schema import infer_schema
        from synthgen.streamed_judging import real_hashes

        folder = report or synthetic.parent / f"{synthetic.stem}_report"
        ensure_writable_dir(folder)
        fake = read_table(synthetic)
        if recipe is not None:
            if real is not None or holdout is not None:
                raise InputError("give either --recipe or --real/--holdout, not both")
            loaded = load_recipe(recipe)
            train_rows, holdout_rows, schema = prepare_data(loaded)
            settings, gates, device = loaded.evaluate, loaded.gates, loaded.generator.device
            hashes = real_hashes(loaded, schema)  # a streamed source: the exact checks over every real row
        else:
            if real is None or holdout is None:
                raise InputError("give --recipe, or both --real and --holdout")
            train_rows, holdout_rows = read_table(real), read_table(holdout)
            schema = infer_schema(train_rows, target=target, source=str(real))
            settings, gates, device = EvaluateSettings(), GateSettings(), "auto"
            hashes = None
        with _progress() as display:
            stage = None
            if display is not None:
                stage = Stage(display, "evaluate", "evaluate", "parts", total=len(PARTS) + 1, estimate=False)
            result = judge(
                train_rows,
                holdout_rows,
                fake,
                schema,
                settings=settings,
                gates=gates,
                device=device,
                progress=None if stage is None else lambda part, done, _: stage.update(done, detail=part),
                real_hashes=hashes,
            )
            if stage is not None:
                stage.update(len(PARTS), detail="report")
            write_report(result, folder, extra_metadata={"synthetic": str(synthetic)})
            if stage is not None:
                stage.finish(detail="gate passed" if result.passed else "gate failed")
        return result, folder

    result, folder = _run(action)
    if not _quiet():
        _print_gate(result)
    if _verbose():
        timings = result.run.timings_s
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        console.print(f"judge parts: {parts}", markup=False, highlight=False, soft_wrap=True)
    _final(f"report: {folder}")
    if not result.passed:
        console.print("[bold red]gate failed[/]")
        raise typer.Exit(GateFailedError.exit_code)


@app.command(epilog=EXIT_CODES_HELP)
def audit(
    recipe: Path = typer.Argument(..., help="Recipe YAML file."),
    shadows: int = typer.Option(8, "--shadows", min=2, help="Shadow models K (even; 8 or more for a verdict)."),
    targets: int = typer.Option(5, "--targets", min=1, help="The most isolated training records to attack."),
    rows: int | None = typer.Option(None, "--rows", min=10, help="Rows each shadow samples (default: the train rows)."),
    epochs: int | None = typer.Option(
        None, "--epochs", min=1, help="Training epochs (ctgan) or the cap on passes over the data (ddpm), per shadow."
    ),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda (overrides the recipe)."),
    seed: int | None = typer.Option(
        None, "--seed", help="Seeds the design, shadows and statistics (default: model's)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for audit.json (default: <recipe output folder>/<name>_audit)."
    ),
    fail_on_vulnerable: bool = typer.Option(
        False, "--fail-on-vulnerable", help="Exit 3 when a record is found vulnerable (default: a report, exit 0)."
    ),
) -> None:
    """Shadow-model membership attacks on the most isolated training records: the expensive privacy tier.

    K shadow generators each train on half of the targets; per record: ROC AUC, interval, p-value, verdict.

    It costs K x (fit + sample): --epochs makes it affordable on a CPU. A report (exit 0), not a gate.
    """

    def action() -> Any:
        from synthgen.audit import check_audit_dir, default_audit_dir, run_audit, write_audit
        from synthgen.pipeline import apply_overrides
        from synthgen.recipe import load_recipe

        loaded = apply_overrides(load_recipe(recipe), epochs=epochs, device=device)
        folder = check_audit_dir(loaded, out if out is not None else default_audit_dir(loaded))
        with _progress() as display:
            stage = None
            if display is not None:
                stage = Stage(display, "audit", f"shadow {loaded.generator.type} models", "models", total=shadows)
            report = run_audit(
                loaded,
                shadows=shadows,
                targets=targets,
                rows=rows,
                seed=seed,
                progress=None if stage is None else lambda *_: stage.advance(1),
            )
            if stage is not None:
                stage.finish()
        return report, write_audit(report, folder)

    from rich import box

    report, path = _run(action)
    if _quiet():
        vulnerable = ", ".join(map(str, report.vulnerable)) or "none shown"
        _final(f"audit: vulnerable records: {vulnerable}; report: {path}")
        if fail_on_vulnerable and report.vulnerable:
            raise typer.Exit(GateFailedError.exit_code)
        return

    def scored(attack: Any) -> str:
        if attack.auc is None:
            return "n/a"
        low, high = attack.interval if attack.interval is not None else (float("nan"), float("nan"))
        return f"{attack.auc:.2f} [{low:.2f}-{high:.2f}]"

    def p_value(attack: Any) -> str:
        return "" if attack.p_value is None else f"{attack.p_value:.3f}"

    colours = {"vulnerable": "bold red", "not shown": "green", "inconclusive": "yellow"}
    table = Table(
        title=f"synthgen audit: {report.shadows} shadows, {report.rows:,} rows each",
        caption="AUC [95 % bootstrap interval]; p: exact permutation p-value",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("row", no_wrap=True)
    table.add_column("isol.", justify="right", no_wrap=True)
    table.add_column("threshold AUC", justify="right", no_wrap=True)
    table.add_column("p", justify="right")
    table.add_column("classifier AUC", justify="right", no_wrap=True)
    table.add_column("p", justify="right")
    table.add_column("verdict", no_wrap=True)
    for target in report.targets:
        table.add_row(
            str(target.index),
            f"{target.isolation:.2f}",
            scored(target.threshold),
            p_value(target.threshold),
            scored(target.classifier),
            p_value(target.classifier),
            f"[{colours.get(target.verdict, '')}]{target.verdict}[/]",
        )
    out_console.print(table)
    summary = Table(show_header=False)
    best = (
        "n/a"
        if report.max_auc is None
        else f"{report.max_auc:.3f} (row {report.max_auc_target}, {report.max_auc_attack})"
    )
    summary.add_row("max AUC", best)
    summary.add_row("vulnerable", ", ".join(map(str, report.vulnerable)) or "none shown")
    summary.add_row("generator", f"{report.generator['type']} {report.budget} on {report.device}")
    summary.add_row("shadows", f"{report.shadows} (smallest attainable p {report.min_p_value:.3g})")
    fits = [run.fit_s for run in report.shadow_runs]
    samples = [run.sample_s for run in report.shadow_runs]
    summary.add_row(
        "time",
        f"{report.total_s:.1f} s total: setup {report.setup_s:.1f} s, {report.shadow_s:.1f} s per shadow "
        f"(fit {min(fits):.1f}-{max(fits):.1f} s, sample {min(samples):.1f}-{max(samples):.1f} s)",
    )
    summary.add_row("report", str(path))
    out_console.print(summary)
    if fail_on_vulnerable and report.vulnerable:
        console.print(f"[bold red]vulnerable records:[/] {', '.join(map(str, report.vulnerable))}")
        raise typer.Exit(GateFailedError.exit_code)


def run() -> None:
    """The console entry point: Ctrl-C anywhere is a quiet exit 130, SIGTERM a quiet 143."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except SystemExit as exc:  # typer turns a Ctrl-C outside a command's work into a silent exit 130
        if exc.code == 130 and not _state.get("said"):
            console.print("[yellow]interrupted[/]")
        raise
    except Terminated:
        console.print("[yellow]terminated[/]")
        sys.exit(143)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    run()
