"""A file's headers mapped to the template's columns, by the names the service itself knows a
column by (its header in each language and its aliases: `Template.key_of`), with the user's
corrections (`--map "Mobile=Phone"`, `--map "Fax="` to leave one out) on top.

Every column of the file ends up in exactly one place, and the mapping says which: a template
column; Notes (what no column takes, as "Header: value", when the sheet has a Notes column
and that was asked for); or left out, with the reason. Nothing is dropped without a word.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from i18n import _
from sheet_templates import Template, fold_label

from . import ImportInputError
from ..table import Layout

OWN_TYPES = ("status", "findings")    # what sheetkeeper works out itself: never imported


@dataclass(frozen=True)
class HeaderMapping:
    headers: tuple[str, ...]               # the file's, as they stand
    columns: dict[int, str]                # file column -> template column key
    to_notes: tuple[int, ...] = ()         # file columns whose values go to Notes
    left_out: dict[int, str] = field(default_factory=dict)   # file column -> why

    def name(self, k: int) -> str:
        return self.headers[k] if k < len(self.headers) and self.headers[k] \
            else _("column {n}", n=k + 1)

    def split(self, values: Sequence[Any]) -> tuple[dict[str, Any], list[str]]:
        """A row's values by template key, and what goes to Notes as "Header: value" (a value
        past the header's last column too: no column is silently dropped)."""
        mapped = {key: values[k] for k, key in self.columns.items()
                  if k < len(values) and _filled(values[k])}
        extra = [f"{self.name(k)}: {cell_text(values[k])}" for k in self.to_notes
                 if k < len(values) and _filled(values[k])]
        extra += [f"{self.name(k)}: {cell_text(v)}" for k, v in enumerate(values)
                  if k >= len(self.headers) and _filled(v)]
        return mapped, extra


def map_headers(headers: Sequence[str], layout: Layout, overrides: Sequence[str] = (),
                unmapped: str = "notes") -> HeaderMapping:
    """`overrides`: "Their header=Column" (any name of the column, or empty to leave it out);
    `unmapped`: "notes" or "leave" for what no column takes."""
    template = layout.template
    told = _told(headers, template, overrides)
    columns: dict[int, str] = {}
    left_out: dict[int, str] = {}
    to_notes: list[int] = []
    notes_key = _notes_key(layout)
    taken: dict[str, int] = {}
    for k, header in enumerate(headers):
        key = told[k] if k in told else (template.key_of(header) if header else None)
        if k in told and key is None:
            left_out[k] = _("left out with --map")
            continue
        why = _why_not(key, layout, taken, headers)
        if why is None:
            columns[k] = key
            taken[key] = k
        elif key is not None and _own(template, key):
            left_out[k] = why
        elif unmapped == "notes" and notes_key is not None:
            to_notes.append(k)
        else:
            left_out[k] = why if unmapped == "leave" else _(
                "{why}; the sheet has no Notes column to keep it in", why=why)
    if not any(template.column(key).type != "id" for key in columns.values()):
        raise ImportInputError(_(
            "none of the file's columns is one the template knows (its headers: {headers}); "
            'say which is which with --map "Their header=Phone"',
            headers=", ".join(repr(h) for h in headers if h) or _("none")))
    return HeaderMapping(tuple(headers), columns, tuple(to_notes), left_out)


def _told(headers: Sequence[str], template: Template, overrides: Sequence[str]
          ) -> dict[int, str | None]:
    """--map "Mobile=Phone": file column -> template key (None: leave it out)."""
    folded = {fold_label(h): k for k, h in reversed(list(enumerate(headers))) if h}
    out: dict[int, str | None] = {}
    for item in overrides:
        theirs, sep, ours = item.partition("=")
        if not sep or not theirs.strip():
            raise ImportInputError(_('--map {item!r}: say it as "Their header=Column" (or '
                                     '"Their header=" to leave that column out)', item=item))
        k = folded.get(fold_label(theirs))
        if k is None:
            raise ImportInputError(_("--map {item!r}: the file has no column {theirs!r}; its "
                                     "columns are: {columns}", item=item,
                                     theirs=theirs.strip(),
                                     columns=", ".join(h for h in headers if h)))
        if not ours.strip():
            out[k] = None
            continue
        key = template.key_of(ours)
        if key is None:
            names = ", ".join(c.headers.get("en", c.key) for c in template.columns)
            raise ImportInputError(_("--map {item!r}: {ours!r} is not a column of the "
                                     "{template} template; its columns are: {columns}",
                                     item=item, ours=ours.strip(), template=template.name,
                                     columns=names))
        out[k] = key
    return out


def _why_not(key: str | None, layout: Layout, taken: dict[str, int],
             headers: Sequence[str]) -> str | None:
    """Why a file column does not go to template column `key` (None: it does)."""
    template = layout.template
    if key is None:
        return _("no template column has that name")
    if _own(template, key):
        return _("sheetkeeper works out {column} itself", column=_header(layout, key))
    if key not in layout.columns:
        return _("the sheet has no {column} column", column=_header(layout, key))
    if key in taken:
        return _("{other!r} already goes to {column}", other=headers[taken[key]],
                 column=layout.headers[layout.columns[key]])
    return None


def _header(layout: Layout, key: str) -> str:
    """A template column as the sheet's language writes its header."""
    column = layout.template.column(key)
    return column.headers.get(layout.lang) or column.headers.get("en", key)


def _own(template: Template, key: str) -> bool:
    return template.column(key).type in OWN_TYPES


def _notes_key(layout: Layout) -> str | None:
    notes = layout.template.column_of_type("notes")
    return notes.key if notes is not None and notes.key in layout.columns else None


def _filled(value: Any) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def cell_text(value: Any) -> str:
    """A cell's value as a note says it: a date as ISO, 13800138000.0 as 13800138000."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
