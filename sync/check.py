"""`check`: read a workbook's table and plan what the rules would do, changing nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from sheet_templates import Template

from . import collector
from .plan import Plan, RuleSettings, plan_table
from .xlsx.read import read_table


def check_workbook(path: Path | str, settings: RuleSettings,
                   templates: Sequence[Template] | None = None,
                   sheet: str | None = None) -> Plan:
    with collector.paused():
        return plan_table(read_table(path, templates, sheet), settings)
