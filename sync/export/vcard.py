"""Contacts as vCards, for a phone's or a mail program's address book: vCard 3.0 (RFC 2426, what
iOS, Android, Google Contacts and Outlook all import) or 4.0 (RFC 6350). Pure: an ExportTable
in, the file's bytes out. UTF-8, CRLF, lines folded at 75 octets without splitting a character.

A vCard is not a spreadsheet, so no cell is escaped as a formula; text is escaped as the RFCs
say (backslash, comma, semicolon, line breaks)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from .crm import split_name
from .select import ExportTable

VERSIONS = ("3.0", "4.0")


def vcard_bytes(table: ExportTable, version: str = "3.0") -> bytes:
    at = {k: j for j, k in enumerate(table.keys) if k}
    id_key = next((k for k, t in zip(table.keys, table.types) if t == "id"), None)
    lines: list[str] = []
    for row in table.rows:
        def get(key: str | None, row=row) -> Any:
            return row[at[key]] if key in at else None

        name = _text(get("name"))
        if not name and not get("email") and not get("phone"):
            continue               # nothing to know a contact by
        first, last = split_name(name)
        lines += ["BEGIN:VCARD", f"VERSION:{version}",
                  f"N:{_esc(last)};{_esc(first)};;;", f"FN:{_esc(name)}",
                  *_reach(get, version), *_about(get, version, id_key), "END:VCARD"]
    return "".join(_folded(line) + "\r\n" for line in lines).encode("utf-8")


def _reach(get, version: str) -> list[str]:
    """Where the contact works and how to reach them: ORG, TITLE, TEL, EMAIL, ADR."""
    out = [f"{prop}:{_esc(_text(get(key)))}" for key, prop in (("company", "ORG"),
                                                                ("title", "TITLE"))
           if _text(get(key))]
    phone = _text(get("phone"))
    if phone and version == "4.0":
        out.append(f"TEL;VALUE=uri:tel:{phone}" if phone.startswith("+") and phone[1:].isdigit()
                   else f"TEL;VALUE=text:{_esc(phone)}")
    elif phone:
        out.append(f"TEL;TYPE=VOICE:{_esc(phone)}")
    email = _text(get("email"))
    if email:
        out.append(f"EMAIL;TYPE=INTERNET:{_esc(email)}" if version == "3.0"
                   else f"EMAIL:{_esc(email)}")
    address = _text(get("address"))
    if address:
        out.append(f"ADR:;;{_esc(address)};;;;")
    return out


def _about(get, version: str, id_key: str | None) -> list[str]:
    """What else the card says: BDAY, CATEGORIES (tags), NOTE, and the row's ID as UID."""
    out = []
    birthday = get("birthday")
    if isinstance(birthday, (dt.date, dt.datetime)):
        day = birthday.date() if isinstance(birthday, dt.datetime) else birthday
        out.append(f"BDAY:{day.strftime('%Y%m%d') if version == '4.0' else day.isoformat()}")
    tags = _text(get("tags")) or _text(get("activities"))
    if tags:
        out.append("CATEGORIES:" + ",".join(_esc(t.strip()) for t in tags.split(",")
                                            if t.strip()))
    notes = _text(get("notes"))
    if notes:
        out.append(f"NOTE:{_esc(notes)}")
    rid = _text(get(id_key)) if id_key else ""
    if rid:
        out.append(f"UID:{_esc(rid)}" if version == "3.0" else f"UID;VALUE=text:{_esc(rid)}")
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _esc(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n"))


def _folded(line: str, limit: int = 75) -> str:
    """Fold a content line at `limit` octets (RFC 6350 3.2), never inside a UTF-8 character."""
    if len(line.encode("utf-8")) <= limit:
        return line
    parts, current, size = [], [], 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        # a continuation line begins with a space, which counts towards its octets
        if size + n > (limit if not parts else limit - 1):
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    parts.append("".join(current))
    return "\r\n ".join(parts)
