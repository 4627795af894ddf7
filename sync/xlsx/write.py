"""Writing changed cells into an .xlsx without disturbing anything else in it.

A workbook in use is never loaded and re-saved whole: openpyxl drops charts' extensions, images
without Pillow, comment formatting, x14 validations and more, and at 100k rows takes tens of
seconds. Instead the sheet's XML is edited in place, cell by cell:

- only the `<c>` elements of changed cells are rewritten (keeping their style); every other part
  of the package is copied through unchanged, byte for byte once decompressed;
- a row whose written text wraps onto more lines than its height holds is made tall enough
  (sync.xlsx.heights), unless a person set its height;
- text goes in as inline strings, so the shared-strings part is left alone;
- a date needs a date style: the cell's own if it already is one, else its column's, else one
  appended to styles.xml (the only other part that may change);
- the new package is staged in a temporary file beside the workbook and put in its place only if
  the workbook still holds the bytes the plan was made from (sync.xlsx.replace);
- it refuses, changing nothing, when the bytes on disk are no longer the ones the plan was made
  from, or when Excel or LibreOffice has the workbook open (their lock files).
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import io
import os
import re
import zipfile
from collections import defaultdict
from html import escape   # &, < and > as xml.sax.saxutils does, without loading urllib
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from rules.dates import serial_number
from sheet_templates.references import column_index, column_letter
from i18n import _

from ..cells import CellWrite
from ..errors import (WorkbookBusy, WorkbookChanged, WorkbookError, WorkbookProtected,
                      WriteFailed)
from . import heights
from .package import canonical_sheet, column_definitions, read_bytes, sheet_parts
from .replace import StagedFile, lock_files

__all__ = ["CellWrite", "StagedPackage", "WorkbookBusy", "WorkbookChanged", "WriteFailed",
           "lock_files", "patch_package", "patch_sheet_xml", "write_cells"]

EXCEL_LEAP_BUG = 61   # the serial of 1900-03-01: from there on, Excel's serials are everyone's
DATE_FORMAT_ID = 14   # built-in short date; shown in the reader's own locale

Restyled = dict[tuple[str, int, int], int]   # (sheet, row, column) -> its style before a write
Writes = Mapping[str, Sequence[CellWrite]]    # sheet name -> the cells to write there


def write_cells(path: Path | str, writes: Writes, expected_digest: str) -> str:
    """Write `writes` (per sheet) into the workbook at `path`, which must still be the bytes
    whose SHA-256 is `expected_digest`. Returns the new file's digest."""
    with StagedPackage(Path(path), writes, expected_digest) as new:
        new.commit()
        return new.digest


class StagedPackage(StagedFile):
    """The workbook at `path` with `writes` applied: checked, patched, packed and staged in a
    temporary file beside it, ready to take its place (`commit`, see sync.xlsx.replace for what
    each platform guarantees). Use as a context manager: a package not committed is removed."""

    def __init__(self, path: Path, writes: Writes, expected_digest: str,
                 known: Mapping[str, bytes] | None = None):
        # Through a symbolic link to the file it names: replacing the link itself would leave
        # the real workbook as it was (and the link a plain file).
        check_writable(path)
        path = Path(os.path.realpath(path))
        check_writable(path)
        data = read_bytes(path)
        if hashlib.sha256(data).hexdigest() != expected_digest:
            raise WorkbookChanged(_("{path}: changed since it was read; not written", path=path))
        self.restyled: Restyled = {}
        super().__init__(path, _packed(*_patched(data, writes, self.restyled, known)),
                         expected_digest)


def check_writable(path: Path) -> None:
    busy = lock_files(path)
    if busy:
        raise WorkbookBusy(_("{path}: open in a spreadsheet program ({name} is present); not "
                             "written, sheetkeeper tries again once it is closed",
                             path=path, name=busy[0].name))
    if not os.stat(path).st_mode & 0o222:
        # Even where the folder would allow a replace (root, a shared folder), a workbook
        # someone marked read-only is not sheetkeeper's to change.
        raise WriteFailed(_("{path}: the workbook is read-only; make it writable (chmod u+w, or "
                            "uncheck Read-only in its properties) and run again", path=path))


_FILE_SHARING = re.compile(rb"<(?:\w+:)?fileSharing\b[^>]*>")
_SHEET_PROTECTION = re.compile(rb'<(?:\w+:)?sheetProtection\b[^>]*\bsheet="(?:1|true)"')


