"""Planning: running the rules over a table snapshot. Pure: a SheetTable in, a Plan out.

The plan says what would change (each CellChange with its rule, reason, before and after), what a
person should look at (Findings, the value left as typed), and which rows are the same person
(DuplicateMatch). Formula cells are never touched or judged: they are the sheet's, not a person's
typing.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Sequence

from i18n import _, _n, load, render
from rules.choices import ChoiceMatcher, normalise_choice
from rules.dates import normalise_date
from rules.email import normalise_email
from rules.ids import next_free, normalise_id
from rules.outcome import Outcome, is_blank
from rules.phone import normalise_phone
from rules.money import normalise_money
from rules.text import normalise_name, normalise_tags, normalise_text
from sheet_templates import Column

from .cells import MAX_CELL_TEXT
from .evaluate import ColumnJob, Results, evaluate
from .forked import Beside, fork_pays
from .ledgers import EntryFinding, TabChange, plan_ledgers
from .rollups import roll_up, value_findings
from .row_rules import RowFindings, judge_rows
from .settings import RuleSettings
from .table import SheetTable, TableFacts

if TYPE_CHECKING:
    from rules.duplicates import IdentityColumns

# Columns sheetkeeper fills itself: they do not make a row "non-empty".
_OWN_TYPES = ("id", "status", "findings")


class CellChange(NamedTuple):
    row_number: int
    row_id: str | None
    column: str          # the header text as it stands in the sheet
    key: str             # the template column key
    before: Any
    after: Any
    rule: str
    reason: str


class Finding(NamedTuple):
    row_number: int
    row_id: str | None
    column: str | None
    kind: str
    message: str


class DuplicateMatch(NamedTuple):
    rows: tuple[int, int]
    ids: tuple[str | None, str | None]
    kind: str
    score: float
    reason: str


@dataclass(frozen=True)
class Plan:
    table: SheetTable | None     # None: a quiet cycle that knew the bytes and did not read them
    region: str | None
    changes: tuple[CellChange, ...] = ()
    findings: tuple[Finding, ...] = ()
    duplicates: tuple[DuplicateMatch, ...] = ()
    # (row ID, header, kind, why) of each cell a cell rule left as typed: the outcome the next
    # cycle can state again without judging the same value again.
    problems: tuple[tuple[str, str, str, str], ...] = ()
    remembered: TableFacts | None = None     # the table's facts, where it was not read
    # The ledger tabs' (Purchases, Follow-ups…): normalised cells, IDs written in, findings.
    ledger_changes: tuple[TabChange, ...] = ()
    entry_findings: tuple[EntryFinding, ...] = ()

    @property
    def facts(self) -> TableFacts:
        return self.remembered or self.table.facts

    @property
    def clean(self) -> bool:
        return not (self.changes or self.findings or self.duplicates or self.ledger_changes
                    or self.entry_findings)

    def values_after(self) -> list[list[Any]]:
        """The table's rows as they will be once every change of the plan is written."""
        rows = [list(r) for r in self.table.rows]
        index = {n: i for i, n in enumerate(self.table.row_numbers)}
        for c in self.changes:
            rows[index[c.row_number]][self.table.layout.columns[c.key]] = c.after
        return rows

    def flagged_cells(self) -> set[tuple[int, str]]:
        """(row index, column key) of every value left as typed with a finding."""
        index = {n: i for i, n in enumerate(self.table.row_numbers)}
        key_of = {self.table.layout.headers[j]: k for k, j in self.table.layout.columns.items()}
        return {(index[f.row_number], key_of[f.column]) for f in self.findings
                if f.column in key_of}


