"""What a cycle is run with, besides the target: the rules' settings and where sheetkeeper keeps
its data. Light on purpose: the CLI builds these before it knows it will plan anything."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from rules.customer_value import ValueRules
from rules.status import StatusThresholds

DATA_FOLDER = ".sheetkeeper"


@dataclass(frozen=True)
class RuleSettings:
    today: dt.date
    phone_region: str | None = None   # None: the template's default for the sheet's language
    date_order: str = "auto"
    thresholds: StatusThresholds = StatusThresholds()
    ids_issued: int = 0               # highest ID number ever issued here (IDs are never reused)
    kept_pairs: frozenset = frozenset()   # {ID, ID} pairs a person said to keep both of
    value: ValueRules = ValueRules()  # points, tiers, churn warnings ([points], [tiers], [churn])


def default_data_folder(workbook: Path) -> Path:
    return workbook.resolve().parent / DATA_FOLDER
