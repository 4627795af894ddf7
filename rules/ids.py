"""Row identifiers (Customer ID, Member number): their format, and which number comes next.

IDs are what sheetkeeper knows a row by, so they are never reused: the next free ID is one past
both the highest in the sheet and the highest ever issued (which the audit log remembers).
"""
from __future__ import annotations

import re
from functools import lru_cache

from i18n import _
from sheet_templates.model import IdFormat

from .outcome import Normalised, Outcome, Problem, shown


@lru_cache(maxsize=8)
def _pattern(prefix: str) -> re.Pattern:
    letters = re.escape(prefix.rstrip("-_ "))
    return re.compile(rf"\s*(?:{letters}[\s\-_]*)?0*(\d{{1,12}})\s*", re.IGNORECASE)


def id_number(value: object, fmt: IdFormat) -> int | None:
    """The number in an ID written any recognisable way (C-000012, c12, 'C 12', 12), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    digits = value[len(fmt.prefix):]
    if len(digits) == fmt.digits and value.startswith(fmt.prefix) and digits.isascii() \
            and digits.isdigit():
        return int(digits) or None   # written the template's way: the common case, no regex
    m = _pattern(fmt.prefix).fullmatch(value)
    if not m or int(m[1]) == 0:
        return None
    return int(m[1])


def normalise_id(value: object, fmt: IdFormat) -> Outcome:
    number = id_number(value, fmt)
    if number is None:
        return Problem("invalid_id",
                       _("{value} is not an ID like {example}; sheetkeeper leaves it as it is "
                         "(clear the cell to have a new ID assigned)", value=shown(value),
                         example=fmt.format(123)))
    canonical = fmt.format(number)
    if canonical == value:
        return None
    return Normalised(canonical, _("written the template's way ({first}, {second}, …)",
                                   first=fmt.format(1), second=fmt.format(2)))


def next_free(used: list[int], issued_before: int = 0) -> int:
    return max([issued_before, *used]) + 1
