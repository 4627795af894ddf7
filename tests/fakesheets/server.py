"""The emulator's HTTP face: the routes of Sheets v4 and Drive v3 that gspread and sheetkeeper use,
over real HTTP on 127.0.0.1. Anything else gets 501 naming the request, never a silent success.
Errors have Google's JSON shape: {"error": {"code", "message", "status"}} (Drive's with its
`errors` list). Who is asking comes from the request's bearer token (see state: accounts,
sharing, APIs switched off)."""
from __future__ import annotations

import copy
import csv
import io
import json
import random
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from . import a1, grid
from . import state as st
from .faults import Faults
from .grid import grid_data
from .shape import dig, fields, masked, set_field
from .schema import problems as schema_problems
from .state import ApiError, State, bad_request, same_title

Route = tuple[str, re.Pattern, Callable[..., tuple[int, Any]], "str | None"]
ROUTES: list[Route] = []


def route(method: str, pattern: str, schema: str | None = None):
    """Register a handler; `schema` names the discovery schema its request body must meet."""
    def register(fn):
        ROUTES.append((method, re.compile(f"^{pattern}$"), fn, schema))
        return fn
    return register


KEY = r"(?P<key>[A-Za-z0-9_-]+)"


# -- Drive v3 ----------------------------------------------------------------------------------

DRIVE_FIELDS = ("kind", "id", "name", "mimeType")


def _drive_file(book: st.Spreadsheet, fields: str | None, role: str = "owner") -> dict:
    """A file's metadata as files.get gives it: `fields` a mask (`capabilities(canEdit)`),
    else Drive's default few. `capabilities` are the caller's (`role`): a reader or commenter
    may not edit, and only the owner, or a writer, may share."""
    full = {"kind": "drive#file", "id": book.id, "name": book.title,
            "mimeType": book.mime, "createdTime": book.created,
            "modifiedTime": book.modified, "version": str(book.version),
            "capabilities": {"canEdit": role in st.WRITERS, "canShare": role in st.WRITERS,
                             "canComment": role != "reader", "canDownload": True}}
    return masked(full, fields) if fields else {k: full[k] for k in DRIVE_FIELDS}


@route("POST", r"/drive/v3/files")
def drive_create(s: State, q: dict, body: dict) -> tuple[int, Any]:
    """A new Google Sheet; or, with the .xlsx type, an Office file stored in Drive (metadata
    only, as Drive allows: no content is uploaded)."""
    mime = body.get("mimeType")
    if mime not in (st.SPREADSHEET_MIME, st.XLSX_MIME):
        raise ApiError(501, "UNIMPLEMENTED", "the emulator creates only Google Sheets files "
                       "and (empty) .xlsx files")
    return 200, _drive_file(s.create(body.get("name", "Untitled spreadsheet"), mime=mime), None)


