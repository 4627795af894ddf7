"""Installing a template into a new .xlsx workbook (openpyxl).

The workbook gets: the table tab (frozen, styled header, widths, number formats, dropdowns and
colour rules over whole columns), a Lists tab feeding every dropdown, an empty Review tab for
duplicate pairs, and a Data dictionary tab. An existing file is never overwritten.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sheet_templates import Ledger, Template
from sheet_templates.dashboard import dashboard, install_sources
from sheet_templates.presentation import (
    DICTIONARY_WIDTHS, HEADER_FILL, HEADER_FONT, NUMBER_FORMATS, REVIEW_KEYS, REVIEW_WIDTHS,
    ColourRule, Dropdown, colour_rules, column_widths, dictionary_rows, dropdowns, header_width,
    ledger_widths, list_range, lists_tab, merged_headers, pages_wide, review_headers,
)
from i18n import _

from ..errors import TemplateInstallError
from .dashboard import write_dashboard

_HEADER_FONT = Font(bold=True, color=HEADER_FONT)
_HEADER_FILL = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
_THIN = Side(style="thin", color="BFBFBF")


def install_new(template: Template, path: Path, lang: str = "en",
                rows: Iterable[Mapping[str, Any]] = (),
                entries: Mapping[str, Iterable[Mapping[str, Any]]] | None = None) -> Path:
    """Write a new workbook at `path` laid out for `template`; `rows` (by column key) are added
    as data, as a person would type them, and `entries` (ledger key -> rows by column key) on
    the ledger tabs."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise TemplateInstallError(_("{path}: the file name must end in .xlsx", path=path))
    if path.exists():
        raise TemplateInstallError(
            _("{path} already exists; sheetkeeper will not overwrite it. Choose a new file name, "
              "or use --upgrade to add the template to that workbook", path=path))
    if not path.parent.is_dir():
        raise TemplateInstallError(_("{parent}: no such folder; create it first",
                                     parent=path.parent))
    book = build_workbook(template, lang, rows)
    for ledger in template.ledgers:
        sheet = book[ledger.sheet_names[lang]]
        keys = [c.key for c in ledger.columns]
        for row in (entries or {}).get(ledger.key, ()):
            sheet.append([row.get(k) for k in keys])
    _save_new(book, path)
    return path


def build_workbook(template: Template, lang: str, rows: Iterable[Mapping[str, Any]] = ()) -> Workbook:
    book = Workbook()
    table = book.active
    table.title = template.sheet_names[lang]
    positions = {c.key: i for i, c in enumerate(template.columns)}
    _write_table_header(table, template, lang)
    for r, row in enumerate(rows, start=2):
        for key, value in row.items():
            table.cell(row=r, column=positions[key] + 1, value=value)
    lists_name = template.word("tabs", "lists", lang)
    lists = lists_tab(template, lang)
    ledger_tabs = [(g, book.create_sheet(g.sheet_names[lang])) for g in template.ledgers]
    _write_lists_tab(book.create_sheet(lists_name), lists)
    apply_dropdowns(table, dropdowns(template, lang, positions, lists_name, lists))
    apply_colour_rules(table, colour_rules(template, lang, positions))
    for ledger, sheet in ledger_tabs:
        write_ledger_tab(sheet, template, ledger, lang, lists_name, lists)
    review = book.create_sheet(template.word("tabs", "review", lang))
    _write_review_tab(review, template, lang, lists_name, lists)
    _write_dictionary_tab(book.create_sheet(template.word("tabs", "dictionary", lang)),
                          template, lang)
    merged = book.create_sheet(template.word("tabs", "merged", lang))
    _style_header(merged, merged_headers(template, lang),
                  [c.width for c in template.columns] + [13, 12])
    write_dashboard(book.create_sheet(template.word("tabs", "dashboard", lang), 1),
                    dashboard(template, lang, *install_sources(template, lang)))
    book.properties.title = template.titles[lang]
    book.properties.creator = "sheetkeeper"
    book.properties.created = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return book


def _style_header(sheet: Worksheet, headers: list[str], widths: list[int]) -> None:
    for i, (text, width) in enumerate(zip(headers, widths), start=1):
        cell = sheet.cell(row=1, column=i, value=text)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        cell.border = Border(bottom=_THIN)
        sheet.column_dimensions[get_column_letter(i)].width = header_width(width, text)
    sheet.row_dimensions[1].height = 24
    sheet.freeze_panes = "A2"


