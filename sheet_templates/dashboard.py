"""The Dashboard tab (看板), described as plain data every backend can lay out: cells (labels and
formulas over the table and the ledger tab money is spent on) and native charts over those cells.

Formulas, not values: the spreadsheet program keeps the dashboard current between sheetkeeper's
cycles, and they use only functions Excel, LibreOffice and Google Sheets share (COUNTIF,
COUNTIFS, SUMIFS, LARGE, INDEX, MATCH, IFERROR, SUMPRODUCT, DATE, TODAY). Columns are referred
to where they stand in this list (found by header), so a list in use gets a dashboard over its
own layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .model import Template
from .references import column_letter, quote_sheetname

MONTHS = 12
TOP = 10
LAST_ROW = 100_001      # bounded ranges (SUMPRODUCT over whole columns is slow everywhere)


@dataclass(frozen=True)
class DashCell:
    row: int                     # 0-based
    column: int                  # 0-based
    value: Any                   # text, a number, or a formula starting "="
    number_format: str | None = None
    bold: bool = False


@dataclass(frozen=True)
class Span:
    """Rows first..last (0-based, inclusive) of one column of the Dashboard tab."""

    column: int
    first: int
    last: int

    def a1(self) -> str:
        letter = column_letter(self.column)
        return f"${letter}${self.first + 1}:${letter}${self.last + 1}"


@dataclass(frozen=True)
class DashChart:
    kind: str                    # "column" (vertical bars) or "line"
    title: str
    categories: Span
    values: Span
    anchor: tuple[int, int]      # (row, column), 0-based: the chart's top-left cell


@dataclass(frozen=True)
class Dashboard:
    cells: tuple[DashCell, ...]
    charts: tuple[DashChart, ...]
    widths: tuple[int, ...]      # the first columns' widths, in characters


@dataclass(frozen=True)
class Source:
    """Where the dashboard's data stand: a tab and its columns (key -> 0-based column)."""

    tab: str
    columns: Mapping[str, int]
    header_row: int = 1          # 1-based

    def whole(self, key: str) -> str | None:
        j = self.columns.get(key)
        if j is None:
            return None
        letter = column_letter(j)
        return f"{quote_sheetname(self.tab)}!${letter}:${letter}"

    def rows(self, key: str) -> str | None:
        j = self.columns.get(key)
        if j is None:
            return None
        letter = column_letter(j)
        return (f"{quote_sheetname(self.tab)}!${letter}${self.header_row + 1}:"
                f"${letter}${LAST_ROW}")


def dashboard(template: Template, lang: str, table: Source,
              ledgers: Mapping[str, Source]) -> Dashboard:
    """The Dashboard for `table` (the list's tab) and its ledger tabs (by ledger key)."""
    def word(key: str) -> str:
        return template.word("dashboard", key, lang)

    cells: list[DashCell] = [DashCell(0, 0, word("title"), bold=True),
                             DashCell(1, 0, word("subtitle"))]
    charts: list[DashChart] = []
    status = template.status.column
    # By status and by tier: a label, and how many rows carry it.
    for col, key, title in ((0, status, word("by_status")), (3, "tier", word("by_tier"))):
        where = table.whole(key)
        if where is None or key not in {c.key for c in template.columns}:
            continue
        labels = template.lists[template.column(key).list].labels(lang)
        cells += [DashCell(2, col, title, bold=True),
                  DashCell(2, col + 1, word("customers"), bold=True)]
        for r, label in enumerate(labels, start=3):
            cells += [DashCell(r, col, label),
                      DashCell(r, col + 1, f'=COUNTIF({where},{_ref(r, col)})')]
        charts.append(DashChart("column", title, Span(col, 3, 2 + len(labels)),
                                Span(col + 1, 3, 2 + len(labels)),
                                (2, 7) if col == 0 else (19, 7)))
    # Month by month over the last twelve: new customers, and spend.
    first, top = 10, 9
    cells += [DashCell(top, 0, word("month"), bold=True),
              DashCell(top, 1, word("new_customers"), bold=True)]
    since = table.whole(template.status.start)
    money = _money_ledger(template, ledgers)
    for k in range(MONTHS):
        r = first + k
        start = _ref(r, 0)
        cells.append(DashCell(r, 0, "=DATE(YEAR(TODAY()),MONTH(TODAY())-11,1)" if k == 0 else
                              f"=DATE(YEAR({_ref(r - 1, 0)}),MONTH({_ref(r - 1, 0)})+1,1)",
                              number_format="yyyy-mm"))
        end = f"DATE(YEAR({start}),MONTH({start})+1,1)"
        if since:
            cells.append(DashCell(r, 1, f'=COUNTIFS({since},">="&{start},{since},"<"&{end})'))
        if money is not None:
            source, day, amount = money
            cells.append(DashCell(r, 2, f'=SUMIFS({source.whole(amount)},{source.whole(day)},'
                                        f'">="&{start},{source.whole(day)},"<"&{end})',
                                  number_format="#,##0.00"))
    months = Span(0, first, first + MONTHS - 1)
    if since:
        charts.append(DashChart("line", word("new_customers"), months,
                                Span(1, first, first + MONTHS - 1), (2, 15)))
    if money is not None:
        cells.append(DashCell(top, 2, word("spend"), bold=True))
        charts.append(DashChart("line", word("spend_per_month"), months,
                                Span(2, first, first + MONTHS - 1), (19, 15)))
    # The ten who spent most (a tie shows the first of them twice: INDEX/MATCH finds one).
    spend, name = table.whole("total_spend"), table.whole(template.duplicates.name)
    if spend and name:
        cells += [DashCell(top, 4, word("top_customers"), bold=True),
                  DashCell(top, 5, word("spend"), bold=True)]
        for k in range(1, TOP + 1):
            r = top + k
            cells += [DashCell(r, 5, f'=IFERROR(LARGE({spend},{k}),"")',
                               number_format="#,##0.00"),
                      DashCell(r, 4, f'=IFERROR(INDEX({name},MATCH({_ref(r, 5)},{spend},0)),"")')]
    birthday = table.rows("birthday")
    if birthday:
        r = first + MONTHS + 1
        cells += [DashCell(r, 0, word("birthdays"), bold=True),
                  DashCell(r, 1, f"=SUMPRODUCT(ISNUMBER({birthday})*"
                                 f"(IFERROR(MONTH({birthday}),0)=MONTH(TODAY())))")]
    return Dashboard(tuple(cells), tuple(charts), (22, 14, 14, 20, 24, 14))


def _ref(row: int, column: int) -> str:
    return f"{column_letter(column)}{row + 1}"


def _money_ledger(template: Template, ledgers: Mapping[str, Source]
                  ) -> tuple[Source, str, str] | None:
    """The ledger money is spent on (Purchases; Payments for members): its tab, date and
    amount columns."""
    for g in template.ledgers:
        amount = next((c.key for c in g.columns if c.type == "money"), None)
        source = ledgers.get(g.key)
        if amount and source and source.whole(amount) and source.whole(g.date):
            return source, g.date, amount
    return None


def install_sources(template: Template, lang: str) -> tuple[Source, dict[str, Source]]:
    """Where the data stand in a workbook or sheet laid out by install: the template's order."""
    table = Source(template.sheet_names[lang], {c.key: i for i, c in enumerate(template.columns)})
    ledgers = {g.key: Source(g.sheet_names[lang], {c.key: i for i, c in enumerate(g.columns)})
               for g in template.ledgers}
    return table, ledgers
