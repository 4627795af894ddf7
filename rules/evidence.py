"""How much a pair of rows' fields say that they are one person: weights in the
Fellegi–Sunter sense.

Each field of a pair agrees at some level (exactly, closely, not at all, or one side is
empty), and each level is evidence: log2(m / u), where m is how often a true duplicate pair
agrees at that level and u how often two strangers do. The weights add up; with the prior odds
of a duplicate among all pairs of the list, they give the chance that the pair is one person.

The m probabilities are set here, as the product's data, not estimated from each sheet by EM: a
team's list of 500 rows has too few duplicates to estimate them, EM on an unlabelled list can
settle on the wrong cluster, and a fixed model says the same thing about the same pair every
day. They were set from how people make duplicates (a typo, a nickname, a missing field) and
checked on the labelled benchmark (benchmarks/dedupe.py). The u probability of an exact
agreement is measured on the sheet itself, per value (term frequency): a phone or name
that many rows share ("张伟", a household phone, a family email) says less than a rare one.

One piece of evidence is stronger than any sum: a person has one birthday. Two birthdays that
are both known and clearly different (not a typo, not day and month swapped) are two people,
whatever else agrees: a parent and a child of the same name at one address.
"""
from __future__ import annotations

import functools

import math
import re
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from i18n import _

from .name_forms import ASCII_WORDS, fold

# (m, u) of each level that is not an exact agreement; an exact agreement's u is its value's
# frequency in the sheet.
M_EXACT = {"name": 0.75, "email": 0.50, "phone": 0.55, "date": 0.80, "text": 0.55, "id": 0.95}
LEVELS = {
    # name: spelled alike after folding, words swapped, the other script
    "name_equivalent": (0.10, 0.0005),   # a nickname, an initial, one name part of the other
    "name_close": (0.08, 0.002),        # Jaro-Winkler >= 0.92: a typo, a letter left out
    "name_fair": (0.04, 0.02),          # >= 0.85
    "name_different": (0.01, 0.97),     # names people would not take for one
    "email_alias": (0.05, 0.00002),     # the same mailbox: Gmail's dots, a +tag
    "email_different": (0.45, 0.999),
    "phone_different": (0.45, 0.999),
    "date_close": (0.12, 0.002),        # day and month swapped, or one digit off
    "text_close": (0.25, 0.002),        # token set >= 90% alike
    "text_different": (0.20, 0.98),
}
NAME_CLOSE, NAME_FAIR, TEXT_CLOSE = 0.92, 0.85, 90.0


def weight(level: str) -> float:
    m, u = LEVELS[level]
    return math.log2(m / u)


# How often two strangers share a value that is rare in the list: a phone or a mailbox is one
# person's or one household's; a birthday is one day in some twenty thousand; a full name is
# rarely shared. A value many rows share is as likely as its share of the list.
BASE_U = {"name": 5e-5, "email": 1e-5, "phone": 1e-5, "date": 5e-5, "text": 1e-4, "id": 1e-6}
# Fields a household shares: their agreements are not independent evidence (a family's phone
# and address agree together). The strongest counts, the others add at most HOUSEHOLD_MORE.
SHARED = ("email", "phone", "text")
HOUSEHOLD_MORE = 2.0


def household(weights: Mapping[str, np.ndarray], pairs: int) -> np.ndarray:
    """The evidence of the shareable fields together: every disagreement counts; of the
    agreements, the strongest, and the others up to HOUSEHOLD_MORE."""
    strongest, agreeing, against = np.zeros(pairs), np.zeros(pairs), np.zeros(pairs)
    for w in weights.values():
        positive = np.maximum(w, 0.0)
        np.maximum(strongest, positive, out=strongest)
        agreeing += positive
        against += np.minimum(w, 0.0)
    return strongest + np.minimum(agreeing - strongest, HOUSEHOLD_MORE) + against


def exact_weights(kind: str, codes: np.ndarray) -> np.ndarray:
    """The weight of an exact agreement on each row's value: log2(m / u), u the value's base
    rate among strangers, more where many rows of the list share it (term frequency)."""
    present = codes >= 0
    counts = np.zeros(len(codes), dtype=np.float64)
    if present.any():
        counts[present] = np.bincount(codes[present])[codes[present]]
    u = BASE_U[kind] + np.maximum(counts - 2, 0) / max(len(codes), 2)
    return np.log2(M_EXACT[kind] / u)


