"""Installing a template into an existing Google Sheet, from the same presentation specs the
xlsx installer uses (`sheet_templates.presentation`), as Sheets API requests.

Three requests whatever the template (four where the team has its own Lists tab, which is read
so each dropdown is fed from where the team keeps that list, and a list it lacks is added at its
end): the spreadsheet's tab list; one spreadsheets:batchUpdate
that adds the tabs (with sheet ids chosen here, so the same batch can format them), freezes and
styles the header, sets number formats (phones and IDs as text, so "+86…" is never a number),
dropdowns fed from the Lists tab by range (ONE_OF_RANGE, warning rather than refusing, so an
alias a person types is kept and canonicalised), the colour rules as custom-formula conditional
formats, and warning-only protection on the columns sheetkeeper computes, column widths that
fit the headers (in pixels; a CJK character two Latin widths) and wrapping on Notes and
Findings (Google fits a row to its wrapped lines by itself); then one RAW
values:batchUpdate with the headers, the lists and the data dictionary. Other tabs are not
touched, and a batch is applied by Google whole or not at all.

Printing cannot be set up here: the Sheets API has no page setup (orientation, scale, repeated
rows are chosen in Google's print dialog and not stored where the API reaches). The header row
is frozen, and the print dialog repeats frozen rows on every page ("Repeat frozen rows" under
Headers & footers).

A batch whose answer was lost on its way back is sent again by the client's retries, and the
second is refused ("A sheet with the name … already exists"): the first was carried out. The
tabs it added carry ids chosen here at random, so finding them all (one request more) proves it
landed, and install goes on to the values, which are the same whether written once or twice.
"""
from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sheet_templates import Ledger, Template
from sheet_templates.presentation import (DICTIONARY_WIDTHS, HEADER_FILL, HEADER_FONT, LAST_ROW,
                                          NUMBER_FORMATS, REVIEW_KEYS, REVIEW_WIDTHS,
                                          colour_rules, column_widths, dictionary_rows, dropdowns,
                                          header_width, ledger_widths, list_range, lists_tab,
                                          merged_headers, review_headers, width_px)
from i18n import _

from sheet_templates.dashboard import dashboard, install_sources

from ..errors import GoogleRefused
from .dashboard import dashboard_requests
from .formulas import argument_separator, in_locale
from .client import GoogleSheet, GoogleSheetsError, quoted_tab, refuse_title_clashes
from sheet_templates.references import column_index, column_letter

GOOGLE_NUMBER_TYPES = {"date": "DATE", "money": "NUMBER", "phone": "TEXT", "id": "TEXT",
                       "ref": "TEXT", "number": "NUMBER"}
COMPUTED = ("id", "status", "findings")
PROTECTION_SUFFIX = "is kept by sheetkeeper"     # how upgrade knows its own protections


@dataclass(frozen=True)
class GoogleInstall:
    added_tabs: tuple[str, ...]
    requests: int                  # API requests used


def install_into(sheet: GoogleSheet, template: Template, lang: str) -> GoogleInstall:
    meta = sheet.spreadsheet.fetch_sheet_metadata()
    existing = {s["properties"]["title"]: s["properties"]["sheetId"] for s in meta["sheets"]}
    separator = argument_separator(meta.get("properties", {}).get("locale"))
    names = _tab_names(template, lang)
    if names["table"] in existing:
        raise GoogleSheetsError(
            _("the spreadsheet already has a {value} tab; sheetkeeper installs into a "
              "spreadsheet without one (nothing was changed). Rename that tab, or install into "
              "another spreadsheet", value=repr(names['table'])))
    taken = set(existing.values())
    # A team's own Lists tab is kept as it is; the others get ids chosen here.
    ids = {role: existing[title] if title in existing else new_sheet_id(taken)
           for role, title in names.items()}
    added = [r for r, t in names.items() if t not in existing]
    refuse_title_clashes([names[r] for r in added], list(existing))
    lists = lists_tab(template, lang)
    found = ListsAsFound({}, {})
    if "lists" not in added:      # the team's own Lists tab: their lists where they keep them
        found = lists_as_found(names["lists"], sheet.read([names["lists"]])[names["lists"]],
                               lists)
    asked = 3 + ("lists" not in added)
    try:
        sheet.spreadsheet.batch_update({"requests": _install_requests(
            template, lang, names, ids, added, lists, found, separator)})
    except GoogleRefused:
        asked += 1
        if not tabs_there(sheet, {ids[r]: names[r] for r in added}):
            raise
    sheet.spreadsheet.values_batch_update({"valueInputOption": "RAW", "data": _install_values(
        template, lang, names, added, lists, found)})
    return GoogleInstall(tuple(names[r] for r in added), asked)


