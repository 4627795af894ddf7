"""The ledger tabs (Purchases, Follow-ups, Visits, Payments) in a plan: each entry normalised and
checked like a customer row, tied to one customer, and rolled up into that customer's row.

Pure, like the rest of planning: the tabs as read in, changes and findings out. An entry is tied
to its customer by the Customer ID typed in it; where that is blank, by the Customer cell — a
normalised phone or email, or a name, that exactly one customer has — and the ID is then written
into the entry. Two candidates or none: a finding that says so, never a guess.

An entry has no ID of its own: its audit records name it by its row ("#12"); an undo puts a cell
back only where it still holds what was written (sync.cells.CellPlaces).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from i18n import _
from rules.customer_value import (
    ValueRules, as_date, churn_warning, days_to_birthday, decide_tier, is_amount, measure,
    rfm_scores,
)
from rules.email import normalise_email
from rules.ids import id_number
from rules.outcome import Normalised, Outcome, Problem, is_blank, shown
from rules.phone import normalise_phone
from sheet_templates import Column, Ledger, Template, fold_label

from .cells import differs
from .table import SheetTable, SideTab

LINK_RULE = "link"        # an entry's Customer ID written in
ROLLUP_RULE = "rollup"    # a customer-row column worked out from entries


class TabChange(NamedTuple):
    """A change to a cell of a ledger tab."""

    sheet: str
    row_number: int           # 1-based row of the tab
    column: int               # 0-based column of the tab
    header: str
    before: Any
    after: Any
    rule: str
    reason: str

    @property
    def entry(self) -> str:
        return entry_ref(self.row_number)


class EntryFinding(NamedTuple):
    sheet: str
    row_number: int
    column: str | None
    kind: str
    message: str


def entry_ref(row_number: int) -> str:
    """How the audit log names a ledger entry: by its row."""
    return f"#{row_number}"


def entry_row(ref: str | None) -> int | None:
    if ref and ref.startswith("#") and ref[1:].isdigit():
        return int(ref[1:])
    return None


@dataclass
class Entry:
    """One entry tied to a customer: its cells by column key, as the rules leave them."""

    values: dict[str, Any]
    day: dt.date | None


@dataclass
class LedgerPlan:
    changes: list[TabChange] = field(default_factory=list)
    findings: list[EntryFinding] = field(default_factory=list)
    # ledger key -> customer row (index) -> its entries
    entries: dict[str, dict[int, list[Entry]]] = field(default_factory=dict)


RuleFor = Callable[[Column], Callable[[Any], Outcome] | None]


def plan_ledgers(table: SheetTable, live: Sequence[int], effective: Sequence[Sequence[Any]],
                 ids: Sequence[str | None], region: str | None, rule_for: RuleFor) -> LedgerPlan:
    """Every ledger tab of the table, entry by entry. `effective`: the customer rows as the cell
    rules leave them (so a phone typed in any format is found by its normalised form)."""
    out = LedgerPlan()
    template = table.layout.template
    if not table.ledgers:
        return out
    customers = _Customers(table, live, effective, ids, region)
    for ledger in template.ledgers:
        tab = table.ledgers.get(ledger.key)
        if tab is not None:
            out.entries[ledger.key] = _plan_tab(ledger, tab, customers, rule_for, out)
    return out


def ledger_columns(ledger: Ledger, tab: SideTab) -> dict[str, int]:
    """Where each of the ledger's columns is on the tab, found by any of its names."""
    out: dict[str, int] = {}
    for j, header in enumerate(tab.headers):
        key = ledger.key_of(header) if header else None
        if key is not None:
            out.setdefault(key, j)
    return out


class _Customers:
    """Who an entry can be tied to: customers by ID, and by the values that name one."""

    def __init__(self, table: SheetTable, live, effective, ids, region):
        layout, template = table.layout, table.layout.template
        self.fmt, self.region = template.id, region
        self.by_id = {ids[i]: i for i in live if ids[i]}
        self.ids = ids
        self.by_value: dict[str, list[int]] = defaultdict(list)
        for c in template.columns:
            j = layout.index(c.key)
            if j is None or c.type not in ("phone", "email", "name"):
                continue
            for i in live:
                value = effective[i][j]
                if isinstance(value, str) and value.strip():
                    self.by_value[_named(c.type, value)].append(i)

    def find(self, text: Any) -> tuple[list[int], str]:
        """The customers a Customer cell names, and by what."""
        if not isinstance(text, str) or not text.strip():
            text = shown(text) if text is not None else ""
        text = text.strip()
        if "@" in text:
            outcome = normalise_email(text)
            email = outcome.value if isinstance(outcome, Normalised) else text
            return self.by_value.get(_named("email", email), []), _("same email")
        outcome = normalise_phone(text, region=self.region)
        if isinstance(outcome, Normalised) or (outcome is None and text.startswith("+")):
            phone = outcome.value if outcome else text
            return self.by_value.get(_named("phone", phone), []), _("same phone")
        return self.by_value.get(_named("name", text), []), _("same name")


