"""Measure the release gate against memorisation patterns and honest samples (issue 12). Not a test.

    python -m evaluation.gate_patterns patterns [--out evaluation/results/gate_patterns.json]
    python -m evaluation.gate_patterns false-alarms [--out evaluation/results/gate_false_alarms.json]
    python -m evaluation.gate_patterns exposed-copies [--out evaluation/results/exposed_copies.json]
    (or python -m evaluation.run --job gate-patterns ...)

``patterns``: the gate's verdict (and the checks that fail) on each memorisation pattern, with the
default ``EvaluateSettings`` and ``GateSettings``:

- (a) dilution: every training row verbatim among honest rows, 20x the training size (german_credit,
  credit_risk) and at the issue's sizes (500 german rows in 263,000; 6,000 credit_risk rows in 1.5M);
- (b) five training records unique in the real data, verbatim, inside an honest release;
- (c) a holdout of 12 rows (12 non-members);
- (d) the training table itself;
- (e) near-copies (numerics moved by 1 %, a category changed in 10 % of rows) as 10 % and 1 % of an
  honest release (german_credit, credit_risk), 2 % (credit_risk), and of every training row among 20x
  honest rows;
- (f) a near-copy of each of the 2 % most isolated training records inside an honest release.

Honest rows are real rows of the same table that are neither training nor holdout rows, resampled
with replacement to the size wanted.

``false-alarms``: how often the new checks refuse an honest release. 20 random splits of german_credit
(400 train / 200 holdout / 400 independent rows) and 5 of credit_risk (6,000 / 1,500 / 6,000); the
honest release is the independent rows: all of them (the training split's size; the whole judge with
default settings runs on it), the first holdout-size of them, and all of them resampled with replacement
to 20x the training size (the verbatim checks run on these two).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pandas as pd

from evaluation.results import write_results
from synthgen.judge import EvaluateSettings, GateSettings, evaluate
from synthgen.judge.console import MEMORISATION_CHECKS
from synthgen.schema import infer_schema
from tests.judge.scenarios import (
    CREDIT_RISK,
    GERMAN,
    diluted,
    near_copy,
    resample,
    shuffled,
    split,
    with_isolated_near_copies,
    with_near_copies,
    with_unique_copies,
)

DATA = {"german": (GERMAN, "creditability"), "credit": (CREDIT_RISK, "loan_status")}


def load(name: str):
    path, target = DATA[name]
    frame = pd.read_csv(path)
    return frame, infer_schema(frame, target=target)


def patterns(names: list[str] | None = None) -> list[dict]:
    german, german_schema = load("german")
    credit, credit_schema = load("credit")
    cases = {}

    def case(name, frame, schema, sizes, seed, make):
        cases[name] = (frame, schema, sizes, seed, make)

    case("a_german_20x", german, german_schema, [400, 200, 400], 0, lambda tr, ho, ot, s: diluted(tr, ot, 20, 1))
    case(
        "a_german_issue_263k", german, german_schema, [500, 200, 300], 0, lambda tr, ho, ot, s: diluted(tr, ot, 525, 1)
    )
    case("a_credit_20x", credit, credit_schema, [6000, 1500, 6000], 1, lambda tr, ho, ot, s: diluted(tr, ot, 20, 1))
    case(
        "a_credit_issue_1.5M",
        credit,
        credit_schema,
        [6000, 1500, 6000],
        1,
        lambda tr, ho, ot, s: diluted(tr, ot, 249, 1),
    )
    case(
        "b_german_5_unique",
        german,
        german_schema,
        [400, 200, 400],
        0,
        lambda tr, ho, ot, s: with_unique_copies(tr, ho, ot, s, 5, 2),
    )
    case(
        "b_credit_5_unique",
        credit,
        credit_schema,
        [6000, 1500, 6000],
        1,
        lambda tr, ho, ot, s: with_unique_copies(tr, ho, ot, s, 5, 2),
    )
    case("c_german_12_holdout", german, german_schema, [400, 12, 400], 0, lambda tr, ho, ot, s: ot)
    case("d_german_copy", german, german_schema, [800, 200, 0], 0, lambda tr, ho, ot, s: tr.copy())
    case("d_credit_copy", credit, credit_schema, [6000, 1500, 0], 1, lambda tr, ho, ot, s: tr.copy())
    for label, (frame, schema, sizes, seed) in {
        "german": (german, german_schema, [400, 200, 400], 0),
        "credit": (credit, credit_schema, [6000, 1500, 6000], 1),
    }.items():
        for share in (0.10, 0.02, 0.01):
            case(
                f"e_{label}_near_copies_{share:.0%}",
                frame,
                schema,
                sizes,
                seed,
                lambda tr, ho, ot, s, share=share: with_near_copies(tr, ot, s, share, 3),
            )
        case(
            f"e_{label}_near_copies_diluted_20x",
            frame,
            schema,
            sizes,
            seed,
            lambda tr, ho, ot, s: diluted(near_copy(tr, range(len(tr)), s, 5), ot, 20, 1),
        )
        case(
            f"f_{label}_isolated_2%_near_copies",
            frame,
            schema,
            sizes,
            seed,
            lambda tr, ho, ot, s: with_isolated_near_copies(tr, ho, ot, s, 0.02, 4),
        )
    out = []
    for name, (frame, schema, sizes, seed, make) in cases.items():
        if names and name not in names:
            continue
        train, holdout, other = split(frame, sizes, seed)
        release = make(train, holdout, other, schema)
        start = time.perf_counter()
        report = evaluate(train, holdout, release, schema, EvaluateSettings(), GateSettings(), device="cpu")
        row = {
            "pattern": name,
            "rows": [len(train), len(holdout), len(release)],
            "passed": report.gate.passed,
            "failing": list(report.gate.failing),
            "not_estimable": list(report.gate.not_estimable),
            "detection_auc": report.fidelity.detection_auc,
            "detection_auc_folds": [round(x, 3) for x in report.fidelity.detection_auc_folds],
            "exact_copy_rate": report.privacy.exact_copy_rate,
            "mia_auc_upper": report.privacy.max_auc_upper,
            "checks": {c.name: [c.status, c.value, c.threshold] for c in report.gate.checks},
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def false_alarms(german_splits: int = 20, credit_splits: int = 5) -> dict:
    """The new checks on honest releases (see the module docstring)."""
    from synthgen.judge.gate import verbatim_checks
    from synthgen.judge.inputs import prepare
    from synthgen.judge.privacy import verbatim_records
    from tests.judge.test_evaluate_closeness import closeness_verdicts

    gates = GateSettings()
    runs = []
    for name, sizes, count in (
        ("german", [400, 200, 400], german_splits),
        ("credit", [6000, 1500, 6000], credit_splits),
    ):
        frame, schema = load(name)
        for seed in range(count):
            train, holdout, other = split(frame, sizes, 100 + seed)
            report = evaluate(train, holdout, other, schema, EvaluateSettings(), gates, device="cpu")
            f = report.fidelity
            row = {
                "data": name,
                "seed": 100 + seed,
                "gate_failing": list(report.gate.failing),
                "gate_blocking_not_estimable": list(report.gate.blocking_not_estimable),
                "detection": {
                    "auc": f.detection_auc,
                    "se": f.detection_auc_standard_error,
                    "holdout_auc": f.detection_auc_holdout,
                    "folds": [round(x, 3) for x in f.detection_auc_folds],
                },
                "train_size": {c.name: [c.status, c.value, c.threshold] for c in report.gate.checks},
            }
            for label, release in (
                ("holdout_size", other.iloc[: len(holdout)]),
                ("20x_train_resampled", resample(other, 20 * len(train), seed)),
            ):
                checks = verbatim_checks(gates, verbatim_records(prepare(train, holdout, release, schema)))
                checks += list(closeness_verdicts(train, holdout, release, schema, gates).values())
                row[label] = {c.name: [c.status, c.value, c.threshold] for c in checks}
            print(json.dumps(row, default=str), flush=True)
            runs.append(row)
    summary = {}
    for name in ("german", "credit"):
        mine = [r for r in runs if r["data"] == name]
        for label in ("train_size", "holdout_size", "20x_train_resampled"):
            for check in MEMORISATION_CHECKS:
                if check in mine[0][label]:
                    failed = sum(r[label][check][0] == "failed" for r in mine)
                    summary[f"{name} {check} ({label} release)"] = f"{failed} / {len(mine)} failed"
        failed = sum(bool(r["gate_failing"] or r["gate_blocking_not_estimable"]) for r in mine)
        summary[f"{name} whole gate (train_size release)"] = f"{failed} / {len(mine)} failed"
    return {"runs": runs, "summary": summary}


def exposed_copies(german_splits: int = 20, credit_splits: int = 5) -> dict:
    """``exposed_copies`` against ``exposed_records``: how often each refuses an honest release (the
    independent rows, and those resampled to 20x the training size: a release larger than the real table),
    and whether each catches verbatim and near-copies (`near_copy`) of the k most isolated training records
    hidden in the 20x honest release."""
    from tests.judge.scenarios import most_isolated_training_rows
    from tests.judge.test_evaluate_closeness import closeness_verdicts

    gates = GateSettings()
    names = ("exposed_records", "exposed_copies")
    runs = []
    for name, sizes, count in (
        ("german", [400, 200, 400], german_splits),
        ("credit", [6000, 1500, 6000], credit_splits),
    ):
        frame, schema = load(name)
        for seed in range(count):
            train, holdout, other = split(frame, sizes, 100 + seed)
            honest = resample(other, 20 * len(train), seed)
            releases = {"honest_1x": other, "honest_20x": honest}
            for k in (5, 10, 20):
                rows = most_isolated_training_rows(train, holdout, schema, k / len(train))
                copies = train.iloc[rows]
                releases[f"copies_of_{k}_most_isolated_in_20x"] = shuffled(pd.concat([honest, copies]), seed)
                near = near_copy(train, rows, schema, seed)
                releases[f"near_copies_of_{k}_most_isolated_in_20x"] = shuffled(pd.concat([honest, near]), seed)
            row = {"data": name, "seed": 100 + seed}
            for label, release in releases.items():
                verdicts = closeness_verdicts(train, holdout, release, schema, gates)
                row[label] = {n: [verdicts[n].status, verdicts[n].value, verdicts[n].threshold] for n in names}
            print(json.dumps(row, default=str), flush=True)
            runs.append(row)
    summary = {}
    for name in ("german", "credit"):
        mine = [r for r in runs if r["data"] == name]
        for label in [k for k in (mine[0] if mine else {}) if k not in ("data", "seed")]:
            for check in names:
                failed = sum(r[label][check][0] == "failed" for r in mine)
                summary[f"{name} {label}: {check}"] = f"{failed} / {len(mine)} failed"
    return {"runs": runs, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["patterns", "false-alarms", "exposed-copies"])
    parser.add_argument("--only", nargs="*", help="pattern names to run (default: all)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.part == "patterns":
        result = {"patterns": patterns(args.only)}
    else:
        result = false_alarms() if args.part == "false-alarms" else exposed_copies()
        print(json.dumps(result["summary"], indent=2))
    if args.out:
        command = "python -m evaluation.gate_patterns " + " ".join(argv if argv is not None else sys.argv[1:])
        write_results(args.out, {"benchmark": f"gate_{args.part.replace('-', '_')}", **result}, command=command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
