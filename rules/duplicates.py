"""Finding the same person entered more than once.

Certain duplicates share a normalised identity value (email, phone, ID: which fields count is
template data). Possible duplicates have similar names (typos, given/family name swapped,
full-width, with and without spaces) *and* agree on at least one supporting field (company,
address, birthday, phone digits).

Candidate pairs come from blocking, never from all pairs: rows are grouped by keys they share
(a supporting value, the sorted name), and inside a large group only near neighbours in name order
are compared (sorted neighbourhood). Work grows with rows × a fixed window, not rows².
"""
from __future__ import annotations

import operator
import re
from itertools import compress
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence, TypeVar

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel

T = TypeVar("T")
NAME_THRESHOLD = 0.85
RANK_PREFIX = 64    # characters of a name that place it in name order
WINDOW = 8          # a row is compared with the next WINDOW-1 rows of its block, in name order


class IdentityRecord(NamedTuple):
    """What dedupe needs of one row, already normalised by the cell rules: the row-shaped form,
    handy for a few rows (IdentityColumns is the form for a whole sheet)."""

    index: int                                  # position in the caller's list
    name: str = ""
    certain: Mapping[str, str] = MappingProxyType({})      # field -> value
    supporting: Mapping[str, str] = MappingProxyType({})   # field -> value


class IdentityColumns(NamedTuple):
    """What dedupe needs of every row, a column per field: "" where a row has no value. (A sheet
    is read by column, and a column is keyed and blocked in a few passes over one list, where a
    record per row costs a dict per row each cycle.)"""

    index: Sequence[int]                        # each row's position in the caller's list
    names: Sequence[str]
    certain: Mapping[str, Sequence[str]]        # field -> value per row
    supporting: Mapping[str, Sequence[str]]

    @classmethod
    def of(cls, records: Sequence[IdentityRecord]) -> IdentityColumns:
        def column(which: str) -> dict[str, list[str]]:
            fields = dict.fromkeys(f for r in records for f in getattr(r, which))
            return {f: [getattr(r, which).get(f) or "" for r in records] for f in fields}
        return cls([r.index for r in records], [r.name for r in records], column("certain"),
                   column("supporting"))


@dataclass(frozen=True)
class DuplicatePair:
    a: int                  # record index, a < b
    b: int
    kind: str               # "certain" | "possible"
    score: float
    reason: str
    fields: tuple[str, ...]  # the fields that agree


# Names and supporting values are keyed many at a time, joined by NUL: what is not a word
# character (letters and digits of any script), or not a digit, goes, and the NUL stays. ("_"
# is a word character to the pattern, and is taken out after: a plain class is twice as fast.)
_NOT_WORDS_NOR_NUL = re.compile(r"[^\w\x00]+")
_NON_DIGITS_NOR_NUL = re.compile(r"[^\d\x00]+")
# The same for ASCII text, as bytes.translate tables: all ASCII but letters and digits, or all
# but digits, and never the NUL.
_ASCII_NOT_WORDS = bytes(c for c in range(1, 128) if not chr(c).isalnum())
_ASCII_NON_DIGITS = bytes(c for c in range(1, 128) if not chr(c).isdigit())
_ASCII_NOT_WORDS_TO_SPACE = bytes.maketrans(_ASCII_NOT_WORDS, b" " * len(_ASCII_NOT_WORDS))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


class NameKeys(NamedTuple):
    """Names in the forms they are compared in, one list entry per name."""

    compact: list[str]      # 'Zhang  Wei' -> 'zhangwei': full-width and case folded
    words: list[str]        # its words sorted: 'weizhang' (given and family name swapped)


def name_key(name: str) -> tuple[str, str]:
    """(compact, sorted): 'Zhang  Wei' -> ('zhangwei', 'weizhang'); full-width and case folded."""
    keys = name_keys([name])
    return keys.compact[0], keys.words[0]


