"""The Dashboard tab in a workbook: laid out with openpyxl for a new workbook (`write_dashboard`),
and, for a workbook in use (`install --upgrade`), the same tab's parts — sheet, drawing, charts —
made by openpyxl in a workbook of their own and put into the existing package beside what is
there (`add_dashboard`), since loading and saving the team's workbook with openpyxl would lose
what openpyxl does not keep (see DESIGN.md)."""
from __future__ import annotations

import io
import re
import zipfile
from typing import Callable

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sheet_templates.dashboard import Dashboard

DRAWING_CONTENT = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_CONTENT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"


def write_dashboard(sheet: Worksheet, board: Dashboard) -> None:
    """The Dashboard tab: its cells (formulas the spreadsheet program computes) and its charts,
    real chart parts that Excel and LibreOffice draw."""
    from openpyxl.chart import BarChart, LineChart, Reference
    for c in board.cells:
        cell = sheet.cell(row=c.row + 1, column=c.column + 1, value=c.value)
        if c.number_format:
            cell.number_format = c.number_format
        if c.bold:
            cell.font = Font(bold=True)
    for i, width in enumerate(board.widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    # Printed on one landscape page, charts and all.
    sheet.page_setup.orientation = "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = sheet.page_setup.fitToHeight = 1
    for spec in board.charts:
        chart = BarChart() if spec.kind == "column" else LineChart()
        if spec.kind == "column":
            chart.type = "col"
        chart.title = spec.title
        chart.legend = None
        chart.width, chart.height = 15, 7.5          # centimetres
        values, categories = spec.values, spec.categories
        chart.add_data(Reference(sheet, min_col=values.column + 1, min_row=values.first + 1,
                                 max_row=values.last + 1), titles_from_data=False)
        chart.set_categories(Reference(sheet, min_col=categories.column + 1,
                                       min_row=categories.first + 1,
                                       max_row=categories.last + 1))
        if spec.kind == "line":
            chart.x_axis.number_format = "yyyy-mm"
            for series in chart.series:
                series.smooth = False       # a month's figure, not a curve through them
        sheet.add_chart(chart, f"{get_column_letter(spec.anchor[1] + 1)}{spec.anchor[0] + 1}")


def add_dashboard(contents: dict[str, bytes], infos: list[zipfile.ZipInfo], name: str,
                  board: Dashboard, styles, add_sheet: Callable[..., str]) -> None:
    """A Dashboard tab called `name` added to the package `contents` (part -> bytes; `infos`
    its zip entries, in order): `add_sheet(contents, infos, name, xml)` adds the sheet and
    says its part; the drawing and charts get part numbers not taken yet."""
    made = _made_by_openpyxl(name, board)
    sheet_xml = _restyled(made["xl/worksheets/sheet1.xml"], made["xl/styles.xml"], styles)
    part = add_sheet(contents, infos, name, sheet_xml)
    drawing = _free(contents, "xl/drawings/drawing{}.xml")
    renames = {"/xl/drawings/drawing1.xml": f"/{drawing}"}
    for old in sorted(p for p in made if re.fullmatch(r"xl/charts/chart\d+\.xml", p)):
        new = _free(contents, "xl/charts/chart{}.xml", taken=renames.values())
        renames[f"/{old}"] = f"/{new}"

    def renamed(xml: bytes) -> bytes:
        # In one pass: one after another, chart1 -> chart2 would then go on to chart3…
        return re.sub(rb'Target="([^"]+)"', lambda m: b'Target="%s"' % renames.get(
            m[1].decode(), m[1].decode()).encode(), xml)

    folder, file = part.rsplit("/", 1)
    new_parts = {f"{folder}/_rels/{file}.rels": renamed(made["xl/worksheets/_rels/sheet1.xml.rels"]),
                 drawing: made["xl/drawings/drawing1.xml"],
                 _rels_of(drawing): renamed(made["xl/drawings/_rels/drawing1.xml.rels"])}
    for old, new in renames.items():
        if "/charts/" in old:
            new_parts[new.lstrip("/")] = made[old.lstrip("/")]
    types = contents["[Content_Types].xml"].decode("utf-8")
    overrides = "".join(
        f'<Override PartName="/{p}" ContentType="{DRAWING_CONTENT if "/drawings/" in p else CHART_CONTENT}"/>'
        for p in new_parts if not p.endswith(".rels"))
    contents["[Content_Types].xml"] = types.replace("</Types>", overrides + "</Types>").encode()
    for p, data in new_parts.items():
        contents[p] = data
        info = zipfile.ZipInfo(p, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        infos.append(info)


def _made_by_openpyxl(name: str, board: Dashboard) -> dict[str, bytes]:
    book = Workbook()
    sheet = book.active
    sheet.title = name
    write_dashboard(sheet, board)
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(out) as made:
        return {n: made.read(n) for n in made.namelist()}


def _restyled(sheet_xml: bytes, their_styles: bytes, styles) -> bytes:
    """The sheet's cell styles, which number openpyxl's own styles.xml, as styles of the
    workbook it goes into: bold where bold, a date where a date; otherwise the default."""
    xfs = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", their_styles, re.DOTALL)
    fonts = re.search(rb"<fonts\b[^>]*>(.*?)</fonts>", their_styles, re.DOTALL)
    bold_fonts = {i for i, f in enumerate(re.findall(rb"<font\b.*?</font>|<font\b[^>]*/>",
                                                     fonts[1], re.DOTALL)) if b"<b" in f}
    mapping: dict[int, int | None] = {}
    for i, xf in enumerate(re.findall(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs[1], re.DOTALL)):
        font = re.search(rb'fontId="(\d+)"', xf)
        number = re.search(rb'numFmtId="(\d+)"', xf)
        if font and int(font[1]) in bold_fonts:
            mapping[i] = styles.bold_style()
        elif number and int(number[1]) >= 164:          # openpyxl's custom format: the month
            mapping[i] = styles.date_style(None, None)
        else:
            mapping[i] = None

    def style(m: re.Match) -> bytes:
        new = mapping.get(int(m[1]))
        return b"" if not new else f' s="{new}"'.encode()

    return re.sub(rb' s="(\d+)"', style, sheet_xml)


def _free(contents: dict[str, bytes], pattern: str, taken=()) -> str:
    n = 1
    while pattern.format(n) in contents or f"/{pattern.format(n)}" in taken:
        n += 1
    return pattern.format(n)


def _rels_of(part: str) -> str:
    folder, file = part.rsplit("/", 1)
    return f"{folder}/_rels/{file}.rels"
