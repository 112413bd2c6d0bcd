"""What the judge needs of a streamed source (`synthgen.sources`) beyond the samples it scores.

A table too large to hold is judged on uniform samples of its training and holdout parts: fidelity,
utility, the attacks and the distance checks are statistics those samples estimate. The exact copy and
verbatim record checks are not: a sample of 200,000 of ten million borrowers would let a model copy any
of the other 9.8 million unseen. `real_hashes` reads every row once and keeps its record hash (8 bytes a
row, `synthgen.judge.RealHashes`), so those checks cover the whole table.

The hashed rows are every row the release could have copied: all those meeting its conditions. A
rebalanced release is compared with real rows of its own mix by the distribution checks, but the model
learned every training row, so its exact checks read them all (`frame_hashes` in memory too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.errors import InputError
from synthgen.pipeline import is_streamed_source, open_source, stream_parts
from synthgen.recipe import Recipe
from synthgen.schema import TableSchema

if TYPE_CHECKING:
    from synthgen.judge.privacy import RealHashes
    from synthgen.models.base import Generator


def real_hashes(
    recipe: Recipe,
    schema: TableSchema,
    conditions: Mapping[str, Any] | None = None,
    model: Generator | None = None,
) -> RealHashes | None:
    """For a streamed source, the record hash of every training and holdout row that meets ``conditions``
    (read by ``model.meets``, as the samples are cut; `synthgen.judge.RealHashes`); None for a table read
    whole. One pass over the columns the judge scores and those the conditions read.

    A rebalanced release hashes every row too: the model learned every training row, and a rebalancing
    only changes the mix the distribution checks compare."""
    if not is_streamed_source(recipe):
        return None
    from synthgen.judge.privacy import RealHashes

    conditions = dict(conditions or {})
    if conditions and model is None:
        raise InputError("conditions are read by the model that draws the release: give the model too")
    source, holdout_part = open_source(recipe), stream_parts(recipe)[1]
    columns = list(dict.fromkeys([*(c.name for c in schema.modelled), *conditions]))

    def batches() -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        for start, frame in source.batches(columns):
            held = holdout_part.mask(np.arange(start, start + len(frame), dtype=np.uint64))
            if conditions:
                take = np.asarray(model.meets(frame, conditions), dtype=bool)
                frame, held = frame[take], held[take]
            yield frame, held

    return RealHashes.of_batches(batches(), list(schema.modelled), role=f"source {source.path}")


def frame_hashes(train: pd.DataFrame, holdout: pd.DataFrame, schema: TableSchema) -> RealHashes:
    """`RealHashes` of two tables in memory: what a rebalanced release's exact checks read, since the real
    rows it is judged against (`synthgen.pipeline.with_shares`) are a subset of those the model learned."""
    from synthgen.judge.privacy import RealHashes

    sides = ((train, np.zeros(len(train), dtype=bool)), (holdout, np.ones(len(holdout), dtype=bool)))
    return RealHashes.of_batches(sides, list(schema.modelled), role="real")


__all__ = ["frame_hashes", "real_hashes"]