def prior(rows: int) -> float:
    """log2 of the prior odds that two rows picked at random are one person: about one row in
    twenty has a twin somewhere in the list."""
    return math.log2(0.1 / max(rows - 1, 1))


def chance(total: float) -> float:
    """The chance that a pair is one person, from its weights and the prior."""
    return 1.0 / (1.0 + 2.0 ** (-total))


# -- the fields' forms: an integer code per row, -1 where there is nothing to compare -------

class Coded(NamedTuple):
    codes: np.ndarray          # equal codes: equal values
    second: np.ndarray | None  # a second form (an email's mailbox); None where there is none
    texts: list[str]           # the form compared closely (dates: digits; text: its words)
    digits: np.ndarray | None = None   # a date's eight digits, packed: a uint64 per row
    real: np.ndarray | None = None     # whether each row's value is a date


def coded(kind: str, values: Sequence[str]) -> Coded:
    if kind == "email":
        return _coded(values, _folded, _mailbox, of_key=True)
    if kind == "phone":
        return _coded(values, _phone_keys)
    if kind == "date":
        field = _coded(values, _date_keys, texts=True)
        return field._replace(**dict(zip(("digits", "real"), _date_digits(field.texts))))
    if kind == "text":
        return _coded(values, _text_keys, _without_spaces, texts=True)
    return _coded(values, _folded)


def _without_spaces(text: str) -> str:
    """An address's or company's letters and digits in their order: spaces anywhere."""
    if text.isascii():
        return text.encode().translate(ASCII_WORDS, _ASCII_NOT_LETTERS_OR_DIGITS).decode()
    return "".join(_TEXT_WORDS.findall(fold(text)))


# The ASCII characters but letters and digits: bytes.translate drops them.
_ASCII_NOT_LETTERS_OR_DIGITS = bytes(c for c in range(128) if not chr(c).isalnum())


# The keys of the values seen lately, per way of keying, kept between calls (the service plans
# the same list again after every edit): pure functions of the value.
REMEMBERED_KEYS = 400_000
_keys_known: dict = {}


def _coded(values: Sequence[str], keys_of, second=None, of_key: bool = False,
           texts: bool = False) -> Coded:
    """Each distinct value keyed once (values repeat: a company, a birthday; and the service
    plans the same values again after every edit), all new ones in one call (`keys_of` works
    on many texts at once), then every row coded through its distinct value's place (one dict
    lookup a row, in C, shared by both forms). `texts`: keep each row's key too (what dates
    and text are compared closely by)."""
    known = _keys_known.setdefault(keys_of, {"": ""})
    if len(known) > REMEMBERED_KEYS:
        known.clear()
        known[""] = ""
    distinct = list(dict.fromkeys(values))
    try:
        keys = list(map(known.__getitem__, distinct))
    except KeyError:    # values not seen lately: keyed all at once
        new = [v for v in distinct if v not in known]
        known.update(zip(new, keys_of(new)))
        keys = list(map(known.__getitem__, distinct))
    place = places(values, distinct)
    codes = _numbers(keys)[place]
    seconds = None
    if second is not None:
        # The second form is of the value as typed (an address's words in their own order), or
        # (`of_key`) of its key (an email's mailbox, of the address folded).
        seen = _keys_known.setdefault(second, {})
        if len(seen) > REMEMBERED_KEYS:
            seen.clear()
        of = keys if of_key else distinct
        fresh = [x for x, k in zip(of, keys) if k and x not in seen]
        seen.update(zip(fresh, map(second, fresh)))
        others = [seen[x] if k else "" for x, k in zip(of, keys)]
        seconds = _numbers(others)[place]
    rows = list(map(keys.__getitem__, place.tolist())) if texts else []
    return Coded(codes, seconds, rows)


def codes_of(values: Sequence[str]) -> np.ndarray:
    """An integer per distinct value: equal values, equal numbers; -1 for ""."""
    return _numbers(values)


def places(values: Sequence[str], distinct: list[str]) -> np.ndarray:
    """Each row's place in `distinct` (its values, each once)."""
    place = dict(zip(distinct, range(len(distinct))))
    return np.fromiter(map(place.__getitem__, values), dtype=np.intp, count=len(values))


