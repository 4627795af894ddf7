"""The labelled lists the duplicate benchmark scores against (benchmarks/people.py): the truth must
be what the benchmark says it is, or every figure it prints is wrong. Seeded lists, every slip
made, look-alikes that really look alike and are really two people, and as many true pairs as
the groups imply. The values are ones sheetkeeper reads (checked through the planner), so the
benchmark measures the duplicate finder and not the parsing of phones and dates."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import cache
from math import comb

import pytest

from benchmarks.dedupe import planned, sheet_of
from benchmarks.people import HARD_NEGATIVES, LANGS, roster
from benchmarks.slips import SLIP_NAMES

SIZE = 1500


@cache
def people(lang: str):
    return roster(SIZE, lang, seed=3)


@cache
def cleaned(lang: str):
    """The rows as sheetkeeper's cell rules leave them, by column key."""
    plan, _ = planned(sheet_of(people(lang)), lang)
    layout = plan.table.layout
    rows = plan.values_after()
    return plan, [{k: row[j] for k, j in layout.columns.items()} for row in rows]


def plain(value) -> str:
    """A value without the noise every row gets (case, doubled or trailing spaces)."""
    text = " ".join(str(value).casefold().split())
    return text.replace(" ", "") if any("\u3400" <= c <= "\u9fff" for c in text) else text


@pytest.mark.parametrize("lang", LANGS)
def test_the_same_seed_gives_the_same_list_and_another_seed_another(lang):
    assert roster(300, lang, seed=9) == roster(300, lang, seed=9)
    assert roster(300, lang, seed=9).rows != roster(300, lang, seed=10).rows


@pytest.mark.parametrize("n", [1, 2, 57, 1000])
def test_a_list_has_the_rows_asked_for_with_customer_ids_left_empty(n):
    made = roster(n, "en")
    assert len(made.rows) == len(made.entity) == len(made.slips) == n
    assert all(row["customer_id"] is None for row in made.rows)


def test_every_slip_is_made_and_every_look_alike_too():
    slips = Counter(s for lang in LANGS for made in people(lang).slips for s in made)
    assert set(slips) == set(SLIP_NAMES)
    for lang in LANGS:
        kinds = Counter(kind for _, _, kind in people(lang).hard_negatives)
        assert set(kinds) == set(HARD_NEGATIVES), lang
    # The slips each language's names allow, in that language's list.
    assert {"hanzi_pinyin", "name_typo", "name_transposition"} <= {
        s for made in people("zh-CN").slips for s in made}
    assert {"nickname", "initials", "name_swap", "email_alias"} <= {
        s for made in people("en").slips for s in made}


@pytest.mark.parametrize("lang", LANGS)
def test_a_slip_changes_what_it_names(lang):
    made = people(lang)
    first = {e: i for i, (e, s) in enumerate(zip(made.entity, made.slips)) if not s}
    field = {"name_typo": "name", "name_transposition": "name", "nickname": "name",
             "initials": "name", "name_swap": "name", "hanzi_pinyin": "name",
             "phone_format": "phone", "phone_country_code": "phone", "email_alias": "email",
             "company_suffix": "company", "address_abbreviation": "address",
             "address_order": "address", "birthday_swap": "birthday",
             "birthday_digit": "birthday", "birthday_format": "birthday"}
    for i, (e, slips) in enumerate(zip(made.entity, made.slips)):
        if len(slips) != 1 or e not in first:
            continue
        (slip,) = slips
        row, was = made.rows[i], made.rows[first[e]]
        if slip == "missing_fields":
            assert any(row[k] is None and was[k] is not None
                       for k in ("email", "phone", "birthday", "address", "company"))
        elif slip == "address_spacing":
            assert row["address"].strip() != was["address"].strip()
        elif slip in ("phone_format", "birthday_format"):
            assert row[field[slip]] != was[field[slip]]
        elif slip in field:
            assert plain(row[field[slip]]) != plain(was[field[slip]]), (slip, row, was)


@pytest.mark.parametrize("lang", LANGS)
def test_what_a_format_slip_changes_reads_as_the_same_value(lang):
    made = people(lang)
    _, values = cleaned(lang)
    first = {e: i for i, (e, s) in enumerate(zip(made.entity, made.slips)) if not s}
    checked = Counter()
    for i, (e, slips) in enumerate(zip(made.entity, made.slips)):
        for slip, key in (("phone_format", "phone"), ("phone_country_code", "phone"),
                          ("birthday_format", "birthday")):
            if slips == (slip,) and e in first:
                assert values[i][key] == values[first[e]][key]
                checked[slip] += 1
    assert len(checked) == 3


@pytest.mark.parametrize("lang", LANGS)
def test_every_value_written_is_one_sheetkeeper_reads(lang):
    plan, _ = cleaned(lang)
    unread = [f for f in plan.findings if f.kind.startswith("invalid_")]
    assert unread == []


@pytest.mark.parametrize("lang", LANGS)
def test_look_alikes_are_two_people_who_share_what_their_kind_says(lang):
    made = people(lang)
    _, values = cleaned(lang)
    for a, b, kind in made.hard_negatives:
        assert made.entity[a] != made.entity[b]
        assert made.slips[a] == made.slips[b] == ()
        x, y = values[a], values[b]
        if kind == "household_phone":
            assert x["phone"] == y["phone"] and x["address"] == y["address"]
            assert plain(x["name"]) != plain(y["name"])
        elif kind == "shared_address":
            assert x["address"] == y["address"] and plain(x["name"]) != plain(y["name"])
        elif kind == "family_email":
            assert plain(x["email"]) == plain(y["email"]) and plain(x["name"]) != plain(y["name"])
        elif kind == "common_name":
            assert plain(x["name"]) == plain(y["name"])
            assert isinstance(x["birthday"], dt.date) and x["birthday"] != y["birthday"]
        else:
            assert kind == "parent_child"
            assert plain(x["name"]) == plain(y["name"]) and x["address"] == y["address"]
            assert abs((x["birthday"] - y["birthday"]).days) > 20 * 365


@pytest.mark.parametrize("lang", LANGS)
def test_the_true_pairs_are_the_pairs_the_groups_imply(lang):
    made = people(lang)
    sizes = Counter(made.entity)
    pairs = made.true_pairs()
    assert len(pairs) == sum(comb(k, 2) for k in sizes.values())
    assert all(i < j and made.entity[i] == made.entity[j] for i, j in pairs)
    # About 12% of people entered two to four times; each group has one first entry.
    duplicated = sum(1 for k in sizes.values() if k > 1)
    assert 0.08 < duplicated / len(sizes) < 0.16
    assert max(sizes.values()) <= 4
    assert Counter(made.entity[i] for i, s in enumerate(made.slips) if not s) == Counter(
        dict.fromkeys(sizes, 1))
