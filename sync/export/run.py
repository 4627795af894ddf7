"""One export: read the target once, choose the columns and rows, lay them out in the format
asked for, write the file (or the parts a CRM's limit asks for), and record in the audit log
who exported what to where — never the values."""
from __future__ import annotations

import dataclasses
import getpass
import math
from dataclasses import dataclass
from pathlib import Path

from audit.log import AuditLog
from sync.errors import ExportError
from sync.targets import Target
from i18n import _

from . import crm
from .files import check_destination, csv_bytes, part_paths, write_files
from .select import ExportChoice, select

AUDIT = "audit.sqlite3"
FORMATS = ("csv", "xlsx", "vcf", "vcf4", "hubspot", "salesforce", "zoho", "fxiaoke")
# vcf: vCard 3.0, what every address book imports; vcf4: vCard 4.0


@dataclass(frozen=True)
class Exported:
    files: tuple[Path, ...]
    rows: int
    columns: tuple[str, ...]
    batch: str                 # the audit log's record of it
    notes: tuple[str, ...] = ()   # what a person should know before using the file


def export_table(target: Target, to: Path, fmt: str, choice: ExportChoice, data: Path,
                 source: Path | None = None, who: str | None = None) -> Exported:
    """Export `target` to `to` in `fmt`. `data`: the data folder, whose audit log records the
    export and inside which nothing is written; `source`: the workbook file, never written
    over. Raises ExportError, with nothing written, for what cannot be done as asked."""
    if fmt not in FORMATS:
        raise ExportError(_("no export format {fmt}; the formats are {value}",
                            fmt=repr(fmt), value=', '.join(FORMATS)))
    to = Path(to)
    check_destination(to, source, data)
    table = target.read()
    chosen = select(table, choice, shown_errors=fmt in ("csv", "xlsx"))
    if fmt in ("vcf", "vcf4"):
        from .vcard import vcard_bytes
        files = [(to, vcard_bytes(chosen, "4.0" if fmt == "vcf4" else "3.0"))]
        write_files(files)
        return _recorded(target, table.sheet, [to], len(chosen.rows), list(chosen.headers),
                         fmt, choice, data, who)
    if fmt in crm.CRM_FORMATS:
        layout = crm.CRM_FORMATS[fmt]
        headers, rows, types = crm.laid_out(chosen, layout)
        notes = crm.missing_required(headers, rows, layout)
        per = layout.max_rows or max(1, len(rows))
    else:
        headers, rows, types = list(chosen.headers), [list(r) for r in chosen.rows], \
            list(chosen.types)
        notes = []
        per = max(1, len(rows))
    count = max(1, math.ceil(len(rows) / per))
    paths = part_paths(to, count)
    files = []
    for k, path in enumerate(paths):
        part = rows[k * per:(k + 1) * per]
        if fmt == "xlsx" or (fmt in crm.CRM_FORMATS and crm.CRM_FORMATS[fmt].workbook):
            from .xlsx_file import xlsx_bytes    # openpyxl: only for an xlsx export
            files.append((path, xlsx_bytes(table.sheet, headers, part, types)))
        else:
            files.append((path, csv_bytes(headers, part, types, bom=fmt == "csv")))
    write_files(files)
    stale = part_paths(to, count + 1)[-1] if count > 1 else to.with_name(f"{to.stem}-1{to.suffix}")
    if fmt in crm.CRM_FORMATS and stale.exists():
        # An earlier, longer export's parts: whoever uploads "all the parts" would upload them.
        notes.append(_("{stale} (and any after it) is from an earlier export, not this one; "
                       "delete it before uploading the parts", stale=stale))
    done = _recorded(target, table.sheet, paths, len(rows), headers, fmt, choice, data, who)
    return dataclasses.replace(done, notes=tuple(notes))


def _recorded(target: Target, sheet: str, paths: list[Path], rows: int, headers: list[str],
              fmt: str, choice: ExportChoice, data: Path, who: str | None) -> Exported:
    """The export, recorded in the audit log: who exported which rows and columns, in which
    format, to where; never the values. An export the log cannot tell of is not made: its
    files are removed again."""
    who = who or _user()
    note = (f"{who} exported {rows} rows ({', '.join(headers)}) as {fmt} to "
            + ", ".join(str(p.resolve()) for p in paths)
            + (f"; rows chosen by {_choice_text(choice)}" if choice.statuses or choice.tiers
               else ""))
    try:
        with AuditLog(data / AUDIT) as log:
            batch = log.record(target.key, sheet, [], "export", actor=who, note=note)
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise
    return Exported(tuple(paths), rows, tuple(headers), batch)


def _choice_text(choice: ExportChoice) -> str:
    parts = []
    if choice.statuses:
        parts.append("status " + " or ".join(choice.statuses))
    if choice.tiers:
        parts.append("tier " + " or ".join(choice.tiers))
    return " and ".join(parts)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):     # no name for this uid (a container)
        return "unknown user"
