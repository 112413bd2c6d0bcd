"""The `synthgen` console script: a Ctrl-C while the command line is still being imported is a quiet
exit 130 like any other, not a traceback (`import synthgen` is kept light for the same reason)."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from synthgen.cli import run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    run()