def tabs_there(sheet: GoogleSheet, tabs: dict[int, str]) -> bool:
    """Whether the spreadsheet has every one of `tabs` (id -> title) now: one request. After a
    refused batch that would have added them, with ids chosen at random, True means the batch
    itself was carried out earlier (its answer lost, the retry refused)."""
    there = {(s["properties"]["sheetId"], s["properties"]["title"])
             for s in sheet.spreadsheet.fetch_sheet_metadata()["sheets"]}
    return bool(tabs) and set(tabs.items()) <= there


def _tab_names(template: Template, lang: str) -> dict[str, str]:
    """Role -> the title install gives each tab it lays out, in the sheet's language."""
    tabs = template.words["tabs"]
    return {"table": template.sheet_names[lang], "dashboard": tabs["dashboard"][lang],
            **{ledger_role(g): g.sheet_names[lang] for g in template.ledgers},
            "lists": tabs["lists"][lang], "review": tabs["review"][lang],
            "dictionary": tabs["dictionary"][lang], "merged": tabs["merged"][lang]}


def ledger_role(ledger: Ledger) -> str:
    return f"ledger:{ledger.key}"


def ledger_tabs(template: Template, ids: dict[str, int], lang: str, lists_name: str, lists,
                sources: dict[str, str] | None = None) -> list[dict]:
    """The formats of each new ledger tab (Purchases, Follow-ups…) in `ids` (role -> sheet id):
    header, widths, number formats, dropdowns, findings wrapping."""
    out: list[dict] = []
    for g in template.ledgers:
        n = ids.get(ledger_role(g))
        if n is None:
            continue
        positions = {c.key: i for i, c in enumerate(g.columns)}
        out.append(header_format(n, len(g.columns)))
        out += column_sizes(n, dict(enumerate(ledger_widths(g, lang))))
        out += number_formats(n, {c.key: c.type for c in g.columns}, positions, 1)
        out += [_dropdown(_columns(n, positions[d.column_key], 1),
                          (sources or {}).get(g.column(d.column_key).list, d.source))
                for d in dropdowns(template, lang, positions, lists_name, lists,
                                   columns=g.columns)]
        out += [{"repeatCell": {"range": _columns(n, positions[c.key], 1),
                                "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP"}},
                                "fields": "userEnteredFormat.wrapStrategy"}}
                for c in g.columns if c.type == "findings"]
    return out


def ledger_headers(template: Template, roles: Iterable[str], names: dict[str, str],
                   lang: str) -> list[dict]:
    """The header row of each new ledger tab among `roles`."""
    return [{"range": f"{quoted_tab(names[ledger_role(g)])}!A1",
             "values": [[c.header(lang) for c in g.columns]]}
            for g in template.ledgers if ledger_role(g) in roles]


def _install_requests(template: Template, lang: str, names: dict[str, str],
                      ids: dict[str, int], added: list[str], lists,
                      found: ListsAsFound, separator: str = ",") -> list[dict]:
    """The one spreadsheets:batchUpdate: the new tabs (with the ids chosen for them, so the
    same batch can format them), then the table's header and columns, then the new side
    tabs' headers, the Review tab's Decision dropdown and the Merged tab's formats."""
    width = len(template.columns)
    positions = {c.key: i for i, c in enumerate(template.columns)}
    requests = [new_tab(ids[r], names[r], max(26, width + 2), index=i)
                for i, r in enumerate(added)]
    requests.append(header_format(ids["table"], width))
    requests += formatting(ids["table"], template, lang, positions, 1, names["lists"], lists,
                           found.sources, separator=separator)
    requests += wrapped(ids["table"], template, positions, 1, ("notes",))
    requests += column_sizes(ids["table"], dict(enumerate(column_widths(template, lang))))
    widths = side_tab_widths(template, lang, lists)
    requests += [r for role in added if role in widths
                 for r in column_sizes(ids[role], dict(enumerate(widths[role])))]
    requests += [header_format(ids[role], 12) for role in ("review", "dictionary", "merged")
                 if role in added]
    if "review" in added:
        requests.append(decision_dropdown(ids["review"], names["lists"], lists, found.sources))
    if "merged" in added:
        requests += merged_formats(ids["merged"], template)
    requests += ledger_tabs(template, {r: ids[r] for r in added}, lang, names["lists"], lists,
                            found.sources)
    if "dashboard" in added:
        requests += dashboard_requests(ids["dashboard"],
                                       dashboard(template, lang, *install_sources(template, lang)),
                                       separator)
    return requests


