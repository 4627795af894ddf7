import pytest

from rules.email import normalise_email
from rules.outcome import Normalised, Problem
from rules.text import normalise_name, normalise_tags, normalise_text


@pytest.mark.parametrize("typed, expected", [
    ("  Someone@Example.COM ", "Someone@example.com"),       # local part keeps its case
    ("ＺＨＡＮＧ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ZHANG@example.com"),
    ("mailto:ann@Example.org", "ann@example.org"),
    ("josé@Example.COM", "josé@example.com"),
])
def test_email_normalised(typed, expected):
    outcome = normalise_email(typed)
    assert isinstance(outcome, Normalised)
    assert outcome.value == expected


@pytest.mark.parametrize("typed", ["ann@example", "ann@@example.com", "ann example.com",
                                   "0@00--0.aa",   # found by hypothesis: reserved for xn--
                                   "a..b@example.com", "ann@localhost", 12345,
                                   "a@b.com; c@d.com"])
def test_invalid_email_flagged(typed):
    outcome = normalise_email(typed)
    assert isinstance(outcome, Problem)
    assert outcome.kind == "invalid_email"


def test_valid_email_untouched():
    assert normalise_email("ann.lee+crm@example.co.uk") is None


@pytest.mark.parametrize("typed, expected", [
    ("JOHN MCDONALD", "John McDonald"),
    ("mary o'brien", "Mary O'Brien"),
    ("ludwig van beethoven", "Ludwig van Beethoven"),
    ("ANNE-MARIE DE LA CRUZ", "Anne-Marie de la Cruz"),
    ("smith, john", "Smith, John"),                  # order and comma as typed
    ("  Priya   Natarajan ", "Priya Natarajan"),
    ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),
    ("张 伟", "张伟"),
    ("ROBERT MACDONALD", "Robert MacDonald"),
    ("macy smith", "Macy Smith"),                  # Mac only for Mac names
    ("john smith iii", "John Smith III"),
    ("J. R. R. TOLKIEN", "J. R. R. Tolkien"),
    ("d'angelo rossi", "D'Angelo Rossi"),
    ("VAN DER BERG", "Van der Berg"),              # a particle that starts the name is capital
])
def test_names(typed, expected):
    outcome = normalise_name(typed)
    assert isinstance(outcome, Normalised)
    assert outcome.value == expected


@pytest.mark.parametrize("kept", ["John McDonald", "DeShawn Smith", "eBay Li", "张伟",
                                  "Zhang WEI", "محمد علي", "Ωmega Ltd", "Anna 😀"])
def test_mixed_case_cjk_rtl_emoji_names_kept(kept):
    assert normalise_name(kept) is None


def test_huge_name_is_a_problem_not_a_crash():
    outcome = normalise_name("a" * 30_000)
    assert isinstance(outcome, Problem) and "too long" in outcome.message


def test_text_keeps_line_breaks_of_an_address():
    outcome = normalise_text("  12  Main St\n\n  Springfield ")
    assert outcome.value == "12 Main St\nSpringfield"


def test_tags():
    assert normalise_tags("vip;  gym ,VIP， yoga").value == "vip, gym, yoga"
    assert normalise_tags("vip, gym") is None


def test_an_address_keeps_its_local_part_and_its_domains_script():
    """email-validator's normalized form turned xn-- domains into Unicode and NFC-normalised
    the local part, which the README says is never changed (issue 24)."""
    from rules.email import normalise_email
    assert normalise_email("ann@xn--bcher-kva.example") is None         # stays ASCII
    assert normalise_email("Ann@XN--BCHER-KVA.example").value == "Ann@xn--bcher-kva.example"
    decomposed = "Jose\u0301@example.com"                               # é as e + accent
    outcome = normalise_email(decomposed)
    assert outcome is None or outcome.value.startswith("Jose\u0301@")
