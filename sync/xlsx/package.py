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
import zlib
from pathlib import Path
from xml.etree import ElementTree

from sheet_templates.references import column_index, column_letter
from i18n import _

from ..errors import NotAWorkbook, WorkbookDamaged, WorkbookEncrypted

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pkg": "http://schemas.openxmlformats.org/package/2006/relationships",
}
STRICT = {
    "main": "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "rel": "http://purl.oclc.org/ooxml/officeDocument/relationships",
}
_CELL_START = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})(\d+)"')


def read_bytes(path: Path) -> bytes:
    """The whole file, read once: every later step (hash, values, formulas) sees the same
    bytes even if the file is replaced meanwhile."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotAWorkbook(_("{path}: no such file; check the path", path=path)) from None
    except IsADirectoryError:
        raise NotAWorkbook(_("{path}: is a folder, not a workbook", path=path)) from None
    except PermissionError:
        raise NotAWorkbook(_("{path}: permission denied; sheetkeeper needs to be able to read "
                             "the file", path=path)) from None


def sniff(path: Path, data: bytes) -> None:
    """Raise a clear error if `data` (read from `path`) is not an .xlsx package."""
    head = data[:8]
    if not head:
        raise NotAWorkbook(_("{path}: the file is empty (0 bytes); it is not a workbook",
                             path=path))
    if head.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise WorkbookEncrypted(
                _("{path}: the workbook is password-protected; sheetkeeper cannot read it. "
                  "Remove the password (Excel: File > Info > Protect Workbook > Encrypt with "
                  "Password, clear it) or save an unprotected copy, then run again", path=path))
        raise NotAWorkbook(_("{path}: this is an old-style .xls workbook; open it in Excel or "
                             "LibreOffice and save it as .xlsx, then run again", path=path))
    if not head.startswith(ZIP_MAGIC):
        kind = "text (CSV?)" if _looks_like_text(head) else "not a spreadsheet"
        raise NotAWorkbook(_("{path}: not an Excel workbook (.xlsx): the file is {kind}. Open it "
                             "in Excel or LibreOffice and save it as .xlsx", path=path, kind=kind))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookDamaged(_("{path}: the workbook is damaged (incomplete zip); restore it "
                                "from a backup or let Excel repair it, then run again", path=path))
    # An OpenDocument file (LibreOffice's .ods, perhaps renamed .xlsx) is a zip too: its first
    # member, stored uncompressed, is "mimetype" naming what it is.
    if data[30:38] == b"mimetype" and b"opendocument" in data[38:120]:
        raise NotAWorkbook(_("{path}: this is an OpenDocument spreadsheet (.ods), not an .xlsx "
                             "workbook; open it in LibreOffice and save it as Excel 2007-365 "
                             "(.xlsx), then run again", path=path))


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
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, zlib.error) as e:
        raise WorkbookDamaged(_("the workbook's structure is damaged ({e}); let Excel repair it "
                                "or restore it from a backup", e=e)) from None
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("pkg:Relationship", NS)}
    parts = {}
    # Transitional OOXML (what Excel saves by default) or Strict (Save As "Strict Open XML"):
    # the same structure under other namespace names.
    main = next((ns for ns in (NS["main"], STRICT["main"])
                 if workbook.find(f"{{{ns}}}sheets") is not None), NS["main"])
    for sheet in workbook.findall(f"{{{main}}}sheets/{{{main}}}sheet"):
        rid = sheet.get(f"{{{NS['rel']}}}id") or sheet.get(f"{{{STRICT['rel']}}}id")
        target = targets.get(rid, "")
        if target.startswith("/"):
            parts[sheet.get("name")] = target.lstrip("/")
        else:
            parts[sheet.get("name")] = posixpath.normpath(posixpath.join("xl", target))
    return parts


_ROW_ELEMENT = re.compile(rb'<row\b([^>]*?)(/?)>')
_CELL_ELEMENT = re.compile(rb'<c\b([^>]*?)(/>|>.*?</c>)', re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]{0,3})(\d+)"')
# A row or cell element whose first attribute is not its reference (Excel, LibreOffice and
# openpyxl write r= first; one that does not is looked at closely, which is still right). One
# regex pass over a 69 MB sheet: 0.23 s, where counting each kind of tag took 0.40 s.
_WITHOUT_REFERENCE = re.compile(rb'<(?:c|row)(?! r=")[ >/\t\n\r]')


def canonical_sheet(xml: bytes) -> bytes:
    """A sheet's XML in the one form everything here reads and patches: the spreadsheet
    namespace as the default one (not a prefix), every row and cell with its reference. The
    same sheet to every reader; only its spelling changes."""
    return with_references(default_namespace(xml))


_PREFIXED_ROOT = re.compile(rb'<(\w+):worksheet\b[^>]*?\bxmlns:\1="' + re.escape(
    NS["main"].encode()) + rb'"')


def default_namespace(xml: bytes) -> bytes:
    """The sheet with its elements unprefixed where it names the spreadsheet namespace by a
    prefix (`<x:worksheet xmlns:x=…>`, as the Open XML SDK writes): the writer's new cells are
    written unprefixed, in the default namespace."""
    m = _PREFIXED_ROOT.search(xml, 0, 2048)
    if m is None:
        return xml
    root_end = xml.find(b">", m.start())
    if b' xmlns="' in xml[m.start():root_end]:
        return xml      # a default namespace of another kind: left as it is
    prefix = m[1]
    xml = xml.replace(b"xmlns:" + prefix + b'="', b'xmlns="', 1)
    return re.sub(rb"<(/?)" + re.escape(prefix) + rb":", rb"<\1", xml)


def with_references(xml: bytes) -> bytes:
    """The sheet's XML with every row and cell carrying its reference (`r=`). Both are
    optional in OOXML (a row or cell without one follows the one before); everything here
    that finds a cell, and the writer that patches one, looks for its reference."""
    if _WITHOUT_REFERENCE.search(xml) is None:
        return xml          # nearly every sheet: one pass in C finds nothing to add
    start, end = xml.find(b"<sheetData"), xml.rfind(b"</sheetData>")
    if start == -1 or end == -1:
        return xml
    out, cursor, row = [xml[:start]], start, 0
    for m in _ROW_ELEMENT.finditer(xml, start, end):
        ref = _REF.search(m[1])
        row = int(ref[2]) if ref else row + 1
        out.append(xml[cursor:m.start()])
        out.append(m[0] if ref else b'<row r="%d"%s%s>' % (row, m[1], m[2]))
        cursor = m.end()
        if m[2]:
            continue
        close = xml.find(b"</row>", cursor, end)
        if close == -1:
            break
        out.append(_cells_with_references(xml[cursor:close], row))
        cursor = close
    out.append(xml[cursor:])
    return b"".join(out)


def _cells_with_references(body: bytes, row: int) -> bytes:
    out, cursor, col = [], 0, -1
    for m in _CELL_ELEMENT.finditer(body):
        ref = _REF.search(m[1])
        col = column_index(ref[1].decode()) if ref and ref[1] else col + 1
        out.append(body[cursor:m.start()])
        out.append(m[0] if ref else b'<c r="%s%d"%s%s' % (column_letter(col).encode(), row,
                                                           m[1], m[2]))
        cursor = m.end()
    out.append(body[cursor:])
    return b"".join(out)


_TABLE_REL = re.compile(rb'<Relationship\b[^>]*?Type="[^"]*/table"[^>]*?Target="([^"]+)"'
                        rb'|<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Type="[^"]*/table"')
_TABLE_HEAD = re.compile(rb"<(?:\w+:)?table\b[^>]*>")
_TOTALS = re.compile(rb'\btotalsRowCount="(\d+)"')
_TABLE_REF = re.compile(rb'\bref="[A-Z]+\d+:[A-Z]+(\d+)"')


class SheetParts:
    """The XML of a workbook's sheets, each decompressed once (and only when asked for)."""

    def __init__(self, data: bytes):
        self.data = data
        self._xml: dict[str, bytes | None] = {}
        self._parts: dict[str, str] | None = None

    def part(self, sheet: str) -> str | None:
        """The zip member holding the sheet's XML."""
        if self._parts is None:
            with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
                self._parts = sheet_parts(archive)
        return self._parts.get(sheet)

    def totals_rows(self, sheet: str) -> set[int]:
        """The sheet rows (1-based) that are an Excel Table's Totals row: sums and counts,
        not a customer."""
        part = self.part(sheet)
        if part is None:
            return set()
        folder, name = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", name + ".rels")
        found: set[int] = set()
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            try:
                rels = archive.read(rels_name)
            except KeyError:
                return found
            for m in _TABLE_REL.finditer(rels):
                target = (m[1] or m[2]).decode()
                member = target.lstrip("/") if target.startswith("/") else \
                    posixpath.normpath(posixpath.join(folder, target))
                try:
                    head = archive.read(member)[:4096]
                except KeyError:
                    continue
                table = _TABLE_HEAD.search(head)
                if table and (count := _TOTALS.search(table[0])) and int(count[1]) > 0:
                    last = int(_TABLE_REF.search(table[0])[1])
                    found.update(range(last - int(count[1]) + 1, last + 1))
        return found

    def xml(self, sheet: str) -> bytes | None:
        if sheet not in self._xml:
            part = self.part(sheet)
            with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
                try:
                    self._xml[sheet] = canonical_sheet(archive.read(part)) if part else None
                except (KeyError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
                    raise WorkbookDamaged(_("sheet {sheet} cannot be read ({e}); let Excel "
                                            "repair the workbook or restore it from a backup",
                                            sheet=repr(sheet), e=e)
                                          ) from None
        return self._xml[sheet]


_ERROR_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*>'
                         rb'(?:<f\b.*?</f>|<f\b[^>]*/>)?\s*<v>([^<]*)</v>', re.DOTALL)


