"""The service remembers each row's verdict (what it lacks, its status) by the row's values, and
judges only rows whose values changed. That must never show: a plan made with remembered
verdicts equals a plan made afresh, whatever the edits in between."""
import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from rules.status import StatusThresholds
from sheet_templates import builtin
from sync import row_rules
from sync.header import layout_for
from sync.plan import RuleSettings, plan_table
from sync.table import SheetTable

CRM = builtin("crm")
HEADERS = [c.header("en") for c in CRM.columns]
KEYS = [c.key for c in CRM.columns]
TODAY = dt.date(2026, 12, 2)

# Values of the kinds that decide a row's verdict: blanks (required, reach), dates near the
# status thresholds, list values right and wrong, formulas left alone.
DATES = st.one_of(st.none(), st.integers(0, 400).map(lambda d: TODAY - dt.timedelta(days=d)),
                  st.sampled_from(["not a date", "2026-13-40"]))
BY_KEY = {
    "status": st.sampled_from([None, "Active", "active", "Paused", "Gold", "Churned"]),
    "name": st.sampled_from([None, "Ann Lee", "ann lee", "Bob", ""]),
    "phone": st.sampled_from([None, "+442079460958", "020 7946 0958", "12"]),
    "email": st.sampled_from([None, "ann@example.com", "ANN@EXAMPLE.COM", "nope"]),
}


@st.composite
def row(draw):
    values = []
    for key, column in zip(KEYS, CRM.columns):
        if key in BY_KEY:
            values.append(draw(BY_KEY[key]))
        elif column.type == "date":
            values.append(draw(DATES))
        elif column.type == "id":
            values.append(draw(st.sampled_from([None, "C-000001", "C-000002", "x"])))
        else:
            values.append(draw(st.sampled_from([None, "a", "VIP"])))
    return tuple(values)


def table_of(rows, formulas=frozenset()) -> SheetTable:
    layout = layout_for(HEADERS, 1, CRM)
    return SheetTable("book.xlsx", "Customers", layout, tuple(rows),
                      tuple(range(2, 2 + len(rows))), formulas=formulas)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row(), min_size=1, max_size=12), st.data(),
       st.sampled_from([StatusThresholds(), StatusThresholds(10, 20, 40)]))
def test_a_plan_with_remembered_verdicts_is_the_plan_made_afresh(rows, data, thresholds):
    rules = RuleSettings(today=TODAY, phone_region="GB", thresholds=thresholds)
    row_rules.forget()
    plan_table(table_of(rows), rules)                  # remembers every row's verdict
    # Edits: rows changed, added, removed; a formula put in a cell; maybe another day.
    edited = list(rows)
    for _ in range(data.draw(st.integers(0, 4))):
        what = data.draw(st.sampled_from(["change", "add", "remove"]))
        if what == "add" or not edited:
            edited.insert(data.draw(st.integers(0, len(edited))), data.draw(row()))
        elif what == "remove":
            edited.pop(data.draw(st.integers(0, len(edited) - 1)))
        else:
            edited[data.draw(st.integers(0, len(edited) - 1))] = data.draw(row())
    formulas = frozenset(data.draw(st.sets(st.tuples(
        st.integers(2, 2 + len(edited)), st.integers(0, len(KEYS) - 1)), max_size=2)))
    later = RuleSettings(today=TODAY + dt.timedelta(days=data.draw(st.sampled_from([0, 0, 45]))),
                         phone_region="GB", thresholds=thresholds)
    table = table_of(edited, formulas)
    remembered = plan_table(table, later)
    row_rules.forget()
    afresh = plan_table(table, later)
    assert remembered == afresh


def test_a_row_judged_again_is_found_by_its_values_not_judged_anew():
    """What makes the service fast: only a row whose values changed is judged again."""
    rows = [row_values(name="Ann Lee", email="ann@example.com"),
            row_values(name="Bob Ray", email="bob@example.com")]
    row_rules.forget()
    first = row_rules.judge_rows(table_of(rows), [0, 1], rows, set(), TODAY, StatusThresholds())
    rows[1] = row_values(name="Bob Ray", email="bob@example.com", last_contact=TODAY)
    again = row_rules.judge_rows(table_of(rows), [0, 1], rows, set(), TODAY, StatusThresholds())
    later = row_rules.judge_rows(table_of(rows), [0, 1], rows, set(),
                                 TODAY + dt.timedelta(days=1), StatusThresholds())
    assert (first.judged, again.judged, later.judged) == ([0, 1], [1], [0, 1])
    assert again.status_changes == [(1, "Active", "status", "last contact 0 days ago")]


def row_values(**values):
    return tuple(values.get(k) for k in KEYS)
