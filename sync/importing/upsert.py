"""What an import does to the list, worked out without writing anything: a pure function from the
table as read and the file's rows to one Batch (cells and their audit records) and a line of
report per row of the file.

The file's rows are put through the same rules as a cycle's by planning them together with the
list (sync.plan.plan_table over the table with the file's rows after its last row): so every
value arrives normalised, what the rules flag is said, and the duplicate finder compares the
file's rows with the list's and with each other.

A row of the file matches a customer of the list by Customer ID, by an identity value (the
template's certain columns: a normalised phone or email, equal), or by the duplicate finder's
certain match. A match fills the customer's empty cells; a value that differs from the one
there never overwrites it: it goes to the customer's Notes, with the file and line it came from,
as a merge's set-aside values do (sync.review). A row that matches nothing is added after the
last row with the next free ID. Rows of the file that match each other are folded the same way
into the first of them. A formula cell is never written.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from i18n import _, render
from rules.ids import id_number, next_free
from rules.outcome import is_blank

from ..cells import MAX_CELL_TEXT, same_value
from ..errors import SheetkeeperError
from ..plan import plan_table
from ..settings import RuleSettings
from ..table import SheetTable
from ..targets import Batch
from .mapping import cell_text as _text

OWN_TYPES = ("id", "status", "findings")


@dataclass(frozen=True)
class Incoming:
    """A row of the file: its line, its values by template column, what goes to Notes."""

    line: int
    values: dict[str, Any]
    extra: Sequence[str] = ()


@dataclass
class RowOutcome:
    """What the import does with one row of the file."""

    line: int
    action: str                   # added | updated | left (matched, nothing new) | folded
    row_id: str | None            # the customer it went to (a new one: the ID it gets)
    row: int | None               # that customer's sheet row
    matched_by: str | None = None   # "Phone", "Email", "Customer ID", "certain duplicate", …
    filled: list[str] = field(default_factory=list)    # headers of the cells it filled
    noted: list[str] = field(default_factory=list)     # what it added to Notes
    findings: list[str] = field(default_factory=list)  # what the rules say of its values


@dataclass
class ImportPlan:
    batch: Batch
    outcomes: list[RowOutcome]
    last_id: int | None           # the highest ID number it gives out (None: no new row)

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)


@dataclass
class _Customer:
    """A row of the list as the import leaves it: one matched, or one to add."""

    row: list[Any]                # its values as they will be (compared with the file's)
    row_id: str | None
    number: int | None            # its sheet row (a new one's is given at the end)
    existing: int | None          # its index in the table (None: new)
    filled: dict[int, int] = field(default_factory=dict)   # column -> line that filled it
    notes: list[str] = field(default_factory=list)         # lines to add to its Notes
    outcomes: list[RowOutcome] = field(default_factory=list)


class ListWithoutIds(SheetkeeperError):
    """Rows of the list have no Customer ID yet: what the import fills could not be found
    again by an undo."""


def plan_import(table: SheetTable, incoming: Sequence[Incoming], settings: RuleSettings,
                source: str, judged: bool = True) -> ImportPlan:
    """The batch that brings `incoming` (from the file `source`) into `table`, and what it
    does with each row of the file. `judged`: with the Status and Findings of the rows it
    touches (a second pass of the rules; a dry run, which writes nothing, goes without)."""
    work = _Work(table, incoming, settings, source)
    for k, row in enumerate(incoming):
        work.take(k, row)
    return work.finish(judged)


class _Work:
    def __init__(self, table: SheetTable, incoming: Sequence[Incoming], settings: RuleSettings,
                 source: str):
        layout = table.layout
        template = layout.template
        self.table, self.incoming, self.settings, self.source = table, incoming, settings, source
        self.layout, self.template = layout, template
        self.id_j = layout.index(template.id.column)
        if self.id_j is None:
            raise ListWithoutIds(_("{source}: the list has no {column} column, which an import "
                                   "needs (to be undone); run `sheetkeeper install --upgrade` "
                                   "to add it", source=table.source,
                                   column=template.column(template.id.column).headers["en"]))
        notes = template.column_of_type("notes")
        self.notes_j = layout.index(notes.key) if notes else None
        self.own = {j for k, j in layout.columns.items()
                    if template.column(k).type in OWN_TYPES}
        self.n0 = len(table.rows)
        self.first_new = (max(table.row_numbers) if table.row_numbers else layout.header_row) + 1
        self.live = [i for i in range(self.n0) if self._is_live(table.rows[i])]
        self.live_set = set(self.live)
        self._refuse_rows_without_ids()
        self._plan_together()
        self.keys = [k for k in template.duplicates.certain if k in layout.columns]
        self.index: dict[tuple[str, str], int] = {}     # (key, value) -> anchor row
        for i in self.live:
            for pair in self._identity(i):
                self.index.setdefault(pair, i)
        self.customers: dict[int, _Customer] = {}       # anchor row -> customer
        self.anchor_of: dict[int, int] = {}             # a file row -> its customer's anchor
        self.order: list[int] = []                      # anchors, as first touched

    # -- the rules, over the list and the file's rows together ----------------------------

    def _plan_together(self) -> None:
        layout, width = self.layout, len(self.layout.headers)
        laid = []
        for r in self.incoming:
            row = [None] * width
            for key, value in r.values.items():
                row[layout.columns[key]] = value
            laid.append(tuple(row))
        numbers = tuple(range(self.first_new, self.first_new + len(laid)))
        together = dataclasses.replace(self.table, rows=self.table.rows + tuple(laid),
                                       row_numbers=self.table.row_numbers + numbers,
                                       review=None, merged=None, sheet_xml=None)
        plan = plan_table(together, self.settings)
        self.after = plan.values_after()
        self.flagged = plan.flagged_cells()
        place = {n: i for i, n in enumerate(together.row_numbers)}
        self.findings: dict[int, list[str]] = defaultdict(list)
        for f in plan.findings:
            i = place[f.row_number]
            if i >= self.n0 and f.kind != "duplicate_id":
                self.findings[i].append(f.message)
        self.partners: dict[int, list[int]] = defaultdict(list)
        for d in plan.duplicates:
            a, b = place[d.rows[0]], place[d.rows[1]]
            if d.kind == "certain":
                self.partners[max(a, b)].append(min(a, b))
            elif max(a, b) >= self.n0 and min(a, b) < self.n0:
                rid = self.table.row_ids[0][min(a, b)]
                self.findings[max(a, b)].append(_("possible duplicate of {id}: {reason}",
                                                  id=rid, reason=d.reason))

    def _is_live(self, row: Sequence[Any]) -> bool:
        return any(not is_blank(v) for j, v in enumerate(row) if j not in self.own)

    def _refuse_rows_without_ids(self) -> None:
        ids = self.table.row_ids[0]
        missing = [self.table.row_numbers[i] for i in self.live if ids[i] is None]
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (", …" if len(missing) > 5 else "")
            raise ListWithoutIds(_(
                "{source}: {n} rows of the list have no {column} yet (sheet rows {rows}); run "
                "`sheetkeeper apply` first (it gives each one), then import: what an import "
                "fills must be found again by its {column} to be undone",
                source=self.table.source, n=len(missing), rows=shown,
                column=self.layout.headers[self.id_j]))

    def _identity(self, i: int) -> list[tuple[str, str]]:
        """Row `i`'s identity values that passed their rule, as (key, folded value)."""
        out = []
        for key in self.keys:
            j = self.layout.columns[key]
            if j == self.id_j:
                if i < self.n0:
                    value = self.table.row_ids[0][i]
                else:
                    value = self._file_id(self.incoming[i - self.n0].values.get(key))
            else:
                value = None if (i, key) in self.flagged else self.after[i][j]
            if not is_blank(value):
                out.append((key, _text(value).casefold()))
        return out

    def _file_id(self, raw: Any) -> str | None:
        """The file's ID as the template writes it, where it is written as the template
        writes its IDs (C-000012, c-12): another system's number (an order's 1001) is not
        taken for C-001001."""
        fmt = self.template.id
        if not isinstance(raw, str) or not raw.strip().casefold().startswith(
                fmt.prefix.casefold()):
            return None
        number = id_number(raw, fmt)     # the ID rule's own reading
        return fmt.format(number) if number else None

    # -- one row of the file --------------------------------------------------------------

    def take(self, k: int, row: Incoming) -> None:
        i = self.n0 + k
        anchor, how = self._match(i)
        if anchor is None:
            customer = self._new(i, row)
            anchor = i
            outcome = RowOutcome(row.line, "added", None, None)
            customer.outcomes.append(outcome)
        else:
            customer = self._customer(anchor)
            outcome = RowOutcome(row.line, "folded" if customer.existing is None else "left",
                                 customer.row_id, customer.number, how)
            customer.outcomes.append(outcome)
            self._fold(customer, i, row, outcome)
        outcome.findings = self.findings.get(i, [])
        self.anchor_of[i] = anchor
        for pair in self._identity(i):
            self.index.setdefault(pair, anchor)

    def _match(self, i: int) -> tuple[int | None, str | None]:
        for key, value in self._identity(i):
            anchor = self.index.get((key, value))
            if anchor is not None:
                return anchor, self.layout.headers[self.layout.columns[key]]
        for p in self.partners.get(i, ()):
            anchor = self.anchor_of.get(p, p if p in self.live_set else None)
            if anchor is not None:
                return anchor, "certain duplicate"
        return None, None

    def _customer(self, anchor: int) -> _Customer:
        customer = self.customers.get(anchor)
        if customer is None:
            table = self.table
            customer = self.customers[anchor] = _Customer(
                list(self.after[anchor]), table.row_ids[0][anchor], table.row_numbers[anchor],
                anchor)
            self.order.append(anchor)
        return customer

    def _new(self, i: int, row: Incoming) -> _Customer:
        values: list[Any] = [None] * len(self.layout.headers)
        pieces = list(row.extra)
        for key in row.values:
            j = self.layout.columns[key]
            if j == self.id_j:
                pieces.insert(0, f"{self.layout.headers[j]}: {_text(row.values[key])}")
            elif j != self.notes_j:
                values[j] = self.after[i][j]
        customer = self.customers[i] = _Customer(values, None, None, None)
        self.order.append(i)
        own_notes = row.values.get(self.template.column_of_type("notes").key) \
            if self.notes_j is not None else None
        if not is_blank(own_notes):
            customer.notes.append(_text(own_notes))
        if pieces:
            customer.notes.append(self._line(row.line, pieces))
        customer.filled = {j: row.line for j, v in enumerate(values) if not is_blank(v)}
        return customer

    def _fold(self, customer: _Customer, i: int, row: Incoming, outcome: RowOutcome) -> None:
        """The file's row into `customer`: its empty cells filled, differing values (and what
        no column takes) to Notes."""
        pieces = []
        formulas = self.table.formulas
        for key, raw in row.values.items():
            j = self.layout.columns[key]
            header = self.layout.headers[j]
            value = self.after[i][j]
            if j == self.notes_j:
                if _text(raw) not in "\n".join([_text(customer.row[j] or ""),
                                                *customer.notes]):
                    pieces.append(_text(raw))
            elif j == self.id_j:
                if customer.row_id is None or _text(value) != customer.row_id:
                    pieces.append(f"{header}: {_text(raw)}")
            elif customer.number is not None and (customer.number, j) in formulas:
                continue
            elif is_blank(customer.row[j]):
                customer.row[j] = value
                customer.filled[j] = row.line
                outcome.filled.append(header)
            elif not _same(customer.row[j], value):
                pieces.append(f"{header}: {_text(value)}")
        pieces += row.extra
        if pieces:
            customer.notes.append(self._line(row.line, pieces))
            outcome.noted = pieces
        if outcome.action == "left" and (outcome.filled or outcome.noted):
            outcome.action = "updated"

    def _line(self, line: int, pieces: Sequence[str]) -> str:
        head = render(_("Imported from {file} line {line} ({day})", file=self.source,
                        line=line, day=self.settings.today.isoformat()), self.layout.lang)
        return f"{head}: " + "; ".join(pieces)

    # -- the batch ------------------------------------------------------------------------

    def finish(self, judged: bool = True) -> ImportPlan:
        batch = Batch.empty()
        ids = [n for n in self.table.row_ids[1] if n is not None]
        number = next_free(ids, self.settings.ids_issued)
        last_id = None
        next_row = self.first_new
        fmt = self.template.id
        for anchor in self.order:
            customer = self.customers[anchor]
            if customer.existing is None:
                customer.row_id, customer.number = fmt.format(number), next_row
                last_id, number, next_row = number, number + 1, next_row + 1
                self._add_id(batch, customer)
                for outcome in customer.outcomes:
                    outcome.row_id, outcome.row = customer.row_id, customer.number
            self._write(batch, customer)
        if judged:
            self._judge_as_left(batch)
        return ImportPlan(batch, sorted((o for c in self.customers.values()
                                         for o in c.outcomes), key=lambda o: o.line), last_id)

    def _judge_as_left(self, batch: Batch) -> None:
        """The Status and Findings of every row the import touches, as the rules judge the
        list it leaves (a row added arrives with its findings, as a cycle would give them):
        the cell rules on those rows only, the row rules and the duplicate finder over all."""
        table, layout = self.table, self.layout
        rows = list(table.rows)
        numbers = list(table.row_numbers)
        place = {n: i for i, n in enumerate(numbers)}
        width = len(layout.headers)
        for where, w in batch.cells:
            if where != table.sheet:
                continue
            i = place.get(w.row)
            if i is None:
                i = place[w.row] = len(rows)
                rows.append((None,) * width)
                numbers.append(w.row)
            row = list(rows[i])
            row[w.column - layout.first_column] = w.value
            rows[i] = tuple(row)
        touched = {place[w.row] for where, w in batch.cells if where == table.sheet}
        if not touched:
            return
        left = dataclasses.replace(table, rows=tuple(rows), row_numbers=tuple(numbers),
                                   review=None, merged=None, sheet_xml=None)
        untouched = frozenset(range(len(rows))) - touched
        plan = plan_table(left, self.settings, judged=untouched)
        own = {self.template.status.column,
               *(c.key for c in self.template.columns if c.type == "findings")}
        ids = {numbers[i]: _id_of(rows[i][self.id_j]) for i in touched}
        for c in plan.changes:
            if c.key in own and place[c.row_number] in touched \
                    and (c.row_number, layout.columns[c.key]) not in table.formulas:
                batch.add(table.sheet, c.row_number, layout.first_column + layout.columns[c.key],
                          c.before, c.after, ids[c.row_number], c.column, c.rule, c.reason,
                          table.sheet)

    def _add_id(self, batch: Batch, customer: _Customer) -> None:
        header = self.layout.headers[self.id_j]
        batch.add(self.table.sheet, customer.number, self.layout.first_column + self.id_j, None,
                  customer.row_id, customer.row_id, header, "id", self._new_id_reason,
                  self.table.sheet)

    @functools.cached_property
    def _new_id_reason(self) -> str:
        return _("import of {file}: a new row gets the next free ID", file=self.source)

    def _write(self, batch: Batch, customer: _Customer) -> None:
        table, layout = self.table, self.layout
        before = table.rows[customer.existing] if customer.existing is not None else None
        reasons: dict[int, str] = {}     # one text a line, not one a cell (80k at 10k rows)
        for j, line in sorted(customer.filled.items()):
            if line not in reasons:
                reasons[line] = (_("import of {file} line {line}: an empty cell filled",
                                   file=self.source, line=line) if before else
                                 _("import of {file} line {line}", file=self.source, line=line))
            batch.add(table.sheet, customer.number, layout.first_column + j,
                      before[j] if before else None, customer.row[j], customer.row_id,
                      layout.headers[j], "import", reasons[line], table.sheet)
        if customer.notes and self.notes_j is not None:
            was = before[self.notes_j] if before else None
            text = "\n".join(customer.notes)
            after = f"{was}\n{text}" if not is_blank(was) else text
            if len(after) > MAX_CELL_TEXT:
                after = after[:MAX_CELL_TEXT - 60] + "\n" + render(
                    _("… cut: see {file}", file=self.source), self.layout.lang)
            batch.add(table.sheet, customer.number, layout.first_column + self.notes_j, was,
                      after, customer.row_id, layout.headers[self.notes_j], "import",
                      self._notes_reason, table.sheet)

    @functools.cached_property
    def _notes_reason(self) -> str:
        return _("import of {file}: values kept in Notes", file=self.source)


def _id_of(value: Any) -> str | None:
    return None if is_blank(value) else str(value)


def _same(current: Any, value: Any) -> bool:
    if isinstance(current, str) and isinstance(value, str):
        return current.strip().casefold() == value.strip().casefold()
    if isinstance(current, (dt.date, dt.datetime)) or isinstance(value, (dt.date, dt.datetime)):
        return same_value(current, value) or same_value(value, current)
    return same_value(current, value)
