"""Cells a spreadsheet program opens as text, never as a formula (OWASP's "CSV injection").

The one definition of it: the audit log's CSV and every export use it. A cell that begins with
=, +, -, @, a tab, CR or LF (or their full-width forms, which some programs fold) is written
with a leading apostrophe, which spreadsheet programs show as the text typed; so is each line
of a multi-line cell, since a program that splits lines would read each as a cell of its own.
A value that strictly has its column's type is left as it is, so that it stays usable: an E.164
phone (+4930…) in a phone column, a plain number in an amount column.
"""
from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# What "strictly matches its column's type" means, by the template's column type.
_STRICT = {
    "phone": re.compile(r"\+[1-9][0-9]{1,14}"),                  # E.164, nothing else
    "money": re.compile(r"-?[0-9]+(?:\.[0-9]+)?"),               # a plain number
}
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def spreadsheet_safe(value: Any, column_type: str | None = None) -> Any:
    """`value` as a cell a spreadsheet program opens as text; anything not text is returned
    as it is (a number or a date is no formula)."""
    if not isinstance(value, str) or not value:
        return value
    strict = _STRICT.get(column_type or "")
    if strict is not None and strict.fullmatch(value):
        return value
    if "\n" in value or "\r" in value:
        parts = _LINE_BREAK.split(value)    # lines, and the breaks between them kept
        value = "".join("'" + p if k % 2 == 0 and p.startswith(FORMULA_STARTS) else p
                        for k, p in enumerate(parts))
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def needs_escape(value: Any, column_type: str | None = None) -> bool:
    """Whether `spreadsheet_safe` would change `value`."""
    return spreadsheet_safe(value, column_type) != value
