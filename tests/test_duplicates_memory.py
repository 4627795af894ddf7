"""The duplicate finder's memory between calls: the service plans the list again after every
edit, and the fields and names an edit left as they were are not worked out again. Whatever
is remembered, a call answers exactly what a fresh call (memory forgotten) answers."""
import random

from hypothesis import given, settings, strategies as st

from rules import duplicates
from rules.duplicates import IdentityColumns, find_duplicates

LABELS = {"email": "Email", "phone": "Phone", "birthday": "Birthday", "address": "Address",
          "company": "Company"}
KINDS = {"email": "email", "phone": "phone", "birthday": "date", "address": "text",
         "company": "text"}
FIRST = ["Ann", "Anna", "Bob", "Robert", "Li", "Wei", "Zhang", "张伟", "王芳", "Tom", ""]
LAST = ["Lee", "Leigh", "Smith", "Smyth", "Wang", "张", "Brown", ""]


def a_list(seed: int, rows: int = 60) -> IdentityColumns:
    """A small list full of look-alikes: few names, emails, phones and birthdays, many
    shared."""
    rng = random.Random(seed)

    def one(values):
        return [rng.choice(values) for _ in range(rows)]

    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)}".strip() for _ in range(rows)]
    email = one(["ann@x.com", "a.nn@gmail.com", "ann+shop@x.com", "bob@y.org", "", ""])
    phone = one(["+44 20 7946 0001", "020 7946 0001", "+44 20 7946 0002", "", ""])
    birthday = one(["1980-02-03", "1980-03-02", "1980-02-04", "1990-01-01", "", "soon"])
    address = one(["5 High St", "High Street 5", "5 High Street, Leeds", "Mill Lane 2", ""])
    company = one(["Acme Ltd", "ACME", "Acme Limited", "Globex", ""])
    return IdentityColumns(list(range(rows)), names, {"email": email, "phone": phone},
                           {"phone": phone, "birthday": birthday, "address": address,
                            "company": company}, KINDS)


def edited(columns: IdentityColumns, seed: int, edits: int) -> IdentityColumns:
    """The list after a few edits, each a cell set to another row's value."""
    rng = random.Random(seed)
    names = list(columns.names)
    certain = {f: list(v) for f, v in columns.certain.items()}
    supporting = {f: list(v) for f, v in columns.supporting.items()}
    rows = len(names)
    for _ in range(edits):
        row, other = rng.randrange(rows), rng.randrange(rows)
        field = rng.choice(["name", *supporting])
        if field == "name":
            names[row] = names[other] + rng.choice(["", "x", " Jr"])
            continue
        supporting[field][row] = supporting[field][other]
        if field in certain:
            certain[field][row] = certain[field][other]
    return IdentityColumns(list(columns.index), names, certain, supporting, columns.kinds)


def fresh(columns: IdentityColumns) -> list:
    duplicates.forget()
    return find_duplicates(columns, labels=LABELS)


def as_compared(pairs) -> list:
    return [(p.a, p.b, p.kind, p.score, str(p.reason), p.fields) for p in pairs]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(1, 4))
def test_a_call_after_a_few_edits_answers_as_a_fresh_call(seed, edit_seed, edits):
    before = a_list(seed)
    after = edited(before, edit_seed, edits)
    expected = as_compared(fresh(after))
    duplicates.forget()
    find_duplicates(before, labels=LABELS)          # remembered: the list before the edits
    assert as_compared(find_duplicates(after, labels=LABELS)) == expected


def test_an_unchanged_field_is_coded_once_and_a_changed_one_again():
    before = a_list(1)
    duplicates.forget()
    find_duplicates(before, labels=LABELS)
    kept = {kind: field for kind, _values, field, _exact in duplicates._fields_kept}
    named = duplicates._names_kept[0]
    birthday = list(before.supporting["birthday"])
    birthday[0] = "2001-01-01"
    after = before._replace(supporting={**before.supporting, "birthday": birthday})
    find_duplicates(after, labels=LABELS)
    again = duplicates._fields_kept
    assert duplicates._names_kept[0] is named                          # names as they were
    assert any(field is kept["email"] for kind, _v, field, _e in again if kind == "email")
    dates = [field for kind, _v, field, _e in again if kind == "date"]
    assert dates[0] is not kept["date"]                                # the edited field: anew
    assert as_compared(find_duplicates(after, labels=LABELS)) == as_compared(fresh(after))


def test_the_memory_stays_small():
    duplicates.forget()
    for seed in range(duplicates.FIELDS_KEPT + 5):
        find_duplicates(a_list(seed, rows=20), labels=LABELS)
    assert len(duplicates._fields_kept) <= duplicates.FIELDS_KEPT
    assert len(duplicates._names_kept) <= duplicates.NAMES_KEPT
    assert len(duplicates._answered) <= duplicates.ANSWERS_KEPT


def test_a_list_changed_after_the_call_is_not_what_is_remembered():
    """The memory keeps its own copy of what it was asked: a caller that edits its lists in
    place afterwards is asked about anew."""
    columns = a_list(3)
    duplicates.forget()
    find_duplicates(columns, labels=LABELS)
    columns.names[0], columns.supporting["birthday"][0] = "Zed Quux", "1999-09-09"
    columns.supporting["company"][1] = columns.supporting["company"][2] = "Initech"
    assert as_compared(find_duplicates(columns, labels=LABELS)) == \
        as_compared(fresh(columns))
