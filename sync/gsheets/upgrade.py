"""`install --upgrade` on a Google Sheet already in use: what `xlsx_upgrade` does for a workbook.

The template's missing columns are added at the end of the table (found by its header, never by
position); missing Lists, Review, Data dictionary and Merged tabs are added; the dropdowns,
colour rules, number formats and warning-only protections (and the Review tab's Decision
dropdown) are laid down again over whole columns, each dropdown fed from where the team's own
Lists tab keeps its list (a list it lacks is added at its end), which repairs ranges that pasting, inserting and deleting rows have broken. Never
removes, reorders or rewrites user data or user columns, and never touches another tab.

sheetkeeper's own colour rules and protections are told from a team's own by what they are:
a conditional format whose formula is one sheetkeeper writes for this table (as it stands, or as
installed), a protected range whose description ends "is kept by sheetkeeper". Only those are
replaced.

Four requests: the spreadsheet's metadata, one values:batchGet of the top of every tab (to find
the table's header) and of the whole Lists tab, one spreadsheets:batchUpdate (applied by Google whole or not at all), and
one RAW values:batchUpdate for the new headers and the new tabs' contents.
"""
from __future__ import annotations

from dataclasses import dataclass

from sheet_templates import Template
from sheet_templates.dashboard import Source, dashboard
from sheet_templates.presentation import colour_rules, header_width, lists_tab
from i18n import _

from ..errors import TableLayoutError
from .client import GoogleSheet, is_grid, quoted_tab, refuse_title_clashes
from .dashboard import dashboard_requests
from .formulas import argument_separator, canonical
from .install import (PROTECTION_SUFFIX, ListsAsFound, column_sizes, decision_dropdown,
                      formatting, header_format, ledger_headers, ledger_role, ledger_tabs,
                      lists_as_found, merged_formats, new_sheet_id, new_tab, side_tab_rows,
                      side_tab_widths, tab_playing)
from ..header import HEADER_SEARCH_ROWS, best_header, layout_for
from ..ledgers import ledger_columns
from ..table import Layout, SideTab
from sheet_templates.references import column_letter


@dataclass(frozen=True)
class GoogleUpgrade:
    added_columns: tuple[str, ...]
    added_tabs: tuple[str, ...]
    dropdowns: int
    colour_rules: int
    requests: int


def upgrade_google(sheet: GoogleSheet, template: Template) -> GoogleUpgrade:
    sheets, title, layout, lists_title, tops, separator = _look(sheet, template)
    lang, table = layout.lang, sheets[title]["properties"]["sheetId"]
    end = layout.first_column + len(layout.headers)
    missing = [c for c in template.columns if c.key not in layout.columns]
    positions = _positions_after(layout, missing)
    names, added = _side_tabs(sheets, template, lang)
    refuse_title_clashes([names[role] for role in added], list(sheets))
    lists = lists_tab(template, lang)
    # Each dropdown fed from where the team's own Lists tab keeps its list.
    found = (lists_as_found(lists_title, tops[lists_title], lists) if lists_title
             else ListsAsFound({}, {}))
    removed = _without_own(sheets[title], table, template, lang, layout, positions, separator)
    theirs = len(sheets[title].get("conditionalFormats", [])) - sum(
        "deleteConditionalFormatRule" in r for r in removed)
    laid = formatting(table, template, lang, positions, layout.header_row, names["lists"], lists,
                      found.sources, after=theirs, separator=separator)

    # One batch, applied in this order: room for the new columns and the new tabs before
    # anything formats them, sheetkeeper's own rules deleted before they are laid down again.
    sheet.spreadsheet.batch_update({"requests": [
        *_room_for_columns(sheets[title], table, end + len(missing)),
        # Wide enough for the Merged tab's copy of every column and its two of its own.
        *(new_tab(n, names[role], max(26, len(template.columns) + 2))
          for role, n in added.items()),
        *removed,
        *laid,
        *_new_headers_format(table, layout.header_row, end, len(missing)),
        *_widths(template, lang, table, positions, missing, added, lists),
        *_side_tab_formats(sheets, template, names, added, lists, found),
        *ledger_tabs(template, added, lang, names["lists"], lists, found.sources),
        *(dashboard_requests(added["dashboard"], _board(template, layout, title, positions,
                                                        names, added, tops), separator)
          if "dashboard" in added else ())]})
    values = [*_new_headers(title, layout.header_row, end, [c.header(lang) for c in missing]),
              *_side_tab_values(template, lang, lists, names, added),
              *ledger_headers(template, added, names, lang),
              *({"range": where, "values": rows} for where, rows in found.additions.items())]
    if values:
        sheet.spreadsheet.values_batch_update({"valueInputOption": "RAW", "data": values})
    kinds = [next(iter(r)) for r in laid]
    return GoogleUpgrade(tuple(c.header(lang) for c in missing),
                         tuple(names[r] for r in added), kinds.count("setDataValidation"),
                         kinds.count("addConditionalFormatRule"), 3 + bool(values))


