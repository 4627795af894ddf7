"""The duplicate finder: each way people make a duplicate is found, each look-alike that is two
people is not, certain pairs are only those a person would merge without looking, and the
score behaves as evidence should (symmetric, more agreement never lowers it, row order does
not matter)."""
import random

import pytest
from hypothesis import given, settings, strategies as st

from rules.duplicates import IdentityRecord, find_duplicates, name_similarity

LABELS = {"email": "Email", "phone": "Phone", "birthday": "Birthday", "address": "Address",
          "company": "Company", "customer_id": "Customer ID"}
KINDS = {"email": "email", "phone": "phone", "birthday": "date", "address": "text",
         "company": "text", "customer_id": "id"}


def person(i, name, **fields):
    """A row as the planner hands it over: email and phone are identity fields (certain when
    shared), phone, birthday, address and company support a similar name."""
    certain = {k: fields[k] for k in ("email", "phone", "customer_id") if k in fields}
    supporting = {k: fields[k] for k in ("phone", "birthday", "address", "company") if k in fields}
    return IdentityRecord(index=i, name=name, certain=certain, supporting=supporting)


def strangers(n, seed=1):
    """A list of unrelated people around the pair under test, so term frequencies and the
    prior are a real list's."""
    rng = random.Random(seed)
    first = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Zoe", "Omar"]
    last = ["Garcia", "Brown", "Kowalski", "Nakamura", "Dubois", "Rossi", "Murphy", "Singh"]
    return [person(100 + k, f"{rng.choice(first)} {rng.choice(last)}{k}",
                   email=f"p{k}@mail{k % 7}.com", phone=f"+4420794{k:05d}",
                   birthday=f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(9)}",
                   address=f"{k} Mill Lane, Leeds")
            for k in range(n)]


def pairs_of(records):
    found = find_duplicates(records + strangers(300), labels=LABELS)
    return {(p.a, p.b): p for p in found if p.a < 100 and p.b < 100}


def one_pair(a, b):
    found = pairs_of([a, b])
    assert list(found) == [(0, 1)], f"not found: {a.name!r} / {b.name!r}"
    return found[(0, 1)]


# -- duplicates as people make them ----------------------------------------------------------

@pytest.mark.parametrize("a, b, why", [
    (person(0, "John McDonald", birthday="1980-04-02"),
     person(1, "Jon McDonald", birthday="1980-04-02"), "names 98% alike"),
    (person(0, "Wei Zhang", address="12 High Street, Leeds"),
     person(1, "Zhang Wei", address="12 High St Leeds"), "names swapped"),
    (person(0, "张伟", phone="+8613800138000"), person(1, "Zhang Wei", phone="+8613800138000"),
     "the same name in pinyin"),
    (person(0, "Robert Stone", email="rob@acme.com"), person(1, "Bob Stone", email="rob@acme.com"),
     "a nickname for the given name"),
    (person(0, "Elizabeth Morris", phone="+447945833114"),
     person(1, "LIBBY MORRIS", phone="+447945833114"), "a nickname for the given name"),
    (person(0, "Anna Lee", birthday="1990-05-06"), person(1, "A. Lee", birthday="1990-05-06"),
     "an initial for the given name"),
    (person(0, "Anna Lee", birthday="1990-05-06", address="3 Elm Road"),
     person(1, "Lee", birthday="1990-05-06", address="3 Elm Rd"), "one name is part of the other"),
    (person(0, "Chen Jing", birthday="1985-03-12", address="5 Park Avenue, York"),
     person(1, "Chen Jing", birthday="1985-12-03", address="Park Ave 5 York"),
     "Birthday one typo apart"),
    (person(0, "Maria Rossi", email="maria.rossi@gmail.com"),
     person(1, "Maria Rossi", email="mariarossi+shop@gmail.com"), "same mailbox in Email"),
    (person(0, "Li Na", phone="13900139000"), person(1, "Li  Na", phone="+86 139 0013 9000"),
     "same Phone"),
    (person(0, "李民菁", phone="+8618652972639"), person(1, "李民婧", phone="+8618652972639"),
     "names that sound the same"),                  # an input-method slip: one sound, two hanzi
    (person(0, "彭莉维", birthday="1959-10-12", address="广州市天河区望京路1131号"),
     person(1, "彭维莉", birthday="1959-10-12", address="广州市天河区望京路1131号"),
     "same Birthday"),                            # the given name's characters swapped
    (person(0, "Michael Willaims", address="173 Devonshire Drive, EdinburghEH1 6 5RS"),
     person(1, "Michael Williams", address="173 Devonshire Drive, Edinburgh EH16 5RS"),
     "same Address"),                             # a space in the wrong place
    (person(0, "Tom Green", company="Acme Ltd", address="9 Quay St, Hull"),
     person(1, "Tom Green", company="ACME Limited", address="9 Quay Street Hull"),
     "same Company"),
])
def test_each_way_people_make_a_duplicate_is_found_and_said(a, b, why):
    pair = one_pair(a, b)
    assert why in pair.reason
    assert 0.5 <= pair.score <= 1.0


