"""`install --upgrade`: bring a workbook already in use up to its template, in place.

Adds the template's missing columns after the table's last column, adds the Lists, Review,
Data dictionary and Merged tabs where missing, and re-applies the dropdowns and colour rules to
whole columns (repairing ranges that pasting and inserting rows broke). It never removes,
reorders or rewrites user data or user columns: the package is edited part by part as the cell
writer does, so charts, images, comments, defined names and extensions stay as they were. The
rules sheetkeeper replaces are only its own: validations fed from its Lists tab, and colour
rules of the shapes it writes; a team's own validations and colours stay.

The columns it adds get widths their headers fit in (a CJK character is two Latin widths), and
the table is set up for printing as install sets it up (landscape, fitted to the pages wide
that keep it readable, the header row on every page), but only where the workbook has no page
setup or print titles of its own for that sheet: what a team chose for printing stays.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr, unescape

from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname

from sheet_templates import Template
from sheet_templates.dashboard import Dashboard, Source, dashboard
from sheet_templates.presentation import (
    DICTIONARY_WIDTHS, REVIEW_KEYS, REVIEW_WIDTHS, ListColumn, colour_rules, column_widths,
    dictionary_rows, dropdowns, header_width, ledger_widths, lists_tab, merged_headers,
    pages_wide, review_headers,
)
from i18n import _

from ..errors import TemplateInstallError
from .package import read_bytes, sheet_parts, sniff
from .read import read_table
from ..cells import CellWrite
from ..errors import WorkbookBusy
from .dashboard import add_dashboard
from .replace import lock_files, replace_if_unchanged
from .write import _Styles, patch_sheet_xml
from ..table import Layout, SheetTable

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = REL + "/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# Shapes of the colour rules sheetkeeper writes (any column letters): these are its own.
OWN_RULES = (re.compile(r'ISNUMBER\(SEARCH\(CHAR\(10\)&[A-Z]+\$\d+&":",CHAR\(10\)&\$[A-Z]+\d+\)\)'),
             re.compile(r'ISNUMBER\(SEARCH\("\[[^"\]]+\]",\$[A-Z]+\d+\)\)'),
             re.compile(r'AND\(ISNUMBER\([A-Z]+\d+\),[A-Z]+\d+<TODAY\(\)\)'),
             re.compile(r'AND\(ISNUMBER\([A-Z]+\d+\),MONTH\([A-Z]+\d+\)=MONTH\(TODAY\(\)\)\)'),
             re.compile(r'\$[A-Z]+\d+="[^"]*"'))   # matched against the unescaped formula


@dataclass
class UpgradeReport:
    added_columns: list[str] = field(default_factory=list)
    added_tabs: list[str] = field(default_factory=list)
    dropdowns: int = 0
    colour_rules: int = 0
    page_setup: list[str] = field(default_factory=list)   # what of printing was set up


def upgrade_workbook(path: Path | str, template: Template) -> UpgradeReport:
    path = Path(path)
    table = _table_to_upgrade(path, template)
    data = read_bytes(path)
    sniff(path, data)
    layout, lang = table.layout, table.layout.lang
    source = zipfile.ZipFile(io.BytesIO(data))
    contents = {i.filename: source.read(i) for i in source.infolist()}
    infos = list(source.infolist())
    parts = sheet_parts(source)
    styles = _Styles(contents.get("xl/styles.xml", b""))

    # 1. Missing columns, after the last one, in the header's own style.
    table_part = parts[table.sheet]
    header_style = _cell_style(contents[table_part], layout.header_row,
                               layout.first_column + len(layout.headers) - 1)
    positions, headers = _missing_columns(layout, template, header_style)
    if headers:
        contents[table_part] = patch_sheet_xml(contents[table_part], headers, styles, {})
    widths = dict(zip((positions[c.key] for c in template.columns),
                      column_widths(template, lang)))
    wrapping = [positions[c.key] for c in template.columns if c.type in ("notes", "findings")
                and positions[c.key] in {w.column for w in headers}]
    contents[table_part] = _with_widths(
        contents[table_part], {w.column: widths[w.column] for w in headers},
        dict.fromkeys(wrapping, styles.wrap_style()) if wrapping else {})
    printing = _print_setup(contents, parts, table.sheet, layout.header_row,
                            pages_wide(list(widths.values())))

    # 2. Missing tabs.
    lists = lists_tab(template, lang, table.list_values)
    missing = _missing_tabs(parts, template)
    ledgers = [g for g in template.ledgers
               if not any(n in parts for n in g.sheet_names.values())]
    # A bold header style is added only when a tab or list column is written.
    bold = (styles.bold_style() if missing or ledgers
            or _lists_lack_columns(contents, parts, template, lists) else None)
    lists_name, place = _lists_tab_places(contents, infos, parts, template, lang, lists, styles,
                                          bold)
    decisions = _range(lists_name, place["decision"])
    for kind in (k for k in missing if k != "lists"):     # the Lists tab is in place above
        _add_sheet(contents, infos, template.word("tabs", kind, lang),
                   _side_tab_xml(kind, template, lang, decisions, bold))
    board_name = template.word("tabs", "dashboard", lang)
    added_board = not any(n in parts for n in template.words["tabs"]["dashboard"].values())
    for g in ledgers:
        feeds = [(d.cells, _range(lists_name, place[g.column(d.column_key).list]))
                 for d in dropdowns(template, lang, {c.key: i for i, c in enumerate(g.columns)},
                                    lists_name, lists, columns=g.columns)]
        _add_sheet(contents, infos, g.sheet_names[lang],
                   _tab_xml([[c.header(lang) for c in g.columns]], ledger_widths(g, lang), bold,
                            _validations_xml(feeds) if feeds else ""))

    if added_board:
        add_dashboard(contents, infos, board_name, _board(template, table, positions, parts,
                                                          contents, ledgers), styles,
                      _add_sheet)

    # 3. Dropdowns and colour rules over whole columns, replacing only sheetkeeper's own.
    pairs = [(d.cells, _range(lists_name, place[template.column(d.column_key).list]))
             for d in dropdowns(template, lang, positions, lists_name, lists)]
    rules = colour_rules(template, lang, positions, layout.header_row + 1)
    contents[table_part] = _own_rules_replaced(contents[table_part], lists_name, pairs, rules,
                                               styles)
    if styles.changed:
        contents["xl/styles.xml"] = styles.xml
    replace_if_unchanged(path, _zipped(infos, contents), hashlib.sha256(data).hexdigest())
    return UpgradeReport([w.value for w in headers],
                         [template.word("tabs", k, lang) for k in missing]
                         + [g.sheet_names[lang] for g in ledgers]
                         + ([board_name] if added_board else []), len(pairs), len(rules),
                         printing)


def _board(template: Template, table: SheetTable, positions: dict[str, int], parts,
           contents: dict[str, bytes], added: list) -> "Dashboard":
    """The dashboard over this list as it stands once upgraded: its columns where they are,
    each ledger tab's where the team keeps it (found by header), or as a new one lays them."""
    from ..ledgers import ledger_columns
    lang = table.layout.lang
    source = Source(table.sheet, positions, table.layout.header_row)
    ledgers = {}
    for g in template.ledgers:
        if g in added:
            ledgers[g.key] = Source(g.sheet_names[lang],
                                    {c.key: i for i, c in enumerate(g.columns)})
        elif (tab := table.ledgers.get(g.key)) is not None:
            ledgers[g.key] = Source(tab.name, ledger_columns(g, tab))
    return dashboard(template, lang, source, ledgers)


