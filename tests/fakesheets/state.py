"""What the emulator holds: Drive files, spreadsheets, their sheets and cells, and the operations
the API offers on them. One lock serialises every request, as Google applies a batch atomically.

Who may do what, as Google has it: each request acts as one account (the one its access token
was issued to; any other token acts as `State.user`). A spreadsheet is seen by its owner and the
accounts it is shared with (Drive permissions: reader, commenter, writer; or anyone with the
link); any other account gets 403 PERMISSION_DENIED from the Sheets API and 404 from Drive, and
a reader or commenter cannot write. An API switched off in the project (`State.disabled`) answers
every request with 403 SERVICE_DISABLED. An .xlsx file stored in Drive is a Drive file, not a
spreadsheet: the Sheets API answers 400 FAILED_PRECONDITION. Tab titles are unique regardless of
case.

A cell keeps what was entered (`entered`: the typed text or value, or a formula) and its value
(`value`: number, bool or text). USER_ENTERED parses as Sheets does for the cases sheetkeeper
meets: numbers (so "+8613800138000" becomes the number 8613800138000, which is why sheetkeeper
must write phones as RAW text), TRUE/FALSE, a leading apostrophe forcing text, and formulas
(kept, not evaluated: their value is the formula text).
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import a1

NEW = json.loads((Path(__file__).parent / "new_spreadsheet.json").read_text())
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The Cloud project every request is made for (the same number faults.QUOTA names), and the
# APIs in it, by the host path each is served under.
PROJECT = "000000000000"
APIS = {"sheets.googleapis.com": "Google Sheets API", "drive.googleapis.com": "Google Drive API"}
WRITERS = ("owner", "writer")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class ApiError(Exception):
    """An error answer in Google's JSON shape. The Sheets API gives code, message and status
    (and `details` where it has them); Drive v3 adds the older `errors` list, and leaves the
    status out of some answers (None here)."""

    def __init__(self, code: int, status: str | None, message: str,
                 details: list | None = None, errors: list | None = None):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message
        self.details, self.errors = details, errors

    def body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            error["errors"] = self.errors
        if self.status is not None:
            error["status"] = self.status
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "Requested entity was not found.")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


def permission_denied() -> ApiError:
    """The Sheets API's answer to an account the spreadsheet is not shared with, or that may
    only read it (as recorded: ClientTest.test_access_private_spreadsheet)."""
    return ApiError(403, "PERMISSION_DENIED", "The caller does not have permission")


def drive_error(code: int, reason: str, message: str, **where: str) -> ApiError:
    """Drive v3's shape: no status, the reason in `errors`."""
    return ApiError(code, None, message,
                    errors=[{"message": message, "domain": "global", "reason": reason, **where}])


def file_not_found(key: str) -> ApiError:
    # Drive does not tell a file that is not there from one not shared with the caller.
    return drive_error(404, "notFound", f"File not found: {key}.", location="fileId",
                       locationType="parameter")


def not_a_spreadsheet() -> ApiError:
    """The Sheets API on an Office file stored in Drive (.xlsx), which only Drive and the
    editor's compatibility mode open: File → Save as Google Sheets makes a spreadsheet of it."""
    message = "This operation is not supported for this document"
    return ApiError(400, "FAILED_PRECONDITION", message, errors=[
        {"message": message, "domain": "global", "reason": "failedPrecondition"}])


def service_disabled(service: str) -> ApiError:
    """An API not enabled in the project: Google's 403, whose ErrorInfo names the service and
    the project and whose Help link is the console page that enables it. Drive, an older API,
    also lists the legacy reason accessNotConfigured."""
    title = APIS[service]
    url = f"https://console.developers.google.com/apis/api/{service}/overview?project={PROJECT}"
    message = (f"{title} has not been used in project {PROJECT} before or it is disabled. "
               f"Enable it by visiting {url} then retry. If you enabled this API recently, wait "
               "a few minutes for the action to propagate to our systems and retry.")
    details = [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
         "domain": "googleapis.com",
         "metadata": {"activationUrl": url, "consumer": f"projects/{PROJECT}",
                      "containerInfo": PROJECT, "service": service, "serviceTitle": title}},
        {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
         "message": message},
        {"@type": "type.googleapis.com/google.rpc.Help",
         "links": [{"description": "Google developers console API activation", "url": url}]}]
    errors = ([{"message": message, "domain": "usageLimits", "reason": "accessNotConfigured",
                "extendedHelp": "https://console.developers.google.com"}]
              if service == "drive.googleapis.com" else None)
    return ApiError(403, "PERMISSION_DENIED", message, details, errors)


