"""The release gate on a release held in parts (a sharded release): record checks on every row, the rest
on a seeded sample.

A release of a hundred million rows cannot be judged in memory, and need not be:

- **Record checks, on every released row, part by part.** Each part is matched against one index of
  the real rows (`synthgen.judge.release_records.RecordIndex`), the broadcast index, and judged on its
  own: a part fails when it alone breaks the verbatim, near-copy or exposed-record allowance. Each
  part's test runs at a Bonferroni-corrected confidence, 1 - (1 - c) / parts, so that an honest
  release of 400 parts is not refused for the 400 chances it gave chance. The parts' figures are then
  merged, exactly, into the whole release's, and the gate's whole-release checks run on them at the
  recipe's confidence: a leak spread thinly over many parts is counted whole.
- **Fidelity, utility, the membership attacks, DCR and the share checks, on a seeded sample** of the
  release, drawn uniformly over all its rows (a sample of as many rows as the real table is what an
  unsharded release would have been judged on). These are statistics of the distribution, which a
  uniform sample estimates; the checks that look for individual records are the ones above.

The result is one `EvaluationReport` (its privacy section holds the whole release's record figures; a
``shard_records`` check counts the parts that failed) and a verdict per part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.errors import DataError, InputError
from synthgen.judge.gate import (
    GateCheck,
    GateResult,
    exposed_check,
    exposed_copies_check,
    gate_check,
    near_copy_checks,
    run_gate,
    verbatim_checks,
)
from synthgen.judge.privacy import RealHashes
from synthgen.judge.release_records import PartRecords, RecordIndex
from synthgen.judge.report import EvaluationReport
from synthgen.judge.settings import EvaluateSettings, GateSettings
from synthgen.schema import TableSchema

PartReader = Callable[[], pd.DataFrame]
"""Reads one part of the release (its rows, in order) when called; called once per part."""


@dataclass
class PartVerdict:
    index: int
    rows: int
    passed: bool
    failing: list[str]
    figures: dict[str, float | None]  # each record check's value for this part alone


@dataclass
class ReleaseEvaluation:
    report: EvaluationReport  # gate over the whole release: record checks merged, the rest on the sample
    parts: list[PartVerdict]
    sample_rows: int
    release_rows: int

    @property
    def passed(self) -> bool:
        return bool(self.report.gate.passed)

    @property
    def failing_parts(self) -> list[int]:
        return [p.index for p in self.parts if not p.passed]


def part_gates(gates: GateSettings, parts: int) -> GateSettings:
    """The gate settings one part of ``parts`` is judged at: each record check's confidence c raised to
    1 - (1 - c) / parts (Bonferroni), so the release's chance of a false refusal stays at most 1 - c."""
    update = {}
    for name in ("verbatim_confidence", "near_copy_confidence", "exposed_confidence"):
        value = getattr(gates, name)
        if value is not None:
            update[name] = 1.0 - (1.0 - value) / parts
    return gates.model_copy(update=update)


def record_checks(gates: GateSettings, index: RecordIndex, parts: Sequence[PartRecords]) -> list[GateCheck]:
    verbatim, near, exposed = index.merge(parts)
    return [
        *verbatim_checks(gates, verbatim),
        *near_copy_checks(gates, near),
        exposed_check(gates, exposed),
        exposed_copies_check(gates, exposed),
    ]


def sample_positions(part_rows: Sequence[int], rows: int, seed: int) -> list[np.ndarray]:
    """A seeded uniform sample of ``rows`` of the release's rows without replacement, as positions within
    each part (the whole release when it has no more rows than that)."""
    total = int(sum(part_rows))
    chosen = np.sort(np.random.default_rng(seed).choice(total, size=min(rows, total), replace=False))
    bounds = np.concatenate([[0], np.cumsum(part_rows)])
    cut = np.searchsorted(chosen, bounds)
    return [chosen[cut[i] : cut[i + 1]] - bounds[i] for i in range(len(part_rows))]


def judge_part(
    index: RecordIndex, gates: GateSettings, i: int, rows: int, read: PartReader, take: np.ndarray
) -> tuple[PartRecords, PartVerdict, pd.DataFrame | None]:
    """Read part ``i`` once: its record figures, its verdict alone (at ``gates``, the part's settings), and
    the rows at ``take`` for the sample."""
    frame = read()
    if len(frame) != rows:
        raise DataError(f"part {i} holds {len(frame)} rows; {rows} were announced")
    part = index.part(frame, role=f"release part {i}")
    checks = record_checks(gates, index, [part])
    failing = [c.name for c in checks if c.status == "failed"]
    verdict = PartVerdict(i, rows, not failing, failing, {c.name: c.value for c in checks})
    return part, verdict, frame.iloc[take] if len(take) else None


_WORKER: dict[str, object] = {}


def _start_worker(index: RecordIndex, gates: GateSettings, threads: int) -> None:
    """A worker process receives the index once (the broadcast) and uses its share of the cores."""
    from synthgen.threads import use_threads

    use_threads(threads)
    _WORKER.update(index=index, gates=gates)


def _worker_part(i: int, rows: int, read: PartReader, take: np.ndarray):
    return judge_part(_WORKER["index"], _WORKER["gates"], i, rows, read, take)


