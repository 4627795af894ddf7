"""Amounts of money to plain numbers: currency signs, thousands separators and 万 are removed.

"1,234.50" and "1.234,50" both mean 1234.5 (the last separator followed by one or two digits is the
decimal one); a lone "1,234" or "1.234" is a thousands group. Anything else is left with a problem.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from i18n import _

from .outcome import Normalised, Outcome, Problem, shown
from .text import fold_fullwidth

# The white space between a currency and the number is stripped after, not matched: "\s*" in
# front of an end-anchored word is tried from every space of a long run (minutes on a 30,000-
# character cell).
_CURRENCY = re.compile(
    r"^(?:RMB|CNY|USD|EUR|GBP|HKD|US\$|HK\$|[$€£¥￥])|(?:元|块|RMB|CNY|USD|EUR|GBP|HKD)$",
    re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d[\d,.' ]*")


@lru_cache(maxsize=262_144, typed=True)
def normalise_money(value: object) -> Outcome:
    if isinstance(value, bool):
        return Problem("invalid_money", _("{value} is not an amount", value=shown(value)))
    if isinstance(value, (int, float)):
        return None
    if not isinstance(value, str):
        return Problem("invalid_money", _("{value} is not an amount", value=shown(value)))
    text = fold_fullwidth(value).strip()
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").strip()
    for _twice in range(2):
        text = _CURRENCY.sub("", text).strip()
    scale = 1
    if text.endswith("万"):
        scale, text = 10_000, text[:-1].strip()
    if not _NUMBER.fullmatch(text):
        return Problem("invalid_money", _("is not an amount; type a number such as 1234.50"))
    number = _parse_number(text)
    if number is None:
        return Problem("invalid_money", _("has separators that do not make one number"))
    number *= scale
    if negative:
        number = -number
    out: int | float = int(number) if number == number.to_integral_value() else float(number)
    return Normalised(out, _("written as a number"))


def _parse_number(text: str) -> Decimal | None:
    text = text.replace(" ", "").replace("'", "")
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:]
    last = max(text.rfind(","), text.rfind("."))
    decimals = len(text) - last - 1 if last >= 0 else 0
    if last >= 0 and decimals in (1, 2) or (last >= 0 and text.count(text[last]) == 1
                                            and decimals != 3):
        whole, frac = text[:last], text[last + 1:]
        if text[last] in whole:  # "1.234.5": the decimal mark cannot also group thousands
            return None
    else:
        whole, frac = text, ""
    groups = re.split(r"[,.]", whole)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        return None
    try:
        return Decimal(f"{sign}{''.join(groups)}.{frac or '0'}")
    except InvalidOperation:
        return None