def _board(template: Template, layout: Layout, title: str, positions: dict[str, int],
           names: dict[str, str], added: dict[str, int], tops: dict[str, list[list]]):
    """The dashboard over the list as it stands once upgraded: its columns where they are,
    each ledger tab's where the team keeps them (by the header in its first row), or as a
    new one lays them."""
    lang = layout.lang
    table = Source(title, positions, layout.header_row)
    ledgers = {}
    for g in template.ledgers:
        name = names[ledger_role(g)]
        if ledger_role(g) in added:
            ledgers[g.key] = Source(name, {c.key: i for i, c in enumerate(g.columns)})
        elif tops.get(name):
            # Found as the cycle finds them (the first of two headers that name one column).
            header = tuple(str(h) for h in tops[name][0])
            ledgers[g.key] = Source(name, ledger_columns(g, SideTab(name, header, ())))
    return dashboard(template, lang, table, ledgers)


def _look(sheet: GoogleSheet, template: Template):
    """What the upgrade works from: every tab by title, the tab that holds the list and its
    layout, the team's Lists tab (or None), the top rows read of each grid tab, and the
    argument separator of the spreadsheet's locale."""
    meta = sheet.spreadsheet.fetch_sheet_metadata()
    sheets = {s["properties"]["title"]: s for s in meta["sheets"]}
    separator = argument_separator(meta.get("properties", {}).get("locale"))
    # Only grids have values to read (a chart on a sheet of its own has none), and only
    # within their rows.
    grids = {t: s["properties"] for t, s in sheets.items() if is_grid(s["properties"])}
    lists_title = tab_playing("lists", grids, [template])
    # The template's own tab names first: the table is most likely there.
    preferred = set(template.sheet_names.values())
    titles = sorted(grids, key=lambda t: t not in preferred)
    tops = sheet.read_top(titles, HEADER_SEARCH_ROWS, whole=[lists_title] if lists_title else [],
                          heights={t: p.get("gridProperties", {}).get("rowCount", 1000)
                                   for t, p in grids.items()})
    title, layout = _table_tab(sheet.key, template, titles, tops)
    return sheets, title, layout, lists_title, tops, separator


def _widths(template: Template, lang: str, table: int, positions: dict[str, int], missing: list,
            added: dict[str, int], lists) -> list[dict]:
    """The new columns' widths, and each new tab's."""
    widths = side_tab_widths(template, lang, lists)
    return [*column_sizes(table, {positions[c.key]: header_width(c.width, c.header(lang))
                                  for c in missing}),
            *(r for role, n in added.items() if role in widths
              for r in column_sizes(n, dict(enumerate(widths[role]))))]


def _positions_after(layout: Layout, missing: list) -> dict[str, int]:
    """Template column key -> 0-based sheet column once upgraded: the columns where the team
    has them, the missing ones after the table's last column, in the template's order."""
    end = layout.first_column + len(layout.headers)
    positions = {k: layout.first_column + j for k, j in layout.columns.items()}
    positions.update({c.key: end + i for i, c in enumerate(missing)})
    return positions


def _side_tabs(sheets: dict[str, dict], template: Template,
               lang: str) -> tuple[dict[str, str], dict[str, int]]:
    """Role -> the title of the Lists, Review, Data dictionary and Merged tab (the one there,
    else the name a new one gets), and role -> the id chosen for each tab to add."""
    names = {role: tab_playing(role, sheets, [template]) or template.words["tabs"][role][lang]
             for role in ("lists", "review", "dictionary", "merged", "dashboard")}
    for g in template.ledgers:      # Purchases, Follow-ups…: in any language, else new
        names[ledger_role(g)] = next((t for t in g.sheet_names.values() if t in sheets),
                                     g.sheet_names[lang])
    taken = {s["properties"]["sheetId"] for s in sheets.values()}
    added = {role: new_sheet_id(taken) for role, name in names.items() if name not in sheets}
    return names, added


