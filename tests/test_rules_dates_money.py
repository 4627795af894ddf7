import datetime as dt

import pytest

from rules.dates import normalise_date
from rules.money import normalise_money
from rules.outcome import Normalised, Problem

D = dt.date(2024, 3, 5)


@pytest.mark.parametrize("typed, order", [
    ("2024-03-05", "auto"), ("2024/3/5", "auto"), ("2024.3.5", "auto"), ("5.3.2024", "auto"),
    ("2024年3月5日", "auto"), ("２０２４年３月５日", "auto"), ("5 Mar 2024", "auto"),
    ("March 5, 2024", "auto"), ("20240305", "auto"), (20240305, "auto"), (45356, "auto"),
    (45356.0, "auto"), ("05/03/2024", "dmy"), ("03/05/2024", "mdy"), ("5/3/24", "dmy"),
    (dt.datetime(2024, 3, 5), "auto"),
])
def test_dates(typed, order):
    outcome = normalise_date(typed, order)
    assert isinstance(outcome, Normalised), outcome
    assert outcome.value == D


def test_unambiguous_slash_date_needs_no_order():
    assert normalise_date("25/12/2024", "auto").value == dt.date(2024, 12, 25)
    assert normalise_date("12/25/2024", "auto").value == dt.date(2024, 12, 25)


def test_ambiguous_date_is_left_with_both_readings():
    outcome = normalise_date("03/05/2024", "auto")
    assert isinstance(outcome, Problem) and outcome.kind == "ambiguous_date"
    assert "3 May 2024" in outcome.message and "5 March 2024" in outcome.message


@pytest.mark.parametrize("typed, words", [
    ("2024-02-30", "no day 30 in February"), ("31.04.2024", "no day 31 in April"),
    ("2024-13-01", "no month 13"), ("tomorrow", "not a date"), ("1800-01-01", "out of range"),
    ("0/1/00", "neither reading"),               # found by hypothesis: no reading is a date
])
def test_impossible_dates(typed, words):
    outcome = normalise_date(typed, "auto")
    assert isinstance(outcome, Problem) and words in outcome.message


def test_real_dates_and_times_of_day_are_kept():
    assert normalise_date(D, "auto") is None
    assert normalise_date(dt.datetime(2024, 3, 5, 14, 30), "auto") is None


@pytest.mark.parametrize("typed, expected", [
    ("$12,480.00", 12480), ("¥8,800", 8800), ("1.234,50", 1234.5), ("1,234.5", 1234.5),
    ("12,5", 12.5), ("RMB 300", 300), ("300元", 300), ("1.5万", 15000), ("(120)", -120),
    ("１２０", 120),
])
def test_money(typed, expected):
    outcome = normalise_money(typed)
    assert isinstance(outcome, Normalised) and outcome.value == expected


def test_money_problems_and_numbers():
    assert isinstance(normalise_money("about fifty"), Problem)
    assert isinstance(normalise_money("1.234.5"), Problem)
    assert normalise_money(99.5) is None


def test_a_cached_rule_tells_true_from_one():
    """TRUE judged after a 1 in a date column became 1899-12-31: the rule's cache took True
    for 1 (equal and hashing alike). Cached by type as well as value (issue 24 #7)."""
    from rules.dates import normalise_date
    from rules.money import normalise_money
    for rule in (normalise_date, normalise_money):
        rule.cache_clear()
        alone = rule(True)
        rule.cache_clear()
        rule(1)
        rule(1.0)
        assert rule(True) == alone


def test_a_bare_year_or_a_small_number_is_a_finding_not_a_date():
    """1985 in Birthday became 1905-06-07 and 45 became 1900-02-13, unflagged (issue 24 #6)."""
    from rules.dates import normalise_date
    from rules.outcome import Problem
    for number in (1985, 1985.0, 2026, 45, 1, 3652):
        outcome = normalise_date(number)
        assert isinstance(outcome, Problem), number
    assert "year" in normalise_date(1985).message
    assert normalise_date(45658).value == dt.date(2025, 1, 1)     # a real serial still is one
