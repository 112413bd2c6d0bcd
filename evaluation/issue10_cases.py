"""Issue 10, replayed: every case the adversarial user tried, done as they did it, with today's answer.

    .venv/bin/python -m evaluation.issue10_cases [--out evaluation/results/issue10_cases.json]
                                                 [--only SUBSTRING ...] [--keep]
    (or: python -m evaluation.run --job issue10 [the same options]; `python evaluation/issue10_cases.py` works too)

Each case runs in its own folder under one temporary directory (removed at the end unless ``--keep``).
The command line runs in-process through ``typer.testing.CliRunner`` on ``synthgen.cli.app``; only the
two signal cases start a real process (``python -c "from synthgen._entry import main; main()" ...``),
because a signal needs one. Budgets are tiny (CTGAN, ``epochs: 1``, ``device: cpu``, the builtin
german_credit table with target ``creditability``) and the release gates are opened where a case needs
data written, so the whole run takes a few minutes on 2 cores.

For each case the record holds: the case (worded as the issue words it), what happened before (the
issue's own figure), the command, the exit code now, the first line of the message now (trimmed to
about 140 characters, the temporary folder shown as ``<tmp>``), whether the user's files are intact
and nothing was half-written (where that applies), the measured figures (times, counts, modes, sample
values) and a one-word verdict:

    refused    bad input is refused now: exit 2, one message, no traceback, the user's files untouched
    fixed      the case now does the right thing (it runs, keeps the data, cleans up, ...)
    warned     the case is allowed, with a warning before any training
    NOT FIXED  what the issue asks for does not happen; ``detail`` says which check failed

A verdict is never chosen by hand: each case lists its checks, and a failed check makes it NOT FIXED.
Writes the records, the machine and the command to ``evaluation/results/issue10_cases.json`` and
prints a markdown table (case | before | now (exit, message) | verdict).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "evaluation" / "results" / "issue10_cases.json"

os.umask(0o022)  # the usual umask, set before synthgen reads it at import: file modes are judged against it

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from evaluation.results import command_line, write_results  # noqa: E402
from synthgen.cli import app  # noqa: E402

GERMAN = ROOT / "synthgen" / "data" / "german_credit.csv"
OPEN_GATES = (
    "gates: {min_shape: null, min_trend: null, min_tstr_ratio: null, max_mia_auc: null, "
    "max_mia_tpr_at_1pct_fpr: null}\n"
)
MESSAGE_CHARS = 140
runner = CliRunner()


# -- plumbing ---------------------------------------------------------------------------------------
class Ctx:
    """The temporary root, one folder per case, and the model trained once for the cases that need one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._model: Path | None = None

    def folder(self, name: str) -> Path:
        path = self.root / re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        path.mkdir(parents=True, exist_ok=False)
        return path

    def model(self) -> Path:
        """A CTGAN model directory trained once on german_credit (epochs 1) with `synthgen train`."""
        if self._model is None:
            folder = self.root / "_shared"
            folder.mkdir()
            recipe = write_recipe(folder)
            res = cli("train", recipe, "--out", folder / "model")
            if res.exit_code != 0:
                raise RuntimeError(f"training the shared model failed: {res.output[-2000:]}")
            self._model = folder / "model"
        return self._model

    def copy_model(self, to: Path) -> Path:
        shutil.copytree(self.model(), to)
        return to


class Run:
    """One in-process CLI call: exit code, combined output, seconds, whether a traceback escaped."""

    def __init__(self, args: list[str], result: Any, seconds: float) -> None:
        self.args = args
        self.exit_code = result.exit_code
        self.output = result.output
        self.seconds = seconds
        exc = result.exception
        self.unexpected = None if exc is None or isinstance(exc, SystemExit) else exc
        self.traceback = "Traceback" in self.output or self.unexpected is not None

    def message(self, root: Path) -> str:
        if self.unexpected is not None:
            return clip(f"{type(self.unexpected).__name__}: {self.unexpected}", root)
        return first_message(self.output, root, fallback=self.exit_code != 0)


def cli(*args: object) -> Run:
    argv = [str(a) for a in args]
    started = time.perf_counter()
    result = runner.invoke(app, argv)
    return Run(argv, result, time.perf_counter() - started)


