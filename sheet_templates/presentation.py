"""How a template looks in a sheet, described as plain data every backend can apply: the Lists
tab, the dropdowns fed from it, the colour rules and the number formats.

Nothing here touches a file. The xlsx backend turns these into openpyxl objects; the Google
backend into Sheets API requests. Formulas use only functions Excel, LibreOffice and Google
Sheets share.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Mapping, Sequence

from .model import Column, Ledger, Template
from .references import column_letter, quote_sheetname

STATUS_FILLS = {"new": "BDD7EE", "active": "C6EFCE", "paused": "FFEB9C", "churned": "D9D9D9"}
FINDING_FILL = "F8CBAD"      # a cell with a finding: red tint
DUPLICATE_FILL = "FCE4D6"    # a row flagged as a possible duplicate: orange tint
OVERDUE_FONT = "C00000"      # an overdue follow-up: bold red
BIRTHDAY_FILL = "F4CCE6"     # a birthday this month: pink
AT_RISK_FILL = "D9D2E9"      # a customer drifting away (churn warning): lilac, on the name
HEADER_FILL = "1F4E78"
HEADER_FONT = "FFFFFF"
LAST_ROW = 1_048_576         # the whole column, so rows added later are covered too
# Printing: landscape, the header row on every page, as many pages wide as keep the text at
# least this big (an 11 pt font printed at 70% is about 8 pt); one page where that fits.
PRINT_MIN_SCALE = 0.7
# A landscape page's printable width in points: US Letter (narrower than A4) less Excel's
# default 0.7 in margins either side.
PRINT_WIDTH_PT = (11 - 2 * 0.7) * 72
# A column's width is counted in Latin characters of the default font (Calibri 11: 7 px each,
# plus 5 px of padding per column; 96 px to the inch, 72 pt).
CHAR_PX, COLUMN_PADDING_PX = 7, 5
# A column's number format, in the pattern language Excel and Google Sheets share: phones
# and IDs as text, so "+86…" and "007" are never turned into numbers.
NUMBER_FORMATS = {"date": "yyyy-mm-dd", "money": "#,##0.00", "phone": "@", "id": "@",
                  "ref": "@", "number": "0"}


@dataclass(frozen=True)
class ListColumn:
    """One column of the Lists tab: a dropdown's values under the column's header."""

    list_key: str
    header: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Dropdown:
    column_key: str
    cells: str          # A1 range on the table tab, e.g. "H2:H1048576"
    source: str         # the Lists range feeding it, e.g. "Lists!$A$2:$A$4"


@dataclass(frozen=True)
class ColourRule:
    name: str           # what the rule is for, for logs and tests
    cells: str          # A1 range it applies to
    formula: str        # true for cells to colour; relative to the range's top-left cell
    fill: str | None = None
    font: str | None = None
    bold: bool = False


def lists_tab(template: Template, lang: str,
              added: Mapping[str, tuple[str, ...]] | None = None) -> list[ListColumn]:
    """The Lists tab's columns: one per dropdown list, plus the review decisions. `added` keeps
    values a team put on the tab themselves."""
    columns, seen = [], set()
    for c in (*template.columns, *(c for g in template.ledgers for c in g.columns)):
        if c.list and c.list not in seen:
            seen.add(c.list)
            labels = template.lists[c.list].labels(lang)
            extra = tuple(v for v in (added or {}).get(c.list, ()) if v not in labels)
            columns.append(ListColumn(c.list, c.header(lang), tuple(labels) + extra))
    decisions = template.words["decisions"]
    columns.append(ListColumn("decision", template.word("review_headers", "decision", lang),
                              (decisions["merge"][lang], decisions["keep_both"][lang])))
    return columns


def list_range(tab: str, lists: list[ListColumn], list_key: str) -> str:
    index = next(i for i, c in enumerate(lists) if c.list_key == list_key)
    letter = column_letter(index)
    return f"{quote_sheetname(tab)}!${letter}$2:${letter}${len(lists[index].values) + 1}"


def dropdowns(template: Template, lang: str, positions: Mapping[str, int], lists_tab_name: str,
              lists: list[ListColumn], first_row: int = 2,
              columns: Sequence[Column] | None = None) -> list[Dropdown]:
    """`positions`: template column key -> 0-based sheet column. `columns`: a ledger tab's
    (the table's by default)."""
    out = []
    for c in template.columns if columns is None else columns:
        if c.list and c.key in positions:
            letter = column_letter(positions[c.key])
            out.append(Dropdown(c.key, f"{letter}{first_row}:{letter}{LAST_ROW}",
                                list_range(lists_tab_name, lists, c.list)))
    return out


def colour_rules(template: Template, lang: str, positions: Mapping[str, int],
                 first_row: int = 2) -> list[ColourRule]:
    """In priority order, the first that holds for a cell deciding its look: a finding's red on
    the cell it is about, then the Status cell's colour, then an overdue follow-up, then a
    duplicate's orange over the rest of the row.

    Excel, LibreOffice and Google Sheets settle overlapping rules differently: Excel applies
    every rule that holds, a higher priority winning where two set the same thing (unless one
    says stop-if-true); Google and LibreOffice take the first rule that holds, whole. So each
    rule is written to stop (see the backends), which makes Excel do as the other two, and the
    row tint leaves out the Status column altogether, so no reading of the order can hide a
    status colour under it."""
    letter = {k: column_letter(i) for k, i in positions.items()}
    last = max(positions.values())
    row_cells = f"A{first_row}:{column_letter(last)}{LAST_ROW}"
    header_row = first_row - 1
    status = template.status.column
    rules, tint = [], []
    findings = template.column_of_type("findings")
    if findings and findings.key in letter:
        f = f"${letter[findings.key]}{first_row}"
        # A finding line starts with the header of the cell it is about ("Phone: …"); the
        # newline in front keeps "Name" from matching inside another line's text.
        rules.append(ColourRule(
            "finding", row_cells,
            f'ISNUMBER(SEARCH(CHAR(10)&A${header_row}&":",CHAR(10)&{f}))', fill=FINDING_FILL))
        marker = template.word("words", "duplicate_marker", lang)
        tint.append(ColourRule("duplicate", _row_without(positions.get(status), last, first_row),
                               f'ISNUMBER(SEARCH("{marker}",{f}))', fill=DUPLICATE_FILL))
    if status in letter:
        col = letter[status]
        for choice in template.lists[template.column(status).list].choices:
            rules.append(ColourRule(
                f"status:{choice.key}", f"{col}{first_row}:{col}{LAST_ROW}",
                f'${col}{first_row}="{choice.label(lang)}"', fill=STATUS_FILLS[choice.key]))
    follow_up = template.status.follow_up
    if follow_up and follow_up in letter:
        col = letter[follow_up]
        rules.append(ColourRule(
            "overdue", f"{col}{first_row}:{col}{LAST_ROW}",
            f"AND(ISNUMBER({col}{first_row}),{col}{first_row}<TODAY())",
            font=OVERDUE_FONT, bold=True))
    if "birthday" in letter:
        col = letter["birthday"]
        # A formula, not a finding: it moves on by itself when the month turns.
        rules.append(ColourRule(
            "birthday", f"{col}{first_row}:{col}{LAST_ROW}",
            f"AND(ISNUMBER({col}{first_row}),MONTH({col}{first_row})=MONTH(TODAY()))",
            fill=BIRTHDAY_FILL))
    name = template.duplicates.name
    if findings and findings.key in letter and name in letter:
        col, f = letter[name], f"${letter[findings.key]}{first_row}"
        marker = template.word("words", "at_risk_marker", lang)
        rules.append(ColourRule("at_risk", f"{col}{first_row}:{col}{LAST_ROW}",
                                f'ISNUMBER(SEARCH("{marker}",{f}))', fill=AT_RISK_FILL))
    return rules + tint


def _row_without(column: int | None, last: int, first_row: int) -> str:
    """The rows' cells from column A to `last` (0-based) but `column`: one or two A1 ranges,
    separated by a space as a multi-range is written in the file format."""
    spans = ([(0, last)] if column is None or column > last else
             [(a, b) for a, b in ((0, column - 1), (column + 1, last)) if a <= b])
    return " ".join(f"{column_letter(a)}{first_row}:{column_letter(b)}{LAST_ROW}"
                    for a, b in spans)


def display_width(text: str) -> int:
    """How many Latin character widths `text` takes on one line: a CJK character (and any
    other East Asian wide or full-width form) about two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def header_width(width: int, header: str) -> int:
    """A column's width, widened where its header would not fit on one line: the header is
    bold (about a tenth wider) and the table's header carries a filter button (about two
    characters' room)."""
    return max(width, math.ceil(display_width(header) * 1.1) + 3)


def column_widths(template: Template, lang: str) -> list[int]:
    """The table's column widths in the sheet's language, in the template's order."""
    return [header_width(c.width, c.header(lang)) for c in template.columns]


def width_px(width: float) -> int:
    """A column width in characters as pixels (what Google Sheets sizes columns in)."""
    return round(width * CHAR_PX + COLUMN_PADDING_PX)


def pages_wide(widths: list[float]) -> int:
    """How many pages wide the table is printed: one if it fits at PRINT_MIN_SCALE or more,
    else as many as keep it at least that big (fitted to them, so no page is mostly empty)."""
    table_pt = sum(width_px(w) for w in widths) * 72 / 96
    return max(1, math.ceil(table_pt * PRINT_MIN_SCALE / PRINT_WIDTH_PT))


REVIEW_KEYS = ("pair", "kind", "score", "reason", "id_a", "name_a", "details_a", "id_b",
               "name_b", "details_b", "decision", "decided")
REVIEW_WIDTHS = (8, 10, 8, 40, 13, 20, 36, 13, 20, 36, 14, 18)
DICTIONARY_KEYS = ("column", "type", "required", "values", "help", "aliases")
DICTIONARY_WIDTHS = (20, 18, 9, 36, 70, 50)


def review_headers(template: Template, lang: str) -> list[str]:
    return [template.word("review_headers", k, lang) for k in REVIEW_KEYS]


def merged_headers(template: Template, lang: str) -> list[str]:
    """The Merged tab: every column of the table, then which row it went into, and when."""
    return [c.header(lang) for c in template.columns] + [
        template.word("merged_headers", "merged_into", lang),
        template.word("merged_headers", "merged_at", lang)]


def dictionary_rows(template: Template, lang: str) -> list[list[str]]:
    """The Data dictionary tab: header row, then one row per column of the template."""
    yes = template.word("words", "yes", lang)
    one_of = {k: template.word("words", "one_of", lang)
              for group in template.required_any for k in group}
    rows = [[template.word("dictionary_headers", k, lang) for k in DICTIONARY_KEYS]]
    for c in template.columns:
        values = ", ".join(template.lists[c.list].labels(lang)) if c.list else ""
        required = yes if c.required else one_of.get(c.key, "")
        rows.append([c.header(lang), template.word("types", c.type, lang), required, values,
                     c.help[lang], ", ".join(c.aliases)])
    for g in template.ledgers:
        for c in g.columns:
            values = ", ".join(template.lists[c.list].labels(lang)) if c.list else ""
            rows.append([f"{g.sheet_names[lang]} · {c.header(lang)}",
                         template.word("types", c.type, lang), "", values, c.help[lang],
                         ", ".join(c.aliases)])
    return rows


def ledger_widths(ledger: Ledger, lang: str) -> list[int]:
    return [header_width(c.width, c.header(lang)) for c in ledger.columns]
