"""A table written as a streamed source (`synthgen.sources`): a folder of Parquet parts, for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def write_parts(folder: Path, frame: pd.DataFrame, parts: int = 3, row_group_size: int | None = None) -> Path:
    """``frame`` as ``parts`` files ``part-0.parquet`` ... in ``folder`` (made), its rows in order, each file
    in row groups of ``row_group_size`` rows (several record batches a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    for p, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[chunk].to_parquet(folder / f"part-{p}.parquet", index=False, row_group_size=row_group_size)
    return folder
