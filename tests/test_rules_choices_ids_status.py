import datetime as dt

import pytest

from rules.choices import ChoiceMatcher, normalise_choice
from rules.ids import id_number, next_free, normalise_id
from rules.outcome import Normalised, Problem
from rules.status import StatusThresholds, classify_status
from sheet_templates import builtin

CRM = builtin("crm")


@pytest.mark.parametrize("lang, typed, expected", [
    ("en", "vip", "VIP"), ("en", " VIP客户 ", "VIP"), ("en", "Ｖｉｐ", "VIP"),
    ("en", "existing customer", "Existing"), ("en", "老客户", "Existing"),
    ("zh-CN", "Existing", "现有客户"), ("zh-CN", "意向客户", "潜在客户"),
])
def test_dropdown_aliases_in_both_languages(lang, typed, expected):
    key = "tier" if "vip" in typed.lower() or "Ｖ" in typed else "customer_type"
    matcher = ChoiceMatcher.for_list(CRM.lists[key], lang, key)
    outcome = normalise_choice(typed, matcher)
    assert isinstance(outcome, Normalised) and outcome.value == expected


def test_unknown_dropdown_value_stays_and_is_flagged():
    matcher = ChoiceMatcher.for_list(CRM.lists["tier"], "en", "tier")
    outcome = normalise_choice("Gold", matcher)
    assert isinstance(outcome, Problem) and "'Gold' is not one of VIP, Normal, Prospect" in \
        outcome.message
    assert normalise_choice("VIP", matcher) is None


def test_values_added_on_the_lists_tab_are_accepted():
    matcher = ChoiceMatcher.for_list(CRM.lists["tier"], "en", "tier", ["Gold"])
    assert normalise_choice("Gold", matcher) is None
    assert normalise_choice("gold", matcher).value == "Gold"


@pytest.mark.parametrize("typed, number", [("C-000012", 12), ("c12", 12), ("C 0012", 12),
                                           (12, 12), ("12", 12), (12.0, 12)])
def test_ids_recognised(typed, number):
    assert id_number(typed, CRM.id) == number


def test_id_format():
    assert normalise_id("c-12", CRM.id).value == "C-000012"
    assert normalise_id("C-000012", CRM.id) is None
    assert isinstance(normalise_id("ABC-77", CRM.id), Problem)
    assert next_free([3, 9, 4], issued_before=20) == 21
    assert next_free([3, 9, 4]) == 10


TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize("start, last, expected", [
    (TODAY - dt.timedelta(days=5), None, "new"),
    (TODAY - dt.timedelta(days=29), TODAY - dt.timedelta(days=1), "new"),
    (TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=10), "active"),
    (TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=59), "active"),
    (TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=60), "paused"),
    (TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=180), "churned"),
    (TODAY - dt.timedelta(days=400), None, "churned"),
    (None, TODAY - dt.timedelta(days=70), "paused"),
])
def test_status_thresholds(start, last, expected):
    assert classify_status(start, last, TODAY).key == expected


def test_status_needs_a_date_and_thresholds_are_configurable():
    assert classify_status(None, None, TODAY) is None
    quick = StatusThresholds(new_days=7, paused_days=14, churned_days=30)
    assert classify_status(None, TODAY - dt.timedelta(days=20), TODAY, quick).key == "paused"
    with pytest.raises(ValueError):
        StatusThresholds(new_days=1, paused_days=90, churned_days=60)
