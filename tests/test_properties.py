"""Invariants of the rules, over generated values: normalising twice equals normalising once;
a value that cannot be made right is never changed; the email fast path agrees with
email-validator."""
import datetime as dt

from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings, strategies as st

from rules.choices import ChoiceMatcher, normalise_choice
from rules.dates import normalise_date
from rules.email import normalise_email, plain_address
from rules.ids import id_number, normalise_id
from rules.money import normalise_money
from rules.outcome import Normalised
from rules.phone import normalise_phone
from rules.text import normalise_name, normalise_tags, normalise_text
from sheet_templates import builtin

CRM = builtin("crm")
REGIONS = st.sampled_from([None, "CN", "GB", "US", "DE", "IT"])
PHONEISH = st.one_of(
    st.text(alphabet="0123456789 +-().ext１２３", max_size=25),
    st.integers(min_value=0, max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.from_regex(r"\+?(86|44|1|49|39)?[ -]?1[3-9]\d[ -]?\d{4}[ -]?\d{4}", fullmatch=True),
)
CELL_TEXT = st.text(max_size=60)
DATEISH = st.one_of(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31)),
    st.integers(min_value=-10, max_value=30_000_000),
    st.from_regex(r"\d{1,4}[-/.年]\d{1,2}[-/.月]\d{1,4}日?", fullmatch=True),
    CELL_TEXT,
)
LOCAL = st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,70}", fullmatch=True)
DOMAIN = st.from_regex(r"([A-Za-z0-9-]{1,12}\.){1,3}[A-Za-z0-9]{1,6}", fullmatch=True)


def twice_is_once(rule, value):
    first = rule(value)
    if isinstance(first, Normalised):
        assert rule(first.value) is None, (value, first)


@given(PHONEISH, REGIONS)
def test_phone_idempotent(value, region):
    twice_is_once(lambda v: normalise_phone(v, region), value)


@given(st.one_of(CELL_TEXT, st.emails().map(lambda e: f"  {e.upper()} ")))
def test_email_idempotent(value):
    twice_is_once(normalise_email, value)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(LOCAL, DOMAIN)
def test_email_fast_path_agrees_with_email_validator(local, domain):
    address = f"{local}@{domain}"
    fast = plain_address(address)
    if fast is None:
        return  # the fast path declined; email-validator decides alone
    try:
        full = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as e:
        raise AssertionError(f"fast path accepted {address!r}, email-validator: {e}")
    assert fast == full


@given(st.one_of(CELL_TEXT, st.text(alphabet="abcdefgh ABCDEF'-,张伟李娜　", max_size=30)))
def test_name_idempotent(value):
    twice_is_once(normalise_name, value)


@given(CELL_TEXT)
def test_text_and_tags_idempotent(value):
    twice_is_once(normalise_text, value)
    twice_is_once(normalise_tags, value)


@given(DATEISH, st.sampled_from(["auto", "dmy", "mdy"]))
def test_date_idempotent(value, order):
    twice_is_once(lambda v: normalise_date(v, order), value)


@given(st.one_of(st.from_regex(r"[$¥]?\s?\d{1,3}([,.]\d{3})*([.,]\d{1,2})?(元|万)?", fullmatch=True),
                 CELL_TEXT, st.integers()))
def test_money_idempotent(value):
    twice_is_once(normalise_money, value)


@given(st.one_of(st.from_regex(r"[cC]?[- ]?0*\d{1,8}", fullmatch=True), CELL_TEXT))
def test_id_idempotent(value):
    twice_is_once(lambda v: normalise_id(v, CRM.id), value)


@given(st.sampled_from(["tier", "source", "customer_type", "status"]),
       st.sampled_from(["en", "zh-CN"]), CELL_TEXT)
