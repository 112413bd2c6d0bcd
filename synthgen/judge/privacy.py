"""Does the synthetic table leak its training rows?

Hygiene (never proof on its own): exact copies of training rows against the rate at which fresh real
rows (the holdout) repeat a training row; distance to closest record (DCR share) and the nearest-
neighbour distance ratio (NNDR).

Verbatim records (``verbatim_records``), over the whole synthetic table however large: the *distinct*
training records it reproduces, set against how often real rows recur on their own (see
``VerbatimRecords``); the gate turns them into an allowance (``gate.verbatim_checks``).

Near-copies and exposed records, over the whole release: ``synthgen.judge.closeness``.

Proof: membership-inference attacks. Members are *every* training row (up to ``mia_max_rows``),
non-members every holdout row; each attack scores every one of them and is judged by ROC AUC and TPR
at low FPR, with bootstrap intervals. Scoring only half the training rows would leave the near-copies
of the other half invisible.

- ``distance``: GAN-leaks, score = -distance to the nearest row of the *whole* release.
- ``distance_calibrated``: the same minus the distance to the nearest *reference* row.
- ``domias``: log density of the synthetic rows over that of the reference rows at the record
  (DOMIAS, van Breugel et al. 2023): Gaussian kernel densities on a whitened PCA projection.
- ``logan``: a boosted-tree classifier trained to tell synthetic rows from reference rows scores
  each record (LOGAN, Hayes et al. 2019).

The reference set is real data the attacker may hold: training rows of the *other fold*. The training
rows are cut in two folds; the members of each are scored against a reference drawn from the other, and
each non-member against one fold's reference (half the holdout each). Training rows are independent
draws from the same population as the holdout, and a generator's overfitting lives in its synthetic
rows, not in the real ones, so they estimate the population density without bias; and since a member
is never in its own reference, the reference cannot favour it. Taking the reference from the holdout
instead would halve the non-members (a 200-row holdout would leave 100).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy.stats import beta as beta_dist
from sklearn.decomposition import PCA

from synthgen.errors import InputError
from synthgen.judge.closeness import (
    ExposedRecords,
    NearCopies,
    ReleaseDistances,
    exposed_records,
    near_copies,
    release_distances,
)
from synthgen.judge.fidelity import Stopwatch, fnum, subsample
from synthgen.judge.inputs import CleanTables, clean_table
from synthgen.judge.learners import Learners, single_threaded_blas
from synthgen.judge.neighbours import cross_minima, log_density, nearest, scott_bandwidth
from synthgen.judge.settings import EvaluateSettings
from synthgen.schema import Column

FPR_LEVELS = {"1pct": 0.01, "01pct": 0.001}


class AttackResult(BaseModel):
    name: str
    auc: float
    auc_interval: tuple[float, float]
    tpr_at_1pct_fpr: float | None  # None: not estimable (fewer than 100 non-members)
    tpr_at_1pct_fpr_interval: tuple[float, float] | None
    tpr_at_01pct_fpr: float | None  # None: not estimable (fewer than 1,000 non-members)
    tpr_at_01pct_fpr_interval: tuple[float, float] | None
    epsilon_lower_bound: float | None  # ln(TPR_low / FPR_high) at 1% FPR, Clopper-Pearson bounds, >= 0
    epsilon_point: float | None  # ln(TPR / 0.01) at 1% FPR
    roc_fpr: list[float]
    roc_tpr: list[float]


class VerbatimRecords(BaseModel):
    """Training records found verbatim in the whole synthetic table, counted once each, and what real rows
    show about how often a record recurs on its own. Counts of records and rows only, never their values.

    A *record* is a distinct row value (hashed as ``row_hashes`` does). A training record that also occurs
    in the holdout is a natural duplicate: real data repeats it, so the synthetic table may too, and it is
    never counted. The rest could leak: ``reproduced`` of them are in the synthetic table,
    ``reproduced_unique`` of those occur once in the real data (train + holdout).

    What an independent sample would reproduce, estimated two ways:

    - recurrence: each real row, held out in turn, as a fresh draw: ``real_recurrences`` of the
      ``real_rows`` rows equal a training record that is not in the rest of the holdout (a row that
      repeats a training row among the training rows counts, as does a holdout row equal to a training row
      and to no other holdout row). An independent sample of ``synthetic_rows`` rows reproduces about
      ``synthetic_rows x real_recurrences / real_rows`` such records (fewer once it repeats itself).
      ``real_recurrences_unique``: those whose record occurs exactly twice in the real data, the other
      copy a training row (the same estimate for the records unique in the real data).
    - the holdout as a control: ``holdout_reproduced`` of the ``holdout_records`` holdout records that are
      not training records are in the synthetic table. To an independent sample, training and holdout
      records are alike, so it reproduces both at one rate, at any size; a generator that memorises
      reproduces training records only.
    """

    synthetic_rows: int  # the whole synthetic table, never a subsample
    real_rows: int  # train + holdout rows
    training_records: int  # distinct training records that are not in the holdout
    training_unique_records: int  # of which occur once in the real data
    holdout_records: int  # distinct holdout records that are not in the train table
    holdout_unique_records: int  # of which occur once in the real data
    reproduced: int  # training records (not in the holdout) found in the synthetic table
    reproduced_unique: int  # of which unique in the real data
    natural_duplicates: int  # training records also in the holdout found in the synthetic table: not counted
    synthetic_rows_reproducing: int  # synthetic rows equal to a counted training record
    holdout_reproduced: int  # holdout records (not training records) found in the synthetic table
    holdout_reproduced_unique: int  # of which unique in the real data
    real_recurrences: int  # real rows equal to a training record absent from the rest of the holdout
    real_recurrences_unique: int  # of which that record occurs exactly twice in the real data

    @property
    def expected(self) -> float:
        """Training records an independent sample of the synthetic table's size would reproduce (point estimate)."""
        return self.synthetic_rows * self.real_recurrences / max(self.real_rows, 1)

    @property
    def expected_unique(self) -> float:
        return self.synthetic_rows * self.real_recurrences_unique / max(self.real_rows, 1)