def test_a_pair_whose_names_differ_is_still_found_when_birthday_and_address_agree():
    pair = one_pair(person(0, "Kate Winslow", birthday="1975-10-05", address="1 Bay Rd, Cork"),
                    person(1, "Catherine Hale", birthday="1975-10-05",
                           address="1 Bay Road Cork"))
    assert pair.kind == "possible" and "different names" in pair.reason


# -- two people who look alike ------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    # a household's phone, a family's email
    (person(0, "Ann Lee", phone="+442079460958"), person(1, "Tom Lee", phone="+442079460958")),
    (person(0, "Ann Lee", email="lees@home.com"), person(1, "Bob Stone", email="lees@home.com")),
    # the same address, other people
    (person(0, "Alice Wong", address="4 Kings Rd"), person(1, "Bob Stone", address="4 Kings Rd")),
    # a very common name, different birthdays
    (person(0, "张伟", birthday="1988-02-14"), person(1, "张伟", birthday="1971-09-30")),
    (person(0, "John Smith", birthday="1988-02-14"), person(1, "John Smith", birthday="1960-07-01")),
    # parent and child of one name, at one address and phone
    (person(0, "David Jones", birthday="1958-03-01", address="7 Oak Lane", phone="+441632960001"),
     person(1, "David Jones", birthday="1989-11-23", address="7 Oak Lane",
            phone="+441632960001")),
    # one family: a long family name makes the whole names look alike
    (person(0, "Linda Brownwell", phone="01613634482", address="41 Clarence Close, M14 7WR"),
     person(1, "David Brownwell", phone="01613634482", address="41 Clarence Close, M14 7WR")),
    # two people whose hanzi names sound alike (张伟 / 张卫), with nothing else in common
    (person(0, "张伟", address="杭州市西湖区"), person(1, "张卫", address="成都市青羊区")),
    # a family email, names one inside the other in pinyin only (赵维 is not in 赵芳伟)
    (person(0, "赵芳伟", email="zhaojia@163.com"), person(1, "赵维", email="zhaojia@163.com")),
    # two full names the nickname list relates (both forms of Susannah), one family's email
    (person(0, "Hannah Wright", email="thewrights@gmail.com"),
     person(1, "Susan Wright", email="thewrights@gmail.com")),
    # a family's email, and a name that only repeats the family name
    (person(0, "Thomas, Catherine", email="thethomass@icloud.com"),
     person(1, "Thomas Thomas", email="thethomass@icloud.com")),
    # siblings: one hanzi name within the other is two people
    (person(0, "任波伟", email="renfamily@qq.com", address="北京市东城区凤凰大道443号"),
     person(1, "任伟", email="renfamily@qq.com", address="北京市东城区凤凰大道443号")),
    # similar names alone are not enough
    (person(0, "John McDonald", company="A"), person(1, "Jon McDonald", company="B")),
])
def test_people_who_only_look_alike_are_not_paired(a, b):
    assert pairs_of([a, b]) == {}


# -- certain: only what a person would merge without looking ------------------------------

def test_certain_needs_a_shared_identity_value_and_one_persons_names():
    found = pairs_of([
        person(0, "Ann Lee", email="ann@x.com", phone="+8613800138000"),
        person(1, "Annie Lee", email="ANN@x.com"),
        person(2, "Ann  LEE", phone="+8613800138000"),
        person(3, "", phone="+8613800138000"),            # no name to tell them apart
        person(4, "Ann Lee", birthday="1990-01-01"),      # no identity value shared
    ])
    assert {k for k, p in found.items() if p.kind == "certain"} == {(0, 1), (0, 2), (0, 3)}
    assert found[(0, 1)].reason.startswith("same Email")


