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

from typing import Any

import gspread
from google.oauth2.credentials import Credentials
from gspread.http_client import HTTPClient

from .server import FakeSheetsServer

GOOGLE_HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")


class EmulatorHTTPClient(HTTPClient):
    """gspread's own HTTP client, with Google's two hosts rewritten to the emulator's address.
    Every gspread call goes through `request`, so nothing else needs to change."""

    base = ""

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any):
        for host in GOOGLE_HOSTS:
            if endpoint.startswith(host):
                endpoint = self.base + endpoint[len(host):]
                break
        return super().request(method, endpoint, *args, **kwargs)


def http_client_for(server: FakeSheetsServer) -> type[EmulatorHTTPClient]:
    return type("BoundEmulatorHTTPClient", (EmulatorHTTPClient,), {"base": server.url})


def client(server: FakeSheetsServer) -> gspread.Client:
    # A token that never expires: google-auth never tries to refresh it over the network.
    return gspread.Client(Credentials(token="test"), http_client=http_client_for(server))


__all__ = ["FakeSheetsServer", "EmulatorHTTPClient", "client", "http_client_for"]