class PrivacyResult(BaseModel):
    exact_copies: int
    exact_copy_rate: float
    holdout_copies: int
    holdout_copy_rate: float  # baseline: holdout rows equal to some training row
    copy_rate_standard_error: float
    synthetic_rows: int
    holdout_rows: int
    dcr_share: float  # share of synthetic rows closer to train than to holdout (ties half); 0.5 ideal
    dcr_rows: int
    dcr_reference_rows: int = 0  # training rows = holdout rows the DCR share compares (0: an older report)
    dcr_median_synthetic: float
    dcr_median_holdout: float  # baseline: holdout rows' distance to the train sample
    nndr_q10_synthetic: float
    nndr_q10_holdout: float
    members: int
    non_members: int
    reference_rows: int
    attack_synthetic_rows: int
    attacks: list[AttackResult]
    strongest_attack: str
    max_auc_upper: float
    max_tpr_at_1pct_fpr_upper: float | None
    max_tpr_at_01pct_fpr_upper: float | None
    notes: list[str] = []
    timings_s: dict[str, float] = {}
    verbatim: VerbatimRecords | None = None  # None in reports written before the check existed
    near_copies: NearCopies | None = None  # likewise
    exposed: ExposedRecords | None = None  # likewise


# ---------------------------------------------------------------------------------- exact copies
MISSING = "\x00missing"  # how a missing category hashes: pandas would hash None as the string "None"


