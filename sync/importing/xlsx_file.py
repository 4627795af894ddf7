"""A workbook's sheet as rows to import, read with calamine (xlsx, xlsm and the older xls): the
one module of the import that knows a workbook's file format."""
from __future__ import annotations

from pathlib import Path

import python_calamine as calamine

from i18n import _

from . import ImportInputError
from .sources import SourceFile


def read_workbook(path: Path, sheet: str | None) -> SourceFile:
    """The named sheet, else the first visible one: its first non-empty row is the header."""
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        names = [s.name for s in book.sheets_metadata
                 if s.visible == calamine.SheetVisibleEnum.Visible] or book.sheet_names
        name = sheet or names[0]
        if name not in book.sheet_names:
            raise ImportInputError(_("{file}: has no sheet {sheet!r}; its sheets are: {sheets}",
                                     file=path.name, sheet=name,
                                     sheets=", ".join(book.sheet_names)))
        rows = book.get_sheet_by_name(name).iter_rows()
    except ImportInputError:
        raise
    except Exception as e:       # calamine's errors name no common base (zip, XML, password)
        raise ImportInputError(_("{file}: cannot be read as a workbook ({error}); is it "
                                 "damaged or password-protected? Save a copy without a "
                                 "password and import that", file=path.name,
                                 error=str(e))) from None
    numbered = ((n, values) for n, values in enumerate(rows, start=1))
    for n, values in numbered:
        if any(v not in (None, "") for v in values):
            headers = tuple("" if v is None else str(v).strip() for v in values)
            return SourceFile(path, path.suffix.lower().lstrip(".").replace("xlsm", "xlsx"),
                              headers, numbered, _("{kind} sheet {sheet!r}",
                                                   kind=path.suffix.lstrip("."), sheet=name))
    raise ImportInputError(_("{file}: sheet {sheet!r} is empty: no header row, no rows",
                             file=path.name, sheet=name))
