"""Safe file-system operations: atomic writes, checking an output place up front, replacing folders.

Every write goes to a temporary file in the destination folder, is flushed and fsynced, and is
renamed into place (then the folder is fsynced where the platform allows), so a crash, a full disk
or a refused gate leaves either the old file or no file, never a truncated one.

File mode: a written file gets ``0o666 & ~umask`` (`file_mode`), the umask read when the file is
written, exactly what any normally created file gets: 0644 under the usual umask 022 (readable by
teammates), 0600 under 077. Released tables, their ``.meta.json``, model weights and JSON and reports
all follow it, although they are written to temporary files first, which some writers (safetensors)
create 0600. Folders get ``0o777 & ~umask``.

Temporary names carry the writer's process id: ``.{name}.synthgen-{pid}-{random}.tmp`` for a file,
``.{name}.synthgen-{pid}-{random}`` for a staging folder and ``.{name}.synthgen-{pid}-{random}.old``
for a folder being replaced. A process that is killed cannot clean up, so the next write of the same
target removes what such a dead process left (`sweep_stale`); a live writer's files are never touched.

Folders are created only at the final write, never by the up-front checks, so a run that fails
leaves no empty output folders behind.

The table formats by suffix (`table_format`) and the checks that reading and writing a table share
(duplicate column names, one-line error text) live here too, so that `synthgen.io` and
`synthgen.tablewriter` can both use them without importing each other.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import re
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from synthgen.errors import DataError, InputError

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes (hex), read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _proc_umask() -> int | None:
    """The process umask as Linux reports it (``/proc/self/status``), or None where it does not."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_umask() -> int:
    """The process umask, without the set-and-restore dance where Linux reports it directly.

    ``os.umask`` can only be read by setting it, which is process-global: a thread creating a file
    in between would get mode 0666. The dance runs once, at import, before synthgen starts threads.
    """
    mask = _proc_umask()
    if mask is not None:
        return mask
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()
FILE_MODE = 0o666 & ~UMASK
"""The mode of a file written with the umask at import; `file_mode` follows later changes."""


def file_mode() -> int:
    """``0o666 & ~umask`` with the umask of now where the platform tells it safely (Linux), else the
    umask at import: the mode any file created now gets, given to every file synthgen writes."""
    mask = _proc_umask()
    return 0o666 & ~(UMASK if mask is None else mask)


# -- table files: format by suffix, column names, error text -------------------------------


def table_format(path: Path) -> str:
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; use one of {', '.join(TABLE_SUFFIXES)}"
        )
    return fmt


