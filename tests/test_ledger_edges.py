"""Ledger tabs (#21) on odd but real sheets: a tab without a Customer ID column, an ID in two
customer rows, a merge's note, a large tab's undo."""
from __future__ import annotations

import openpyxl

from sync.xlsx.target import apply_workbook
from tests.test_ledgers import (  # noqa: F401
    ANN, BOB, D, TWIN, TWINS_PURCHASES, column, row_of, settings, workbook)


def test_a_tab_without_a_customer_id_column_still_ties_an_entry_by_name(tmp_path, settings):
    """A team that deleted the Customer ID column names customers by name: a name only one
    customer has ties the entry (there is nowhere to write the ID), not 'could be C-000001'."""
    path = workbook(tmp_path, [ANN, BOB], purchases=[
        [D(2026, 11, 1), None, "Ann Lee", "Tea", 1, 100],
        [D(2026, 11, 2), None, "138 0013 8000", "Cups", 1, 20]])
    book = openpyxl.load_workbook(path)
    book["Purchases"].delete_cols(2)
    book.save(path)
    result = apply_workbook(path, settings)
    assert not result.plan.entry_findings
    assert row_of(path, "C-000001")["Total spend"] == 120
    assert row_of(path, "C-000001")["Orders"] == 2
    assert apply_workbook(path, settings).batch is None


