"""vCards (3.0 and 4.0: what phones and mail programs export) as rows to import. Each card is
cut from the stream and parsed alone by vobject, so memory holds one card at a time and an
unreadable card is named by its line.

A card becomes a row under the template's English headers: its name (FN, else N), company
(ORG), title, first phone, email and address, birthday, notes and categories (as Tags). A
second phone, email or address goes under "Other phones" and the like, which no template
column takes: they go to Notes with the rest of what is not mapped. What a card says that is
not about the customer (PHOTO, UID, PRODID, REV, …) is not imported, and the report says so.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import vobject

from i18n import _

from . import ImportInputError
from .sources import Row, SourceFile

HEADERS = ("Name", "Company", "Title", "Phone", "Email", "Address", "Birthday", "Notes", "Tags",
           "Other phones", "Other emails", "Other addresses", "Nickname", "Website")
TAKEN = {"fn", "n", "org", "title", "tel", "email", "adr", "bday", "note", "categories",
         "nickname", "url", "version"}


def read_vcards(path: Path, lines: Iterator[str], encoding: str) -> SourceFile:
    left_out: set[str] = set()
    rows = _rows(path, _cards(path, lines), left_out)
    first = next(rows, None)
    if first is None:
        raise ImportInputError(_("{file}: holds no vCard (no BEGIN:VCARD line); is it a "
                                 "contacts export?", file=path.name))
    return SourceFile(path, "vcard", HEADERS, _chain(first, rows),
                      _("vCards, {encoding}", encoding=encoding.upper()), left_out)


def _chain(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def _cards(path: Path, lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    """Each card's text and the line it starts on."""
    card: list[str] | None = None
    start = 0
    for n, line in enumerate(lines, start=1):
        word = line.strip().upper()
        if word == "BEGIN:VCARD":
            card, start = [line], n
        elif card is not None:
            card.append(line)
            if word == "END:VCARD":
                yield start, "".join(card)
                card = None
    if card is not None:
        raise ImportInputError(_("{file}: the vCard starting on line {line} has no END:VCARD; "
                                 "the file is cut short", file=path.name, line=start))


def _rows(path: Path, cards: Iterator[tuple[int, str]], left_out: set[str]) -> Iterator[Row]:
    for start, text in cards:
        try:
            card = vobject.readOne(text, ignoreUnreadable=True, allowQP=True)
        except Exception as e:    # vobject's ParseError and the odd ValueError of a bad value
            raise ImportInputError(_("{file}: the vCard starting on line {line} cannot be read "
                                     "({error})", file=path.name, line=start,
                                     error=str(e))) from None
        left_out.update(k.upper() for k in card.contents if k not in TAKEN)
        yield start, _values(card)


def _values(card: Any) -> list[Any]:
    contents = card.contents
    phones = [_tel(t.value) for t in contents.get("tel", []) if _tel(t.value)]
    emails = [str(e.value).strip() for e in contents.get("email", []) if str(e.value).strip()]
    addresses = [a for a in (_address(a.value) for a in contents.get("adr", [])) if a]
    row = {
        "Name": _name(contents),
        "Company": _joined(contents, "org", ", "),
        "Title": _joined(contents, "title", "; "),
        "Phone": phones[0] if phones else None,
        "Email": emails[0] if emails else None,
        "Address": addresses[0] if addresses else None,
        "Birthday": _first(contents, "bday"),
        "Notes": _joined(contents, "note", "\n"),
        "Tags": _joined(contents, "categories", ", "),
        "Other phones": "; ".join(phones[1:]) or None,
        "Other emails": "; ".join(emails[1:]) or None,
        "Other addresses": " | ".join(addresses[1:]) or None,
        "Nickname": _joined(contents, "nickname", ", "),
        "Website": _joined(contents, "url", " "),
    }
    return [row[h] for h in HEADERS]


def _name(contents) -> str | None:
    full = _first(contents, "fn")
    if full:
        return full
    n = contents.get("n")
    if not n:
        return None
    name = n[0].value
    parts = [name.prefix, name.given, name.additional, name.family, name.suffix]
    return " ".join(" ".join(p) if isinstance(p, list) else p for p in parts if p) or None


def _tel(value: Any) -> str:
    text = str(value).strip()
    # vCard 4.0 writes a phone as a URI: tel:+1-555-555-5555;ext=5555
    return text[4:] if text.lower().startswith("tel:") else text


def _address(value: Any) -> str:
    parts = [value.box, value.extended, value.street, value.city, value.region, value.code,
             value.country]
    flat = [" ".join(p) if isinstance(p, list) else p for p in parts]
    return ", ".join(p.strip() for p in flat if p and p.strip())


def _first(contents, key: str) -> str | None:
    items = contents.get(key)
    value = items[0].value if items else None
    return str(value).strip() or None if value is not None else None


def _joined(contents, key: str, sep: str) -> str | None:
    out = []
    for item in contents.get(key, []):
        value = item.value
        parts = value if isinstance(value, list) else [value]
        out += [str(p).strip() for p in parts if p is not None and str(p).strip()]
    return sep.join(out) or None
