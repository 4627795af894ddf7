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
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from i18n import _
from rules.customer_value import (
    PointsRule, ValueRules, as_date, churn_warning, days_to_birthday, decide_tier, measure_all,
    rfm_scores, usable,
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
class Entries:
    """A ledger tab's entries (its non-blank rows, in order), as the rules leave them: each
    column's values by column key, each entry's date, and the customer (row index) each is
    tied to (None: not tied)."""

    columns: dict[str, list[Any]]
    days: list[dt.date | None]
    who: list[int | None]
    _arrays: dict[tuple[str, str], tuple] = field(default_factory=dict)

    @functools.cached_property
    def tied(self) -> list[int]:
        """The entries tied to a customer."""
        return [p for p, w in enumerate(self.who) if w is not None]

    @functools.cached_property
    def by_customer(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for p in self.tied:
            out[self.who[p]].append(p)
        return out

    def of(self, customer: int) -> list[int]:
        return self.by_customer.get(customer, [])

    def values(self, key: str | None, entries: Sequence[int], kind: str = "sum") -> list[Any]:
        """The entries' values in column `key`, as measure `kind` takes them."""
        column = self.columns.get(key) if key else None
        return [usable(kind, column[p]) if column else None for p in entries]

    @functools.cached_property
    def _owner_and_days(self):
        import numpy as np
        tied = self.tied
        return (np.fromiter((self.who[p] for p in tied), np.int64, len(tied)),
                np.fromiter((d.toordinal() if (d := self.days[p]) else 0 for p in tied),
                            np.int64, len(tied)))

    def _column(self, key: str | None, kind: str):
        """Column `key` of the tied entries as measure `kind` takes it, as numpy arrays
        (values, usable): made once per column and kind of measure."""
        import numpy as np
        as_dates = kind in ("first", "last", "latest")
        mark = (key or "", "date" if as_dates else "amount")
        if mark not in self._arrays:
            tied = self.tied
            source = self.columns.get(key) if key else None
            found = [usable(kind, source[p]) for p in tied] if source else [None] * len(tied)
            known = np.fromiter((v is not None for v in found), bool, len(tied))
            values = np.fromiter(
                ((v.toordinal() if as_dates else v) if v is not None else 0 for v in found),
                np.int64 if as_dates else float, len(tied))
            self._arrays[mark] = values, known
        return self._arrays[mark]

    def measure(self, kind: str, key: str | None, size: int, today: dt.date,
                points: PointsRule) -> list[Any]:
        """`kind` over column `key` for every customer (row index < size) at once."""
        owner, days = self._owner_and_days
        values, known = self._column(key, kind)
        return measure_all(kind, owner, values, known, days, size, today, points)


@dataclass
class LedgerPlan:
    changes: list[TabChange] = field(default_factory=list)
    findings: list[EntryFinding] = field(default_factory=list)
    entries: dict[str, Entries] = field(default_factory=dict)     # by ledger key


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
        self.table, self.live, self.effective = table, live, effective
        self.fmt, self.region = table.layout.template.id, region
        self.by_id = {ids[i]: i for i in live if ids[i]}
        self.ids = ids

    @functools.cached_property
    def by_value(self) -> dict[str, list[int]]:
        """Customers by each phone, email and name they have: made only when an entry names
        its customer without an ID (folding every name costs a second at 20k rows)."""
        layout, template = self.table.layout, self.table.layout.template
        out: dict[str, list[int]] = defaultdict(list)
        for c in template.columns:
            j = layout.index(c.key)
            if j is None or c.type not in ("phone", "email", "name"):
                continue
            for i in self.live:
                value = self.effective[i][j]
                if isinstance(value, str) and value.strip():
                    out[_named(c.type, value)].append(i)
        return out

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
              out: LedgerPlan) -> Entries:
    """A tab's entries, column by column (a rule runs once per distinct value of a column),
    then each tied to its customer."""
    where = ledger_columns(ledger, tab)
    width = len(tab.headers)
    findings = [j for k, j in where.items() if ledger.column(k).type == "findings"]
    rows = [(n, r if len(r) >= width else r + (None,) * (width - len(r)))
            for n, r in tab.rows]
    if findings:
        # A row holding nothing but sheetkeeper's findings is no entry (counted in C: a
        # row with more than one value has something else).
        rows = [(n, r) for n, r in rows if width - r.count(None) > 1
                or all(r[j] is None for j in findings)]
    numbers = [n for n, _ in rows]
    transposed = list(zip(*(r for _, r in rows))) or [()] * width
    columns = {k: list(transposed[j]) for k, j in where.items()}
    lines: dict[int, list[str]] = defaultdict(list)
    for key, j in where.items():
        rule = rule_for(ledger.column(key)) if key != ledger.customer_id else None
        if rule is not None:
            _judge_column(tab, numbers, columns[key], j, rule, ledger.column(key).type, out,
                          lines)
    ids, by_id = columns.get(ledger.customer_id), customers.by_id
    # Nearly every entry names its customer by the ID as the template writes it.
    tied_to: list[int | None] = ([by_id.get(t) if t.__class__ is str else None for t in ids]
                                 if ids is not None else [None] * len(rows))
    for p in [p for p, who in enumerate(tied_to) if who is None]:
        tied_to[p] = _tie(ledger, tab, where, numbers[p], {k: v[p] for k, v in columns.items()},
                          customers, out, lines[p])
    if findings:
        j = findings[0]
        shown_now = transposed[j] if rows else ()
        for p in sorted({p for p, said in lines.items() if said}
                        | {p for p, v in enumerate(shown_now) if v is not None}):
            _findings_cell(tab, numbers[p], j, shown_now[p], lines.get(p, []), out)
    days = [as_date(v) for v in columns.get(ledger.date, [None] * len(rows))]
    return Entries(columns, days, tied_to)


def _judge_column(tab: SideTab, numbers: list[int], values: list[Any], j: int, rule,
                  type_: str, out: LedgerPlan, lines: dict[int, list[str]]) -> None:
    """One column's cell rule over its values (changed in place where normalised): the rule
    runs once per distinct value, and only the cells of values it has something to say about
    are visited (most columns: none)."""
    kinds = {v.__class__ for v in set(values)} - {type(None)}
    # 1, 1.0 and True are one key to a set: where the column mixes types, each value is
    # told apart by its type too.
    mixed = len(kinds) > 1
    keys = list(zip(map(type, values), values)) if mixed else values
    said = {}
    for key in set(keys):
        value = key[1] if mixed else key
        if value is None or is_blank(value):
            continue
        outcome = rule(value)
        if outcome is not None:
            said[key] = outcome
    if not said:
        return
    header = tab.headers[j]
    for p, key in enumerate(keys):
        outcome = said.get(key) if key is not None else None
        if outcome is None:
            continue
        if isinstance(outcome, Normalised):
            out.changes.append(TabChange(tab.name, numbers[p], j, header, values[p],
                                         outcome.value, type_, outcome.reason))
            values[p] = outcome.value
        else:
            line = _("{column}: {why}", column=header, why=outcome.message)
            lines[p].append(line)
            out.findings.append(EntryFinding(tab.name, numbers[p], header, outcome.kind, line))


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
            out.append(RolledUp(i, c.key, value, _(
                "from {n} entries on the {tab} tab ({measure})", n=counts[i],
                tab=tabs[r.ledger], measure=r.measure)))
    return out


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