def _named(kind: str, value: str) -> str:
    return f"{kind}:{value.casefold() if kind == 'email' else fold_label(value)}" \
        if kind != "phone" else f"phone:{value}"


def _plan_tab(ledger: Ledger, tab: SideTab, customers: _Customers, rule_for: RuleFor,
              out: LedgerPlan) -> dict[int, list[Entry]]:
    where = ledger_columns(ledger, tab)
    rules = {k: (j, rule) for k, j in where.items()
             if (rule := rule_for(ledger.column(k))) is not None}
    findings_j = next((j for k, j in where.items() if ledger.column(k).type == "findings"), None)
    memo: dict[tuple[str, Any], Outcome] = {}
    by_customer: dict[int, list[Entry]] = defaultdict(list)
    for number, row in tab.rows:
        row = list(row) + [None] * (len(tab.headers) - len(row))
        values = {k: row[j] for k, j in where.items()}
        if all(is_blank(v) for k, v in values.items()
               if ledger.column(k).type not in ("findings",)):
            continue
        lines: list[str] = []
        for key, (j, rule) in rules.items():
            value = row[j]
            if is_blank(value) or key == ledger.customer_id:
                continue
            outcome = memo.get((key, value), memo)
            if outcome is memo:
                outcome = memo[(key, value)] = rule(value)
            if isinstance(outcome, Normalised):
                out.changes.append(TabChange(tab.name, number, j, tab.headers[j], value,
                                             outcome.value, ledger.column(key).type,
                                             outcome.reason))
                values[key] = outcome.value
            elif isinstance(outcome, Problem):
                lines.append(_("{column}: {why}", column=tab.headers[j], why=outcome.message))
                out.findings.append(EntryFinding(tab.name, number, tab.headers[j],
                                                 outcome.kind, lines[-1]))
        who = _tie(ledger, tab, where, number, values, customers, out, lines)
        if who is not None:
            by_customer[who].append(Entry(values, as_date(values.get(ledger.date))))
        if findings_j is not None:
            _findings_cell(tab, number, findings_j, row[findings_j], lines, out)
    return by_customer


def _tie(ledger: Ledger, tab: SideTab, where: Mapping[str, int], number: int,
         values: dict[str, Any], customers: _Customers, out: LedgerPlan,
         lines: list[str]) -> int | None:
    """The customer (row index) the entry is about, writing the ID in where it was found by
    the Customer cell; a finding where it cannot be told."""
    id_j, who_j = where.get(ledger.customer_id), where.get(ledger.customer)
    typed_id = values.get(ledger.customer_id)

    def finding(kind: str, column: int | None, message: str) -> None:
        lines.append(message)
        out.findings.append(EntryFinding(tab.name, number,
                                         None if column is None else tab.headers[column],
                                         kind, message))

    if id_j is not None and not is_blank(typed_id):
        number_of = id_number(typed_id, customers.fmt)
        rid = customers.fmt.format(number_of) if number_of is not None else None
        if rid in customers.by_id:
            if rid != typed_id:
                out.changes.append(TabChange(tab.name, number, id_j, tab.headers[id_j],
                                             typed_id, rid, "id",
                                             _("written the way IDs are written")))
            return customers.by_id[rid]
        finding("unknown_customer", id_j,
                _("{column}: no customer has the ID {id}; correct it, or clear it and name the "
                  "customer in {other}", column=tab.headers[id_j], id=shown(typed_id),
                  other=tab.headers[who_j] if who_j is not None else "?"))
        return None
    text = values.get(ledger.customer)
    if who_j is None or is_blank(text):
        finding("no_customer", None,
                _("whose entry is this? Fill in {id} or {who}",
                  id=tab.headers[id_j] if id_j is not None else "ID",
                  who=tab.headers[who_j] if who_j is not None else "?"))
        return None
    found, by = customers.find(text)
    if len(found) == 1 and id_j is not None:
        rid = customers.ids[found[0]]
        out.changes.append(TabChange(tab.name, number, id_j, tab.headers[id_j], typed_id, rid,
                                     LINK_RULE, _("{who} is {id} ({by})", who=shown(text),
                                                  id=rid, by=by)))
        return found[0]
    if not found:
        finding("unknown_customer", who_j,
                _("{column}: no customer matches {who}; write their ID in {id}, or add them "
                  "to the list first", column=tab.headers[who_j], who=shown(text),
                  id=tab.headers[id_j] if id_j is not None else "ID"))
        return None
    candidates = ", ".join(customers.ids[i] or "?" for i in found[:10])
    finding("ambiguous_customer", who_j,
            _("{column}: {who} could be {candidates}; write the right one's ID in {id}",
              column=tab.headers[who_j], who=shown(text), candidates=candidates,
              id=tab.headers[id_j] if id_j is not None else "ID"))
    return None


