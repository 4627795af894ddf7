"""The immutable snapshot of one table that a sync cycle works on.

Rows keep their sheet row numbers so that findings point at what a person sees; planning keys
everything else on the row's ID, never on its position.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

from rules.ids import id_number
from sheet_templates import Template


@dataclass(frozen=True)
class Layout:
    """Where the template's columns are in this sheet: found by header, never by position."""

    template: Template
    lang: str
    header_row: int                   # 1-based sheet row of the header
    headers: tuple[str, ...]          # header texts as they stand, one per table column
    first_column: int                 # 0-based sheet column of headers[0]
    columns: Mapping[str, int]        # template column key -> index into headers
    notes: tuple[str, ...] = ()       # things worth telling about the header (ignored twins)

    def index(self, key: str) -> int | None:
        return self.columns.get(key)

    def position(self, header: str) -> int | None:
        """Where the column a header names stands now: by its text, or, for a template column
        a person has since renamed to another of its names (Phone -> Mobile, 电话), by that
        column. What the audit log and the seen state recorded under the old header is
        found under the new one."""
        if header in self._by_header:
            return self._by_header[header]
        key = self.template.key_of(header)
        return None if key is None else self.columns.get(key)

    @functools.cached_property
    def _by_header(self) -> dict[str, int]:
        return {h: j for j, h in enumerate(self.headers) if h}


@dataclass(frozen=True)
class SideTab:
    """A tab sheetkeeper keeps beside the table (Review, Merged): its header and rows."""

    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]   # (1-based row number, values)
    # (1-based row number, 0-based column) of the formula cells: the sheet's, never written
    formulas: frozenset[tuple[int, int]] = frozenset()

    @classmethod
    def from_rows(cls, name: str, rows: Sequence[Sequence[Any]]) -> "SideTab":
        """From the tab's grid (header first; "" or None for an empty cell): blank lines are
        dropped, every other keeps its row number."""
        if not rows:
            return cls(name, (), ())
        headers = tuple("" if h is None else str(h).strip() for h in rows[0])
        body = []
        for r, row in enumerate(rows[1:], start=1):
            # Counted in C: a ledger tab is a few hundred thousand rows.
            empty = row.count("") + row.count(None)
            if empty == len(row):
                continue
            body.append((r + 1, tuple([None if v == "" else v for v in row]) if empty
                         else tuple(row)))
        return cls(name, headers, tuple(body))

    @property
    def next_row(self) -> int:
        return (self.rows[-1][0] if self.rows else 1) + 1

    def column(self, header: str) -> int | None:
        return self.headers.index(header) if header in self.headers else None


class TableFacts(NamedTuple):
    """What a report says about the table it looked at: all a quiet cycle needs to remember of
    it to report without reading it again."""

    source: str
    sheet: str
    rows: int
    template: str
    lang: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetTable:
    """Header + data rows of one sheet, values as read (None for an empty cell)."""

    source: str                       # the workbook path or sheet key, for messages
    sheet: str
    layout: Layout
    rows: tuple[tuple[Any, ...], ...]  # data rows (blank rows dropped), aligned to headers
    row_numbers: tuple[int, ...]      # 1-based sheet row number of each data row
    formulas: frozenset[tuple[int, int]] = field(default=frozenset())  # (row_number, index)
    # Cells showing an error (#N/A, #REF!) by (row_number, index): never written, like a
    # formula's, and reported for what they show, not as empty.
    errors: Mapping[tuple[int, int], str] = field(default_factory=dict)
    list_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # from Lists tab
    digest: str = ""                  # SHA-256 of the bytes read: what a write checks first
    review: SideTab | None = None
    merged: SideTab | None = None
    # The ledger tabs found (Purchases, Follow-ups…), by the template ledger's key.
    ledgers: Mapping[str, SideTab] = field(default_factory=dict)
    # The sheet's XML as read, where the reader was asked to keep it: a write patches it
    # without decompressing it again (a quarter of a second at 100k rows). Not part of what
    # the table is.
    sheet_xml: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def side_tabs(self) -> tuple[SideTab, ...]:
        """Every tab read beside the table that a write may go to: Review, Merged, ledgers."""
        return tuple(t for t in (self.review, self.merged, *self.ledgers.values()) if t)

    @property
    def facts(self) -> TableFacts:
        return TableFacts(self.source, self.sheet, len(self.rows), self.layout.template.name,
                          self.layout.lang, tuple(self.layout.notes))

    @functools.cached_property
    def row_ids(self) -> tuple[tuple[str | None, ...], tuple[int | None, ...]]:
        """Each row's ID as it stands, written the template's way where it is recognisable
        (else as typed; None where empty), and its number (None where not recognisable).
        Parsed once per read: the cycle and the plan both key every row on it."""
        fmt = self.layout.template.id
        j = self.layout.index(fmt.column)
        if j is None:
            return (None,) * len(self.rows), (None,) * len(self.rows)
        ids, numbers = [], []
        prefix, start = fmt.prefix, len(fmt.prefix)
        width = start + fmt.digits
        for row in self.rows:
            value = row[j]
            # Written the template's way already (nearly every row): it is its own ID.
            if type(value) is str and len(value) == width and value.startswith(prefix):
                digits = value[start:]
                if digits.isascii() and digits.isdigit() and (number := int(digits)):
                    ids.append(value)
                    numbers.append(number)
                    continue
            number = id_number(value, fmt)
            numbers.append(number)
            ids.append(fmt.format(number) if number is not None else
                       (None if value in (None, "") else str(value)))
        return tuple(ids), tuple(numbers)

    @functools.cached_property
    def by_id(self) -> dict[str, int]:
        """Each ID's row (index), the first where an ID is repeated: where an audited cell of
        that row is, for an undo, a merge or settling a batch."""
        out: dict[str, int] = {}
        for i, rid in enumerate(self.row_ids[0]):
            if rid is not None:
                out.setdefault(rid, i)
        return out