def test_an_id_in_two_customer_rows_rolls_up_into_the_first(tmp_path, settings):
    """A row copied with its ID: the purchases are the first row's (the copy is the one told to
    clear its ID), not the copy's."""
    path = workbook(tmp_path, [ANN, {**BOB, "customer_id": "C-000001"}], purchases=[
        [D(2026, 11, 1), "C-000001", None, "Tea", 1, 100]])
    apply_workbook(path, settings)
    ws = openpyxl.load_workbook(path)["Customers"]
    headers = [c.value for c in ws[1]]
    rows = [dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [(r["Name"], r["Total spend"]) for r in rows] == [("Ann Lee", 100),
                                                             ("Bob Stone", None)]
    assert "also the ID of row 2" in rows[1]["Findings"]


def test_a_merge_notes_the_other_rows_values_but_not_its_roll_ups(tmp_path, settings):
    """The merged-away customer's purchases go with the kept one and are rolled up again: its
    Total spend, Orders, Points, Segment… are no values of a person's to keep in the Notes
    ('Total spend: 50.0' beside a Total spend of 150 reads as money lost)."""
    path = workbook(tmp_path, [ANN, TWIN], purchases=TWINS_PURCHASES)
    apply_workbook(path, settings)
    book = openpyxl.load_workbook(path)
    book["Review"]["K2"] = "Merge"
    book.save(path)
    apply_workbook(path, settings)
    ann = row_of(path, "C-000001")
    assert ann["Total spend"] == 150
    assert "Member since: 2025-06-01" in ann["Notes"]
    for header in ("Total spend", "Orders", "Points", "Average order", "Segment",
                   "First purchase", "Last purchase"):
        assert header not in ann["Notes"], ann["Notes"]
    merged = openpyxl.load_workbook(path)["Merged"]
    headers = [c.value for c in merged[1]]
    assert merged.cell(row=2, column=headers.index("Total spend") + 1).value == 50   # kept whole


def test_undo_of_many_entries_finds_each_in_constant_time(tmp_path, settings, monkeypatch):
    """An undo looks an entry up by its row: the tab's rows are indexed once, not made into a
    dict for every cell (8,000 IDs written in took 3 s to undo, 200,000 would take an hour)."""
    from sync import cells
    from sync.undo import undo_batch
    from sync.xlsx.target import WorkbookTarget
    path = workbook(tmp_path, [ANN, BOB], purchases=[
        [D(2026, 11, 1), "c-1", None, "Tea", 1, 10]] * 300)
    result = apply_workbook(path, settings)
    made = []
    real = cells.CellPlaces.__init__

    def counting(self, table):
        real(self, table)
        made.append(self)
    monkeypatch.setattr(cells.CellPlaces, "__init__", counting)
    built = []
    monkeypatch.setattr(cells, "dict", lambda *a, **k: built.append(1) or dict(*a, **k),
                        raising=False)
    undone = undo_batch(result.batch, path.parent / ".sheetkeeper",
                        lambda key, sheet: WorkbookTarget(path))
    assert undone.skipped == ()
    assert column(path, "Purchases", "Customer ID") == ["c-1"] * 300
    assert made and len(built) <= 2 * len(made)


def test_an_entry_wider_than_its_headers_is_still_an_entry():
    """A Google Sheet gives each row as far as its last value: an entry with a value typed to
    the right of the headers (a team's own note, no header) reads wider than the header row.
    Such an entry with a finding was taken for a row of nothing but sheetkeeper's findings and
    never looked at again: corrected, it was never tied."""
    import dataclasses

    from sync.plan import RuleSettings, plan_table
    from sync.table import SideTab
    from tests.conftest import TODAY
    from tests.test_ledger_properties import P_HEADERS, table_with

    def entry(customer, findings):
        row = [None] * len(P_HEADERS) + [None, None, None, "paid in two parts"]
        row[P_HEADERS.index("Date")] = D(2026, 11, 1)
        row[P_HEADERS.index("Customer")] = customer
        row[P_HEADERS.index("Findings")] = findings
        return 2, tuple(row)

    table = table_with([])
    said = "Customer: no customer matches 'Persn A'; write their ID in Customer ID, or add them" \
           " to the list first"
    for customer, before in (("Persn A", said), ("Person A", said)):
        tab = SideTab("Purchases", tuple(P_HEADERS), (entry(customer, before),))
        table = dataclasses.replace(table, ledgers={"purchases": tab})
        plan = plan_table(table, RuleSettings(today=TODAY))
        if customer == "Persn A":
            assert [f.kind for f in plan.entry_findings] == ["unknown_customer"]
    assert {(c.header, c.after) for c in plan.ledger_changes} == {
        ("Customer ID", "C-000001"), ("Findings", None)}
    assert any(c.key == "orders" and c.after == 1 for c in plan.changes)


# -- any entries: a second cycle writes nothing, and an undo puts back exactly what was --------

def _grid(path, tab: str) -> list[list]:
    ws = openpyxl.load_workbook(path)[tab]
    return [[c.value for c in row] for row in ws.iter_rows()]


def _typed_entry():
    from hypothesis import strategies as st
    who = st.sampled_from(["C-000001", "c-2", 2, "C-000009", None])
    by = st.sampled_from([None, "Ann Lee", "138 0013 8000", "bob@example.com", "Nobody"])
    when = st.one_of(st.dates(D(2024, 1, 1), D(2026, 11, 23)),
                     st.sampled_from(["2026-11-05", "5 Nov 2026", "yesterday", None]))
    amount = st.one_of(st.integers(-200, 3000), st.sampled_from([0, "¥80.50", "1,000", -0.5,
                                                                 "abc", None]))
    return st.tuples(when, who, by, st.just("Tea"), st.just(1), amount)


def test_any_entries_settle_in_one_cycle_and_undo_exactly(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings as hsettings
    from hypothesis import strategies as st

    from sync.plan import RuleSettings
    from sync.undo import undo_batch
    from sync.xlsx.target import WorkbookTarget
    from tests.conftest import TODAY
    rules = RuleSettings(today=TODAY, phone_region="CN")
    bob = {**BOB, "email": "bob@example.com", "total_spend": 75}

    @hsettings(max_examples=int(__import__("os").environ.get("N", 25)), deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(_typed_entry(), max_size=8))
    def check(entries):
        path = workbook(tmp_path_factory.mktemp("any"), [ANN, bob], purchases=entries)
        before = {t: _grid(path, t) for t in ("Customers", "Purchases")}
        result = apply_workbook(path, rules)
        again = apply_workbook(path, rules)
        assert again.batch is None, (again.plan.changes, again.plan.ledger_changes)
        if result.batch is not None:
            undone = undo_batch(result.batch, path.parent / ".sheetkeeper",
                                lambda key, sheet: WorkbookTarget(path))
            assert undone.skipped == ()
            assert {t: _grid(path, t) for t in before} == before
    check()


def test_a_google_upgrades_dashboard_sums_the_amount_column_the_roll_ups_sum():
    """A Purchases tab with two headers that both name the amount (Price, then Total): the
    roll-ups take the first (sync.ledgers.ledger_columns); the dashboard an upgrade lays over a
    Google Sheet took the last, so its spend per month was another column's."""
    from sheet_templates.dashboard import _money_ledger
    from sync.gsheets import upgrade
    from sync.gsheets.install import ledger_role
    from sync.header import layout_for
    from sync.ledgers import ledger_columns
    from sync.table import SideTab
    from tests.test_ledgers import CRM
    headers = [c.header("en") for c in CRM.columns]
    top = ["Date", "Customer ID", "Customer", "Product", "Price", "Total"]
    names = {ledger_role(g): g.sheet_names["en"] for g in CRM.ledgers}
    captured = {}
    real = upgrade.dashboard

    def keep(template, lang, table, ledgers):
        captured.update(ledgers)
        return real(template, lang, table, ledgers)
    upgrade.dashboard = keep
    try:
        upgrade._board(CRM, layout_for(headers, 1, CRM), "Customers",
                       {c.key: j for j, c in enumerate(CRM.columns)}, names, {},
                       {"Purchases": [top]})
    finally:
        upgrade.dashboard = real
    rolled = ledger_columns(CRM.ledger("purchases"), SideTab("Purchases", tuple(top), ()))
    source, _, amount = _money_ledger(CRM, captured)
    assert source.columns[amount] == rolled["amount"] == top.index("Price")


def test_a_roll_up_column_holding_the_teams_formula_is_left_to_it(tmp_path, settings):
    """A list kept before sheetkeeper rolled anything up often has Total spend as a formula
    over the Purchases tab (=SUMIF…): a formula cell is never written (it was, and the formula
    was gone for good); a row without one is rolled up."""
    from rules.customer_value import TierRule, ValueRules
    import dataclasses
    path = workbook(tmp_path, [ANN, BOB], purchases=[
        [D(2026, 11, 1), "C-000001", None, "Tea", 1, 100],
        [D(2026, 11, 2), "C-000002", None, "Tea", 1, 30]])
    book = openpyxl.load_workbook(path)
    ws = book["Customers"]
    headers = [c.value for c in ws[1]]
    spend, tier = headers.index("Total spend") + 1, headers.index("Tier") + 1
    formula = "=SUMIF(Purchases!B:B,A2,Purchases!F:F)"
    ws.cell(row=2, column=spend, value=formula)
    ws.cell(row=2, column=tier, value='=IF(P2>50,"VIP","Normal")')
    book.save(path)
    opted = dataclasses.replace(settings, value=ValueRules(tiers=TierRule(vip_spend=10_000,
                                                                          write=True)))
    result = apply_workbook(path, opted)
    assert not [c for c in result.plan.changes if c.row_number == 2 and c.key in
                ("total_spend", "tier")]
    ws = openpyxl.load_workbook(path)["Customers"]
    assert ws.cell(row=2, column=spend).value == formula
    assert ws.cell(row=2, column=tier).value.startswith("=IF(")
    assert ws.cell(row=3, column=spend).value == 30
    assert ws.cell(row=3, column=tier).value == "Normal"


def test_a_formula_on_a_ledger_tab_is_never_written_over(tmp_path, settings):
    """A Purchases tab that looks the ID up itself (=IFERROR(VLOOKUP(…),"") in Customer ID,
    blank until it finds one): the entry is tied by its Customer cell, but the formula stays
    (the ID was written over it, for good)."""
    path = workbook(tmp_path, [ANN, BOB], purchases=[
        [D(2026, 11, 1), None, "Ann Lee", "Tea", 1, 100]])
    book = openpyxl.load_workbook(path)
    lookup = '=IFERROR(INDEX(Customers!A:A,MATCH(C2,Customers!B:B,0)),"")'
    book["Purchases"]["B2"] = lookup
    book.save(path)
    result = apply_workbook(path, settings)
    assert not result.plan.ledger_changes
    assert openpyxl.load_workbook(path)["Purchases"]["B2"].value == lookup
    assert row_of(path, "C-000001")["Total spend"] == 100       # tied all the same



def test_merging_away_an_id_not_written_the_templates_way_repoints_its_entries_only(
        tmp_path, settings):
    """Two customers kept under IDs of the team's own (VIP-7, VIP-9), the same person: merging
    VIP-9 away re-points its entries only (every entry whose ID is not written the template's
    way went with it: 'walk-in' too)."""
    vip7 = {**ANN, "customer_id": "VIP-7"}
    vip9 = {"customer_id": "VIP-9", "name": "Ann Lee", "phone": "+8613800138000",
            "member_since": D(2025, 6, 1)}
    path = workbook(tmp_path, [vip7, vip9], purchases=[
        [D(2026, 11, 1), "VIP-9", None, "Tea", 1, 100],
        [D(2026, 11, 2), "walk-in", None, "Cups", 1, 50]])
    apply_workbook(path, settings)
    book = openpyxl.load_workbook(path)
    assert book["Review"]["A2"].value == "VIP-7 + VIP-9"
    book["Review"]["K2"] = "Merge"
    book.save(path)
    apply_workbook(path, settings)
    assert column(path, "Purchases", "Customer ID") == ["VIP-7", "walk-in"]


def test_upgrade_of_a_workbook_with_a_chart_of_its_own_gives_the_dashboard_its_four_charts(
        tmp_path):
    """A team's workbook with a chart already (xl/charts/chart1.xml): the Dashboard's charts
    are numbered after it, each drawing relationship pointing at its own chart. Renaming them
    one after another renamed chart1 -> chart2 -> … -> chart5: all four pointed at the last,
    the spend per month drawn four times."""
    import re
    import zipfile

    from openpyxl.chart import BarChart, Reference

    from sheet_templates import builtin
    from sync.xlsx.upgrade import upgrade_workbook
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(["Name", "Phone", "Total spend"])
    ws.append(["Ann Lee", "13800138000", 120])
    ws.append(["Bob Stone", "13900139000", 80])
    own = BarChart()
    own.add_data(Reference(ws, min_col=3, min_row=2, max_row=3))
    ws.add_chart(own, "F2")
    path = tmp_path / "charted.xlsx"
    book.save(path)
    upgrade_workbook(path, builtin("crm"))
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        sheets = {m[1]: m[2] for m in re.finditer(
            rb'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', z.read("xl/workbook.xml"))}
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        part = re.search(rf'Id="{sheets[b"Dashboard"].decode()}"[^>]*Target="([^"]+)"|'
                         rf'Target="([^"]+)"[^>]*Id="{sheets[b"Dashboard"].decode()}"', rels)
        sheet_part = "xl/" + (part[1] or part[2]).lstrip("/").removeprefix("xl/")
        folder, file = sheet_part.rsplit("/", 1)
        drawing = re.search(r'Target="([^"]+drawing[^"]+)"',
                            z.read(f"{folder}/_rels/{file}.rels").decode())[1]
        drawing = "xl/drawings/" + drawing.rsplit("/", 1)[1]
        d_folder, d_file = drawing.rsplit("/", 1)
        charts = re.findall(r'Target="([^"]+)"', z.read(f"{d_folder}/_rels/{d_file}.rels").decode())
        charts = ["xl/charts/" + c.rsplit("/", 1)[1] for c in charts]
        assert len(set(charts)) == 4 and set(charts) <= names, charts
        titles = [re.findall(rb"<a:t>([^<]+)</a:t>", z.read(c)) for c in charts]
    assert len({tuple(t) for t in titles}) == 4, titles


def test_after_an_undo_the_roll_ups_follow_the_entries_again(tmp_path, settings):
    """Undo of a cycle that rolled a new purchase up: the cells go back, and a later purchase
    rolls up again. The undo held the restored Total spend, Orders, Last purchase… against
    every later change from that value: they stayed as they were for good (Total spend 1,000
    beside purchases of 1,205)."""
    from sync.undo import undo_batch
    from sync.xlsx.target import WorkbookTarget
    path = workbook(tmp_path, [ANN, BOB], purchases=[
        [D(2026, 11, 1), "C-000001", None, "Tea", 1, 1000]])
    apply_workbook(path, settings)
    book = openpyxl.load_workbook(path)
    book["Purchases"].append([D(2026, 11, 3), "C-000001", None, "Cups", 1, 5])
    book.save(path)
    result = apply_workbook(path, settings)
    assert row_of(path, "C-000001")["Total spend"] == 1005
    undone = undo_batch(result.batch, path.parent / ".sheetkeeper",
                        lambda key, sheet: WorkbookTarget(path))
    assert undone.skipped == ()
    assert row_of(path, "C-000001")["Total spend"] == 1000          # put back exactly
    book = openpyxl.load_workbook(path)
    book["Purchases"].append([D(2026, 11, 10), "C-000001", None, "Pot", 1, 200])
    book.save(path)
    apply_workbook(path, settings)
    ann = row_of(path, "C-000001")
    assert (ann["Total spend"], ann["Orders"]) == (1205, 3)
    assert ann["Last purchase"].date() == D(2026, 11, 10)
    assert apply_workbook(path, settings).batch is None