def _refuse_protected(contents: Mapping[str, bytes], parts: Mapping[str, str],
                      writes: Writes) -> None:
    """A workbook its owner marked in Excel as not to be changed (a password to modify, or
    'read-only recommended'), or a sheet protected against edits, is left alone: writing
    would go round what the owner set, and no protection is ever removed."""
    sharing = _FILE_SHARING.search(contents.get("xl/workbook.xml", b""))
    if sharing and (b"readOnlyRecommended=\"1\"" in sharing[0]
                    or b"readOnlyRecommended=\"true\"" in sharing[0]
                    or b"hashValue=" in sharing[0] or b"reservationPassword=" in sharing[0]):
        raise WorkbookProtected(
            _("the workbook is marked in Excel as not to be changed (a password to modify, or "
              "'read-only recommended'); sheetkeeper leaves it alone. To let it clean the list, "
              "clear that in Excel (File > Save As > Tools > General Options) and save"))
    for sheet in writes:
        part = parts.get(sheet)
        xml = contents.get(part, b"") if part else b""
        # (find first: a regex starting at every '<' of a big sheet costs fifty times more)
        if b"sheetProtection" in xml and _SHEET_PROTECTION.search(xml):
            raise WorkbookProtected(
                _("sheet {sheet} is protected in Excel; sheetkeeper writes nothing into a "
                  "protected sheet and never removes a protection. To let it clean the list, "
                  "unprotect the sheet (Review > Unprotect Sheet) and save", sheet=repr(sheet)))


def patch_package(data: bytes, writes: Writes, restyled: Restyled | None = None) -> bytes:
    """The package `data` with `writes` applied: a new .xlsx, as bytes. Cells whose style had
    to change (a date needs a date style) are noted in `restyled`."""
    return _packed(*_patched(data, writes, {} if restyled is None else restyled))