def plan_table(table: SheetTable, settings: RuleSettings,
               judged: frozenset[int] = frozenset(),
               recheck: frozenset[tuple[int, int]] = frozenset(),
               restate: Mapping[tuple[int, int], tuple[str, str]] | None = None) -> Plan:
    """`judged`: rows (indices) the previous cycle already judged; their cells are not run
    through the cell rules again (pure rules: same value, same settings, same outcome), except
    `recheck` cells (row index, column index). `restate`: cells of judged rows the previous
    cycle left as typed, with the (kind, why) it found, stated again as they were. Row rules
    (statuses, what is missing) look at every row, by its values (sync.row_rules); IDs and
    duplicates look at every row."""
    work = _Work.of(table, settings)
    # IDs first, so every change on a new row carries the ID the row is about to get.
    work.changes += _assign_ids(table, work.live, work.effective, work.ids, work.id_numbers,
                                settings, work.is_formula)
    _judge_cells(work, judged, recheck, restate or {})
    identity = identity_columns(table, work.live, work.effective, work.invalid)
    labels = {k: table.layout.headers[j] for k, j in table.layout.columns.items()}
    # Finding duplicates takes a second at 100k rows: a forked child does it meanwhile.
    from rules.duplicates import find_duplicates   # numpy and rapidfuzz: only when planning
    with Beside(find_duplicates, identity, labels=labels,
                pays=fork_pays(len(work.live))) as later:
        ledger_plan = _roll_up(work)
        _judge_rows(work)
        pairs = later.result()
    ids = work.ids
    duplicates = [DuplicateMatch(rows=(table.row_numbers[p.a], table.row_numbers[p.b]),
                                 ids=(ids[p.a], ids[p.b]), kind=p.kind, score=p.score,
                                 reason=p.reason) for p in pairs
                  if frozenset((ids[p.a], ids[p.b])) not in settings.kept_pairs]
    work.changes += _findings_column(table, work.live, ids, work.findings, duplicates)
    # Stable sorts: within a row, changes and findings keep the order the rules made them in.
    work.changes.sort(key=attrgetter("row_number"))
    work.findings.sort(key=attrgetter("row_number"))
    return Plan(table=table, region=work.region, changes=tuple(work.changes),
                findings=tuple(work.findings), duplicates=tuple(duplicates),
                problems=tuple(work.problems), ledger_changes=tuple(ledger_plan.changes),
                entry_findings=tuple(ledger_plan.findings))


@dataclass
class _Work:
    """A plan in the making: the rows as the rules leave them, and what they said so far."""

    table: SheetTable
    settings: RuleSettings
    region: str | None
    live: list[int]
    ids: list[str | None]
    id_numbers: list[int | None]
    formula_rows: dict[int, set[int]]                 # column -> rows (indices) of formulas
    effective: list[Any] = field(default_factory=list)  # the table's tuples, copied on change
    invalid: set[tuple[int, str]] = field(default_factory=set)  # (row, key) left as typed
    changes: list[CellChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, table: SheetTable, settings: RuleSettings) -> "_Work":
        layout, template = table.layout, table.layout.template
        live = _live(table.rows, {j for c in template.columns if c.type in _OWN_TYPES
                                  and (j := layout.index(c.key)) is not None})
        row_index = {n: i for i, n in enumerate(table.row_numbers)}
        formula_rows: dict[int, set[int]] = defaultdict(set)
        for number, j in table.formulas:
            formula_rows[j].add(row_index.get(number, -1))
        return cls(table, settings,
                   settings.phone_region or template.default_phone_region(layout.lang),
                   live, *_row_ids(table, live), formula_rows, list(table.rows))

    def is_formula(self, i: int, j: int) -> bool:
        return i in self.formula_rows.get(j, ())


def _judge_cells(work: _Work, judged: frozenset[int], recheck: frozenset[tuple[int, int]],
                 restate: Mapping[tuple[int, int], tuple[str, str]]) -> None:
    """The cell rules, column by column, on the cells not judged before (see plan_table)."""
    layout = work.table.layout
    # Only rows with something to judge: a cycle after one edit runs the rules on one row
    # (and the flagged cells), not on the whole table.
    fresh = [i for i in work.live if i not in judged] if judged else work.live
    jobs, where = _cell_jobs(work, fresh if judged else None, recheck)
    todo = sorted(set(fresh) | {i for i, _ in recheck}) if recheck else fresh
    known: dict[int, Results] = defaultdict(list)
    for (i, j), (kind, why) in restate.items():
        if i in judged and (i, j) not in recheck:
            known[j].append((i, False, kind, load(why)))
    for (key, j), results in zip(where, evaluate(jobs, todo, len(fresh) * len(jobs)
                                                 + len(recheck))):
        # Rows differ between the two lists; the findings are sorted by row at the end.
        _take(work, key, layout.headers[j], j, results + known[j] if j in known else results)


def _cell_jobs(work: _Work, fresh: list[int] | None, recheck: frozenset[tuple[int, int]]
               ) -> tuple[list[ColumnJob], list[tuple[str, int]]]:
    """A job per column with a cell rule: its values (only the cells to judge, the rest None,
    where `fresh` says which rows are new), and where it stands."""
    table, layout, template = work.table, work.table.layout, work.table.layout.template
    rows = table.rows
    again: dict[int, list[int]] = defaultdict(list)     # column -> rows of cells to recheck
    for i, j in recheck:
        again[j].append(i)
    jobs, where = [], []
    for key, j in layout.columns.items():
        column = template.column(key)
        rule = _cell_rule(column, table, work.region, work.settings)
        if rule is None:
            continue
        if fresh is not None:
            values: list[Any] = [None] * len(rows)
            for i in chain(fresh, again.get(j, ())):
                values[i] = rows[i][j]
        else:
            values = [row[j] for row in rows]
        jobs.append(ColumnJob(column.type, rule, values,
                              frozenset(work.formula_rows.get(j, ()))))
        where.append((key, j))
    return jobs, where


