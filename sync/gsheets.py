"""Google Sheets through gspread: the one module that imports it, and where its errors become
sheetkeeper's own. (In progress: the sync cycle does not use it yet; see the README.)

- Requests are retried by tenacity on 429, 5xx and dropped connections, with exponential
  backoff and jitter, never sooner than Google's Retry-After, and bounded in attempts and time.
  (gspread 6.2.1's BackOffHTTPClient never gives up; it is not used.)
- A read is one values:batchGet of every tab a cycle needs, unformatted (dates as serial
  numbers); Google's trimming of trailing empty cells and rows is undone, so every row has the
  header's width.
- A write first re-reads exactly the cells it is about to change (one batchGet) and drops those
  that moved since the cycle read them: Google has no compare-and-swap, and a person's edit must
  never be overwritten. The rest go in one values:batchUpdate, RAW, so "+8613800138000" stays
  text instead of being parsed into a number.
- The cheap change signal is Drive's files.get with fields modifiedTime and version.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import gspread
import requests
import tenacity
from gspread.http_client import HTTPClient
from gspread.utils import ValueInputOption, ValueRenderOption, extract_id_from_url

from .errors import SheetkeeperError
from .xlsx_package import column_letter
from .xlsx_write import CellWrite

RETRYABLE = frozenset({429, 500, 502, 503, 504})
SERIAL_EPOCH = dt.date(1899, 12, 30)
MAX_GUARD_RANGES = 400   # beyond this, the guard re-reads whole tabs (still one request)


class GoogleSheetsError(SheetkeeperError):
    """Google Sheets cannot be used as asked; says what to do."""


class GoogleUnavailable(GoogleSheetsError):
    """Google kept failing after every retry; nothing more was sent."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, gspread.exceptions.APIError):
        return exc.response.status_code in RETRYABLE
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def _retry_after(exc: BaseException | None) -> float:
    if isinstance(exc, gspread.exceptions.APIError):
        header = exc.response.headers.get("Retry-After", "")
        try:
            return float(header)
        except ValueError:
            return 0.0
    return 0.0


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client, every request retried the way Google asks."""

    stop: Any = tenacity.stop_after_attempt(6) | tenacity.stop_after_delay(90)
    backoff: Any = tenacity.wait_random_exponential(multiplier=0.5, max=30)
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def request(self, *args: Any, **kwargs: Any):
        def wait(state: tenacity.RetryCallState) -> float:
            return max(self.backoff(state), _retry_after(state.outcome.exception()))

        retrying = tenacity.Retrying(stop=self.stop, wait=wait,
                                     retry=tenacity.retry_if_exception(_transient),
                                     sleep=self.sleep, reraise=True)
        try:
            return retrying(super().request, *args, **kwargs)
        except (gspread.exceptions.APIError, requests.RequestException) as e:
            if _transient(e):
                raise GoogleUnavailable(
                    f"Google Sheets kept failing ({_describe(e)}) after every retry; nothing "
                    "more was sent. sheetkeeper tries again on the next cycle") from None
            raise


def _describe(e: BaseException) -> str:
    if isinstance(e, gspread.exceptions.APIError):
        return f"{e.response.status_code} {e.error.get('status', '')}".strip()
    return type(e).__name__


# -- opening -----------------------------------------------------------------------------------

def spreadsheet_key(ref: str) -> str:
    """`gsheet:KEY`, a key, or the sheet's URL."""
    ref = ref.strip()
    if ref.startswith("gsheet:"):
        ref = ref[len("gsheet:"):]
    if ref.startswith("http"):
        try:
            return extract_id_from_url(ref)
        except gspread.exceptions.NoValidUrlKeyFound:
            raise GoogleSheetsError(f"{ref} is not the address of a Google Sheet; copy it from "
                                    "the browser's address bar while the sheet is open") from None
    if not ref:
        raise GoogleSheetsError("no spreadsheet named; give its key or URL (gsheet:KEY)")
    return ref


