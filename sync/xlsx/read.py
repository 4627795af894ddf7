"""Reading a workbook's table in one fast pass (python-calamine), without changing the file."""
from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path
from typing import Any, Sequence

import python_calamine as calamine

from sheet_templates import Template, templates_or_builtin
from i18n import _

from ..errors import SheetNotFound, TableLayoutError, WorkbookDamaged, WorkbookEncrypted
from ..header import HEADER_SEARCH_ROWS, best_header, layout_for, list_values
from ..table import Layout, SheetTable, SideTab
from .package import (MAX_SHEET_CELLS, SheetParts, column_letter, far_cell,
                           error_cells, formula_cells, read_bytes, sniff)


def read_table(path: Path | str, templates: Sequence[Template] | None = None,
               sheet: str | None = None, data: bytes | None = None,
               keep_xml: bool = False) -> SheetTable:
    """The customer table of the workbook at `path`: the sheet that looks most like one of
    `templates` (all built-in ones by default), or `sheet` if named. `data`: the workbook's
    bytes, when the caller already holds them (a snapshot), named by `path` in messages.
    `keep_xml`: the table keeps its sheet's XML (for a write to patch)."""
    path = Path(path)
    templates = templates_or_builtin(templates)
    if data is None:
        data = read_bytes(path)
    sniff(path, data)
    book = _Book(path, _open(path, data), SheetParts(data))
    try:
        name, layout, rows, merged = _choose_sheet(path, book, templates, sheet)
        list_values = _list_tab_values(book, layout)
        review = _side_tab(book, layout.template.words["tabs"]["review"].values())
        merged_tab = _side_tab(book, layout.template.words["tabs"]["merged"].values())
        ledgers = {g.key: tab for g in layout.template.ledgers
                   if (tab := _side_tab(book, g.sheet_names.values())) is not None}
    finally:
        book.close()
    _refuse_merged_cells(path, name, layout, merged)
    table = _build_table(path, data, name, layout, rows, list_values,
                         formula_cells(book.parts.xml(name)), book.parts.totals_rows(name),
                         error_cells(book.parts.xml(name)))
    return dataclasses.replace(table, review=review, merged=merged_tab, ledgers=ledgers,
                               sheet_xml=book.parts.xml(name) if keep_xml else None)


class _Book:
    """The calamine workbook, and the sheets' XML for what calamine does not tell."""

    def __init__(self, path: Path, calamine_book, parts: SheetParts):
        self.path, self._book, self.parts = path, calamine_book, parts
        self.sheet_names, self.sheets_metadata = calamine_book.sheet_names, \
            calamine_book.sheets_metadata
        self._near: set[str] = set()      # sheets found to hold no far value

    def get_sheet_by_name(self, name: str):
        self._refuse_far(name)
        return self._book.get_sheet_by_name(name)

    def _refuse_far(self, name: str) -> None:
        # Refused before calamine sees it: calamine would make one rectangle of the whole
        # span, and a far stray value makes that too big to allocate (the process aborts).
        if name in self._near:
            return
        try:
            far = far_cell(self.parts.xml(name))
        except WorkbookDamaged as e:
            raise WorkbookDamaged(_("{path}: {e}", path=self.path, e=e)) from None
        if far is not None:
            cell, last_row = far
            raise TableLayoutError(
                _("{path}: sheet {name} reaches too far: it has values down to row {last_row:,} "
                  "and out to cell {cell}, and reading it means reading every cell of that "
                  "rectangle from A1 (over {MAX_SHEET_CELLS:,}). Delete the stray values far "
                  "from the table (Ctrl+End goes to the last one), then run again",
                  path=self.path, name=repr(name), last_row=last_row, cell=cell,
                  MAX_SHEET_CELLS=MAX_SHEET_CELLS))
        self._near.add(name)

    def close(self) -> None:
        self._book.close()


def _side_tab(book, names) -> SideTab | None:
    name = next((n for n in book.sheet_names if n in set(names)), None)
    if name is None:
        return None
    try:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (calamine.CalamineError, calamine.XmlError, ValueError):
        return None
    formulas = frozenset((r + 1, c) for r, c in formula_cells(book.parts.xml(name)))
    return dataclasses.replace(SideTab.from_rows(name, rows), formulas=formulas)


def _open(path: Path, data: bytes) -> "calamine.CalamineWorkbook":
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError:
        raise WorkbookEncrypted(_("{path}: the workbook is password-protected; remove the "
                                  "password or save an unprotected copy, then run again",
                                  path=path)) from None
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, OSError, ValueError) as e:
        raise WorkbookDamaged(_("{path}: the workbook cannot be read ({e}); let Excel repair it "
                                "or restore it from a backup, then run again",
                                path=path, e=e)) from None


def _sheet_rows(path: Path, book: "_Book", name: str) -> tuple[list[list[Any]], list]:
    """All rows of a sheet and its merged ranges (calamine parses the whole sheet on each
    get_sheet_by_name, so both come from one call)."""
    try:
        sheet = book.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []
    except (calamine.CalamineError, calamine.XmlError, calamine.ZipError, ValueError) as e:
        raise WorkbookDamaged(_("{path}: sheet {name} cannot be read ({e}); let Excel repair the "
                                "workbook or restore it from a backup",
                                path=path, name=repr(name), e=e)) from None