def _patched(data: bytes, writes: Writes, restyled: Restyled,
             known: Mapping[str, bytes] | None = None
             ) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    """The package's parts (in order) and their contents, with `writes` applied. `known`:
    sheets' XML (by sheet name) as decompressed from these very bytes already."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = sheet_parts(source)
    given = {parts[name]: xml for name, xml in (known or {}).items() if name in parts}
    contents = {info.filename: given.get(info.filename) or source.read(info)
                for info in source.infolist()}
    _refuse_protected(contents, parts, writes)
    styles = _Styles(contents.get("xl/styles.xml", b""))
    for sheet, sheet_writes in writes.items():
        part = parts.get(sheet)
        if part is None:
            raise WorkbookChanged(_("sheet {sheet} is no longer in the workbook; not written",
                                    sheet=repr(sheet)))
        changed_styles: dict[tuple[int, int], int] = {}
        # A sheet the read kept is canonical already (SheetParts.xml): not scanned again.
        xml = contents[part] if part in given else canonical_sheet(contents[part])
        contents[part] = patch_sheet_xml(xml, sheet_writes, styles, changed_styles)
        restyled.update({(sheet, r, c): s for (r, c), s in changed_styles.items()})
    if styles.changed:
        contents["xl/styles.xml"] = styles.xml
    return source.infolist(), contents


def _packed(infos: list[zipfile.ZipInfo], contents: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in infos:
            # Level 1: several times faster on a large sheet, a little bigger; Excel and
            # LibreOffice recompress on their next save anyway.
            target.writestr(info, contents[info.filename], compress_type=info.compress_type,
                            compresslevel=1)
    return out.getvalue()


# -- the sheet XML ---------------------------------------------------------------------------

_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*?(/?)>')
_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
_STYLE_ATTR = re.compile(rb'\bs="(\d+)"')
_SPANS = re.compile(rb'\s+spans="[^"]*"')
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"\s*/>')


def patch_sheet_xml(xml: bytes, writes: Sequence[CellWrite], styles: "_Styles",
                    restyled: dict[tuple[int, int], int]) -> bytes:
    by_row: dict[int, dict[int, CellWrite]] = defaultdict(dict)
    for w in writes:
        by_row[w.row][w.column] = w
    sheet = _SheetData(xml)
    column_styles = _column_styles(sheet.xml)
    pieces, cursor = [], 0
    for number in sorted(by_row):   # rows stand in number order in the XML
        cells = by_row[number]
        start, end, open_tag, body = sheet.row(number, cursor)
        pieces.append(sheet.xml[cursor:start])
        body = _patch_row(body, number, cells, styles, column_styles, restyled)
        pieces.append(sheet.fitted(open_tag, body, cells, styles) + body + b"</row>")
        cursor = end
    pieces.append(sheet.xml[cursor:])
    out = b"".join(pieces)
    return _grow_dimension(out, writes) if writes else out


class _SheetData:
    """A sheet's XML as the writer patches it: where each row's element is, and how tall a
    row must be for the text written into it."""

    def __init__(self, xml: bytes):
        start, end = xml.find(b"<sheetData"), xml.find(b"</sheetData>")
        if start == -1:
            raise WorkbookError(_("the sheet has no cell data section; not written"))
        if end == -1:  # <sheetData/>: an empty sheet
            head_end = xml.find(b">", start) + 1
            xml = xml[:head_end - 2] + b"></sheetData>" + xml[head_end:]
            end = head_end - 2 + len(b">")
        self.xml, self.start, self.end = xml, start, end
        self._index: dict[int, re.Match] | None = None    # every row, scanned when needed
        self._numbers: list[int] | None = None            # its row numbers, in order
        self._widths: dict[int, float] | None = None      # the columns' widths, when needed

    def row(self, number: int, after: int) -> tuple[int, int, bytes, bytes]:
        """(start, end, opening tag, cells) of row `number`'s element at or after `after`; a
        row that has no element yet goes before the first row numbered after it."""
        m = self._element(number, after)
        if m is None:
            start = self._start_of_row_after(number)
            return start, start, f'<row r="{number}">'.encode(), b""
        xml, open_end, self_closing = self.xml, m.end(), m[2] == b"/"
        end = open_end if self_closing else xml.index(b"</row>", open_end) + len(b"</row>")
        open_tag = _SPANS.sub(b"", m[0][:-2] + b">" if self_closing else m[0])
        body = b"" if self_closing else xml[open_end:end - len(b"</row>")]
        return m.start(), end, open_tag, body

    def _start_of_row_after(self, number: int) -> int:
        """Where the first row numbered after `number` starts (the end of the data where none
        is): by bisection, since an import adds thousands of rows to a sheet of thousands."""
        if self._numbers is None:
            self._numbers = sorted(self._index)
        k = bisect.bisect_right(self._numbers, number)
        return self._index[self._numbers[k]].start() if k < len(self._numbers) else self.end

    def _element(self, number: int, after: int) -> re.Match | None:
        # A quick look for `<row r="N"` first (a cycle after one edit patches one row of a
        # 100k-row sheet); the full scan only where a row is missing or written otherwise.
        pos = self.xml.find(b'<row r="%d"' % number, max(after, self.start), self.end)
        if pos != -1 and (m := _ROW.match(self.xml, pos)) and int(m[1]) == number:
            return m
        if self._index is None:
            self._index = {int(m[1]): m for m in _ROW.finditer(self.xml, self.start, self.end)}
        return self._index.get(number)

    def fitted(self, open_tag: bytes, body: bytes, cells: dict[int, CellWrite],
               styles: "_Styles") -> bytes:
        """The row's opening tag, tall enough for wrapped text written into it (see
        sync.xlsx.heights): looked into only where a text could take more than one line."""
        long = [w for w in cells.values() if isinstance(w.value, str)
                and ("\n" in w.value or len(w.value) > 8)]
        if not long:
            return open_tag
        if self._widths is None:
            self._widths = heights.column_widths(self.xml)
        texts = [(w.value, self._widths.get(w.column, heights.DEFAULT_WIDTH)) for w in long
                 if styles.wraps(_written_cell_style(body, w))]
        return heights.grown(open_tag, heights.needed_height(texts))


def _patch_row(body: bytes, number: int, cells: dict[int, CellWrite], styles: "_Styles",
               column_styles: dict[int, int], restyled: dict[tuple[int, int], int]) -> bytes:
    replaced = _replace_cells(body, number, cells, styles, column_styles, restyled)
    if replaced is not None:
        return replaced
    existing = [(column_index(m[1].decode()), m) for m in _CELL.finditer(body)]
    out, cursor, done = [], 0, set()
    for col, m in existing:
        for new_col in sorted(c for c in cells if c < col and c not in done):
            out.append(body[cursor:m.start()])
            cursor = m.start()
            out.append(_cell_xml(cells[new_col], None, styles, column_styles, restyled))
            done.add(new_col)
        if col in cells:
            out.append(body[cursor:m.start()])
            out.append(_cell_xml(cells[col], _style_of(m[0]), styles, column_styles, restyled))
            cursor = m.end()
            done.add(col)
    out.append(body[cursor:])
    for new_col in sorted(c for c in cells if c not in done):
        out.append(_cell_xml(cells[new_col], None, styles, column_styles, restyled))
    return b"".join(out)


def _replace_cells(body: bytes, number: int, cells: dict[int, CellWrite], styles: "_Styles",
                   column_styles: dict[int, int],
                   restyled: dict[tuple[int, int], int]) -> bytes | None:
    """The row with `cells` written, when every one of them is already there: found by its
    reference, not by parsing each cell of the row (a cycle after people's edits replaces tens
    of thousands of values). None when a cell is missing: new cells need the full scan, to
    stand in column order."""
    found = []
    for col in cells:
        pos = body.find(b'<c r="%s%d"' % (column_letter(col).encode(), number))
        if pos == -1:
            return None
        # The element's end, as _CELL would find it: the first ">" closes the opening tag
        # (no attribute of a cell holds one); "/>" ends an empty cell, else the first "</c>".
        tag_end = body.find(b">", pos) + 1
        if tag_end == 0:
            return None
        end = tag_end if body[tag_end - 2:tag_end - 1] == b"/" \
            else body.find(b"</c>", tag_end) + len(b"</c>")
        if end < tag_end:
            return None
        found.append((pos, end, col, _style_of(body, pos)))
    found.sort()
    out, cursor = [], 0
    for pos, end, col, style in found:
        out.append(body[cursor:pos])
        out.append(_cell_xml(cells[col], style, styles, column_styles, restyled))
        cursor = end
    out.append(body[cursor:])
    return b"".join(out)


def _written_cell_style(body: bytes, write: CellWrite) -> int:
    """The style of the cell `write` put into the row's XML `body`."""
    pos = body.find(b'<c r="%s%d"' % (column_letter(write.column).encode(), write.row))
    return _style_of(body, pos) if pos != -1 else 0


