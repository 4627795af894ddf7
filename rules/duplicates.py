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

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel

NAME_THRESHOLD = 0.85
WINDOW = 8          # a row is compared with the next WINDOW-1 rows of its block, in name order


class IdentityRecord(NamedTuple):
    """What dedupe needs of one row, already normalised by the cell rules. (A named tuple: a
    100k-row list makes 100k of these every cycle, and a frozen dataclass is slow to make.)"""

    index: int                                  # position in the caller's list
    name: str = ""
    certain: Mapping[str, str] = MappingProxyType({})      # field -> value
    supporting: Mapping[str, str] = MappingProxyType({})   # field -> value


@dataclass(frozen=True)
class DuplicatePair:
    a: int                  # record index, a < b
    b: int
    kind: str               # "certain" | "possible"
    score: float
    reason: str
    fields: tuple[str, ...]  # the fields that agree


_WORDS = re.compile(r"[^\W_]+")
_NOT_WORDS = re.compile(r"[\W_]+")
_NON_DIGITS = re.compile(r"\D+")
# What those patterns drop from ASCII text: all but letters and digits; all but digits.
_ASCII_NOT_WORDS = bytes(c for c in range(128) if not chr(c).isalnum())
_ASCII_NON_DIGITS = bytes(c for c in range(128) if not chr(c).isdigit())


def _fold(text: str) -> str:
    # NFKC only where it can matter: most names and companies are plain ASCII.
    return text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()


def name_key(name: str) -> tuple[str, str]:
    """(compact, sorted): 'Zhang  Wei' -> ('zhangwei', 'weizhang'); full-width and case folded."""
    tokens = _WORDS.findall(_fold(name))
    return "".join(tokens), "".join(sorted(tokens))


def support_key(field_name: str, value: str) -> str:
    """The form in which supporting values must agree: for phones their last eight digits (the
    same number typed with and without a country code), otherwise alphanumerics, case-folded."""
    text = str(value)
    if text.isascii():
        # Most values: bytes.translate drops the same characters as the patterns, in C.
        raw = text.encode()
        if field_name == "phone":
            digits = raw.translate(None, _ASCII_NON_DIGITS).decode()
            return digits[-8:] if len(digits) >= 7 else ""
        return raw.translate(None, _ASCII_NOT_WORDS).lower().decode()
    folded = _fold(text)
    if field_name == "phone":
        digits = _NON_DIGITS.sub("", folded)
        return digits[-8:] if len(digits) >= 7 else ""
    return _NOT_WORDS.sub("", folded)


def support_keys(records: Sequence[IdentityRecord]) -> list[dict[str, str]]:
    """Each record's supporting values in the form they must agree in, field by field. A value
    is keyed once however many rows share it (companies, birthdays, addresses repeat)."""
    known: dict[str, dict[str, str]] = defaultdict(dict)
    out = []
    for r in records:
        keys = {}
        for f, v in r.supporting.items():
            if not v:
                continue
            seen = known[f]
            k = seen.get(v)
            if k is None:
                k = seen[v] = support_key(f, v)
            if k:
                keys[f] = k
        out.append(keys)
    return out


def name_similarity(a: tuple[str, str], b: tuple[str, str], cutoff: float = 0.0) -> float:
    """0..1; below `cutoff` may be reported as 0 (rapidfuzz then stops early)."""
    if not a[0] or not b[0]:
        return 0.0
    if a[0] == b[0] or a[1] == b[1]:
        return 1.0
    compact = Indel.normalized_similarity(a[0], b[0], score_cutoff=cutoff)
    swapped = Indel.normalized_similarity(a[1], b[1], score_cutoff=cutoff)
    return compact if compact > swapped else swapped


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
        first_with: dict[str, int] = {}
        for r in records:
            value = r.certain.get(field_name)
            if not value:
                continue
            # Each later row pairs with the first: the row a merge would keep.
            first = first_with.setdefault(value.lower(), r.index)
            if first != r.index:
                agreeing[(first, r.index)].append(field_name)
    pairs = []
    for (a, b), fields in sorted(agreeing.items()):
        if frozenset((a, b)) in ignored:
            continue
        same = " and ".join(labels.get(f, f) for f in fields)
        pairs.append(DuplicatePair(a, b, "certain", 1.0, f"same {same}", tuple(fields)))
    return pairs


