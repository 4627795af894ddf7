"""A workbook on disk as a sync cycle's target: read with calamine, written by patching only the
changed cells into a new package that takes the old one's place only while the file still holds
the bytes the cycle read (sync.xlsx.replace)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from sheet_templates import Template

from ..cycle import ApplyResult, run_cycle
from ..settings import RuleSettings, default_data_folder

from ..cells import CellWrite
from ..table import SheetTable
from ..targets import Batch, Step, reading_of
from .read import read_table
from .replace import recover_set_aside
from .write import StagedPackage


def workbook_key(path: Path | str) -> str:
    return str(Path(path).resolve())


def apply_workbook(path: Path | str, settings: RuleSettings, data: Path | None = None,
                   dry_run: bool = False, templates: Sequence[Template] | None = None,
                   sheet: str | None = None, auto_merge: str = "none") -> ApplyResult:
    """One cycle on the workbook at `path` (its data folder beside it, unless `data`)."""
    path = Path(path)
    return run_cycle(WorkbookTarget(path, templates, sheet), settings,
                     data or default_data_folder(path), dry_run, auto_merge)


@dataclass
class WorkbookTarget:
    path: Path
    templates: Sequence[Template] | None = None
    sheet: str | None = None
    # A workbook is replaced whole, so a cycle can read and plan again when someone saved
    # meanwhile; nothing is ever half-written.
    reads_again = True
    writes_whole = True

    @property
    def key(self) -> str:
        return workbook_key(self.path)

    @property
    def reading(self) -> str:
        return reading_of(self.templates, self.sheet)

    def peek(self) -> str | None:
        recover_set_aside(self.path)     # a write killed mid-swap (Windows) left it aside
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None     # the read says what is wrong

    def read(self) -> SheetTable:
        recover_set_aside(self.path)
        return read_table(self.path, self.templates, self.sheet, keep_xml=True)

    @staticmethod
    def parts(batch: Batch) -> list[list[int]]:
        return [list(range(len(batch.cells)))]       # a package is replaced whole

    def prepare(self, table: SheetTable, batch: Batch) -> "PackageWrite":
        """All of `batch` or nothing: a package is replaced whole."""
        return PackageWrite(batch, StagedPackage(self.path, _by_sheet(batch), table.digest,
                                                 known=_known(table)))


class PackageWrite:
    """A workbook's new package, staged beside it: the PreparedWrite of a workbook."""

    def __init__(self, batch: Batch, staged: StagedPackage):
        self.staged = staged
        self.done = tuple(range(len(batch.cells)))
        self.digest = staged.digest
        where = {(sheet, w.row, w.column): k for k, (sheet, w) in enumerate(batch.cells)}
        self.restyled: Mapping[int, int] = {where[cell]: style
                                            for cell, style in staged.restyled.items()}

    def commit(self, between: Step | None = None) -> None:
        self.staged.commit(between)

    def __enter__(self) -> "PackageWrite":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.staged.__exit__(*exc)


def _by_sheet(batch: Batch) -> dict[str, list[CellWrite]]:
    writes: dict[str, list[CellWrite]] = {}
    for sheet, cell in batch.cells:
        writes.setdefault(sheet, []).append(cell)
    return writes


def _known(table: SheetTable) -> dict[str, bytes] | None:
    """The table's sheet XML as read, for the write to patch without decompressing it again."""
    return {table.sheet: table.sheet_xml} if table.sheet_xml else None