def row_hashes(frame: pd.DataFrame, columns: Sequence[Column]) -> np.ndarray:
    """One 64-bit hash per row of the scored columns, on the clean frames of `synthgen.judge.inputs`.

    Continuous values are rounded to their precision (6 decimals where the schema gives none), -0.0
    becomes 0.0 and every missing value one NaN, so that values which read the same hash the same;
    discrete values are already canonical strings, and a missing one hashes apart from any category.
    """
    data = {}
    for c in columns:
        v = frame[c.name]
        if c.kind.is_continuous:
            v = _rounded(v.to_numpy(dtype=np.float64), c.rounding if c.rounding is not None else 6) + 0.0
            v[np.isnan(v)] = np.nan
        else:
            v = v.to_numpy(dtype=object).copy()
            v[pd.isna(v)] = MISSING
        data[c.name] = v
    return pd.util.hash_pandas_object(pd.DataFrame(data), index=False).to_numpy()


def _rounded(values: np.ndarray, decimals: int) -> np.ndarray:
    """``values`` rounded to ``decimals``; from 2**52 on a float64 has no fraction to round, and
    rounding would scale it past the largest float (1e308 and 1.7e308 would both hash as inf)."""
    out = values.copy()
    small = np.abs(out) < 2.0**52
    out[small] = np.round(out[small], decimals)
    return out


@dataclass(frozen=True)
class RealHashes:
    """The record hash (``row_hashes``) of *every* real training and holdout row, for a real table judged
    on samples of it (a streamed source: `synthgen.streamed_judging.real_hashes`).

    The judge's distance checks and attacks need the rows themselves, so they score uniform samples of a
    table too large to hold; a record check on a sample would miss a copy of any borrower outside it.
    Eight bytes a row hold what the exact checks (``exact_copies``, ``verbatim_records``) need, so they
    run over every real row: a copy of any training record is found, wherever it lies in the table.
    """

    train: np.ndarray  # uint64, one per training row, sorted (so membership is a binary search, no new sort)
    holdout: np.ndarray

    def __post_init__(self) -> None:
        for name in ("train", "holdout"):
            values = np.asarray(getattr(self, name), dtype=np.uint64)
            if not _is_sorted(values):
                values = np.sort(values)
            object.__setattr__(self, name, values)

    @classmethod
    def of_batches(
        cls, batches: Iterable[tuple[pd.DataFrame, np.ndarray]], columns: Sequence[Column], role: str = "source"
    ) -> RealHashes:
        """From (real rows, which of them are holdout rows) batches, one batch in memory at a time; the
        rows are read in the judge's clean form (`synthgen.judge.inputs.clean_table`), ``role`` names them
        in errors."""
        train, holdout = [np.empty(0, np.uint64)], [np.empty(0, np.uint64)]
        for frame, held in batches:
            hashes = row_hashes(clean_table(frame, list(columns), role), columns)
            held = np.asarray(held, dtype=bool)
            train.append(hashes[~held])
            holdout.append(hashes[held])
        sides = []
        for parts in (train, holdout):
            side = np.concatenate(parts)
            parts.clear()  # the batches' arrays go before the sort: memory is the hashes once, and a sort's buffer
            side.sort()  # in place: sorted once, here
            sides.append(side)
        return cls(*sides)

    def covering(self, t: CleanTables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(training, holdout, synthetic) hashes for the exact checks: every real row's, and the release's.
        The judged samples must be rows of this table, on the same sides: anything else is an `InputError`
        (hashes of another table, or of another split, would judge the release against the wrong rows)."""
        for role, frame, side in (("train", t.train, self.train), ("holdout", t.holdout, self.holdout)):
            missing = int((~_within(row_hashes(frame, t.columns), side)).sum())
            if missing:
                raise InputError(
                    f"{missing:,} of the {len(frame):,} {role} rows judged are not among the {len(side):,} real "
                    f"{role} rows whose records were hashed: the hashes are of another table or another split, "
                    "or a column reads differently in the sample than in the whole table"
                )
        return self.train, self.holdout, row_hashes(t.synthetic, t.columns)


def _lookup(values: np.ndarray, sorted_table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``sorted_table`` (sorted), found) of each of ``values``: a binary search each, no copy."""
    if not len(sorted_table):
        return np.zeros(len(values), dtype=np.intp), np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_table, values).clip(max=len(sorted_table) - 1)
    return at, sorted_table[at] == values