# Google refuses a request body over 10 MiB outright (as reported by clients that met it:
# "Request payload size exceeds the limit: 10485760 bytes.", 400, reason badRequest), and
# recommends at most 2 MB (developers.google.com/workspace/sheets/api/limits).
MAX_BODY = 10 * 1024 * 1024


# Drive exports a Google file of at most 10 MB (drive.v3 files.export: "The exported content is
# limited to 10MB"); over it, a 403 exportSizeLimitExceeded.
MAX_EXPORT = 10_000_000


def export_too_large() -> ApiError:
    return drive_error(403, "exportSizeLimitExceeded", "This file is too large to be exported.")


def body_too_large() -> ApiError:
    message = f"Request payload size exceeds the limit: {MAX_BODY} bytes."
    return ApiError(400, "INVALID_ARGUMENT", message,
                    errors=[{"message": message, "domain": "global", "reason": "badRequest"}])


def same_title(a: str, b: str) -> bool:
    """Google tells tab titles apart regardless of case."""
    return a.casefold() == b.casefold()


@dataclass
class Cell:
    entered: Any
    value: Any
    shown: str | None = None     # the formatted value, where the entry set a number format
    date: bool = False           # typed as a date: its value is a serial number


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)     # other properties set through the API
    formats: dict[tuple[int, int], dict] = field(default_factory=dict)   # userEnteredFormat
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    validations: dict[tuple[int, int], dict] = field(default_factory=dict)
    protected: list[dict] = field(default_factory=list)
    conditional: list[dict] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)      # embedded charts (addChart)
    # "GRID", or "OBJECT" for a chart on a sheet of its own, which has no grid: no cells, no
    # gridProperties, and the values API refuses it. (Made in tests through the state; the
    # emulator's addChart adds charts over a grid, not sheets of their own.)
    kind: str = "GRID"

    def properties(self) -> dict:
        if self.kind != "GRID":
            return {"sheetId": self.sheet_id, "title": self.title, "index": self.index,
                    "sheetType": self.kind, **self.extra}
        return {"sheetId": self.sheet_id, "title": self.title, "index": self.index,
                "sheetType": "GRID", **self.extra,
                "gridProperties": {"rowCount": self.rows, "columnCount": self.cols,
                                   **self.extra.get("gridProperties", {})}}


@dataclass
class Spreadsheet:
    id: str
    title: str
    sheets: list[Sheet]
    created: str
    modified: str
    version: int = 1
    owner: str = "tests@sheetkeeper.iam.gserviceaccount.com"
    properties: dict = field(default_factory=lambda: json.loads(json.dumps(NEW["properties"])))
    mime: str = SPREADSHEET_MIME
    # Drive permissions other than the owner's: account (or "anyone", with the link) -> role.
    shared: dict[str, str] = field(default_factory=dict)

    def role(self, account: str) -> str | None:
        if account == self.owner:
            return "owner"
        roles = [self.shared.get(account), self.shared.get("anyone")]
        return max((r for r in roles if r), key=ROLES.index, default=None)

    def sheet(self, title: str | None) -> Sheet:
        if title is None:
            return self.sheets[0]
        for s in self.sheets:
            if s.title == title:
                return s
        raise bad_request(f"Unable to parse range: {a1.quote_title(title)}")

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise bad_request(f"No grid with id: {sheet_id}")

    def span(self, text: str) -> tuple[Sheet, a1.Span]:
        try:
            span = a1.parse(text, [s.title for s in self.sheets])
        except a1.RangeError as e:
            raise bad_request(str(e)) from None
        return self.sheet(span.title), span

    def metadata(self) -> dict:
        def sheet(s: Sheet) -> dict:
            out: dict = {"properties": s.properties()}
            if s.conditional:
                out["conditionalFormats"] = s.conditional
            if s.charts:
                out["charts"] = s.charts
            if s.protected:
                # Read back, a protected range lists its owner among the editors.
                out["protectedRanges"] = [dict(p, editors={**p["editors"], "users": sorted(
                    set(p["editors"].get("users", [])) | {self.owner})}) if "editors" in p
                    else dict(p) for p in s.protected]
            return out
        return {"spreadsheetId": self.id, "properties": {"title": self.title, **self.properties},
                "sheets": [sheet(s) for s in self.sheets],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.id}/edit"}