def test_a_row_without_a_name_never_joins_two_people_into_one():
    """Ann and Tom share the household phone with an entry that has no name: which of them it
    is cannot be told, so neither pair is certain, and Ann and Tom stay two people."""
    found = pairs_of([person(0, "Ann Lee", phone="+442079460958"),
                      person(1, "Tom Lee", phone="+442079460958"),
                      person(2, "", phone="+442079460958")])
    assert all(p.kind == "possible" for p in found.values())
    assert (0, 1) not in found


def test_a_group_pairs_every_row_with_the_first():
    found = pairs_of([person(i, "Pat Kim", email="pat@x.com") for i in range(5)])
    assert sorted(found) == [(0, 1), (0, 2), (0, 3), (0, 4)]
    assert all(p.kind == "certain" for p in found.values())


def test_a_chain_of_certain_pairs_is_one_group_paired_with_its_first_row():
    found = pairs_of([person(0, "Ann Lee", email="ann@x.com"),
                      person(1, "Ann Lee", email="ann@x.com", phone="+447700900123"),
                      person(2, "Ann Lee", phone="+447700900123")])
    assert sorted(found) == [(0, 1), (0, 2)]
    assert found[(0, 2)].kind == "certain"


def test_kept_pairs_are_not_proposed_again():
    records = [person(0, "Ann", email="a@x.com"), person(1, "Ann", email="a@x.com")]
    assert find_duplicates(records, ignore=[frozenset((0, 1))]) == []


# -- the score as evidence ----------------------------------------------------------------

NAMES = st.sampled_from(["Ann Lee", "Anna Lee", "A. Lee", "Lee Ann", "李安", "Li An", "Tom Lee",
                         "Bob Stone", "Robert Stone", ""])
VALUES = {
    "email": st.sampled_from(["", "ann@x.com", "a.nn@gmail.com", "ann@gmail.com", "t@y.com"]),
    "phone": st.sampled_from(["", "+442079460958", "020 7946 0958", "+15551234567"]),
    "birthday": st.sampled_from(["", "1990-05-06", "1990-06-05", "1991-05-06", "1970-01-01"]),
    "address": st.sampled_from(["", "3 Elm Road", "3 Elm Rd", "Elm Road 3", "9 Oak St"]),
}


@st.composite
def a_person(draw, i):
    return person(i, draw(NAMES), **{k: v for k, s in VALUES.items() if (v := draw(s))})


def score_of(a, b, extra=()):
    found = find_duplicates([a, b, *extra, *strangers(50)])
    return {(p.a, p.b): p.score for p in found}.get((0, 1), 0.0)


@settings(max_examples=150, deadline=None)
@given(a_person(0), a_person(1))
def test_the_score_is_symmetric(a, b):
    assert score_of(a, b) == score_of(b._replace(index=0), a._replace(index=1))


@settings(max_examples=150, deadline=None)
@given(a_person(0), a_person(1), st.sampled_from(list(VALUES)))
def test_a_field_that_agrees_never_lowers_the_score(a, b, field):
    value = a.supporting.get(field) or a.certain.get(field)
    if not value or (b.supporting.get(field) or b.certain.get(field)):
        return                                   # only a field b left empty is filled in
    filled = person(1, b.name, **{**b.certain, **b.supporting, field: value})
    before = find_duplicates([a, b, *strangers(50)])
    after = find_duplicates([a, filled, *strangers(50)])
    kind = {(p.a, p.b): p.kind for p in after}
    if (0, 1) in {(p.a, p.b) for p in before}:
        assert (0, 1) in kind
    assert score_of(a, filled) >= score_of(a, b)


@settings(max_examples=60, deadline=None)
@given(st.lists(a_person(0), min_size=2, max_size=8), st.randoms())
def test_row_order_does_not_change_the_pairs_found(people, rnd):
    """The same pairs and groups, told by what the rows hold (rows that hold exactly the same
    are interchangeable: which of seven identical 'Ann Lee' rows meets 'A. Lee' in name order
    may change with their order, not what is found)."""
    from collections import Counter
    records = [p._replace(index=i) for i, p in enumerate(people)]
    shuffled = records[:]
    rnd.shuffle(shuffled)

    def content(i):
        r = records[i]
        return (r.name, tuple(sorted(r.certain.items())), tuple(sorted(r.supporting.items())))

    def found(rows):
        pairs = find_duplicates(rows)
        possible = Counter((frozenset((content(p.a), content(p.b))), p.kind) for p in pairs
                           if p.kind == "possible")
        groups: dict[int, list] = {}
        for p in pairs:
            if p.kind == "certain":
                groups.setdefault(p.a, [content(p.a)]).append(content(p.b))
        return possible, Counter(tuple(sorted(g)) for g in groups.values())

    assert found(records) == found(shuffled)


