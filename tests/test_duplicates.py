import random

import pytest
from hypothesis import given, settings, strategies as st

from rules import duplicates
from rules.duplicates import (IdentityRecord, find_duplicates, name_key, name_similarity,
                              support_key)


def rec(i, name, **fields):
    certain = {k: fields.pop(k) for k in ("email", "phone_e164", "id") if k in fields}
    return IdentityRecord(index=i, name=name, certain=certain, supporting=fields)


def test_certain_duplicates_share_an_identity_value():
    pairs = find_duplicates([
        rec(0, "Ann Lee", email="ann@x.com", phone_e164="+8613800138000"),
        rec(1, "Annie Lee", email="ANN@x.com"),
        rec(2, "Ann  LEE", phone_e164="+8613800138000"),
        rec(3, "Carl", email="carl@x.com"),
        rec(4, "", phone_e164="+8613800138000"),       # no name to tell them apart
    ])
    assert [(p.a, p.b, p.kind) for p in pairs] == [(0, 1, "certain"), (0, 2, "certain"),
                                                   (0, 4, "certain")]
    assert pairs[0].reason == "same email"


def test_one_email_or_phone_for_people_with_other_names_is_for_a_person_to_judge():
    """A family's one email, a switchboard, a placeholder typed for everyone: the pair goes to
    the review queue as possible, and so is never merged automatically."""
    pairs = find_duplicates([rec(i, name, email="none@none.com") for i, name in
                             enumerate(["Ann Lee", "Bob Stone", "Ann Lee"])],
                            labels={"email": "Email"})
    assert [(p.a, p.b, p.kind) for p in pairs] == [(0, 2, "certain"), (0, 1, "possible")]
    shared = pairs[1]
    assert shared.score < 0.85 and shared.fields == ("email",)
    assert shared.reason == ("same Email, but different names: 'Ann Lee' and 'Bob Stone' "
                             "(one email for two people?)")


def test_a_group_pairs_every_row_with_the_first():
    pairs = find_duplicates([rec(i, f"P{i}", email="same@x.com") for i in range(5)])
    assert [(p.a, p.b) for p in pairs] == [(0, 1), (0, 2), (0, 3), (0, 4)]


@pytest.mark.parametrize("a, b", [
    ("John McDonald", "Jon McDonald"),        # typo
    ("Wei Zhang", "Zhang Wei"),               # given / family swapped
    ("张伟", "张 伟"),                          # with and without a space
    ("ＺＨＡＮＧ　Ｗｅｉ", "Zhang Wei"),         # full-width
    ("Catherine Smith", "Catherine Smyth"),
])
def test_possible_duplicates_need_similar_names_and_agreement(a, b):
    pairs = find_duplicates([rec(0, a, company="Acme Ltd"), rec(1, b, company="ACME LTD")])
    assert len(pairs) == 1 and pairs[0].kind == "possible"
    assert 0.8 <= pairs[0].score <= 1.0
    assert "Company" in find_duplicates(
        [rec(0, a, company="Acme"), rec(1, b, company="Acme")],
        labels={"company": "Company"})[0].reason


def test_similar_names_alone_are_not_enough():
    assert find_duplicates([rec(0, "John McDonald", company="A"),
                            rec(1, "Jon McDonald", company="B")]) == []


def test_different_people_at_the_same_company_are_not_paired():
    assert find_duplicates([rec(0, "Alice Wong", company="Acme"),
                            rec(1, "Bob Stone", company="Acme")]) == []


def test_phone_digits_agree_across_formats():
    pairs = find_duplicates([rec(0, "Li Na", phone="13900139000"),
                             rec(1, "Li  Na", phone="+86 139 0013 9000")])
    assert pairs and pairs[0].fields == ("phone",)


def test_kept_pairs_are_not_proposed_again():
    records = [rec(0, "Ann", email="a@x.com"), rec(1, "Ann", email="a@x.com")]
    assert find_duplicates(records, ignore=[frozenset((0, 1))]) == []


def test_name_key_and_similarity():
    assert name_key("Zhang  Wei") == ("zhangwei", "weizhang")
    assert name_similarity(name_key("Wei Zhang"), name_key("zhang wei")) == 1.0
    assert name_similarity(name_key(""), name_key("x")) == 0.0


