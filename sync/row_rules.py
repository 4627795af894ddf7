"""The rules that look at a whole row once its cells are judged: what it lacks (required values,
a way to reach the person) and what its status is.

A row's verdict depends on its values alone (with the sheet's layout, the day and the
thresholds), so it is remembered by them: in the running service, a cycle after one edit judges
the one row that changed, and finds every other row's verdict by its values. A row whose values
are the same is the same verdict by construction, so the remembered result cannot differ from
judging again (a property test holds this). Only the verdicts of the last plan of each table
are kept: memory is one table's rows, most of them shared with the table itself.
"""
from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any, NamedTuple, Sequence

from i18n import _
from rules.choices import ChoiceMatcher, normalise_choice
from rules.outcome import Problem, is_blank
from rules.status import classify_status

from .table import SheetTable

# Tables whose verdicts are kept (the service watching many workbooks): the least recently
# planned goes first.
REMEMBERED_TABLES = 32
_NOTHING: frozenset = frozenset()


Said = tuple[str, str, str]     # a finding: (header, kind, message)


class RowVerdict(NamedTuple):
    missing: tuple[Said, ...]
    status: tuple[Any, str, str] | None         # the Status cell's (value, rule, reason)
    status_said: Said | None                    # a Status value no list entry matches


class RowFindings(NamedTuple):
    """The verdicts of every live row, as the plan takes them: in row order."""

    missing: list[tuple[int, Said]]                     # (row index, finding)
    status_changes: list[tuple[int, Any, str, str]]     # (row index, value, rule, reason)
    status_findings: list[tuple[int, Said]]
    status_column: int | None
    judged: list[int]             # rows (indices) judged now: the others were remembered


class _Judge:
    """What judging a row needs of the table, worked out once per plan."""

    def __init__(self, table: SheetTable, today: dt.date, thresholds):
        layout, template = table.layout, table.layout.template
        self.required = [(layout.index(c.key), layout.headers[layout.index(c.key)])
                         for c in template.columns
                         if c.required and layout.index(c.key) is not None]
        groups = [[layout.index(k) for k in group] for group in template.required_any]
        self.groups = [(g, layout.headers[g[0]], _either([layout.headers[j] for j in g]))
                       for g in ([j for j in group if j is not None] for group in groups) if g]
        spec = template.status
        self.status_j = layout.index(spec.column)
        if self.status_j is not None:
            self.header = layout.headers[self.status_j]
            self.choices = template.lists[template.column(spec.column).list]
            self.matcher = ChoiceMatcher.for_list(self.choices, layout.lang, spec.column)
            self.start = (layout.index(spec.start), spec.start)
            self.activity = [(layout.index(k), k) for k in (spec.activity, *spec.also)]
        self.lang, self.today, self.thresholds = layout.lang, today, thresholds

    def __call__(self, row: Sequence[Any], bad: frozenset[str], formulas: frozenset[int]
                 ) -> RowVerdict:
        status = self._status(row, bad, formulas)
        if isinstance(status, Problem):
            return RowVerdict(self._missing(row, formulas), None,
                              (self.header, status.kind, _said_of(self.header, status.message)))
        return RowVerdict(self._missing(row, formulas), status, None)

    def _missing(self, row, formulas) -> tuple[tuple[str, str, str], ...]:
        def empty(j: int) -> bool:
            return is_blank(row[j]) and j not in formulas

        out = [(header, "missing_value",
                _said_of(header, _("is empty; every row needs one")))
               for j, header in self.required if empty(j)]
        for group, header, names in self.groups:
            if all(map(empty, group)):
                out.append((header, "missing_contact",
                            _("no {columns}: add at least one way to reach this person",
                              columns=names)))
        return tuple(out)

    def _status(self, row, bad, formulas) -> tuple[Any, str, str] | Problem | None:
        """The Status cell's new (value, rule, reason), a value that matches no entry of its
        list, or None: the cell stays as it is."""
        j = self.status_j
        if j is None or j in formulas:
            return None
        # The latest of the activity dates: a purchase is contact too (a loop, not max() over
        # a generator: every row of a first look comes here).
        activity = None
        for k, key in self.activity:
            d = self._date(row, bad, k, key)
            if d is not None and (activity is None or d > activity):
                activity = d
        decision = classify_status(self._date(row, bad, *self.start), activity,
                                   self.today, self.thresholds)
        current = row[j]
        if decision is not None:
            target = self.choices.by_key(decision.key).label(self.lang)
            rule, reason = "status", decision.reason
        elif current is None:
            return None
        else:
            outcome = normalise_choice(current, self.matcher)
            if outcome is None or isinstance(outcome, Problem):
                return outcome
            target, rule, reason = outcome.value, "choice", outcome.reason
        return (target, rule, reason) if target != current else None

    @staticmethod
    def _date(row, bad, k: int | None, key: str) -> dt.date | None:
        if k is None or key in bad:
            return None
        value = row[k]
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else None


