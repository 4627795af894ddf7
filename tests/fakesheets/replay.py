"""Replaying Google's recorded traffic (vcrpy cassettes) against the emulator.

A cassette is in scope when every request in it is one the emulator implements (its routes, and
for batchUpdate its request kinds). Its requests are sent in order to a fresh emulator, with the
ids Google made (spreadsheets, sheets) mapped to the ones the emulator made, and each response is
compared with Google's: the same status code and, once ids are mapped back and volatile fields
(times) dropped, the same JSON.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import requests

from .server import BATCH, ROUTES, FakeSheetsServer

RECORDED = Path(__file__).resolve().parent.parent / "google_recorded"
VOLATILE = {"createdTime", "modifiedTime", "version"}
RECORDED_ACCOUNT = "telegram-budgeter@telegram-budgeter.iam.gserviceaccount.com"  # made them
HOST = re.compile(r"^https://(sheets|www)\.googleapis\.com")


@dataclass(frozen=True)
class Exchange:
    method: str
    uri: str
    body: str | None
    status: int
    response: str


def cassettes() -> list[Path]:
    return sorted(p for p in RECORDED.glob("*.json"))


def exchanges(path: Path) -> list[Exchange]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Exchange(i["request"]["method"], i["request"]["uri"], i["request"]["body"],
                     i["response"]["status"]["code"], i["response"]["body"]["string"])
            for i in data["interactions"]]


def out_of_scope(exchange: Exchange) -> str | None:
    """Why the emulator cannot answer this request (None: it can)."""
    parts = urlsplit(HOST.sub("", exchange.uri))
    route = next((r for r in ROUTES if r[0] == exchange.method and r[1].match(parts.path)), None)
    if route is None:
        return f"{exchange.method} {parts.path}"
    query = parse_qs(parts.query)
    if query.get("includeGridData") == ["true"] and "ranges" not in query:
        return "includeGridData without ranges"
    body = json.loads(exchange.body) if exchange.body else {}
    if parts.path.endswith(":batchUpdate") and "/values" not in parts.path:
        kinds = {k for r in body.get("requests", []) for k in r}
        if kinds - set(BATCH):
            return "batchUpdate " + ", ".join(sorted(kinds - set(BATCH)))
        sized = [r["updateDimensionProperties"] for r in body.get("requests", [])
                 if "updateDimensionProperties" in r]
        if any(u.get("fields") != "pixelSize" or u.get("range", {}).get("dimension")
               != "COLUMNS" for u in sized):
            return "updateDimensionProperties other than columns' pixelSize"
    if parts.path == "/drive/v3/files" and exchange.method == "POST" and \
            body.get("mimeType") != "application/vnd.google-apps.spreadsheet":
        return "Drive create of a non-spreadsheet"
    if "valueRenderOption" in query and query["valueRenderOption"] != ["FORMATTED_VALUE"] \
            and query["valueRenderOption"] != ["UNFORMATTED_VALUE"] \
            and query["valueRenderOption"] != ["FORMULA"]:
        return "valueRenderOption " + query["valueRenderOption"][0]
    return None


def scope(path: Path) -> str | None:
    return next((why for e in exchanges(path) if (why := out_of_scope(e))), None)


@dataclass
class Mismatch:
    index: int
    request: str
    expected: Any
    got: Any


class IdMap:
    """Google's ids ↔ the emulator's, learnt from responses as they come."""

    def __init__(self) -> None:
        self.to_emulator: dict[str, str] = {}

    def learn(self, recorded: Any, emulated: Any) -> None:
        if isinstance(recorded, dict) and isinstance(emulated, dict):
            for key in recorded.keys() & emulated.keys():
                if key in ("id", "spreadsheetId", "sheetId", "protectedRangeId") \
                        and recorded[key] != emulated[key]:
                    self.to_emulator.setdefault(str(recorded[key]), str(emulated[key]))
                else:
                    self.learn(recorded[key], emulated[key])
        elif isinstance(recorded, list) and isinstance(emulated, list):
            for a, b in zip(recorded, emulated):
                self.learn(a, b)

    def forward(self, text: str) -> str:
        for old, new in sorted(self.to_emulator.items(), key=lambda kv: -len(kv[0])):
            if len(old) > 6:          # spreadsheet ids: plain text anywhere
                text = text.replace(old, new)
            else:                     # sheet and range ids: only as JSON numbers after their key
                text = re.sub(rf'("(?:sheetId|protectedRangeId)": ?){old}\b', rf"\g<1>{new}",
                              text)
                text = re.sub(rf"(/sheets/){old}\b", rf"\g<1>{new}", text)
        return text

    def back(self, obj: Any) -> Any:
        back = {v: k for k, v in self.to_emulator.items()}
        if isinstance(obj, dict):
            return {k: (int(back[str(v)]) if isinstance(v, int) and str(v) in back else
                        back.get(v, v) if isinstance(v, str) and k in ("id", "spreadsheetId")
                        else self.back(v)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.back(v) for v in obj]
        if isinstance(obj, str):
            for new, old in back.items():
                if len(old) > 6:
                    obj = obj.replace(new, old)
            return obj
        return obj


def _without_volatile(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _without_volatile(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_without_volatile(v) for v in obj]
    return obj


def replay(path: Path, server: FakeSheetsServer) -> Iterator[Mismatch]:
    ids = IdMap()
    session = requests.Session()
    for n, e in enumerate(exchanges(path)):
        url = server.url + HOST.sub("", ids.forward(e.uri))
        body = ids.forward(e.body) if e.body else None
        response = session.request(e.method, url, data=body.encode() if body else None,
                                   headers={"Content-Type": "application/json"})
        if e.response.strip() and not e.response.lstrip().startswith(("{", "[")):
            # An exported file (text/csv): the same text.
            if (response.status_code, response.text) != (e.status, e.response):
                yield Mismatch(n, f"{e.method} {e.uri}", e.response, response.text)
            continue
        expected = json.loads(e.response) if e.response.strip() else None
        got = response.json() if response.content else None
        if expected is not None and got is not None:
            ids.learn(expected, got)
            got = ids.back(got)
        if response.status_code != e.status:
            yield Mismatch(n, f"{e.method} {e.uri}", e.status, (response.status_code, got))
        elif _without_volatile(got) != _without_volatile(expected) and e.status < 400:
            yield Mismatch(n, f"{e.method} {e.uri}", expected, got)