def test_candidate_generation_is_near_linear():
    """Even when every row shares one company (one huge block), the number of candidate pairs
    grows with rows × a fixed window, not rows²."""
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def candidates(n):
        names = duplicates.name_keys(["".join(rng.choice(letters) for _ in range(10))
                                      for _ in range(n)])
        blocks = duplicates.support_blocks({"company": ["acme"] * n})
        first, second = duplicates._candidates(names, list(blocks.values()))
        assert (first < second).all()
        return len(first)

    small, large = candidates(1_000), candidates(8_000)
    assert small > 1_000                     # the big block is really searched
    assert large <= 8 * small * 1.2          # linear, with a little slack
    assert large < 8_000 * 8_000 / 2 / 50    # far below all pairs


def test_a_typo_at_the_start_is_found_in_a_large_block():
    """Sorted neighbourhood also runs on reversed names, so 'Xohn Smith' meets 'John Smith'."""
    rng = random.Random(3)
    records = [rec(i, "".join(rng.choice("abcdefghij") for _ in range(12)), company="Acme")
               for i in range(500)]
    records += [rec(500, "John Smithson", company="Acme"), rec(501, "Xohn Smithson",
                                                              company="Acme")]
    pairs = find_duplicates(records)
    assert (500, 501) in {(p.a, p.b) for p in pairs}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["company", "address", "birthday", "phone"]), st.text(max_size=30))
def test_support_keys_take_the_same_characters_whatever_the_text(field_name, value):
    """The ASCII fast path (bytes.translate) keeps exactly what the Unicode patterns keep."""
    import re
    import unicodedata
    folded = unicodedata.normalize("NFKC", value).casefold() if not value.isascii() \
        else value.lower()
    if field_name == "phone":
        digits = re.sub(r"\D+", "", folded)
        expected = digits[-8:] if len(digits) >= 7 else ""
    else:
        expected = re.sub(r"[\W_]+", "", folded)
    assert support_key(field_name, value) == expected


def test_one_very_long_name_does_not_blow_up_memory(tmp_path):
    """Names are put in order through a numpy text array, which is as wide as its longest entry:
    a 30,000-character name among 20k rows once asked for 2.2 GiB. Run under a 1 GiB address
    space limit, in a child process, so that the old way fails with a MemoryError."""
    import subprocess
    import sys
    script = tmp_path / "long_name.py"
    script.write_text(
        "import random, resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from rules.duplicates import IdentityRecord, find_duplicates\n"
        "rng = random.Random(5)\n"
        "names = [''.join(rng.choice('abcdefghij') for _ in range(12)) for _ in range(20000)]\n"
        "names.append('x' * 30000)\n"
        "records = [IdentityRecord(i, n, {}, {'company': 'Acme'}) for i, n in enumerate(names)]\n"
        "records.append(IdentityRecord(len(records), 'x' * 29999 + 'y', {}, {'company': 'Acme'}))\n"
        "print([(p.a, p.b) for p in find_duplicates(records)][-1])\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "(20000, 20001)"


_TEXT = st.text(st.sampled_from(list("aZ09 _-.,'\x00\u0301\u00e9\u00c9ＡＺａ０９　张伟贸易٣ßİ") + ["x"]),
                max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["company", "phone"]), st.lists(_TEXT, max_size=8))
def test_many_values_are_keyed_as_each_would_be_alone(field_name, values):
    """Values are keyed many at a time, joined by NUL (ASCII and the rest apart): each must
    come out as the per-value patterns make it, whatever NULs, combining marks or full-width
    forms the values hold themselves."""
    import re
    import unicodedata

    def alone(value):
        folded = unicodedata.normalize("NFKC", value).casefold()
        if field_name == "phone":
            digits = re.sub(r"\D+", "", folded)
            return digits[-8:] if len(digits) >= 7 else ""
        return re.sub(r"[\W_]+", "", folded)

    assert duplicates.support_keys(field_name, values) == [alone(v) for v in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=8))
def test_many_names_are_keyed_as_each_would_be_alone(names):
    import re
    import unicodedata

    def alone(name):
        words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", name).casefold())
        return "".join(words), "".join(sorted(words))

    keys = duplicates.name_keys(names)
    assert list(zip(keys.compact, keys.words)) == [alone(n) for n in names]
