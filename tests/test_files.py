import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from synthgen.errors import InputError
from synthgen.files import (
    FILE_MODE,
    atomic_write,
    ensure_writable,
    ensure_writable_dir,
    make_staging_dir,
    replace_directory,
    sweep_stale,
)
from synthgen.io import read_json, write_json, write_table, write_text


def test_missing_parent_folder_is_created(tmp_path, mixed_frame):
    path = write_table(mixed_frame, tmp_path / "a" / "b" / "out.csv")
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["out.csv"], "no temporary file left behind"


def test_failed_write_leaves_nothing(tmp_path):
    class Boom(pd.DataFrame):
        def to_csv(self, *args, **kwargs):  # a crash in the middle of writing
            args[0].write("partial")  # the writer hands an open file; half a table goes in
            raise OSError(28, "No space left on device")

    with pytest.raises(InputError, match="No space left"):
        write_table(Boom({"a": [1]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_input_error(tmp_path, mixed_frame):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions; use a path under a file instead
            target = tmp_path / "file.txt"
            target.write_text("x")
            with pytest.raises(InputError):
                write_table(mixed_frame, target / "out.csv")
        else:
            with pytest.raises(InputError, match="not writable"):
                write_table(mixed_frame, locked / "out.csv")
    finally:
        locked.chmod(0o700)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- one atomic write, file modes, stale leftovers ---------------------------------------------

TEMP_NAME = re.compile(r"\.out\.csv\.synthgen-(\d+)-[0-9a-f]+\.tmp")


def test_written_files_get_the_normal_mode(tmp_path, mixed_frame):
    expected = 0o666 & ~_current_umask()
    assert FILE_MODE == expected
    written = [
        write_table(mixed_frame, tmp_path / "t.csv"),
        write_table(mixed_frame, tmp_path / "t.parquet"),
        write_json({"a": 1}, tmp_path / "t.csv.meta.json"),
        atomic_write(tmp_path / "w.bin", lambda tmp: tmp.write_bytes(b"\0")),
    ]
    write_text("{}", tmp_path / "report.json")
    for path in written + [tmp_path / "report.json"]:
        assert path.stat().st_mode & 0o777 == expected, path


def test_temporary_name_carries_the_pid_and_is_gone_after(tmp_path):
    seen = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        tmp.write_text("x")

    atomic_write(tmp_path / "out.csv", write)
    match = TEMP_NAME.fullmatch(seen[0].name)
    assert match and int(match.group(1)) == os.getpid() and seen[0].parent == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError])
def test_interrupted_write_leaves_no_file_and_no_folder(tmp_path, error):
    def write(tmp: Path) -> None:
        tmp.write_text("half")
        raise error()

    with pytest.raises(error):
        atomic_write(tmp_path / "new" / "deeper" / "out.csv", write)
    assert list(tmp_path.iterdir()) == [], "the folders this write created are removed too"


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.json"
    write_json({"v": 1}, path)
    with pytest.raises(InputError, match="out.json: cannot write the file"):
        atomic_write(path, lambda tmp: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    assert read_json(path) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_stale_leftovers_of_dead_writers_are_swept(tmp_path):
    dead, live = _dead_pid(), os.getpid()
    target = tmp_path / "out.csv"
    stale_file = tmp_path / f".out.csv.synthgen-{dead}-0a1b2c3d.tmp"
    stale_file.write_text("146 MB of half a table")
    stale_dir = tmp_path / f".out.csv.synthgen-{dead}-deadbeef"
    (stale_dir / "sub").mkdir(parents=True)
    (stale_dir / "sub" / "w.safetensors").write_text("x")
    stale_trash = tmp_path / f".out.csv.synthgen-{dead}-00ff.old"
    stale_trash.mkdir()
    kept = [
        tmp_path / f".out.csv.synthgen-{live}-0a1b2c3d.tmp",  # a live writer
        tmp_path / f".other.csv.synthgen-{dead}-0a1b2c3d.tmp",  # another target
        tmp_path / ".out.csv.abc123.tmp",  # no pid: cannot tell whether its writer lives
        tmp_path / f".out.csv.synthgen-{dead}-0a1b2c3d.tmp.bak",  # not our name
        tmp_path / f"out.csv.synthgen-{dead}-0a1b2c3d.tmp",  # not hidden: not ours
    ]
    for path in kept:
        path.write_text("keep")
    write_table(pd.DataFrame({"a": [1]}), target)
    assert not stale_file.exists() and not stale_dir.exists() and not stale_trash.exists()
    assert all(path.exists() for path in kept)
    assert sweep_stale(target) == []


# -- checking the output place up front ---------------------------------------------------------


def test_folder_as_output_is_named_as_such(tmp_path):
    with pytest.raises(InputError, match=r"is a folder, expected a file path \(.csv or .parquet\)"):
        ensure_writable(tmp_path)
    with pytest.raises(InputError, match="unsupported file type"):
        ensure_writable(tmp_path / "out.xlsx")


def test_ensure_writable_creates_no_folder(tmp_path):
    target = tmp_path / "a" / "b" / "out.parquet"
    assert ensure_writable(target) == target
    assert ensure_writable_dir(tmp_path / "a" / "report") == tmp_path / "a" / "report"
    assert list(tmp_path.iterdir()) == [], "neither the folders nor the probe file remain"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_proc_is_refused_up_front_even_for_root():
    with pytest.raises(InputError, match="/proc/x.csv: the output folder is not writable"):
        ensure_writable("/proc/x.csv")
    with pytest.raises(InputError, match="not writable"):
        ensure_writable_dir("/proc/report")


def test_file_in_the_path_is_refused_up_front(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="file.txt is a file"):
        ensure_writable(tmp_path / "file.txt" / "sub" / "out.csv")
    with pytest.raises(InputError, match="is a file, expected a folder"):
        ensure_writable_dir(tmp_path / "file.txt")


# -- replacing a folder under concurrency -------------------------------------------------------


def _save(target: Path, tag: str) -> None:
    staging = make_staging_dir(target)
    for name in ("config.json", "weights.bin", "state.json"):
        (staging / name).write_text(tag)
    replace_directory(staging, target, guard=lambda folder: None)


def test_concurrent_folder_replacements_never_fail(tmp_path):
    target = tmp_path / "models" / "m"
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        for i in range(20):
            try:
                _save(target, f"{thread}-{i}")
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    contents = {p.name: p.read_text() for p in target.iterdir()}
    assert sorted(contents) == ["config.json", "state.json", "weights.bin"]
    assert len(set(contents.values())) == 1, "the folder is one complete save, not a mix"
    assert [p.name for p in target.parent.iterdir()] == ["m"], "no staging or trash folder left"


def test_staging_folder_name_mode_and_stale_sweep(tmp_path):
    target = tmp_path / "model"
    live = make_staging_dir(target)
    assert re.fullmatch(rf"\.model\.synthgen-{os.getpid()}-[0-9a-f]+", live.name) and live.parent == tmp_path
    assert live.stat().st_mode & 0o777 == 0o777 & ~_current_umask()
    stale = tmp_path / f".model.synthgen-{_dead_pid()}-c0ffee"
    stale.mkdir()
    (stale / "weights.safetensors").write_text("half")
    _save(target, "new")
    assert not stale.exists(), "a dead writer's staging folder is swept"
    assert live.exists(), "a live writer's staging folder is kept"
    assert (target / "config.json").read_text() == "new"


def test_replacing_a_full_folder_keeps_nothing_of_the_old(tmp_path):
    target = tmp_path / "m"
    _save(target, "old")
    (target / "extra.txt").write_text("old only")
    _save(target, "new")
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "state.json", "weights.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_a_guard_that_refuses_leaves_the_folder_and_cleans_up(tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "thesis.txt").write_text("mine")
    staging = make_staging_dir(target)
    (staging / "config.json").write_text("{}")

    def refuse(folder: Path) -> None:
        raise InputError(f"{folder}: not ours")

    with pytest.raises(InputError, match="not ours"):
        replace_directory(staging, target, guard=refuse)
    assert (target / "thesis.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".old")]
