"""A big sheet read on two cores.

python-calamine parses a sheet on one thread, and leaves Python's interpreter free while it does
(2.4 s of a 100k-row list's 3.5 s read). Split at a row boundary, the sheet's rows make two
packages, each the workbook with half of them; two calamine workbooks parse the two at once, in
two threads, and the rows are put together again as calamine gives them from the whole sheet:
one rectangle from A1, every row as wide as the widest.

The halves are stored, not compressed (they are read at once, never written out). A sheet that
cannot be split safely is read whole: a small one (the split costs more than it saves), rows
without their number, elements with a namespace prefix, one core. So is one whose halves
calamine refuses: the whole read then says what is wrong with it.
"""
from __future__ import annotations

import io
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import python_calamine as calamine

from .package import ROW_NUMBER

# Of sheet XML (decompressed): about 20,000 rows of a customer list.
SPLIT_FROM_BYTES = 16 * 2**20

Rows = list[list[Any]]


def split_rows(xml: bytes, least: int | None = None) -> tuple[bytes, bytes, int] | None:
    """The sheet XML as two sheets, the rows before row N and the rows from it, and N (1-based);
    None where it cannot be split safely, or is smaller than `least` bytes (SPLIT_FROM_BYTES)."""
    if len(xml) < (SPLIT_FROM_BYTES if least is None else least):
        return None
    opening = xml.find(b"<sheetData>")
    closing = xml.find(b"</sheetData>")
    if opening == -1 or closing == -1:
        return None          # <sheetData/>, or elements with a prefix (x:sheetData)
    start = opening + len(b"<sheetData>")
    # Inside sheetData only rows begin with "<row" ("<r>" and "<rPr" are rich-text runs), and
    # a "<" in a value is always written "&lt;".
    cut = xml.find(b"<row", (start + closing) // 2, closing)
    row = ROW_NUMBER.match(xml, cut) if cut != -1 else None
    if row is None:
        return None          # no row after the middle, or rows without their numbers
    return xml[:cut] + xml[closing:], xml[:start] + xml[cut:], int(row[1])


def read_in_halves(data: bytes, part: str, name: str, xml: bytes,
                   before_parse: Callable[[], None] = lambda: None
                   ) -> tuple[Rows, list] | None:
    """All rows of sheet `name` (its XML `xml`, in zip member `part` of the package `data`)
    and its merged ranges, as calamine reads the whole sheet; None where it is better read
    whole. `before_parse` is called once the sheet is cut, before the halves are packaged
    and parsed (in threads that leave the interpreter free most of the time)."""
    if (os.cpu_count() or 1) < 2:
        return None
    split = split_rows(xml)
    if split is None:
        return None
    first, second, at = split
    others = _other_parts(data, part)
    before_parse()
    try:
        with ThreadPoolExecutor(2, thread_name_prefix="half") as pool:
            (before, merged), (after, _) = pool.map(
                lambda sheet: _parse(_package(part, sheet, others), name), (first, second))
    except (calamine.CalamineError, calamine.XmlError, calamine.ZipError, ValueError):
        return None
    return joined(before, after, at), merged


def joined(before: Rows, after: Rows, at: int) -> Rows:
    """The rows of the whole sheet from the halves' (each a rectangle from A1): the first
    half's, up to row `at` (1-based), then the second's from there."""
    tail = after[at - 1:]
    width = max(len(before[0]) if before else 0, len(tail[0]) if tail else 0)
    rows = before
    if tail:
        rows += [[""] * width for _ in range(at - 1 - len(before))]
        rows += tail
    for row in rows:
        if len(row) < width:
            row.extend([""] * (width - len(row)))
    return rows


def _other_parts(data: bytes, part: str) -> list[tuple[str, bytes]]:
    """Every part of the package but the sheet's, decompressed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, source.read(info)) for info in source.infolist()
            if info.filename != part]


def _package(part: str, sheet: bytes, others: list[tuple[str, bytes]]) -> io.BytesIO:
    """The workbook with `sheet` as the XML of `part`, stored."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        package.writestr(part, sheet)
        for filename, content in others:
            package.writestr(filename, content)
    out.seek(0)
    return out


def _parse(package: io.BytesIO, name: str) -> tuple[Rows, list]:
    # calamine copies the package in: the one here goes at once (a half is tens of MB).
    book = calamine.CalamineWorkbook.from_filelike(package)
    package.close()
    try:
        sheet = book.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []
    finally:
        book.close()
