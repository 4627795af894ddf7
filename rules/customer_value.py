"""What a customer's entries (purchases, follow-ups, visits, payments) make of them: the roll-up
figures, points, tier, RFM segment, a churn warning, a birthday coming up. Pure: values in,
values and reasons out; the sync plan (sync.ledgers) gathers the entries and writes the results.
"""
from __future__ import annotations

import datetime as dt
import math
import statistics
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    import numpy as np

RECENT_DAYS = 30          # the `recent` measure: entries in the last 30 days


@dataclass(frozen=True)
class PointsRule:
    """`points` for every whole `per` of a purchase's amount (10 per 100 spent); purchases older
    than `expire_months` (0: never) no longer count."""

    per: float = 100
    points: int = 10
    expire_months: int = 0


@dataclass(frozen=True)
class TierRule:
    """VIP when the spend in the last `months` reaches `vip_spend` or the orders `vip_orders`;
    Normal with any purchase; Prospect otherwise. `write`: the team opted in to sheetkeeper
    setting the Tier; without it a differing tier is only a finding."""

    vip_spend: float | None = None
    vip_orders: int | None = None
    months: int = 12
    write: bool = False


@dataclass(frozen=True)
class ChurnRule:
    """At risk: more than `factor` times the customer's usual gap between purchases (the median)
    since the last one, and at least `min_days`. Needs `min_orders` purchases to know a habit."""

    factor: float = 2.0
    min_days: int = 30
    min_orders: int = 3


@dataclass(frozen=True)
class ValueRules:
    points: PointsRule = PointsRule()
    tiers: TierRule | None = None       # None: no tier rule set
    churn: ChurnRule = ChurnRule()


# -- the measures of a roll-up column (sheet_templates.model.MEASURES) ---------------------------

def measure(kind: str, values: Sequence[Any], dates: Sequence[dt.date | None], today: dt.date,
            points: PointsRule = PointsRule()) -> Any:
    """One customer's roll-up: `values` are the entries' values in the column rolled up, made
    usable (`usable`: an amount as a number, a date as a date; None where it is neither),
    `dates` the entries' own dates, in the same order. None: nothing to say (no entry has a
    usable value)."""
    if kind == "count":
        return len(values) or None
    if kind == "recent":
        since = today - dt.timedelta(days=RECENT_DAYS)
        return sum(1 for d in dates if d is not None and since < d <= today)
    known = [v for v in values if v is not None]
    if not known:
        return None
    if kind == "first":
        return min(known)
    if kind in ("last", "latest"):
        return max(known)
    if kind == "sum":
        return exact_sum(known)
    if kind == "average":
        return round_money(Decimal(repr(exact_sum(known))) / len(known))
    if kind == "points":
        return earned_points([(v, d) for v, d in zip(values, dates) if v is not None], today,
                             points)
    raise ValueError(f"unknown measure {kind!r}")


def usable(kind: str, value: Any) -> Any:
    """`value` as a measure of `kind` takes it: a date for the date measures, an amount for the
    others (None where it is not one)."""
    if kind in ("first", "last", "latest"):
        return as_date(value)
    return value if is_amount(value) else None