def _said_of(header: str, why: str) -> str:
    # The same words as plan.said_of (which imports this module): "Header: why".
    return _("{column}: {why}", column=header, why=why)


def _either(headers: list[str]) -> str:
    """"Phone or Email": any of the columns."""
    text = headers[0]
    for header in headers[1:]:
        text = _("{columns} or {column}", columns=text, column=header)
    return text


# (source, sheet) -> (what the verdicts depend on, {(row, bad, formulas): verdict})
_remembered: OrderedDict[tuple[str, str], tuple[tuple, dict]] = OrderedDict()


def judge_rows(table: SheetTable, live: Sequence[int], effective: Sequence[Sequence[Any]],
               invalid: set[tuple[int, str]], today: dt.date, thresholds) -> RowFindings:
    """Each live row's verdict on `effective` (its values once the cell rules are applied);
    `invalid`: (row index, column key) of values left as typed, which a status does not
    trust."""
    layout = table.layout
    judge = _Judge(table, today, thresholds)
    # The template by identity (it is not hashable; the entry holds it, so the identity cannot
    # be taken by another), the rest by value.
    depends = (layout.template, layout.lang, layout.headers, tuple(layout.columns.items()),
               today, thresholds)
    place = (table.source, table.sheet)
    before = _remembered.pop(place, None)
    known = before[1] if before is not None and _same(before[0], depends) else {}
    bad_by_row: dict[int, set[str]] = {}
    for i, key in invalid:
        bad_by_row.setdefault(i, set()).add(key)
    index = {n: i for i, n in enumerate(table.row_numbers)}
    formulas_by_row: dict[int, set[int]] = {}
    for number, j in table.formulas:
        formulas_by_row.setdefault(index.get(number, -1), set()).add(j)

    kept: dict = {}
    found = RowFindings([], [], [], judge.status_j, [])
    for i in live:
        row = effective[i]
        key = (row if type(row) is tuple else tuple(row),
               frozenset(bad_by_row[i]) if i in bad_by_row else _NOTHING,
               frozenset(formulas_by_row[i]) if i in formulas_by_row else _NOTHING)
        verdict = known.get(key)
        if verdict is None:
            verdict = judge(*key)
            found.judged.append(i)
        kept[key] = verdict
        for finding in verdict.missing:
            found.missing.append((i, finding))
        if verdict.status is not None:
            found.status_changes.append((i, *verdict.status))
        if verdict.status_said is not None:
            found.status_findings.append((i, verdict.status_said))
    _remembered[place] = (depends, kept)
    while len(_remembered) > REMEMBERED_TABLES:
        _remembered.popitem(last=False)
    return found


def _same(a: tuple, b: tuple) -> bool:
    return a[0] is b[0] and a[1:] == b[1:]


def forget() -> None:
    """Judge every row anew from here on (tests compare a remembered plan with a fresh one)."""
    _remembered.clear()