ROLES = ("reader", "commenter", "writer", "owner")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def new_id(length: int = 44) -> str:
    return "1" + "".join(random.choices(string.ascii_letters + string.digits + "-_", k=length - 1))


class State:
    def __init__(self, user: str = "tests@sheetkeeper.iam.gserviceaccount.com") -> None:
        self.lock = threading.RLock()
        self.books: dict[str, Spreadsheet] = {}
        self.user = user                     # the account of a request whose token is not
        self.accounts: dict[str, str] = {}   # one of these (access token -> account)
        self.caller = user                   # the account of the request being handled
        self.disabled: set[str] = set()      # APIs switched off: "drive.googleapis.com"
        self.tokens: list[str] = []          # OAuth access tokens issued by /token
        self.refresh_tokens: dict[str, str] = {}   # issued by /token: -> its account
        self.revoked: set[str] = set()       # refresh tokens Google no longer honours
        self.consented: set[tuple[str, str]] = set()   # (OAuth client, account) agreed once
        self.codes: dict[str, dict] = {}     # authorization codes not yet exchanged
        self.quota = None                    # a PerMinuteQuota (quota.py), if a test sets one

    def sign_in(self, account: str) -> str:
        """An access token that acts as `account` (a second person, the sheet's owner)."""
        token = f"emulator-token-{account}-{len(self.accounts) + 1}"
        self.accounts[token] = account
        return token

    def create(self, title: str, owner: str | None = None, key: str | None = None,
               mime: str = SPREADSHEET_MIME) -> Spreadsheet:
        stamp = now()
        base = NEW["sheet"]
        book = Spreadsheet(key or new_id(), title, [Sheet(base["sheetId"], base["title"], 0)],
                           stamp, stamp, owner=owner or self.caller, mime=mime)
        self.books[book.id] = book
        return book

    def get(self, key: str) -> Spreadsheet:
        try:
            return self.books[key]
        except KeyError:
            raise not_found() from None

    def spreadsheet(self, key: str, write: bool = False) -> Spreadsheet:
        """The spreadsheet as the Sheets API lets the caller have it: 404 if there is none,
        403 if it is not shared with the caller (or, to `write`, only to read), 400 if it is
        an .xlsx file."""
        book = self.get(key)
        role = book.role(self.caller)
        if role is None or write and role not in WRITERS:
            raise permission_denied()
        if book.mime != SPREADSHEET_MIME:
            raise not_a_spreadsheet()
        return book

    def file(self, key: str, write: bool = False) -> Spreadsheet:
        """The file as Drive lets the caller have it: 404 if there is none or it is not
        shared with the caller, 403 to change it with only read access."""
        book = self.books.get(key)
        role = book.role(self.caller) if book else None
        if role is None:
            raise file_not_found(key)
        if write and role not in WRITERS:
            raise drive_error(403, "insufficientFilePermissions",
                              "The user does not have sufficient permissions for this file.")
        return book

    def delete(self, key: str) -> None:
        if self.file(key).owner != self.caller:
            raise drive_error(403, "insufficientFilePermissions",
                              "The user does not have sufficient permissions for this file.")
        del self.books[key]

    @staticmethod
    def touched(book: Spreadsheet) -> None:
        book.modified = now()
        book.version += 1


# -- values ------------------------------------------------------------------------------------

def entered(raw: Any, option: str) -> Cell | None:
    """What a cell holds once `raw` is written with valueInputOption `option`."""
    if raw is None:
        return None
    if option == "RAW" or not isinstance(raw, str):
        return Cell(raw, raw) if raw != "" else None
    if raw == "":
        return None
    if raw.startswith("'"):
        return Cell(raw, raw[1:])
    if raw.startswith("="):
        return Cell(raw, formula_value(raw))
    if raw.upper() in ("TRUE", "FALSE"):
        return Cell(raw, raw.upper() == "TRUE")
    grouped = re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", raw.strip())
    text = raw.strip().replace(",", "") if grouped else raw.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:                     # a date: its serial number, shown as typed
        try:
            day = dt.date(*map(int, iso.groups()))
        except ValueError:
            return Cell(raw, raw)
        return Cell(raw, (day - dt.date(1899, 12, 30)).days, text, date=True)
    if _NUMBER.match(text):
        number = float(text)
        value = int(number) if number.is_integer() and "e" not in text.lower() \
            and abs(number) < 2 ** 53 else number
        return Cell(raw, value, raw.strip() if grouped else None)
    return Cell(raw, raw)


