"""One exception family for everything a user can get wrong.

The CLI maps each class to an exit code, so a caller can tell bad input (2) from a failed release
gate (3) without parsing messages. Every message names the file, key or column at fault, because
the person reading it is usually looking at a recipe in another window.
"""

from __future__ import annotations


class SynthgenError(Exception):
    """Base class: an error synthgen explains in one message; never a traceback for the user."""

    exit_code = 1


class InputError(SynthgenError):
    """Bad input: a recipe, a data file, a model directory or an argument. Exit code 2."""

    exit_code = 2


class RecipeError(InputError):
    """A recipe file that does not parse or does not validate."""


class DataError(InputError):
    """A data file that cannot be read, or whose content contradicts the recipe."""


class ModelFileError(InputError):
    """A model directory that is missing, corrupt, foreign or of an incompatible format version."""


class NotFittedError(SynthgenError):
    """A generator or transformer used before `fit`."""


class GateFailedError(SynthgenError):
    """The release gate refused the synthetic data. Exit code 3."""

    exit_code = 3

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


def forwarded(exc: Exception) -> Exception:
    """``exc`` marked as the failure of rank 0 of a torchrun job, raised again on another rank
    (`synthgen.distributed.Dist.from_main`): rank 0 reports it, so the command line says nothing more of it
    on the other ranks (`is_forwarded`), which still exit with its status."""
    exc.forwarded_from_rank_0 = True  # type: ignore[attr-defined]
    return exc


def is_forwarded(exc: BaseException) -> bool:
    return bool(getattr(exc, "forwarded_from_rank_0", False))
