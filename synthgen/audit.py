"""`synthgen audit RECIPE`: shadow-model membership attacks on the most exposed training records.

The release gate (`synthgen.judge`) attacks one release with cheap distance and density scores, members
against holdout rows. That is an average over all records, and "passes the DCR test" does not mean "no
record leaks" (Yao et al., "The DCR Delusion", 2025). Outliers leak first (Stadler et al., USENIX
Security 2022, "Synthetic data - anonymisation groundhog day"; the TAPAS toolbox): to see whether one
record's presence shows in a release, train the generator many times with and without it and ask whether
an attacker can tell the two kinds of release apart. That is this module: the expensive tier, off the
release path, a report and not a gate.

How it works (every step seeded from one ``seed`` through `numpy.random.SeedSequence`):

1. Targets: the ``targets`` most isolated training records. Real rows (train + holdout) are encoded with
   the judge's `RowEncoder` fitted on the real train table; a record's *isolation* is the distance to
   its nearest other real row. Targets are reported by their row index in the train table, never by value.
2. Design: a balanced membership matrix, shadows x targets: each target is IN for exactly K/2 shadows
   and OUT for the other K/2, independently of the other targets.
3. Shadows: shadow k trains the recipe's generator (its type and training settings, a seed of its own)
   on ``len(train) - targets`` rows drawn without replacement from the pool (all real rows minus the
   targets), plus the targets that are IN for it, then samples ``rows`` rows. Shadows are never saved.
4. Features of (shadow, target), in the judge's encoding: the distance from the target to its 1st, 2nd
   and 5th nearest synthetic rows, each divided by the target's isolation, and the number of synthetic
   rows within the isolation radius (a release that puts rows nearer the target than any other real row
   is what membership looks like).
5. Attacks, per target: (a) threshold: score = -d1 / isolation; (b) a logistic regression on the four
   features (counts as log1p), fitted on the *other* targets' shadows and scored on this target's:
   the attacker learns what membership looks like from other records, then applies it. Why not leave
   one shadow out: with K = 8 the held-out shadow's labels tilt the refitted model against it (the
   leave-one-out bias; on credit_risk every target scored AUC 0.06, in simulation the mean null AUC was
   0.43). Leaving the target out instead is exact: the design draws each target's memberships
   independently, so the model that scores a target never depends on that target's labels. One model
   across targets also fits more than the K/2 members a target has (the features are scale-free,
   divided by each target's isolation). It needs two targets or more.
6. Statistics, per target and attack: ROC AUC over the K shadows; a 95 % interval from 1,000 bootstrap
   resamples of the shadows (stratified: IN and OUT shadows resampled separately, so every resample
   keeps the design's balance); and an exact one-sided permutation p-value (all C(K, K/2) labelings;
   Monte Carlo beyond `EXACT_PERMUTATIONS`), valid for both attacks because neither score depends on
   the target's labels.

Verdict, per target: **vulnerable** when, for the threshold or the classifier attack, the interval's
lower bound exceeds 0.5 *and* the permutation p-value is at most 0.05 divided by the number of attacks
scored (Bonferroni over the two attacks: either may raise the alarm). A percentile bootstrap over a few
shadows is over-confident (a perfect separation has the interval [1, 1] with any K, even K = 2), so the
exact test must agree. With 8 shadows and both attacks scored, only a perfect separation (AUC 1, p = 1/70)
is flagged: 4 IN against 4 OUT with one pair out of order (AUC 0.94, interval [0.75, 1]) has p = 0.029.
16 shadows resolve finer (smallest p 1/12,870). **not shown** otherwise: no evidence at this K and
budget, which is not proof of safety. **inconclusive** when the design cannot reach significance at all:
the smallest p-value K shadows can give is 1 / C(K, K/2), so fewer than 8 shadows cannot show a record
vulnerable. No correction is made across targets: each verdict is about its record, and the maximum AUC
over targets is an optimistic summary (the largest of several noisy figures).

Cost: setup (one float32 nearest-neighbour pass over all real rows, O(n^2 x width): 2.7 s for credit_risk's
32,581 rows on 2 quiet CPU cores, against 39 s in float64 with top-k) plus K x (fit time + sample time); the
features are targets x rows distances and cost next to nothing. A full training budget per shadow is the
honest audit but K times the cost of one training; ``epochs`` (CTGAN's epochs, the diffusion model's cap on
passes over the rows) makes it affordable on a CPU, at the price of auditing a less-trained (usually less
leaky) generator than the one released. Measured on credit_risk: evaluation/audit_bench.py,
evaluation/results/audit_credit_risk.json.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from synthgen._version import __version__
from synthgen.errors import InputError
from synthgen.files import ensure_writable_dir
from synthgen.recipe import Recipe, as_recipe

AUDIT_FILE = "audit.json"
MIN_RELEASE_ROWS = 10  # the judge's `prepare` refuses fewer; the 5th-nearest feature needs 5
NEIGHBOURS = (1, 2, 5)  # the k-th nearest synthetic rows whose distances are features
FEATURES = ("d1_ratio", "d2_ratio", "d5_ratio", "within_radius")
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
ALPHA = 0.05
EXACT_PERMUTATIONS = 20_000  # enumerate every labeling up to this many (K = 16 has 12,870), else sample
MONTE_CARLO_PERMUTATIONS = 20_000
MIN_ISOLATION = 1e-12  # a target with an exact real duplicate has isolation 0; the ratios stay finite
BUDGET_FIELDS = ("epochs", "steps", "max_epochs", "max_minutes", "batch_size")

ShadowProgress = Callable[[int, int, "ShadowRun"], None]
"""Called after each shadow with (shadows done, shadows in all, that shadow's record)."""


# -- the report ----------------------------------------------------------------------------------
class AttackResult(BaseModel):
    """One attack on one target: how well it tells the shadows that trained on the target from the rest."""

    auc: float | None = Field(description="ROC AUC over the shadows; None when the attack could not be scored.")
    interval: tuple[float, float] | None = Field(
        default=None, description="95 % stratified bootstrap interval of the AUC over shadows."
    )
    p_value: float | None = Field(default=None, description="One-sided permutation p-value of AUC >= observed.")
    significant: bool = False


class TargetResult(BaseModel):
    """One audited record, by its row index in the train table (never its values)."""

    index: int = Field(description="Row index of the record in the train table (recipe split).")
    isolation: float = Field(description="Distance to its nearest other real row, judge encoding.")
    members: list[int] = Field(description="The shadows that trained on it (IN); the others did not.")
    threshold: AttackResult
    classifier: AttackResult
    verdict: str = Field(description="vulnerable, not shown or inconclusive (see synthgen.audit).")
    features: list[list[float]] = Field(description=f"Per shadow: {', '.join(FEATURES)}.")


class ShadowRun(BaseModel):
    """One shadow model: what it trained on (row counts only) and what it cost."""

    index: int
    seed: int
    sample_seed: int
    train_rows: int
    members: list[int] = Field(description="Train-table indices of the targets it trained on.")
    fit_s: float
    sample_s: float
    score_s: float


class AuditReport(BaseModel):
    """What `synthgen audit` found: per-record vulnerability, and what it cost."""

    synthgen_version: str = __version__
    recipe: str
    generator: dict[str, Any] = Field(description="The shadows' generator settings (the recipe's, overridden).")
    budget: dict[str, Any] = Field(description="The training-budget fields of those settings.")
    device: str
    seed: int
    shadows: int
    rows: int = Field(description="Rows each shadow sampled.")
    train_rows: int
    holdout_rows: int
    pool_rows: int = Field(description="Real rows (train + holdout) less the targets: what shadows draw from.")
    bootstrap_resamples: int = BOOTSTRAP_RESAMPLES
    confidence: float = CONFIDENCE
    alpha: float = ALPHA
    min_p_value: float = Field(description="The smallest p-value this many shadows can give: 1 / C(K, K/2).")
    verdict_rule: str
    targets: list[TargetResult]
    shadow_runs: list[ShadowRun]
    max_auc: float | None = Field(description="The largest AUC over targets and attacks (optimistic).")
    max_auc_target: int | None = None
    max_auc_attack: str | None = None
    vulnerable: list[int] = Field(description="Train-table indices of the targets found vulnerable.")
    setup_s: float = Field(description="Reading, encoding and choosing targets (the all-pairs isolation pass).")
    shadow_s: float = Field(description="Mean wall time of one shadow: fit + sample + features.")
    total_s: float

    @property
    def any_vulnerable(self) -> bool:
        return bool(self.vulnerable)


VERDICT_RULE = (
    "vulnerable: for the threshold or the classifier attack, the lower bound of the 95 % bootstrap interval "
    "exceeds 0.5 and the exact permutation p-value is at most alpha / (attacks scored); inconclusive: the "
    "design's smallest p-value exceeds that level (fewer than 8 shadows); not shown: otherwise"
)


# -- the pieces --------------------------------------------------------------------------------------
def isolation(real: np.ndarray, device: Any = "cpu") -> np.ndarray:
    """Each real row's distance to its nearest *other* real row (0 for a row with an exact duplicate).

    Why isolation: membership shows where a record has no stand-in; a record in a crowd is covered by
    its neighbours whether or not it was trained on."""
    from synthgen.judge.neighbours import isolation as nearest_other

    if len(real) < 2:
        raise InputError("the audit needs at least two real rows")
    return nearest_other(real, device=device)


def select_targets(isolation_of_real: np.ndarray, n_train: int, count: int) -> np.ndarray:
    """Train-table indices of the ``count`` most isolated training rows, most isolated first (ties: lower
    index first). Only training rows: the audit is about the records a release was trained on."""
    if not 1 <= count <= n_train:
        raise InputError(f"--targets must be between 1 and the {n_train} training rows, got {count}")
    values = np.asarray(isolation_of_real[:n_train], dtype=float)
    order = np.lexsort((np.arange(n_train), -values))
    return order[:count]


def membership_design(shadows: int, targets: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean (shadows, targets): each target IN for exactly ``shadows / 2`` shadows, chosen
    independently per target. Balanced so each target's AUC rests on equal classes, the bootstrap keeps
    them, and the permutation test is exact."""
    if shadows < 2 or shadows % 2:
        raise InputError(f"--shadows must be an even number of at least 2, got {shadows}")
    design = np.zeros((shadows, targets), dtype=bool)
    for t in range(targets):
        design[rng.permutation(shadows)[: shadows // 2], t] = True
    return design


def shadow_rows(
    n_real: int, target_rows: np.ndarray, members: np.ndarray, subset_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Row indices (into train + holdout) of one shadow's training table: ``subset_size`` rows drawn
    without replacement from the pool (every real row but the targets) plus the IN targets, sorted."""
    pool = np.setdiff1d(np.arange(n_real), target_rows)
    if subset_size > len(pool):
        raise InputError(f"a shadow needs {subset_size} rows but the pool holds {len(pool)}")
    drawn = rng.choice(pool, size=subset_size, replace=False)
    return np.sort(np.concatenate([drawn, target_rows[members]]))


def target_features(targets: np.ndarray, radius: np.ndarray, release: np.ndarray) -> np.ndarray:
    """(targets, 4): distances to the 1st, 2nd and 5th nearest release rows over the target's
    isolation, and the count of release rows within it. Exact (a row-wise difference, not the
    expanded dot product), so a copied row is at distance 0."""
    k = max(NEIGHBOURS)
    if len(release) < k:
        raise InputError(f"a shadow release needs at least {k} rows to score, got {len(release)}")
    radius = np.maximum(np.asarray(radius, dtype=float), MIN_ISOLATION)
    release = np.asarray(release, dtype=np.float64)
    out = np.empty((len(targets), len(FEATURES)))
    for i, row in enumerate(np.asarray(targets, dtype=np.float64)):
        dist = np.sqrt(((release - row) ** 2).sum(axis=1))
        nearest = np.partition(dist, k - 1)[:k]
        nearest.sort()
        out[i, :3] = [nearest[n - 1] / radius[i] for n in NEIGHBOURS]
        out[i, 3] = float(np.count_nonzero(dist <= radius[i] * (1.0 + 1e-9)))
    return out


def threshold_scores(features: np.ndarray) -> np.ndarray:
    """The distance attack (GAN-leaks style, calibrated by isolation): nearer means more likely IN."""
    return -features[..., 0]


def _classifier_inputs(features: np.ndarray) -> np.ndarray:
    x = np.array(features, dtype=float, copy=True)
    x[..., 3] = np.log1p(x[..., 3])
    return x


def classifier_scores(features: np.ndarray, design: np.ndarray, seed: int = 0) -> np.ndarray:
    """Logistic-regression scores (log-odds), (shadows, targets), each target scored by a model fitted on
    the other targets' (features, membership) over every shadow; NaN with fewer than two targets.
    ``features``: (shadows, targets, 4). See the module, step 5, for why the target is what is left out."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    shadows, targets = design.shape
    x = _classifier_inputs(features)
    scores = np.full((shadows, targets), np.nan)
    for t in range(targets):
        others = np.arange(targets) != t
        x_train = x[:, others].reshape(-1, x.shape[-1])
        y_train = design[:, others].reshape(-1)
        if y_train.all() or not y_train.any():
            continue
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000, random_state=seed))
        model.fit(x_train, y_train)
        scores[:, t] = model.decision_function(x[:, t])
    return scores


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC as the Mann-Whitney statistic (ties count one half); None without both classes."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg) or np.isnan(scores).any():
        return None
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def bootstrap_interval(
    labels: np.ndarray,
    scores: np.ndarray,
    rng: np.random.Generator,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> tuple[float, float] | None:
    """Percentile interval of the AUC over stratified bootstrap resamples of the shadows."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg) or np.isnan(scores).any():
        return None
    p = pos[rng.integers(0, len(pos), (resamples, len(pos)))]
    n = neg[rng.integers(0, len(neg), (resamples, len(neg)))]
    wins = (p[:, :, None] > n[:, None, :]).sum(axis=(1, 2)) + 0.5 * (p[:, :, None] == n[:, None, :]).sum(axis=(1, 2))
    values = wins / (len(pos) * len(neg))
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0  # mean of ranks start+1 .. end
            start = end
    return ranks


def permutation_p_value(labels: np.ndarray, scores: np.ndarray, rng: np.random.Generator) -> float | None:
    """One-sided p-value of the observed AUC under random labelings with the same class sizes:
    exact (every labeling) when there are at most `EXACT_PERMUTATIONS`, else Monte Carlo."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    n, n_pos = len(labels), int(labels.sum())
    if n_pos in (0, n) or np.isnan(scores).any():
        return None
    ranks = _average_ranks(scores)
    observed = ranks[labels].sum()
    if math.comb(n, n_pos) <= EXACT_PERMUTATIONS:
        combos = np.array(list(itertools.combinations(range(n), n_pos)), dtype=np.int64)
        sums = ranks[combos].sum(axis=1)
        return float(np.mean(sums >= observed - 1e-9))
    picks = np.argsort(rng.random((MONTE_CARLO_PERMUTATIONS, n)), axis=1)[:, :n_pos]
    sums = ranks[picks].sum(axis=1)
    return float((1 + np.count_nonzero(sums >= observed - 1e-9)) / (1 + MONTE_CARLO_PERMUTATIONS))


def min_p_value(shadows: int) -> float:
    """The smallest p-value a balanced design of ``shadows`` can give (exact test)."""
    return 1.0 / math.comb(shadows, shadows // 2)


def score_attack(labels: np.ndarray, scores: np.ndarray, rng: np.random.Generator) -> AttackResult:
    value = auc(labels, scores)
    if value is None:
        return AttackResult(auc=None)
    return AttackResult(
        auc=value, interval=bootstrap_interval(labels, scores, rng), p_value=permutation_p_value(labels, scores, rng)
    )


def apply_verdict(threshold: AttackResult, classifier: AttackResult, shadows: int, alpha: float = ALPHA) -> str:
    """Mark each attack significant and say what the target's verdict is (`VERDICT_RULE`)."""
    scored = [a for a in (threshold, classifier) if a.auc is not None]
    if not scored:
        return "inconclusive"
    level = alpha / len(scored)
    for attack in scored:
        attack.significant = bool(
            attack.interval is not None
            and attack.interval[0] > 0.5
            and attack.p_value is not None
            and attack.p_value <= level
        )
    if any(a.significant for a in scored):
        return "vulnerable"
    if min_p_value(shadows) > level:
        return "inconclusive"
    return "not shown"


# -- where the report goes -------------------------------------------------------------------------
def default_audit_dir(recipe: Recipe) -> Path:
    """``<output folder>/<recipe name>_audit``: beside the release and its report, out of the model folder."""
    return recipe.output_path.parent / f"{recipe.name}_audit"


def check_audit_dir(recipe: Recipe, folder: str | Path) -> Path:
    """Refuse, before any training, a report folder that would overwrite the source data or the release,
    or that overlaps the model folder (saving a model replaces that folder whole)."""
    from synthgen.pipeline import meta_path_for, source_path

    folder = Path(folder)
    target = (folder / AUDIT_FILE).resolve()
    source = source_path(recipe).resolve()
    resolved = folder.resolve()
    if target == source or resolved == source:
        raise InputError(f"--out {folder}: {target} is the source data file; refusing to overwrite the real data")
    output = recipe.output_path.resolve()
    if target in (output, meta_path_for(output)):
        raise InputError(f"--out {folder}: {target} is the recipe's release output; choose another folder")
    model = recipe.model_path.resolve()
    if resolved == model or model in resolved.parents or resolved in model.parents:
        raise InputError(
            f"--out {folder} and the model directory {recipe.model_path} overlap; give the audit its own folder"
        )
    return ensure_writable_dir(folder)


def write_audit(report: AuditReport, folder: str | Path) -> Path:
    """Write ``audit.json`` atomically (temporary file, fsync, rename) into ``folder``."""
    from synthgen.io import write_json

    return write_json(report.model_dump(mode="json"), Path(folder) / AUDIT_FILE)


# -- the audit -------------------------------------------------------------------------------------
def _seed_int(sequence: np.random.SeedSequence) -> int:
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _budget(config: Any) -> dict[str, Any]:
    dumped = config.model_dump(mode="json")
    return {name: dumped[name] for name in BUDGET_FIELDS if name in dumped}


def run_audit(
    recipe: Recipe,
    *,
    shadows: int = 8,
    targets: int = 5,
    rows: int | None = None,
    seed: int | None = None,
    progress: ShadowProgress | None = None,
) -> AuditReport:
    """The audit of a recipe whose overrides are already applied (`synthgen.pipeline.apply_overrides`)."""
    from synthgen.device import resolve_device
    from synthgen.judge.encoding import RowEncoder
    from synthgen.judge.inputs import prepare
    from synthgen.judge.neighbours import exact_isolation
    from synthgen.models.configs import generator_type
    from synthgen.pipeline import prepare_data

    started = time.perf_counter()
    seed = recipe.generator.seed if seed is None else int(seed)
    if shadows < 2 or shadows % 2:
        raise InputError(f"--shadows must be an even number of at least 2, got {shadows}")
    if rows is not None and rows < MIN_RELEASE_ROWS:
        raise InputError(f"--rows must be at least {MIN_RELEASE_ROWS} (the features need the 5th nearest row)")
    train, holdout, schema = prepare_data(recipe)
    n_train, n_real = len(train), len(train) + len(holdout)
    if not 1 <= targets <= n_train:
        raise InputError(f"--targets must be between 1 and the {n_train} training rows, got {targets}")
    n_rows = int(rows or n_train)
    device = resolve_device(recipe.generator.device)
    root = np.random.SeedSequence(seed)
    design_seq, stats_seq, shadow_seq = root.spawn(3)
    design_rng = np.random.default_rng(design_seq)

    tables = prepare(train, holdout, train, schema)
    encoder = RowEncoder(tables.columns, seed=seed).fit(tables.train)
    real = np.vstack([encoder.transform(tables.train), encoder.transform(tables.holdout)])
    iso_all = isolation(real, device=device)
    target_rows = select_targets(iso_all, n_train, targets)
    radius = exact_isolation(real[target_rows], real, device=device)  # float64 for the few that are features
    target_vectors = real[target_rows]
    design = membership_design(shadows, targets, design_rng)
    subset_size = n_train - targets
    setup_s = time.perf_counter() - started

    source = pd.concat([train, holdout], ignore_index=True)
    generator_class = generator_type(recipe.generator.type).load()
    features = np.empty((shadows, targets, len(FEATURES)))
    runs: list[ShadowRun] = []
    for k, sequence in enumerate(shadow_seq.spawn(shadows)):
        fit_seq, sample_seq = sequence.spawn(2)
        fit_seed, sample_seed = _seed_int(fit_seq), _seed_int(sample_seq)
        picked = shadow_rows(n_real, target_rows, design[k], subset_size, design_rng)
        frame = source.iloc[picked].reset_index(drop=True)
        tick = time.perf_counter()
        model = generator_class(recipe.generator.model_copy(update={"seed": fit_seed})).fit(frame, schema)
        fit_s = time.perf_counter() - tick
        tick = time.perf_counter()
        release = model.sample(n_rows, seed=sample_seed)
        sample_s = time.perf_counter() - tick
        del model
        tick = time.perf_counter()
        encoded = encoder.transform(prepare(train, holdout, release, schema).synthetic)
        features[k] = target_features(target_vectors, radius, encoded)
        score_s = time.perf_counter() - tick
        run = ShadowRun(
            index=k,
            seed=fit_seed,
            sample_seed=sample_seed,
            train_rows=len(frame),
            members=[int(i) for i in target_rows[design[k]]],
            fit_s=round(fit_s, 3),
            sample_s=round(sample_s, 3),
            score_s=round(score_s, 3),
        )
        runs.append(run)
        if progress is not None:
            progress(k + 1, shadows, run)

    stats_rng = np.random.default_rng(stats_seq)
    thresholds = threshold_scores(features)
    learned = classifier_scores(features, design, seed=seed)
    results: list[TargetResult] = []
    for t, index in enumerate(target_rows):
        labels = design[:, t]
        threshold = score_attack(labels, thresholds[:, t], stats_rng)
        classifier = score_attack(labels, learned[:, t], stats_rng)
        verdict = apply_verdict(threshold, classifier, shadows)
        results.append(
            TargetResult(
                index=int(index),
                isolation=float(radius[t]),
                members=[int(k) for k in np.flatnonzero(labels)],
                threshold=threshold,
                classifier=classifier,
                verdict=verdict,
                features=[[round(float(v), 6) for v in features[k, t]] for k in range(shadows)],
            )
        )
    scored = [
        (attack.auc, result.index, name)
        for result in results
        for name, attack in (("threshold", result.threshold), ("classifier", result.classifier))
        if attack.auc is not None
    ]
    best_auc, best_target, best_attack = max(scored, key=lambda item: item[0]) if scored else (None, None, None)
    total_s = time.perf_counter() - started
    return AuditReport(
        recipe=recipe.label,
        generator=recipe.generator.model_dump(mode="json"),
        budget=_budget(recipe.generator),
        device=str(device),
        seed=seed,
        shadows=shadows,
        rows=n_rows,
        train_rows=n_train,
        holdout_rows=len(holdout),
        pool_rows=n_real - targets,
        min_p_value=min_p_value(shadows),
        verdict_rule=VERDICT_RULE,
        targets=results,
        shadow_runs=runs,
        max_auc=best_auc,
        max_auc_target=best_target,
        max_auc_attack=best_attack,
        vulnerable=[r.index for r in results if r.verdict == "vulnerable"],
        setup_s=round(setup_s, 3),
        shadow_s=round(float(np.mean([r.fit_s + r.sample_s + r.score_s for r in runs])), 3),
        total_s=round(total_s, 3),
    )


def audit(
    recipe: Recipe | str | Path,
    *,
    shadows: int = 8,
    targets: int = 5,
    rows: int | None = None,
    epochs: int | None = None,
    device: str | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    progress: ShadowProgress | None = None,
) -> AuditReport:
    """Shadow-model membership attacks on a recipe's most isolated training records (see the module).

    ``epochs`` and ``device`` override the recipe's generator block as ``--epochs`` / ``--device`` do;
    ``seed`` (default: the generator's) seeds the design, the shadows and the statistics; ``rows``
    (default: the training rows) is what each shadow samples. With ``out``, ``audit.json`` is written
    there (the folder is checked before any training). A report, not a gate: nothing raises on a
    vulnerable record; read ``report.vulnerable``.
    """
    from synthgen.pipeline import apply_overrides

    loaded = apply_overrides(as_recipe(recipe), epochs=epochs, device=device)
    folder = check_audit_dir(loaded, out) if out is not None else None
    report = run_audit(loaded, shadows=shadows, targets=targets, rows=rows, seed=seed, progress=progress)
    if folder is not None:
        write_audit(report, folder)
    return report


class _CallableModule(types.ModuleType):
    """`synthgen.audit` is both this module and the function: importing the submodule sets the package's
    ``audit`` attribute to the module, so the module answers a call as the function does."""

    def __call__(self, *args: Any, **kwargs: Any) -> AuditReport:
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
