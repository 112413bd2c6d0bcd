"""Progress of a whole synthgen job (fit, sample, evaluate) as one kind of event, with honest times left.

A job reports `ProgressEvent`s to one callable. `Stage` turns counts into events: the share done, the
time spent and the time left (None until a rate has been seen, never a guess). A fit under a time
budget (DDPM's ``max_minutes``) moves with whichever of its steps and its clock is ahead, as its
learning rate does, so the bar ends full when the budget runs out, and the event names the steps
really done, not the step cap (`FitProgress`).

`Display` renders the events with rich: live bars on a terminal; elsewhere (a log, CI) a line when a
stage ends and at most one every ``every`` seconds in between. `open_progress` reads the ``progress=``
argument of the Python API: True (a display), False, a callable of `ProgressEvent`, or None (a display
only when stderr is a terminal). rich is imported only when something is displayed.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProgressEvent:
    """Where one stage of a job stands.

    ``stage`` is "fit", "sample" or "evaluate" ("audit" for shadow models); ``label`` is what a display
    shows ("fit ddpm"). ``done`` of ``total`` ``unit`` (steps, epochs, rows, parts); ``total`` is None
    when unknown. ``fraction`` (0-1) is the share of the stage done: under a time budget, the larger
    of the share of steps and the share of the budget spent. ``elapsed`` and ``eta`` are seconds;
    ``eta`` is None until a rate is known, 0 once ``finished``. ``detail``: losses, the judge's part,
    or why a fit stopped early.
    """

    stage: str
    label: str
    done: int
    total: int | None
    unit: str
    fraction: float
    elapsed: float
    eta: float | None
    detail: str = ""
    finished: bool = False


ProgressCallback = Callable[[ProgressEvent], None]
"""What the ``progress=`` argument of `synthgen.generate` may be (besides True, False and None)."""


class Stage:
    """One stage of a job: counts in, `ProgressEvent`s out.

    The rate behind ``eta`` is measured from the first count after the start, so set-up work before
    it (encoding the table, the first batches) does not distort it; before any count there is no
    rate and ``eta`` is None (or, under a budget, the budget left: an upper bound that is true).
    ``estimate=False`` for counts of unequal work (the judge's parts): ``eta`` stays None.
    """

    def __init__(
        self,
        emit: ProgressCallback,
        stage: str,
        label: str,
        unit: str,
        total: int | None = None,
        budget_s: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
        estimate: bool = True,
    ) -> None:
        self._emit, self._clock, self.estimate = emit, clock, estimate
        self.stage, self.label, self.unit, self.total, self.budget_s = stage, label, unit, total, budget_s
        self.started = clock()
        self.budget_started: float | None = None  # when the budgeted work began (default: the stage start)
        self.done = 0
        self.detail = ""
        self.finished = False
        self._anchor: tuple[float, int] | None = None
        self._emit(self._event(self.started))

    def update(self, done: int, total: int | None = None, detail: str | None = None) -> None:
        now = self._clock()
        if total is not None:
            self.total = total
        if detail is not None:
            self.detail = detail
        self.done = int(done)
        if self._anchor is None and self.done > 0:
            self._anchor = (now, self.done)
        self._emit(self._event(now))

    def advance(self, count: int = 1, detail: str | None = None) -> None:
        self.update(self.done + count, detail=detail)

    def finish(self, done: int | None = None, detail: str | None = None) -> None:
        """The stage is over: its last event, with the count really reached (default: the total, if known)."""
        if self.finished:
            return
        if done is not None:
            self.done = int(done)
        elif self.total:
            self.done = self.total
        if detail is not None:
            self.detail = detail
        self.finished = True
        self._emit(self._event(self._clock()))

    def _event(self, now: float) -> ProgressEvent:
        elapsed = now - self.started
        if self.finished:
            fraction, eta = 1.0, 0.0
        else:
            fraction = min(1.0, self.done / self.total) if self.total else 0.0
            eta = self._rate_eta(now)
            if self.budget_s is not None:
                spent = now - (self.budget_started if self.budget_started is not None else self.started)
                fraction = max(fraction, min(1.0, spent / self.budget_s))
                left = max(0.0, self.budget_s - spent)
                eta = left if eta is None else min(eta, left)
        return ProgressEvent(
            self.stage, self.label, self.done, self.total, self.unit, fraction, elapsed, eta, self.detail, self.finished
        )

    def _rate_eta(self, now: float) -> float | None:
        if not self.estimate or not self.total or self.done <= 0:
            return None
        if self._anchor is not None and self.done > self._anchor[1] and now > self._anchor[0]:
            rate = (self.done - self._anchor[1]) / (now - self._anchor[0])
        elif now > self.started:
            rate = self.done / (now - self.started)
        else:
            return None
        return max(0.0, self.total - self.done) / rate


class FitProgress:
    """A generator's fit callbacks (`Generator.fit`'s ``progress`` and ``step_hook``) as a "fit" `Stage`.

    A generator reports its progress every few dozen steps or once an epoch, which on a busy machine
    can be a minute apart; under a time budget DDPM reports the share of the budget spent in place of
    its step. Where each call of the `synthgen.device.GraphedStep` that runs the training is one unit
    (``per_step``: DDPM's steps), the steps are therefore counted from it, and reported at most every
    ``every`` seconds; its first call starts the budget's clock, as the generator's loop does. ``total``
    is the expected count until the generator reports its own.
    """

    def __init__(
        self,
        emit: ProgressCallback,
        label: str,
        unit: str,
        total: int | None = None,
        budget_s: float | None = None,
        per_step: bool = False,
        every: float = 0.5,
    ) -> None:
        self.stage = Stage(emit, "fit", label, unit, total=total, budget_s=budget_s)
        self.budget_s, self.per_step, self.every = budget_s, per_step, every
        self._runner: Any = None
        self._last = 0.0

    @property
    def step_hook(self) -> Callable[[Any], None] | None:
        """Pass to ``fit(step_hook=...)``; None where the steps are not the unit counted."""
        return self._observe if self.per_step else None

    def _observe(self, runner: Any) -> None:
        if self._runner is None:
            self._runner = runner
            self._last = self.stage.budget_started = time.perf_counter()
        elif runner.calls % 8 == 0:  # the clock is read every few steps only: this runs between steps
            now = time.perf_counter()
            if now - self._last >= self.every:
                self._last = now
                self.stage.update(runner.calls)

    def __call__(self, done: int, total: int, losses: dict[str, float]) -> None:
        if self._runner is not None:
            done = self._runner.calls
        self.stage.update(done, total, detail="  ".join(f"{k} {v:+.3f}" for k, v in losses.items()))

    def finish(self) -> None:
        """The fit's last event: the steps really done and, when a time budget ended it, that it did."""
        stage = self.stage
        if self._runner is None:
            stage.finish(stage.total if stage.total else stage.done)
            return
        done, total = self._runner.calls, stage.total
        if self.budget_s is not None and total and done < total:
            stage.finish(done, detail=f"time budget of {_duration(self.budget_s)} reached")
        else:
            stage.finish(done)


def _duration(seconds: float | None) -> str:
    seconds = seconds or 0.0
    return f"{seconds:g} s" if seconds < 60 else f"{seconds / 60:g} min"


def format_seconds(seconds: float | None) -> str:
    """``H:MM:SS``; '?' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def describe(event: ProgressEvent) -> str:
    """One line for a log: 'fit ddpm: 691/6,000 steps, loss +0.123, 0:01:00 elapsed, 0:00:10 left'."""
    parts = [_count(event)]
    if event.detail:
        parts.append(event.detail)
    parts.append(f"{format_seconds(event.elapsed)} elapsed")
    if not event.finished and event.eta is not None:
        parts.append(f"{format_seconds(event.eta)} left")
    return f"{event.label}: " + ", ".join(parts)


def _count(event: ProgressEvent) -> str:
    if event.total:
        return f"{event.done:,}/{event.total:,} {event.unit}"
    return f"{event.done:,} {event.unit}"


class Display:
    """Renders `ProgressEvent`s with rich on ``console`` (default: a new one on stderr).

    A context manager: on a terminal it holds live bars, one per stage, left on screen when the job
    ends; elsewhere it prints a line when a stage ends and at most one every ``every`` seconds.
    """

    def __init__(self, console: Any = None, every: float = 10.0) -> None:
        from rich.console import Console

        self.console = console if console is not None else Console(stderr=True)
        self.every = every
        self.live = self.console.is_terminal and not self.console.is_dumb_terminal
        self._bars: Any = None
        self._tasks: dict[tuple[str, str], Any] = {}
        self._printed: dict[tuple[str, str], float] = {}

    def __enter__(self) -> Display:
        if self.live:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bars = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[eta]}"),
                TextColumn("{task.fields[detail]}"),
                console=self.console,
                transient=False,
            )
            self._bars.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bars is not None:
            self._bars.__exit__(*exc)
            self._bars = None

    def __call__(self, event: ProgressEvent) -> None:
        key = (event.stage, event.label)
        if self._bars is None:
            self._line(key, event)
            return
        fields = {
            "count": _count(event),
            "eta": "" if event.finished or event.eta is None else f"{format_seconds(event.eta)} left",
            "detail": event.detail,
        }
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = self._bars.add_task(event.label, total=1000, **fields)
        self._bars.update(task, completed=round(event.fraction * 1000), **fields)

    def _line(self, key: tuple[str, str], event: ProgressEvent) -> None:
        now = time.monotonic()
        last = self._printed.get(key)
        if last is None:
            self._printed[key] = now  # the first line waits ``every`` seconds: short stages print once
            if not event.finished:
                return
        elif not event.finished and now - last < self.every:
            return
        self._printed[key] = now
        self.console.print(describe(event), markup=False, highlight=False, soft_wrap=True)


@contextmanager
def open_progress(progress: bool | ProgressCallback | None) -> Iterator[ProgressCallback | None]:
    """The callable a job reports to, from the ``progress=`` argument: None (a display when stderr is a
    terminal), True (a display even when it is not: lines for a log), False (nothing) or a callable."""
    if progress is False:
        yield None
        return
    if callable(progress):
        yield progress
        return
    if progress is None and not _stderr_is_terminal():
        yield None
        return
    with Display() as display:
        yield display


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False
