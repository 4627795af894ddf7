"""Formulas as a Google Sheet's locale writes them. Google parses every formula it is sent —
a cell's formulaValue, a conditional format's custom formula — by the spreadsheet's locale:
where the decimal separator is a comma (de_DE, fr_FR, pt_BR, id_ID…) the argument separator is
a semicolon, and `=AND(A1,B1)` is a parse error there. sheetkeeper writes its formulas the way
Excel's file format and Google's en_US do, with commas, and turns them into the sheet's own
form at this one place before they are sent (and back, to recognise its own rules)."""
from __future__ import annotations

import functools


@functools.cache
def argument_separator(locale: str | None) -> str:
    """`;` for a locale whose decimal separator is a comma (as Google Sheets has it), else
    `,`. Babel knows each locale's decimal separator."""
    if not locale:
        return ","
    from babel import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol
    try:
        return ";" if get_decimal_symbol(Locale.parse(locale, sep="_")) == "," else ","
    except (ValueError, UnknownLocaleError):
        return ","


def in_locale(formula: str, separator: str) -> str:
    """`formula` (commas between arguments) with `separator` between arguments instead: only
    outside text in double quotes and sheet names in single quotes."""
    return _swap(formula, ",", separator)


def canonical(formula: str, separator: str) -> str:
    """A formula read back from a sheet of that locale, with commas between arguments."""
    return _swap(formula, separator, ",")


def _swap(formula: str, old: str, new: str) -> str:
    if old == new or old not in formula:
        return formula
    out, quote = [], None
    for ch in formula:
        if quote:
            if ch == quote:
                quote = None        # a doubled quote closes and reopens: the same result
        elif ch in "\"'":
            quote = ch
        elif ch == old:
            ch = new
        out.append(ch)
    return "".join(out)