def _install_values(template: Template, lang: str, names: dict[str, str], added: list[str],
                    lists, found: ListsAsFound) -> list[dict]:
    """The one RAW values:batchUpdate: the table's headers, the lists the team's own Lists tab
    lacked, and what each new side tab starts with."""
    headers = [c.header(lang) for c in template.columns]
    values = [{"range": f"{quoted_tab(names['table'])}!A1", "values": [headers]}]
    values += [{"range": where, "values": rows} for where, rows in found.additions.items()]
    contents = side_tab_rows(template, lang, lists)
    values += [{"range": f"{quoted_tab(names[role])}!A1", "values": contents[role]}
               for role in added if role in contents]
    return values + ledger_headers(template, added, names, lang)


def new_tab(sheet_id: int, title: str, columns: int, index: int | None = None) -> dict:
    """An addSheet request for a tab with a frozen header row (`index`: where it stands among
    the tabs; None, at the end)."""
    where = {} if index is None else {"index": index}
    return {"addSheet": {"properties": {
        "sheetId": sheet_id, "title": title, **where,
        "gridProperties": {"rowCount": 1000, "columnCount": columns, "frozenRowCount": 1}}}}


def tab_playing(role: str, titles: Iterable[str],
                templates: Sequence[Template]) -> str | None:
    """The tab that is the Lists (Review, Data dictionary, Merged) tab, named in any of the
    templates' languages; None if the spreadsheet has none."""
    names = {n for tpl in templates for n in tpl.words["tabs"][role].values()}
    return next((t for t in titles if t in names), None)


def new_sheet_id(taken: set[int]) -> int:
    """An id for a tab to add, unused in the spreadsheet (and now taken)."""
    while (n := random.randrange(1, 2 ** 31 - 1)) in taken:
        pass
    taken.add(n)
    return n


def side_tab_rows(template: Template, lang: str, lists) -> dict[str, list[list[Any]]]:
    """What a new Lists, Review, Data dictionary and Merged tab starts with, from A1."""
    return {"lists": _lists_grid(lists), "review": [review_headers(template, lang)],
            "dictionary": dictionary_rows(template, lang),
            "merged": [merged_headers(template, lang)]}


def formatting(table: int, template: Template, lang: str, positions: dict[str, int],
               header_row: int, lists_name: str, lists,
               sources: dict[str, str] | None = None, after: int = 0,
               separator: str = ",") -> list[dict]:
    """The table tab's number formats, dropdowns, colour rules, a note on each header saying
    what the column is for, and protection of the computed columns, each over whole columns
    below the header (`header_row`, 1-based) so rows added later are covered: what install
    lays down and upgrade lays down again. `sources`: list
    key -> the Lists range feeding it, where a team's own Lists tab keeps it elsewhere.
    `after`: how many colour rules of the team's own stay on the tab, first (theirs decide the
    cells they colour, as they did). `separator`: between a formula's arguments, in the
    spreadsheet's locale (sync.gsheets.formulas)."""
    return (number_formats(table, {c.key: c.type for c in template.columns}, positions,
                           header_row)
            + _column_dropdowns(table, template, lang, positions, header_row, lists_name, lists,
                                sources or {})
            + _colour_formats(table, template, lang, positions, header_row, after, separator)
            + wrapped(table, template, positions, header_row, ("findings",))
            + _header_notes(table, template, lang, positions, header_row)
            + _computed_protections(table, template, lang, positions, header_row))


def _column_dropdowns(table: int, template: Template, lang: str, positions: dict[str, int],
                      header_row: int, lists_name: str, lists,
                      sources: dict[str, str]) -> list[dict]:
    # Fed from where the team's own Lists tab keeps each list, if it keeps it elsewhere.
    return [_dropdown(_columns(table, positions[d.column_key], header_row),
                      sources.get(template.column(d.column_key).list, d.source))
            for d in dropdowns(template, lang, positions, lists_name, lists, header_row + 1)]