def _numbers(keys: Sequence[str]) -> np.ndarray:
    """Each key as a number: equal keys, equal numbers (the key's last place in `keys`: two
    passes over the keys, not three); -1 for no key (""). Numbers are compared and counted,
    never read as places."""
    last = dict(zip(keys, range(len(keys))))
    numbers = np.fromiter(map(last.__getitem__, keys), dtype=np.int64, count=len(keys))
    if "" in last:
        numbers[numbers == last[""]] = -1
    return numbers


def _folded(texts: list[str]) -> list[str]:
    return [t.strip() for t in fold_all(texts)]


def fold_all(texts: list[str]) -> list[str]:
    """fold() of each text: the ASCII ones (most) lowered in one call, joined by NUL."""
    if all(map(str.isascii, texts)):
        joined = "\0".join(texts)
        if joined.count("\0") == max(len(texts) - 1, 0):
            return joined.lower().split("\0") if texts else []
    return [fold(t) for t in texts]


def _mailbox(address: str) -> str:
    """The mailbox an address reaches: without a +tag, and for Gmail without dots."""
    local, _at, domain = address.rpartition("@")
    if not local:
        return address
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


_NON_DIGITS = re.compile(r"\D+")
_ASCII_NON_DIGITS = bytes(c for c in range(1, 128) if not chr(c).isdigit())


def _phone_keys(phones: list[str]) -> list[str]:
    """Each phone's last eight digits: the same number with and without its country code."""
    joined = "\0".join(phones)
    if joined.isascii() and joined.count("\0") == max(len(phones) - 1, 0):
        digits = joined.encode().translate(None, _ASCII_NON_DIGITS).decode().split("\0")
    else:
        digits = [_NON_DIGITS.sub("", fold(p)) for p in phones]
    return [d[-8:] if len(d) >= 7 else "" for d in digits]


def _date_keys(dates: list[str]) -> list[str]:
    """A date's eight digits (yyyymmdd); other text as it is, folded."""
    return [d[:4] + d[5:7] + d[8:] if len(d) == 10 and d[4] == d[7] == "-"
            and d[:4].isdigit() and d[5:7].isdigit() and d[8:].isdigit()
            else fold(d).strip() for d in dates]


# Words that say nothing about which company or place it is, and the long form of the short
# ones people write in addresses.
_LEGAL = {"ltd", "limited", "inc", "incorporated", "llc", "plc", "gmbh", "co", "corp",
          "corporation", "company", "sa", "ag", "bv", "pty", "有限公司", "有限责任公司",
          "股份有限公司", "公司"}
_SHORT = {"st": "street", "rd": "road", "ave": "avenue", "av": "avenue", "blvd": "boulevard",
          "dr": "drive", "ln": "lane", "ct": "court", "pl": "place", "sq": "square",
          "hwy": "highway", "apt": "apartment", "fl": "floor", "bldg": "building",
          "n": "north", "s": "south", "e": "east", "w": "west", "no": "number"}
_TEXT_WORDS = re.compile(r"[^\W_]+")
_CJK_SUFFIX = re.compile(r"(股份有限公司|有限责任公司|有限公司|公司)$")


def _text_keys(texts: list[str]) -> list[str]:
    """A company or address as its words, long forms, sorted, without legal suffixes: 'Acme
    Ltd' = 'ACME Limited' = 'acme'; '5 High St' = 'High Street 5'."""
    out = []
    for folded in fold_all(texts):
        if folded.isascii():
            # Most texts: their words are the runs of letters and digits, none of them hanzi.
            spaced = folded.encode().translate(ASCII_WORDS).decode()
            words = [_SHORT.get(w, w) for w in spaced.split() if w not in _LEGAL]
        else:
            words = []
            for word in _TEXT_WORDS.findall(folded):
                if not word.isascii():
                    word = _CJK_SUFFIX.sub("", word)
                if word and word not in _LEGAL:
                    words.append(_SHORT.get(word, word))
        words.sort()
        out.append(" ".join(words))
    return out


# -- the levels of a pair -------------------------------------------------------------------

