"""The ledger tabs (Purchases, Follow-ups, Visits, Payments) in a plan: each entry normalised and
checked like a customer row, and tied to one customer (what the entries then make of that
customer's row is sync.rollups').

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

from i18n import _, render
from rules.customer_value import PointsRule, as_date, measure_all, usable
from rules.email import normalise_email
from rules.ids import id_number
from rules.outcome import Normalised, Outcome, is_blank, shown
from rules.phone import normalise_phone
from sheet_templates import Column, Ledger, fold_label

from .table import SheetTable, SideTab

LINK_RULE = "link"        # an entry's Customer ID written in


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


def _ordinal(value: Any) -> int:
    """A date's ordinal (a datetime's day's), 0 for anything else."""
    if value.__class__ is dt.date or value.__class__ is dt.datetime:
        return value.toordinal()        # a datetime's ordinal is its day's
    day = as_date(value)                # a subclass of either
    return day.toordinal() if day else 0


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
            found = [source[p] for p in tied] if source else [None] * len(tied)
            # Inline, not rules.customer_value.usable per cell: a quarter of a million cells.
            if as_dates:
                values = np.fromiter((_ordinal(v) for v in found), np.int64, len(found))
                known = values > 0
            else:
                values = np.fromiter((v if v.__class__ is float or v.__class__ is int
                                      else np.nan for v in found), float, len(found))
                known = np.isfinite(values)
                values[~known] = 0.0
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
    # A formula cell is the sheet's (an ID looked up by the Customer cell, an amount worked out):
    # what a rule makes of its value counts, but is never written over it.
    formulas = {(t.name, *cell) for t in table.ledgers.values() for cell in t.formulas}
    if formulas:
        out.changes = [c for c in out.changes
                       if (c.sheet, c.row_number, c.column) not in formulas]
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
        # An ID in two rows (a row copied with it) is the first one's, as everywhere else
        # (SheetTable.by_id; the later row is told to clear it).
        self.by_id: dict[str, int] = {}
        for i in live:
            if ids[i]:
                self.by_id.setdefault(ids[i], i)
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
    grid = _Grid.of(ledger, tab)
    lines: dict[int, list[str]] = defaultdict(list)
    for key, j in grid.where.items():
        rule = rule_for(ledger.column(key)) if key != ledger.customer_id else None
        if rule is not None:
            _judge_column(tab, grid.numbers, grid.columns[key], j, rule,
                          ledger.column(key).type, out, lines)
    tied_to = _tie_all(ledger, tab, grid, customers, out, lines)
    if grid.findings is not None:
        _findings_column(tab, grid, lines, out, customers.table.layout.lang)
    days = [as_date(v) for v in grid.columns.get(ledger.date, [None] * len(grid.numbers))]
    return Entries(grid.columns, days, tied_to)


@dataclass
class _Grid:
    """A ledger tab's entries as columns: its non-blank rows' numbers, each ledger column's
    values (by key), and where the findings column is."""

    where: dict[str, int]
    numbers: list[int]
    columns: dict[str, list[Any]]
    findings: int | None
    shown: tuple            # the findings column as it stands

    @classmethod
    def of(cls, ledger: Ledger, tab: SideTab) -> "_Grid":
        where = ledger_columns(ledger, tab)
        width = len(tab.headers)
        findings = next((j for k, j in where.items()
                         if ledger.column(k).type == "findings"), None)
        rows = [(n, r if len(r) >= width else r + (None,) * (width - len(r)))
                for n, r in tab.rows]
        if findings is not None:
            # A row holding nothing but sheetkeeper's findings is no entry (counted in C: a
            # row with more than one value has something else).
            # (A Google Sheet's row runs as far as its last value, maybe past the headers.)
            rows = [(n, r) for n, r in rows
                    if len(r) - r.count(None) > 1 or r[findings] is None]
        transposed = list(zip(*(r for _, r in rows))) or [()] * width
        return cls(where, [n for n, _ in rows], {k: list(transposed[j]) for k, j in where.items()},
                   findings, transposed[findings] if findings is not None else ())


def _tie_all(ledger: Ledger, tab: SideTab, grid: _Grid, customers: _Customers,
             out: LedgerPlan, lines: dict[int, list[str]]) -> list[int | None]:
    """The customer (row index) each entry is tied to, None where it cannot be told."""
    ids, by_id = grid.columns.get(ledger.customer_id), customers.by_id
    # Nearly every entry names its customer by the ID as the template writes it.
    tied_to: list[int | None] = ([by_id.get(t) if t.__class__ is str else None for t in ids]
                                 if ids is not None else [None] * len(grid.numbers))
    for p in [p for p, who in enumerate(tied_to) if who is None]:
        tied_to[p] = _tie(ledger, tab, grid.where, grid.numbers[p],
                          {k: v[p] for k, v in grid.columns.items()}, customers, out, lines[p])
    return tied_to


def _findings_column(tab: SideTab, grid: _Grid, lines: dict[int, list[str]],
                     out: LedgerPlan, lang: str) -> None:
    """The entries' Findings cells: those with something to say, and those that said
    something before."""
    said = {p for p, text in lines.items() if text}
    shown = {p for p, v in enumerate(grid.shown) if v is not None}
    for p in sorted(said | shown):
        _findings_cell(tab, grid.numbers[p], grid.findings, grid.shown[p], lines.get(p, []),
                       out, lang)


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
    lang = customers.table.layout.lang
    # A column the tab lacks is named as the template names it, in the sheet's language.
    id_name = tab.headers[id_j] if id_j is not None else ledger.column(
        ledger.customer_id).header(lang)
    who_name = tab.headers[who_j] if who_j is not None else ledger.column(
        ledger.customer).header(lang)

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
                  other=who_name))
        return None
    text = values.get(ledger.customer)
    if who_j is None or is_blank(text):
        finding("no_customer", None,
                _("whose entry is this? Fill in {id} or {who}", id=id_name, who=who_name))
        return None
    found, by = customers.find(text)
    if len(found) == 1:
        rid = customers.ids[found[0]]
        if id_j is not None and rid:      # a tab without the ID column: tied all the same
            out.changes.append(TabChange(tab.name, number, id_j, tab.headers[id_j], typed_id,
                                         rid, LINK_RULE, _("{who} is {id} ({by})",
                                                           who=shown(text), id=rid, by=by)))
        return found[0]
    if not found:
        finding("unknown_customer", who_j,
                _("{column}: no customer matches {who}; write their ID in {id}, or add them "
                  "to the list first", column=tab.headers[who_j], who=shown(text),
                  id=id_name))
        return None
    candidates = ", ".join(customers.ids[i] or "?" for i in found[:10])
    finding("ambiguous_customer", who_j,
            _("{column}: {who} could be {candidates}; write the right one's ID in {id}",
              column=tab.headers[who_j], who=shown(text), candidates=candidates, id=id_name))
    return None


def _findings_cell(tab: SideTab, number: int, j: int, current: Any, lines: list[str],
                   out: LedgerPlan, lang: str) -> None:
    """An entry's Findings cell: its findings in the sheet's language, one per line."""
    text = "\n".join(render(line, lang) for line in lines) if lines else None
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
            if value is None or (number, j) in tab.formulas:
                continue
            # An ID not written the template's way (VIP-9) has no number: it is itself.
            if (id_number(value, fmt) == gone_number if gone_number is not None
                    else str(value).strip() == gone):
                out.append(TabChange(tab.name, number, j, tab.headers[j], value, kept, "merge",
                                     _("{gone} was merged into {kept}", gone=gone, kept=kept)))
    return out
