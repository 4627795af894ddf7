"""Which columns and which rows of the table an export carries. Pure: a SheetTable and an
ExportChoice in, an ExportTable out (values as read; no formatting, no escaping yet)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sheet_templates import fold_label
from sync.errors import ExportError
from sync.table import SheetTable
from i18n import _


@dataclass(frozen=True)
class ExportChoice:
    """What a person asked for. Columns by any of their names (as the header says, in either
    language, or an alias: Phone, 电话, Mobile); rows by the value of a dropdown column, in
    any of its names (active, Active, 活跃). Empty: all of them."""

    columns: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportTable:
    headers: tuple[str, ...]              # as they stand in the sheet
    keys: tuple[str | None, ...]          # the template's column key (None: a column of its own)
    types: tuple[str | None, ...]         # the template's column type (phone, money, date, …)
    rows: tuple[tuple[Any, ...], ...]
    lang: str                             # the sheet's language (en, zh-CN)
    template: str


def select(table: SheetTable, choice: ExportChoice, shown_errors: bool = True) -> ExportTable:
    """`shown_errors`: a cell showing an error (#N/A, #REF!) as the text it shows, as a copy
    of the table for people should; else empty, as a CRM should get it (not a value)."""
    layout = table.layout
    template = layout.template
    by_index = {j: key for key, j in layout.columns.items()}
    indices = _columns(table, choice.columns)
    rows: Sequence[tuple[Any, ...]] = table.rows
    if shown_errors and table.errors:
        rows = _with_errors(table)
    for list_key, wanted in (("status", choice.statuses), ("tier", choice.tiers)):
        if wanted:
            rows = _rows_where(table, rows, list_key, wanted)
    keys = tuple(by_index.get(j) for j in indices)
    types = tuple(template.column(k).type if k else None for k in keys)
    return ExportTable(tuple(layout.headers[j] for j in indices), keys, types,
                       tuple(tuple(row[j] for j in indices) for row in rows),
                       layout.lang, template.name)


def _columns(table: SheetTable, names: Sequence[str]) -> list[int]:
    layout = table.layout
    present = [j for j, h in enumerate(layout.headers) if h]
    if not names:
        return present
    out = []
    for name in names:
        j = layout.position(name.strip())
        if j is None:
            key = layout.template.key_of(name)
            j = layout.index(key) if key else None
        if j is None:
            raise ExportError(_("{source}: no column {name} in the sheet {sheet}; it has {value}",
                                source=table.source, name=repr(name), sheet=repr(table.sheet),
                                value=', '.join(layout.headers[k] for k in present)))
        if j not in out:
            out.append(j)
    return out


def _rows_where(table: SheetTable, rows, list_key: str, wanted: Sequence[str]):
    """The rows whose `list_key` column (status, tier) holds one of `wanted`, each in any of
    the dropdown value's names."""
    layout = table.layout
    template = layout.template
    j = layout.index(list_key)
    choices = template.lists.get(list_key)
    if j is None or choices is None:
        raise ExportError(_("{source}: the {name} list in {sheet} has no {list_key} column to "
                            "choose rows by",
                            source=table.source, name=template.name, sheet=repr(table.sheet),
                            list_key=list_key))
    names = {}
    for c in choices.choices:
        for name in (c.key, *c.labels.values(), *c.aliases):
            names[fold_label(name)] = c.key
    keys = set()
    for w in wanted:
        key = names.get(fold_label(w))
        if key is None:
            raise ExportError(f"no {list_key} {w!r}; the {list_key} values are "
                              + ", ".join(c.label(layout.lang) for c in choices.choices))
        keys.add(key)
    return [row for row in rows
            if isinstance(row[j], str) and names.get(fold_label(row[j])) in keys]


def _with_errors(table: SheetTable) -> list[tuple[Any, ...]]:
    at = {n: i for i, n in enumerate(table.row_numbers)}
    rows = list(table.rows)
    for (number, j), text in table.errors.items():
        i = at.get(number)
        if i is not None:
            row = list(rows[i])
            row[j] = text
            rows[i] = tuple(row)
    return rows
