"""Phone numbers to E.164 (+8613800138000), with phonenumbers doing all the parsing.

The extra work here is recovering what spreadsheets do to phone numbers: a number stored as a
number (13800138000.0) has lost its "+" or its leading zero, and one shown in scientific notation
(1.38001E+10) may have lost digits for good. Anything that is not clearly one valid number is left
exactly as typed, with a problem that says why.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from i18n import _

from .outcome import Normalised, Outcome, Problem, shown
from .text import fold_fullwidth

# Characters a phone number may be written with; anything else ("mobile", a second number,
# a name) means the cell holds more than a number and must not be rewritten.
# Possessive runs (++) and a search that only starts where a run of digits does: a 30,000-character
# cell must not make the engine backtrack through every split of it (that took minutes).
_PHONE_CHARS = re.compile(
    r"\+?[\d\s().\-/\u2010-\u2015]++(\s*(ext\.?|extension|x|#|转|分机)\s*\d{1,7})?", re.IGNORECASE)
_SCIENTIFIC = re.compile(r"[+]?(\d)(?:\.(\d+))?[eE]\+?(\d{1,2})")
_TWO_NUMBERS = re.compile(r"(?<!\d)\d{6,}+\D{1,3}\+?\d{6}")

_POSSIBLE_REASONS = {
    ValidationResult.TOO_SHORT: _("has too few digits"),
    ValidationResult.TOO_LONG: _("has too many digits"),
    ValidationResult.INVALID_LENGTH: _("has a length no number there has"),
    ValidationResult.INVALID_COUNTRY_CODE: _("starts with a country code that does not exist"),
}


def _region_name(region: str | None) -> str:
    return region or _("any country")


def e164(number: phonenumbers.PhoneNumber) -> str:
    out = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return f"{out} ext. {number.extension}" if number.extension else out


@lru_cache(maxsize=262_144, typed=True)
def normalise_phone(value: object, region: str | None) -> Outcome:
    """`region` is the ISO country (CN, GB) assumed for numbers typed without a country code."""
    if isinstance(value, bool):
        return Problem("invalid_phone", _("{value} is not a phone number", value=shown(value)))
    if isinstance(value, (int, float)):
        return _from_number_cell(value, region)
    if not isinstance(value, str):
        return Problem("invalid_phone", _("{value} is not a phone number", value=shown(value)))
    text = fold_fullwidth(value).strip()
    sci = _SCIENTIFIC.fullmatch(text)
    if sci:
        return _from_scientific(value, text, sci, region)
    if _TWO_NUMBERS.search(text):
        return Problem("invalid_phone",
                       _("holds more than one number; keep one here and move the others to Notes"))
    if not _PHONE_CHARS.fullmatch(text):
        return Problem("invalid_phone",
                       _("holds more than a phone number; keep just the number here "
                         "and move the rest to Notes"))
    return _parse(value, text, region, from_number_cell=False)


def _from_number_cell(value: int | float, region: str | None) -> Outcome:
    if isinstance(value, float) and not value.is_integer():
        return Problem("invalid_phone",
                       _("{value} is a number with decimals, not a phone number",
                         value=shown(value)))
    if region is None:
        # Stored as a number, it lost its "+" or its leading 0, and without a region no
        # reading is certain: 2015550117 is as valid in Egypt (+20) as in the US, 13123456789
        # in China as in the US (+1). Read as a guess, numbers moved country.
        return Problem("invalid_phone",
                       _("is stored as a number, so its + or leading 0 is lost; type it as "
                         "+<country code> <number> (format the column as Text), or give "
                         "sheetkeeper a default region for such numbers (--region US)"))
    digits = str(int(value))
    return _parse(value, digits, region, from_number_cell=True)


def _from_scientific(value: str, text: str, sci: re.Match, region: str | None) -> Outcome:
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
        return Problem("invalid_phone", _("is not a phone number"))
    significant = 1 + len(sci.group(2) or "")
    digits = str(int(number))
    # "1.38001E+10" says nothing certain about the digits after the sixth: they may have been
    # rounded away. Only a mantissa that spells out every digit is a number we can trust.
    if significant < len(digits):
        return Problem("invalid_phone",
                       _("the spreadsheet turned this number into {text} and dropped its last "
                         "digits; format the column as Text and type the number again",
                         text=text))
    return _parse(value, digits, region, from_number_cell=True)


def _parse(value: object, text: str, region: str | None, from_number_cell: bool) -> Outcome:
    problem: Problem | None = None
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as e:
        number, problem = None, _parse_problem(e, region)
    if number is not None:
        if phonenumbers.is_valid_number(number):
            return _result(value, number,
                           _("written as E.164: +country code and digits, no spaces"))
        problem = _invalid_problem(number, region)
    if from_number_cell:
        # A number cell drops what made the text a phone number; restore it only when that
        # gives exactly one valid reading.
        for candidate, reason in (
            ("0" + text, _("restored the leading 0 the spreadsheet dropped, written as E.164")),
            ("+" + text, _("restored the + the spreadsheet dropped, written as E.164")),
        ):
            if candidate.startswith("0") and not region:
                continue
            try:
                recovered = phonenumbers.parse(candidate, region)
            except NumberParseException:
                continue
            if phonenumbers.is_valid_number(recovered):
                return _result(value, recovered, reason)
    return problem


def _result(value: object, number: phonenumbers.PhoneNumber, reason: str) -> Outcome:
    out = e164(number)
    return None if out == value else Normalised(out, reason)


def _parse_problem(e: NumberParseException, region: str | None) -> Problem:
    if e.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if region:
            return Problem("invalid_phone", _("starts with a country code that does not exist"))
        return Problem("invalid_phone",
                       _("has no country code; write it as +<country code> <number>, or give "
                         "sheetkeeper a default region for such numbers (--region GB)"))
    if e.error_type in (NumberParseException.TOO_SHORT_NSN,
                        NumberParseException.TOO_SHORT_AFTER_IDD):
        return Problem("invalid_phone", _("has too few digits to be a phone number"))
    if e.error_type == NumberParseException.TOO_LONG:
        return Problem("invalid_phone", _("has too many digits to be a phone number"))
    return Problem("invalid_phone", _("is not a phone number"))


def _invalid_problem(number: phonenumbers.PhoneNumber, region: str | None) -> Problem:
    where = phonenumbers.region_code_for_number(number) or region
    reason = phonenumbers.is_possible_number_with_reason(number)
    detail = _POSSIBLE_REASONS.get(reason, _("is not a number anyone can dial (no such range)"))
    return Problem("invalid_phone", _("not a valid number for {region}: it {detail}",
                                      region=_region_name(where), detail=detail))