def _table_to_upgrade(path: Path, template: Template) -> SheetTable:
    """The workbook's table, if it may be upgraded to `template`: not open in a spreadsheet
    program (its next save would undo the upgrade), and laid out for this template."""
    if lock_files(path):
        raise WorkbookBusy(_("{path}: open in a spreadsheet program; close it and run again",
                             path=path))
    table = read_table(path, [template])
    if table.layout.template.name != template.name:
        raise TemplateInstallError(_("{path}: the list follows the {name} template, not {name2}",
                                     path=path, name=table.layout.template.name,
                                     name2=template.name))
    return table


def _missing_columns(layout: Layout, template: Template,
                     header_style: int | None) -> tuple[dict[str, int], list[CellWrite]]:
    """Template column key -> 0-based column once upgraded, and the header cells of the
    columns the table lacks: after its last column, in the template's order, so no column of
    the team's moves."""
    positions = {k: layout.first_column + j for k, j in layout.columns.items()}
    next_col = layout.first_column + len(layout.headers)
    headers = []
    for column in template.columns:
        if column.key not in positions:
            positions[column.key] = next_col
            headers.append(CellWrite(layout.header_row, next_col, column.header(layout.lang),
                                     style=header_style))
            next_col += 1
    return positions, headers


def _lists_tab_places(contents: dict[str, bytes], infos: list, parts, template: Template,
                      lang: str, lists: list[ListColumn], styles: _Styles,
                      bold: int | None) -> tuple[str, dict[str, ListPlace]]:
    """The Lists tab's name and where each list stands on it (list key -> place): the team's
    own tab as they keep it, with a list it lacks added at its end; else a new tab."""
    found = _tab_named(parts, template, "lists")
    if found:
        part = parts[found]
        contents[part], places = _lists_as_found(contents[part], lists, styles, bold)
        return found, {p.key: p for p in places}
    name = template.word("tabs", "lists", lang)
    _add_sheet(contents, infos, name, _tab_xml(
        [[c.header for c in lists]] + _columns_to_rows([c.values for c in lists]),
        [14] * len(lists), bold))
    return name, {c.list_key: ListPlace(c.list_key, i, len(c.values))
                  for i, c in enumerate(lists)}


