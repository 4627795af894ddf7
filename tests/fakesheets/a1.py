"""A1 notation as the Sheets API reads and writes it: `'My sheet'!A2:C9`, `Sheet1!B:B`, `Sheet1!3:4`,
`Sheet1` (the whole grid), `A1` (the first sheet). Rows and columns here are 0-based and the end
is exclusive, as in the API's GridRange."""
from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


@dataclass(frozen=True)
class Span:
    title: str | None          # None: the first sheet
    row0: int | None           # None: open (from the first row / to the last)
    col0: int | None
    row1: int | None
    col1: int | None
    anchor: bool = False       # one cell, or a bare title: where a write starts, not a bound

    def clamp(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        return (self.row0 or 0, self.col0 or 0,
                rows if self.row1 is None else min(self.row1, rows),
                cols if self.col1 is None else min(self.col1, cols))


class RangeError(ValueError):
    pass


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_title(text: str) -> tuple[str | None, str]:
    """(`sheet title` or None, the cell part)."""
    if text.startswith("'"):
        end = 1
        title = ""
        while end < len(text):
            if text[end] == "'":
                if end + 1 < len(text) and text[end + 1] == "'":
                    title += "'"
                    end += 2
                    continue
                break
            title += text[end]
            end += 1
        rest = text[end + 1:]
        return title, rest[1:] if rest.startswith("!") else rest
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def parse(text: str, titles: list[str]) -> Span:
    title, cells = split_title(text)
    if title is None and cells in titles:       # a bare sheet title is the whole sheet
        return Span(cells, None, None, None, None, anchor=True)
    if title is not None and not cells:
        return Span(title, None, None, None, None, anchor=True)
    start, _, end = cells.partition(":")
    a = _CELL.match(start)
    b = _CELL.match(end) if end else a
    if not a or not b or (not start):
        raise RangeError(f"Unable to parse range: {text}")
    (c0, r0), (c1, r1) = a.groups(), b.groups()
    rows = sorted([int(r0), int(r1)]) if r0 and r1 else [int(r0) if r0 else None,
                                                          int(r1) if r1 else None]
    cols = sorted([column_number(c0), column_number(c1)]) if c0 and c1 else [
        column_number(c0) if c0 else None, column_number(c1) if c1 else None]
    # D4:A1 is A1:D4, as the API reads it.
    return Span(title, rows[0] - 1 if rows[0] else None, cols[0],
                rows[1], cols[1] + 1 if cols[1] is not None else None, anchor=not end)


def quote_title(title: str) -> str:
    """How the API writes a title in a range: bare when it is a plain word, else quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
            r"[A-Za-z]{1,3}\d+", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, row0: int, col0: int, row1: int, col1: int) -> str:
    first = f"{column_letters(col0)}{row0 + 1}"
    last = f"{column_letters(col1 - 1)}{row1}"
    return f"{quote_title(title)}!{first}" + ("" if first == last else f":{last}")
