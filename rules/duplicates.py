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

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Mapping, Sequence

from rapidfuzz.distance import Indel

NAME_THRESHOLD = 0.85
WINDOW = 8          # neighbours compared inside a large block
SMALL_BLOCK = 12    # blocks up to this size are compared all against all


@dataclass(frozen=True)
class IdentityRecord:
    """What dedupe needs of one row, already normalised by the cell rules."""

    index: int                                  # position in the caller's list
    name: str = ""
    certain: Mapping[str, str] = field(default_factory=dict)     # field -> value
    supporting: Mapping[str, str] = field(default_factory=dict)  # field -> value


@dataclass(frozen=True)
class DuplicatePair:
    a: int                  # record index, a < b
    b: int
    kind: str               # "certain" | "possible"
    score: float
    reason: str
    fields: tuple[str, ...]  # the fields that agree


def name_key(name: str) -> tuple[str, str]:
    """(compact, sorted): 'Zhang  Wei' -> ('zhangwei', 'weizhang'); full-width and case folded."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    tokens = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    return "".join(tokens), "".join(sorted(tokens))


def support_key(field_name: str, value: str) -> str:
    """The form in which supporting values must agree: for phones their last eight digits (the
    same number typed with and without a country code), otherwise alphanumerics, case-folded."""
    folded = unicodedata.normalize("NFKC", str(value)).casefold()
    if field_name == "phone":
        digits = "".join(ch for ch in folded if ch.isdigit())
        return digits[-8:] if len(digits) >= 7 else ""
    return "".join(ch for ch in folded if ch.isalnum())


def name_similarity(a: tuple[str, str], b: tuple[str, str]) -> float:
    if not a[0] or not b[0]:
        return 0.0
    if a[0] == b[0] or a[1] == b[1]:
        return 1.0
    return max(Indel.normalized_similarity(a[0], b[0]), Indel.normalized_similarity(a[1], b[1]))


def find_duplicates(records: Sequence[IdentityRecord], ignore: Iterable[frozenset[int]] = (),
                    labels: Mapping[str, str] | None = None) -> list[DuplicatePair]:
    """Every duplicate pair once, certain ones first. `ignore`: pairs a person said to keep;
    `labels`: how to name each field in the reason (the sheet's header)."""
    ignored = set(ignore)
    labels = dict(labels or {})
    certain = _certain_pairs(records, ignored, labels)
    possible = _possible_pairs(records, ignored | {frozenset((p.a, p.b)) for p in certain},
                               labels)
    return certain + possible


def _certain_pairs(records: Sequence[IdentityRecord], ignored: set,
                   labels: Mapping[str, str]) -> list[DuplicatePair]:
    agreeing: dict[tuple[int, int], list[str]] = defaultdict(list)
    for field_name in _fields(records, "certain"):
        groups: dict[str, list[int]] = defaultdict(list)
        for r in records:
            value = r.certain.get(field_name)
            if value:
                groups[str(value).casefold()].append(r.index)
        for members in groups.values():
            # Each later row pairs with the first: the row a merge would keep.
            for other in members[1:]:
                agreeing[(members[0], other)].append(field_name)
    pairs = []
    for (a, b), fields in sorted(agreeing.items()):
        if frozenset((a, b)) in ignored:
            continue
        same = " and ".join(labels.get(f, f) for f in fields)
        pairs.append(DuplicatePair(a, b, "certain", 1.0, f"same {same}", tuple(fields)))
    return pairs


def _possible_pairs(records: Sequence[IdentityRecord], ignored: set,
                    labels: Mapping[str, str]) -> list[DuplicatePair]:
    by_index = {r.index: r for r in records}
    names = {r.index: name_key(r.name) for r in records if r.name}
    support = {r.index: {f: k for f, v in r.supporting.items() if v and (k := support_key(f, v))}
               for r in records}
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in records:
        if r.index not in names:
            continue
        for f, k in support[r.index].items():
            blocks[(f, k)].append(r.index)
        blocks[("name", names[r.index][1])].append(r.index)
    candidates: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) <= SMALL_BLOCK:
            candidates.update(combinations(sorted(members), 2))
            continue
        for key in (lambda i: names[i][0], lambda i: names[i][0][::-1]):
            ordered = sorted(members, key=key)
            for pos, i in enumerate(ordered):
                for j in ordered[pos + 1:pos + WINDOW]:
                    candidates.add((i, j) if i < j else (j, i))
    pairs = []
    for a, b in sorted(candidates):
        if frozenset((a, b)) in ignored:
            continue
        similarity = name_similarity(names[a], names[b])
        if similarity < NAME_THRESHOLD:
            continue
        agree = [f for f, k in support[a].items() if support[b].get(f) == k]
        if not agree:
            continue
        score = round(0.8 * similarity + 0.1 * min(len(agree), 2), 2)
        how = "same name" if similarity == 1.0 else f"similar names ({similarity:.0%})"
        # Supporting phones agree on their digits (see support_key), so say so.
        same = ", ".join(labels.get(f, f) + (" digits" if f == "phone" else "") for f in agree)
        reason = (f"{how}: {by_index[a].name!r} and {by_index[b].name!r}; same {same}")
        pairs.append(DuplicatePair(a, b, "possible", score, reason, tuple(agree)))
    return pairs


def _fields(records: Sequence[IdentityRecord], which: str) -> list[str]:
    seen: dict[str, None] = {}
    for r in records:
        for f in getattr(r, which):
            seen.setdefault(f)
    return list(seen)