def _refuse_duplicates(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    duplicated: list[str] = []
    for name in names:
        if name in seen and name not in duplicated and name != "":
            duplicated.append(name)
        seen.add(name)
    if duplicated:
        shown = ", ".join(repr(name) for name in duplicated)
        raise DataError(f"{path}: duplicate column name(s) {shown}; every column needs a unique name")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- checking an output place up front ------------------------------------------------------


def ensure_writable(path: str | os.PathLike[str]) -> Path:
    """Fail before any work is done if ``path`` cannot receive a table; creates nothing.

    ``os.access`` is not asked: it says yes to root everywhere (``/proc/x.csv`` passed and failed
    after the whole run). A temporary file is created and deleted in the nearest existing folder.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file path (.csv or .parquet)")
    table_format(path)
    _probe_folder(path, path.parent)
    return path


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Fail before any work is done if a folder (a report folder) cannot be created or written; creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: is a file, expected a folder")
    _probe_folder(path, path)
    return path


def _probe_folder(path: Path, folder: Path) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{path}: cannot create the output folder: {existing} is a file")
    probe = existing / f".{path.name}.synthgen-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InputError(f"{path}: the output folder is not writable ({existing}: {exc.strerror or exc})") from None
    os.close(fd)
    probe.unlink(missing_ok=True)


# -- stale leftovers ------------------------------------------------------------------------


def _leftover_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.synthgen-(\d+)-[0-9a-f]+(\.tmp|\.old)?")


def _temp_sibling(target: Path, suffix: str = "") -> Path:
    return target.with_name(f".{target.name}.synthgen-{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists; unknown counts as alive so a live writer is never swept."""
    if pid <= 0 or os.name != "posix":  # os.kill(pid, 0) terminates the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, owned by someone else
        return True
    return True


def sweep_stale(target: Path) -> list[Path]:
    """Remove temporary files and staging folders of ``target`` left by processes that no longer run.

    Only names made by this module for this very target (``.{name}.synthgen-{pid}-{random}`` with
    ``.tmp``, ``.old`` or nothing after) whose pid is dead are removed; returns what was removed.
    """
    target = Path(target)
    pattern = _leftover_pattern(target)
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    removed: list[Path] = []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        if _remove_entry(Path(entry.path)):
            removed.append(Path(entry.path))
    return removed


def _remove_entry(path: Path) -> bool:
    """Delete a file, link or folder tree; False if it could not be (another sweeper may race us)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:  # gone already, or not ours to remove
        return False
    return True


# -- one atomic write path -------------------------------------------------------------------


def _make_parents(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; return them, deepest last, so a failure can undo them."""
    missing: list[Path] = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            try:
                folder.mkdir()
                created.append(folder)
            except FileExistsError:
                if not folder.is_dir():
                    raise
    except OSError as exc:
        _remove_folders(created)
        raise InputError(f"{path}: cannot create the output folder: {exc.strerror or exc}") from None
    return created


def _remove_folders(created: list[Path]) -> None:
    for folder in reversed(created):
        try:
            folder.rmdir()  # only if still empty: another writer may have put something there
        except OSError:
            break


def _begin(path: Path) -> tuple[Path, int, list[Path]]:
    """Create folders and an empty temporary file for ``path``: (temp path, open fd, folders made)."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file path")
    created = _make_parents(path)
    sweep_stale(path)
    try:
        tmp = _temp_sibling(path, ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        _remove_folders(created)
        raise InputError(f"{path}: cannot write the file: {exc.strerror or exc}") from None
    return tmp, fd, created


def _finish(tmp: Path, path: Path) -> None:
    """fsync the temporary file, give it the normal mode, rename it onto ``path``, fsync the folder."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, file_mode())  # a writer may have recreated the file; mode as documented above
    os.replace(tmp, path)
    _fsync_folder(path.parent)


def _discard(tmp: Path, created: list[Path]) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass
    _remove_folders(created)


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable; not every platform or file system can open a folder, which is fine."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)``, then move the finished file onto ``path`` in one rename.

    The temporary file already exists (empty, in the destination folder) when ``write`` is called;
    ``write`` opens it itself, in text or binary mode as it needs. Any exception, KeyboardInterrupt
    included, removes the temporary file and the folders this call created; an ``OSError`` becomes an
    `InputError`.
    """
    path = Path(path)
    tmp, fd, created = _begin(path)
    os.close(fd)
    try:
        write(tmp)
        _finish(tmp, path)
    except OSError as exc:
        _discard(tmp, created)
        raise InputError(f"{path}: cannot write the file: {exc.strerror or exc}") from None
    except BaseException:
        _discard(tmp, created)
        raise
    return path


# -- folders ----------------------------------------------------------------------------------


def make_staging_dir(target: Path) -> Path:
    """Create an empty ``.{name}.synthgen-{pid}-{random}`` folder beside ``target`` (and ``target``'s parents).

    Mode ``0o777 & ~umask`` like any new folder (``mkdtemp`` makes 0700, which kept a model from
    teammates). The pid in the name lets `sweep_stale` remove it if this process is killed.
    """
    target = Path(target)
    _make_parents(target)
    sweep_stale(target)
    for _ in range(100):
        staging = _temp_sibling(target)
        try:
            staging.mkdir(0o777)
            return staging
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError(f"{target}: cannot create a folder beside it: {exc.strerror or exc}") from None
    raise InputError(f"{target}: cannot create a staging folder beside it (every name taken)")


_OCCUPIED = {errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}
_MAX_TRIES = 1000


def replace_directory(staging: Path, target: Path, *, guard: Callable[[Path], object]) -> None:
    """Move a fully written ``staging`` folder onto ``target``, replacing what was there.

    Several writers may replace the same folder at once (threads saving one model). Each moves the
    current ``target`` aside under its own unique ``.old`` name and retries until its rename wins;
    whichever writer renames last leaves a complete folder, and each deletes only what it moved
    aside itself. Readers may briefly find no ``target`` between the two renames. What is moved aside
    is deleted, so ``guard(target)`` runs right before every move and raises to refuse a folder that
    is not the caller's to replace (a user's folder that appeared meanwhile).
    """
    staging, target = Path(staging), Path(target)
    sweep_stale(target)
    moved_aside: list[Path] = []
    try:
        for attempt in range(_MAX_TRIES):
            if _rename_into_place(staging, target):
                _fsync_folder(target.parent)
                return
            guard(target)
            trash = _temp_sibling(target, ".old")
            try:
                os.rename(target, trash)
                moved_aside.append(trash)
            except FileNotFoundError:
                pass  # another writer moved it aside first: try again
            except OSError as exc:
                raise InputError(f"{target}: cannot replace the folder: {exc.strerror or exc}") from None
            if attempt >= 8:
                time.sleep(random.uniform(0, 0.001 * min(attempt, 50)))
        raise InputError(f"{target}: cannot replace the folder: other writers kept replacing it ({_MAX_TRIES} tries)")
    finally:
        for trash in moved_aside:
            _remove_entry(trash)


def _rename_into_place(staging: Path, target: Path) -> bool:
    """True if ``staging`` is now ``target``; False if ``target`` is in the way."""
    try:
        os.rename(staging, target)  # replaces an empty folder, refuses a full one
    except OSError as exc:
        if exc.errno in _OCCUPIED:
            return False
        raise InputError(f"{target}: cannot move the new folder into place: {exc.strerror or exc}") from None
    return True