_COL = re.compile(rb"<col\b[^>]*?/>")
_ATTRIBUTE = re.compile(rb'(\w+)="([^"]*)"')


def column_definitions(xml: bytes, attribute: bytes) -> dict[int, bytes]:
    """0-based column -> the value of `attribute` (b"width", b"style") its column definition
    (`<col min max …/>`, before the cells) gives it, where it gives one."""
    out: dict[int, bytes] = {}
    head_end = xml.find(b"<sheetData")
    for m in _COL.finditer(xml, 0, head_end if head_end != -1 else len(xml)):
        attrs = dict(_ATTRIBUTE.findall(m[0]))
        if attribute in attrs:
            for col in range(int(attrs[b"min"]) - 1, min(int(attrs[b"max"]), 16384)):
                out[col] = attrs[attribute]
    return out


def error_cells(xml: bytes | None) -> dict[tuple[int, int], str]:
    """(row, column), both 0-based, -> the error a cell shows (#N/A, #REF!…): calamine reads
    such a cell as empty."""
    if xml is None or b't="e"' not in xml:
        return {}
    return {(int(m[2]) - 1, column_index(m[1].decode())): m[3].decode("utf-8", "replace")
            for m in _ERROR_CELL.finditer(xml)}


_ARRAY_RANGE = re.compile(rb'<f\b[^>]*?\bt="array"[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"'
                          rb'|<f\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"[^>]*?\bt="array"')


