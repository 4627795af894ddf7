"""What a cell rule decides about one value.

A rule returns `Normalised` (the value should become `value`, because `reason`), `Problem` (the
value stays exactly as typed, and a person should look at it, because `message`), or None (the
value is fine as it is). Never both: a value that cannot be made right is never half-changed.
"""
from __future__ import annotations

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
