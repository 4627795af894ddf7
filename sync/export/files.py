"""The files an export writes: CSV bytes, the part files of a list longer than one file may
hold, and writing them privately (0600) where they may go: never into the data folder (its
snapshots, its audit log) and never over the list itself."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path
from typing import Any, Sequence

from audit.private_file import write_private
from sync.errors import ExportError
from i18n import _

from .safe import spreadsheet_safe

BOM = "\ufeff"


def cell_text(value: Any, column_type: str | None) -> str:
    """A cell as CSV text: dates as ISO (yyyy-mm-dd), whole numbers without ".0", and text
    that a spreadsheet program would run as a formula escaped."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if column_type == "date" or value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return spreadsheet_safe(str(value), column_type)


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]],
              types: Sequence[str | None], bom: bool) -> bytes:
    """UTF-8, CRLF between records (RFC 4180); with a BOM for people (Excel then reads UTF-8,
    and 张伟 shows right), without for a CRM's uploader (Salesforce's refuses one)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in headers])
    writer.writerows([cell_text(v, types[j]) for j, v in enumerate(row)] for row in rows)
    return ((BOM if bom else "") + out.getvalue()).encode("utf-8")


def part_paths(to: Path, parts: int) -> list[Path]:
    """`to` for one file; contacts-1.csv, contacts-2.csv, … beside it for more."""
    if parts <= 1:
        return [to]
    return [to.with_name(f"{to.stem}-{k}{to.suffix}") for k in range(1, parts + 1)]


def check_destination(to: Path, source: Path | None, data: Path | None) -> None:
    """Refuse, before anything is read or written, a file the export may not write."""
    place = to.resolve()
    if source is not None and place == source.resolve():
        raise ExportError(_("{to} is the list itself; export to another file", to=to))
    if data is not None:
        data = data.resolve()
        if place == data or data in place.parents:
            raise ExportError(_("{to} is inside sheetkeeper's data folder {data} (its snapshots "
                                "and audit log); export to a folder of your own",
                                to=to, data=data))
    if to.is_dir():
        raise ExportError(_("{to} is a folder; name the file to write", to=to))
    folder = place.parent
    if not folder.is_dir():
        raise ExportError(_("{folder} does not exist; make it first, or export elsewhere",
                            folder=folder))
    if not os.access(folder, os.W_OK):
        raise ExportError(_("cannot write in {folder} (permission denied); export elsewhere",
                            folder=folder))


def write_files(files: Sequence[tuple[Path, bytes]]) -> None:
    """Every file whole and 0600, or none: a part that cannot be written takes back the ones
    written before it."""
    done: list[Path] = []
    try:
        for path, data in files:
            write_private(path, data)
            done.append(path)
    except OSError as e:
        for path in done:
            path.unlink(missing_ok=True)
        raise ExportError(_("could not write {path} ({value}); nothing was exported. Check the "
                            "folder's permissions and free space, or export elsewhere",
                            path=path, value=e.strerror or e))