# Where Google Sheets separates a formula's arguments with ";" (the decimal separator there is a
# comma): the locales seen reported from Google Sheets (a published list of Sheets' locales and
# their separators; issues from Turkish, Dutch and Swedish sheets). Every other locale takes ",".
SEMICOLON_LOCALES = frozenset({
    "es_AR", "hy_AM", "az_AZ", "be_BY", "es_BO", "pt_BR", "bg_BG", "fr_CA", "es_CL", "es_CO",
    "hr_HR", "cs_CZ", "da_DK", "es_EC", "fi_FI", "fr_FR", "ka_GE", "de_DE", "el_GR", "hu_HU",
    "in_ID", "it_IT", "kk_KZ", "lv_LV", "lt_LT", "tr_TR", "nl_NL", "sv_SE"})


def parses(formula: str, locale: str) -> bool:
    """Whether Google reads `formula` in a spreadsheet of `locale`: in a ";" locale a comma
    outside quoted text and sheet names is a decimal separator, so one that is not between two
    digits is a parse error ("Formula parse error." in the sheet)."""
    if locale not in SEMICOLON_LOCALES:
        return True
    quote = None
    for k, ch in enumerate(formula):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "," and not (formula[k - 1:k].isdigit() and formula[k + 1:k + 2].isdigit()):
            return False
    return True