def formula_cells(xml: bytes | None) -> set[tuple[int, int]]:
    """(row, column), both 0-based, of every cell of a sheet's XML that holds a formula, or
    shows part of an array formula's result (its `ref` range: a dynamic array's spill, an
    old-style array formula): those cells hold plain values in the file, and writing one
    would break the formula (Excel: #SPILL!)."""
    found: set[tuple[int, int]] = set()
    if xml is None:
        return found
    pos = xml.find(b"<f")
    while pos != -1:
        if xml[pos + 2:pos + 3] in (b">", b" ", b"/"):
            start = xml.rfind(b"<c ", 0, pos)
            m = _CELL_START.match(xml, start) if start != -1 else None
            if m:
                found.add((int(m[2]) - 1, column_index(m[1].decode())))
            array = _ARRAY_RANGE.match(xml, pos)
            if array:
                found |= _cells_of(*(g for g in array.groups() if g is not None))
        pos = xml.find(b"<f", pos + 2)
    return found


def _cells_of(first_col: bytes, first_row: bytes, last_col: bytes | None = None,
              last_row: bytes | None = None) -> set[tuple[int, int]]:
    c0, r0 = column_index(first_col.decode()), int(first_row) - 1
    c1 = column_index(last_col.decode()) if last_col else c0
    r1 = int(last_row) - 1 if last_row else r0
    return {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}


# How many cells a sheet may span: python-calamine reads a sheet as one rectangle, from its
# first cell with a value to its last row and column with one, and holds every cell of it. A
# single stray value at XFD1048576 makes that 17 billion cells: the process is killed (Rust
# aborts on the allocation), with no message. 20M cells is a 1M-row list of 19 columns, or
# 100k rows of 200; about a gigabyte.
MAX_SHEET_CELLS = 20_000_000
ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')


