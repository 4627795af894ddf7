"""What a cell rule decides about one value.

A rule returns `Normalised` (the value should become `value`, because `reason`), `Problem` (the
value stays exactly as typed, and a person should look at it, because `message`), or None (the
value is fine as it is). Never both: a value that cannot be made right is never half-changed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Normalised:
    value: Any
    reason: str


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    message: str


Outcome = Normalised | Problem | None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value: Any) -> str:
    """A cell value as a person sees it in a message: text quoted, a time as 09:30, not as
    Python writes it (datetime.time(9, 30))."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else \
            value.isoformat(" ", "minutes" if not value.second else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat("minutes" if not value.second else "seconds")
    if isinstance(value, dt.timedelta):
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
