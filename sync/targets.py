"""What a sync cycle needs of the place a customer list lives (a workbook on disk, a Google
Sheet): read it, settle what a broken-off cycle left pending, and write a batch of cells
without overwriting a person. The cycle itself (sync.cycle) is the same for every target."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ContextManager, Protocol

from audit.log import AuditLog, ChangeRecord

from .table import SheetTable
from .xlsx.write import CellWrite


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


@dataclass(frozen=True)
class Written:
    batch: str | None            # the audit batch of what reached the sheet (None: nothing)
    done: tuple[int, ...]        # indices into the Batch's cells that were written
    moved: tuple[str, ...] = ()  # cells left because a person changed their row meanwhile
    digest: str = ""             # the sheet's digest after the write, where it is known


class Target(Protocol):
    # After carrying out review decisions, or finding the sheet changed under a write: read
    # again within the cycle (a workbook), or leave the rest to the next cycle, which the
    # change itself sets off (a Google Sheet, where every read is a request against a quota).
    reads_again: bool
    requests: int | None         # API requests so far (None: not a remote target)

    @property
    def key(self) -> str:
        """The target's name in the audit log and the data folder."""

    @property
    def reading(self) -> str:
        """How the target is read (which templates, which sheet): a judgement depends on it."""

    def digest_now(self) -> str | None:
        """The digest a read would give, where it costs much less than a read (a file's
        SHA-256); None where only a read can tell."""

    def read(self, parsing: threading.Event | None = None) -> SheetTable:
        """The table as it stands. `parsing`, where given, is set once the rest of the read
        leaves Python's interpreter free (calamine parsing, a request on the network)."""

    def settle(self, audit: AuditLog, table: SheetTable) -> list[str]:
        """Settle the batches a broken-off cycle left pending, from what `table` holds;
        the batches found written."""

    def prepare(self, table: SheetTable, work: Batch) -> ContextManager[Any] | None:
        """Begin making what writing `work` needs, while the cycle does other work (a big
        workbook's new package); to be passed to `write`, and left as a context manager."""

    def write(self, table: SheetTable, work: Batch, audit: AuditLog, kind: str,
              counters: dict[str, int] | None = None, note: str = "",
              whole: bool = True, prepared: Any = None) -> Written | None:
        """Write `work` into the rows still as `table` read them; recorded in `audit` as one
        batch of what was written. `whole`: all or nothing. None: nothing was written because
        the sheet changed since it was read (read it again). `prepared`: what `prepare` gave."""
