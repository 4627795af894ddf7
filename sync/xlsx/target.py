"""A workbook on disk as a sync cycle's target: read with calamine, written by patching only the
changed cells into a new package that atomically replaces the old one, and only while the file
still holds the bytes the cycle read."""
from __future__ import annotations

import dataclasses
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from audit.log import AuditLog
from sheet_templates import Template

from ..errors import WorkbookError
from ..forked import fork_pays
from ..table import SheetTable
from ..targets import Batch, Written
from .read import read_table
from .write import CellWrite, NewPackage, WorkbookBusy, WorkbookChanged, WriteFailed


def workbook_key(path: Path | str) -> str:
    return str(Path(path).resolve())


def template_names(templates: Sequence[Template] | None) -> str:
    return ",".join(t.name for t in templates) if templates else "built-in"


@dataclass
class WorkbookTarget:
    path: Path
    templates: Sequence[Template] | None = None
    sheet: str | None = None
    # A workbook is replaced whole, so a cycle can read and plan again when someone saved
    # meanwhile; nothing is ever half-written.
    reads_again = True
    requests = None

    @property
    def key(self) -> str:
        return workbook_key(self.path)

    @property
    def reading(self) -> str:
        return f"{template_names(self.templates)}|{self.sheet or ''}"

    def digest_now(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None     # the read says what is wrong

    def read(self, parsing: threading.Event | None = None) -> SheetTable:
        return read_table(self.path, self.templates, self.sheet, parsing=parsing,
                          keep_xml=True)

    def settle(self, audit: AuditLog, table: SheetTable) -> list[str]:
        """A batch left pending by a crash was written exactly when the workbook now has the
        digest it was to have. Returns those found written."""
        return [batch for batch, status in audit.settle_pending(self.key, table.digest)
                if status == "written"]

    def prepare(self, table: SheetTable, work: Batch) -> NewPackage | None:
        """The new workbook for `work`, begun by a second process while the cycle logs person
        edits, where that pays (a big table). None where it does not, or where the write would
        be refused: `write` makes it then, and says why it cannot."""
        if not work.cells or not fork_pays(len(table.rows)):
            return None
        try:
            return NewPackage(self.path, _by_sheet(work), table.digest, beside=True,
                              known=_known(table))
        except (WorkbookError, WriteFailed, OSError):
            return None

    def write(self, table: SheetTable, work: Batch, audit: AuditLog, kind: str,
              counters: dict[str, int] | None = None, note: str = "",
              whole: bool = True, prepared: NewPackage | None = None) -> Written | None:
        """All of `work` or nothing (`whole` makes no difference: a package is replaced whole):
        recorded pending just before the replace, then settled. None when the workbook changed
        on disk meanwhile (nothing written). `prepared`: what `prepare` began for this work."""
        batch: str | None = None

        def record_pending(digest: Callable[[], str], restyled: dict) -> None:
            nonlocal batch
            # Copied only where the style before differs: most writes keep their cell's style,
            # and copying tens of thousands of records took a tenth of a second.
            styled = [r if r.style_before == (style := restyled.get((sheet, w.row, w.column)))
                      else dataclasses.replace(r, style_before=style)
                      for (sheet, w), r in zip(work.cells, work.records)]
            batch = audit.record(self.key, table.sheet, styled, kind, status="pending",
                                 digest_after=digest, counters=counters, note=note)

        try:
            with prepared or NewPackage(self.path, _by_sheet(work), table.digest,
                                        known=_known(table)) as new:
                new_digest = new.replace(record_pending)
        except WorkbookChanged:
            if batch:
                audit.settle(batch, "abandoned")
            return None
        except (WorkbookBusy, WriteFailed):
            if batch:
                audit.settle(batch, "abandoned")
            raise
        audit.settle(batch, "written")
        return Written(batch, tuple(range(len(work.cells))), digest=new_digest)


def _by_sheet(work: Batch) -> dict[str, list[CellWrite]]:
    writes: dict[str, list[CellWrite]] = {}
    for sheet, cell in work.cells:
        writes.setdefault(sheet, []).append(cell)
    return writes


def _known(table: SheetTable) -> dict[str, bytes] | None:
    """The table's sheet XML as read, for the write to patch without decompressing it again."""
    return {table.sheet: table.sheet_xml} if table.sheet_xml else None