def _date_digits(keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's date as its eight digits (yyyymmdd, a byte each) packed into one uint64, the
    first digit in the lowest byte (a pair compares one number, not a row of eight), and
    whether it is one."""
    real = np.fromiter((len(k) == 8 and k.isdigit() for k in keys), dtype=bool, count=len(keys))
    text = "".join(k if ok else "00000000" for k, ok in zip(keys, real.tolist()))
    digits = np.frombuffer(text.encode(), dtype=np.uint8).reshape(len(keys), 8) \
        if keys else np.zeros((0, 8), dtype=np.uint8)
    return digits.view("<u8").astype(np.uint64).reshape(len(keys)), real


def _one_slip(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pairs of dates (packed digits) one typo apart: day and month swapped, or one digit
    off."""
    swapped = ((x & _YEAR) == (y & _YEAR)) & ((x >> _MONTH) & _TWO == (y >> _DAY) & _TWO) \
        & ((x >> _DAY) & _TWO == (y >> _MONTH) & _TWO)
    apart = (x ^ y).view(np.uint8).reshape(len(x), 8) != 0    # the digits that differ
    return swapped | (apart.sum(axis=1) == 1)


# Where a packed date's digits are: yyyy in the low four bytes, then mm, then dd.
_YEAR, _TWO = np.uint64(0xFFFF_FFFF), np.uint64(0xFFFF)
_MONTH, _DAY = np.uint64(32), np.uint64(48)


def field_weights(kind: str, field: Coded, exact: np.ndarray, a: np.ndarray, b: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights, level, veto) of each pair (a[k], b[k]) on one field. Levels: 3 exact, 2 close,
    1 different, 0 nothing to compare. (Text alike but not the same, level 2, costs a fuzzy
    comparison: the caller makes it for the pairs it can decide.)"""
    ca, cb = field.codes[a], field.codes[b]
    present = (ca >= 0) & (cb >= 0)
    same = present & (ca == cb)
    level = np.where(same, 3, np.where(present, 1, 0)).astype(np.int8)
    weights = np.where(same, exact[a], 0.0)
    veto = np.zeros(len(a), dtype=bool)
    # (Two IDs that differ say nothing: sheetkeeper gives every new row its own.)
    if kind in ("email", "phone", "text"):
        weights = np.where(present & ~same, weight(f"{kind}_different"), weights)
    if kind == "email" and field.second is not None:
        sa, sb = field.second[a], field.second[b]
        alias = present & ~same & (sa >= 0) & (sa == sb)
        level[alias], weights[alias] = 2, weight("email_alias")
    elif kind == "date":
        digits, real = field.digits, field.real
        apart = present & ~same
        close = apart & real[a] & real[b] & _one_slip(digits[a], digits[b])
        level[close], weights[close] = 2, weight("date_close")
        veto = apart & real[a] & real[b] & ~close  # two real dates, clearly apart: two people
        level[apart & ~(real[a] & real[b])] = 0    # a date as typed, unread: says nothing
    elif kind == "text":
        if field.second is not None:
            # The same words with a space in another place ('EdinburghEH1 6 5RS'): the same.
            sa, sb = field.second[a], field.second[b]
            spaced = present & ~same & (sa >= 0) & (sa == sb)
            level[spaced], weights[spaced] = 3, exact[a[spaced]]
            same = same | spaced
    return weights, level, veto


def describe(kind: str, label: str, level: int, similarity: float | None = None) -> str | None:
    """A field's agreement in words, for the reason a pair is given; None where it did not
    agree. (A few thousand distinct phrases among a hundred thousand pairs: each is made once,
    a Babel-formatted percentage costing tens of microseconds.)"""
    return _described(kind, label, level, None if similarity is None else round(similarity))


@functools.lru_cache(maxsize=4096)
def _described(kind: str, label: str, level: int, similarity: int | None) -> str | None:
    if level == 3:
        return _("same {column}", column=label)
    if level == 2:
        if kind == "email":
            return _("same mailbox in {column} (dots or a +tag apart)", column=label)
        if kind == "date":
            return _("{column} one typo apart", column=label)
        if similarity is not None:
            return _("{column} {share:percent} alike", column=label, share=similarity / 100)
        return _("{column} alike", column=label)
    return None


def kinds_of(fields: Mapping[str, str] | None, names: Sequence[str]) -> dict[str, str]:
    """Each field's kind (how it is compared), from the template's column types where given,
    else from its name."""
    out = {}
    for f in names:
        kind = (fields or {}).get(f) or f
        out[f] = {"email": "email", "phone": "phone", "date": "date", "birthday": "date",
                  "id": "id", "customer_id": "id", "member_no": "id"}.get(kind, "text")
    return out