def _side_tab_formats(sheets: dict[str, dict], template: Template, names: dict[str, str],
                      added: dict[str, int], lists, found: ListsAsFound) -> list[dict]:
    """The new tabs' header style; the Review tab's Decision dropdown laid down again (new or
    not); the Merged tab's formats where it is new."""
    review = (added["review"] if "review" in added
              else sheets[names["review"]]["properties"]["sheetId"])
    return [*(header_format(n, 12) for role, n in added.items()
              if not role.startswith("ledger:") and role != "dashboard"),
            decision_dropdown(review, names["lists"], lists, found.sources),
            *(merged_formats(added["merged"], template) if "merged" in added else ())]


def _side_tab_values(template: Template, lang: str, lists, names: dict[str, str],
                     added: dict[str, int]) -> list[dict]:
    """What each new side tab starts with, from A1."""
    contents = side_tab_rows(template, lang, lists)
    return [{"range": f"{quoted_tab(names[role])}!A1", "values": contents[role]}
            for role in added if role in contents]


def _table_tab(key: str, template: Template, titles: list[str],
               tops: dict[str, list[list]]) -> tuple[str, Layout]:
    """The first tab (in `titles` order) whose top rows hold the template's header, and the
    layout found there. Upgrade never guesses: without a header it stops before writing."""
    found = next(((t, m) for t in titles if (m := best_header(tops[t], [template]))), None)
    if found is None:
        raise TableLayoutError(_("gsheet:{key}: no tab has a header row of the {name} template; "
                                 "install it with `sheetkeeper install {name} --to gsheet:{key}` "
                                 "instead", key=key, name=template.name))
    title, match = found
    return title, layout_for(tops[title][match.row], match.row + 1, template)


def _room_for_columns(meta: dict, table: int, width: int) -> list[dict]:
    """Widen the table tab's grid where the new columns would not fit (Google refuses a write
    past it); first in the batch, so what follows may format them."""
    if width <= meta["properties"].get("gridProperties", {}).get("columnCount", 26):
        return []
    return [{"updateSheetProperties": {
        "properties": {"sheetId": table, "gridProperties": {"columnCount": width}},
        "fields": "gridProperties.columnCount"}}]


def _new_headers_format(table: int, header_row: int, end: int, count: int) -> list[dict]:
    """The added columns' headers in the header's style (from column `end`, 0-based)."""
    if not count:
        return []
    return [{"repeatCell": {**header_format(table, 0)["repeatCell"], "range": {
        "sheetId": table, "startRowIndex": header_row - 1, "endRowIndex": header_row,
        "startColumnIndex": end, "endColumnIndex": end + count}}}]


def _new_headers(title: str, header_row: int, end: int, headers: list[str]) -> list[dict]:
    """The added columns' header texts, at the end of the header row."""
    if not headers:
        return []
    return [{"range": f"{quoted_tab(title)}!{column_letter(end)}{header_row}",
             "values": [headers]}]


def _without_own(meta: dict, table: int, template: Template, lang: str, layout,
                 positions: dict[str, int], separator: str = ",") -> list[dict]:
    """Delete requests for sheetkeeper's own colour rules and protections on the table tab
    (highest index first, so the indices stay right)."""
    ours = {rule.formula for pos in (positions, {c.key: i for i, c in
                                                 enumerate(template.columns)},
                                     {k: layout.first_column + j
                                      for k, j in layout.columns.items()})
            for first in (layout.header_row + 1, 2)
            for rule in colour_rules(template, lang, pos, first)}
    requests = []
    rules = meta.get("conditionalFormats", [])
    for index in reversed(range(len(rules))):
        condition = rules[index].get("booleanRule", {}).get("condition", {})
        formula = next((v.get("userEnteredValue", "") for v in condition.get("values", [])), "")
        if condition.get("type") == "CUSTOM_FORMULA" and \
                canonical(formula, separator).lstrip("=") in ours:
            requests.append({"deleteConditionalFormatRule": {"sheetId": table, "index": index}})
    for p in meta.get("protectedRanges", []):
        if str(p.get("description", "")).endswith(PROTECTION_SUFFIX):
            requests.append({"deleteProtectedRange": {"protectedRangeId": p["protectedRangeId"]}})
    return requests