def _style_of(xml: bytes, start: int = 0) -> int:
    """The style of the cell element at `start` (0 when it has none), from its opening tag
    only."""
    style = _STYLE_ATTR.search(xml, start, xml.find(b">", start) + 1)
    return int(style[1]) if style else 0


def _cell_xml(write: CellWrite, current: int | None, styles: "_Styles",
              column_styles: dict[int, int], restyled: dict[tuple[int, int], int]) -> bytes:
    """`current`: the cell's style now (0 when it has none), None for a cell not yet there."""
    style = _written_style(write, current, styles, column_styles)
    if (style or 0) != (current or 0):
        # Undo puts the style back too: a date written into a General cell got a date style.
        restyled[(write.row, write.column)] = current or 0
    return _cell_element(f"{column_letter(write.column)}{write.row}",
                         f' s="{style}"' if style else "", write.value)


def _written_style(write: CellWrite, current: int | None, styles: _Styles,
                   column_styles: dict[int, int]) -> int | None:
    """The style the written cell gets: the one the write asks for; else the cell's own (a new
    cell's, its column's), made a date style for a date so that it shows as a date and not as
    its serial number."""
    if write.style is not None:
        return write.style
    style = column_styles.get(write.column) if current is None else current
    if isinstance(write.value, (dt.date, dt.datetime)):
        return styles.date_style(style, column_styles.get(write.column))
    return style


def _cell_element(ref: str, s: str, value: Any) -> bytes:
    """The <c> element at `ref` (with its style attribute `s`) holding `value`: numbers,
    dates and times as the numbers a spreadsheet keeps, anything else as inline text."""
    if value is None:
        return f'<c r="{ref}"{s}/>'.encode()
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'.encode()
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'.encode()
    if isinstance(value, (dt.date, dt.datetime)):
        return f'<c r="{ref}"{s}><v>{_excel_serial(value)}</v></c>'.encode()
    if isinstance(value, (dt.time, dt.timedelta)):
        return f'<c r="{ref}"{s}><v>{_days(value)!r}</v></c>'.encode()
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    text = escape(ooxml_text(text), quote=False)
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'.encode("utf-8")


def _excel_serial(value: dt.date) -> int | float:
    serial = serial_number(value)
    if serial < EXCEL_LEAP_BUG:
        serial -= 1     # Excel counts a 29 February 1900 that never was: earlier days shift
    return int(serial) if serial == int(serial) else serial