def _side_tab_xml(kind: str, template: Template, lang: str, decisions: str,
                  bold: int | None) -> bytes:
    """A new Review, Data dictionary or Merged tab. The Review tab's Decision column gets its
    dropdown, fed from `decisions` (the Lists range)."""
    if kind == "review":
        col = get_column_letter(REVIEW_KEYS.index("decision") + 1)
        return _tab_xml([review_headers(template, lang)], list(REVIEW_WIDTHS), bold,
                        _validations_xml([(f"{col}2:{col}100000", decisions)]))
    if kind == "dictionary":
        return _tab_xml(dictionary_rows(template, lang), list(DICTIONARY_WIDTHS), bold)
    return _tab_xml([merged_headers(template, lang)],
                    [c.width for c in template.columns] + [13, 12], bold)


def _own_rules_replaced(xml: bytes, lists_name: str, pairs: list[tuple[str, str]], rules,
                        styles: _Styles) -> bytes:
    """The table sheet with sheetkeeper's own dropdowns and colour rules laid down anew over
    whole columns; a team's own stay as they are."""
    xml = _without_own_rules(xml, lists_name)
    xml = _insert(xml, b"conditionalFormatting", _colour_xml(rules, styles, _last_priority(xml)))
    return _insert(xml, b"dataValidations", _validations_xml(pairs).encode("utf-8"))


