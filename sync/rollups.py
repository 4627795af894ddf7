"""What a customer's entries make of their row: the roll-up columns (Total spend, Orders, Last
purchase…), the RFM segment, the tier by the team's rule, churn warnings and birthdays coming
up. Pure, like the rest of planning: the entries (sync.ledgers) and the rows in, values and
findings out; the figures themselves are rules.customer_value's."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, NamedTuple, Sequence

from i18n import _
from rules.customer_value import (
    ValueRules, as_date, churn_warning, days_to_birthday, decide_tier, rfm_scores,
)
from rules.outcome import is_blank
from sheet_templates import Template, fold_label

from .cells import differs
from .ledgers import Entries
from .table import SheetTable


# -- roll-ups into the customer rows -----------------------------------------------------------

class RolledUp(NamedTuple):
    index: int           # customer row (index)
    key: str             # the customer-row column
    value: Any
    reason: str


def roll_up(table: SheetTable, live: Sequence[int], effective: Sequence[Sequence[Any]],
            entries: Mapping[str, Entries], today: dt.date,
            rules: ValueRules) -> list[RolledUp]:
    """The roll-up columns' values where they differ from what the rows hold. A customer with
    no entry keeps what the cell holds (a Total spend typed before purchases were recorded)."""
    template, columns, lang = table.layout.template, table.layout.columns, table.layout.lang
    tabs = {key: tab.name for key, tab in table.ledgers.items()}
    out: list[RolledUp] = []
    for c in template.columns:
        r = c.rollup
        if r is None or r.ledger not in entries or c.key not in columns:
            continue
        j = columns[c.key]
        found = entries[r.ledger]
        if r.measure == "segment":
            out += _segments(template, lang, live, effective, j, c.key, found, today,
                             rules.points)
            continue
        size = len(effective)
        counts = found.measure("count", None, size, today, rules.points)
        values = found.measure(r.measure, r.of, size, today, rules.points)
        for i in live:
            value = values[i]
            if value is None:
                continue      # no entry, or none with a value to count
            current = effective[i][j]
            if r.measure == "latest":
                typed = as_date(current)
                if (typed is not None and typed >= value) or \
                        (typed is None and not is_blank(current)):
                    continue     # the later date is the typed one (or a value left as typed)
            if not differs(current, value):
                continue
            out.append(RolledUp(i, c.key, value, _why(r.measure, counts[i], tabs[r.ledger])))
    return out


def _why(measure: str, n: int, tab: str) -> str:
    """A roll-up's reason in words (the count not formatted by Babel: a first cycle makes a
    hundred thousand of these, at 70 us a formatted number)."""
    if measure == "sum":
        return _("the sum of {n} entries on the {tab} tab", n=n, tab=tab)
    if measure == "count":
        return _("{n} entries on the {tab} tab", n=n, tab=tab)
    if measure == "first":
        return _("the first date among {n} entries on the {tab} tab", n=n, tab=tab)
    if measure in ("last", "latest"):
        return _("the latest date among {n} entries on the {tab} tab", n=n, tab=tab)
    if measure == "average":
        return _("the average of {n} entries on the {tab} tab", n=n, tab=tab)
    if measure == "points":
        return _("the points {n} entries on the {tab} tab earn by your points rule", n=n,
                 tab=tab)
    return _("the entries of the last 30 days on the {tab} tab", tab=tab)


def _segments(template, lang, live, effective, j, key, found: Entries, today, points
              ) -> list[RolledUp]:
    ledger = next(c.rollup.ledger for c in template.columns if c.key == key)
    spec = template.ledger(ledger)
    amount = next((c.key for c in spec.columns if c.type == "money"), None)
    size = len(effective)
    last = found.measure("last", spec.date, size, today, points)
    orders = found.measure("count", None, size, today, points)
    spend = found.measure("sum", amount, size, today, points)
    buyers = [i for i in live if last[i] is not None]
    figures = [((today - last[i]).days, orders[i], spend[i] or 0) for i in buyers]
    out = []
    for i, score in zip(buyers, rfm_scores(figures)):
        label = _segment_label(template, score.segment, score, lang)
        if differs(effective[i][j], label):
            out.append(RolledUp(i, key, label, _("recency, frequency and spend scored "
                                                 "against the whole list")))
    return out


def _segment_label(template: Template, segment: str, score, lang: str) -> str:
    return f"{template.word('segments', segment, lang)} " \
           f"(R{score.recency} F{score.frequency} M{score.monetary})"


# -- what the figures say about a customer -----------------------------------------------------

class ValueFinding(NamedTuple):
    index: int
    column: str | None        # the header a finding is about (tints that cell), or None
    kind: str
    message: str


def value_findings(table: SheetTable, live: Sequence[int], effective: Sequence[Sequence[Any]],
                   entries: Mapping[str, Entries], today: dt.date,
                   rules: ValueRules, churned_days: int) -> tuple[list[ValueFinding],
                                                                 list[RolledUp]]:
    """Churn warnings, birthdays coming up, and the tier by the team's rule: a change where the
    team opted in to sheetkeeper setting it, else a finding where it differs."""
    layout, template = table.layout, table.layout.template
    lang = layout.lang
    found: list[ValueFinding] = []
    tiers: list[RolledUp] = []
    purchases = _purchases(template, entries)
    if purchases is not None:
        bought, amount, when = purchases
        size, churn = len(effective), rules.churn
        orders = bought.measure("count", None, size, today, rules.points)
        last = bought.measure("last", when, size, today, rules.points)
        # Only a customer with a habit and a quiet spell can be drifting away: the others
        # are not looked at one by one.
        drifting = [i for i in live if (orders[i] or 0) >= churn.min_orders and last[i]
                    and (today - last[i]).days > churn.min_days]
        for i in drifting:
            days = [d for p in bought.of(i) if (d := bought.days[p]) is not None]
            warning = churn_warning(days, today, churn)
            if warning is not None and warning.days < churned_days:
                found.append(ValueFinding(i, None, "at_risk", _(
                    "{marker} no purchase for {days:number} days; usually one every "
                    "{usual:number} days", marker=template.word("words", "at_risk_marker", lang),
                    days=warning.days, usual=round(warning.usual))))
        if rules.tiers is not None:
            f, t = _tiers(table, live, effective, bought, amount, today, rules)
            found += f
            tiers += t
    j = layout.index("birthday")
    if j is not None:
        marker = template.word("words", "birthday_marker", lang)
        for i in live:
            born = as_date(effective[i][j])
            if born is not None and (days := days_to_birthday(born, today)) <= 7:
                found.append(ValueFinding(i, None, "birthday", _(
                    "{marker} {day}, in {days:number} days", marker=marker,
                    day=born.strftime("%m-%d"), days=days) if days else _(
                    "{marker} today", marker=marker)))
    return found, tiers


def _purchases(template: Template, entries) -> tuple[Entries, str, str] | None:
    """The ledger money is spent in (the one a `sum` roll-up adds up), its amount column and
    its date column."""
    for c in template.columns:
        if c.rollup and c.rollup.measure == "sum" and c.rollup.ledger in entries:
            return (entries[c.rollup.ledger], c.rollup.of,
                    template.ledger(c.rollup.ledger).date)
    return None


def _tiers(table, live, effective, found: Entries, amount, today, rules: ValueRules):
    layout, template = table.layout, table.layout.template
    j = layout.index("tier")
    if j is None or "tier" not in template.lists:
        return [], []
    choices = template.lists["tier"]
    labels = {c.key: c.label(layout.lang) for c in choices.choices}
    spellings = {fold_label(s): c.key for c in choices.choices
                 for s in (*c.labels.values(), *c.aliases)}
    header = layout.headers[j]
    findings, changes = [], []
    for i in live:
        mine = found.of(i)
        bought = [(a, found.days[p]) for a, p in zip(found.values(amount, mine), mine)
                  if a is not None]
        decision = decide_tier(bought, today, rules.tiers)
        current = effective[i][j]
        now = spellings.get(fold_label(current)) if isinstance(current, str) else None
        if now == decision.key:
            continue
        why = _("spend in the last {months:number} months is {spend:number} in {orders:number} "
                "orders: {tier} by your rule", months=decision.months, spend=decision.spend,
                orders=decision.orders, tier=labels[decision.key])
        if rules.tiers.write:
            changes.append(RolledUp(i, "tier", labels[decision.key], why))
        elif not is_blank(current) or decision.key != "prospect":
            findings.append(ValueFinding(i, header, "tier", _("{column}: {why}", column=header,
                                                              why=why)))
    return findings, changes
