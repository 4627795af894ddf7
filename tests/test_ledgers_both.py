"""The ledger behaviours of #21 on both kinds of list, the same scenario each: a real workbook,
and a Google Sheet through the emulator and the real gspread client. Roll-ups, an entry tied by
phone, ambiguous and unknown customers, a tier by the team's rule, a churn warning, a birthday,
a merge that takes the purchases along and its undo, and a quiet cycle after."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rules.customer_value import TierRule, ValueRules
from sheet_templates import builtin
from sync.gsheets.target import GoogleTarget, as_date
from sync.plan import RuleSettings
from sync.undo import undo_batch
from sync.xlsx.install import install_new
from sync.xlsx.target import WorkbookTarget

from .fakesheets import installed_sheet

CRM = builtin("crm")
HEADERS = [c.header("en") for c in CRM.columns]
PURCHASE_HEADERS = [c.header("en") for c in CRM.ledger("purchases").columns]
TODAY = dt.date(2026, 11, 23)
D = dt.date
SETTINGS = RuleSettings(today=TODAY, phone_region="CN",
                        value=ValueRules(tiers=TierRule(vip_spend=1000)))


def customer(**values: Any) -> list:
    return [values.get(h) for h in HEADERS]


CUSTOMERS = [
    customer(**{"Customer ID": "C-000001", "Name": "Ann Lee", "Phone": "+8613800138000",
                "Member since": D(2025, 1, 10), "Tier": "Normal", "Birthday": D(1990, 11, 25)}),
    customer(**{"Customer ID": "C-000002", "Name": "Wang Fang", "Phone": "+8613900139000",
                "Member since": D(2025, 2, 1)}),
    customer(**{"Customer ID": "C-000003", "Name": "Wang Fang", "Phone": "+8613700137000",
                "Member since": D(2025, 3, 1)}),
    customer(**{"Customer ID": "C-000004", "Name": "Ann Lee", "Phone": "+8613800138000",
                "Member since": D(2025, 6, 1)}),                 # Ann again: a pair to merge
]
PURCHASES = [
    [D(2026, 8, 1) + dt.timedelta(days=7 * k), "C-000002", None, "Tea", 1, 30]
    for k in range(5)                                              # weekly, then nothing
] + [
    [D(2026, 11, 1), "C-000001", None, "Set", 1, 800],
    [D(2026, 11, 9), None, "138 0013 8000", "Cups", 1, "¥250"],  # by phone: but Ann is twice
    [D(2026, 11, 10), "C-000004", None, "Pot", 1, 120],
    [D(2026, 11, 11), None, "Wang Fang", "Tea", 1, 10],            # two of them
    [D(2026, 11, 12), None, "nobody@example.com", "Tea", 1, 10],   # none
]


class Workbook:
    def __init__(self, tmp: Path):
        self.path = install_new(CRM, tmp / "shop.xlsx", "en")
        book = openpyxl.load_workbook(self.path)
        for row in CUSTOMERS:
            book["Customers"].append(row)
        for row in PURCHASES:
            book["Purchases"].append(row)
        book.save(self.path)
        self.target = WorkbookTarget(self.path)

    def rows(self, tab: str) -> list[dict]:
        ws = openpyxl.load_workbook(self.path)[tab]
        headers = [c.value for c in ws[1]]
        return [dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)
                if any(v is not None for v in r)]

    def decide(self, pair: str, decision: str) -> None:
        book = openpyxl.load_workbook(self.path)
        for row in book["Review"].iter_rows(min_row=2):
            if row[0].value == pair:
                row[10].value = decision
        book.save(self.path)


class Sheet:
    def __init__(self, server, tmp: Path):
        def typed(v):
            return v.isoformat() if isinstance(v, dt.date) else ("" if v is None else v)
        self.server = server
        self.sheet = installed_sheet(server, [[typed(v) for v in r] for r in CUSTOMERS],
                                     raw=False)
        self.sheet.spreadsheet.worksheet("Purchases").update(
            [[typed(v) for v in r] for r in PURCHASES], "A2", raw=False)
        self.target = GoogleTarget(self.sheet)

    def rows(self, tab: str) -> list[dict]:
        grid = self.sheet.read([tab])[tab]
        headers = grid[0]
        out = []
        for line in grid[1:]:
            line = list(line) + [""] * (len(headers) - len(line))
            if any(v not in ("", None) for v in line):
                out.append({h: (None if v == "" else v) for h, v in zip(headers, line)})
        return out

    def decide(self, pair: str, decision: str) -> None:
        review = self.sheet.spreadsheet.worksheet("Review")
        for n, line in enumerate(review.get_all_values(), start=1):
            if line and line[0] == pair:
                review.update([[decision]], f"K{n}")


@pytest.fixture(params=["xlsx", "gsheet"])
def shop(request, tmp_path):
    if request.param == "xlsx":
        return Workbook(tmp_path)
    return Sheet(request.getfixturevalue("server"), tmp_path)


def cycle(shop, tmp_path: Path, settings: RuleSettings = SETTINGS):
    from sync.cycle import run_cycle
    return run_cycle(shop.target, settings, tmp_path / "data")


def day(value: Any) -> dt.date | None:
    value = as_date(value)
    return value.date() if isinstance(value, dt.datetime) else value


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["Customer ID"]: r for r in rows}


def test_the_same_roll_ups_findings_and_merge_on_both(shop, tmp_path):
    first = cycle(shop, tmp_path)
    assert first.batch is not None
    while cycle(shop, tmp_path).batch:          # the Review listing, on a Google Sheet a cycle
        pass                                    # of its own
    purchases = shop.rows("Purchases")
    # By phone: two customers have Ann's phone, so it is not guessed.
    assert purchases[6]["Customer ID"] is None and "could be C-000001, C-000004" in \
        purchases[6]["Findings"]
    assert "could be C-000002, C-000003" in purchases[8]["Findings"]
    assert "no customer matches" in purchases[9]["Findings"]
    customers = by_id(shop.rows("Customers"))
    ann, fang = customers["C-000001"], customers["C-000002"]
    assert ann["Total spend"] == 800 and ann["Orders"] == 1
    assert day(ann["Last purchase"]) == D(2026, 11, 1)
    assert ann["Points"] == 80 and ann["Status"] == "Active"
    assert "Tier: spend in the last 12 months is 800" not in (ann["Findings"] or "")
    assert "[Birthday] 11-25, in 2 days" in ann["Findings"]
    assert fang["Total spend"] == 150 and fang["Orders"] == 5
    assert "[At risk] no purchase for 86 days; usually one every 7 days" in fang["Findings"]
    assert "Prospect by your rule" not in (fang["Findings"] or "")      # no tier typed
    assert ann["Segment"] and ann["Segment"].endswith(")")

    # Merge Ann's two rows: her purchases go with the kept row, and undo puts them back.
    shop.decide("C-000001 + C-000004", "Merge")
    merged = cycle(shop, tmp_path)
    if not merged.merges:                        # a Google Sheet: the decision's own cycle
        merged = cycle(shop, tmp_path)
    batch = (merged.merges or (None,))[0]
    assert batch is not None
    for _ in range(3):
        cycle(shop, tmp_path)
    ids = [p["Customer ID"] for p in shop.rows("Purchases")]
    assert ids[7] == "C-000001"                                       # was C-000004's
    # …and the purchase by phone now names one customer: it is tied, and counted.
    assert ids[6] == "C-000001"
    assert by_id(shop.rows("Customers"))["C-000001"]["Total spend"] == 800 + 250 + 120
    undone = undo_batch(batch, tmp_path / "data", lambda key, tab: shop.target)
    assert undone.restored
    assert [p["Customer ID"] for p in shop.rows("Purchases")][7] == "C-000004"


def test_a_tier_the_team_opted_into_is_written_on_both(shop, tmp_path):
    opted = dataclasses.replace(SETTINGS, value=ValueRules(
        tiers=TierRule(vip_spend=700, write=True)))
    cycle(shop, tmp_path, opted)
    customers = by_id(shop.rows("Customers"))
    assert customers["C-000001"]["Tier"] == "VIP"
    assert customers["C-000003"]["Tier"] == "Prospect"