def clip(text: str, root: Path) -> str:
    text = text.replace(str(root.resolve()), "<tmp>").replace(str(root), "<tmp>")
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def first_message(output: str, root: Path, fallback: bool = True) -> str:
    """The first line that is a message (error, gate, warning, interrupt); else, with ``fallback``, the
    first non-empty line that is not a progress bar or table rule (a success has no message)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for prefix in ("error:", "gate failed:", "warning:", "interrupted", "terminated"):
        for line in lines:
            if line.startswith(prefix):
                return clip(line, root)
    if not fallback:
        return ""
    plain = [line for line in lines if not set(line) & set("━─═│┃┏┓┗┛┡┩╭╮╰╯")]
    return clip(plain[0], root) if plain else ""


def write_recipe(
    folder: Path,
    body: str = "",
    source: str = "{builtin: german_credit}",
    target: str = "creditability",
    rows: int = 200,
    output: str = "out/demo.csv",
    name: str = "demo",
    gates: bool = True,
) -> Path:
    path = folder / "recipe.yaml"
    path.write_text(
        f"name: {name}\n"
        f"source: {source}\n"
        f"schema: {{target: {target}}}\n"
        "generator: {type: ctgan, epochs: 1, batch_size: 200, device: cpu}\n"
        f"generate: {{rows: {rows}, output: {output}}}\n" + (OPEN_GATES if gates else "") + body,
        encoding="utf-8",
    )
    return path


def plain_recipe(folder: Path, body: str, source: str = "t.csv") -> Path:
    """A recipe without a target, as the user wrote them for their own small tables."""
    path = folder / "r.yaml"
    path.write_text(
        f"name: x\nsource: {source}\ngenerator: {{type: ctgan, epochs: 1, batch_size: 10, device: cpu}}\n" + body,
        encoding="utf-8",
    )
    return path


def tree(folder: Path) -> list[str]:
    """Every path under ``folder``, relative, sorted (what a failed run must not leave)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def german() -> pd.DataFrame:
    return pd.read_csv(GERMAN)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def spawn(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        [sys.executable, "-c", "from synthgen._entry import main; main()", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen, timeout: float) -> tuple[int | None, str, bool]:
    """(exit code, stderr, hung): wait for a process we started; kill it (by its own pid) if it hangs."""
    try:
        _, err = process.communicate(timeout=timeout)
        return process.returncode, err, False
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        return process.returncode, err, True


def record(
    case: str,
    before: str,
    run: Run | None,
    root: Path,
    checks: list[tuple[str, bool]],
    verdict: str,
    *,
    issue: str,
    command: str | None = None,
    exit_code: int | None = None,
    message: str | None = None,
    files_intact: bool | None = None,
    summary: str = "",
    measured: dict[str, Any] | None = None,
    had_traceback: bool | None = None,
) -> dict[str, Any]:
    """One case record; ``verdict`` stands only if every check passed, else NOT FIXED."""
    failed = [name for name, ok in checks if not ok]
    if run is not None:
        command = command or "synthgen " + " ".join(run.args)
        exit_code = run.exit_code if exit_code is None else exit_code
        message = run.message(root) if message is None else message
    return {
        "case": case,
        "issue": issue,
        "before": before,
        "command": clip(command or "", root) if command else None,
        "exit_code": exit_code,
        "message": message or "",
        "traceback": bool(run.traceback) if run is not None else had_traceback,
        "files_intact": files_intact,
        "summary": summary,
        "measured": measured or {},
        "checks": {name: bool(ok) for name, ok in checks},
        "verdict": verdict if not failed else "NOT FIXED",
        "detail": "failed: " + "; ".join(failed) if failed else "",
    }


def clean(run: Run, code: int = 2) -> list[tuple[str, bool]]:
    """The contract of a refusal: the documented exit code, a message, no traceback."""
    checks = [(f"exit {code}", run.exit_code == code), ("no traceback", not run.traceback)]
    if code != 0:
        checks.append(("one message", bool(first_message(run.output, Path(tempfile.gettempdir())))))
    return checks


# -- data loss and leaks ----------------------------------------------------------------------------
def case_users_folder_as_model_dir(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("users folder as --out")
    folder = tmp / "w"
    folder.mkdir()
    (folder / "thesis.txt").write_text("four years of work")
    run = cli("train", write_recipe(tmp), "--out", folder, "--epochs", "2")
    intact = (folder / "thesis.txt").exists() and (folder / "thesis.txt").read_text() == "four years of work"
    return [
        record(
            "existing folder as the model directory (`train --out w`)",
            "exit 0 and `thesis.txt` deleted",
            run,
            ctx.root,
            clean(run)
            + [
                ("thesis.txt intact", intact),
                ("names thesis.txt", "thesis.txt" in run.output),
                ("refused before training (<30 s)", run.seconds < 30),
            ],
            "refused",
            issue="data loss 1",
            files_intact=intact,
            summary=f"{run.seconds:.2f} s; thesis.txt intact" if intact else "thesis.txt LOST",
            measured={"seconds_to_refusal": round(run.seconds, 3)},
        )
    ]


def case_model_dir_holding_source(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("model_dir holding the source")
    (tmp / "data").mkdir()
    german().to_csv(tmp / "data" / "loans.csv", index=False)
    before = (tmp / "data" / "loans.csv").read_bytes()
    recipe = write_recipe(tmp, body="model_dir: data\n", source="data/loans.csv")
    run = cli("generate", recipe)
    intact = (tmp / "data" / "loans.csv").exists() and (tmp / "data" / "loans.csv").read_bytes() == before
    leftovers = [p for p in tree(tmp) if not p.startswith("data") and p != "recipe.yaml"]
    return [
        record(
            "`model_dir: data` where the source CSV lives",
            "the source CSV beside it was deleted",
            run,
            ctx.root,
            clean(run) + [("source CSV intact", intact), ("nothing written", not leftovers)],
            "refused",
            issue="data loss 1",
            files_intact=intact,
            summary="source CSV intact" if intact else "source CSV LOST",
        )
    ]


CYRILLIC_UPPER, CYRILLIC_LOWER = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ", "абвгдежзиклмнопрстуфхцчшэюя"
EMOJI = "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘🌸🌼🌻🌺🍀🍁🍂🍎🍊🍋🍉🍇🐶🐱🦊🐻🐼🐨🦁🐯"


def _word(rng: np.random.Generator, upper: str, lower: str, length: int) -> str:
    return "".join([str(rng.choice(list(upper))), *(str(c) for c in rng.choice(list(lower), length))])


# column -> (the script its values must keep, a maker of one real value)
PII_SCRIPTS: dict[str, tuple[str, Callable[[np.random.Generator], str]]] = {
    "name_cyrillic": (
        "CYRILLIC",
        lambda rng: _word(rng, CYRILLIC_UPPER, CYRILLIC_LOWER, 5) + " " + _word(rng, CYRILLIC_UPPER, CYRILLIC_LOWER, 6),
    ),
    "name_cjk": ("CJK", lambda rng: "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FA5, 3))),
    "name_accented": (
        "LATIN",
        lambda rng: (
            _word(rng, "ÉÀÇÑØÅÜABCDEFGHJKLMNPRST", "éèàçñøåüßaeioulnrst", 6)
            + " "
            + _word(rng, "ÉÀÇÑØÅÜABCDEFGHJKLMNPRST", "éèàçñøåüßaeioulnrst", 5)
        ),
    ),
    "name_emoji": (
        "EMOJI",
        lambda rng: (
            "".join(str(c) for c in rng.choice(list(EMOJI), 2))
            + " "
            + _word(rng, "ABCDEFGHIJKLMNOPRSTUVWZ", "abcdefghijklmnoprstuvwz", 5)
        ),
    ),
}


def _script_ok(value: str, script: str) -> bool:
    if script == "EMOJI":
        return any(unicodedata.category(c) == "So" for c in value)
    letters = [c for c in value if unicodedata.category(c).startswith("L")]
    return bool(letters) and all(unicodedata.name(c, "").startswith(script) for c in letters)


def case_non_ascii_pii(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("non ascii pii")
    rng = np.random.default_rng(10)
    n = 600
    frame = pd.DataFrame({"income": rng.integers(1_000, 9_000, n), "grade": rng.choice(list("ABCD"), n)})
    real: dict[str, set[str]] = {}
    for column, (_, make) in PII_SCRIPTS.items():
        values: list[str] = []
        while len(values) < n:
            value = make(rng)
            if value not in values:
                values.append(value)
        frame[column] = values
        real[column] = set(values)
    frame.to_csv(tmp / "people.csv", index=False)
    columns = "".join(f"    {c}: {{kind: pii}}\n" for c in PII_SCRIPTS)
    (tmp / "recipe.yaml").write_text(
        "name: people\nsource: people.csv\nschema:\n  target: grade\n  columns:\n"
        + columns
        + "generator: {type: ctgan, epochs: 1, batch_size: 200, device: cpu}\n"
        + f"generate: {{rows: {n}, output: out/people.csv}}\n"
        + OPEN_GATES,
        encoding="utf-8",
    )
    run = cli("generate", tmp / "recipe.yaml", "--force-release")
    model = tmp / ".synthgen" / "models" / "people"
    sampled = cli("sample", model, "--rows", n, "--out", tmp / "sampled.csv", "--seed", "3")
    measured: dict[str, Any] = {"rows_real": n, "rows_synthetic": n}
    equal_total, equal_sample_total, script_kept = 0, 0, True
    out = pd.read_csv(tmp / "out" / "people.csv", dtype=str) if (tmp / "out" / "people.csv").exists() else None
    out_sampled = pd.read_csv(tmp / "sampled.csv", dtype=str) if (tmp / "sampled.csv").exists() else None
    for column, (script, _) in PII_SCRIPTS.items():
        entry: dict[str, Any] = {}
        if out is not None:
            values = out[column].dropna().tolist()
            equal = sum(v in real[column] for v in values)
            equal_total += equal
            kept = float(np.mean([_script_ok(v, script) for v in values])) if values else 0.0
            script_kept &= kept > 0.9
            entry.update(
                equal_to_real=f"{equal} of {len(values)}",
                share_in_script=round(kept, 3),
                example=values[0] if values else None,
            )
        if out_sampled is not None:
            values = out_sampled[column].dropna().tolist()
            equal = sum(v in real[column] for v in values)
            equal_sample_total += equal
            entry["sample_cmd_equal_to_real"] = f"{equal} of {len(values)}"
        measured[column] = entry
    every_real = set().union(*real.values())
    state = (model / "state.json").read_text(encoding="utf-8") if (model / "state.json").exists() else ""
    in_state = sorted(v for v in every_real if v in state)
    in_files = []
    for path in sorted(tmp.rglob("*")):
        if not path.is_file() or path in (tmp / "people.csv", tmp / "recipe.yaml"):
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        hits = [v for v in every_real if v in text]
        if hits:
            in_files.append(f"{path.relative_to(tmp)} ({len(hits)})")
    measured.update(
        real_names_in_state_json=len(in_state),
        files_holding_a_real_name=in_files,
        generate_exit=run.exit_code,
        sample_exit=sampled.exit_code,
    )
    checks = [
        ("generate exit 0", run.exit_code == 0),
        ("sample exit 0", sampled.exit_code == 0),
        ("no synthetic value equals a real one (generate)", out is not None and equal_total == 0),
        ("no sampled value equals a real one (sample)", out_sampled is not None and equal_sample_total == 0),
        ("no real name in state.json", not in_state),
        ("no real name in any written file", not in_files),
        ("values keep their script", script_kept),
    ]
    per = ", ".join(f"{c.split('_', 1)[1]} {measured[c].get('equal_to_real', '?')}" for c in PII_SCRIPTS)
    return [
        record(
            "non-ASCII PII (Cyrillic, CJK, accented Latin, emoji)",
            "600 of 600 synthetic names equal real ones; real names stored in `state.json`",
            run,
            ctx.root,
            checks,
            "fixed",
            issue="data loss 2",
            command="synthgen generate recipe.yaml --force-release; synthgen sample MODEL --rows 600",
            message=f"synthetic values equal to real ones: {equal_total} of {4 * n}" if out is not None else None,
            summary=f"{per}; via `sample`: {equal_sample_total} of {4 * n}; real names in state.json: {len(in_state)}; "
            f"files holding one: {len(in_files)}",
            measured=measured,
        )
    ]


def case_output_is_source(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("output equal to the source")
    german().to_csv(tmp / "base.csv", index=False)
    before = (tmp / "base.csv").read_bytes()
    recipe = tmp / "r.yaml"
    recipe.write_text(
        "name: x\nsource: base.csv\ngenerator: {type: ctgan, epochs: 1, batch_size: 200, device: cpu}\n"
        "generate: {output: base.csv}\n" + OPEN_GATES
    )
    run = cli("generate", recipe, "--force-release")
    dotted = cli("generate", recipe, "--out", tmp / "sub" / ".." / "base.csv", "--force-release")
    intact = (tmp / "base.csv").read_bytes() == before
    nothing = tree(tmp) == ["base.csv", "r.yaml"]
    return [
        record(
            "output path equal to the source (`output: base.csv`, `--force-release`)",
            "exit 0; the real data overwritten",
            run,
            ctx.root,
            clean(run) + clean(dotted) + [("base.csv intact", intact), ("nothing written", nothing)],
            "refused",
            issue="data loss 3",
            files_intact=intact and nothing,
            summary=f"also `--out sub/../base.csv`: exit {dotted.exit_code}; base.csv intact"
            if intact
            else "base.csv CHANGED",
            measured={"dotted_path_exit": dotted.exit_code, "dotted_path_message": dotted.message(ctx.root)},
        )
    ]


def case_output_in_model_dir(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("output inside the model directory")
    model = ctx.copy_model(tmp / "m")
    before = sorted(p.name for p in model.iterdir())
    run = cli("sample", model, "--rows", "5", "--out", model / "rows.csv")
    intact = sorted(p.name for p in model.iterdir()) == before
    return [
        record(
            "output inside the model directory (`sample m --out m/rows.csv`)",
            'no figure (item 3: "refuse any output that resolves to ... the model directory")',
            run,
            ctx.root,
            clean(run) + [("model directory unchanged", intact)],
            "refused",
            issue="data loss 3",
            files_intact=intact,
        )
    ]


def _alias_bomb(levels: int = 9, fanout: int = 9) -> str:
    names = "abcdefghijklmnop"
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * fanout)}]"]
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [{', '.join([f'*{names[i - 1]}'] * fanout)}]")
    lines.append(f"name: *{names[levels - 1]}\nsource: a.csv")
    return "\n".join(lines) + "\n"


def case_alias_bomb(ctx: Ctx) -> list[dict]:
    """Timed once cold (the first command of the process: its imports of torch, pandas... count) and
    once warm (what the bomb itself costs); memory is what Python allocated during the warm refusal."""
    import tracemalloc

    tmp = ctx.folder("alias bomb")
    path = tmp / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    cold = cli("validate", path)
    run = cli("validate", path)
    tracemalloc.start()
    cli("validate", path)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return [
        record(
            "YAML alias bomb (`name: *i` over 9 nested aliases) on `validate`",
            "7.2 GB of memory in 96 s",
            run,
            ctx.root,
            clean(run)
            + clean(cold)
            + [
                ("refused in under 1 s (imports done)", run.seconds < 1.0),
                ("under 50 MiB allocated", peak < 50),
                ("names aliases", "alias" in run.output.lower()),
            ],
            "refused",
            issue="data loss 4",
            summary=f"refused in {run.seconds * 1000:.0f} ms ({cold.seconds:.1f} s as the process's first command, "
            f"imports included); {peak:.1f} MiB allocated",
            measured={
                "seconds_to_refusal": round(run.seconds, 4),
                "seconds_cold_with_imports": round(cold.seconds, 2),
                "peak_python_alloc_mib": round(peak, 2),
            },
        )
    ]


# -- contract breaks --------------------------------------------------------------------------------
def case_infinite_values(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("inf values")
    frame = german().head(200).astype({"credit_amount": float})
    frame.loc[[3, 7], "credit_amount"] = [float("inf"), float("-inf")]
    frame.to_csv(tmp / "t.csv", index=False)
    recipe = plain_recipe(tmp, "")
    run = cli("validate", recipe)
    gen = cli("generate", recipe)
    nothing = tree(tmp) == ["r.yaml", "t.csv"]
    recipe.write_text(recipe.read_text() + "schema: {columns: {credit_amount: {non_finite: missing}}}\n")
    missing = cli("validate", recipe)
    return [
        record(
            "`inf` and `-inf` in a numeric column",
            "accepted (with 1e300: 19 % of synthetic rows near 1e300, released)",
            run,
            ctx.root,
            clean(run)
            + clean(gen)
            + [
                ("names the column", "credit_amount" in run.output),
                ("nothing written", nothing),
                ("`non_finite: missing` validates", missing.exit_code == 0),
            ],
            "refused",
            issue="contract: infinite values",
            files_intact=nothing,
            summary=f"generate exit {gen.exit_code}; with `non_finite: missing`: validate exit {missing.exit_code}",
            measured={"generate_exit": gen.exit_code, "non_finite_missing_validate_exit": missing.exit_code},
        )
    ]


def _validate_and_generate(ctx: Ctx, name: str, before: str, frame: pd.DataFrame, schema: str, fragment: str) -> dict:
    tmp = ctx.folder(name)
    frame.to_csv(tmp / "t.csv", index=False)
    recipe = plain_recipe(tmp, schema)
    run = cli("validate", recipe)
    gen = cli("generate", recipe)
    nothing = tree(tmp) == ["r.yaml", "t.csv"]
    return record(
        name,
        before,
        run,
        ctx.root,
        clean(run)
        + clean(gen)
        + [
            (f"message names {fragment!r}", fragment in " ".join(run.output.split())),
            ("generate refused in under 30 s", gen.seconds < 30),
            ("nothing written", nothing),
        ],
        "refused",
        issue="contract: validate passes what generate rejects",
        files_intact=nothing,
        summary=f"`generate` exit {gen.exit_code} in {gen.seconds:.1f} s",
        measured={
            "generate_exit": gen.exit_code,
            "generate_seconds": round(gen.seconds, 2),
            "generate_message": gen.message(ctx.root),
        },
    )


def case_validate_parity(ctx: Ctx) -> list[dict]:
    ages = pd.DataFrame({"age": list(range(20, 80))})
    return [
        _validate_and_generate(
            ctx,
            '`min: "eighteen"` on an integer column',
            "passed `validate`; `generate` crashed with ValueError (exit 1, traceback)",
            ages,
            "schema: {columns: {age: {kind: integer, min: eighteen}}}\n",
            "age",
        ),
        _validate_and_generate(
            ctx,
            "an all-null column",
            "passed `validate`; rejected after 37 s of training",
            pd.DataFrame({"a": [1.5, 2.5, 3.5] * 20, "b": [None] * 60}),
            "schema: {columns: {b: {kind: numeric}}}\n",
            "'b'",
        ),
        _validate_and_generate(
            ctx,
            "a 2-row table",
            "passed `validate`, rejected by `generate`",
            pd.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"]}),
            "",
            "rows",
        ),
        _validate_and_generate(
            ctx,
            "a PII-only table",
            "passed `validate`, rejected by `generate`",
            pd.DataFrame({"email": [f"u{i}@x.org" for i in range(60)]}),
            "",
            "nothing to learn",
        ),
        _validate_and_generate(
            ctx,
            "`min: 90, max: 10`",
            "accepted; every generated age became 10",
            ages,
            "schema: {columns: {age: {kind: integer, min: 90, max: 10}}}\n",
            "age",
        ),
    ]


def case_unknown_device(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("device foo")
    run = cli("generate", write_recipe(tmp), "--device", "foo")
    nothing = tree(tmp) == ["recipe.yaml"]
    return [
        record(
            "`--device foo` on `generate`",
            "exit 1 with a traceback",
            run,
            ctx.root,
            clean(run) + [("names --device", "--device" in run.output), ("nothing written", nothing)],
            "refused",
            issue="contract: exit 1 on bad input",
            files_intact=nothing,
        )
    ]


def case_state_json_list(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("state json list")
    model = ctx.copy_model(tmp / "m")
    (model / "state.json").write_text("[1, 2]")
    run = cli("sample", model, "--rows", "5", "--out", tmp / "s.csv")
    nothing = not (tmp / "s.csv").exists() and [p for p in tmp.iterdir()] == [model]
    return [
        record(
            "`state.json` holding `[1, 2]`",
            "exit 1 with a traceback",
            run,
            ctx.root,
            clean(run) + [("names state.json", "state.json" in run.output), ("no output written", nothing)],
            "refused",
            issue="contract: exit 1 on bad input",
            files_intact=nothing,
        )
    ]


def case_proc_output(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("out proc")
    run = cli("generate", write_recipe(tmp), "--out", "/proc/x.csv")
    nothing = tree(tmp) == ["recipe.yaml"]
    return [
        record(
            "`--out /proc/x.csv` on `generate`",
            "exit 1 with a traceback after 17 s of work",
            run,
            ctx.root,
            clean(run) + [("refused in under 5 s", run.seconds < 5), ("nothing written", nothing)],
            "refused",
            issue="contract: exit 1 on bad input",
            files_intact=nothing,
            summary=f"refused after {run.seconds:.2f} s",
            measured={"seconds_to_refusal": round(run.seconds, 3)},
        )
    ]


def case_sigint_early(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("sigint early")
    recipe = write_recipe(tmp)
    runs, checks = {}, []
    for delay in (0.3, 1.0):
        process = spawn(["generate", str(recipe)], cwd=tmp)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        code, err, hung = finish(process, 120)
        runs[delay] = {
            "exit": code,
            "traceback": "Traceback" in err,
            "hung": hung,
            "last_line": clip(err.strip().splitlines()[-1] if err.strip() else "(no output)", ctx.root),
            "leftovers": [p for p in tree(tmp) if p != "recipe.yaml"],
        }
        checks += [
            (f"exit 130 at {delay} s", code == 130),
            (f"no traceback at {delay} s", "Traceback" not in err),
            (f"nothing left at {delay} s", not runs[delay]["leftovers"]),
        ]
    last = runs[1.0]
    return [
        record(
            "SIGINT in the first second of `generate`",
            "a KeyboardInterrupt traceback",
            None,
            ctx.root,
            checks,
            "fixed",
            issue="contract: exit 1 on bad input",
            command="python -c 'from synthgen._entry import main; main()' generate recipe.yaml; SIGINT after "
            "0.3 s and 1.0 s",
            exit_code=last["exit"],
            message=last["last_line"],
            had_traceback=runs[0.3]["traceback"] or last["traceback"],
            files_intact=not runs[0.3]["leftovers"] and not last["leftovers"],
            summary=f"at 0.3 s: exit {runs[0.3]['exit']}, {runs[0.3]['last_line']!r}; at 1.0 s: exit {last['exit']}, "
            f"{last['last_line']!r}; traceback: {runs[0.3]['traceback'] or last['traceback']}",
            measured={f"after_{d}s": v for d, v in runs.items()},
        )
    ]


def case_concurrent_saves(ctx: Ctx, threads: int = 10, saves: int = 30, rounds: int = 3) -> list[dict]:
    """The issue's scale (300 saves into one folder from threads), repeated ``rounds`` times into a new folder."""
    from synthgen.models import load_model

    tmp = ctx.folder("concurrent saves")
    model = load_model(ctx.model(), device="cpu")
    lock = threading.Lock()
    per_round: list[int] = []
    errors: list[str] = []
    loads, seconds = True, 0.0
    for index in range(rounds):
        target = tmp / f"shared{index}"
        failed: list[str] = []

        def work(target: Path = target, failed: list[str] = failed) -> None:
            for _ in range(saves):
                try:
                    model.save(target)
                except BaseException as exc:  # noqa: BLE001 - every failure is counted
                    with lock:
                        failed.append(f"{type(exc).__name__}: {exc}")

        started = time.perf_counter()
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds += time.perf_counter() - started
        try:
            loads &= load_model(target, device="cpu").sample(5, seed=1).shape[0] == 5
        except Exception as exc:  # noqa: BLE001 - recorded
            loads = False
            failed.append(f"reload: {type(exc).__name__}: {exc}")
        per_round.append(len(failed))
        errors += failed
    leftovers = sorted(p.name for p in tmp.iterdir() if not p.name.startswith("shared"))
    # distinct messages, the folder path left out, with how often each came
    distinct: dict[str, int] = {}
    for error in errors:
        key = clip(error, ctx.root).replace(f"<tmp>/{tmp.name}/", "")
        key = re.sub(r"shared\d+", "shared", key)
        distinct[key] = distinct.get(key, 0) + 1
    total = threads * saves
    return [
        record(
            f"concurrent saves into one model directory ({threads} threads x {saves} saves, Python, {rounds} rounds)",
            "ENOTEMPTY / FileNotFoundError in 8 of 300 saves",
            None,
            ctx.root,
            [
                ("no save failed", not errors),
                ("each folder loads and samples", loads),
                ("no staging left", not leftovers),
            ],
            "fixed",
            issue="contract: exit 1 on bad input",
            command=f"model.save(dir) from {threads} threads, {saves} times each, {rounds} times over",
            exit_code=None,
            had_traceback=False,
            message=(
                f"{' / '.join(str(n) for n in per_round)} of {total} saves failed"
                + (f"; e.g. {next(iter(distinct))}" if distinct else "")
            ),
            files_intact=loads and not leftovers,
            summary=f"{sum(per_round)} of {total * rounds} failed in {seconds:.1f} s; staging left: {len(leftovers)}",
            measured={
                "threads": threads,
                "saves_per_thread": saves,
                "rounds": rounds,
                "errors_per_round": per_round,
                "distinct_errors": distinct,
                "seconds": round(seconds, 2),
                "leftovers": leftovers,
            },
        )
    ]


# -- silent changes to the table --------------------------------------------------------------------
def case_duplicate_columns(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("duplicate column names")
    rng = np.random.default_rng(1)
    rows = "\n".join(
        f"{a},{b},{c}"
        for a, b, c in zip(rng.integers(18, 80, 60), rng.integers(1000, 9000, 60), rng.integers(18, 80, 60))
    )
    (tmp / "t.csv").write_text("age,income,age\n" + rows + "\n")
    run = cli("validate", plain_recipe(tmp, ""))
    return [
        record(
            "duplicate column names (`age,income,age`)",
            "silently renamed to `age.1`",
            run,
            ctx.root,
            clean(run) + [("names 'age'", "'age'" in run.output), ("says duplicate", "duplicate" in run.output)],
            "refused",
            issue="contract: silent changes",
            files_intact=tree(tmp) == ["r.yaml", "t.csv"],
        )
    ]


def case_semicolons_and_dates(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("semicolons and dates")
    frame = german().head(200)[["credit_amount", "purpose", "age_in_years", "creditability"]].copy()
    days = pd.Timestamp("2021-01-01") + pd.to_timedelta(frame.index % 300, unit="D")
    frame["opened"] = days.strftime("%m/%d/%Y")
    frame["stamp"] = (days + pd.Timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M:%S")
    frame.to_csv(tmp / "t.csv", index=False, sep=";")
    source = (tmp / "t.csv").read_bytes()
    recipe = tmp / "r.yaml"
    recipe.write_text(
        "name: x\nsource: t.csv\nschema: {target: creditability}\n"
        "generator: {type: ctgan, epochs: 1, batch_size: 50, device: cpu}\ngenerate: {rows: 200}\n" + OPEN_GATES
    )
    checked = cli("validate", recipe)
    inspected = runner.invoke(app, ["inspect", str(tmp / "t.csv")])
    try:
        skeleton = yaml.safe_load(inspected.stdout)
        columns_seen = len(skeleton["schema"]["columns"])
    except Exception:  # noqa: BLE001 - a skeleton that does not parse counts as no columns
        columns_seen = 0
    run = cli("generate", recipe)
    path = tmp / "out" / "x_synthetic.csv"
    out = pd.read_csv(path, dtype=str) if path.exists() else None
    same_columns = out is not None and list(out.columns) == list(frame.columns)
    copied = 0
    if same_columns:
        real_rows = set(map(tuple, frame.astype(str).values.tolist()))
        copied = sum(tuple(r) in real_rows for r in out.astype(str).values.tolist())
    intact = (tmp / "t.csv").read_bytes() == source
    opened_ok = bool(same_columns and out["opened"].str.fullmatch(r"\d\d/\d\d/\d{4}").all())
    stamp_ok = bool(same_columns and out["stamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all())
    sample_row = out.iloc[0][["opened", "stamp"]].tolist() if same_columns else None
    semicolon = record(
        "semicolon-delimited CSV",
        "read as one column; one text column learned and every row copied",
        run,
        ctx.root,
        clean(run, 0)
        + [
            ("validate passes", checked.exit_code == 0),
            ("`inspect` reads every column", columns_seen == len(frame.columns)),
            ("output has the source's columns", same_columns),
            ("no row copied", copied == 0),
        ],
        "fixed",
        issue="contract: silent changes",
        files_intact=intact,
        message=f"`inspect` reads {columns_seen} of {len(frame.columns)} columns" if run.exit_code == 0 else None,
        summary=f"output columns = source columns: {same_columns}; "
        f"rows equal to a source row: {copied} of {0 if out is None else len(out)}",
        measured={
            "validate_exit": checked.exit_code,
            "columns_detected": columns_seen,
            "columns_in_source": len(frame.columns),
            "rows_copied": copied,
            "rows": None if out is None else len(out),
        },
    )
    dates = record(
        "datetimes `03/15/2021` and `2021-03-15T10:00:00` written back",
        "`03/15/2021` written back as ISO; `T` timestamps written with a space",
        run,
        ctx.root,
        clean(run, 0) + [("`opened` keeps MM/DD/YYYY", opened_ok), ("`stamp` keeps the T", stamp_ok)],
        "fixed",
        issue="contract: silent changes",
        files_intact=intact,
        message=f"sample output value: opened={sample_row[0]}, stamp={sample_row[1]}" if sample_row else None,
        summary=f"every `opened` MM/DD/YYYY: {opened_ok}; every `stamp` with T: {stamp_ok}",
        measured={
            "opened_all_match": opened_ok,
            "stamp_all_match": stamp_ok,
            "sample_output": sample_row,
            "source_example": frame.iloc[0][["opened", "stamp"]].tolist(),
        },
    )
    return [semicolon, dates]


# -- leftovers --------------------------------------------------------------------------------------
def case_failed_run_folders(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("failed run folders")
    recipe = write_recipe(tmp, target="creditability, columns: {nowhere: {kind: numeric}}")
    run = cli("generate", recipe, "--out", tmp / "deep" / "er" / "o.csv")
    left = [p for p in tree(tmp) if p != "recipe.yaml"]
    return [
        record(
            "a failed run's output folders",
            "failed runs leave empty output folders",
            run,
            ctx.root,
            clean(run) + [("no folder left", not left)],
            "refused",
            issue="contract: leftovers",
            files_intact=not left,
            summary=f"left behind: {left or 'nothing'}",
            measured={"leftovers": left},
        )
    ]


def case_stale_staging_swept(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("stale staging swept")
    pid = dead_pid()
    stale_dir = tmp / f".model.synthgen-{pid}-c0ffee"
    stale_dir.mkdir()
    (stale_dir / "weights.safetensors").write_bytes(b"\0" * 1024)
    stale_tmp = tmp / f".rows.csv.synthgen-{pid}-0a1b2c3d.tmp"
    stale_tmp.write_bytes(b"half a table\n" * 80_000)
    live = tmp / f".rows.csv.synthgen-{os.getpid()}-0badf00d.tmp"  # a live writer's file is kept
    live.write_text("mine")
    train = cli("train", write_recipe(tmp), "--out", tmp / "model")
    sample = cli("sample", tmp / "model", "--rows", "50", "--out", tmp / "rows.csv")
    swept = not stale_dir.exists() and not stale_tmp.exists()
    kept = live.exists()
    live.unlink(missing_ok=True)
    return [
        record(
            "a dead PID's staging folder and temp file are swept",
            "kills leave `.k9.*` staging folders and a 146 MB hidden temp file",
            train,
            ctx.root,
            clean(train, 0)
            + clean(sample, 0)
            + [
                ("stale staging folder removed", not stale_dir.exists()),
                ("stale temp file removed", not stale_tmp.exists()),
                ("a live writer's file kept", kept),
            ],
            "fixed",
            issue="contract: leftovers",
            command="synthgen train recipe.yaml --out model; synthgen sample model --out rows.csv",
            message=f"stale folder and 1 MB temp file of dead pid {pid}: {'swept' if swept else 'STILL THERE'}",
            files_intact=kept,
            summary=f"swept: {swept}; live writer's file kept: {kept}",
            measured={
                "dead_pid": pid,
                "stale_dir_removed": not stale_dir.exists(),
                "stale_tmp_removed": not stale_tmp.exists(),
                "live_tmp_kept": kept,
            },
        )
    ]


def case_sigterm_sample(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("sigterm sample")
    model = ctx.model()
    out = tmp / "big.csv"
    process = spawn(["sample", str(model), "--rows", "3000000", "--out", str(out)], cwd=tmp)
    started, seen_at, size = time.time(), None, 0
    while time.time() - started < 90 and process.poll() is None:
        temps = [p for p in tmp.iterdir() if p.name.startswith(".big.csv")]
        if temps and seen_at is None:
            seen_at = time.time()
        if temps:
            try:
                size = max(size, max(p.stat().st_size for p in temps))
            except OSError:
                pass
        if seen_at is not None and (time.time() - seen_at > 4 or size > 20 * 2**20):
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    code, err, hung = finish(process, 60)
    left = tree(tmp)
    return [
        record(
            "SIGTERM during `synthgen sample --rows 3000000`",
            "a 146 MB hidden temp file left behind",
            None,
            ctx.root,
            [
                ("exit 143", code == 143),
                ("no traceback", "Traceback" not in err),
                ("exited within 60 s", not hung),
                ("the temp file was being written", seen_at is not None),
                ("nothing left", not left),
            ],
            "fixed",
            issue="contract: leftovers",
            command="python -c 'from synthgen._entry import main; main()' sample MODEL --rows 3000000 --out "
            "big.csv; SIGTERM",
            exit_code=code,
            message=clip(err.strip().splitlines()[-1] if err.strip() else "", ctx.root),
            had_traceback="Traceback" in err,
            files_intact=not left,
            summary=f"killed with {size / 2**20:.1f} MB written; left behind: {left or 'nothing'}",
            measured={
                "temp_mib_at_kill": round(size / 2**20, 1),
                "seconds_to_kill": round(time.time() - started, 1),
                "leftovers": left,
                "hung": hung,
            },
        )
    ]


# -- memory -----------------------------------------------------------------------------------------
def case_wide_categorical(ctx: Ctx) -> list[dict]:
    """`validate` only: training this table is what the issue reported as 12 GB."""
    tmp = ctx.folder("20000 level categorical")
    rng = np.random.default_rng(0)
    n, levels = 30_000, 20_000
    codes = np.concatenate([np.arange(levels), rng.integers(0, levels, n - levels)])
    rng.shuffle(codes)
    frame = pd.DataFrame(
        {
            "merchant": [f"M{c:05d}" for c in codes],
            "amount": np.round(rng.gamma(2.0, 500.0, n), 2),
            "defaulted": rng.random(n) < 0.1,
        }
    )
    frame.to_csv(tmp / "t.csv", index=False)
    declared = plain_recipe(tmp, "schema: {target: defaulted, columns: {merchant: {kind: categorical}}}\n")
    run = cli("validate", declared)
    inferred_recipe = tmp / "inferred.yaml"
    inferred_recipe.write_text(
        "name: y\nsource: t.csv\nschema: {target: defaulted}\ngenerator: {type: ctgan, epochs: 1, device: cpu}\n"
    )
    inferred = cli("validate", inferred_recipe)
    kind_line = next((t for t in inferred.output.splitlines() if "merchant" in t and "│" in t), "")
    inferred_kind = next((k for k in ("categorical", "pii", "id", "numeric") if k in kind_line), None)
    warned = "warning:" in run.output and "merchant" in run.output
    refused = run.exit_code == 2 and "merchant" in run.output
    verdict = "refused" if refused else "warned"
    return [
        record(
            "a 20,000-level categorical in 30,000 rows (`validate`; not trained)",
            "CTGAN past 12 GB with no progress or warning",
            run,
            ctx.root,
            [
                ("warned or refused before training, naming the column", warned or refused),
                ("no traceback", not run.traceback),
            ],
            verdict,
            issue="contract: memory",
            files_intact=tree(tmp) == ["inferred.yaml", "r.yaml", "t.csv"],
            summary=f"declared categorical: exit {run.exit_code}; undeclared: exit {inferred.exit_code}, "
            f"inferred as {inferred_kind}",
            measured={
                "rows": n,
                "levels": levels,
                "validate_seconds": round(run.seconds, 2),
                "undeclared_validate_exit": inferred.exit_code,
                "undeclared_inferred_kind": inferred_kind,
                "undeclared_message": inferred.message(ctx.root),
                "full_message": next(
                    (
                        " ".join(t.split()).replace(str(ctx.root), "<tmp>")
                        for t in run.output.splitlines()
                        if t.strip().startswith(("warning:", "error:"))
                    ),
                    "",
                ),
            },
        )
    ]


# -- minor ------------------------------------------------------------------------------------------
def case_version(ctx: Ctx) -> list[dict]:
    run = cli("--version")
    return [
        record(
            "`--version`",
            "fails",
            run,
            ctx.root,
            clean(run, 0) + [("prints 'synthgen <version>'", run.output.startswith("synthgen "))],
            "fixed",
            issue="minor",
            message=clip(run.output.strip().splitlines()[0] if run.output.strip() else "", ctx.root),
        )
    ]


def case_file_modes(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("file modes")
    run = cli("generate", write_recipe(tmp))
    paths = {
        "output": tmp / "out" / "demo.csv",
        "meta": tmp / "out" / "demo.csv.meta.json",
        "report": tmp / "out" / "demo_report" / "report.json",
        "weights": tmp / ".synthgen" / "models" / "demo" / "weights.safetensors",
    }
    modes = {k: (oct(p.stat().st_mode & 0o777) if p.exists() else None) for k, p in paths.items()}
    return [
        record(
            "file modes of output, meta, weights, report (umask 022)",
            "outputs and weights 0600, reports 0644",
            run,
            ctx.root,
            clean(run, 0) + [(f"{k} is 0o644", m == "0o644") for k, m in modes.items()],
            "fixed",
            issue="minor",
            message=", ".join(f"{k} {m}" for k, m in modes.items()),
            measured={"modes": modes, "umask": "0o022"},
        )
    ]


def case_duplicate_yaml_keys(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("duplicate yaml keys")
    path = tmp / "r.yaml"
    path.write_text(
        "name: x\nsource: {builtin: german_credit}\nname: y\ngenerator: {type: ctgan, epochs: 1, device: cpu}\n"
    )
    run = cli("validate", path)
    return [
        record(
            "duplicate YAML keys (`name:` twice)",
            "accepted silently",
            run,
            ctx.root,
            clean(run) + [("says duplicate key 'name'", "duplicate key 'name'" in run.output)],
            "refused",
            issue="minor",
        )
    ]


def _weights_case(ctx: Ctx, name: str, before: str, mutate: Callable[[dict], dict], fragments: list[str]) -> dict:
    """`sample` from a copy of the model whose weights file was rewritten by ``mutate``; the message
    must name the model directory and every one of ``fragments``."""
    from safetensors.torch import load_file, save_file

    tmp = ctx.folder(name)
    model = ctx.copy_model(tmp / "m")
    weights = load_file(str(model / "weights.safetensors"))
    save_file(mutate(weights), str(model / "weights.safetensors"))
    run = cli("sample", model, "--rows", "5", "--out", tmp / "s.csv")
    text = " ".join(run.output.split())
    return record(
        name,
        before,
        run,
        ctx.root,
        clean(run)
        + [("names the model directory", str(model) in text)]
        + [(f"names {f!r}", f in text) for f in fragments]
        + [("no output written", not (tmp / "s.csv").exists())],
        "refused",
        issue="minor",
        files_intact=not (tmp / "s.csv").exists(),
    )


def case_weights(ctx: Ctx) -> list[dict]:
    import torch

    extra = _weights_case(
        ctx,
        "extra tensors in a weights file",
        "ignored",
        lambda w: {**w, "backdoor.weight": torch.zeros(3)},
        ["backdoor.weight"],
    )

    def wrong(w: dict) -> dict:
        first = next(iter(w))
        return {**w, first: torch.zeros(2, 2)}

    shape = _weights_case(
        ctx, "a wrong-shape tensor (message names the directory)", "the message did not name the directory", wrong, []
    )
    return [extra, shape]


def case_folder_as_out(ctx: Ctx) -> list[dict]:
    tmp = ctx.folder("folder as out")
    (tmp / "dir.csv").mkdir()
    run = cli("sample", ctx.model(), "--rows", "5", "--out", tmp)
    named = cli("sample", ctx.model(), "--rows", "5", "--out", tmp / "dir.csv")
    return [
        record(
            "a folder as `--out`",
            "says \"unsupported file type '(none)'\"",
            run,
            ctx.root,
            clean(run)
            + clean(named)
            + [("says it is a folder", "is a folder" in run.output and "is a folder" in named.output)],
            "refused",
            issue="minor",
            files_intact=tree(tmp) == ["dir.csv"],
            summary=f"`--out dir.csv` (a folder): exit {named.exit_code}",
        )
    ]


CASES: list[Callable[[Ctx], list[dict]]] = [
    case_alias_bomb,  # first: its memory is read from the process's peak, which later cases raise
    case_users_folder_as_model_dir,
    case_model_dir_holding_source,
    case_non_ascii_pii,
    case_output_is_source,
    case_output_in_model_dir,
    case_infinite_values,
    case_validate_parity,
    case_unknown_device,
    case_state_json_list,
    case_proc_output,
    case_sigint_early,
    case_concurrent_saves,
    case_duplicate_columns,
    case_semicolons_and_dates,
    case_failed_run_folders,
    case_stale_staging_swept,
    case_sigterm_sample,
    case_wide_categorical,
    case_version,
    case_file_modes,
    case_duplicate_yaml_keys,
    case_weights,
    case_folder_as_out,
]


# -- report -----------------------------------------------------------------------------------------
def code_version() -> dict[str, Any]:
    """Which code ran (the machine, date and versions are in the results header)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = None
    return {"git_head": commit, "note": "run on the working tree (HEAD plus uncommitted changes)"}


def markdown(records: list[dict]) -> str:
    def cell(text: Any) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| case | before | now (exit, message) | verdict |", "|---|---|---|---|"]
    for r in records:
        code = "–" if r["exit_code"] is None else r["exit_code"]
        now = f"exit {code}: `{r['message']}`" if r["message"] else f"exit {code}"
        notes = [r["summary"]] if r["summary"] else []
        if r["files_intact"] is not None:
            notes.append("files intact, nothing half-written" if r["files_intact"] else "FILES NOT INTACT")
        if notes:
            now += f" ({'; '.join(notes)})"
        verdict = r["verdict"] if r["verdict"] != "NOT FIXED" else f"**NOT FIXED** ({r['detail']})"
        lines.append(f"| {cell(r['case'])} | {cell(r['before'])} | {cell(now)} | {cell(verdict)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.issue10_cases", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--only", nargs="*", default=None, help="run only the cases whose function name holds one of these"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="synthgen-issue10-"))
    ctx = Ctx(root)
    records: list[dict] = []
    started = time.perf_counter()
    try:
        for case in CASES:
            if args.only and not any(key in case.__name__ for key in args.only):
                continue
            t0 = time.perf_counter()
            try:
                results = case(ctx)
            except Exception as exc:  # noqa: BLE001 - a broken case is recorded, the others still run
                results = [
                    {
                        "case": case.__name__,
                        "issue": "",
                        "before": "",
                        "command": None,
                        "exit_code": None,
                        "message": clip(f"{type(exc).__name__}: {exc}", root),
                        "traceback": True,
                        "files_intact": None,
                        "summary": "the replay script itself failed",
                        "measured": {"traceback": traceback.format_exc()[-3000:]},
                        "checks": {},
                        "verdict": "SCRIPT ERROR",
                        "detail": "the replay script failed on this case",
                    }
                ]
            seconds = time.perf_counter() - t0
            for r in results:
                r["seconds"] = round(seconds / len(results), 2)
            records.extend(results)
            print(
                f"[{time.perf_counter() - started:6.1f} s] {case.__name__}: {', '.join(r['verdict'] for r in results)}",
                file=sys.stderr,
                flush=True,
            )
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    payload = {
        "benchmark": "issue10_cases",
        "issue": 10,
        "tree": code_version(),
        "seconds": round(time.perf_counter() - started, 1),
        "verdicts": {v: sum(r["verdict"] == v for r in records) for v in sorted({r["verdict"] for r in records})},
        "cases": records,
    }
    write_results(args.out, payload, command=command_line("evaluation.issue10_cases", argv))
    print(markdown(records))
    print(f"\n{len(records)} cases in {payload['seconds']} s: {payload['verdicts']}; written to {args.out}")
    return 0 if all(r["verdict"] not in ("NOT FIXED", "SCRIPT ERROR") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
