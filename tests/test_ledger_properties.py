"""Invariants of the roll-ups (hypothesis): for any purchases, the customer rows' Total spend,
Orders, First and Last purchase and Average order are a plain group-by over the entries tied to
each customer, and planning the result again changes nothing."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.customer_value import RfmScore, rfm_scores
from sheet_templates import builtin
from sync.header import layout_for
from sync.plan import RuleSettings, plan_table
from sync.table import SheetTable, SideTab
from tests.conftest import TODAY

CRM = builtin("crm")
HEADERS = [c.header("en") for c in CRM.columns]
PURCHASES = CRM.ledger("purchases")
P_HEADERS = [c.header("en") for c in PURCHASES.columns]
CUSTOMERS = 5


def table_with(purchases: list[tuple[int, dt.date, float]]) -> SheetTable:
    layout = layout_for(HEADERS, 1, CRM)
    rows = []
    for n in range(1, CUSTOMERS + 1):
        row = [None] * len(HEADERS)
        row[HEADERS.index("Customer ID")] = f"C-{n:06d}"
        row[HEADERS.index("Name")] = f"Person {chr(64 + n)}"
        row[HEADERS.index("Email")] = f"p{n}@example.com"
        rows.append(tuple(row))
    entries = []
    for k, (who, day, amount) in enumerate(purchases, start=2):
        row = [None] * len(P_HEADERS)
        row[P_HEADERS.index("Date")] = day
        row[P_HEADERS.index("Customer ID")] = f"C-{who:06d}"
        row[P_HEADERS.index("Amount")] = amount
        entries.append((k, tuple(row)))
    tab = SideTab("Purchases", tuple(P_HEADERS), tuple(entries))
    return SheetTable("mem", "Customers", layout, tuple(rows),
                      tuple(range(2, CUSTOMERS + 2)), ledgers={"purchases": tab})


def after(table: SheetTable, plan) -> SheetTable:
    return dataclasses.replace(table, rows=tuple(map(tuple, plan.values_after())))


purchase = st.tuples(st.integers(1, CUSTOMERS),
                     st.dates(dt.date(2020, 1, 1), TODAY),
                     st.decimals(0, 100_000, places=2).map(float))


@settings(max_examples=60, deadline=None)
@given(st.lists(purchase, max_size=40))
def test_roll_ups_are_a_group_by_over_the_entries(purchases):
    table = table_with(purchases)
    rules = RuleSettings(today=TODAY)
    plan = plan_table(table, rules)
    rows = plan.values_after()
    groups = defaultdict(list)
    for who, day, amount in purchases:
        groups[who].append((day, amount))
    col = {h: HEADERS.index(h) for h in HEADERS}
    for n in range(1, CUSTOMERS + 1):
        row = rows[n - 1]
        mine = groups.get(n)
        if not mine:
            assert row[col["Total spend"]] is None and row[col["Orders"]] is None
            continue
        total = sum(Decimal(str(a)) for _, a in mine)
        assert Decimal(str(row[col["Total spend"]])) == total
        assert row[col["Orders"]] == len(mine)
        assert row[col["First purchase"]] == min(d for d, _ in mine)
        assert row[col["Last purchase"]] == max(d for d, _ in mine)
        average = (total / len(mine)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(str(row[col["Average order"]])) == average
    # What the plan leaves is settled: planning it again changes no roll-up.
    again = plan_table(after(table, plan), rules)
    assert not [c for c in again.changes if c.rule == "rollup"]


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 30),
                          st.floats(0, 1e6, allow_nan=False)), min_size=1, max_size=50))
def test_rfm_scores_are_quintiles_that_order_as_the_figures_do(customers):
    scores = rfm_scores(customers)
    assert all(1 <= s.recency <= 5 and 1 <= s.frequency <= 5 and 1 <= s.monetary <= 5
               for s in scores)
    for (d1, o1, m1), s1 in zip(customers, scores):
        for (d2, o2, m2), s2 in zip(customers, scores):
            if d1 < d2:
                assert s1.recency >= s2.recency        # more recent never scores lower
            if o1 < o2:
                assert s1.frequency <= s2.frequency
            if m1 < m2:
                assert s1.monetary <= s2.monetary
    assert all(isinstance(s.segment, str) for s in scores)


def test_every_recency_and_frequency_score_has_a_segment():
    assert {RfmScore(r, f, 3).segment for r in range(1, 6) for f in range(1, 6)} == {
        "champions", "loyal", "cannot_lose", "at_risk", "hibernating", "about_to_sleep",
        "need_attention", "potential_loyalists", "new", "promising"}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4),
                          st.one_of(st.none(), st.decimals(-500, 5000, places=3).map(float)),
                          st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), TODAY))),
                max_size=30),
       st.sampled_from(["count", "recent", "first", "last", "sum", "average", "points"]))
def test_every_customer_at_once_is_each_customer_alone(entries, kind):
    """measure_all (numpy, what a cycle uses) says what measure says customer by customer,
    amounts in whole cents or not."""
    import numpy as np

    from rules.customer_value import PointsRule, measure, measure_all
    rule = PointsRule(per=50, points=3, expire_months=6)
    as_dates = kind in ("first", "last")
    owner = np.array([w for w, _, _ in entries], np.int64)
    used = [d if as_dates else a for _, a, d in entries]
    known = np.array([v is not None for v in used], bool)
    column = np.array([(v.toordinal() if as_dates else v) if v is not None else 0
                       for v in used], np.int64 if as_dates else float)
    days = np.array([d.toordinal() if d else 0 for _, _, d in entries], np.int64)
    at_once = measure_all(kind, owner, column, known, days, 5, TODAY, rule)
    for who in range(5):
        mine = [(u, d) for (w, _, d), u in zip(entries, used) if w == who]
        alone = measure(kind, [u for u, _ in mine], [d for _, d in mine], TODAY, rule) \
            if mine else None
        assert at_once[who] == alone, (who, mine)


def test_points_count_whole_multiples_as_a_person_does():
    """3.60 spent at 10 points per 1.20 is three wholes: 30 points (floats make it 2.999…)."""
    import numpy as np

    from rules.customer_value import PointsRule, measure, measure_all
    rule = PointsRule(per=1.2, points=10)
    assert measure("points", [3.6, 1.19], [TODAY, TODAY], TODAY, rule) == 30
    assert measure_all("points", np.array([0, 0]), np.array([3.6, 1.19]),
                       np.array([True, True]), np.array([TODAY.toordinal()] * 2), 1, TODAY,
                       rule) == [30]