def is_amount(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def exact_sum(amounts: Iterable[float]) -> int | float:
    """A sum of amounts as a person adds them (0.1 + 0.2 is 0.3), a whole number as an int.
    fsum adds the floats without rounding on the way; amounts have a few decimals, so the sum
    to nine is the decimal one (and Decimal for every amount cost a third of a second at
    200k purchases)."""
    total = round(math.fsum(amounts), 9)
    return int(total) if total.is_integer() else total


def round_money(value: Decimal) -> int | float:
    """To the cent, halves up, as a till rounds (0.155 is 0.16)."""
    return _plain(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def earned_points(purchases: Sequence[tuple[float, dt.date | None]], today: dt.date,
                  rule: PointsRule) -> int:
    oldest = add_months(today, -rule.expire_months) if rule.expire_months else None
    # Rounded before the floor: 3.6 / 1.2 is 2.9999999999999996 in floats, three wholes to a
    # person.
    return sum(math.floor(round(amount / rule.per, 9)) * rule.points for amount, day in purchases
               if amount > 0 and (oldest is None or (day is not None and day > oldest)))


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


# -- tiers -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierDecision:
    key: str                 # vip, normal, prospect (the tier list's keys)
    spend: float             # in the rule's window
    orders: int
    months: int


def decide_tier(purchases: Sequence[tuple[float, dt.date | None]], today: dt.date,
                rule: TierRule) -> TierDecision:
    since = add_months(today, -rule.months)
    recent = [a for a, d in purchases if d is not None and since < d <= today]
    spend, orders = exact_sum(recent), len(recent)
    vip = ((rule.vip_spend is not None and spend >= rule.vip_spend)
           or (rule.vip_orders is not None and orders >= rule.vip_orders))
    key = "vip" if vip else "normal" if purchases else "prospect"
    return TierDecision(key, spend, orders, rule.months)


# -- RFM -------------------------------------------------------------------------------------

# The usual reading of recency and frequency scores (the segment map RFM tutorials share):
# first match wins, R then F.
SEGMENTS = (
    ("champions", "5", "45"), ("loyal", "34", "45"), ("cannot_lose", "12", "5"),
    ("at_risk", "12", "34"), ("hibernating", "12", "12"), ("about_to_sleep", "3", "12"),
    ("need_attention", "3", "3"), ("potential_loyalists", "45", "23"), ("new", "5", "1"),
    ("promising", "4", "1"),
)


@dataclass(frozen=True)
class RfmScore:
    recency: int
    frequency: int
    monetary: int

    @property
    def segment(self) -> str:
        r, f = str(self.recency), str(self.frequency)
        return next(key for key, rs, fs in SEGMENTS if r in rs and f in fs)


def rfm_scores(customers: Sequence[tuple[int, int, float]]) -> list[RfmScore]:
    """Quintile scores 1–5 over the list for each (days since the last purchase, orders,
    spend): fewer days, more orders, more spend score higher. Equal values share the quintile
    of their middle rank (a lone buyer, or the many with one order, are not pushed to an end)."""
    if not customers:
        return []
    days = sorted(c[0] for c in customers)
    orders = sorted(c[1] for c in customers)
    spend = sorted(c[2] for c in customers)
    n = len(customers)

    def quintile(sorted_values: list, value: Any) -> int:      # 0 (lowest) .. 4
        middle = (bisect_left(sorted_values, value) + bisect_right(sorted_values, value)) / 2
        return min(4, int(5 * middle / n))

    return [RfmScore(5 - quintile(days, d), 1 + quintile(orders, o), 1 + quintile(spend, s))
            for d, o, s in customers]


# -- a drifting customer, a birthday ---------------------------------------------------------

@dataclass(frozen=True)
class ChurnWarning:
    days: int              # since the last purchase
    usual: float           # the median gap between purchases, in days


def churn_warning(purchase_days: Sequence[dt.date], today: dt.date, rule: ChurnRule
                  ) -> ChurnWarning | None:
    days = sorted(set(purchase_days))
    if len(purchase_days) < rule.min_orders or len(days) < 2:
        return None
    usual = statistics.median(b.toordinal() - a.toordinal() for a, b in zip(days, days[1:]))
    since = (today - days[-1]).days
    return ChurnWarning(since, usual) if since > max(rule.factor * usual, rule.min_days) \
        else None


def days_to_birthday(birthday: dt.date, today: dt.date) -> int:
    """Days from `today` to the next birthday (0: today). A 29 February birthday is kept on
    28 February in other years."""
    for year in (today.year, today.year + 1):
        try:
            next_one = birthday.replace(year=year)
        except ValueError:
            next_one = dt.date(year, 2, 28)
        if next_one >= today:
            return (next_one - today).days
    raise AssertionError("a birthday comes within a year")


# -- every customer at once (what the sync plan calls; `measure` is the one-customer reading) ---

def measure_all(kind: str, owner: "np.ndarray", column: "np.ndarray", known: "np.ndarray",
                days: "np.ndarray", size: int, today: dt.date,
                points: PointsRule = PointsRule()) -> list[Any]:
    """`measure` for customers 0..size-1 at once, over numpy arrays of the entries: owner[p]
    the customer of entry p, column[p] its value (an amount as a float, a date as its
    ordinal; usable where known[p]), days[p] the entry's own date as an ordinal (0: none). A
    customer with no entry gets None. Amounts in whole cents are added as integers, so a
    total is exact."""
    import numpy as np
    counts = np.bincount(owner, minlength=size)
    if kind == "count":
        return [int(c) if c else None for c in counts]
    if kind == "recent":
        recent = (days > (today - dt.timedelta(days=RECENT_DAYS)).toordinal()) & \
            (days <= today.toordinal())
        hits = np.bincount(owner[recent], minlength=size)
        return [int(h) if c else None for h, c in zip(hits.tolist(), counts.tolist())]
    have = np.bincount(owner[known], minlength=size).tolist()
    if kind in ("first", "last", "latest"):
        if kind == "first":
            out = np.full(size, np.iinfo(np.int64).max)
            np.minimum.at(out, owner[known], column[known])
        else:
            out = np.zeros(size, np.int64)
            np.maximum.at(out, owner[known], column[known])
        return [dt.date.fromordinal(d) if h else None for d, h in zip(out.tolist(), have)]
    if kind == "points":
        counted = known & (column > 0)
        if points.expire_months:
            counted &= days > add_months(today, -points.expire_months).toordinal()
        earned = np.floor(np.round(column / points.per, 9)) * points.points
        total = np.bincount(owner[counted], weights=earned[counted], minlength=size)
        return [int(t) if h else None for t, h in zip(total.tolist(), have)]
    totals = _sums(owner, column, known, size)
    if kind == "sum":
        return [t if h else None for t, h in zip(totals, have)]
    if kind == "average":
        return [round_money(Decimal(repr(t)) / h) if h else None for t, h in zip(totals, have)]
    raise ValueError(f"unknown measure {kind!r}")


def _sums(owner, amounts, known, size: int) -> list[int | float]:
    """Each customer's total, exact: in whole cents where every amount is (integers in
    float64 are exact to 2**53 cents), else added with fsum customer by customer."""
    import numpy as np
    cents = np.round(amounts * 100)
    if np.all(np.abs(amounts[known] * 100 - cents[known]) < 1e-6):
        total = np.bincount(owner[known], weights=cents[known], minlength=size).tolist()
        return [int(t) // 100 if t % 100 == 0 else t / 100 for t in total]
    by_customer: list[list[float]] = [[] for _ in range(size)]
    for o, v in zip(owner[known].tolist(), amounts[known].tolist()):
        by_customer[o].append(v)
    return [exact_sum(a) if a else 0 for a in by_customer]
