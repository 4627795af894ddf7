"""sheetkeeper's own errors. Backends translate their libraries' errors into these at the seam.

    SheetkeeperError            anything sheetkeeper can explain; `str()` says what to do
    ├── WorkbookError           the workbook cannot be used as it is (the file is never changed)
    │   ├── NotAWorkbook        not an .xlsx at all (CSV, .xls, a text file)
    │   ├── WorkbookEncrypted   password-protected
    │   ├── WorkbookDamaged     an .xlsx that cannot be read (truncated, corrupt)
    │   ├── SheetNotFound       no such sheet / no sheet that looks like the template
    │   ├── TableLayoutError    the table's shape is unusable (no header, repeated header,
    │   │                       merged cells inside the table, a value far outside it)
    │   ├── WorkbookBusy        open in a spreadsheet program: not written, tried again later
    │   ├── WorkbookProtected   its owner marked it, or the sheet, as not to be changed
    │   └── WorkbookChanged     changed since it was read: nothing written; read again
    ├── WriteFailed             a write could not be made (disk full, permissions); the target
    │                           is unchanged
    ├── WriteUncertain          a write may or may not have reached the target: its batch stays
    │                           pending, and the next read settles it from the cells
    └── TemplateInstallError    the template cannot be installed there (file exists, …)

Template files that are themselves broken raise `sheet_templates.TemplateError`; the audit log
and the snapshot store, a layer below, raise `audit.errors.AuditError`. EXPLAINED is all of
them: what the CLI and the service tell in one line rather than as a bug.
"""
from __future__ import annotations

from audit.errors import AuditError
from sheet_templates import TemplateError


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


class WorkbookBusy(WorkbookError):
    """Open in Excel or LibreOffice: not written; the next cycle tries again."""


class WorkbookChanged(WorkbookError):
    """Changed since it was read: nothing was written; read again and re-plan."""


class WorkbookProtected(WorkbookError):
    """Marked in Excel as not to be changed (a password to modify, read-only recommended, a
    protected sheet): nothing is written, and no protection is removed."""


class WriteFailed(SheetkeeperError):
    """The write could not be completed (disk full, permissions); the target is unchanged."""


class WriteUncertain(SheetkeeperError):
    """The write may or may not have reached the target (a save landed just after it, an
    answer that never came): its batch stays pending until a read settles it by the cells."""


EXPLAINED = (SheetkeeperError, AuditError, TemplateError)
