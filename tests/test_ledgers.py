"""Purchases and follow-ups roll up into the customer list (#21), on real workbooks: entries tied
to customers (by ID, phone, email, name; ambiguous and unknown ones said, never guessed), the
roll-up columns, the status from the latest activity, tiers, RFM segments, churn warnings,
birthdays, undo, and a cycle with nothing new writing nothing."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from rules.customer_value import ChurnRule, TierRule, ValueRules
from sheet_templates import builtin
from sync.plan import RuleSettings
from sync.undo import undo_batch
from sync.xlsx.install import install_new
from sync.xlsx.target import WorkbookTarget, apply_workbook
from tests.conftest import TODAY

CRM = builtin("crm")
D = dt.date


def workbook(tmp_path: Path, customers: list[dict], purchases: list[list] = (),
             follow_ups: list[list] = (), name: str = "shop.xlsx") -> Path:
    """The crm template installed with `customers` (by column key), then entries typed on the
    Purchases tab (Date, Customer ID, Customer, Product, Quantity, Amount, Payment method) and
    the Follow-ups tab (Date, Customer ID, Customer, Channel, Summary, Next follow-up)."""
    path = install_new(CRM, tmp_path / name, "en", customers)
    book = openpyxl.load_workbook(path)
    for tab, rows in (("Purchases", purchases), ("Follow-ups", follow_ups)):
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                book[tab].cell(row=r, column=c, value=value)
    book.save(path)
    return path


def column(path: Path, tab: str, header: str) -> list:
    ws = openpyxl.load_workbook(path)[tab]
    headers = [c.value for c in ws[1]]
    j = headers.index(header)
    return [row[j] for row in ws.iter_rows(min_row=2, values_only=True)]


def row_of(path: Path, customer_id: str) -> dict:
    ws = openpyxl.load_workbook(path)["Customers"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0] == customer_id:
            return dict(zip(headers, row))
    raise KeyError(customer_id)


def day(value) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


ANN = {"customer_id": "C-000001", "name": "Ann Lee", "phone": "+8613800138000",
       "email": "ann@example.com", "member_since": D(2025, 1, 10)}
BOB = {"customer_id": "C-000002", "name": "Bob Stone", "phone": "+8613900139000",
       "member_since": D(2025, 2, 1)}
TWIN = {"customer_id": "C-000002", "name": "Ann Lee", "phone": "+8613800138000",
        "member_since": D(2025, 6, 1)}          # Ann again, under another ID: one to merge
TWINS_PURCHASES = [[D(2026, 11, 1), "C-000001", None, "Tea", 1, 100],
                   [D(2026, 11, 2), "C-000002", None, "Cups", 1, 50]]
FANG_1 = {"customer_id": "C-000003", "name": "Wang Fang", "phone": "+8613700137000",
          "member_since": D(2025, 3, 1)}
FANG_2 = {"customer_id": "C-000004", "name": "Wang Fang", "phone": "+8613600136000",
          "member_since": D(2025, 3, 2)}


@pytest.fixture
def settings() -> RuleSettings:
    return RuleSettings(today=TODAY, phone_region="CN")


def test_entries_are_tied_to_their_customer_and_roll_up(tmp_path, settings):
    path = workbook(tmp_path, [ANN, BOB, FANG_1, FANG_2], purchases=[
        [D(2026, 9, 1), "C-000001", None, "Tea", 2, 120, "Cash"],
        [D(2026, 10, 1), None, "138 0013 8000", "Cups", 1, "¥80.50", "wechat"],  # by phone
        [D(2026, 11, 1), "c-1", None, "Tea", 1, 300],                    # an ID typed loosely
        [D(2026, 11, 2), None, "bob@nowhere.example", "Pot", 1, 50],      # nobody has it
        [D(2026, 11, 3), None, "Wang Fang", "Tea", 1, 60],                # two customers
        [D(2026, 11, 4), "C-000099", None, "Tea", 1, 70],                 # no such ID
    ])
    result = apply_workbook(path, settings)
    assert result.batch is not None
    assert column(path, "Purchases", "Customer ID") == [
        "C-000001", "C-000001", "C-000001", None, None, "C-000099"]
    assert column(path, "Purchases", "Amount")[1] == 80.5
    assert column(path, "Purchases", "Payment method")[1] == "WeChat Pay"
    findings = column(path, "Purchases", "Findings")
    assert findings[:3] == [None, None, None]
    assert "no customer matches 'bob@nowhere.example'" in findings[3]
    assert "could be C-000003, C-000004" in findings[4]       # named, never guessed
    assert "no customer has the ID 'C-000099'" in findings[5]
    kinds = {f.kind for f in result.plan.entry_findings}
    assert kinds == {"unknown_customer", "ambiguous_customer"}

    ann = row_of(path, "C-000001")
    assert ann["Total spend"] == 500.5 and ann["Orders"] == 3
    assert day(ann["First purchase"]) == D(2026, 9, 1)
    assert day(ann["Last purchase"]) == D(2026, 11, 1)
    assert ann["Average order"] == pytest.approx(166.83)
    assert ann["Points"] == 10 + 0 + 30                  # 10 points per whole 100, per purchase
    assert ann["Status"] == "Active"                     # a purchase 22 days ago is contact
    assert re.fullmatch(r"\w[\w ]+ \(R[1-5] F[1-5] M[1-5]\)", ann["Segment"])
    bob = row_of(path, "C-000002")
    assert bob["Total spend"] is None and bob["Orders"] is None       # no purchase: left alone
    assert bob["Status"] == "Churned"

    # Nothing new: the next cycle writes nothing, and neither does the one after.
    again = apply_workbook(path, settings)
    assert again.batch is None and not again.plan.ledger_changes
    assert apply_workbook(path, settings).batch is None


def test_a_typed_total_stays_until_a_purchase_is_recorded(tmp_path, settings):
    path = workbook(tmp_path, [{**ANN, "total_spend": 1200}, {**BOB, "total_spend": 900}],
                    purchases=[[D(2026, 11, 1), "C-000002", None, "Tea", 1, 40]])
    apply_workbook(path, settings)
    assert row_of(path, "C-000001")["Total spend"] == 1200
    assert row_of(path, "C-000002")["Total spend"] == 40


def test_follow_ups_move_last_contact_and_next_follow_up_on_but_never_back(tmp_path, settings):
    path = workbook(
        tmp_path, [{**ANN, "last_contact": D(2026, 6, 1)},
                   {**BOB, "last_contact": D(2026, 11, 20), "next_follow_up": D(2026, 12, 24)}],
        follow_ups=[[D(2026, 11, 10), "C-000001", None, "phone", "asked about tea",
                     D(2026, 12, 1)],
                    [D(2026, 10, 1), "C-000002", None, "Visit", "old visit", D(2026, 10, 15)]])
    apply_workbook(path, settings)
    ann, bob = row_of(path, "C-000001"), row_of(path, "C-000002")
    assert day(ann["Last contact"]) == D(2026, 11, 10)
    assert day(ann["Next follow-up"]) == D(2026, 12, 1)
    assert ann["Status"] == "Active"
    assert day(bob["Last contact"]) == D(2026, 11, 20)         # typed later: it stays
    assert day(bob["Next follow-up"]) == D(2026, 12, 24)
    assert column(path, "Follow-ups", "Channel") == ["Phone", "Visit"]


def test_tier_by_the_teams_rule_is_a_finding_unless_they_opt_in(tmp_path, settings):
    purchases = [[D(2026, m, 1), "C-000001", None, "Set", 1, 4000] for m in (3, 6, 9)]
    customers = [{**ANN, "tier": "Normal"}, {**BOB, "tier": "VIP"}]
    rule = TierRule(vip_spend=10_000, vip_orders=12)
    told = dataclasses.replace(settings, value=ValueRules(tiers=rule))
    path = workbook(tmp_path, customers, purchases)
    result = apply_workbook(path, told)
    assert row_of(path, "C-000001")["Tier"] == "Normal"              # a person's: it stays
    ann = row_of(path, "C-000001")["Findings"]
    assert "Tier: spend in the last 12 months is 12,000 in 3 orders: VIP by your rule" in ann
    assert "Prospect by your rule" in row_of(path, "C-000002")["Findings"]
    assert {f.kind for f in result.plan.findings} >= {"tier"}

    opted = dataclasses.replace(settings, value=ValueRules(
        tiers=dataclasses.replace(rule, write=True)))
    path = workbook(tmp_path, customers, purchases, name="opted.xlsx")
    apply_workbook(path, opted)
    assert row_of(path, "C-000001")["Tier"] == "VIP"
    assert row_of(path, "C-000002")["Tier"] == "Prospect"


def test_a_customer_drifting_away_is_at_risk_before_churned(tmp_path, settings):
    weekly = [[D(2026, 8, 1) + dt.timedelta(days=7 * k), "C-000001", None, "Tea", 1, 20]
              for k in range(6)]                                      # last on 5 Sep
    path = workbook(tmp_path, [ANN, BOB], weekly + [
        [D(2026, 11, 20), "C-000002", None, "Tea", 1, 20]])
    result = apply_workbook(path, settings)
    findings = row_of(path, "C-000001")["Findings"]
    assert "[At risk] no purchase for 79 days; usually one every 7 days" in findings
    assert row_of(path, "C-000001")["Status"] == "Paused"         # not churned (180 days) yet
    assert not any(f.kind == "at_risk" and f.row_id == "C-000002" for f in result.plan.findings)
    patient = dataclasses.replace(settings, value=ValueRules(churn=ChurnRule(min_days=90)))
    assert not any(f.kind == "at_risk" for f in apply_workbook(path, patient).plan.findings)


def test_a_birthday_within_a_week_is_said(tmp_path, settings):
    path = workbook(tmp_path, [{**ANN, "birthday": D(1990, 11, 26)},
                               {**BOB, "birthday": D(1985, 11, 23)},
                               {**FANG_1, "birthday": D(1980, 12, 25)}])
    apply_workbook(path, settings)
    assert "[Birthday] 11-26, in 3 days" in row_of(path, "C-000001")["Findings"]
    assert "[Birthday] today" in row_of(path, "C-000002")["Findings"]
    assert not row_of(path, "C-000003")["Findings"] or \
        "Birthday" not in row_of(path, "C-000003")["Findings"]


def test_undo_puts_the_entries_and_the_roll_ups_back(tmp_path, settings):
    path = workbook(tmp_path, [ANN, BOB], purchases=[
        [D(2026, 11, 1), None, "ann@example.com", "Tea", 1, "1,000"]])
    before = {tab: [[c.value for c in row] for row in openpyxl.load_workbook(path)[tab].iter_rows()]
              for tab in ("Customers", "Purchases")}
    result = apply_workbook(path, settings)
    assert column(path, "Purchases", "Customer ID") == ["C-000001"]
    assert row_of(path, "C-000001")["Total spend"] == 1000
    undone = undo_batch(result.batch, path.parent / ".sheetkeeper",
                        lambda key, sheet: WorkbookTarget(path))
    assert undone.skipped == ()
    book = openpyxl.load_workbook(path)
    for tab, rows in before.items():
        assert [[c.value for c in row] for row in book[tab].iter_rows()] == rows


# -- the same on a Google Sheet (the emulator, through the real gspread client) ----------------

def test_purchases_on_a_google_sheet_roll_up_in_the_same_four_requests(server, tmp_path):
    from sync.gsheets.target import apply_google
    from tests.fakesheets import installed_sheet
    headers = [c.header("en") for c in CRM.columns]

    def typed(**values):
        return [values.get(h) for h in headers]

    sheet = installed_sheet(server, [
        typed(**{"Customer ID": "C-000001", "Name": "Ann Lee", "Phone": "+8613800138000",
                 "Member since": "2025-01-10"}),
        typed(**{"Customer ID": "C-000002", "Name": "Bob Stone", "Email": "bob@example.com"})],
        raw=False)
    sheet.spreadsheet.worksheet("Purchases").update([
        ["2026-11-01", "C-000001", "", "Tea", 1, 120],
        ["2026-11-05", "", "138 0013 8000", "Cups", 2, "80"],
        ["2026-11-06", "", "nobody@example.com", "Pot", 1, 50]], "A2", raw=False)
    before = len(server.faults.log)
    result = apply_google(sheet, settings_cn(), tmp_path)
    assert result.requests == len(server.faults.log) - before == 4
    purchases = sheet.spreadsheet.worksheet("Purchases").get_all_values()
    assert [r[1] for r in purchases[1:]] == ["C-000001", "C-000001", ""]
    assert "no customer matches" in purchases[3][8]
    customers = sheet.spreadsheet.worksheet("Customers").get_all_records(
        value_render_option="UNFORMATTED_VALUE")
    assert customers[0]["Total spend"] == 200 and customers[0]["Orders"] == 2
    assert customers[0]["Status"] == "Active"
    quiet = apply_google(sheet, settings_cn(), tmp_path)
    assert quiet.batch is None


def settings_cn() -> RuleSettings:
    return RuleSettings(today=TODAY, phone_region="CN")


def test_a_merge_points_the_merged_customers_purchases_at_the_kept_one(tmp_path, settings):
    from sync.opening import undo_on
    path = workbook(tmp_path, [ANN, TWIN], purchases=TWINS_PURCHASES)
    apply_workbook(path, settings)
    book = openpyxl.load_workbook(path)
    review = book["Review"]
    assert review["A2"].value == "C-000001 + C-000002"
    review["K2"] = "Merge"
    book.save(path)
    result = apply_workbook(path, settings)
    assert len(result.merges) == 1
    assert column(path, "Purchases", "Customer ID") == ["C-000001", "C-000001"]
    assert row_of(path, "C-000001")["Total spend"] == 150       # rolled up in the same cycle
    undo_on(result.merges[0], path.parent / ".sheetkeeper")
    assert column(path, "Purchases", "Customer ID") == ["C-000001", "C-000002"]


def test_a_gyms_visits_and_payments_roll_up_into_its_members(tmp_path, settings):
    members = builtin("members")
    path = install_new(members, tmp_path / "gym.xlsx", "en", [
        {"member_no": "M-00001", "name": "Ann Lee", "phone": "+8613800138000",
         "joined": D(2025, 1, 10), "last_visit": D(2026, 11, 22)},
        {"member_no": "M-00002", "name": "Bob Stone", "email": "bob@example.com",
         "joined": D(2025, 2, 1)}])
    book = openpyxl.load_workbook(path)
    for r, row in enumerate([[D(2026, 11, 1), "M-00001", None, "Yoga"],
                             [D(2026, 11, 20), "M-00001", None, "Spin"],
                             [D(2026, 9, 1), "M-00001", None, "Yoga"],      # not in 30 days
                             [D(2026, 5, 5), None, "bob@example.com", "Swim"]], start=2):
        for c, value in enumerate(row, start=1):
            book["Visits"].cell(row=r, column=c, value=value)
    for r, row in enumerate([[D(2026, 1, 1), "M-00001", None, "Annual", 1200, D(2026, 12, 31)],
                             [D(2025, 1, 1), "M-00001", None, "Annual", 1000,
                              D(2025, 12, 31)]], start=2):
        for c, value in enumerate(row, start=1):
            book["Payments"].cell(row=r, column=c, value=value)
    book.save(path)
    apply_workbook(path, settings)
    ws = openpyxl.load_workbook(path)["Members"]
    headers = [c.value for c in ws[1]]
    ann, bob = (dict(zip(headers, row)) for row in ws.iter_rows(min_row=2, values_only=True))
    assert day(ann["Last visit"]) == D(2026, 11, 22)           # typed later than logged: stays
    assert ann["Visits (30 days)"] == 2
    assert day(ann["Plan valid until"]) == D(2026, 12, 31)
    assert day(bob["Last visit"]) == D(2026, 5, 5) and bob["Visits (30 days)"] == 0
    assert bob["Status"] == "Churned"                # 202 days since the last visit logged
    assert column(path, "Visits", "Member number") == ["M-00001"] * 3 + ["M-00002"]


def test_an_upgraded_list_in_use_rolls_up_its_first_purchases(tmp_path, settings):
    from sync.xlsx.upgrade import upgrade_workbook
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(["Name", "Mobile", "Total spend"])
    ws.append(["Ann Lee", "13800138000", "¥1,200"])            # typed before: stays until…
    ws.append(["Bob Stone", "13900139000", None])
    path = tmp_path / "own.xlsx"
    book.save(path)
    upgrade_workbook(path, CRM)
    apply_workbook(path, settings)                               # IDs, the typed total cleaned
    book = openpyxl.load_workbook(path)
    book["Purchases"].append([D(2026, 11, 2), None, "139 0013 9000", "Tea", 1, 88])
    book.save(path)
    apply_workbook(path, settings)
    ws = openpyxl.load_workbook(path)["Customers"]
    headers = [c.value for c in ws[1]]
    rows = [dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert rows[0]["Total spend"] == 1200 and rows[1]["Total spend"] == 88
    assert rows[1]["Orders"] == 1 and column(path, "Purchases", "Customer ID") == [
        rows[1]["Customer ID"]]


def test_the_json_report_lists_the_entries_changes_and_findings(tmp_path):
    import json

    from tests.conftest import run_cli
    path = workbook(tmp_path, [ANN, BOB], purchases=[
        [D(2026, 11, 1), None, "138 0013 8000", "Tea", 1, 10],
        [D(2026, 11, 2), None, "Nobody", "Tea", 1, 10]])
    done = run_cli("check", str(path), "--report", "json", "--today", TODAY.isoformat(),
                   "--region", "CN")
    report = json.loads(done.stdout)
    assert {"sheet": "Purchases", "row_number": 2, "column": "Customer ID", "before": None,
            "after": "C-000001", "rule": "link"} == {
        k: v for k, v in report["entry_changes"][0].items() if k != "reason"}
    finding, = report["entry_findings"]
    assert finding["kind"] == "unknown_customer" and finding["row_number"] == 3


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_samples_show_entries_tied_and_rolled_up(tmp_path, lang):
    """`install --with-samples` (what `make run` does first) puts purchases and a follow-up on
    the ledger tabs, typed with names and emails rather than IDs: the first apply ties them
    and rolls them up."""
    from tests.conftest import run_cli
    path = tmp_path / "shop.xlsx"
    assert run_cli("install", "crm", "--to", str(path), "--with-samples", "--lang",
                   lang).returncode == 0
    run_cli("apply", str(path), "--today", TODAY.isoformat())
    book = openpyxl.load_workbook(path)
    tab = CRM.ledger("purchases").sheet_names[lang]
    ids = [r[1] for r in book[tab].iter_rows(min_row=2, values_only=True)]
    assert ids and all(i and i.startswith("C-") for i in ids)
    ws = book[CRM.sheet_names[lang]]
    headers = [c.value for c in ws[1]]
    spend = headers.index(CRM.column("total_spend").header(lang))
    orders = headers.index(CRM.column("orders").header(lang))
    assert sum(r[orders] or 0 for r in ws.iter_rows(min_row=2, values_only=True)) == len(ids)
    assert any(r[spend] for r in ws.iter_rows(min_row=2, values_only=True))


def test_a_chinese_lists_entries_are_told_in_chinese(tmp_path, settings):
    """The Findings of an entry on 购买记录 are in the sheet's language, as the customers' are."""
    path = install_new(CRM, tmp_path / "zh.xlsx", "zh-CN", [
        {"customer_id": "C-000001", "name": "李娜", "phone": "+8613900139000"}])
    book = openpyxl.load_workbook(path)
    book["购买记录"].append([D(2026, 11, 12), None, "王五", "茶", 1, 10])
    book["购买记录"].append([D(2026, 11, 13), "C-000009", None, "茶", 1, "abc"])
    book.save(path)
    apply_workbook(path, settings)
    findings = column(path, "购买记录", "检查结果")
    assert all(f and not re.search(r"[A-Za-z]{4,}", f.replace("ID", "")) for f in findings), \
        findings


def test_a_column_the_tab_lacks_is_named_in_the_sheets_language(tmp_path, settings):
    """A Purchases tab without a Customer column: an entry with no ID is asked for the
    template's names of both columns, in the sheet's language (not '?')."""
    path = install_new(CRM, tmp_path / "zh.xlsx", "zh-CN", [
        {"customer_id": "C-000001", "name": "李娜", "phone": "+8613900139000"}])
    book = openpyxl.load_workbook(path)
    tab = book["购买记录"]
    tab.delete_cols(3)                                   # 客户 gone
    tab.append([D(2026, 11, 12), None, "茶", 1, 10])
    book.save(path)
    apply_workbook(path, settings)
    finding, = column(path, "购买记录", "检查结果")
    assert "客户编号" in finding and "客户" in finding.replace("客户编号", "") and "?" not in finding
