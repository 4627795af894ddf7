"""sheetkeeper's own errors. Backends translate their libraries' errors into these at the seam.

    SheetkeeperError            anything sheetkeeper can explain; `str()` says what to do
    ├── WorkbookError           the workbook cannot be used as it is (the file is never changed)
    │   ├── NotAWorkbook        not an .xlsx at all (CSV, .xls, a text file)
    │   ├── WorkbookEncrypted   password-protected
    │   ├── WorkbookDamaged     an .xlsx that cannot be read (truncated, corrupt)
    │   ├── SheetNotFound       no such sheet / no sheet that looks like the template
    │   └── TableLayoutError    the table's shape is unusable (no header, repeated header,
    │                           merged cells inside the table, a value far outside it)
    └── TemplateInstallError    the template cannot be installed there (file exists, …)

Template files that are themselves broken raise `sheet_templates.TemplateError`.
"""
from __future__ import annotations


class SheetkeeperError(Exception):
    exit_code = 2


class WorkbookError(SheetkeeperError):
    pass


class NotAWorkbook(WorkbookError):
    pass


class WorkbookEncrypted(WorkbookError):
    pass


class WorkbookDamaged(WorkbookError):
    pass


class SheetNotFound(WorkbookError):
    pass


class TableLayoutError(WorkbookError):
    pass


class TemplateInstallError(SheetkeeperError):
    pass