def _within(values: np.ndarray, sorted_table: np.ndarray) -> np.ndarray:
    """Which of ``values`` occur in ``sorted_table`` (sorted)."""
    return _lookup(values, sorted_table)[1]


def _is_sorted(values: np.ndarray) -> bool:
    return len(values) < 2 or bool((values[1:] >= values[:-1]).all())


def table_hashes(
    t: CleanTables, hashes: tuple[np.ndarray, np.ndarray, np.ndarray] | RealHashes | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training, holdout, synthetic) record hashes for the exact checks: those given, every real row's
    (`RealHashes`, checked against ``t``), or ``t``'s own tables'."""
    if isinstance(hashes, RealHashes):
        return hashes.covering(t)
    if hashes is not None:
        return hashes
    return tuple(row_hashes(frame, t.columns) for frame in (t.train, t.holdout, t.synthetic))


def exact_copies(t: CleanTables, hashes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> dict:
    train, holdout, synthetic = table_hashes(t, hashes)
    table = train if _is_sorted(train) else np.sort(train)  # every real row's hashes come sorted: no new sort
    syn_hits, hold_hits = _within(synthetic, table), _within(holdout, table)
    p = float(hold_hits.mean())
    se = math.sqrt(max(p * (1 - p), 0.0) * (1 / len(syn_hits) + 1 / len(hold_hits)))
    return dict(
        exact_copies=int(syn_hits.sum()),
        exact_copy_rate=float(syn_hits.mean()),
        holdout_copies=int(hold_hits.sum()),
        holdout_copy_rate=p,
        copy_rate_standard_error=se,
        synthetic_rows=len(syn_hits),
        holdout_rows=len(hold_hits),
    )


def _counts_in(values: np.ndarray, table_values: np.ndarray, table_counts: np.ndarray) -> np.ndarray:
    """How often each of ``values`` occurs in a table summarised by ``np.unique(..., return_counts=True)``."""
    out = np.zeros(len(values), dtype=np.int64)
    at, found = _lookup(values, table_values)
    out[found] = table_counts[at[found]]
    return out


@dataclass(frozen=True)
class VerbatimIndex:
    """The real rows' records as the verbatim check needs them, built once: a release is matched against it
    in parts (the shards of a sharded release) and the parts' matches are merged (`records`).

    Records are distinct row hashes (``row_hashes``), sorted. ``leak``: the training records that are not
    natural duplicates (absent from the holdout); ``control``: the holdout records absent from the train
    table; the ``unique`` masks: those of them that occur once in the real data."""

    records_t: np.ndarray
    records_h: np.ndarray
    leak: np.ndarray
    unique_t: np.ndarray
    control: np.ndarray
    unique_h: np.ndarray
    leak_records: np.ndarray  # sorted hashes of the leak records: a released row equal to one reproduces it
    real_rows: int
    real_recurrences: int
    real_recurrences_unique: int

    @classmethod
    def of(cls, train: np.ndarray, holdout: np.ndarray) -> VerbatimIndex:
        records_t, count_t = np.unique(train, return_counts=True)
        records_h, count_h = np.unique(holdout, return_counts=True)
        in_h = _counts_in(records_t, records_h, count_h)  # per training record: its holdout count
        in_t = _counts_in(records_h, records_t, count_t)  # per holdout record: its train count
        leak = in_h == 0  # training records that are not natural duplicates
        control = in_t == 0
        # Each real row as a fresh draw, the other real rows as train and holdout: it reproduces a training
        # record that the rest of the holdout lacks when (training row) the record repeats in train and is
        # not in the holdout, or (holdout row) the record is in train and in no other holdout row.
        recur = int((count_t * ((count_t >= 2) & leak)).sum() + ((in_t >= 1) & (count_h == 1)).sum())
        recur_unique = int(2 * ((count_t == 2) & leak).sum() + ((in_t == 1) & (count_h == 1)).sum())
        return cls(
            records_t=records_t,
            records_h=records_h,
            leak=leak,
            unique_t=leak & (count_t == 1),
            control=control,
            unique_h=control & (count_h == 1),
            leak_records=records_t[leak],
            real_rows=len(train) + len(holdout),
            real_recurrences=recur,
            real_recurrences_unique=recur_unique,
        )

    def match(self, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Which training and holdout records (positions in ``records_t`` / ``records_h``) the released
        rows ``synthetic`` reproduce, and how many of those rows equal a leak record."""
        released = np.unique(synthetic)
        found_t = np.flatnonzero(np.isin(self.records_t, released, assume_unique=True))
        found_h = np.flatnonzero(np.isin(self.records_h, released, assume_unique=True))
        return found_t, found_h, int(np.isin(synthetic, self.leak_records).sum())

    def records(
        self, found_t: np.ndarray, found_h: np.ndarray, rows_reproducing: int, synthetic_rows: int
    ) -> VerbatimRecords:
        """The check's figures for a release whose parts matched the records ``found_t`` / ``found_h``
        (positions, duplicates allowed: the union of the parts' matches) in ``synthetic_rows`` rows."""
        hit_t = np.zeros(len(self.records_t), dtype=bool)
        hit_t[found_t] = True
        hit_h = np.zeros(len(self.records_h), dtype=bool)
        hit_h[found_h] = True
        return VerbatimRecords(
            synthetic_rows=synthetic_rows,
            real_rows=self.real_rows,
            training_records=int(self.leak.sum()),
            training_unique_records=int(self.unique_t.sum()),
            holdout_records=int(self.control.sum()),
            holdout_unique_records=int(self.unique_h.sum()),
            reproduced=int((hit_t & self.leak).sum()),
            reproduced_unique=int((hit_t & self.unique_t).sum()),
            natural_duplicates=int((hit_t & ~self.leak).sum()),
            synthetic_rows_reproducing=rows_reproducing,
            holdout_reproduced=int((hit_h & self.control).sum()),
            holdout_reproduced_unique=int((hit_h & self.unique_h).sum()),
            real_recurrences=self.real_recurrences,
            real_recurrences_unique=self.real_recurrences_unique,
        )


