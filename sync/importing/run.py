"""An import from start to end: read the target, map the file's headers, read its rows, plan
(upsert) and write the plan as ONE audited batch through sync.writing.write_batch, the
bookkeeping every write uses, in turns with the service's cycles on the same target. So
`sheetkeeper undo BATCH` takes an import back like any batch: the rows it added lose every
value and their ID, the cells it filled are empty again, the Notes it added to are as before.

Nothing is written before the whole file has been read and planned: a file that turns out bad
half-way (a line that does not decode, too many rows) leaves the target untouched.
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from audit.log import AuditLog
from i18n import _

from ..cycle import ATTEMPTS, AUDIT
from ..cycle_lock import one_at_a_time
from ..errors import WorkbookChanged
from ..settings import RuleSettings
from ..table import SheetTable
from ..targets import Target
from ..writing import settle_pending, write_batch
from .mapping import HeaderMapping, map_headers
from .sources import SourceFile, open_source
from .upsert import ImportPlan, Incoming, plan_import


@dataclass(frozen=True)
class ImportChoice:
    """What the command line says about the file."""

    encoding: str | None = None
    sheet: str | None = None                  # the file's sheet (a workbook)
    overrides: Sequence[str] = ()             # --map "Their header=Column"
    unmapped: str = "notes"                   # notes | leave


@dataclass(frozen=True)
class ImportResult:
    source: SourceFile
    mapping: HeaderMapping
    table: SheetTable
    plan: ImportPlan
    batch: str | None            # the audit batch (None: a dry run, or nothing to write)
    batches: tuple[str, ...] = ()    # every batch, where a Google Sheet took it in parts
    dry_run: bool = False


def import_file(path: Path, target: Target, settings: RuleSettings, data: Path,
                choice: ImportChoice = ImportChoice(), dry_run: bool = False) -> ImportResult:
    """Bring the rows of the file at `path` into `target` (see sync.importing.upsert)."""
    source = open_source(path, choice.encoding, choice.sheet)
    if dry_run and not (data / AUDIT).exists():
        # A dry run writes nothing, not even a new audit log.
        table = target.read()
        mapping, rows = _read_rows(source, table, choice)
        return ImportResult(source, mapping, table,
                            plan_import(table, rows, settings, path.name, judged=False), None,
                            (), True)
    with AuditLog(data / AUDIT) as audit, contextlib.ExitStack() as locked:
        if not dry_run:
            locked.enter_context(one_at_a_time(data, target.key))
        mapping = rows = None
        for _attempt in range(ATTEMPTS):
            table = target.read()
            settle_pending(audit, target.key, table, getattr(target, "writes_whole", True))
            if rows is None:       # the file is read once, whatever the tries
                mapping, rows = _read_rows(source, table, choice)
            plan = plan_import(table, rows, _with_log(settings, audit, target.key), path.name,
                               judged=not dry_run)
            if dry_run or not plan.batch.cells:
                return ImportResult(source, mapping, table, plan, None, (), dry_run)
            # One batch; a Google Sheet takes at most so much in one request, and a larger
            # import goes out in parts, each a batch of its own.
            whole = len(target.parts(plan.batch)) <= 1
            written = write_batch(target, table, plan.batch, audit, "import",
                                  {"ids_issued": plan.last_id} if plan.last_id else None,
                                  note=_("import of {file}", file=path.name), whole=whole)
            if written is not None and written.batch is not None:
                return ImportResult(source, mapping, table, plan, written.batch,
                                    written.batches)
    raise WorkbookChanged(_("{target}: kept changing while the import was planned ({n} "
                            "tries); nothing was written. Import again", target=target.key,
                            n=ATTEMPTS))


def _read_rows(source: SourceFile, table: SheetTable, choice: ImportChoice
               ) -> tuple[HeaderMapping, list[Incoming]]:
    mapping = map_headers(source.headers, table.layout, choice.overrides, choice.unmapped)
    rows = []
    for line, values in source.rows:
        mapped, extra = mapping.split(values)
        if mapped or extra:
            rows.append(Incoming(line, mapped, extra))
    return mapping, rows


def _with_log(settings: RuleSettings, audit: AuditLog, key: str) -> RuleSettings:
    """As a cycle judges (Cycle.settings_now): pairs kept apart, IDs already given out."""
    return dataclasses.replace(
        settings, kept_pairs=audit.kept_pairs(key),
        ids_issued=max(settings.ids_issued, audit.counter(key, "ids_issued")))