def _take(work: _Work, key: str, header: str, j: int, results: Results) -> None:
    """One column's outcomes: a change is made in `effective`, a value left as typed is a
    finding (and a problem the next cycle can state again without judging it)."""
    rows, numbers, ids = work.table.rows, work.table.row_numbers, work.ids
    type_ = work.table.layout.template.column(key).type
    for i, is_change, what, why in results:
        if is_change:
            _put(work.effective, i, j, what)
            # _make checks the number of fields (a field added to CellChange fails loudly)
            work.changes.append(CellChange._make((numbers[i], ids[i], header, key, rows[i][j],
                                                  what, type_, why)))
        else:
            work.invalid.add((i, key))
            work.findings.append(Finding(numbers[i], ids[i], header, what, said_of(header, why)))
            if ids[i]:
                work.problems.append((ids[i], header, what, why))


def said_of(header: str, why: str) -> str:
    """A finding about a cell: its header first, as the sheet's colour rule looks for it."""
    # TRANSLATORS: keep "{column}: " as it is (an ASCII colon and a space): the sheet's colour
    # rule finds the cell a Findings line is about by its header followed by ":".
    return _("{column}: {why}", column=header, why=why)


def _roll_up(work: _Work):
    """The ledger tabs' entries, and what they make of each customer's row: the roll-up
    columns (in `effective` before the statuses are judged: a purchase is contact), the tier
    by the team's rule, churn warnings and birthdays."""
    table, settings = work.table, work.settings
    ledger_plan = plan_ledgers(table, work.live, work.effective, work.ids, work.region,
                               partial(_cell_rule, table=table, region=work.region,
                                       settings=settings))
    rolled = roll_up(table, work.live, work.effective, ledger_plan.entries, settings.today,
                     settings.value)
    said, tiers = value_findings(table, work.live, work.effective, ledger_plan.entries,
                                 settings.today, settings.value,
                                 settings.thresholds.churned_days)
    # A formula cell is the sheet's (a team's own =SUMIF over the Purchases tab): never set.
    columns = table.layout.columns
    computed = [v for v in rolled + tiers if not work.is_formula(v.index, columns[v.key])]
    if computed:
        _set(work, computed)
    numbers, ids = table.row_numbers, work.ids
    work.findings += [Finding(numbers[f.index], ids[f.index], f.column, f.kind, f.message)
                      for f in said]
    return ledger_plan


def _set(work: _Work, values) -> None:
    """Computed values into the customer rows: each replaces what a cell rule made of the
    cell, and what it found there (the computed value is the cell's now)."""
    layout, table = work.table.layout, work.table
    cells = {(table.row_numbers[v.index], v.key) for v in values}
    work.changes = [c for c in work.changes if (c.row_number, c.key) not in cells]
    headers = {(table.row_numbers[v.index], layout.headers[layout.columns[v.key]])
               for v in values}
    work.findings = [f for f in work.findings if (f.row_number, f.column) not in headers]
    named = {(work.ids[v.index], layout.headers[layout.columns[v.key]]) for v in values}
    work.problems = [p for p in work.problems if (p[0], p[1]) not in named]
    for v in values:
        i, j = v.index, layout.columns[v.key]
        work.invalid.discard((i, v.key))
        rule = "tier" if v.key == "tier" else "rollup"
        work.changes.append(CellChange(table.row_numbers[i], work.ids[i], layout.headers[j],
                                       v.key, table.rows[i][j], v.value, rule, v.reason))
        _put(work.effective, i, j, v.value)


def _judge_rows(work: _Work) -> None:
    """What looks at a row as a whole, or at the whole table: IDs given twice, what a row
    lacks, errors shown, statuses."""
    table, ids = work.table, work.ids
    work.findings += _duplicate_ids(table, work.live, ids, work.id_numbers)
    verdicts = judge_rows(table, work.live, work.effective, work.invalid,
                          work.settings.today, work.settings.thresholds)
    work.findings += _row_findings(table, ids, verdicts.missing)
    work.findings += _errors_shown(table, ids)
    work.changes += _status_changes(table, work.effective, ids, verdicts)
    work.findings += _row_findings(table, ids, verdicts.status_findings)