# -- scale and odd input ------------------------------------------------------------------

def test_candidate_pairs_grow_with_rows_not_rows_squared():
    """Even when every row shares one company (one huge block), the finder pairs each row with
    a few neighbours, not with every other row."""
    from rules import duplicates
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def candidates(n):
        rows = [person(i, "".join(rng.choice(letters) for _ in range(10)), company="acme")
                for i in range(n)]
        from rules.duplicates import IdentityColumns
        scoring = duplicates._Scoring(IdentityColumns.of(rows), {})
        return len(scoring.candidates()[0])

    small, large = candidates(1_000), candidates(8_000)
    assert small > 1_000
    assert large <= 8 * small * 1.2
    assert large < 8_000 * 8_000 / 2 / 50


def test_a_typo_at_the_start_of_a_name_is_found_in_a_large_block():
    rng = random.Random(3)
    records = [person(i, "".join(rng.choice("abcdefghij") for _ in range(12)), company="Acme")
               for i in range(500)]
    records += [person(500, "John Smithson", company="Acme", birthday="1970-01-02"),
                person(501, "Xohn Smithson", company="Acme", birthday="1970-01-02")]
    assert (500, 501) in {(p.a, p.b) for p in find_duplicates(records)}


def test_one_very_long_name_does_not_blow_up_memory():
    rows = [person(i, f"Name {i}", email=f"{i}@x.com") for i in range(2000)]
    rows.append(person(2000, "x" * 30_000, email="long@x.com"))
    assert find_duplicates(rows) == []


def test_hanzi_are_read_as_pypinyin_reads_them():
    """Names in hanzi are spelled a character at a time from pypinyin's dictionary: the same
    syllables pypinyin itself gives for each character."""
    from pypinyin import lazy_pinyin
    from rules.name_forms import name_forms
    names = ["张伟", "王芳", "李娜", "吕单曾", "欧阳娜娜", "赵琦", "彭莉维", "绿"]
    for name, form in zip(names, name_forms(names)):
        assert list(form.words) == [lazy_pinyin(c)[0] for c in name]


def test_name_similarity_reads_names_as_people_do():
    assert name_similarity("Wei Zhang", "zhang  wei") == 1.0
    assert name_similarity("张伟", "Zhang Wei") == 1.0
    assert name_similarity("", "x") == 0.0
    assert 0.9 < name_similarity("Catherine Smith", "Catherine Smyth") < 1.0


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet="abcXYZ 09_-.,'\t!@#", max_size=20), st.text(max_size=12)))
def test_a_name_is_split_into_words_the_same_way_whatever_its_script(text):
    """The ASCII fast path (str.translate) splits and folds as the Unicode path does: words
    are runs of letters and digits, case folded, full-width folded."""
    import re
    import unicodedata
    from rules.name_forms import name_forms
    form = name_forms([text])[0]
    folded = unicodedata.normalize("NFKC", text).casefold() if not text.isascii() else text.lower()
    words = re.findall(r"[^\W_]+", folded)
    assert form.native == "".join(words)
    if not form.hanzi:
        assert list(form.words) == words


def test_an_answer_is_given_again_only_for_the_very_same_values():
    """The service asks again after every edit: the same rows and values get the same pairs
    (from memory), and any value changed gets a new look."""
    rows = [person(0, "Ann Lee", email="ann@x.com"), person(1, "Ann Lee", email="ann@x.com")]
    first = find_duplicates(rows)
    assert find_duplicates(list(rows)) == first and len(first) == 1
    rows[1] = person(1, "Ann Lee", email="other@x.com")
    assert [p.kind for p in find_duplicates(rows)] != ["certain"]   # no shared email now
    rows[1] = person(1, "Ann Lee", email="ann@x.com")
    assert find_duplicates(rows, ignore=[frozenset((0, 1))]) == []   # kept apart: asked anew
    assert find_duplicates(rows) == first