def formula_value(formula: str) -> Any:
    """Arithmetic formulas are evaluated (=1/1024); any other is kept as its text, since the
    emulator has no spreadsheet engine."""
    import ast
    import operator
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.USub: operator.neg, ast.UAdd: operator.pos}

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.operand))
        raise ValueError(formula)
    try:
        value = ev(ast.parse(formula[1:].strip(), mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError):
        return formula
    return int(value) if isinstance(value, float) and value.is_integer() else value


def rendered(cell: Cell | None, option: str, dates: str = "SERIAL_NUMBER",
             pattern: str | None = None) -> Any:
    """A cell as values.get renders it. `dates` (dateTimeRenderOption): a date's serial number,
    or (FORMATTED_STRING) the date as its number format shows it — a cell typed as a date, or a
    number in a cell formatted as a date (`pattern`); ignored for FORMATTED_VALUE, as Google
    documents."""
    if cell is None:
        return ""
    if option == "FORMULA" and isinstance(cell.entered, str) and cell.entered.startswith("="):
        return cell.entered
    value = cell.value
    if option in ("UNFORMATTED_VALUE", "FORMULA"):
        if dates == "FORMATTED_STRING" and isinstance(value, (int, float)) \
                and not isinstance(value, bool) and (cell.date or pattern):
            return _date_text(value, pattern) if pattern else cell.shown
        return value
    if cell.shown is not None:
        return cell.shown
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def within_grid(sheet: Sheet, span: a1.Span, text: str) -> None:
    """The values API reads only a grid, and only within it: a range that reaches past the
    tab's rows or columns is Google's 400 "Range (Mass!151154:151354) exceeds grid limits.
    Max rows: 151000, max columns: 26" (as reported from Google; so is `'Tab'!1:10` on a
    5-row tab), and a chart on a sheet of its own has no grid to read (a 400; Google's exact
    words for it are not recorded here)."""
    cells = a1.split_title(text)[1] or a1.quote_title(sheet.title)
    if sheet.kind != "GRID":
        raise bad_request(f"Unable to parse range: {text}")
    if (span.row1 is not None and span.row1 > sheet.rows) or (span.row0 or 0) >= sheet.rows \
            or (span.col1 is not None and span.col1 > sheet.cols) or (span.col0 or 0) >= sheet.cols:
        raise bad_request(f"Range ({a1.quote_title(sheet.title)}!{cells}) exceeds grid limits. "
                          f"Max rows: {sheet.rows}, max columns: {sheet.cols}")


def _date_text(serial: float, pattern: str) -> str:
    """A serial number as a date pattern of the kind install sets shows it (yyyy-mm-dd)."""
    day = dt.date(1899, 12, 30) + dt.timedelta(days=int(serial))
    return (pattern.lower().replace("yyyy", f"{day.year:04d}").replace("mm", f"{day.month:02d}")
            .replace("dd", f"{day.day:02d}"))


def _date_pattern(sheet: Sheet, cell: tuple[int, int]) -> str | None:
    fmt = sheet.formats.get(cell, {}).get("numberFormat", {})
    return fmt.get("pattern") or "yyyy-mm-dd" if fmt.get("type") == "DATE" else None


def read(sheet: Sheet, span: a1.Span, option: str, major: str = "ROWS",
         dates: str = "SERIAL_NUMBER") -> tuple[str, list]:
    r0, c0, r1, c1 = span.clamp(sheet.rows, sheet.cols)
    # Beyond the last cell with something in it everything is trimmed below anyway: a sparse
    # 1000 × 26 grid need not be rendered cell by cell.
    last_r = min(r1, max((r for r, _ in sheet.cells), default=-1) + 1)
    last_c = min(c1, max((c for _, c in sheet.cells), default=-1) + 1)
    if dates == "FORMATTED_STRING" and option != "FORMATTED_VALUE":
        grid = [[rendered(sheet.cells.get((r, c)), option, dates, _date_pattern(sheet, (r, c)))
                 for c in range(c0, last_c)] for r in range(r0, last_r)]
    else:
        grid = [[rendered(sheet.cells.get((r, c)), option) for c in range(c0, last_c)]
                for r in range(r0, last_r)]
    if major == "COLUMNS":
        grid = [list(col) for col in zip(*grid)] if grid else []
    # Google trims trailing empty cells of each row and trailing empty rows.
    trimmed = []
    for line in grid:
        while line and line[-1] == "":
            line.pop()
        trimmed.append(line)
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return a1.format_range(sheet.title, r0, c0, max(r1, r0 + 1), max(c1, c0 + 1)), trimmed


def write(sheet: Sheet, span: a1.Span, values: list[list[Any]], option: str,
          major: str = "ROWS") -> dict:
    if major == "COLUMNS":
        width = max((len(c) for c in values), default=0)
        values = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
    if sheet.kind != "GRID":
        raise bad_request(f"Unable to parse range: {a1.quote_title(sheet.title)}")
    r0, c0 = span.row0 or 0, span.col0 or 0
    height, width = len(values), max((len(r) for r in values), default=0)
    if not span.anchor and (span.row1 is not None and height > span.row1 - r0
                            or span.col1 is not None and width > span.col1 - c0):
        raise bad_request("Requested writing within range [{}], but tried writing to row [{}]"
                          .format(a1.format_range(sheet.title, r0, c0, span.row1 or r0 + 1,
                                                  span.col1 or c0 + 1), r0 + height))
    if r0 + height > sheet.rows or c0 + width > sheet.cols:
        raise bad_request(f"Range ({sheet.title}!{a1.column_letters(c0 + width - 1)}"
                          f"{r0 + height}) exceeds grid limits. Max rows: {sheet.rows}, "
                          f"max columns: {sheet.cols}")
    cells, rows, cols = 0, set(), set()
    for i, row in enumerate(values):
        for j, raw in enumerate(row):
            if raw is None:
                continue            # null leaves the cell as it is
            cells += 1
            rows.add(i)
            cols.add(j)
            cell = entered(raw, option)
            if cell is None:
                sheet.cells.pop((r0 + i, c0 + j), None)
            else:
                sheet.cells[(r0 + i, c0 + j)] = cell
    if not height or not width:
        return {}
    r1, c1 = r0 + height, c0 + width
    return {"updatedRange": a1.format_range(sheet.title, r0, c0, r1, c1),
            "updatedRows": len(rows), "updatedColumns": len(cols), "updatedCells": cells}


def clear(sheet: Sheet, span: a1.Span) -> str:
    r0, c0, r1, c1 = span.clamp(sheet.rows, sheet.cols)
    for key in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
        del sheet.cells[key]
    return a1.format_range(sheet.title, r0, c0, r1, c1)
