"""A local, stateful emulator of the parts of Google's Sheets v4 and Drive v3 REST APIs that
gspread and sheetkeeper use, over real HTTP on 127.0.0.1, and the real gspread client pointed at
it. Its fidelity is shown by replaying Google's recorded traffic (tests/google_recorded) in
tests/test_fakesheets_replay.py.

    server = FakeSheetsServer().start()
    gc = client(server)                       # a real gspread.Client
    sh = gc.create("Customers")
    theirs = client(server, "owner@team.example").create("Members")   # another account's:
    theirs.share(server.state.user, perm_type="user", role="writer")  # shared with this one
    server.state.disabled.add("drive.googleapis.com")  # the Drive API switched off: 403
    server.state.revoked.add("1//refresh")              # a sign-in expired or revoked

It refuses what Google refuses, in Google's JSON: a sheet not shared with the account (403), a
write by an account that may only read it (403), an API switched off (403 SERVICE_DISABLED with
the console link), an .xlsx file stored in Drive (400 FAILED_PRECONDITION), a tab title that
differs from another only in case (400), a refresh token expired or revoked (invalid_grant); and
its sign-in page hands out a refresh token only at first consent or when asked (prompt=consent).

`python -m tests.fakesheets --port 8765` serves a fresh one by hand.
"""
from __future__ import annotations

import gspread
import tenacity
from google.oauth2.credentials import Credentials
from gspread.http_client import HTTPClient

from sync.gsheets.client import OtherHost, RetryingHTTPClient

from .server import FakeSheetsServer

class EmulatorHTTPClient(OtherHost, HTTPClient):
    """gspread's own HTTP client, plain (no retries: tests see every answer as it comes), at
    the emulator's address."""


class SheetkeeperHTTPClient(OtherHost, RetryingHTTPClient):
    """sheetkeeper's own HTTP client at the emulator, every error translated into
    sheetkeeper's own as in production, but each request sent once: a test sees every failure
    as it comes (a lost answer is GoogleUnavailable, not a retry that lands)."""

    stop = tenacity.stop_after_attempt(1)


def http_client_for(server: FakeSheetsServer) -> type[EmulatorHTTPClient]:
    return type("BoundEmulatorHTTPClient", (EmulatorHTTPClient,), {"base": server.url})


def sheetkeeper_client(server: FakeSheetsServer) -> gspread.Client:
    """A gspread client as sheetkeeper makes one (its errors sheetkeeper's own), sending each
    request once."""
    bound = type("BoundSheetkeeperHTTPClient", (SheetkeeperHTTPClient,), {"base": server.url})
    return gspread.Client(Credentials(token="test"), http_client=bound)


def client(server: FakeSheetsServer, account: str | None = None) -> gspread.Client:
    """A gspread client acting as the emulator's own user, or as another `account` (the
    owner of a team's sheet, a person sharing it)."""
    # A token that never expires: google-auth never tries to refresh it over the network.
    token = server.state.sign_in(account) if account else "test"
    return gspread.Client(Credentials(token=token), http_client=http_client_for(server))


def installed_sheet(server: FakeSheetsServer, rows: list[list], title: str = "Customers",
                    raw: bool = True):
    """A new spreadsheet with the crm template installed (English) and `rows` typed into the
    Customers tab from A2: a sheetkeeper GoogleSheet on it, opened through sheetkeeper's own
    client (`sheetkeeper_client`)."""
    from sheet_templates import builtin
    from sync.gsheets.client import GoogleSheet
    from sync.gsheets.install import install_into
    gc = sheetkeeper_client(server)
    sh = gc.create(title)
    google = GoogleSheet.open(gc, sh.id)
    install_into(google, builtin("crm"), "en")
    if rows:
        table = sh.worksheet("Customers")
        if len(rows) + 1 > table.row_count:
            table.resize(rows=len(rows) + 1)
        table.update(rows, "A2", raw=raw)
    return google


__all__ = ["FakeSheetsServer", "EmulatorHTTPClient", "SheetkeeperHTTPClient", "client",
           "http_client_for", "installed_sheet", "sheetkeeper_client"]