def far_cell(xml: bytes | None, limit: int = MAX_SHEET_CELLS) -> tuple[str, int] | None:
    """(reference, last row) of a cell holding a value so far out that the rectangle from A1
    to the last row with a value and that cell's column is more than `limit` cells; None if no
    cell is. (Cells that are only formatted hold no value: calamine skips them, and so does
    this.)"""
    if xml is None:
        return None
    span = _dimension(xml)
    if span is not None and span[0] * span[1] <= limit:
        return None          # what the sheet says it spans (formatting included) is small
    last_row = _last_value_row(xml)
    if last_row is None:
        return None
    widest = limit // max(last_row, 1)          # columns the rectangle may have
    if widest >= 16_384:                        # Excel's last column is XFD, the 16,384th
        return None
    ref = _first_value_beyond(xml, widest)
    return None if ref is None else (ref, last_row)


def _last_value_row(xml: bytes) -> int | None:
    """The row number of the last cell holding a value (None: no cell holds one)."""
    last_value = max(xml.rfind(b"</v>"), xml.rfind(b"</is>"))
    if last_value == -1:
        return None
    row_start = xml.rfind(b"<row", 0, last_value)
    m = ROW_NUMBER.match(xml, row_start) if row_start != -1 else None
    # A row without r= (the format allows it) is numbered by the rows that stand before it.
    return int(m[1]) if m else xml.count(b"<row", 0, last_value)


def _first_value_beyond(xml: bytes, widest: int) -> str | None:
    """The reference of the first cell holding a value past the `widest`-th column."""
    # A cell beyond has a reference of at least as many letters as the last column allowed
    # (GQ: two). Where that is more than one, a list none of whose references has as many is
    # settled by one search for the first that does, twice as fast as the full one below.
    letters = len(column_letter(widest - 1)) if widest else 1
    if letters > 1 and re.search(rb' r="[A-Z]{%d}' % letters, xml) is None:
        return None
    # A literal start lets the pattern skip through the XML in C (a pattern that starts at
    # every "<c" takes a second at 100k rows); each hit is then made sure of.
    beyond = re.compile(rb' r="(' + _columns_after(widest) + rb')(\d+)"')
    for ref in beyond.finditer(xml):
        if _cell_with_value(xml, ref.start(), ref.end()):
            return (ref[1] + ref[2]).decode()
    return None


def _cell_with_value(xml: bytes, attr_start: int, attr_end: int) -> bool:
    """Whether the r="…" attribute found at `attr_start` is a cell's, and the cell holds a
    value (not <c …/>, and a <v> or an inline string inside)."""
    start = xml.rfind(b"<", 0, attr_start)
    end = xml.find(b">", attr_end)
    if xml[start:start + 3] not in (b"<c ", b"<c\t", b"<c\n") or xml[end - 1:end] == b"/":
        return False
    inner = xml[end:xml.find(b"</c>", end)]
    return b"<v" in inner or b"<is" in inner


_DIMENSION = re.compile(
    rb'<dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')


def _dimension(xml: bytes) -> tuple[int, int] | None:
    """(rows, columns) from A1 to the end of the range the sheet says it uses, if it says."""
    head_end = xml.find(b"<sheetData")
    m = _DIMENSION.search(xml, 0, head_end if head_end != -1 else 4096)
    if m is None:
        return None
    letters, row = (m[3], m[4]) if m[3] else (m[1], m[2])
    return int(row), column_index(letters.decode()) + 1


def _columns_after(n: int) -> bytes:
    """A pattern for the letters of every column after the n-th: longer letters, or as long and
    greater at the first letter that differs (letters of one length sort like numbers)."""
    if n < 1:
        return b"[A-Z]{1,3}"        # a row so far down that no column fits: every one is after
    bound = column_letter(n - 1)
    options = [f"[A-Z]{{{len(bound) + 1},3}}"] if len(bound) < 3 else []
    for i, letter in enumerate(bound):
        if letter != "Z":
            rest = len(bound) - i - 1
            tail = f"[A-Z]{{{rest}}}" if rest else ""
            options.append(f"{bound[:i]}[{chr(ord(letter) + 1)}-Z]{tail}")
    return "|".join(options).encode()
