"""Progress events: honest shares and times left, a fit under a time budget that ends truthfully, and the
display's lines where stderr is not a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from synthgen.progress import Display, ProgressEvent, Stage, describe, open_progress


class Clock:
    """A clock the test moves by hand, so that times left are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_left_comes_from_the_rate_after_the_first_count():
    clock, events = Clock(), []
    stage = Stage(events.append, "sample", "sample", "rows", total=1000, clock=clock)
    assert events[-1].eta is None and events[-1].fraction == 0  # no rate yet: no guess
    clock.now += 50.0  # slow set-up before the first rows
    stage.update(100)
    clock.now += 10.0
    stage.update(300)  # 200 rows in 10 s after the first count: 20 rows/s
    event = events[-1]
    assert event.fraction == pytest.approx(0.3)
    assert event.elapsed == pytest.approx(60.0)
    assert event.eta == pytest.approx(700 / 20)
    stage.finish()
    assert events[-1].finished and events[-1].done == 1000 and events[-1].eta == 0 and events[-1].fraction == 1


def test_a_time_budget_bounds_the_time_left_and_drives_the_share():
    clock, events = Clock(), []
    stage = Stage(events.append, "fit", "fit ddpm", "steps", total=6000, budget_s=60.0, clock=clock)
    assert events[-1].eta == pytest.approx(60.0)  # before any step: the budget is a true upper bound
    clock.now += 1.0
    stage.update(10)
    clock.now += 29.0
    stage.update(300)  # 10 steps/s: 5,700 steps would take 570 s, the budget ends in 30
    event = events[-1]
    assert event.eta == pytest.approx(30.0)
    assert event.fraction == pytest.approx(0.5)  # the clock is ahead of the steps (300 / 6,000)
    stage.finish(600, detail="time budget of 1 min reached")
    assert events[-1].done == 600 and events[-1].total == 6000 and events[-1].fraction == 1


def test_a_fit_under_a_time_budget_reports_the_steps_it_really_made(tmp_path, german):
    from synthgen.pipeline import train_model
    from synthgen.recipe import load_recipe

    german.head(200).to_csv(tmp_path / "t.csv", index=False)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: budget\nsource: t.csv\nschema: {target: creditability}\n"
        "generator: {type: ddpm, steps: 1000000, max_epochs: null, max_minutes: 0.01, batch_size: 32, width: 16, "
        "depth: 1, timesteps: 20, device: cpu}\n"
    )
    events: list[ProgressEvent] = []
    model, *_ = train_model(load_recipe(recipe), progress=events.append)
    assert {e.stage for e in events} == {"fit"}
    last = events[-1]
    assert last.finished and last.fraction == 1
    # the step cap was far out of reach: the last event says how far the fit got, and why it stopped
    assert last.total == 1_000_000 and 0 < last.done == model.steps_done_ < last.total
    assert "time budget of 0.6 s reached" in last.detail
    running = [e for e in events if not e.finished]
    assert all(e.eta is not None and e.eta <= 0.6 + 1e-9 for e in running)
    assert [e.fraction for e in running] == sorted(e.fraction for e in running)


def test_off_a_terminal_the_display_prints_a_line_per_stage():
    buffer = io.StringIO()
    clock, display = Clock(), Display(Console(file=buffer, width=200), every=10.0)
    with display:
        stage = Stage(display, "sample", "sample", "rows", total=100_000, clock=clock)
        stage.update(40_000)  # within the first 10 s: not printed
        stage.finish()
    assert not display.live
    assert buffer.getvalue().splitlines() == ["sample: 100,000/100,000 rows, 0:00:00 elapsed"]


def test_a_log_line_names_the_count_the_detail_and_the_time_left():
    event = ProgressEvent("fit", "fit ddpm", 691, 6000, "steps", 0.5, 61.0, 59.4, "loss +0.123")
    assert describe(event) == "fit ddpm: 691/6,000 steps, loss +0.123, 0:01:01 elapsed, 0:00:59 left"


def test_progress_argument(capsys):
    seen = []
    with open_progress(seen.append) as emit:
        assert emit == seen.append
    with open_progress(False) as emit:
        assert emit is None
    with open_progress(None) as emit:  # pytest captures stderr: not a terminal, so nothing is shown
        assert emit is None
    with open_progress(True) as emit:  # asked for: shown anyway, as lines
        Stage(emit, "evaluate", "evaluate", "parts", total=2).finish()
    assert "evaluate: 2/2 parts" in capsys.readouterr().err