def name_keys(names: Sequence[str]) -> NameKeys:
    def plain(joined: bytes) -> list[str]:
        return joined.translate(_ASCII_NOT_WORDS_TO_SPACE).lower().decode().split("\0")

    def unicode(joined: str) -> list[str]:
        return _NOT_WORDS_NOR_NUL.sub(" ", _fold(joined)).replace("_", " ").split("\0")

    # Each name's words apart by white space, then put together both ways. (Strings, not a list
    # of words per name: 100k lists kept alive at once make the garbage collector walk them.)
    spaced = _keyed(names, plain, unicode)
    compact = "\0".join(spaced).replace(" ", "").split("\0") if spaced else []
    return NameKeys(compact, ["".join(sorted(s.split())) for s in spaced])


def support_key(field_name: str, value: str) -> str:
    """The form in which supporting values must agree: for phones their last eight digits (the
    same number typed with and without a country code), otherwise alphanumerics, case-folded."""
    return support_keys(field_name, [value])[0]


def support_keys(field_name: str, values: Sequence[str]) -> list[str]:
    """support_key of each value ("" where there is nothing to agree on)."""
    if field_name == "phone":
        def last_digits(digits: str) -> list[str]:
            return [d[-8:] if len(d) >= 7 else "" for d in digits.split("\0")]

        def plain(joined: bytes) -> list[str]:
            return last_digits(joined.translate(None, _ASCII_NON_DIGITS).decode())

        def unicode(joined: str) -> list[str]:
            return last_digits(_NON_DIGITS_NOR_NUL.sub("", _fold(joined)))
    else:
        def plain(joined: bytes) -> list[str]:
            return joined.translate(None, _ASCII_NOT_WORDS).lower().decode().split("\0")

        def unicode(joined: str) -> list[str]:
            return _NOT_WORDS_NOR_NUL.sub("", _fold(joined)).replace("_", "").split("\0")

    return _keyed(values, plain, unicode)