def verbatim_records(
    t: CleanTables, hashes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> VerbatimRecords:
    """Distinct training records in the whole synthetic table, and the real rows' own recurrence (see
    ``VerbatimRecords``). Hashing only: linear in the rows, about a second per million synthetic rows."""
    train, holdout, synthetic = table_hashes(t, hashes)
    index = VerbatimIndex.of(train, holdout)
    return index.records(*index.match(synthetic), synthetic_rows=len(synthetic))


# ------------------------------------------------------------------------------------- DCR, NNDR
def _nndr(d: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = d[:, 0] / d[:, 1]
    return np.where(d[:, 1] == 0, 1.0, ratio)  # a copy of a row that itself repeats identifies no one


def distance_hygiene(
    train: np.ndarray,
    holdout: np.ndarray,
    synth: np.ndarray,
    settings: EvaluateSettings,
    device,
    rng: np.random.Generator,
) -> dict:
    m = min(len(holdout), len(train), settings.dcr_max_rows)
    T = train[subsample(len(train), m, rng)]
    H = holdout[subsample(len(holdout), m, rng)]
    S = synth[subsample(len(synth), settings.dcr_max_rows, rng)]
    b = settings.block_rows
    s_to_t = nearest(S, T, k=2, device=device, block_rows=b)[0]
    s_to_h = nearest(S, H, k=1, device=device, block_rows=b)[0][:, 0]
    h_to_t = nearest(H, T, k=2, device=device, block_rows=b)[0]
    closer = s_to_t[:, 0] < s_to_h - 1e-9
    tie = np.abs(s_to_t[:, 0] - s_to_h) <= 1e-9
    return dict(
        dcr_share=float(closer.mean() + 0.5 * tie.mean()),
        dcr_rows=len(S),
        dcr_reference_rows=m,
        dcr_median_synthetic=float(np.median(s_to_t[:, 0])),
        dcr_median_holdout=float(np.median(h_to_t[:, 0])),
        nndr_q10_synthetic=float(np.quantile(_nndr(s_to_t), 0.1)),
        nndr_q10_holdout=float(np.quantile(_nndr(h_to_t), 0.1)),
    )


# ---------------------------------------------------------------------------------------- scoring
def auc_score(members: np.ndarray, non_members: np.ndarray) -> float:
    """Mann-Whitney ROC AUC: chance that a member outscores a non-member, ties half."""
    nm = np.sort(non_members)
    below = np.searchsorted(nm, members, side="left")
    equal = np.searchsorted(nm, members, side="right") - below
    return float((below + 0.5 * equal).sum() / (len(members) * len(nm)))


def tpr_at_fpr(members: np.ndarray, non_members: np.ndarray, fpr: float) -> tuple[float, int]:
    """Highest TPR with at most floor(fpr * n) non-members flagged; flagged = score above a threshold."""
    allowed = int(math.floor(fpr * len(non_members) + 1e-9))
    threshold = np.partition(non_members, len(non_members) - allowed - 1)[len(non_members) - allowed - 1]
    return float(np.mean(members > threshold)), int(np.sum(non_members > threshold))


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    a = (1 - confidence) / 2
    lo, hi = np.quantile(values, [a, 1 - a])
    return float(lo), float(hi)


def _clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    a = 1 - confidence
    lo = 0.0 if k == 0 else float(beta_dist.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta_dist.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def score_attack(
    name: str, scores: np.ndarray, is_member: np.ndarray, settings: EvaluateSettings, rng: np.random.Generator
) -> AttackResult:
    s1, s0 = scores[is_member], scores[~is_member]
    n1, n0 = len(s1), len(s0)
    estimable = {key: n0 * f >= 1 - 1e-9 for key, f in FPR_LEVELS.items()}
    boot = {"auc": [], **{key: [] for key in FPR_LEVELS}}
    for _ in range(settings.bootstrap):
        b1, b0 = s1[rng.integers(0, n1, n1)], s0[rng.integers(0, n0, n0)]
        boot["auc"].append(auc_score(b1, b0))
        for key, f in FPR_LEVELS.items():
            if estimable[key]:
                boot[key].append(tpr_at_fpr(b1, b0, f)[0])
    fields: dict = {}
    for key, f in FPR_LEVELS.items():
        if estimable[key]:
            fields[f"tpr_at_{key}_fpr"] = tpr_at_fpr(s1, s0, f)[0]
            fields[f"tpr_at_{key}_fpr_interval"] = _interval(np.array(boot[key]), settings.confidence)
        else:
            fields[f"tpr_at_{key}_fpr"] = fields[f"tpr_at_{key}_fpr_interval"] = None
    eps_low = eps_point = None
    if estimable["1pct"]:
        tpr, fp = tpr_at_fpr(s1, s0, 0.01)
        tpr_low = _clopper_pearson(int(round(tpr * n1)), n1, settings.confidence)[0]
        fpr_high = _clopper_pearson(fp, n0, settings.confidence)[1]
        eps_low = max(0.0, math.log(tpr_low / fpr_high)) if tpr_low > 0 else 0.0
        eps_point = math.log(tpr / 0.01) if tpr > 0 else None
    fpr_grid, tpr_grid = roc_points(s1, s0)
    return AttackResult(
        name=name,
        auc=auc_score(s1, s0),
        auc_interval=_interval(np.array(boot["auc"]), settings.confidence),
        epsilon_lower_bound=fnum(eps_low),
        epsilon_point=fnum(eps_point),
        roc_fpr=fpr_grid,
        roc_tpr=tpr_grid,
        **fields,
    )


def roc_points(s1: np.ndarray, s0: np.ndarray, points: int = 80) -> tuple[list[float], list[float]]:
    """The ROC curve on a grid dense at low FPR (for log-scale plots): (fpr, tpr) lists."""
    thresholds = np.unique(np.r_[s0, s1])[::-1]  # flagged: score >= threshold
    fpr = np.r_[0.0, 1.0 - np.searchsorted(np.sort(s0), thresholds, side="left") / len(s0)]
    tpr = np.r_[0.0, 1.0 - np.searchsorted(np.sort(s1), thresholds, side="left") / len(s1)]
    grid = np.unique(np.r_[np.logspace(-3, 0, points // 2), np.linspace(0, 1, points // 2)])
    return grid.round(6).tolist(), np.interp(grid, fpr, tpr).round(6).tolist()


# ---------------------------------------------------------------------------------------- attacks
def membership_attacks(
    train: np.ndarray,
    holdout: np.ndarray,
    synth: np.ndarray,
    distances: ReleaseDistances,
    settings: EvaluateSettings,
    learners: Learners,
    device,
    rng: np.random.Generator,
    clock: Stopwatch | None = None,
) -> tuple[dict, list[AttackResult]]:
    """Every training row (up to ``mia_max_rows``) a member, every holdout row a non-member; two folds of
    training rows, each scored against a reference drawn from the other (see the module docstring)."""
    clock = clock or Stopwatch()
    member_index = subsample(len(train), settings.mia_max_rows, rng)
    non_member_index = subsample(len(holdout), settings.mia_max_rows, rng)
    n1, n0 = len(member_index), len(non_member_index)
    queries = np.vstack([train[member_index], holdout[non_member_index]]).astype(np.float64)
    is_member = np.r_[np.ones(n1, bool), np.zeros(n0, bool)]
    # Fold of each training row, and the fold whose *other* half serves as each query's reference.
    fold_of_train = np.zeros(len(train), dtype=np.int64)
    fold_of_train[rng.permutation(len(train))[len(train) // 2 :]] = 1
    query_fold = np.r_[fold_of_train[member_index], rng.permutation(np.arange(n0) % 2)]
    references = []
    for fold in (0, 1):
        others = np.flatnonzero(fold_of_train != fold)
        references.append(train[others[subsample(len(others), settings.mia_reference_max_rows, rng)]])
    S = synth[subsample(len(synth), settings.mia_synthetic_max_rows, rng)]
    b = settings.block_rows

    # The distance attack sees the whole release (``closeness``); the others a subsample, as densities do.
    d_synth = np.r_[distances.train_to_synth[member_index], distances.holdout_to_synth[non_member_index]]
    scores = {"distance": -d_synth, "distance_calibrated": np.empty(len(queries))}
    scores["domias"], scores["logan"] = np.empty(len(queries)), np.empty(len(queries))
    laps = {"attack_distance": 0.0, "attack_domias": 0.0, "attack_logan": 0.0}
    for fold in (0, 1):
        rows = np.flatnonzero(query_fold == fold)
        if len(rows) == 0:
            continue
        q, reference = queries[rows], references[fold]
        d_ref = cross_minima(q, reference, device=device, block_rows=b)[0]  # a score: float32 will do
        scores["distance_calibrated"][rows] = d_ref - d_synth[rows]
        laps["attack_distance"] += clock.split()
        scores["domias"][rows] = _domias(q, S, reference, settings, device)
        laps["attack_domias"] += clock.split()
        scores["logan"][rows] = _logan(q, S, reference, learners, rng)
        laps["attack_logan"] += clock.split()
    clock.laps.update({k: round(v, 3) for k, v in laps.items()})
    results = [score_attack(name, s, is_member, settings, rng) for name, s in scores.items()]
    clock.lap("attack_bootstrap")
    sizes = dict(
        members=n1, non_members=n0, reference_rows=min(len(r) for r in references), attack_synthetic_rows=len(S)
    )
    return sizes, results


def _domias(
    queries: np.ndarray, S: np.ndarray, reference: np.ndarray, settings: EvaluateSettings, device
) -> np.ndarray:
    S = S[: settings.domias_synthetic_max_rows]  # S is already a random subsample
    k = max(1, min(settings.domias_components, reference.shape[1], len(reference) - 1))
    with single_threaded_blas():
        pca = PCA(n_components=k, whiten=True, random_state=settings.seed).fit(reference)
        zq, zs, zr = pca.transform(queries), pca.transform(S), pca.transform(reference)
    b = settings.block_rows
    log_ps = log_density(zq, zs, scott_bandwidth(len(zs), k), device=device, block_rows=b)
    log_pr = log_density(zq, zr, scott_bandwidth(len(zr), k), device=device, block_rows=b)
    return log_ps - log_pr


def _logan(
    queries: np.ndarray, S: np.ndarray, reference: np.ndarray, learners: Learners, rng: np.random.Generator
) -> np.ndarray:
    S_fit = S[subsample(len(S), max(len(reference), 1), rng)]
    X = np.vstack([S_fit, reference]).astype(np.float32)
    y = np.r_[np.ones(len(S_fit)), np.zeros(len(reference))]
    classifier = learners.xgboost("classification", len(X), n_estimators=200, max_depth=6, learning_rate=0.1)
    classifier.fit(X, y)
    return classifier.predict_proba(queries.astype(np.float32))[:, 1]


def evaluate_privacy(
    t: CleanTables,
    enc_train: np.ndarray,
    enc_holdout: np.ndarray,
    enc_synth: np.ndarray,
    settings: EvaluateSettings,
    learners: Learners,
    device,
    rng: np.random.Generator,
    near_copy_quantile: float | None = 0.01,
    real_hashes: RealHashes | None = None,
) -> PrivacyResult:
    """``near_copy_quantile`` (the gate's) sets the near-copy radius; None computes no near-copy counts.
    ``real_hashes``: every real row's record, when ``t``'s train and holdout tables are samples of a larger
    table: the exact checks then run over all of it (`RealHashes`), the rest on the samples."""
    clock = Stopwatch()
    hashes = table_hashes(t, real_hashes)
    copies = exact_copies(t, hashes)
    verbatim = verbatim_records(t, hashes)
    clock.lap("exact_copies")
    distances = release_distances(enc_train, enc_holdout, enc_synth, device, settings.block_rows)
    near = near_copies(distances, near_copy_quantile) if near_copy_quantile is not None else None
    exposed = exposed_records(distances, settings.exposed_share, settings.exposed_min_holdout_records)
    clock.lap("release_distances")
    hygiene = distance_hygiene(enc_train, enc_holdout, enc_synth, settings, device, rng)
    clock.lap("dcr_nndr")
    sizes, attacks = membership_attacks(
        enc_train, enc_holdout, enc_synth, distances, settings, learners, device, rng, clock
    )
    notes = []
    if real_hashes is not None:
        notes.append(
            f"exact copies and verbatim records over all {len(real_hashes.train):,} training and "
            f"{len(real_hashes.holdout):,} holdout rows; near-copies, exposed records, DCR and the attacks against "
            f"uniform samples of {len(t.train):,} and {len(t.holdout):,} of them"
        )
    if sizes["non_members"] < 1000:
        notes.append(f"TPR at 0.1% FPR not estimable: {sizes['non_members']} non-members (needs >= 1,000)")
    if sizes["non_members"] < 100:
        notes.append(f"TPR at 1% FPR not estimable: {sizes['non_members']} non-members (needs >= 100)")
    strongest = max(attacks, key=lambda a: a.auc_interval[1])

    def worst(key: str) -> float | None:
        highs = [getattr(a, key)[1] for a in attacks if getattr(a, key) is not None]
        return max(highs) if highs else None

    return PrivacyResult(
        **copies,
        **hygiene,
        **sizes,
        attacks=attacks,
        strongest_attack=strongest.name,
        max_auc_upper=strongest.auc_interval[1],
        max_tpr_at_1pct_fpr_upper=worst("tpr_at_1pct_fpr_interval"),
        max_tpr_at_01pct_fpr_upper=worst("tpr_at_01pct_fpr_interval"),
        notes=notes,
        timings_s=clock.laps,
        verbatim=verbatim,
        near_copies=near,
        exposed=exposed,
    )