def _live(rows: Sequence[tuple[Any, ...]], own: set[int]) -> list[int]:
    """Rows (indices) with a value in a column of their own: an ID, a status or findings
    alone do not make a row."""
    live = []
    for i, row in enumerate(rows):
        filled = len(row) - row.count(None)
        # Counted in C: more values than sheetkeeper's own columns can hold settles most rows.
        if filled > len(own) or (filled and any(
                v is not None for j, v in enumerate(row) if j not in own)):
            live.append(i)
    return live


def _put(effective: list[Any], i: int, j: int, value: Any) -> None:
    row = effective[i]
    if type(row) is tuple:
        row = effective[i] = list(row)
    row[j] = value


def _cell_rule(column: Column, table: SheetTable, region: str | None,
               settings: RuleSettings) -> Callable[[Any], Outcome] | None:
    template, lang = table.layout.template, table.layout.lang
    if column.type in ("id", "ref"):
        return partial(normalise_id, fmt=template.id)
    if column.type == "choice":
        matcher = ChoiceMatcher.for_list(template.lists[column.list], lang, column.key,
                                         table.list_values.get(column.list, ()))
        return partial(normalise_choice, matcher=matcher)
    simple = {
        "name": normalise_name,
        "text": normalise_text,
        "phone": partial(normalise_phone, region=region),
        "email": normalise_email,
        "date": partial(normalise_date, order=settings.date_order),
        "money": normalise_money,
        "number": normalise_money,
        "tags": normalise_tags,
    }
    return simple.get(column.type)  # status, notes, findings: handled elsewhere or left alone


def _row_ids(table: SheetTable, live: list[int]) -> tuple[list[str | None], list[int | None]]:
    """Each live row's ID and its number (see SheetTable.row_ids); None for the other rows."""
    ids: list[str | None] = [None] * len(table.rows)
    numbers: list[int | None] = [None] * len(table.rows)
    all_ids, all_numbers = table.row_ids
    for i in live:
        ids[i], numbers[i] = all_ids[i], all_numbers[i]
    return ids, numbers


def _assign_ids(table, live, effective, ids, numbers, settings, is_formula) -> list[CellChange]:
    fmt = table.layout.template.id
    j = table.layout.index(fmt.column)
    if j is None:
        return []
    number = next_free([n for n in numbers if n is not None], settings.ids_issued)
    changes = []
    for i in live:
        # A row with an ID's number is not blank there: only the others are looked at.
        if numbers[i] is None and is_blank(effective[i][j]) and not is_formula(i, j):
            new_id = fmt.format(number)
            number += 1
            changes.append(CellChange(table.row_numbers[i], new_id, table.layout.headers[j],
                                      fmt.column, table.rows[i][j], new_id, "id",
                                      _("a new row gets the next free ID")))
            _put(effective, i, j, new_id)
            ids[i], numbers[i] = new_id, number - 1
    return changes


def _duplicate_ids(table, live, ids, numbers) -> list[Finding]:
    fmt = table.layout.template.id
    j = table.layout.index(fmt.column)
    if j is None:
        return []
    first_row: dict[int, int] = {}
    findings = []
    for i in live:
        number = numbers[i]
        if number is None:
            continue
        if number in first_row:
            findings.append(Finding(
                table.row_numbers[i], ids[i], table.layout.headers[j], "duplicate_id",
                said_of(table.layout.headers[j], _(
                    "{id} is also the ID of row {row}; IDs must be unique. If this is the "
                    "same person, merge the rows; if not, clear this cell to get a new ID",
                    id=fmt.format(number), row=table.row_numbers[first_row[number]]))))
        else:
            first_row[number] = i
    return findings


def _errors_shown(table: SheetTable, ids) -> list[Finding]:
    """A cell showing an error (#N/A, #REF!): said as what it is, never written over."""
    if not table.errors:
        return []
    index = {n: i for i, n in enumerate(table.row_numbers)}
    out = []
    for (number, j), shown in sorted(table.errors.items()):
        if number in index and (header := table.layout.headers[j]):
            out.append(Finding(number, ids[index[number]], header, "error_value",
                               said_of(header, _("shows the error {error}; correct the value "
                                                 "or the formula it comes from", error=shown))))
    return out


def _row_findings(table: SheetTable, ids, said) -> list[Finding]:
    numbers = table.row_numbers
    return [Finding(numbers[i], ids[i], header, kind, message)
            for i, (header, kind, message) in said]


