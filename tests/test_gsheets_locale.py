"""A Google Sheet whose locale writes formulas with ";" between arguments (de_DE, fr_FR, pt_BR…):
Google parses every formula sheetkeeper sends by the spreadsheet's locale, so install and
upgrade send theirs in the sheet's own form (#19 item 12). The emulator parses as Google does:
a comma between arguments in such a locale is a parse error."""
from __future__ import annotations

import pytest

from sheet_templates import builtin
from sync.gsheets.client import GoogleSheet
from sync.gsheets.formulas import argument_separator, canonical, in_locale
from sync.gsheets.install import install_into
from sync.gsheets.upgrade import upgrade_google

from .fakesheets import client
from .fakesheets import state as fake

CRM = builtin("crm")


def spreadsheet(server, locale: str):
    gc = client(server)
    sh = gc.create("Kunden")
    sh.batch_update({"requests": [{"updateSpreadsheetProperties": {
        "properties": {"locale": locale}, "fields": "locale"}}]})
    return gc, sh


@pytest.mark.parametrize("locale", sorted(fake.SEMICOLON_LOCALES) + ["en_US", "en_GB", "zh_CN",
                                                                    "ja_JP", "es_MX", "hi_IN"])
def test_the_separator_is_the_one_the_sheet_uses(locale):
    """Babel's reading (a comma for decimals: a semicolon between arguments) agrees with the
    locales people have reported from Google Sheets, which the emulator keeps."""
    assert argument_separator(locale) == (";" if locale in fake.SEMICOLON_LOCALES else ",")


def test_only_separators_outside_quotes_change():
    formula = "=COUNTIFS('Kunden, alt'!$A:$A,\">=\"&A1,$B:$B,\"a,b\")"
    assert in_locale(formula, ";") == "=COUNTIFS('Kunden, alt'!$A:$A;\">=\"&A1;$B:$B;\"a,b\")"
    assert canonical(in_locale(formula, ";"), ";") == formula
    assert in_locale(formula, ",") == formula


def test_the_emulator_refuses_a_comma_formula_in_a_semicolon_locale(server):
    _, sh = spreadsheet(server, "de_DE")
    rule = {"ranges": [{"sheetId": 0, "startRowIndex": 1}], "booleanRule": {
        "condition": {"type": "CUSTOM_FORMULA",
                      "values": [{"userEnteredValue": "=AND(A2>1,A2<3)"}]},
        "format": {"backgroundColor": {"red": 1}}}}
    with pytest.raises(Exception, match="400"):
        sh.batch_update({"requests": [{"addConditionalFormatRule": {"rule": rule}}]})
    rule["booleanRule"]["condition"]["values"] = [{"userEnteredValue": "=AND(A2>1;A2<3)"}]
    sh.batch_update({"requests": [{"addConditionalFormatRule": {"rule": rule}}]})


@pytest.mark.parametrize("locale", ["de_DE", "fr_FR", "en_US"])
def test_install_and_upgrade_in_the_sheets_own_form(server, locale):
    gc, sh = spreadsheet(server, locale)
    sheet = GoogleSheet.open(gc, sh.id)
    install_into(sheet, CRM, "en")                    # refused whole if a formula did not parse
    sep = argument_separator(locale)
    book = server.state.get(sh.id)
    rules = [r["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
             for r in book.sheet("Customers").conditional]
    assert any(sep in f for f in rules) and all(fake.parses(f, locale) for f in rules)
    board = book.sheet("Dashboard")
    formulas = [c for c in board.cells.values() if str(c.entered).startswith("=")]
    assert formulas and not [c for c in formulas if c.value == "#ERROR!"]
    assert board.cells[(3, 1)].entered == f"=COUNTIF('Customers'!$K:$K{sep}A4)"
    # Upgrade knows its own rules in the sheet's form: laid down again, not doubled.
    upgrade_google(sheet, CRM)
    upgrade_google(sheet, CRM)
    assert len(server.state.get(sh.id).sheet("Customers").conditional) == len(rules)
