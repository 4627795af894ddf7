"""A1 references as spreadsheets write them: column letters and quoted sheet names.

openpyxl has these (openpyxl.utils), but importing any part of openpyxl loads all of it, numpy
included: a quarter of a second on every `check` and `apply`, which only read and patch a
workbook. They are a few lines; a test holds them to openpyxl's answers."""
from __future__ import annotations

import functools
import string

MAX_COLUMNS = 18_278      # ZZZ: the most that three letters name (Excel itself stops at XFD)


@functools.cache
def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA' (columns counted from 0)."""
    if not 0 <= index < MAX_COLUMNS:
        raise ValueError(f"no column {index + 1}: columns run from 1 to {MAX_COLUMNS}")
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return letters


@functools.cache
def column_index(letters: str) -> int:
    """'A' -> 0, 'AA' -> 26 (columns counted from 0); lower case is taken as upper."""
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        raise ValueError(f"{letters!r} is not a column's letters (A to ZZZ)")
    n = 0
    for letter in letters.upper():
        n = n * 26 + ord(letter) - ord("A") + 1
    return n - 1


def quote_sheetname(name: str) -> str:
    """A sheet's name as a formula refers to it: in single quotes, a quote in it doubled."""
    return "'" + name.replace("'", "''") + "'"