def test_choice_idempotent(key, lang, value):
    matcher = ChoiceMatcher.for_list(CRM.lists[key], lang, key)
    twice_is_once(lambda v: normalise_choice(v, matcher), value)
    spellings = [s for c in CRM.lists[key].choices for s in (*c.labels.values(), *c.aliases)]
    for spelling in spellings:
        twice_is_once(lambda v: normalise_choice(v, matcher), spelling)


_ID = CRM.id


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.none(), st.integers(-5, 10**7), st.text(max_size=10),
                 st.builds(_ID.format, st.integers(0, 999_999)),
                 st.builds("C-{}".format, st.text(alphabet="0123456789١２", min_size=6,
                                                  max_size=6))))
def test_reading_an_id_at_a_glance_agrees_with_reading_it_the_long_way(value):
    """id_number's quick path for IDs written the template's way gives what its pattern
    gives: the same number, or none."""
    from rules.ids import _pattern
    got = id_number(value, _ID)
    if isinstance(value, str):
        m = _pattern(_ID.prefix).fullmatch(value)
        assert got == (int(m[1]) if m and int(m[1]) else None)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.none(), st.text(), st.integers(), st.booleans(),
                 st.floats(allow_nan=False, allow_infinity=False), st.dates()))
def test_a_cell_value_is_encoded_for_the_audit_log_as_json_would(value):
    from audit.log import decode_value, dump_values, encode_value
    assert encode_value(value) == dump_values(value)
    assert decode_value(encode_value(value)) == value


# Surrogates cannot be stored in SQLite text at all; everything else a cell can hold.
CHAIN_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.none(), CHAIN_TEXT, st.integers()), max_size=13))
def test_the_audit_chain_hashes_the_bytes_json_would(row):
    """Rows logged before the chain was encoded by orjson must still verify."""
    import hashlib
    import json
    from audit.log import _row_hash
    legacy = json.dumps(["prev", *row], ensure_ascii=False, separators=(",", ":"))
    assert _row_hash("prev", row) == hashlib.sha256(legacy.encode("utf-8")).hexdigest()


@given(st.lists(st.lists(st.sampled_from([None, None, "x", 0, ""]), min_size=5, max_size=5)
                .map(tuple), max_size=20),
       st.sets(st.integers(0, 4), max_size=4))
def test_a_row_is_live_when_a_column_not_sheetkeepers_own_holds_a_value(rows, own):
    from sync.plan import _live
    assert _live(rows, own) == [i for i, row in enumerate(rows)
                                if any(v is not None for j, v in enumerate(row) if j not in own)]


@given(st.lists(st.one_of(
    st.none(), st.just(""), st.integers(-3, 10**7), st.floats(allow_nan=False),
    st.from_regex(r"[cC]?[- ]?[0-9０-９²]{0,8}", fullmatch=True),
    st.integers(0, 10**7).map(lambda n: f"C-{n:06d}"),
    st.text(alphabet="0123456789０１²", min_size=6, max_size=6).map(lambda d: "C-" + d)),
    max_size=12))
def test_a_rows_id_is_its_number_written_the_templates_way(values):
    from sync.table import Layout, SheetTable
    template = builtin("crm")
    fmt = template.id
    layout = Layout(template, "en", 1, ("Customer ID", "Name"), 0, {fmt.column: 0})
    table = SheetTable("t.xlsx", "Customers", layout, tuple((v, "x") for v in values),
                       tuple(range(2, 2 + len(values))))
    numbers = [id_number(v, fmt) for v in values]
    assert table.row_ids == (
        tuple(fmt.format(n) if n is not None else None if v in (None, "") else str(v)
              for v, n in zip(values, numbers)), tuple(numbers))


@given(st.one_of(st.text(), st.text(alphabet="ab ０Ａ　\u200b\u3000.")))
def test_full_width_folding_skips_ascii_text_without_changing_what_it_gives(text):
    from rules.text import _FULLWIDTH, _INVISIBLE, fold_fullwidth
    assert fold_fullwidth(text) == text.translate(_FULLWIDTH).translate(_INVISIBLE)