def _findings_cell(tab: SideTab, number: int, j: int, current: Any, lines: list[str],
                   out: LedgerPlan) -> None:
    text = "\n".join(lines) if lines else None
    if text != (current if current not in ("", None) else None):
        out.changes.append(TabChange(
            tab.name, number, j, tab.headers[j], current, text, "findings",
            _("what sheetkeeper found in this entry") if text else
            _("nothing left to report in this entry")))


def repointed(table: SheetTable, kept: str, gone: str) -> list[TabChange]:
    """The entries of a customer merged away (`gone`), pointed at the one kept: part of the
    merge's batch, so its undo points them back."""
    template = table.layout.template
    fmt, out = template.id, []
    gone_number = id_number(gone, fmt)
    for ledger in template.ledgers:
        tab = table.ledgers.get(ledger.key)
        j = ledger_columns(ledger, tab).get(ledger.customer_id) if tab else None
        if j is None:
            continue
        for number, row in tab.rows:
            value = row[j] if j < len(row) else None
            if value is not None and id_number(value, fmt) == gone_number:
                out.append(TabChange(tab.name, number, j, tab.headers[j], value, kept, "merge",
                                     _("{gone} was merged into {kept}", gone=gone, kept=kept)))
    return out


# -- roll-ups into the customer rows -----------------------------------------------------------

class RolledUp(NamedTuple):
    index: int           # customer row (index)
    key: str             # the customer-row column
    value: Any
    reason: str


def roll_up(table: SheetTable, live: Sequence[int], effective: Sequence[Sequence[Any]],
            entries: Mapping[str, Mapping[int, list[Entry]]], today: dt.date,
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
        by_customer = entries[r.ledger]
        if r.measure == "segment":
            out += _segments(template, lang, live, effective, j, c.key, by_customer, today)
            continue
        for i in live:
            found = by_customer.get(i)
            if not found:
                continue
            values = [e.values.get(r.of) for e in found] if r.of else [None] * len(found)
            value = measure(r.measure, values, [e.day for e in found], today, rules.points)
            current = effective[i][j]
            if r.measure == "latest":
                typed = as_date(current)
                if value is None or (typed is not None and typed >= value) or \
                        (typed is None and not is_blank(current)):
                    continue     # the later date is the typed one (or a value left as typed)
            if value is None or not differs(current, value):
                continue
            out.append(RolledUp(i, c.key, value, _(
                "from {n:number} entries on the {tab} tab ({measure})", n=len(found),
                tab=tabs[r.ledger], measure=r.measure)))
    return out


def _segments(template, lang, live, effective, j, key, by_customer, today) -> list[RolledUp]:
    ledger = next(c.rollup.ledger for c in template.columns if c.key == key)
    spec = template.ledger(ledger)
    amount = next((c.key for c in spec.columns if c.type == "money"), None)
    buyers, figures = [], []
    for i in live:
        found = by_customer.get(i)
        days = [e.day for e in found or () if e.day is not None]
        if not days:
            continue
        spend = sum(e.values.get(amount) for e in found
                    if amount and is_amount(e.values.get(amount)))
        buyers.append(i)
        figures.append(((today - max(days)).days, len(found), spend))
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
                   entries: Mapping[str, Mapping[int, list[Entry]]], today: dt.date,
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
        by_customer, amount = purchases
        for i in live:
            days = [e.day for e in by_customer.get(i, ()) if e.day is not None]
            warning = churn_warning(days, today, rules.churn) if days else None
            if warning is not None and warning.days < churned_days:
                found.append(ValueFinding(i, None, "at_risk", _(
                    "{marker} no purchase for {days:number} days; usually one every "
                    "{usual:number} days", marker=template.word("words", "at_risk_marker", lang),
                    days=warning.days, usual=round(warning.usual))))
        if rules.tiers is not None:
            f, t = _tiers(table, live, effective, by_customer, amount, today, rules)
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


def _purchases(template: Template, entries) -> tuple[Mapping[int, list[Entry]], str] | None:
    """The ledger money is spent in (the one a `sum` roll-up adds up), and its amount column."""
    for c in template.columns:
        if c.rollup and c.rollup.measure == "sum" and c.rollup.ledger in entries:
            return entries[c.rollup.ledger], c.rollup.of
    return None


def _tiers(table, live, effective, by_customer, amount, today, rules: ValueRules):
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
        bought = [(e.values.get(amount), e.day) for e in by_customer.get(i, ())
                  if is_amount(e.values.get(amount))]
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