@route("GET", rf"/drive/v3/files/{KEY}")
def drive_get(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    book = s.file(key)
    return 200, _drive_file(book, q.get("fields", [None])[0], book.role(s.caller) or "reader")


@route("DELETE", rf"/drive/v3/files/{KEY}")
def drive_delete(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    s.delete(key)
    return 204, None


@route("POST", rf"/drive/v3/files/{KEY}/permissions")
def drive_share(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    """Sharing (permissions.create): with an account, or with anyone who has the link."""
    book = s.file(key, write=True)
    kind, role = body.get("type"), body.get("role")
    if role not in st.ROLES[:-1]:
        raise ApiError(501, "UNIMPLEMENTED", f"the emulator shares as reader, commenter or "
                       f"writer, not {role!r}")
    if kind == "user" and body.get("emailAddress"):
        who, pid = body["emailAddress"], str(abs(hash(body["emailAddress"])) % 10 ** 20)
    elif kind == "anyone":
        who, pid = "anyone", "anyoneWithLink"
    else:
        raise ApiError(501, "UNIMPLEMENTED", f"the emulator shares with a user or anyone, "
                       f"not {kind!r}")
    book.shared[who] = role
    return 200, {"kind": "drive#permission", "id": pid, "type": kind, "role": role}


@route("GET", r"/drive/v3/about")
def drive_about(s: State, q: dict, body: dict) -> tuple[int, Any]:
    """Who the caller is (about.get). Drive requires `fields` here."""
    fields = q.get("fields", [None])[0]
    if not fields:
        raise st.drive_error(400, "required", "The 'fields' parameter is required for this "
                             "method.", location="fields", locationType="parameter")
    about = {"kind": "drive#about", "user": {
        "kind": "drive#user", "displayName": s.caller.split("@")[0], "me": True,
        "emailAddress": s.caller}}
    return 200, masked(about, fields)


@dataclass(frozen=True)
class Raw:
    """A response that is not JSON: an exported file."""
    data: bytes
    content_type: str


def _whole(sheet: st.Sheet) -> "a1.Span":
    return a1.Span(sheet.title, None, None, None, None, anchor=True)


XLSX_MIME = st.XLSX_MIME


@route("GET", rf"/drive/v3/files/{KEY}/export")
def drive_export(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    """Drive's export of a spreadsheet: CSV (the first tab, as shown) or xlsx (every tab's
    values, formulas as formulas); an export over 10 MB is Drive's 403
    exportSizeLimitExceeded."""
    book = s.file(key)
    if book.mime != st.SPREADSHEET_MIME:
        raise st.drive_error(403, "fileNotExportable",
                             "Export only supports Docs Editors files.")
    mime = q.get("mimeType", [""])[0]
    if mime == "text/csv":
        _, rows = st.read(book.sheets[0], _whole(book.sheets[0]), "FORMATTED_VALUE")
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        return 200, Raw(out.getvalue().rstrip("\r\n").encode("utf-8"), "text/csv")
    if mime == XLSX_MIME:
        import openpyxl
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for sheet in book.sheets:
            if sheet.kind != "GRID":
                continue          # a chart sheet: no values (the emulator keeps no chart)
            ws = workbook.create_sheet(sheet.title)
            _, rows = st.read(sheet, _whole(sheet), "FORMULA")
            for row in rows:
                ws.append([None if v == "" else v for v in row])
        out = io.BytesIO()
        workbook.save(out)
        if out.tell() > st.MAX_EXPORT:
            raise st.export_too_large()
        return 200, Raw(out.getvalue(), XLSX_MIME)
    raise ApiError(501, "UNIMPLEMENTED", f"the emulator exports only text/csv and xlsx, "
                   f"not {mime!r}")


# -- OAuth -------------------------------------------------------------------------------------

def oauth_token(s: State, raw: bytes) -> tuple[int, Any]:
    """Google's token endpoint (an authorized-user file or OAuth client whose token_uri is
    this emulator), form-encoded grants in, a bearer token out:
    - refresh_token: a new access token, unless the refresh token was revoked or has expired
      (Google's 400 invalid_grant "Token has been expired or revoked."; an OAuth app left in
      Testing has its refresh tokens expire after 7 days);
    - authorization_code: the code /o/oauth2/auth gave out, once; with a refresh token only
      where the account consented just now (see `oauth_consent`).
    The access tokens issued are kept, so a test can see the refresh happened."""
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
    grant = form.get("grant_type")
    if grant == "refresh_token" and form.get("refresh_token"):
        if form["refresh_token"] in s.revoked:
            return 400, {"error": "invalid_grant",
                         "error_description": "Token has been expired or revoked."}
        return 200, _access_token(s, s.refresh_tokens.get(form["refresh_token"]),
                                  form.get("scope", ""))
    if grant == "authorization_code" and form.get("code") in s.codes:
        code = s.codes.pop(form["code"])
        answer = _access_token(s, code["account"], code["scope"])
        if code["refresh"]:
            refresh = f"1//emulator-refresh-{len(s.refresh_tokens) + 1}"
            s.refresh_tokens[refresh] = code["account"]
            answer["refresh_token"] = refresh
        return 200, answer
    if grant == "authorization_code":
        return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
    return 400, {"error": "invalid_grant", "error_description": "Bad Request"}


def _access_token(s: State, account: str | None, scope: str) -> dict:
    token = f"emulator-token-{len(s.tokens) + 1}"
    s.tokens.append(token)
    if account:
        s.accounts[token] = account
    return {"access_token": token, "expires_in": 3599, "token_type": "Bearer",
            "scope": " ".join(scope.split())}


def oauth_consent(s: State, query: dict) -> tuple[int, None, dict]:
    """Google's sign-in page (auth_uri), as if the person signed in as `State.user` and
    clicked Allow: a redirect back to the app with a code. Google hands out a refresh token
    the first time an account consents to an OAuth client, and afterwards only when the app
    asks for consent again (prompt=consent) — a second sign-in without it gets none."""
    one = {k: v[0] for k, v in query.items()}
    client, account = one.get("client_id", ""), s.user
    refresh = one.get("access_type") == "offline" and (
        (client, account) not in s.consented or "consent" in one.get("prompt", "").split())
    s.consented.add((client, account))
    code = f"4/emulator-code-{len(s.codes) + len(s.tokens) + 1}"
    s.codes[code] = {"account": account, "scope": one.get("scope", ""), "refresh": refresh}
    back = {"state": one.get("state", ""), "code": code, "scope": one.get("scope", "")}
    return 302, None, {"Location": one["redirect_uri"] + "?" + urlencode(back)}


# -- Sheets v4: spreadsheets -------------------------------------------------------------------

@route("GET", rf"/v4/spreadsheets/{KEY}")
def get_spreadsheet(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    fields = q.get("fields", [None])[0]
    grid = q.get("includeGridData", ["false"])[0].lower() == "true" or \
        bool(fields and "sheets.data" in fields.replace("/", "."))
    if grid:
        if not q.get("ranges"):
            raise ApiError(501, "UNIMPLEMENTED", "the emulator answers grid data only for the "
                           "ranges asked for")
        return 200, grid_data(s.spreadsheet(key), q["ranges"], fields)
    return 200, masked(s.spreadsheet(key).metadata(), q.get("fields", [None])[0])


@route("POST", rf"/v4/spreadsheets/{KEY}:batchUpdate", "BatchUpdateSpreadsheetRequest")
def batch_update(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    book = s.spreadsheet(key, write=True)
    saved = copy.deepcopy(book)
    replies = []
    try:
        for n, request in enumerate(body.get("requests", [])):
            (kind, args), = request.items()
            handler = BATCH.get(kind)
            if handler is None:
                raise ApiError(501, "UNIMPLEMENTED",
                               f"the emulator does not implement the batchUpdate request {kind}")
            try:
                replies.append(handler(book, args))
            except ApiError as e:     # Google names the request that was refused
                e.message = e.message.replace("Invalid requests[0].", f"Invalid requests[{n}].",
                                              1)
                raise
    except BaseException:
        s.books[key] = saved          # a batch is applied whole or not at all
        raise
    s.touched(book)
    return 200, {"spreadsheetId": key, "replies": replies}


def _add_sheet(book: st.Spreadsheet, args: dict) -> dict:
    props = args.get("properties", {})
    title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
    if any(same_title(sh.title, title) for sh in book.sheets):
        raise bad_request(f'Invalid requests[0].addSheet: A sheet with the name "{title}" '
                          "already exists. Please enter another name.")
    grid = props.get("gridProperties", {})
    sheet_id = props.get("sheetId", random.randrange(1, 2 ** 31 - 1))
    index = min(props.get("index", len(book.sheets)), len(book.sheets))
    sheet = st.Sheet(sheet_id, title, index, grid.get("rowCount", 1000),
                     grid.get("columnCount", 26))
    for name, value in grid.items():           # frozen rows, gridlines …: kept as given
        if name not in ("rowCount", "columnCount"):
            set_field(sheet.extra.setdefault("gridProperties", {}), name, value)
    for name, value in props.items():
        if name not in ("sheetId", "title", "index", "sheetType", "gridProperties"):
            set_field(sheet.extra, name, value)
    book.sheets.insert(index, sheet)
    _renumber(book)
    return {"addSheet": {"properties": sheet.properties()}}


def _delete_sheet(book: st.Spreadsheet, args: dict) -> dict:
    sheet = book.sheet_by_id(args["sheetId"])
    if len(book.sheets) == 1:
        raise bad_request("Invalid requests[0].deleteSheet: You can't remove all the sheets "
                          "in a document.")
    book.sheets.remove(sheet)
    _renumber(book)
    return {}


def _update_sheet_properties(book: st.Spreadsheet, args: dict) -> dict:
    props = args["properties"]
    sheet = book.sheet_by_id(props.get("sheetId", 0))
    for name in fields(args["fields"]):
        value = dig(props, name)
        if name == "title":
            if any(same_title(other.title, value) for other in book.sheets
                   if other is not sheet):
                raise bad_request(f'Invalid requests[0].updateSheetProperties: A sheet with the '
                                  f'name "{value}" already exists. Please enter another name.')
            sheet.title = value
        elif name == "index":
            book.sheets.remove(sheet)
            book.sheets.insert(min(value, len(book.sheets)), sheet)
            _renumber(book)
        elif name == "gridProperties.rowCount":
            sheet.rows = value
        elif name == "gridProperties.columnCount":
            sheet.cols = value
        elif name.startswith("gridProperties."):
            set_field(sheet.extra.setdefault("gridProperties", {}), name.split(".", 1)[1], value)
        else:
            if name == "hidden" and value and not any(
                    not other.extra.get("hidden") for other in book.sheets if other is not sheet):
                raise bad_request("Invalid requests[0].updateSheetProperties: You can't hide "
                                  "all the sheets in a document.")
            set_field(sheet.extra, name, value)
    return {}


def _update_spreadsheet_properties(book: st.Spreadsheet, args: dict) -> dict:
    for name in fields(args["fields"]):
        value = dig(args["properties"], name)
        if name == "title":
            book.title = value
        else:
            book.properties[name] = value
    return {}


BATCH: dict[str, Callable[[st.Spreadsheet, dict], dict]] = {
    "addSheet": _add_sheet, "deleteSheet": _delete_sheet,
    "updateSheetProperties": _update_sheet_properties,
    "updateSpreadsheetProperties": _update_spreadsheet_properties,
    **grid.BATCH,
}


def _renumber(book: st.Spreadsheet) -> None:
    for i, sheet in enumerate(book.sheets):
        sheet.index = i


# -- Sheets v4: values -------------------------------------------------------------------------

def _one(q: dict, name: str, default: str) -> str:
    return q.get(name, [default])[0]


def _value_range(book: st.Spreadsheet, text: str, q: dict) -> dict:
    sheet, span = book.span(text)
    st.within_grid(sheet, span, text)
    major = _one(q, "majorDimension", "ROWS")
    where, values = st.read(sheet, span, _one(q, "valueRenderOption", "FORMATTED_VALUE"), major,
                            _one(q, "dateTimeRenderOption", "SERIAL_NUMBER"))
    out = {"range": where, "majorDimension": major}
    if values:
        out["values"] = values
    return out


@route("GET", rf"/v4/spreadsheets/{KEY}/values/(?P<rng>[^:]+)")
def values_get(s: State, q: dict, body: dict, key: str, rng: str) -> tuple[int, Any]:
    return 200, _value_range(s.spreadsheet(key), unquote(rng), q)


@route("GET", rf"/v4/spreadsheets/{KEY}/values:batchGet")
def values_batch_get(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    book = s.spreadsheet(key)
    return 200, {"spreadsheetId": key,
                 "valueRanges": [_value_range(book, r, q) for r in q.get("ranges", [])]}


def _input_option(option: str | None) -> str:
    if option is None:
        raise bad_request("'valueInputOption' is required but not specified")
    if option not in ("RAW", "USER_ENTERED"):
        raise bad_request(f"Invalid value at 'value_input_option' ({option})")
    return option


@route("PUT", rf"/v4/spreadsheets/{KEY}/values/(?P<rng>[^:]+)", "ValueRange")
def values_update(s: State, q: dict, body: dict, key: str, rng: str) -> tuple[int, Any]:
    book = s.spreadsheet(key, write=True)
    option = _input_option(q.get("valueInputOption", [None])[0])
    sheet, span = book.span(unquote(rng))
    result = st.write(sheet, span, body.get("values", []), option,
                      body.get("majorDimension", "ROWS"))
    s.touched(book)
    return 200, {"spreadsheetId": key, **result}


@route("POST", rf"/v4/spreadsheets/{KEY}/values:batchUpdate", "BatchUpdateValuesRequest")
def values_batch_update(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    book = s.spreadsheet(key, write=True)
    option = _input_option(body.get("valueInputOption"))
    # All or nothing, as Google applies it. A values write only puts new Cell objects into the
    # cell maps, so a shallow copy of each map is enough to undo it (a deep copy of a 100k-row
    # book took seconds a request, which is not Google's latency to imitate).
    saved = {sheet.sheet_id: dict(sheet.cells) for sheet in book.sheets}
    responses = []
    try:
        for data in body.get("data", []):
            sheet, span = book.span(data["range"])
            responses.append({"spreadsheetId": key, **st.write(
                sheet, span, data.get("values", []), option, data.get("majorDimension", "ROWS"))})
    except BaseException:
        for sheet in book.sheets:
            sheet.cells = saved[sheet.sheet_id]
        raise
    s.touched(book)
    rows, cols = set(), set()
    for r in responses:
        if "updatedRange" in r:
            title, span = r["updatedRange"].rsplit("!", 1)[0], book.span(r["updatedRange"])[1]
            rows.update((title, n) for n in range(span.row0 or 0, span.row1 or
                                                  (span.row0 or 0) + 1))
            cols.update((title, n) for n in range(span.col0 or 0, span.col1 or
                                                  (span.col0 or 0) + 1))
    out = {"spreadsheetId": key, "totalUpdatedRows": len(rows),
           "totalUpdatedColumns": len(cols),
           "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
           "totalUpdatedSheets": len({r["updatedRange"].rsplit("!", 1)[0]
                                      for r in responses if "updatedRange" in r}),
           "responses": responses}
    return 200, out


@route("POST", rf"/v4/spreadsheets/{KEY}/values/(?P<rng>[^:]+):clear", "ClearValuesRequest")
def values_clear(s: State, q: dict, body: dict, key: str, rng: str) -> tuple[int, Any]:
    book = s.spreadsheet(key, write=True)
    sheet, span = book.span(unquote(rng))
    cleared = st.clear(sheet, span)
    s.touched(book)
    return 200, {"spreadsheetId": key, "clearedRange": cleared}


@route("POST", rf"/v4/spreadsheets/{KEY}/values:batchClear", "BatchClearValuesRequest")
def values_batch_clear(s: State, q: dict, body: dict, key: str) -> tuple[int, Any]:
    book = s.spreadsheet(key, write=True)
    cleared = []
    for text in body.get("ranges", []):
        sheet, span = book.span(text)
        cleared.append(st.clear(sheet, span))
    s.touched(book)
    return 200, {"spreadsheetId": key, "clearedRanges": cleared}


# -- the server --------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State
    faults: Faults

    def log_message(self, *args: Any) -> None:   # quiet: tests read responses, not logs
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the
        # body back for the client's delayed ACK, 40 ms a request (Google's servers don't).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fault = self.faults.take(self.command, parts.path, length, self.path)
        if self.faults.before is not None:
            with self.state.lock:
                self.faults.before(self.command, parts.path)
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "stall":
            self.faults.stalled.set()
            self.faults.released.wait()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
        elif fault is not None and fault != "lost":
            code, payload, headers = self.faults.answer(fault)
            return self._send(code, payload, headers)
        if parts.path == "/token" and self.command == "POST":
            with self.state.lock:
                return self._send(*oauth_token(self.state, raw))
        if parts.path == "/o/oauth2/auth" and self.command == "GET":
            with self.state.lock:
                return self._send(*oauth_consent(self.state, query))
        service = ("sheets.googleapis.com" if parts.path.startswith("/v4/") else
                   "drive.googleapis.com" if parts.path.startswith("/drive/") else None)
        if service in self.state.disabled:      # checked by Google before anything else
            return self._send(403, st.service_disabled(service).body())
        quota = self.state.quota
        if quota is not None and service == "sheets.googleapis.com":
            try:
                quota.spend(self._account(), self.command)
            except ApiError as e:
                return self._send(429, e.body())
        if length > st.MAX_BODY:                  # refused before it is even parsed
            return self._send(400, st.body_too_large().body())
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._send(400, ApiError(400, "INVALID_ARGUMENT",
                                            "Invalid JSON payload received.").body())
        for method, pattern, fn, schema in ROUTES:
            m = pattern.match(parts.path)
            if method == self.command and m:
                wrong = schema_problems(schema, body) if schema else []
                if wrong:
                    return self._send(400, ApiError(400, "INVALID_ARGUMENT", wrong[0]).body())
                try:
                    with self.state.lock:
                        self.state.caller = self._account()
                        try:
                            code, payload = fn(self.state, query, body, **m.groupdict())
                        finally:
                            self.state.caller = self.state.user
                except ApiError as e:
                    code, payload = e.code, e.body()
                except (KeyError, TypeError, ValueError) as e:
                    code, payload = 400, bad_request(f"Invalid request: {e}").body()
                if fault == "lost":       # done, but the answer never reaches the client
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                return self._send(code, payload)
        self._send(501, ApiError(501, "UNIMPLEMENTED", f"the emulator does not implement "
                                 f"{self.command} {parts.path}").body())

    def _account(self) -> str:
        """The account the request's access token was issued to (any other: State.user)."""
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        return self.state.accounts.get(token, self.state.user)

    def _send(self, code: int, payload: Any, headers: dict | None = None) -> None:
        if isinstance(payload, Raw):
            data, kind = payload.data, payload.content_type
        else:
            data = b"" if payload is None else json.dumps(payload, indent=2).encode()
            kind = "application/json; charset=UTF-8"
        self.send_response(code)
        if payload is not None:
            self.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class FakeSheetsServer:
    """A fresh emulator on 127.0.0.1 (port 0: any free one), served from a thread."""

    def __init__(self, port: int = 0, user: str = "tests@sheetkeeper.iam.gserviceaccount.com"):
        self.state = State(user)
        self.faults = Faults()
        handler = type("BoundHandler", (Handler,), {"state": self.state, "faults": self.faults})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> "FakeSheetsServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stops serving, closes every connection a client kept alive, and waits for each
        handler's thread to end: nothing of the emulator outlives its test."""
        self.faults.release()              # a stalled handler's thread ends
        self.httpd.shutdown()
        self.httpd.close_connections()
        self.httpd.server_close()          # joins the handlers' threads (block_on_close)
        self.thread.join(5)


class _Server(ThreadingHTTPServer):
    """A handler thread per connection, as http.server has it, and the connections kept, so
    that `stop` can end them: gspread's session keeps its connection open between requests,
    and its handler thread would wait on it for ever."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._open: set = set()
        self._lock = threading.Lock()

    def process_request(self, request, client_address):
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._lock:
            still = list(self._open)
        for request in still:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