def _zipped(infos: list[zipfile.ZipInfo], contents: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in infos:
            target.writestr(info, contents[info.filename], compress_type=info.compress_type)
    return out.getvalue()


def _lists_lack_columns(contents, parts, template: Template,
                             lists: list[ListColumn]) -> bool:
    name = _tab_named(parts, template, "lists")
    if name is None:
        return False
    xml = contents[parts[name]].decode("utf-8", "replace")
    return any(f">{escape(c.header)}<" not in xml for c in lists)


def _missing_tabs(parts, template: Template) -> list[str]:
    """The kinds of tab the workbook lacks (in any of the template's languages), in the
    order they are added."""
    return [k for k in ("lists", "review", "dictionary", "merged")
            if not _tab_named(parts, template, k)]


def _tab_named(parts, template: Template, kind: str) -> str | None:
    return next((n for n in template.words["tabs"][kind].values() if n in parts), None)


def _cell_style(xml: bytes, row: int, col: int) -> int | None:
    ref = f"{get_column_letter(col + 1)}{row}".encode()
    m = re.search(rb'<c\b[^>]*\br="' + ref + rb'"[^>]*>', xml) or \
        re.search(rb'<c\b[^>]*\br="' + ref + rb'"[^>]*/>', xml)
    style = re.search(rb'\bs="(\d+)"', m[0]) if m else None
    return int(style[1]) if style else None


def _columns_to_rows(columns: list[tuple[str, ...]]) -> list[list[str | None]]:
    height = max((len(c) for c in columns), default=0)
    return [[c[r] if r < len(c) else None for c in columns] for r in range(height)]


@dataclass(frozen=True)
class ListPlace:
    """Where one dropdown list stands on the Lists tab: its column and how many values."""

    key: str
    column: int
    count: int


def _lists_as_found(xml: bytes, wanted: list[ListColumn], styles: _Styles,
                    header_style: int | None) -> tuple[bytes, list[ListPlace]]:
    """The team's own Lists tab: each list found under its header (where the team keeps it,
    with the values they added); a list the tab lacks is added in a new column at the end."""
    headers: dict[str, int] = {}
    counts: dict[int, int] = {}
    for m in re.finditer(rb'<c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*>(.*?)</c>', xml, re.DOTALL):
        col = column_index_from_string(m[1].decode()) - 1
        if int(m[2]) == 1:
            text = re.search(rb"<t[^>]*>(.*?)</t>", m[3], re.DOTALL)
            if text:
                headers[text[1].decode("utf-8")] = col
        elif re.search(rb"<(v|t)[^>]*>[^<]", m[3]):
            counts[col] = max(counts.get(col, 0), int(m[2]) - 1)
    places, writes = [], []
    next_col = max([*headers.values(), -1]) + 1
    for c in wanted:
        col = headers.get(c.header)
        if col is None:
            col, next_col = next_col, next_col + 1
            writes.append(CellWrite(1, col, c.header, style=header_style))
            writes += [CellWrite(r, col, v) for r, v in enumerate(c.values, start=2)]
            places.append(ListPlace(c.list_key, col, len(c.values)))
        else:
            places.append(ListPlace(c.list_key, col, counts.get(col, 0)))
    if writes:
        xml = patch_sheet_xml(xml, writes, styles, {})
    return xml, places


def _range(tab: str, place: ListPlace) -> str:
    letter = get_column_letter(place.column + 1)
    return f"{quote_sheetname(tab)}!${letter}$2:${letter}${max(place.count, 1) + 1}"


def _tab_xml(rows: list[list], widths: list[int], header_style: int | None,
             extra: str = "") -> bytes:
    """A new tab holding `rows`, the first the header; each column at least as wide as its
    header needs (header_width)."""
    header = list(rows[0]) + [None] * len(widths) if rows else [None] * len(widths)
    cols = "".join(f'<col min="{i}" max="{i}" width="{header_width(w, str(h or ""))}" '
                   f'customWidth="1"/>'
                   for i, (w, h) in enumerate(zip(widths, header), start=1))
    body = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            if value in (None, ""):
                continue
            s = f' s="{header_style}"' if r == 1 and header_style else ""
            cells.append(f'<c r="{get_column_letter(c + 1)}{r}"{s} t="inlineStr"><is><t>'
                         f'{escape(str(value))}</t></is></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetViews><sheetView workbookViewId="0">'
            f'<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            f'</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
            f'<sheetData>{"".join(body)}</sheetData>{extra}'
            f'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            f'footer="0.3"/></worksheet>').encode("utf-8")


def _with_widths(xml: bytes, widths: dict[int, int], styles: dict[int, int | None]) -> bytes:
    """The sheet with a width for each of the columns it gains (0-based column -> width), and
    the style `styles` gives its new cells (the Notes and Findings columns wrap), where no
    column definition of the sheet covers it already: a team's own widths stay."""
    cols = [(int(m[1]), int(m[2]), m[0]) for m in re.finditer(
        rb'<col\b[^>]*?\bmin="(\d+)"[^>]*?\bmax="(\d+)"[^>]*?/>', xml)]

    def style(c: int) -> str:
        return f' style="{styles[c]}"' if styles.get(c) is not None else ""

    new = [(c + 1, c + 1, f'<col min="{c + 1}" max="{c + 1}" width="{w}"{style(c)} '
                          f'customWidth="1"/>'.encode()) for c, w in sorted(widths.items())
           if not any(a <= c + 1 <= b for a, b, _ in cols)]
    if not new:
        return xml
    body = b"".join(e for _, _, e in sorted(cols + new, key=lambda c: c[0]))
    m = re.search(rb"<cols>.*?</cols>", xml, re.DOTALL)
    if m:
        return xml[:m.start()] + b"<cols>" + body + b"</cols>" + xml[m.end():]
    at = xml.index(b"<sheetData")
    return xml[:at] + b"<cols>" + body + b"</cols>" + xml[at:]


# What may follow <pageSetup> in a worksheet, and <definedNames> in a workbook (ECMA-376).
_AFTER_PAGE_SETUP = (b"headerFooter", b"rowBreaks", b"colBreaks", b"customProperties",
                     b"cellWatches", b"ignoredErrors", b"smartTags", b"drawing",
                     b"legacyDrawing", b"legacyDrawingHF", b"picture", b"oleObjects",
                     b"controls", b"webPublishItems", b"tableParts", b"extLst")
_AFTER_DEFINED_NAMES = (b"calcPr", b"oleSize", b"customWorkbookViews", b"pivotCaches",
                        b"smartTagPr", b"smartTagTypes", b"webPublishing", b"fileRecoveryPr",
                        b"webPublishObjects", b"extLst")


def _print_setup(contents: dict[str, bytes], parts, sheet: str, header_row: int,
                 pages: int) -> list[str]:
    """The table printed as install sets it up (landscape, `pages` wide, the header row on
    every page), where the workbook has no page setup of its own for it: a sheet that has
    one keeps it, whatever it says, and print titles already defined stay. What was set up."""
    done = []
    part = parts[sheet]
    xml = contents[part]
    if not re.search(rb"<pageSetup\b", xml):
        fragment = (b'<pageSetup pageOrder="overThenDown" orientation="landscape" '
                    b'fitToWidth="%d" fitToHeight="0"/>' % pages)
        xml = _before_first(xml, _AFTER_PAGE_SETUP, b"</worksheet>", fragment)
        contents[part] = _fit_to_page(xml)
        done += ["landscape", f"fit to {pages} page{'s' if pages > 1 else ''} wide"]
    workbook = contents["xl/workbook.xml"]
    names = re.findall(rb'<sheet\b[^>]*?\bname="([^"]*)"', workbook)
    index = [unescape(n.decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
             for n in names].index(sheet)
    if not re.search(rb'<definedName\b[^>]*name="_xlnm.Print_Titles"[^>]*localSheetId="%d"'
                     % index, workbook) and not re.search(
            rb'<definedName\b[^>]*localSheetId="%d"[^>]*name="_xlnm.Print_Titles"' % index,
            workbook):
        name = (f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
                f'{escape(quote_sheetname(sheet))}!${header_row}:${header_row}'
                f'</definedName>').encode("utf-8")
        if b"</definedNames>" in workbook:
            workbook = workbook.replace(b"</definedNames>", name + b"</definedNames>", 1)
        else:
            workbook = _before_first(workbook, _AFTER_DEFINED_NAMES, b"</workbook>",
                                     b"<definedNames>" + name + b"</definedNames>")
        contents["xl/workbook.xml"] = workbook
        done.append("header row on every page")
    return done


def _fit_to_page(xml: bytes) -> bytes:
    """The sheet's properties saying its page setup fits pages (pageSetUpPr, the last child
    of sheetPr; sheetPr, the first child of worksheet)."""
    m = re.search(rb"<pageSetUpPr\b([^>]*?)\s*/>", xml)
    if m:
        if b"fitToPage=" in m[1]:
            return xml
        return xml[:m.start()] + b'<pageSetUpPr fitToPage="1"' + m[1] + b"/>" + xml[m.end():]
    inner = b'<pageSetUpPr fitToPage="1"/>'
    m = re.search(rb"<sheetPr\b([^>]*?)\s*/>", xml)
    if m:
        return xml[:m.start()] + b"<sheetPr" + m[1] + b">" + inner + b"</sheetPr>" + xml[m.end():]
    if b"</sheetPr>" in xml:
        return xml.replace(b"</sheetPr>", inner + b"</sheetPr>", 1)
    root = re.search(rb"<worksheet\b[^>]*>", xml)
    return xml[:root.end()] + b"<sheetPr>" + inner + b"</sheetPr>" + xml[root.end():]


def _before_first(xml: bytes, tags: tuple[bytes, ...], end: bytes, fragment: bytes) -> bytes:
    positions = [m.start() for tag in tags if (m := re.search(rb"<" + tag + rb"\b", xml))]
    at = min(positions) if positions else xml.rindex(end)
    return xml[:at] + fragment + xml[at:]


def _add_sheet(contents: dict[str, bytes], infos: list, name: str, xml: bytes) -> str:
    n = 1
    while f"xl/worksheets/sheet{n}.xml" in contents:
        n += 1
    part = f"xl/worksheets/sheet{n}.xml"
    contents[part] = xml
    infos.append(zipfile.ZipInfo(part, date_time=(2026, 1, 1, 0, 0, 0)))
    infos[-1].compress_type = zipfile.ZIP_DEFLATED
    rels = contents["xl/_rels/workbook.xml.rels"].decode("utf-8")
    ids = [int(i) for i in re.findall(r'Id="rId(\d+)"', rels)]
    rid = f"rId{max(ids, default=0) + 1}"
    rels = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{WORKSHEET_TYPE}" '
                                            f'Target="worksheets/sheet{n}.xml"/></Relationships>')
    contents["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
    workbook = contents["xl/workbook.xml"].decode("utf-8")
    sheet_ids = [int(i) for i in re.findall(r'<sheet\b[^>]*\bsheetId="(\d+)"', workbook)]
    prefix = re.search(r'xmlns:(\w+)="' + re.escape(REL) + '"', workbook)
    if prefix is None:
        workbook = workbook.replace("<workbook ", f'<workbook xmlns:r="{REL}" ', 1)
        r = "r"
    else:
        r = prefix[1]
    workbook = workbook.replace(
        "</sheets>", f'<sheet name={quoteattr(name)} sheetId="{max(sheet_ids, default=0) + 1}" '
                     f'{r}:id="{rid}"/></sheets>')
    contents["xl/workbook.xml"] = workbook.encode("utf-8")
    types = contents["[Content_Types].xml"].decode("utf-8")
    types = types.replace("</Types>", f'<Override PartName="/{part}" '
                                      f'ContentType="{WORKSHEET_CONTENT}"/></Types>')
    contents["[Content_Types].xml"] = types.encode("utf-8")
    return part


def _validations_xml(pairs: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<dataValidation type="list" errorStyle="warning" allowBlank="1" showErrorMessage="1" '
        f'errorTitle="Not in the list" error="This value is not in the list. Keep it anyway?" '
        f'sqref="{cells}"><formula1>{escape(source)}</formula1></dataValidation>'
        for cells, source in pairs)
    return f'<dataValidations count="{len(pairs)}">{items}</dataValidations>' if pairs else ""


def _colour_xml(rules, styles: _Styles, after: int = 0) -> bytes:
    """sheetkeeper's colour rules, one element each in priority order (LibreOffice goes by the
    order in the file), numbered after `after`, the team's own last priority: theirs keep
    theirs, and no two rules share one. Each stops if true (see presentation.colour_rules)."""
    out = []
    for priority, rule in enumerate(rules, start=after + 1):
        dxf = styles.dxf(rule.fill, rule.font, rule.bold)
        out.append(f'<conditionalFormatting sqref="{rule.cells}"><cfRule type="expression" '
                   f'dxfId="{dxf}" priority="{priority}" stopIfTrue="1"><formula>'
                   f'{escape(rule.formula)}</formula></cfRule></conditionalFormatting>')
    return "".join(out).encode("utf-8")


def _last_priority(xml: bytes) -> int:
    found = re.findall(rb'<cfRule\b[^>]*\bpriority="(\d+)"', xml)
    return max((int(p) for p in found), default=0)


def _without_own_rules(xml: bytes, lists_name: str) -> bytes:
    def own_validation(m: re.Match) -> bytes:
        body = m[0].decode("utf-8")
        return b"" if (lists_name in body or f"'{lists_name}'" in body) else m[0]

    xml = re.sub(rb"<dataValidation\b.*?</dataValidation>", own_validation, xml, flags=re.DOTALL)
    xml = re.sub(rb'<dataValidations count="\d+">\s*</dataValidations>|<dataValidations[^>]*/>',
                 b"", xml)

    def own_colours(m: re.Match) -> bytes:
        formulas = [unescape(f.decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
                    for f in re.findall(rb"<formula>(.*?)</formula>", m[0], re.DOTALL)]
        mine = formulas and all(any(p.fullmatch(f) for p in OWN_RULES) for f in formulas)
        return b"" if mine else m[0]

    return re.sub(rb"<conditionalFormatting\b.*?</conditionalFormatting>", own_colours, xml,
                  flags=re.DOTALL)


# Where each element may stand in a worksheet (ECMA-376 CT_Worksheet order), for insertion.
_AFTER = {
    b"conditionalFormatting": (b"dataValidations", b"hyperlinks", b"printOptions",
                               b"pageMargins", b"pageSetup", b"headerFooter", b"rowBreaks",
                               b"colBreaks", b"customProperties", b"cellWatches",
                               b"ignoredErrors", b"smartTags", b"drawing", b"legacyDrawing",
                               b"legacyDrawingHF", b"picture", b"oleObjects", b"controls",
                               b"webPublishItems", b"tableParts", b"extLst"),
    b"dataValidations": (b"hyperlinks", b"printOptions", b"pageMargins", b"pageSetup",
                         b"headerFooter", b"rowBreaks", b"colBreaks", b"customProperties",
                         b"cellWatches", b"ignoredErrors", b"smartTags", b"drawing",
                         b"legacyDrawing", b"legacyDrawingHF", b"picture", b"oleObjects",
                         b"controls", b"webPublishItems", b"tableParts", b"extLst"),
}


def _insert(xml: bytes, element: bytes, fragment: bytes) -> bytes:
    """Put `fragment` where `element` belongs: merged into an existing dataValidations list,
    else before the first element that must follow it."""
    if not fragment:
        return xml
    if element == b"dataValidations":
        m = re.search(rb'<dataValidations count="(\d+)">(.*?)</dataValidations>', xml, re.DOTALL)
        if m:
            inner = re.search(rb"<dataValidations[^>]*>(.*)</dataValidations>", fragment,
                              re.DOTALL)[1]
            count = m[2].count(b"<dataValidation ") + inner.count(b"<dataValidation ")
            merged = b'<dataValidations count="%d">' % count + m[2] + inner + b"</dataValidations>"
            return xml[:m.start()] + merged + xml[m.end():]
    if element == b"conditionalFormatting":
        last = list(re.finditer(rb"</conditionalFormatting>", xml))
        if last:
            at = last[-1].end()
            return xml[:at] + fragment + xml[at:]
    positions = [m.start() for tag in _AFTER[element]
                 if (m := re.search(rb"<" + tag + rb"\b", xml))]
    at = min(positions) if positions else xml.rindex(b"</worksheet>")
    return xml[:at] + fragment + xml[at:]
