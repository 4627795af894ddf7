"""The .xlsx file as a package (a zip of XML parts): what kind of file it is, where each sheet's
part lives, and which cells hold formulas.

python-calamine reads cell values fast but hides formulas; formulas are found here, by scanning
the sheet's XML, only when the part contains any at all.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from openpyxl.utils import column_index_from_string, get_column_letter

from .errors import NotAWorkbook, WorkbookDamaged, WorkbookEncrypted

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pkg": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_CELL_START = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})(\d+)"')


def read_bytes(path: Path) -> bytes:
    """The whole file, read once: every later step (hash, values, formulas) sees the same
    bytes even if the file is replaced meanwhile."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotAWorkbook(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise NotAWorkbook(f"{path}: is a folder, not a workbook") from None
    except PermissionError:
        raise NotAWorkbook(f"{path}: permission denied; sheetkeeper needs to be able "
                           "to read the file") from None


def sniff(path: Path, data: bytes) -> None:
    """Raise a clear error if `data` (read from `path`) is not an .xlsx package."""
    head = data[:8]
    if not head:
        raise NotAWorkbook(f"{path}: the file is empty (0 bytes); it is not a workbook")
    if head.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise WorkbookEncrypted(
                f"{path}: the workbook is password-protected; sheetkeeper cannot read it. "
                "Remove the password (Excel: File > Info > Protect Workbook > Encrypt with "
                "Password, clear it) or save an unprotected copy, then run again")
        raise NotAWorkbook(f"{path}: this is an old-style .xls workbook; open it in Excel or "
                           "LibreOffice and save it as .xlsx, then run again")
    if not head.startswith(ZIP_MAGIC):
        kind = "text (CSV?)" if _looks_like_text(head) else "not a spreadsheet"
        raise NotAWorkbook(f"{path}: not an Excel workbook (.xlsx): the file is {kind}. "
                           "Open it in Excel or LibreOffice and save it as .xlsx")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookDamaged(f"{path}: the workbook is damaged (incomplete zip); restore it "
                              "from a backup or let Excel repair it, then run again")


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from workbook.xml and its rels."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile) as e:
        raise WorkbookDamaged(f"the workbook's structure is damaged ({e}); let Excel repair it "
                              "or restore it from a backup") from None
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("pkg:Relationship", NS)}
    parts = {}
    for sheet in workbook.findall("main:sheets/main:sheet", NS):
        target = targets.get(sheet.get(f"{{{NS['rel']}}}id"), "")
        if target.startswith("/"):
            parts[sheet.get("name")] = target.lstrip("/")
        else:
            parts[sheet.get("name")] = posixpath.normpath(posixpath.join("xl", target))
    return parts


def formula_cells(data: bytes, sheet: str) -> set[tuple[int, int]]:
    """(row, column), both 0-based, of every cell in `sheet` that holds a formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = sheet_parts(archive).get(sheet)
        if part is None:
            return set()
        xml = archive.read(part)
    found: set[tuple[int, int]] = set()
    pos = xml.find(b"<f")
    while pos != -1:
        if xml[pos + 2:pos + 3] in (b">", b" ", b"/"):
            start = xml.rfind(b"<c ", 0, pos)
            m = _CELL_START.match(xml, start) if start != -1 else None
            if m:
                found.add((int(m[2]) - 1, column_index(m[1].decode())))
        pos = xml.find(b"<f", pos + 2)
    return found


def column_index(letters: str) -> int:
    """'A' -> 0, 'AA' -> 26."""
    return column_index_from_string(letters) - 1


def column_letter(index: int) -> str:
    """0 -> 'A', 26 -> 'AA'."""
    return get_column_letter(index + 1)
