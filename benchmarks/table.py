"""The table every benchmark prints: a header, a rule, and one line per measured size."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

# (title, the row's key or a function of the row, format spec such as ",", ".2f")
Column = tuple[str, str | Callable[[Mapping[str, Any]], Any], str]


def print_table(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> None:
    """Each column right-aligned, one wider than its title (eight at least)."""
    widths = [max(len(title) + 1, 8) for title, _, _ in columns]
    header = " ".join(f"{title:>{w}}" for (title, _, _), w in zip(columns, widths))
    print(header)
    print("-" * len(header))
    for row in rows:
        print(" ".join(format(get(row) if callable(get) else row[get], f">{w}{spec}")
                       for (_, get, spec), w in zip(columns, widths)))
