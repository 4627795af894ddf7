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
from sheet_templates.presentation import colour_rules, lists_tab

from ..errors import TableLayoutError
from .client import GoogleSheet, quoted_tab
from .install import (PROTECTION_SUFFIX, ListsAsFound, _header_format,
                              decision_dropdown, formatting, lists_as_found, merged_formats,
                              new_sheet_id, side_tab_rows)
from ..header import HEADER_SEARCH_ROWS, best_header, layout_for
from sheet_templates.references import column_letter


@dataclass(frozen=True)
class GoogleUpgrade:
    added_columns: tuple[str, ...]
    added_tabs: tuple[str, ...]
    dropdowns: int
    colour_rules: int
    requests: int


def upgrade_google(sheet: GoogleSheet, template: Template) -> GoogleUpgrade:
    meta = sheet.spreadsheet.fetch_sheet_metadata()
    sheets = {s["properties"]["title"]: s for s in meta["sheets"]}
    preferred = set(template.sheet_names.values())
    titles = sorted(sheets, key=lambda t: t not in preferred)
    lists_title = next((t for t in sheets if t in template.words["tabs"]["lists"].values()),
                       None)
    tops = sheet.read_top(titles, HEADER_SEARCH_ROWS, whole=[lists_title] if lists_title else [])
    found = next(((t, m) for t in titles if (m := best_header(tops[t], [template]))), None)
    if found is None:
        raise TableLayoutError(f"gsheet:{sheet.key}: no tab has a header row of the "
                               f"{template.name} template; install it with `sheetkeeper install "
                               f"{template.name} --to gsheet:{sheet.key}` instead")
    title, match = found
    layout = layout_for(tops[title][match.row], match.row + 1, template)
    lang = layout.lang
    table = sheets[title]["properties"]["sheetId"]

    end = layout.first_column + len(layout.headers)
    missing = [c for c in template.columns if c.key not in layout.columns]
    positions = {k: layout.first_column + j for k, j in layout.columns.items()}
    positions.update({c.key: end + i for i, c in enumerate(missing)})

    tabs = template.words["tabs"]
    names = {role: next((t for t in sheets if t in tabs[role].values()), tabs[role][lang])
             for role in ("lists", "review", "dictionary", "merged")}
    taken = {s["properties"]["sheetId"] for s in sheets.values()}
    added = {role: new_sheet_id(taken) for role, name in names.items() if name not in sheets}
    lists = lists_tab(template, lang)
    found = (lists_as_found(lists_title, tops[lists_title], lists) if lists_title
             else ListsAsFound({}, {}))

    requests: list[dict] = [{"addSheet": {"properties": {
        "sheetId": n, "title": names[role],
        "gridProperties": {"rowCount": 1000, "columnCount": 26, "frozenRowCount": 1}}}}
        for role, n in added.items()]
    requests += _without_own(sheets[title], table, template, lang, layout, positions)
    laid = formatting(table, template, lang, positions, layout.header_row, names["lists"], lists,
                      found.sources)
    requests += laid
    if missing:
        requests.append({"repeatCell": {**_header_format(table, 0)["repeatCell"], "range": {
            "sheetId": table, "startRowIndex": layout.header_row - 1,
            "endRowIndex": layout.header_row, "startColumnIndex": end,
            "endColumnIndex": end + len(missing)}}})
    grid = sheets[title]["properties"].get("gridProperties", {})
    if end + len(missing) > grid.get("columnCount", 26):     # room for the new columns
        requests.insert(0, {"updateSheetProperties": {
            "properties": {"sheetId": table,
                           "gridProperties": {"columnCount": end + len(missing)}},
            "fields": "gridProperties.columnCount"}})
    for role, n in added.items():
        requests.append(_header_format(n, 12))
    review = sheets[names["review"]]["properties"]["sheetId"] if "review" not in added \
        else added["review"]
    requests.append(decision_dropdown(review, names["lists"], lists, found.sources))
    if "merged" in added:
        requests += merged_formats(added["merged"], template)
    sheet.spreadsheet.batch_update({"requests": requests})

    values = []
    if missing:
        values.append({"range": f"{quoted_tab(title)}!{column_letter(end)}{layout.header_row}",
                       "values": [[c.header(lang) for c in missing]]})
    contents = side_tab_rows(template, lang, lists)
    for role in added:
        values.append({"range": f"{quoted_tab(names[role])}!A1", "values": contents[role]})
    values += [{"range": where, "values": rows} for where, rows in found.additions.items()]
    if values:
        sheet.spreadsheet.values_batch_update({"valueInputOption": "RAW", "data": values})
    kinds = [next(iter(r)) for r in laid]
    return GoogleUpgrade(tuple(c.header(lang) for c in missing),
                         tuple(names[r] for r in added), kinds.count("setDataValidation"),
                         kinds.count("addConditionalFormatRule"), 3 + bool(values))


def _without_own(meta: dict, table: int, template: Template, lang: str, layout,
                 positions: dict[str, int]) -> list[dict]:
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
        if condition.get("type") == "CUSTOM_FORMULA" and formula.lstrip("=") in ours:
            requests.append({"deleteConditionalFormatRule": {"sheetId": table, "index": index}})
    for p in meta.get("protectedRanges", []):
        if str(p.get("description", "")).endswith(PROTECTION_SUFFIX):
            requests.append({"deleteProtectedRange": {"protectedRangeId": p["protectedRangeId"]}})
    return requests
