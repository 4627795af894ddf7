"""Recognising a sheet's header: which row it is, which template it follows, in which language,
and which column is which. Columns are matched by header text and its aliases, in either
language; a user's own extra columns are simply not matched, and so never touched."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Any, Sequence

from sheet_templates import Template, fold_label
from i18n import _

from .errors import TableLayoutError
from .table import Layout
from sheet_templates.references import column_letter

HEADER_SEARCH_ROWS = 10
MIN_MATCHED_COLUMNS = 2
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class HeaderMatch:
    template: Template
    row: int          # 0-based
    matched: int


def _spellings(template: Template) -> Mapping[str, str]:
    return template.spellings()


def best_header(rows: Sequence[Sequence[Any]], templates: Sequence[Template]) -> HeaderMatch | None:
    best: HeaderMatch | None = None
    for template in templates:
        spellings = _spellings(template)
        for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            keys = {spellings.get(fold_label(v)) for v in row if isinstance(v, str)}
            keys.discard(None)
            if len(keys) >= MIN_MATCHED_COLUMNS and (best is None or len(keys) > best.matched):
                best = HeaderMatch(template, r, len(keys))
    return best


def layout_for(row: Sequence[Any], row_number: int, template: Template) -> Layout:
    """The Layout for header cells `row` (sheet row `row_number`, 1-based)."""
    filled = [i for i, v in enumerate(row) if v not in (None, "")]
    first, last = filled[0], filled[-1]
    cells = list(row[first:last + 1])
    headers = tuple("" if v is None else str(v).strip() for v in cells)
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):
        if not h:
            continue
        if h.casefold() in seen:
            a, b = column_letter(first + seen[h.casefold()]), column_letter(first + i)
            raise TableLayoutError(
                _("columns {a} and {b} both have the header {h}; rename one of them so each "
                  "column has its own header, then run again", a=a, b=b, h=repr(h)))
        seen[h.casefold()] = i
    spellings = _spellings(template)
    columns: dict[str, int] = {}
    notes: list[str] = []
    for i, h in enumerate(headers):
        key = spellings.get(fold_label(h)) if h else None
        if key is None:
            continue
        if key in columns:
            kept = headers[columns[key]]
            notes.append(_("column {value} {h} also looks like {kept}; only {kept} is checked, "
                           "{h} is left alone",
                           value=column_letter(first + i), h=repr(h), kept=repr(kept)))
            continue
        columns[key] = i
    cjk = sum(1 for i in columns.values() if _CJK.search(headers[i]))
    lang = "zh-CN" if cjk * 2 > len(columns) else "en"
    return Layout(template=template, lang=lang, header_row=row_number, headers=headers,
                  first_column=first, columns=columns, notes=tuple(notes))


def list_values(rows: Sequence[Sequence[Any]], layout: Layout) -> dict[str, tuple[str, ...]]:
    """The Lists tab's values (`rows`, header first) per template list key, found by header.
    Shared by every backend: a team's own additions count wherever the list lives."""
    if not rows:
        return {}
    by_header = {}
    for c in layout.template.columns:
        if c.list:
            for h in c.headers.values():
                by_header[fold_label(h)] = c.list
    out: dict[str, tuple[str, ...]] = {}
    for j, head in enumerate(rows[0]):
        key = by_header.get(fold_label(str(head))) if head else None
        if key:
            texts = ("" if j >= len(r) or r[j] is None else str(r[j]).strip() for r in rows[1:])
            out[key] = tuple(t for t in texts if t)
    return out
