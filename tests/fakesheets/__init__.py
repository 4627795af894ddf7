"""A local, stateful emulator of the parts of Google's Sheets v4 and Drive v3 REST APIs that
gspread and sheetkeeper use, over real HTTP on 127.0.0.1, and the real gspread client pointed at
it. Its fidelity is shown by replaying Google's recorded traffic (tests/google_recorded) in
tests/test_fakesheets_replay.py.

    server = FakeSheetsServer().start()
    gc = client(server)                       # a real gspread.Client
    sh = gc.create("Customers")

`python -m tests.fakesheets --port 8765` serves a fresh one by hand.
"""
from __future__ import annotations

import gspread
from google.oauth2.credentials import Credentials
from gspread.http_client import HTTPClient

from sync.gsheets.client import OtherHost

from .server import FakeSheetsServer

class EmulatorHTTPClient(OtherHost, HTTPClient):
    """gspread's own HTTP client, plain (no retries: tests see every answer as it comes), at
    the emulator's address."""


def http_client_for(server: FakeSheetsServer) -> type[EmulatorHTTPClient]:
    return type("BoundEmulatorHTTPClient", (EmulatorHTTPClient,), {"base": server.url})


def client(server: FakeSheetsServer) -> gspread.Client:
    # A token that never expires: google-auth never tries to refresh it over the network.
    return gspread.Client(Credentials(token="test"), http_client=http_client_for(server))


def installed_sheet(server: FakeSheetsServer, rows: list[list], title: str = "Customers",
                    raw: bool = True):
    """A new spreadsheet with the crm template installed (English) and `rows` typed into the
    Customers tab from A2: a sheetkeeper GoogleSheet on it."""
    from sheet_templates import builtin
    from sync.gsheets.client import GoogleSheet
    from sync.gsheets.install import install_into
    gc = client(server)
    sh = gc.create(title)
    google = GoogleSheet.open(gc, sh.id)
    install_into(google, builtin("crm"), "en")
    if rows:
        table = sh.worksheet("Customers")
        if len(rows) + 1 > table.row_count:
            table.resize(rows=len(rows) + 1)
        table.update(rows, "A2", raw=raw)
    return google


__all__ = ["FakeSheetsServer", "EmulatorHTTPClient", "client", "http_client_for",
           "installed_sheet"]
