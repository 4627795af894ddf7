import pytest

from rules.outcome import Normalised, Problem
from rules.phone import normalise_phone


@pytest.mark.parametrize("typed, region, expected", [
    ("138 0013 8000", "CN", "+8613800138000"),
    ("138-0013-8000", "CN", "+8613800138000"),
    ("+86 138 0013 8000", None, "+8613800138000"),
    ("１３８００１３８０００", "CN", "+8613800138000"),          # full-width digits
    (13800138000.0, "CN", "+8613800138000"),                  # stored as a number
    (13800138000, "CN", "+8613800138000"),
    ("1.3800138000E+10", "CN", "+8613800138000"),             # every digit still there
    ("020 7946 0958", "GB", "+442079460958"),
    (2079460958, "GB", "+442079460958"),                      # leading 0 gone, region certain
    (612345678.0, "IT", "+390612345678"),                     # Italy keeps its leading 0
    ("+1 (650) 253-0000 ext. 123", None, "+16502530000 ext. 123"),
    ("+1 650 253 0000 x123", None, "+16502530000 ext. 123"),
])
def test_phone_becomes_e164(typed, region, expected):
    outcome = normalise_phone(typed, region)
    assert isinstance(outcome, Normalised), outcome
    assert outcome.value == expected
    assert outcome.reason


@pytest.mark.parametrize("already", ["+8613800138000", "+16502530000 ext. 123"])
def test_e164_is_left_alone(already):
    assert normalise_phone(already, "CN") is None


@pytest.mark.parametrize("typed, region, words", [
    ("13800138000", None, "no country code"),
    ("123", "CN", "too few digits"),
    ("12345678901", "CN", "not a valid number for CN"),
    ("1.38001E+10", "CN", "dropped its last digits"),
    ("138 0013 8000 (mobile)", "CN", "more than a phone number"),
    ("13800138000 / 13900139000", "CN", "more than one number"),
    ("call reception", "CN", "more than a phone number"),
    ("😀📞", "CN", "more than a phone number"),
    ("x" * 30_000, "CN", "more than a phone number"),
    (12.5, "CN", "decimals"),
    (True, "CN", "not a phone number"),
])
def test_invalid_phone_is_left_as_typed_with_a_reason(typed, region, words):
    outcome = normalise_phone(typed, region)
    assert isinstance(outcome, Problem), outcome
    assert outcome.kind == "invalid_phone"
    assert words in outcome.message


@pytest.mark.parametrize("stored", [2015550117, 3215550121, 13123456789, 15123456789,
                                    8613800138000.0])
def test_a_number_cell_without_a_region_is_a_finding_not_a_guess(stored):
    """With no region, a US number stored as a number became Egyptian (+20...), a Chinese
    mobile a US number: about 11 % of sampled US numbers moved country (issue 24 #5)."""
    outcome = normalise_phone(stored, None)
    assert isinstance(outcome, Problem) and "--region" in outcome.message
    assert normalise_phone(str(int(stored)), None).kind == outcome.kind   # as typed as text


def test_a_number_cell_with_a_region_is_still_read():
    assert normalise_phone(13800138000, "CN").value == "+8613800138000"
    assert normalise_phone(2015550117, "US").value == "+12015550117"
