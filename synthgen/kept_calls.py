"""Which kept rows answer a test's call, told from the call and the bytes of the files behind it.

`synthgen.fixture_cache` keeps the rows a test drew, named by the model's bytes and the resolved request.
Finding them that way needs the recipe validated and the model's fingerprint, which import pydantic, the
schema and the pipeline: most of a second in a fresh process, more than reading the rows. This index
answers the same call before any of that.

An entry is written when rows are kept. It holds the call as the test made it (recipe file, rows, seed,
conditions, model folder, device, synthgen version), what the call resolved to (rows, seed, model folder),
the rows file, and the digest of every file that decided the rows: the recipe, its source table, the
model's files, and the state of each model folder that would have been preferred to the one used. The
entry answers only while every one of those files holds the same bytes; otherwise the call takes the full
path, which writes the entry anew.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MISSING = "missing"
"""The digest recorded for a file that did not exist: its appearing changes the answer too."""
UNREADABLE = "unreadable"
"""The digest of a folder or an unreadable file: an entry resting on one never answers."""


@dataclass(frozen=True)
class KeptCall:
    """A call's rows, and what it resolved to when they were drawn."""

    model: Path
    rows: int
    seed: int
    frame: pd.DataFrame


class CallIndex:
    """Entries under ``<root>/samples/calls``, beside the kept rows they point to."""

    def __init__(self, root: str | Path) -> None:
        self.samples = Path(root) / "samples"
        self._digests: dict[tuple[str, int, int], str] = {}

    def find(self, call: Mapping[str, Any]) -> KeptCall | None:
        """The rows kept for ``call`` if every file behind them is unchanged; None otherwise (no entry,
        a changed file, an unreadable entry or rows file: the caller draws them again)."""
        text = canonical(call)
        try:
            entry = json.loads(self._entry_path(text).read_text(encoding="utf-8"))
            if entry["call"] != text:
                return None
            for name, digest in entry["files"].items():
                if digest == UNREADABLE or self.digest(Path(name)) != digest:
                    return None
            import pandas as pd

            frame = pd.read_parquet(self.samples / entry["rows_file"])
            return KeptCall(Path(entry["model"]), int(entry["rows"]), int(entry["seed"]), frame)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def record(
        self, call: Mapping[str, Any], *, rows_file: Path, model: Path, rows: int, seed: int, files: Iterable[Path]
    ) -> None:
        """Point ``call`` at ``rows_file`` (under this index's samples folder), for as long as ``files``
        keep their bytes. Written to a temporary file, then renamed: a parallel worker reads the old entry
        or the new one."""
        from synthgen.io import write_json

        text = canonical(call)
        entry = {
            "call": text,
            "rows_file": str(Path(rows_file).relative_to(self.samples)),
            "model": str(model),
            "rows": int(rows),
            "seed": int(seed),
            "files": {str(path): self.digest(Path(path)) for path in files},
        }
        path = self._entry_path(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(entry, path)

    def digest(self, path: Path) -> str:
        """SHA-256 of the file's bytes (``MISSING`` when there is none), read once per size and change
        time in this process: a session asking many times for rows of one large table hashes it once."""
        try:
            stat = path.stat()
        except OSError:
            return MISSING
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._digests:
            try:
                self._digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:  # a folder (whose files could change unseen), or unreadable
                return UNREADABLE
        return self._digests[key]

    def _entry_path(self, text: str) -> Path:
        return self.samples / "calls" / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"


def canonical(call: Mapping[str, Any]) -> str:
    """The call as one string: keys sorted, values JSON cannot hold written as their repr."""
    return json.dumps(call, sort_keys=True, default=repr)