def support_blocks(supporting: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
    """Each supporting field's block of each row: two rows agree on a field when they hold the
    same block number there; -1 where a row has nothing to agree on. A block is one (field,
    agreeing form), so numbers are unique across fields."""
    out = {}
    for n, (field_name, values) in enumerate(supporting.items()):
        # Keyed value by value, not once per distinct value: looking values up costs as much.
        keys = support_keys(field_name, values)
        # A block is numbered by the last row holding its key (plus an offset per field): one
        # pass in C, where numbering them 0, 1, 2 … takes two.
        start = n * len(keys)
        number = dict(zip(keys, range(start, start + len(keys))))
        number[""] = -1
        out[field_name] = np.fromiter(map(number.__getitem__, keys), dtype=np.int64,
                                      count=len(keys))
    return out


def _keyed(texts: Sequence[str], plain: Callable[[bytes], list[T]],
           unicode: Callable[[str], list[T]]) -> list[T]:
    """The key of each text: all ASCII texts (most names, companies and addresses) at once,
    joined by NUL, as bytes through `plain`; all the others at once, joined by NUL, through
    `unicode`. Each is a few passes in C instead of a few calls per text. (NUL is no word
    character and no digit, and NFKC never joins a character to it: the keys split apart
    again exactly where the texts were joined.)"""
    if not texts:
        return []
    ascii_ = list(map(str.isascii, texts))
    simple = list(compress(texts, ascii_))
    others = list(compress(texts, map(operator.not_, ascii_)))
    joined, joined_others = "\0".join(simple), "\0".join(others)
    if joined.count("\0") + joined_others.count("\0") != \
            max(len(simple) - 1, 0) + max(len(others) - 1, 0):
        # Some text holds a NUL of its own: like any other character that is no word
        # character, it counts as a space would.
        return _keyed([t.replace("\0", " ") for t in texts], plain, unicode)
    keys = iter(plain(joined.encode()) if simple else ())
    if not others:
        return list(keys)
    more = iter(unicode(joined_others))
    return [next(keys) if is_ascii else next(more) for is_ascii in ascii_]


def name_similarity(a: tuple[str, str], b: tuple[str, str], cutoff: float = 0.0) -> float:
    """0..1; below `cutoff` may be reported as 0 (rapidfuzz then stops early)."""
    if not a[0] or not b[0]:
        return 0.0
    if a[0] == b[0] or a[1] == b[1]:
        return 1.0
    compact = Indel.normalized_similarity(a[0], b[0], score_cutoff=cutoff)
    swapped = Indel.normalized_similarity(a[1], b[1], score_cutoff=cutoff)
    return compact if compact > swapped else swapped


def find_duplicates(identities: IdentityColumns | Sequence[IdentityRecord],
                    ignore: Iterable[frozenset[int]] = (),
                    labels: Mapping[str, str] | None = None) -> list[DuplicatePair]:
    """Every duplicate pair once, certain ones first, as the callers' indexes. `ignore`: pairs a
    person said to keep; `labels`: how to name each field in the reason (the sheet's header)."""
    if not isinstance(identities, IdentityColumns):
        identities = IdentityColumns.of(identities)
    ignored = set(ignore)
    labels = dict(labels or {})
    certain, shared = _certain_pairs(identities, ignored, labels)
    possible = _possible_pairs(identities, ignored | {frozenset((p.a, p.b))
                                                      for p in certain + shared}, labels)
    return certain + sorted(shared + possible, key=lambda p: (p.a, p.b))


def _certain_pairs(identities: IdentityColumns, ignored: set, labels: Mapping[str, str]
                   ) -> tuple[list[DuplicatePair], list[DuplicatePair]]:
    """Pairs sharing an identity value: (certain, shared). A pair whose names clearly differ
    is not certain but shared: a family's one email, a company's switchboard, a placeholder
    (none@none.com) typed for everyone. It goes to a person as a possible pair, never to an
    automatic merge."""
    index, names = identities.index, identities.names
    agreeing: dict[tuple[int, int], list[str]] = defaultdict(list)
    for field_name, values in identities.certain.items():
        folded = [v.lower() for v in values]
        # Each later row pairs with the first: the row a merge would keep. (Filled backwards,
        # the dict ends up holding each value's first row.)
        first_with = dict(zip(reversed(folded), range(len(folded) - 1, -1, -1)))
        if len(first_with) == len(folded):
            continue                                # no value twice (IDs, as a rule)
        for n, first in enumerate(map(first_with.__getitem__, folded)):
            if first != n and folded[n]:
                agreeing[(first, n)].append(field_name)
    # Each row's name keyed once, however many rows share its value (a group pairs every row
    # with its first).
    named = sorted({x for pair in agreeing for x in pair if names[x]})
    keys = name_keys([names[x] for x in named])
    key_of = dict(zip(named, zip(keys.compact, keys.words)))
    certain, shared = [], []
    for (x, y), fields in sorted(agreeing.items(), key=lambda kv: (index[kv[0][0]],
                                                                   index[kv[0][1]])):
        a, b = index[x], index[y]
        if frozenset((a, b)) in ignored:
            continue
        same = " and ".join(labels.get(f, f) for f in fields)
        similarity = name_similarity(key_of[x], key_of[y]) \
            if names[x] and names[y] else 1.0
        if similarity >= NAME_THRESHOLD:
            certain.append(DuplicatePair(a, b, "certain", 1.0, f"same {same}", tuple(fields)))
        else:
            score = round(0.8 * similarity + 0.1 * min(len(fields), 2), 2)
            shared.append(DuplicatePair(
                a, b, "possible", score, f"same {same}, but different names: {names[x]!r} and "
                f"{names[y]!r} (one {same.lower()} for two people?)", tuple(fields)))
    return certain, shared


def _possible_pairs(identities: IdentityColumns, ignored: set,
                    labels: Mapping[str, str]) -> list[DuplicatePair]:
    named = [n for n, name in enumerate(identities.names) if name]
    if len(named) < 2:
        return []
    names = [identities.names[n] for n in named]
    keys = name_keys(names)
    blocks = {f: column[named] for f, column in support_blocks(identities.supporting).items()}
    first, second = _candidates(keys, list(blocks.values()))
    # Names this far apart in length cannot reach the threshold: Indel similarity is at most
    # 1 - |la - lb| / (la + lb). (A name's sorted words are as long as the name.)
    length = np.fromiter(map(len, keys.compact), dtype=np.int64, count=len(keys.compact))
    la, lb = length[first], length[second]
    near = np.abs(la - lb) <= (1 - NAME_THRESHOLD) * (la + lb) + 1e-9
    first, second = first[near], second[near]
    if len(first) == 0:
        return []
    # Score every candidate in one call (C, all cores); only the few similar ones go on.
    # Compact names first, then their sorted words (given and family name swapped), where that
    # differs: for two names whose words are already in order it is the same comparison.
    compact = np.array(keys.compact, dtype=object)
    scores = process.cpdist(compact[first].tolist(), compact[second].tolist(),
                            scorer=Indel.normalized_similarity, score_cutoff=NAME_THRESHOLD,
                            workers=-1)
    in_order = np.array(list(map(str.__eq__, keys.compact, keys.words)))
    swap = np.flatnonzero(~(in_order[first] & in_order[second]))
    words = np.array(keys.words, dtype=object)
    swapped = process.cpdist(words[first[swap]].tolist(), words[second[swap]].tolist(),
                             scorer=Indel.normalized_similarity, score_cutoff=NAME_THRESHOLD,
                             workers=-1)
    best = scores.copy()
    best[swap] = np.maximum(scores[swap], swapped)
    index = identities.index
    pairs = []
    for n in best.nonzero()[0].tolist():
        x, y = int(first[n]), int(second[n])
        a, b = index[named[x]], index[named[y]]
        if frozenset((a, b)) in ignored:
            continue
        agree = [f for f, column in blocks.items() if column[x] >= 0 and column[x] == column[y]]
        if not agree:
            continue
        similarity = float(best[n])
        score = round(0.8 * similarity + 0.1 * min(len(agree), 2), 2)
        how = "same name" if similarity == 1.0 else f"similar names ({similarity:.0%})"
        # Supporting phones agree on their digits (see support_key), so say so.
        same = ", ".join(labels.get(f, f) + (" digits" if f == "phone" else "") for f in agree)
        reason = f"{how}: {names[x]!r} and {names[y]!r}; same {same}"
        pairs.append(DuplicatePair(a, b, "possible", score, reason, tuple(agree)))
    pairs.sort(key=lambda p: (p.a, p.b))
    return pairs


def _name_order(spelled: list[str]) -> np.ndarray:
    """Each name's place in name order (integers sort fast and stay small whatever the names'
    length). numpy orders text by code point, as Python does, and its stable sort keeps ties.
    Only the first RANK_PREFIX characters count: a numpy text array is as wide as its longest
    entry, and one 30,000-character cell would make it gigabytes."""
    if max(map(len, spelled), default=0) > RANK_PREFIX:
        spelled = [s[:RANK_PREFIX] for s in spelled]
    rank = np.empty(len(spelled), dtype=np.int64)
    rank[np.argsort(np.array(spelled), kind="stable")] = np.arange(len(spelled))
    return rank


def _candidates(names: NameKeys,
                blocks: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs worth scoring, as two arrays of positions (first < second). A possible duplicate
    must share a supporting value, so rows are blocked by those; inside each block only near
    neighbours in name order are paired (sorted neighbourhood), in three orders: by the name,
    by the name reversed (a typo at either end still lands near its twin) and by its sorted
    words (given and family name swapped). A block no bigger than the window is paired all
    against all."""
    present = [column >= 0 for column in blocks]
    rows = np.concatenate([np.flatnonzero(p) for p in present] or [np.empty(0, np.int64)])
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    block = np.concatenate([column[p] for column, p in zip(blocks, present)])
    found = []
    size = len(names.compact)
    for spelled in (names.compact, [c[::-1] for c in names.compact], names.words):
        rank = _name_order(spelled)
        # By block, then by name; a row is in a block once, so no two keys are equal.
        order = np.argsort(block * size + rank[rows])
        b, r = block[order], rows[order]
        for step in range(1, WINDOW):
            same_block = b[:-step] == b[step:]
            found.append(np.stack((r[:-step][same_block], r[step:][same_block])))
    pairs = np.concatenate(found, axis=1)
    pairs = pairs[:, pairs[0] != pairs[1]]
    lo, hi = np.minimum(pairs[0], pairs[1]), np.maximum(pairs[0], pairs[1])
    combined = lo * size + hi
    if combined.size == 0:
        return lo, hi
    combined.sort()
    unique = combined[np.concatenate(([True], combined[1:] != combined[:-1]))]
    return unique // size, unique % size