def service_account_client(key_file: Path,
                           http_client: type[HTTPClient] = RetryingHTTPClient
                           ) -> tuple[gspread.Client, str]:
    """A client authorised by a service-account key file, and the account's email (the address
    the sheet must be shared with)."""
    key_file = Path(key_file)
    try:
        info = json.loads(key_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GoogleSheetsError(
            f"{key_file}: no such key file. Create one in Google Cloud (IAM & Admin → Service "
            "accounts → your account → Keys → Add key → JSON) and name it in the config") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise GoogleSheetsError(f"{key_file}: not a readable JSON key file ({e}); download the "
                                "service account's key again") from None
    if not isinstance(info, dict) or info.get("type") != "service_account" \
            or "client_email" not in info:
        raise GoogleSheetsError(f"{key_file}: not a service-account key (it has no "
                                "client_email); download a JSON key for a service account")
    return gspread.service_account(filename=str(key_file), http_client=http_client), \
        info["client_email"]


@dataclass
class GoogleSheet:
    """One spreadsheet, opened."""
    spreadsheet: gspread.Spreadsheet
    account: str | None = None

    @property
    def key(self) -> str:
        return self.spreadsheet.id

    @classmethod
    def open(cls, client: gspread.Client, ref: str, account: str | None = None) -> "GoogleSheet":
        key = spreadsheet_key(ref)
        share = (f"share it with {account} (as Editor), then run again" if account else
                 "check that the account sheetkeeper uses can edit it")
        try:
            return cls(client.open_by_key(key), account)
        except gspread.exceptions.SpreadsheetNotFound:
            raise GoogleSheetsError(f"spreadsheet {key} was not found: it does not exist, or it "
                                    f"is not shared with sheetkeeper; {share}") from None
        except gspread.exceptions.APIError as e:
            if e.response.status_code == 403:
                raise GoogleSheetsError(f"spreadsheet {key} is not shared with sheetkeeper; "
                                        f"{share}") from None
            raise GoogleSheetsError(f"spreadsheet {key}: Google answered "
                                    f"{_describe(e)}: {e.error.get('message')}") from None

    # -- change detection --------------------------------------------------------------------

    def change_signal(self) -> tuple[str, str]:
        """(modifiedTime, version) from Drive: one cheap request."""
        meta = self.spreadsheet.client.request(
            "get", f"https://www.googleapis.com/drive/v3/files/{self.key}",
            params={"fields": "modifiedTime,version", "supportsAllDrives": True}).json()
        return meta.get("modifiedTime", ""), str(meta.get("version", ""))

    # -- reading -----------------------------------------------------------------------------

    def read(self, tabs: Sequence[str]) -> dict[str, list[list[Any]]]:
        """Every tab's values in one request, rectangular (Google's trimming undone)."""
        answer = self.spreadsheet.values_batch_get(
            [quoted_tab(t) for t in tabs],
            params={"valueRenderOption": ValueRenderOption.unformatted,
                    "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"})
        out = {}
        for tab, value_range in zip(tabs, answer.get("valueRanges", [])):
            rows = value_range.get("values", [])
            width = max((len(r) for r in rows), default=0)
            out[tab] = [[None if v == "" else v for v in row] + [None] * (width - len(row))
                        for row in rows]
        return out

    # -- writing -----------------------------------------------------------------------------

    def write(self, writes: Mapping[str, Sequence[CellWrite]],
              expected: Mapping[tuple[str, int, int], Any]) -> "WriteOutcome":
        """Write `writes` (per tab) where the cell still holds `expected[(tab, row, col)]`, the
        value the cycle read; cells a person changed since are left, and returned."""
        cells = [(tab, w) for tab, ws in writes.items() for w in ws]
        if not cells:
            return WriteOutcome((), ())
        current = self._current(cells)
        fresh, moved = [], []
        for tab, w in cells:
            now = current.get((tab, w.row, w.column))
            (fresh if _same(now, expected.get((tab, w.row, w.column))) else moved).append((tab, w))
        if fresh:
            self.spreadsheet.values_batch_update({
                "valueInputOption": ValueInputOption.raw,
                "data": [{"range": f"{quoted_tab(tab)}!{column_letter(w.column)}{w.row}",
                          "values": [[_raw(w.value)]]} for tab, w in fresh]})
        return WriteOutcome(tuple(fresh), tuple(moved))

    def _current(self, cells: list[tuple[str, CellWrite]]) -> dict[tuple[str, int, int], Any]:
        """What the cells hold now: one batchGet, of the cells themselves or, when they are too
        many for one request's address, of their whole tabs."""
        params = {"valueRenderOption": ValueRenderOption.unformatted,
                  "dateTimeRenderOption": "SERIAL_NUMBER"}
        if len(cells) <= MAX_GUARD_RANGES:
            ranges = [f"{quoted_tab(tab)}!{column_letter(w.column)}{w.row}" for tab, w in cells]
            answer = self.spreadsheet.values_batch_get(ranges, params=params)
            return {(tab, w.row, w.column): _only(vr)
                    for (tab, w), vr in zip(cells, answer.get("valueRanges", []))}
        tabs = sorted({tab for tab, _ in cells})
        whole = self.read(tabs)
        return {(tab, w.row, w.column): _at(whole[tab], w.row - 1, w.column)
                for tab, w in cells}


@dataclass(frozen=True)
class WriteOutcome:
    written: tuple
    moved: tuple       # (tab, CellWrite) a person changed since the read: not written


def quoted_tab(tab: str) -> str:
    return "'" + tab.replace("'", "''") + "'"


def _only(value_range: Mapping[str, Any]) -> Any:
    values = value_range.get("values", [])
    return values[0][0] if values and values[0] else None


def _at(rows: list[list[Any]], i: int, j: int) -> Any:
    return rows[i][j] if i < len(rows) and j < len(rows[i]) else None


def _same(now: Any, before: Any) -> bool:
    if now in ("", None) and before in ("", None):
        return True
    if isinstance(before, (dt.date, dt.datetime)):
        return now == _raw(before)
    return now == before


def _raw(value: Any) -> Any:
    """A value as it goes in RAW: dates as serial numbers (the column's date format shows
    them), everything else as is; text stays text."""
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime.combine(SERIAL_EPOCH, dt.time())
        return delta.days + delta.seconds / 86400
    if isinstance(value, dt.date):
        return (value - SERIAL_EPOCH).days
    return "" if value is None else value