def _colour_formats(table: int, template: Template, lang: str, positions: dict[str, int],
                    header_row: int, after: int = 0, separator: str = ",") -> list[dict]:
    """The colour rules as custom-formula conditional formats, in priority order: Google
    applies the first rule that holds for a cell, as the order intends."""
    return [{"addConditionalFormatRule": {"index": index, "rule": {
        "ranges": [_a1(table, cells) for cells in rule.cells.split()],
        "booleanRule": {"condition": {"type": "CUSTOM_FORMULA",
                                      "values": [{"userEnteredValue": in_locale(
                                          "=" + rule.formula, separator)}]},
                        "format": _colour_format(rule)}}}}
        for index, rule in enumerate(colour_rules(template, lang, positions, header_row + 1),
                                     start=after)]


def _colour_format(rule) -> dict[str, Any]:
    fmt: dict[str, Any] = {}
    if rule.fill:
        fmt["backgroundColor"] = _rgb(rule.fill)
    if rule.font or rule.bold:
        fmt["textFormat"] = {**({"foregroundColor": _rgb(rule.font)} if rule.font else {}),
                             **({"bold": True} if rule.bold else {})}
    return fmt


def _header_notes(table: int, template: Template, lang: str, positions: dict[str, int],
                  header_row: int) -> list[dict]:
    """The data dictionary's help, as a note on each header: what the column is for, where a
    person is looking when they wonder."""
    return [{"updateCells": {
        "range": {"sheetId": table, "startRowIndex": header_row - 1,
                  "endRowIndex": header_row, "startColumnIndex": positions[c.key],
                  "endColumnIndex": positions[c.key] + 1},
        "rows": [{"values": [{"note": c.help[lang]}]}], "fields": "note"}}
        for c in template.columns if c.key in positions and c.help.get(lang)]


def _computed_protections(table: int, template: Template, lang: str,
                          positions: dict[str, int], header_row: int) -> list[dict]:
    # Warning only: a person may still type there, but is told sheetkeeper fills it in.
    return [{"addProtectedRange": {"protectedRange": {
        "range": _columns(table, positions[c.key], header_row),
        "description": protection_note(c.header(lang)),
        "warningOnly": True}}}
        for c in template.columns if c.key in positions
        and (c.type in COMPUTED or (c.rollup and c.rollup.owned))]


def wrapped(table: int, template: Template, positions: dict[str, int], header_row: int,
            types: tuple[str, ...]) -> list[dict]:
    """The columns of `types` wrapping their text, over whole columns: Google then fits each
    row's height to its lines by itself (a row a person sized excepted)."""
    return [{"repeatCell": {"range": _columns(table, positions[c.key], header_row),
                            "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP"}},
                            "fields": "userEnteredFormat.wrapStrategy"}}
            for c in template.columns if c.type in types and c.key in positions]


def column_sizes(sheet_id: int, widths: dict[int, float]) -> list[dict]:
    """Columns `widths` wide (0-based column -> width in characters, as the .xlsx backend
    counts them), in the pixels Google sizes columns in."""
    return [{"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": c,
                  "endIndex": c + 1},
        "properties": {"pixelSize": width_px(w)}, "fields": "pixelSize"}}
        for c, w in sorted(widths.items())]


def side_tab_widths(template: Template, lang: str, lists) -> dict[str, list[int]]:
    """The widths of a new Lists, Review, Data dictionary and Merged tab's columns, each wide
    enough for its header."""
    def fitted(widths, headers):
        return [header_width(w, h) for w, h in zip(widths, headers)]
    merged = merged_headers(template, lang)
    return {"lists": fitted([14] * len(lists), [c.header for c in lists]),
            "review": fitted(REVIEW_WIDTHS, review_headers(template, lang)),
            "dictionary": fitted(DICTIONARY_WIDTHS, dictionary_rows(template, lang)[0]),
            "merged": fitted(column_widths(template, lang) + [13, 12], merged)}


def number_formats(sheet_id: int, types: dict[str, str], positions: dict[str, int],
                   header_row: int) -> list[dict]:
    """Phones and IDs as text (so "+86…" is never a number), dates as dates, amounts as
    amounts, over whole columns."""
    out = []
    for key, kind in types.items():
        fmt = NUMBER_FORMATS.get(kind)
        if fmt and key in positions:
            out.append({"repeatCell": {
                "range": _columns(sheet_id, positions[key], header_row),
                "cell": {"userEnteredFormat": {"numberFormat": {
                    "type": GOOGLE_NUMBER_TYPES[kind], "pattern": fmt}}},
                "fields": "userEnteredFormat.numberFormat"}})
    return out


