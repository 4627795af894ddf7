"""Which snapshots to keep: a pure function over their times, in the manner of borg's prune.

Each rule (daily, weekly, monthly) walks the snapshots newest first and keeps the newest one of
each period it has not seen yet, until it has kept its number; a period whose newest snapshot an
earlier rule already kept is passed over without counting. If a rule runs out of snapshots before
its number, it also keeps the oldest one (`daily[oldest]`), so a young store does not lose its
first backup. Pinned snapshots are always kept. Every kept snapshot says which rule kept it and
its place in that rule's count; the rest would go.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, NamedTuple
from i18n import _


@dataclass(frozen=True)
class Retention:
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12

    def __post_init__(self) -> None:
        for name in ("keep_daily", "keep_weekly", "keep_monthly"):
            if getattr(self, name) < 0:
                raise ValueError(_("{name} must be 0 or more, not {value}",
                                   name=name, value=getattr(self, name)))
        if not (self.keep_daily or self.keep_weekly or self.keep_monthly):
            raise ValueError(_("keep_daily, keep_weekly and keep_monthly are all 0: every "
                               "snapshot would be pruned; keep at least one"))


class Dated(NamedTuple):
    key: Hashable          # the snapshot's name
    taken: dt.datetime     # aware
    pinned: bool = False


class Kept(NamedTuple):
    rule: str              # "pinned", "daily", "weekly[oldest]", …
    index: int             # its place in that rule's count (1 = newest)


PERIODS: dict[str, Callable[[dt.datetime], tuple]] = {
    "daily": lambda t: (t.year, t.month, t.day),
    "weekly": lambda t: t.isocalendar()[:2],
    "monthly": lambda t: (t.year, t.month),
}


def prune(snapshots: Iterable[Dated], policy: Retention,
          tz: dt.tzinfo | None = None) -> dict[Hashable, Kept | None]:
    """For each snapshot, why it is kept, or None when it would be pruned. Periods are
    calendar days, ISO weeks and months in `tz` (default: the machine's local time)."""
    # Equal times (two snapshots in one tick): the later in `snapshots` counts as the newer.
    newest_first = [s for _, s in sorted(enumerate(snapshots), key=lambda p: (p[1].taken, p[0]),
                                         reverse=True)]
    decision: dict[Hashable, Kept | None] = {s.key: None for s in newest_first}
    pinned = [s for s in newest_first if s.pinned]
    for n, s in enumerate(pinned, start=1):
        decision[s.key] = Kept("pinned", n)
    for rule, count in (("daily", policy.keep_daily), ("weekly", policy.keep_weekly),
                        ("monthly", policy.keep_monthly)):
        _keep_by_period(newest_first, rule, count, decision, tz)
    return decision


def _keep_by_period(newest_first: list[Dated], rule: str, count: int,
                    decision: dict[Hashable, Kept | None], tz: dt.tzinfo | None) -> None:
    if count == 0 or not newest_first:
        return
    period_of = PERIODS[rule]
    kept, last = 0, None
    for s in newest_first:
        period = period_of(s.taken.astimezone(tz))
        if period == last:
            continue
        last = period
        if decision[s.key] is None:
            kept += 1
            decision[s.key] = Kept(rule, kept)
            if kept == count:
                return
    oldest = newest_first[-1]
    if decision[oldest.key] is None:
        decision[oldest.key] = Kept(f"{rule}[oldest]", kept + 1)
