"""Rows tall enough for the wrapped text sheetkeeper writes into them (the Findings column's
lines, a merge's notes), for the cell writer (`write.patch_sheet_xml`).

Neither Excel nor LibreOffice can be relied on to fit a row to its text when it opens a file:
Excel keeps the height a row was saved with, and a row rendered too short shows wrapped text
cut off or, in LibreOffice, running over the row next to it. So where a written cell wraps and
needs more lines than its row's height holds, the row's `ht` is raised to fit them, estimated
from the column's width (a CJK character is two Latin widths). The height is written without
`customHeight`, as Excel writes a row it fitted itself: it stays automatic, so Excel and
LibreOffice fit it again when a person edits the row. A row whose height a person set
(`customHeight="1"`) is left as it is, and a row is never made shorter: sheetkeeper cannot see
the other cells' text (shared strings are not read here), which may need the height.
"""
from __future__ import annotations

import math
import re

from sheet_templates.presentation import display_width

from .package import column_definitions

LINE_PT = 15.0         # a line of Calibri 11, the default font: Excel's default row height
MAX_PT = 409.0         # the tallest row Excel allows
DEFAULT_WIDTH = 8.43   # a column without a width of its own, in characters

_HT = re.compile(rb'\sht="([0-9.]+)"')
_CUSTOM = re.compile(rb'\scustomHeight="(1|true)"')


def column_widths(xml: bytes) -> dict[int, float]:
    """0-based column -> its width in characters, from the sheet's column definitions."""
    return {col: float(width) for col, width in column_definitions(xml, b"width").items()}


def lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide (a character's
    room is kept for the cell's padding)."""
    room = max(1.0, width - 1)
    return sum(max(1, math.ceil(display_width(line) / room)) for line in text.split("\n"))


def needed_height(texts: list[tuple[str, float]]) -> float:
    """The height in points the tallest of `texts` (text, its column's width) needs."""
    most = max((lines(text, width) for text, width in texts), default=1)
    return min(MAX_PT, most * LINE_PT)


def grown(open_tag: bytes, needed: float) -> bytes:
    """The row's opening tag with a height of at least `needed` points: unchanged where a person
    set the height, or where it is that tall already."""
    if needed <= LINE_PT or _CUSTOM.search(open_tag):
        return open_tag
    m = _HT.search(open_tag)
    if m and float(m[1]) >= needed:
        return open_tag
    ht = b' ht="%s"' % f"{needed:g}".encode()
    if m:
        return open_tag[:m.start()] + ht + open_tag[m.end():]
    end = len(open_tag) - 2 if open_tag.endswith(b"/>") else len(open_tag) - 1
    return open_tag[:end] + ht + open_tag[end:]