def _status_changes(table: SheetTable, effective, ids, verdicts: RowFindings
                    ) -> list[CellChange]:
    """The Status cells the row rules set: each change is also made in `effective`."""
    j = verdicts.status_column
    if j is None:
        return []
    header, key = table.layout.headers[j], table.layout.template.status.column
    changes = []
    for i, value, rule, reason in verdicts.status_changes:
        changes.append(CellChange(table.row_numbers[i], ids[i], header, key, table.rows[i][j],
                                  value, rule, reason))
        _put(effective, i, j, value)
    return changes


def _findings_column(table, live, ids, findings, duplicates) -> list[CellChange]:
    """The Findings helper column: each row's findings in words, one per line. A line about a
    cell starts with that cell's header (the sheet's colour rule tints the cell by it); a
    duplicate line starts with the template's marker (the rule tints the row)."""
    layout, template = table.layout, table.layout.template
    column = template.column_of_type("findings")
    j = layout.index(column.key) if column else None
    if j is None:
        return []
    index = {n: i for i, n in enumerate(table.row_numbers)}
    lines: dict[int, list[str]] = defaultdict(list)
    for f in findings:
        lines[index[f.row_number]].append(f.message)
    marker = template.word("words", "duplicate_marker", layout.lang)
    for d in duplicates:
        for me, other, other_id in ((d.rows[0], d.rows[1], d.ids[1]),
                                    (d.rows[1], d.rows[0], d.ids[0])):
            lines[index[me]].append(duplicate_line(marker, d, other, other_id))
    changes = []
    for i in live:
        text = _within_a_cell(lines[i], layout.lang) if lines.get(i) else None
        current = table.rows[i][j]
        if text != (current if current not in ("", None) else None):
            changes.append(CellChange(table.row_numbers[i], ids[i], layout.headers[j],
                                      column.key, current, text, "findings",
                                      _("what sheetkeeper found in this row") if text else
                                      _("nothing left to report in this row")))
    return changes


# The kinds of a duplicate pair (its machine key) in words.
DUPLICATE_KINDS = {"certain": _("certain"), "possible": _("possible")}


def duplicate_line(marker: str, d: DuplicateMatch, other: int, other_id: str | None) -> str:
    """A Findings line about a duplicate: the template's marker first (the sheet's colour rule
    tints the row by it)."""
    who = (_("{id} (row {row})", id=other_id, row=other) if other_id
           else _("row {row}", row=other))
    kind = DUPLICATE_KINDS.get(d.kind, d.kind)
    return _("{marker} {kind} duplicate of {who}: {reason}", marker=marker, kind=kind, who=who,
             reason=d.reason)


def _within_a_cell(lines: list[str], lang: str) -> str:
    """The lines in the sheet's language, one per line, cut where a cell would overflow (a row
    that is a possible duplicate of hundreds of others): `check` and `--report json` still
    list them all."""
    lines = [render(line, lang) for line in lines]
    text = "\n".join(lines)
    if len(text) <= MAX_CELL_TEXT:
        return text
    kept, size = [], 0
    for line in lines:
        if size + len(line) + 1 > MAX_CELL_TEXT - 80:
            break
        kept.append(line)
        size += len(line) + 1
    more = len(lines) - len(kept)
    return "\n".join([*kept, render(_n("… and {n} more (sheetkeeper check lists them all)",
                                       "… and {n} more (sheetkeeper check lists them all)",
                                       more, n=more), lang)])


def identity_columns(table: SheetTable, live: list[int], effective: list[list[Any]],
                     invalid: set[tuple[int, str]]) -> IdentityColumns:
    """What dedupe needs of the live rows, from the values as the plan leaves them."""
    layout, spec = table.layout, table.layout.template.duplicates
    # Where each row stands among the live ones: needed only to blank the values left as typed.
    place = {i: n for n, i in enumerate(live)} if invalid else {}

    def column(key: str, trusted: bool) -> list[str]:
        j = layout.index(key)
        if j is None:
            return [""] * len(live)
        # Most values are text already: only the others pay for a call.
        values = [effective[i][j] for i in live]
        out = [v if type(v) is str else _identity_text(v) for v in values]
        if trusted:
            # Identity (certain) values must have passed their rule; supporting values only
            # need to agree, so even an invalid phone's digits can back a similar name.
            for i in {i for i, k in invalid if k == key}:
                if i in place:
                    out[place[i]] = ""
        return out

    from rules.duplicates import IdentityColumns
    kinds = {k: layout.template.column(k).type for k in (*spec.certain, *spec.supporting)}
    return IdentityColumns(live, column(spec.name, True),
                           {k: column(k, True) for k in spec.certain},
                           {k: column(k, False) for k in spec.supporting}, kinds)


def _identity_text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)
