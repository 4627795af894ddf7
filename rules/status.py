"""A member's status from two dates: when they started and when they were last in touch.

New for the first `new_days` after the start; then Active, Paused once `paused_days` have passed
without contact, Churned after `churned_days`. Without either date the status is left alone.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from i18n import _, _n


@dataclass(frozen=True)
class StatusThresholds:
    new_days: int = 30
    paused_days: int = 60
    churned_days: int = 180

    def __post_init__(self) -> None:
        if not (0 <= self.new_days and 0 < self.paused_days < self.churned_days):
            raise ValueError(_("status thresholds need 0 <= new_days and "
                               "0 < paused_days < churned_days"))


@dataclass(frozen=True, slots=True)
class StatusDecision:
    key: str  # new | active | paused | churned
    reason: str


def _days(n: int) -> str:
    return _n("{n} day", "{n} days", n, n=n)


def classify_status(start: dt.date | None, last_contact: dt.date | None, today: dt.date,
                    thresholds: StatusThresholds = StatusThresholds()) -> StatusDecision | None:
    if start is None and last_contact is None:
        return None
    if start is not None and (today - start).days < thresholds.new_days:
        return _decision(True, max(0, (today - start).days), True, thresholds)
    latest = max(d for d in (start, last_contact) if d is not None)
    return _decision(False, (today - latest).days, last_contact is not None, thresholds)


# A list's rows share a few thousand day counts: each decision (and its reason, in words) is
# made once, not once per row (a fifth of the time statuses took at 100k rows).
@functools.lru_cache(maxsize=8192, typed=True)
def _decision(new: bool, days: int, contact: bool, thresholds: StatusThresholds
              ) -> StatusDecision:
    if new:
        return StatusDecision("new", _("started {days} ago (new for the first {new} days)",
                                       days=_days(days), new=thresholds.new_days))
    what = _("no contact") if contact else _("no contact recorded since the start")
    if days >= thresholds.churned_days:
        return StatusDecision("churned", _("{what} for {days} (churned after {limit})",
                                           what=what, days=_days(days),
                                           limit=thresholds.churned_days))
    if days >= thresholds.paused_days:
        return StatusDecision("paused", _("{what} for {days} (paused after {limit})", what=what,
                                          days=_days(days), limit=thresholds.paused_days))
    return StatusDecision("active", _("last contact {days} ago", days=_days(max(0, days))))
