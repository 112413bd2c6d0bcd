"""Point masses of a number column: the values a table holds far more often than their neighbours.

Lending tables are full of them: a balance or a capital gain that is exactly 0 for most rows, a
teaser rate of 7.51 %, a sentinel such as -1 or 99, the largest loan a lender grants, a count of
delinquencies that is 0 for nine borrowers in ten. The diffusion model's quantile encoding gives a
spike's rows a stretch of normal scores, which reproduces the column alone but blurs its edges in the
joint: a zero balance beside a zero utilisation becomes two independent random points near the
bottom of two intervals, and the model leaks rows across the edges (tiny positive balances of
borrowers who have none). A spike found here is modelled as a category of its own ("which spike,
or the continuous part") beside the continuous value, as in CTAB-GAN's mixed mode, so that "zero here
and zero there" is one exact joint category pattern (`synthgen.transforms.quantile`).

A value is a spike when it holds at least `MIN_SHARE` of the column's present values (and at least
`MIN_ROWS` rows), at least `PEAK_RATIO` times the share of the nearest value on each side that is not
itself a spike, and it is one of:

- zero, the natural "none" of an amount, a balance or a count;
- at an end of what is left of the column once the spikes beyond it are set aside (a sentinel such as
  -1 or 99, a cap, a count whose 0 and then 1 dominate its tail);
- dominant: at least `DOMINANT_SHARE` of the rows (40 hours a week, a teaser rate);
- or in a column of at most `FEW_VALUES` distinct values: a scale of codes more than a measurement
  (a loan's duration of 6, 12, 18, 24 or 36 months), whose favourite values are categories.

A scale (ages in whole years, the length of a credit history, counts of accounts) is not inferred as
spikes: its values are about as frequent as their neighbours. A recipe may declare ``spikes: levels``
on such a column, and every value of at least `LEVEL_ROWS` rows (at most `MAX_LEVELS`) is then a level of
its own, only the rare values left continuous. The joint of two scales then keeps its sharp edges: in
credit_risk the credit history's length lies in a band fixed by the age (ages 20-26: 2-4 years, 27-35:
5-10, ...), which 19 % of the diffusion model's rows broke, and a classifier told real from synthetic
rows mostly by that pair. Inferred for every such column (3 seeds, default budgets, 2 CPU cores), the
levels took credit_risk's detection AUC from 0.673 to 0.582 but its pair trend from 0.983 to 0.977; on
lending_club (counts of accounts and delinquencies as levels) trend fell from 0.956 to 0.934 and
detection rose from 0.517 to 0.546 (one H100 run gave the same signs). So levels are the recipe
author's call, for a scale whose bands matter (`evaluation/results/ddpm_issue15_levels_cpu.json`).

Round values inside the range of a measurement (loans of 10,000 and 15,000, incomes of 60,000 among
thousands of distinct amounts) are left to the quantile encoding, which gives each of them back
exactly. Made categories, they cost fidelity. On credit_risk (seed 0, the same 6,000 steps), the
detection AUC was 0.683 without spikes, 0.673 with the teaser rate's spike alone, and 0.710 with the 8
most frequent round loan amounts and incomes as spikes beside it. On german_credit (3 seeds), the
durations' 8 favourite values as spikes lowered the median detection AUC from 0.627 to 0.527 (pair
trend 0.929 to 0.912). A dense integer column (ages, counts that spread evenly) has no spike: its
values are as frequent as their neighbours. The most frequent values are taken first, at most
`MAX_SPIKES`. A spike never identifies a borrower: it is shared by at least `MIN_ROWS` rows and
`MIN_SHARE` of them.
"""

from __future__ import annotations

import numpy as np

MIN_SHARE = 0.01
MIN_ROWS = 5
PEAK_RATIO = 4.0
DOMINANT_SHARE = 0.10
FEW_VALUES = 50
MAX_SPIKES = 8
LEVEL_ROWS = 50
MAX_LEVELS = 64


def find_spikes(numbers: np.ndarray) -> list[float]:
    """The spikes of a column's finite values, in increasing order (empty when it has none)."""
    values, counts = np.unique(np.asarray(numbers, dtype=np.float64), return_counts=True)
    if values.size < 2:
        return []  # a constant column: its only value is the whole column, not a spike beside anything
    shares = counts / counts.sum()
    order = [i for i in np.argsort(-shares, kind="stable") if shares[i] >= MIN_SHARE and counts[i] >= MIN_ROWS]
    chosen = np.zeros(values.size, dtype=bool)
    grew = True
    while grew:  # setting an end's spike aside can make its neighbour the new end
        grew = False
        for i in order:
            if chosen[i] or chosen.sum() >= MAX_SPIKES:
                continue
            below, above = _free(chosen, i, -1), _free(chosen, i, 1)
            neighbours = [shares[j] for j in (below, above) if j is not None]
            if neighbours and shares[i] < PEAK_RATIO * max(neighbours):
                continue
            special = values[i] == 0 or below is None or above is None or shares[i] >= DOMINANT_SHARE
            if special or values.size <= FEW_VALUES:
                chosen[i] = grew = True
    if chosen.all():
        return []  # nothing continuous is left: the column is a handful of codes, not numbers with spikes
    return [float(v) for v in values[chosen]]


def frequent_values(numbers: np.ndarray) -> list[float]:
    """Every finite value of at least `LEVEL_ROWS` rows, in increasing order: a column's levels when its
    recipe says ``spikes: levels``."""
    values, counts = np.unique(np.asarray(numbers, dtype=np.float64), return_counts=True)
    return [float(v) for v in values[counts >= LEVEL_ROWS]]


def _free(chosen: np.ndarray, i: int, step: int) -> int | None:
    """The nearest value from ``i`` in direction ``step`` that is not a spike (None past the end)."""
    j = i + step
    while 0 <= j < chosen.size and chosen[j]:
        j += step
    return j if 0 <= j < chosen.size else None
