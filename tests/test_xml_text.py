"""Everything sheetkeeper writes into a workbook is XML a strict parser accepts, and reads back as
exactly what was written: control characters, a carriage return, lone surrogates, a literal
"_x0041_" (issue 24 #1). A control character written raw made LibreOffice stop reading the
sheet at that cell, so the rest of the list disappeared."""
from __future__ import annotations

import hashlib
import xml.parsers.expat
import zipfile

import python_calamine
from hypothesis import HealthCheck, given, settings, strategies as st

from sync.cells import CellWrite
from sync.xlsx.write import ooxml_text, write_cells
from tests.conftest import write_table

# Every code point, controls and surrogates included, with the troublesome ones made likely.
_PIECES = st.one_of(st.characters(codec=None, exclude_categories=()),
                    st.sampled_from(["\x00", "\x1b", "\r", "\x7f", "\x85", "\ud800",
                                     "\udfff", "\ufffe", "\uffff", "_x0041_", "_x",
                                     "_x001B_", "_x005F_"]))
TEXT = st.lists(_PIECES, max_size=20).map("".join)


def strictly_parsed(data: bytes) -> None:
    parser = xml.parsers.expat.ParserCreate()
    parser.Parse(data, True)         # raises ExpatError on anything XML 1.0 does not allow


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_any_text_written_is_valid_xml_and_reads_back_exactly(tmp_path_factory, text):
    path = write_table(tmp_path_factory.mktemp("x") / "c.xlsx", ["Name", "Notes"],
                       [["Ann", "note"]])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    write_cells(path, {"Customers": [CellWrite(2, 1, text)]}, digest)
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                strictly_parsed(package.read(name))
    rows = python_calamine.CalamineWorkbook.from_path(str(path)) \
        .get_sheet_by_name("Customers").to_python()
    # A lone surrogate is no character at all, and U+FFFE/U+FFFF are not characters for
    # interchange (no valid workbook holds them; calamine leaves their escapes as they are):
    # each reads back as its escape, visibly, and nothing after it is lost.
    expected = "".join(f"_x{ord(c):04X}_" if "\ud800" <= c <= "\udfff" or c in "\ufffe\uffff"
                       else c for c in text)
    assert rows[1][1] == expected


@given(text=TEXT)
def test_the_escape_is_undone_by_the_rule_excel_uses(text):
    """Decoding _xHHHH_ the way Excel and calamine do gives the text back."""
    import re
    decoded = re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), ooxml_text(text))
    assert decoded == text
