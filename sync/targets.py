"""The seam between the sync cycle and the places a customer list lives (a workbook on disk, a
Google Sheet): what the cycle asks of each. The cycle itself (sync.cycle) and the bookkeeping of
a write (sync.writing) are the same for every target; a target only reads, and writes a batch of
cells under its guard. Nothing below this seam touches the audit log.

    target.read()                  -> SheetTable (digest included)
    target.parts(batch)            -> the batch's cells in the groups one write each can carry
    target.prepare(table, batch)   -> PreparedWrite: the guard has looked (which cells are still
                                      as read), and what the write needs is made
    prepared.commit()              -> the cells are in the target, or an error says they are not
                                      (WorkbookChanged, WorkbookBusy, WriteFailed), or that it
                                      cannot tell (WriteUncertain)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

from audit.log import ChangeRecord
from sheet_templates import Template

from .cells import CellWrite
from .table import SheetTable

Step = Callable[[str], None]    # told each step of a write by name (tests act between them)


def reading_of(templates: Sequence[Template] | None, sheet: str | None) -> str:
    """A target's `reading`: the templates it is read with and the sheet or tab it is told."""
    names = ",".join(t.name for t in templates) if templates else "built-in"
    return f"{names}|{sheet or ''}"


@dataclass
class Batch:
    """Cells to write and their audit records, built up together: cells[k] is records[k]."""

    cells: list[tuple[str, CellWrite]]
    records: list[ChangeRecord]

    @classmethod
    def empty(cls) -> "Batch":
        return cls([], [])

    def add(self, sheet: str, row: int, column: int, before: Any, after: Any, row_id: str | None,
            header: str, rule: str, reason: str, table_sheet: str) -> None:
        self.cells.append((sheet, CellWrite(row, column, after)))
        self.records.append(ChangeRecord(row_id, header, before, after, rule, reason,
                                         sheet=None if sheet == table_sheet else sheet))

    def extend(self, other: "Batch") -> None:
        self.cells += other.cells
        self.records += other.records

    def part(self, indices: Sequence[int]) -> "Batch":
        """The cells (and their records) at `indices`, in that order."""
        return Batch([self.cells[k] for k in indices], [self.records[k] for k in indices])


@dataclass(frozen=True)
class Written:
    batch: str | None            # the audit batch of what reached the sheet (None: nothing)
    done: tuple[int, ...]        # indices into the Batch's cells that were written
    moved: tuple[str, ...] = ()  # cells left because a person changed their row meanwhile
    digest: str = ""             # the sheet's digest after the write, where it is known
    # Every audit batch written, in order, where the write went out in parts (a Google Sheet's
    # bodies are bounded); `batch` is the first of them.
    batches: tuple[str, ...] = ()


class PreparedWrite(Protocol):
    """A write made ready under the target's guard, not yet committed. A context manager:
    leaving it uncommitted discards what was made."""

    done: tuple[int, ...]          # indices into the batch's cells that `commit` writes
    restyled: Mapping[int, int]    # index -> the cell's style before, where the write changes it
    digest: str                    # the target's digest once committed ("" where not known)

    def commit(self, between: Step | None = None) -> None: ...

    def __enter__(self) -> "PreparedWrite": ...

    def __exit__(self, *exc: Any) -> None: ...


class Target(Protocol):
    # After carrying out review decisions, or finding the sheet changed under a write: read
    # again within the cycle (a workbook), or leave the rest to the next cycle, which the
    # change itself sets off (a Google Sheet, where every read is a request against a quota).
    reads_again: bool
    # A batch reaches the target whole or not at all (a workbook's swap, a Google
    # values:batchUpdate); False where it goes a block at a time (a workbook open in Excel), so
    # a batch cut off part way is settled cell by cell (writing.settle_pending).
    writes_whole: bool

    @property
    def key(self) -> str:
        """The target's name in the audit log and the data folder."""

    @property
    def reading(self) -> str:
        """How the target is read (which templates, which sheet): a judgement depends on it."""

    def peek(self) -> str | None:
        """The digest a read would give, where it costs much less than a read (a file's
        SHA-256); None where only a read can tell."""

    def read(self) -> SheetTable:
        """The table as it stands."""

    def parts(self, batch: Batch) -> list[list[int]]:
        """`batch`'s cells (their indices) in the groups one write each can carry, in order:
        each is guarded, recorded and committed as a batch of its own. All in one group where
        a write has no bound (a workbook is replaced whole)."""

    def prepare(self, table: SheetTable, batch: Batch) -> PreparedWrite:
        """Ready to write `batch` into the rows still as `table` read them. Raises
        WorkbookChanged when none can be (the target changed: read it again)."""


def first_columns(table: SheetTable) -> dict[str, int]:
    """Where each tab's rows start (0-based column) for a target whose guard re-reads rows:
    the table's first column, and column A of every side tab."""
    out = {table.sheet: table.layout.first_column}
    for tab in table.side_tabs:
        out[tab.name] = 0
    return out


def rows_as_read(table: SheetTable, batch: Batch) -> dict[tuple[str, int], list[Any]]:
    """Each row about to be written as the cycle read it (from its first column): the guard's
    reference for whether it is still the row the batch was planned for, in a target that
    re-reads rows before writing (a Google Sheet, a workbook open in Excel). A line about to
    be added to a side tab must still be empty."""
    out: dict[tuple[str, int], list[Any]] = {}
    table_rows = dict(zip(table.row_numbers, table.rows))
    width = len(table.layout.headers)
    sides = {t.name: (t, dict(t.rows)) for t in table.side_tabs}
    for tab, w in batch.cells:
        if (tab, w.row) in out:
            continue
        if tab == table.sheet:
            out[(tab, w.row)] = list(table_rows.get(w.row, [None] * width))
        else:
            side, lines = sides.get(tab, (None, {}))
            row = lines.get(w.row, ())
            span = max(len(side.headers) if side else 0, len(row), w.column + 1)
            out[(tab, w.row)] = list(row) + [None] * (span - len(row))
    return out