def _days(value: dt.time | dt.timedelta) -> float:
    """A time of day or a duration, as the fraction or number of days a spreadsheet keeps."""
    span = value if isinstance(value, dt.timedelta) else dt.timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second,
        microseconds=value.microsecond)
    return span / dt.timedelta(days=1)


# What XML 1.0 cannot carry (C0 controls but tab and line feed; CR, which a parser turns into
# LF; lone surrogates; U+FFFE/U+FFFF), and a literal "_xHHHH_" that a reader would take for an
# escape: written the way Excel writes them, as _xHHHH_ (the literal one as _x005F_xHHHH_).
_NOT_XML = re.compile("_x[0-9A-Fa-f]{4}_|[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def ooxml_text(text: str) -> str:
    """`text` as an OOXML string: valid in XML, and read back as exactly `text`."""
    if text.isascii() and text.isprintable() and "_x" not in text:
        return text           # nearly every cell, at once
    return _NOT_XML.sub(_escaped, text)


def _escaped(m: re.Match) -> str:
    found = m[0]
    return "_x005F" + found if len(found) > 1 else f"_x{ord(found):04X}_"


def _column_styles(xml: bytes) -> dict[int, int]:
    """0-based column -> the style a column definition gives its empty cells."""
    return {col: int(style) for col, style in column_definitions(xml, b"style").items()}


def _grow_dimension(xml: bytes, writes: Sequence[CellWrite]) -> bytes:
    m = _DIMENSION.search(xml)
    if not m:
        return xml
    first_col, first_row = m[1], int(m[2])
    last_col = column_index((m[3] or m[1]).decode())
    last_row = int(m[4] or m[2])
    new_last_col = max([last_col, *(w.column for w in writes)])
    new_last_row = max([last_row, *(w.row for w in writes)])
    if (new_last_col, new_last_row) == (last_col, last_row):
        return xml
    ref = f'<dimension ref="{first_col.decode()}{first_row}:{column_letter(new_last_col)}' \
          f'{new_last_row}"/>'
    return xml[:m.start()] + ref.encode() + xml[m.end():]


# -- styles.xml: date formats ------------------------------------------------------------------

@functools.cache
def date_formats() -> tuple[Mapping[int, str], Callable[[str], bool]]:
    """Excel's built-in number formats, and whether a format shows a date (openpyxl's).
    Imported when first needed: openpyxl loads whole, numpy included, in a quarter of a
    second, and reading a workbook does not need it. A cycle asks for it while calamine
    reads, when this process has nothing else to do."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
    return BUILTIN_FORMATS, is_date_format


class _Styles:
    """Finds (or appends, once) a cell style that shows a date."""

    _XFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.DOTALL)
    _XF = re.compile(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.DOTALL)
    _NUMFMT = re.compile(rb'<numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"')

    def __init__(self, xml: bytes):
        self.xml, self.changed = xml, False
        self._clones: dict[int, int] = {}
        self._date_styles: dict[int, bool] = {}
        self._wrapping: dict[int, bool] = {}
        m = self._XFS.search(xml)
        self._xfs = [x[0] for x in self._XF.finditer(m[1])] if m else []
        custom = {int(i): code.decode("utf-8") for i, code in self._NUMFMT.findall(xml)}
        builtin_formats, self._is_date_format = date_formats()
        self._formats = {**builtin_formats, **custom}

    def _is_date(self, style: int | None) -> bool:
        if style is None or style >= len(self._xfs):
            return False
        known = self._date_styles.get(style)
        if known is None:   # asked once per date cell written: thousands of times a batch
            fmt = re.search(rb'numFmtId="(\d+)"', self._xfs[style])
            code = self._formats.get(int(fmt[1])) if fmt else None
            known = self._date_styles[style] = bool(code) and self._is_date_format(code)
        return known

    def wraps(self, style: int) -> bool:
        """Whether cells of this style wrap their text."""
        known = self._wrapping.get(style)
        if known is None:
            xf = self._xfs[style] if style < len(self._xfs) else b""
            known = self._wrapping[style] = re.search(rb'wrapText="(1|true)"', xf) is not None
        return known

    def date_style(self, style: int | None, column_style: int | None) -> int | None:
        if self._is_date(style):
            return style
        if self._is_date(column_style):
            return column_style
        if not self._xfs:
            return style
        base = style or 0
        if base not in self._clones:
            self._clones[base] = self._append_clone(base)
        return self._clones[base]

    def wrap_style(self) -> int | None:
        """A cell style that wraps its text (for a Notes or Findings column an upgrade adds),
        appended once."""
        if not self._xfs:
            return None
        xf = (b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" applyAlignment="1">'
              b'<alignment wrapText="1"/></xf>')
        if xf in self._xfs:
            return self._xfs.index(xf)
        return self._append_xf(xf)

    def bold_style(self) -> int | None:
        """A cell style with a bold font, appended once (for header rows of added tabs)."""
        fonts = re.search(rb"<fonts\b[^>]*>(.*?)</fonts>", self.xml, re.DOTALL)
        if not fonts or not self._xfs:
            return None
        count = len(re.findall(rb"<font\b", fonts[1]))
        bold_font = re.findall(rb"<font\b[^>]*>.*?</font>|<font\b[^>]*/>", fonts[1], re.DOTALL)
        for index, font in enumerate(bold_font):
            if font == b'<font><b/><sz val="11"/></font>':
                for n, xf in enumerate(self._xfs):
                    if f'fontId="{index}"'.encode() in xf and b'applyFont="1"' in xf:
                        return n
        new_fonts = fonts[1] + b"<font><b/><sz val=\"11\"/></font>"
        open_tag = re.sub(rb'count="\d+"', f'count="{count + 1}"'.encode(),
                          self.xml[fonts.start():fonts.start(1)])
        self.xml = self.xml[:fonts.start()] + open_tag + new_fonts + b"</fonts>" + \
            self.xml[fonts.end():]
        xf = f'<xf numFmtId="0" fontId="{count}" fillId="0" borderId="0" applyFont="1"/>'
        return self._append_xf(xf.encode())

    def dxf(self, fill: str | None, font: str | None, bold: bool) -> int:
        """The index of a differential format (what a colour rule paints), reused if present."""
        parts = b""
        if font or bold:
            parts += b"<font>" + (b"<b/>" if bold else b"") + (
                f'<color rgb="FF{font}"/>'.encode() if font else b"") + b"</font>"
        if fill:
            parts += (f'<fill><patternFill patternType="solid"><fgColor rgb="FF{fill}"/>'
                      f'<bgColor rgb="FF{fill}"/></patternFill></fill>').encode()
        dxf = b"<dxf>" + parts + b"</dxf>"
        m = re.search(rb"<dxfs\b[^>]*>(.*?)</dxfs>", self.xml, re.DOTALL)
        if m is None:
            empty = re.search(rb"<dxfs\b[^>]*/>", self.xml)
            if empty:
                self.xml = self.xml[:empty.start()] + b'<dxfs count="0"></dxfs>' + \
                    self.xml[empty.end():]
            else:
                at = self.xml.find(b"<tableStyles")
                at = at if at != -1 else self.xml.rindex(b"</styleSheet>")
                self.xml = self.xml[:at] + b'<dxfs count="0"></dxfs>' + self.xml[at:]
            m = re.search(rb"<dxfs\b[^>]*>(.*?)</dxfs>", self.xml, re.DOTALL)
        existing = re.findall(rb"<dxf>.*?</dxf>|<dxf/>", m[1], re.DOTALL)
        if dxf in existing:
            return existing.index(dxf)
        open_tag = b'<dxfs count="%d">' % (len(existing) + 1)
        self.xml = self.xml[:m.start()] + open_tag + m[1] + dxf + b"</dxfs>" + \
            self.xml[m.end():]
        self.changed = True
        return len(existing)

    def _append_xf(self, xf: bytes) -> int:
        self._xfs.append(xf)
        m = self._XFS.search(self.xml)
        open_tag = re.sub(rb'count="\d+"', f'count="{len(self._xfs)}"'.encode(),
                          self.xml[m.start():m.start(1)])
        self.xml = self.xml[:m.start()] + open_tag + m[1] + xf + b"</cellXfs>" + \
            self.xml[m.end():]
        self.changed = True
        return len(self._xfs) - 1

    def _append_clone(self, base: int) -> int:
        xf = self._xfs[base] if base < len(self._xfs) else self._xfs[0]
        xf = re.sub(rb'\s(numFmtId|applyNumberFormat)="[^"]*"', b"", xf)
        xf = xf.replace(b"<xf", f'<xf numFmtId="{DATE_FORMAT_ID}" applyNumberFormat="1"'.encode(),
                        1)
        return self._append_xf(xf)
