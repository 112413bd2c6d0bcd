"""Build `lending_club_pii.csv`: the real Lending Club rows of `lending_club.csv` plus three columns of
made-up personal data (a borrower name, an SSN, an e-mail address), so that a recipe can show how
synthgen regenerates PII. The added values come from Faker with a fixed seed: no real person's data is
in this file, and running it again rebuilds the same bytes.

    python recipes/data/make_lending_club_pii.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from faker import Faker

HERE = Path(__file__).resolve().parent


def main() -> None:
    rows = pd.read_csv(HERE / "lending_club.csv", dtype=str, keep_default_na=False)
    fake = Faker("en_US")
    fake.seed_instance(20071)
    rows.insert(0, "borrower_name", [fake.name() for _ in range(len(rows))])
    rows.insert(1, "ssn", [fake.ssn() for _ in range(len(rows))])
    rows.insert(2, "email", [fake.free_email() for _ in range(len(rows))])
    rows.to_csv(HERE / "lending_club_pii.csv", index=False)


if __name__ == "__main__":
    main()