def _write_table_header(sheet: Worksheet, template: Template, lang: str) -> None:
    columns = template.columns
    widths = column_widths(template, lang)
    _style_header(sheet, [c.header(lang) for c in columns], widths)
    _column_formats(sheet, columns)
    # Printed, a customer list is read across: landscape, the header on every page, as few
    # pages wide as keep the text readable (presentation.pages_wide), as many long as it takes.
    sheet.page_setup.orientation = "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = pages_wide(widths), 0
    # More than one page wide: a row's pages one after the other, before the next rows'.
    sheet.page_setup.pageOrder = "overThenDown"
    sheet.print_title_rows = "1:1"


def _column_formats(sheet: Worksheet, columns) -> None:
    """Each column's number format (phones and IDs as text, dates, amounts) and wrapping
    (notes, findings) over the whole column, and a filter on the header."""
    for i, c in enumerate(columns, start=1):
        fmt = NUMBER_FORMATS.get(c.type)
        if fmt:
            sheet.column_dimensions[get_column_letter(i)].number_format = fmt
        if c.type in ("notes", "findings"):
            sheet.column_dimensions[get_column_letter(i)].alignment = Alignment(wrap_text=True)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"


def write_ledger_tab(sheet: Worksheet, template: Template, ledger: Ledger, lang: str,
                     lists_name: str, lists) -> None:
    """A ledger tab (Purchases, Follow-ups…): its header, formats and dropdowns."""
    columns = ledger.columns
    _style_header(sheet, [c.header(lang) for c in columns], ledger_widths(ledger, lang))
    _column_formats(sheet, columns)
    positions = {c.key: i for i, c in enumerate(columns)}
    apply_dropdowns(sheet, dropdowns(template, lang, positions, lists_name, lists,
                                     columns=columns))


def _write_lists_tab(sheet: Worksheet, lists) -> None:
    _style_header(sheet, [c.header for c in lists], [14] * len(lists))
    for i, column in enumerate(lists, start=1):
        for r, value in enumerate(column.values, start=2):
            sheet.cell(row=r, column=i, value=value)


def apply_dropdowns(sheet: Worksheet, specs: list[Dropdown]) -> None:
    for spec in specs:
        # A warning, not a stop: a person may type an alias ("vip客户") that sheetkeeper turns
        # into the list's value, or a new value it flags; refusing the typing would lose it.
        # showDropDown must stay unset: in the file format, True *hides* the arrow.
        validation = DataValidation(type="list", formula1=f"={spec.source}", allow_blank=True,
                                    showErrorMessage=True, errorStyle="warning",
                                    errorTitle="Not in the list",
                                    error="This value is not in the list. Keep it anyway?")
        validation.add(spec.cells)
        sheet.add_data_validation(validation)


def apply_colour_rules(sheet: Worksheet, specs: list[ColourRule]) -> None:
    for spec in specs:
        fill = (PatternFill("solid", start_color=spec.fill, end_color=spec.fill)
                if spec.fill else None)
        font = Font(color=spec.font, bold=spec.bold) if spec.font or spec.bold else None
        # Stop if true: the first rule that holds decides the cell's look, as it does in
        # LibreOffice and Google Sheets (see presentation.colour_rules).
        sheet.conditional_formatting.add(
            spec.cells, FormulaRule(formula=[spec.formula], fill=fill, font=font,
                                    stopIfTrue=True))


def _write_review_tab(sheet: Worksheet, template: Template, lang: str, lists_name: str,
                      lists) -> None:
    _style_header(sheet, review_headers(template, lang), list(REVIEW_WIDTHS))
    decision_col = get_column_letter(REVIEW_KEYS.index("decision") + 1)
    apply_dropdowns(sheet, [Dropdown("decision", f"{decision_col}2:{decision_col}100000",
                                     list_range(lists_name, lists, "decision"))])


def _write_dictionary_tab(sheet: Worksheet, template: Template, lang: str) -> None:
    header, *rows = dictionary_rows(template, lang)
    _style_header(sheet, header, list(DICTIONARY_WIDTHS))
    for r, row in enumerate(rows, start=2):
        for i, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=i, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _save_new(book: Workbook, path: Path) -> None:
    """Save to a temporary file beside `path`, then link it into place: the link fails if a file
    appeared at `path` meanwhile, so an existing workbook is never replaced."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise TemplateInstallError(_("{path} appeared while installing; it was left alone",
                                         path=path)) \
                from None
    finally:
        os.unlink(tmp)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