def _judged_parts(
    index: RecordIndex,
    gates: GateSettings,
    parts: Sequence[tuple[int, PartReader]],
    positions: Sequence[np.ndarray],
    workers: int,
) -> Iterator[tuple[PartRecords, PartVerdict, pd.DataFrame | None]]:
    """Each part judged, in order: here, or on ``workers`` processes that each hold the index."""
    if workers <= 1 or len(parts) <= 1:
        for i, ((rows, read), take) in enumerate(zip(parts, positions)):
            yield judge_part(index, gates, i, rows, read, take)
        return
    from synthgen.workers import in_order, local_pool

    pool = local_pool(min(workers, len(parts)), _start_worker, (index, gates))
    futures = [
        pool.submit(_worker_part, i, rows, read, take) for i, ((rows, read), take) in enumerate(zip(parts, positions))
    ]
    yield from in_order(pool, futures)


def evaluate_release(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    parts: Sequence[tuple[int, PartReader]],
    schema: TableSchema,
    settings: EvaluateSettings | None = None,
    gates: GateSettings | None = None,
    device: str = "auto",
    sample_rows: int | None = None,
    sample_seed: int = 0,
    workers: int = 1,
    on_part: Callable[[PartVerdict], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    real_hashes: RealHashes | None = None,
) -> ReleaseEvaluation:
    """Judge a release given as ``parts``, each (rows, reader), each read once.

    ``sample_rows`` (default: as many as the real train and holdout tables) are drawn uniformly over the
    release with ``sample_seed`` for the checks that judge the distribution. ``workers`` > 1 judges the
    parts on that many local processes, each given the index once (readers must then be picklable, e.g.
    ``functools.partial(read_table, path)``); the verdict is the same. ``on_part`` is called with each
    part's verdict in part order, ``progress`` and ``real_hashes`` as `evaluate`'s (every real row's record,
    when ``train`` and ``holdout`` are samples of a larger table: the verbatim check then covers all of it).
    """
    from synthgen.device import resolve_device
    from synthgen.judge.evaluation import evaluate

    settings = settings if settings is not None else EvaluateSettings()
    gates = gates if gates is not None else GateSettings()
    torch_device = str(resolve_device(device))
    index = RecordIndex.build(
        train, holdout, schema, settings, gates.near_copy_quantile, device=torch_device, real_hashes=real_hashes
    )
    sizes = [int(rows) for rows, _ in parts]
    wanted = sample_rows if sample_rows is not None else len(train) + len(holdout)
    if wanted < 1 or not parts:
        raise InputError(f"a release of {len(parts)} part(s) judged on a sample of {wanted} rows: nothing to judge")
    positions = sample_positions(sizes, wanted, sample_seed)
    records: list[PartRecords] = []
    verdicts: list[PartVerdict] = []
    sampled: list[pd.DataFrame] = []
    for part, verdict, rows in _judged_parts(index, part_gates(gates, len(parts)), parts, positions, workers):
        records.append(part)
        verdicts.append(verdict)
        if on_part is not None:
            on_part(verdict)
        if rows is not None:
            sampled.append(rows)
    sample = pd.concat(sampled, ignore_index=True)
    report = evaluate(
        train, holdout, sample, schema, settings, gates, device=device, progress=progress, real_hashes=real_hashes
    )
    verbatim, near, exposed = index.merge(records)
    privacy = report.privacy.model_copy(
        update={
            "verbatim": verbatim,
            "near_copies": near,
            "exposed": exposed,
            "notes": [
                *report.privacy.notes,
                f"record checks (verbatim, near-copies, exposed records) over all {sum(sizes):,} released rows in "
                f"{len(parts)} parts; the other checks on a seeded uniform sample of {len(sample):,} rows",
            ],
        }
    )
    gate = run_gate(gates, report.fidelity, report.utility, privacy)
    failed = [v.index for v in verdicts if not v.passed]
    each = part_gates(gates, len(parts))
    confidence = ", ".join(
        f"{name} {getattr(each, name):.6f}"
        for name in ("verbatim_confidence", "near_copy_confidence", "exposed_confidence")
        if getattr(each, name) is not None
    )
    shown = ", ".join(str(i) for i in failed[:10]) + (", ..." if len(failed) > 10 else "")
    shard_check = gate_check(
        "shard_records",
        float(len(failed)),
        0.0,
        "<=",
        f"{len(failed)} of {len(parts)} parts break a record check on their own"
        + (f" (parts {shown})" if failed else "")
        + f"; each part judged at {confidence}",
        meaning="a part of the release that alone reproduces or nearly copies training records: nothing is published",
    )
    gate = GateResult(
        passed=gate.passed and shard_check.passed,
        checks=[*gate.checks, shard_check],
        failing=[*gate.failing, *(["shard_records"] if not shard_check.passed else [])],
        not_estimable=gate.not_estimable,
        blocking_not_estimable=gate.blocking_not_estimable,
    )
    report = report.model_copy(update={"privacy": privacy, "gate": gate})
    return ReleaseEvaluation(report=report, parts=verdicts, sample_rows=len(sample), release_rows=sum(sizes))