def _choose_sheet(path: Path, book, templates: Sequence[Template],
                  sheet: str | None) -> tuple[str, Layout, list[list[Any]], list]:
    """The sheet holding the list, its layout and all its rows. Each sheet is parsed at most
    once; a sheet named the template's way that matches ends the search early."""
    names = [m.name for m in book.sheets_metadata
             if m.typ == calamine.SheetTypeEnum.WorkSheet]
    if sheet is not None and sheet not in names:
        raise SheetNotFound(_("{path}: there is no sheet called {sheet}; the sheets are: {value}",
                              path=path, sheet=repr(sheet), value=', '.join(names)))
    best, too_far = _best_header_sheet(path, book, templates, [sheet] if sheet else names)
    # A sheet that reaches too far to read is only the table's problem if no other sheet
    # holds the table.
    if best is None and too_far is not None:
        raise too_far
    if best is None:
        raise _no_header_row(path, templates, sheet)
    name, match, rows, merged = best
    return name, layout_for(rows[match.row], match.row + 1, match.template), rows, merged


def _best_header_sheet(path: Path, book, templates: Sequence[Template], candidates: list[str]
                       ) -> tuple[tuple | None, TableLayoutError | None]:
    """(name, header match, rows, merged ranges) of the sheet whose header matches a template
    best, or None; and the first sheet found too far-reaching to read, if any. Sheets named the
    template's way are looked at first, and the first of them that matches is taken."""
    preferred = {n for t in templates for n in t.sheet_names.values()}
    best, too_far = None, None
    for name in sorted(candidates, key=lambda n: n not in preferred):
        try:
            rows, merged = _sheet_rows(path, book, name)
        except TableLayoutError as e:
            too_far = too_far or e
            continue
        match = best_header(rows, templates)
        if match and (best is None or match.matched > best[1].matched):
            best = (name, match, rows, merged)
            if name in preferred:
                break
    return best, too_far


def _no_header_row(path: Path, templates: Sequence[Template],
                   sheet: str | None) -> TableLayoutError:
    where = f"sheet {sheet!r}" if sheet else "any sheet"
    expected = ", ".join(c.header("en") for c in templates[0].columns[1:5])
    expected_zh = "、".join(c.header("zh-CN") for c in templates[0].columns[1:5])
    return TableLayoutError(
        _("{path}: no header row found in {where} (looked at the first {HEADER_SEARCH_ROWS} rows "
          "for column names such as {expected} or {expected_zh}); add a header row above the "
          "data, or install a template with `sheetkeeper install`",
          path=path, where=where, HEADER_SEARCH_ROWS=HEADER_SEARCH_ROWS, expected=expected,
          expected_zh=expected_zh))


def _list_tab_values(book, layout: Layout) -> dict[str, tuple[str, ...]]:
    """Values a team added on the Lists tab, per template list key."""
    tab_names = set(layout.template.words["tabs"]["lists"].values())
    tab = next((n for n in book.sheet_names if n in tab_names), None)
    if tab is None:
        return {}
    try:
        rows = book.get_sheet_by_name(tab).to_python(skip_empty_area=False)
    except (calamine.CalamineError, calamine.XmlError, ValueError):
        return {}
    return list_values(rows, layout)


def _refuse_merged_cells(path: Path, name: str, layout: Layout, merged: list) -> None:
    # Merged cells have no answer to "which row is this value in"; writing into them corrupts
    # what people see. The list must be unmerged before sheetkeeper can look after it.
    first, last = layout.first_column, layout.first_column + len(layout.headers) - 1
    for (r0, c0), (r1, c1) in merged:
        if r1 >= layout.header_row - 1 and c1 >= first and c0 <= last:
            cells = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            raise TableLayoutError(
                _("{path}: cells {cells} on sheet {name} are merged inside the table; unmerge "
                  "them (Excel: Home > Merge & Center > Unmerge Cells) so each cell holds one "
                  "value, then run again", path=path, cells=cells, name=repr(name)))


def _build_table(path: Path, raw: bytes, name: str, layout: Layout, data: list[list[Any]],
                 list_values: dict[str, tuple[str, ...]],
                 formula_cells: set[tuple[int, int]], totals: set[int] = frozenset(),
                 errors: dict[tuple[int, int], str] | None = None) -> SheetTable:
    """`totals`: rows (1-based) that are an Excel Table's Totals row, not a customer."""
    first, width = layout.first_column, len(layout.headers)
    end = first + width
    rows, numbers = [], []
    for r in range(layout.header_row, len(data)):
        if r + 1 in totals:
            continue
        cells = data[r][first:end]
        if cells.count("") + cells.count(None) == len(cells):
            continue
        cells = [None if v == "" else v for v in cells]
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        rows.append(tuple(cells))
        numbers.append(r + 1)
    inside = lambda r, c: r >= layout.header_row and first <= c < end  # noqa: E731
    formulas = frozenset((r + 1, c - first) for r, c in formula_cells if inside(r, c))
    shown = {(r + 1, c - first): text for (r, c), text in (errors or {}).items() if inside(r, c)}
    return SheetTable(source=str(path), sheet=name, layout=layout, rows=tuple(rows),
                      row_numbers=tuple(numbers), formulas=formulas | shown.keys(),
                      errors=shown, list_values=list_values,
                      digest=hashlib.sha256(raw).hexdigest())
