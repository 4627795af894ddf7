"""sheetkeeper's own column letters and quoted sheet names give openpyxl's answers (they exist so
that reading a workbook does not load openpyxl)."""
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st
from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname

from sheet_templates import references
from tests.conftest import ROOT


@given(st.integers(0, references.MAX_COLUMNS - 1))
def test_column_letters_are_openpyxls(index):
    letters = references.column_letter(index)
    assert letters == get_column_letter(index + 1)
    assert references.column_index(letters) == index == column_index_from_string(letters) - 1
    assert references.column_index(letters.lower()) == index


@pytest.mark.parametrize("index", [-1, references.MAX_COLUMNS])
def test_no_letters_for_a_column_that_cannot_be(index):
    with pytest.raises(ValueError):
        references.column_letter(index)
    with pytest.raises(ValueError):
        get_column_letter(index + 1)


@pytest.mark.parametrize("letters", ["", "AAAA", "A1", "É", "1"])
def test_no_column_for_letters_that_are_not_a_column(letters):
    with pytest.raises(ValueError):
        references.column_index(letters)
    with pytest.raises(ValueError):
        column_index_from_string(letters)


@given(st.text(max_size=31))
def test_sheet_names_are_quoted_as_openpyxl_quotes_them(name):
    assert references.quote_sheetname(name) == quote_sheetname(name)


def test_the_commands_that_read_and_patch_workbooks_do_not_load_openpyxl():
    # openpyxl loads whole, numpy included: a quarter of a second on every check and apply.
    # Only `install` (new workbooks, --upgrade) needs it; a write of a date asks for it then.
    probe = ("import sys, service.cli, sync.cycle, sync.check; "
             "print([m for m in ('openpyxl', 'xml.sax.saxutils') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
