"""`check`: read a target's table and plan what the rules would do, changing nothing."""
from __future__ import annotations

from . import collector
from .plan import Plan, plan_table
from .settings import RuleSettings
from .targets import Target


def check_target(target: Target, settings: RuleSettings) -> Plan:
    with collector.paused():
        return plan_table(target.read(), settings)
