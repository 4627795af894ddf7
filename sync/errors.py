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
    │   │   ├── ExcelClosed     the workbook open in Excel was closed, or Excel quit, while
    │   │   │                   sheetkeeper worked on it (sync/excel/ translates xlwings' errors)
    │   │   └── ExcelNotAllowed macOS has not (yet) let sheetkeeper drive Excel (Automation)
    │   ├── WorkbookProtected   its owner marked it, or the sheet, as not to be changed
    │   └── WorkbookChanged     changed since it was read: nothing written; read again
    ├── WriteFailed             a write could not be made (disk full, permissions); the target
    │                           is unchanged
    ├── WriteUncertain          a write may or may not have reached the target: its batch stays
    │                           pending, and the next read settles it from the cells
    ├── TemplateInstallError    the template cannot be installed there (file exists, …)
    ├── ExportError             an export cannot be made as asked (no such column or format,
    │                           a file it may not write); nothing is written
    └── GoogleSheetsError       a Google Sheet cannot be used as asked (every error of gspread,
        │                       google-auth and requests becomes one of these in
        │                       sync/gsheets/client.py; none escapes sync/)
        ├── GoogleUnavailable   Google, or the way to it, kept failing after every retry (429,
        │                       5xx, no answer, a token refresh that got none): try again later
        └── GoogleRefused       Google refused a request as it stands (a 4xx other than 429), in
            │                   its own words; the same request again cannot help
            ├── GoogleNoAccess      not there for this account: not shared with it, shared only
            │                       to read, or no such spreadsheet
            ├── GoogleApiDisabled   the Sheets or Drive API is not enabled in the Cloud project
            ├── NotAGoogleSheet     a file in Drive that is not a Google Sheet (an .xlsx)
            └── GoogleSignInRefused the sign-in itself: a refresh token expired or revoked, a
                                    service account's key deleted

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


class ExportError(SheetkeeperError):
    pass


class WorkbookBusy(WorkbookError):
    """Open in Excel or LibreOffice: not written; the next cycle tries again."""


class ExcelClosed(WorkbookBusy):
    """The workbook open in Excel was closed, or Excel quit, while sheetkeeper worked on it:
    the next cycle reads the file (or the book, once it is open again)."""


class ExcelNotAllowed(WorkbookBusy):
    """macOS has not let this program control Microsoft Excel (Automation permission); until
    it does, the workbook is waited for as for any open one."""


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



class GoogleSheetsError(SheetkeeperError):
    """A Google Sheet cannot be used as asked; says what to do."""


class GoogleUnavailable(GoogleSheetsError):
    """Google kept failing after every retry; nothing more was sent. The next cycle tries
    again."""


class GoogleRefused(GoogleSheetsError):
    """Google refused a request (a 4xx other than 429): the same request cannot succeed until
    a person puts right what Google names. `code`, `status` and `reason` are Google's (HTTP
    status, e.g. PERMISSION_DENIED, and the ErrorInfo reason where it gives one)."""

    def __init__(self, message: str, code: int = 0, status: str = "", reason: str = ""):
        super().__init__(message)
        self.code, self.status, self.reason = code, status, reason


class GoogleNoAccess(GoogleRefused):
    """The spreadsheet is not there for this account: not shared with it (403), shared only to
    read (a write's 403), or no spreadsheet has that key (404)."""


class GoogleApiDisabled(GoogleRefused):
    """The Google Sheets or Drive API is not enabled in the account's Cloud project (403
    SERVICE_DISABLED)."""


class NotAGoogleSheet(GoogleRefused):
    """A file stored in Drive that is not a Google Sheet, such as an .xlsx workbook (400
    FAILED_PRECONDITION): the Sheets API cannot work on it until it is saved as one."""


class GoogleSignInRefused(GoogleRefused):
    """Google refused the sign-in itself: a person's refresh token expired or was revoked, a
    service account's key was deleted. Nothing works until the account signs in anew."""


EXPLAINED = (SheetkeeperError, AuditError, TemplateError)
