"""The README runs as written: its Python blocks in order in one namespace, and its commands exist.

The first hour of a new user is the README: a snippet that fails there (a name it never defined, a
column its table lacks) costs more trust than any bug deeper in. The blocks run in a temporary folder
holding copies of ``recipes/`` with one-pass training budgets (their data folder is the repository's):
they check that the code runs, not the quality of its rows. ``SYNTHGEN_README`` points the test at
another file, only to check a proposed README before it replaces the real one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = Path(os.environ.get("SYNTHGEN_README", ROOT / "README.md"))

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
COMMAND = re.compile(r"(?:^|[\s/])synthgen\s+(--?[\w-]+|[a-z][\w-]*)")


def code_blocks(text: str, language: str) -> list[tuple[int, str]]:
    """``(first line number, code)`` of each fenced block in ``language``, in order."""
    return [
        (text.count("\n", 0, match.start(2)) + 1, match.group(2))
        for match in FENCE.finditer(text)
        if match.group(1) == language
    ]


def run_python_blocks(readme: Path) -> dict[str, Any]:
    """Execute every Python block of ``readme`` in order in one namespace, in the current folder; a failure
    raises with a traceback that names the README's own line."""
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    blocks = code_blocks(readme.read_text(encoding="utf-8"), "python")
    assert blocks, f"{readme} has no ```python block"
    for line, code in blocks:
        exec(compile("\n" * (line - 1) + code, str(readme), "exec"), namespace)  # noqa: S102 (the README's code)
    return namespace


def commands_named(text: str) -> set[str]:
    """The first word after ``synthgen`` in every shell block and every inline code span that runs it."""
    shell = [code for language in ("bash", "sh", "shell", "console") for _, code in code_blocks(text, language)]
    spans = [span for span in re.findall(r"`([^`\n]+)`", FENCE.sub("", text)) if span.startswith("synthgen ")]
    return {name for chunk in shell + spans for name in COMMAND.findall(chunk)}


def cli_help() -> tuple[set[str], set[str]]:
    """(commands, global options) listed by ``synthgen --help``, as the installed console script prints it."""
    script = shutil.which("synthgen", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-c", "from synthgen._entry import main; main()"]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    shown = subprocess.run([*command, "--help"], capture_output=True, text=True, env=env, timeout=120, check=True)
    lines = shown.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "Commands" in line)
    commands = set()
    for line in lines[start + 1 :]:
        if not line.strip() or line.lstrip().startswith("╰"):
            break
        match = re.match(r"^[│|]?\s?([a-z][\w-]*)\s{2,}\S", line)
        if match:
            commands.add(match.group(1))
    return commands, set(re.findall(r"(?<![\w-])(--?[\w][\w-]*)", "\n".join(lines[:start])))


@pytest.fixture(scope="module")
def readme_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working folder with the repository's recipes at one pass of training (and 5 denoising steps)."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "recipes").mkdir()
    (folder / "recipes" / "data").symlink_to(ROOT / "recipes" / "data", target_is_directory=True)
    for recipe in (ROOT / "recipes").glob("*.yaml"):
        content = yaml.safe_load(recipe.read_text(encoding="utf-8"))
        generator = content.setdefault("generator", {})
        if generator.get("type") == "ctgan":
            generator["epochs"] = 1
        else:
            generator.update(max_epochs=1, sampling_steps=5)
        (folder / "recipes" / recipe.name).write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.syspath_prepend(str(ROOT))
        yield folder


def test_every_python_block_runs_in_order(readme_folder: Path) -> None:
    namespace = run_python_blocks(README)
    assert "synthgen" in namespace


def test_every_synthgen_command_it_names_exists() -> None:
    named = commands_named(README.read_text(encoding="utf-8"))
    assert {"generate", "inspect"} <= named, f"the command finder missed the quick start: {sorted(named)}"
    commands, options = cli_help()
    assert {"generate", "train"} <= commands, f"could not read the command list of `synthgen --help`: {commands}"
    unknown = sorted(name for name in named if name not in (options if name.startswith("-") else commands))
    assert not unknown, f"{README.name} names synthgen command(s) or option(s) that do not exist: {unknown}"