def _possible_pairs(records: Sequence[IdentityRecord], ignored: set,
                    labels: Mapping[str, str]) -> list[DuplicatePair]:
    named = [r for r in records if r.name]
    if len(named) < 2:
        return []
    keys = [name_key(r.name) for r in named]
    support = support_keys(named)
    first, second = _candidates(keys, support)
    if len(first) == 0:
        return []
    # Score every candidate in one call (C, all cores); only the few similar ones go on.
    scores = []
    for k in (0, 1):  # compact, and sorted tokens (swapped given/family name)
        spelled = np.array([key[k] for key in keys], dtype=object)
        scores.append(process.cpdist(spelled[first].tolist(), spelled[second].tolist(),
                                     scorer=Indel.normalized_similarity,
                                     score_cutoff=NAME_THRESHOLD, workers=-1))
    best = np.maximum(scores[0], scores[1])
    pairs = []
    for n in best.nonzero()[0].tolist():
        x, y = int(first[n]), int(second[n])
        a, b = named[x], named[y]
        if frozenset((a.index, b.index)) in ignored:
            continue
        agree = [f for f, k in support[x].items() if support[y].get(f) == k]
        if not agree:
            continue
        similarity = float(best[n])
        score = round(0.8 * similarity + 0.1 * min(len(agree), 2), 2)
        how = "same name" if similarity == 1.0 else f"similar names ({similarity:.0%})"
        # Supporting phones agree on their digits (see support_key), so say so.
        same = ", ".join(labels.get(f, f) + (" digits" if f == "phone" else "") for f in agree)
        reason = f"{how}: {a.name!r} and {b.name!r}; same {same}"
        pairs.append(DuplicatePair(a.index, b.index, "possible", score, reason, tuple(agree)))
    pairs.sort(key=lambda p: (p.a, p.b))
    return pairs


def _candidates(keys: Sequence[tuple[str, str]],
                support: Sequence[Mapping[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs worth scoring, as two arrays of positions (first < second). A possible duplicate
    must share a supporting value, so rows are blocked by those; inside each block only near
    neighbours in name order are paired (sorted neighbourhood), in three orders: by the name,
    by the name reversed (a typo at either end still lands near its twin) and by its sorted
    words (given and family name swapped). A block no bigger than the window is paired all
    against all."""
    # A block is one (field, value): numbered by numpy's sort, not a dict per member.
    members = [f"{f}\x1f{k}" for fields in support for f, k in fields.items()]
    if not members:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    blocks = np.unique(np.array(members), return_inverse=True)[1].astype(np.int64).ravel()
    rows = np.repeat(np.arange(len(support), dtype=np.int64), [len(f) for f in support])
    found = []
    for spelled in ([k[0] for k in keys], [k[0][::-1] for k in keys], [k[1] for k in keys]):
        # Rank names once (integers sort fast and stay small whatever the names' length);
        # numpy orders text by code point, as Python does, and its stable sort keeps ties.
        rank = np.empty(len(keys), dtype=np.int64)
        rank[np.argsort(np.array(spelled), kind="stable")] = np.arange(len(keys))
        order = np.lexsort((rank[rows], blocks))
        b, r = blocks[order], rows[order]
        for step in range(1, WINDOW):
            same_block = b[:-step] == b[step:]
            found.append(np.stack((r[:-step][same_block], r[step:][same_block])))
    pairs = np.concatenate(found, axis=1)
    pairs = pairs[:, pairs[0] != pairs[1]]
    lo, hi = np.minimum(pairs[0], pairs[1]), np.maximum(pairs[0], pairs[1])
    combined = lo * len(keys) + hi
    if combined.size == 0:
        return lo, hi
    combined.sort()
    unique = combined[np.concatenate(([True], combined[1:] != combined[:-1]))]
    return unique // len(keys), unique % len(keys)


def _fields(records: Sequence[IdentityRecord], which: str) -> list[str]:
    seen: dict[str, None] = {}
    for r in records:
        for f in getattr(r, which):
            seen.setdefault(f)
    return list(seen)