def merged_formats(merged: int, template: Template) -> list[dict]:
    """The Merged tab keeps whole rows: the table's formats, and a date for when."""
    types = {c.key: c.type for c in template.columns} | {"merged_at": "date"}
    positions = {c.key: i for i, c in enumerate(template.columns)}
    positions["merged_at"] = len(template.columns) + 1
    return number_formats(merged, types, positions, 1)


def decision_dropdown(review: int, lists_name: str, lists,
                      sources: dict[str, str] | None = None) -> dict:
    """The Review tab's Decision column: Merge / Keep both, from the Lists tab."""
    source = (sources or {}).get("decision") or list_range(lists_name, lists, "decision")
    return _dropdown(_columns(review, REVIEW_KEYS.index("decision"), 1), source)


def _dropdown(cells: dict, source: str) -> dict:
    # Warning, not refusal: an alias a person types is kept, and canonicalised by the rules.
    return {"setDataValidation": {"range": cells, "rule": {
        "condition": {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=" + source}]},
        "strict": False, "showCustomUi": True}}}


def protection_note(header: str) -> str:
    return f"{header} {PROTECTION_SUFFIX}"


def header_format(sheet_id: int, width: int) -> dict:
    """A repeatCell request giving a tab's first row, `width` cells from A, the header's fill
    and bold font (upgrade moves its range onto header cells it adds)."""
    return {"repeatCell": {
        "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                  "startColumnIndex": 0, "endColumnIndex": width},
        "cell": {"userEnteredFormat": {"backgroundColor": _rgb(HEADER_FILL),
                                       "textFormat": {"foregroundColor": _rgb(HEADER_FONT),
                                                      "bold": True}}},
        "fields": "userEnteredFormat(backgroundColor,textFormat)"}}


@dataclass(frozen=True)
class ListsAsFound:
    """A team's own Lists tab: where each list stands (list key -> range feeding its dropdowns),
    and the lists it lacks, to be added in new columns at its end (A1 range -> values)."""
    sources: dict[str, str]
    additions: dict[str, list[list[str]]]


def lists_as_found(tab: str, grid: list[list[Any]], lists) -> ListsAsFound:
    """Each list found under its header on `grid` (the tab's values, header first), with the
    values the team added; a missing one goes into the next free column."""
    header = [str(h).strip() if h not in (None, "") else "" for h in (grid[0] if grid else [])]
    sources, additions = {}, {}
    next_col = len(header)
    for c in lists:
        if c.header in header:
            col = header.index(c.header)
            depth = max((r for r, row in enumerate(grid) if r and col < len(row)
                         and row[col] not in (None, "")), default=1)
        else:
            col, next_col = next_col, next_col + 1
            additions[f"{quoted_tab(tab)}!{column_letter(col)}1"] = \
                [[c.header]] + [[v] for v in c.values]
            depth = len(c.values)
        letter = column_letter(col)
        sources[c.list_key] = f"{quoted_tab(tab)}!${letter}$2:${letter}${max(depth, 1) + 1}"
    return ListsAsFound(sources, additions)


def _lists_grid(lists) -> list[list[str]]:
    depth = max(len(c.values) for c in lists)
    return [[c.header for c in lists]] + [
        [c.values[i] if i < len(c.values) else "" for c in lists] for i in range(depth)]


def _columns(sheet_id: int, column: int, first_row: int) -> dict:
    """A whole column below the header: no end row, so rows added later are covered."""
    return {"sheetId": sheet_id, "startRowIndex": first_row,
            "startColumnIndex": column, "endColumnIndex": column + 1}


def _a1(sheet_id: int, cells: str) -> dict:
    """`A2:S1048576` as a GridRange; the sheet's last row means 'to the end'."""
    m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", cells)
    if not m:
        raise ValueError(cells)
    c0, r0, c1, r1 = m.groups()
    grid = {"sheetId": sheet_id, "startRowIndex": int(r0) - 1,
            "startColumnIndex": column_index(c0), "endColumnIndex": column_index(c1) + 1}
    if int(r1) != LAST_ROW:
        grid["endRowIndex"] = int(r1)
    return grid


def _rgb(hex_colour: str) -> dict:
    return {name: int(hex_colour[i:i + 2], 16) / 255
            for name, i in (("red", 0), ("green", 2), ("blue", 4))}

