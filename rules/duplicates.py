"""Finding the same person entered more than once.

Pairs are scored, not ruled on: every field of a pair (name, email, phone, birthday, address,
company: which fields count is template data) agrees at some level, and each level is
evidence for or against one person (rules.evidence: Fellegi–Sunter weights, common values
counting less). A pair whose evidence outweighs the prior odds against it is a possible
duplicate, for a person to look at. A pair is **certain** only where a person would merge it
without looking: it shares an identity value (ID, email, phone) exactly, its names are one
person's (spelled alike, swapped, a nickname, an initial, the other script, a typo), and
nothing rules it out (two different birthdays). Certain pairs alone may be merged
automatically.

Candidate pairs come from blocking, never from all pairs: rows are grouped by keys they share
(phone, mailbox, birthday, company or address, each word of the name in pinyin where it is
hanzi), and inside a large group only near neighbours in name order are paired (sorted
neighbourhood). Work grows with rows × keys × a fixed window, not rows²; a pair whose name
differs is still found when its birthday or phone agrees.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import contextlib
import functools
import gc
from dataclasses import dataclass
from itertools import chain
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from i18n import _

from . import evidence
from .evidence import NAME_CLOSE, NAME_FAIR, Coded, coded, weight
from .name_forms import NameForm, equivalent, given_names_apart, name_forms

RANK_PREFIX = 64    # characters of a name that place it in name order
WINDOW = 6          # a row is paired with the next WINDOW-1 rows of its block, in name order
# Name levels, strongest first; "equivalent" is found only for pairs it could make duplicates.
EXACT, EQUIVALENT, CLOSE, FAIR, DIFFERENT, NO_NAME = range(6)
# Each level's weight, indexed by level (an exact name's is its own: common names count less).
NAME_WEIGHT = np.array([0.0, weight("name_equivalent"), weight("name_close"), weight("name_fair"),
                        weight("name_different"), 0.0])
COMPATIBLE = (EXACT, EQUIVALENT, CLOSE, NO_NAME)     # names that may be one person's
HOPE_SLACK = 1e-6   # weights are tens of bits: rounding moves a sum by 1e-13 at most


class IdentityRecord(NamedTuple):
    """What dedupe needs of one row, already normalised by the cell rules: the row-shaped form,
    handy for a few rows (IdentityColumns is the form for a whole sheet)."""

    index: int                                  # position in the caller's list
    name: str = ""
    certain: Mapping[str, str] = MappingProxyType({})      # field -> value
    supporting: Mapping[str, str] = MappingProxyType({})   # field -> value


class IdentityColumns(NamedTuple):
    """What dedupe needs of every row, a column per field: "" where a row has no value."""

    index: Sequence[int]                        # each row's position in the caller's list
    names: Sequence[str]
    certain: Mapping[str, Sequence[str]]        # field -> value per row (values that passed)
    supporting: Mapping[str, Sequence[str]]     # field -> value per row (as typed, too)
    kinds: Mapping[str, str] | None = None      # field -> column type, where known

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
    score: float            # the chance that the two rows are one person
    reason: str
    fields: tuple[str, ...]  # the fields that agree


def find_duplicates(identities: IdentityColumns | Sequence[IdentityRecord],
                    ignore: Iterable[frozenset[int]] = (),
                    labels: Mapping[str, str] | None = None) -> list[DuplicatePair]:
    """Every duplicate pair once, certain ones first, as the callers' indexes. `ignore`: pairs a
    person said to keep; `labels`: how to name each field in the reason (the sheet's header).
    Rows that are one person certainly are paired with the first of them only (the row a
    merge would keep): a group of five is four pairs, not ten."""
    if not isinstance(identities, IdentityColumns):
        identities = IdentityColumns.of(identities)
    if len(identities.index) < 2:
        return []
    asked = (_plain(identities), frozenset(ignore), dict(labels or {}))
    for earlier, pairs in _answered:
        if earlier == asked:        # the same rows, values and labels: the same pairs
            return list(pairs)
    with _no_cycle_collection():
        pairs = _find(identities, asked[1], asked[2])
    _answered.insert(0, (asked, tuple(pairs)))
    del _answered[ANSWERS_KEPT:]
    return pairs


# The last answers, by what was asked: the service plans a list again after every edit, and an
# edit to a status, a note or a date other than the birthday leaves every value duplicates are
# found by as it was. (Compared whole, in C: a few milliseconds at 100k rows.)
ANSWERS_KEPT = 8
_answered: list[tuple[tuple, tuple[DuplicatePair, ...]]] = []


@contextlib.contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused while the pairs are found: they make hundreds of
    thousands of small tuples and lists (none in a cycle), and each full collection they
    set off walks every object of the process (0.6 s of a first call at 100k rows)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _plain(identities: IdentityColumns) -> tuple:
    """What an answer depends on, in a form `==` compares by value."""
    return (list(identities.index), list(identities.names),
            {f: list(v) for f, v in identities.certain.items()},
            {f: list(v) for f, v in identities.supporting.items()}, dict(identities.kinds or {}))


def _find(identities: IdentityColumns, ignored: frozenset, labels: dict[str, str]
          ) -> list[DuplicatePair]:
    scoring = _Scoring(identities, labels)
    a, b = scoring.candidates()
    if len(a) == 0:
        return []
    index = identities.index
    found = [p for p in scoring.judge(a, b)
             if frozenset((index[p.a], index[p.b])) not in ignored]
    group = _groups([p for p in found if p.kind == "certain"],
                    [bool(f.words) for f in scoring.forms])
    certain = [scoring.reported(p, index, "certain") for p in _star(scoring, found, group)]
    # Pairs of rows not in one group (a nameless row between two people) are for a person.
    possible = [scoring.reported(p, index, "possible")
                for p in found if not (p.a in group and group.get(p.b) == group[p.a])]
    return certain + sorted(possible, key=lambda p: (p.a, p.b))


def _star(scoring: "_Scoring", found: list[_Judged], group: dict[int, int]) -> list[_Judged]:
    """Each row of a group paired with its group's first row, certain by the group, with the
    score and reason of that pair judged as it is (it may not share a value itself)."""
    star = {(min(first, row), max(first, row)) for row, first in group.items() if row != first}
    judged = {(p.a, p.b): p for p in found if (p.a, p.b) in star}
    missing = sorted(star - judged.keys())
    if missing:
        for p in scoring.judge(np.array([x for x, _ in missing]),
                               np.array([y for _, y in missing]), every=True):
            judged[(p.a, p.b)] = p
    return [judged[pair] for pair in sorted(star, key=lambda xy: (xy[1], xy[0]))]


class _Judged(NamedTuple):
    """A pair as judged, its reason not yet in words (a group's pairs beside its star are
    judged and never reported)."""

    a: int
    b: int
    kind: str
    score: float
    fields: tuple[str, ...]          # the fields that agree
    names: tuple[int, float, str | None]                # name level, similarity, how
    agreed: tuple[tuple[str, int, float | None], ...]   # each field that agrees: its level,
                                                        # its words' similarity


# -- what the last calls worked out, by its inputs ---------------------------------------------
# The service plans the list again after every edit, and an edit changes one row: the fields
# and names it left as they were are coded as they were. (A list compared whole, in C: a
# millisecond at 100k rows.) The arrays kept are never written to.
FIELDS_KEPT = 16      # a template's identity fields, a few times over
NAMES_KEPT = 2
_fields_kept: list[tuple[str, list[str], Coded, np.ndarray]] = []
_names_kept: list["_Names"] = []


def _field(kind: str, values: Sequence[str]) -> tuple[Coded, np.ndarray]:
    """A field's codes and the weight of an exact agreement on each row's value."""
    values = list(values)
    for earlier_kind, earlier, field, exact in _fields_kept:
        if earlier_kind == kind and earlier == values:
            return field, exact
    field = coded(kind, values)
    exact = evidence.exact_weights(kind, field.codes)
    _read_only(*field[:2], *field[3:], exact)
    _fields_kept.insert(0, (kind, values, field, exact))
    del _fields_kept[FIELDS_KEPT:]
    return field, exact


def _names_of(names: list[str]) -> "_Names":
    for earlier in _names_kept:
        if earlier.names == names:
            return earlier
    named = _Names(names)
    _read_only(*vars(named).values(), *named.words)
    _names_kept.insert(0, named)
    del _names_kept[NAMES_KEPT:]
    return named


def _read_only(*kept) -> None:
    """Arrays kept for later calls: a slip that writes to one fails, not the next answer."""
    for x in kept:
        if isinstance(x, np.ndarray):
            x.flags.writeable = False


def forget() -> None:
    """Forget what earlier calls worked out (tests: a fresh call to compare with)."""
    _answered.clear()
    _fields_kept.clear()
    _names_kept.clear()
    _words_known.clear()
    _word_numbers.clear()


class _Names:
    """A list's names in the forms they are compared in, as arrays (for many pairs at once),
    and the words they are blocked by. Each is worked out per distinct name (a list's names
    repeat), then spread to the rows."""

    def __init__(self, names: list[str]):
        self.names = list(names)
        self.forms = name_forms(self.names)
        distinct = dict(zip(self.names, self.forms))
        place = evidence.places(self.names, list(distinct))
        forms = list(distinct.values())
        # A name's exact form: its words sorted; a hanzi name's own characters (张伟 and 张卫
        # are both "zhang wei" in pinyin, and two people).
        self.codes = evidence.codes_of([f.native if f.hanzi else f.sorted for f in forms])[place]
        self.exact = evidence.exact_weights("name", self.codes)
        self.hanzi = np.array([f.hanzi for f in forms], dtype=bool)[place]
        self.latin = np.array([f.latin for f in forms], dtype=object)[place]
        self.ordered = np.array([f.sorted for f in forms], dtype=object)[place]
        self.native = np.array([f.native for f in forms], dtype=object)[place]
        self.in_order = self.latin == self.ordered
        self.characters = np.array(["".join(sorted(f.native)) if f.hanzi else ""
                                    for f in forms], dtype=object)[place]
        self.words = _name_words(distinct, place)


# The words each name is blocked by, as numbers, for the names seen lately (pure: of the name
# alone), and the words' numbers (kept with them: one is cleared with the other).
REMEMBERED_WORDS = 400_000
_words_known: dict[str, tuple[int, ...]] = {}
_word_numbers: dict[str, int] = {}


def _name_words(distinct: dict[str, NameForm], place: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(word, row) for each row's name as a whole and each of its words of two letters or
    more, each once. A name's words are worked out once per distinct name (`distinct`: each
    name's form; `place`: each row's name's place among them) and spread to its rows with
    numpy."""
    if len(_words_known) > REMEMBERED_WORDS or len(_word_numbers) > REMEMBERED_WORDS:
        _words_known.clear()
        _word_numbers.clear()
    number = _word_numbers
    for name, form in distinct.items():
        if name not in _words_known:
            _words_known[name] = tuple(
                number.setdefault(w, len(number))
                for w in {form.sorted, *(w for w in form.words if len(w) > 1)}) \
                if form.sorted else ()
    per_name = list(map(_words_known.__getitem__, distinct))
    counts = np.fromiter(map(len, per_name), dtype=np.int64, count=len(per_name))
    numbers = np.fromiter(chain.from_iterable(per_name), dtype=np.int64, count=int(counts.sum()))
    starts = np.cumsum(counts) - counts
    row_counts = counts[place]
    rows = np.repeat(np.arange(len(place)), row_counts)
    # Each entry: its name's first word's place, plus how far into the name it is.
    within = np.arange(len(rows)) - np.repeat(np.cumsum(row_counts) - row_counts, row_counts)
    return numbers[np.repeat(starts[place], row_counts) + within], rows


class _Scoring:
    """The rows' forms, worked out once, and the pairs judged on them."""

    def __init__(self, identities: IdentityColumns, labels: dict[str, str]):
        self.rows = len(identities.index)
        self.names = list(identities.names)
        self.labels = labels
        fields = list(dict.fromkeys([*identities.certain, *identities.supporting]))
        self.kinds = evidence.kinds_of(identities.kinds, fields)
        # A field's evidence: its values as typed where the template lets them support a
        # name (an invalid phone's digits), else the values that passed their rule.
        self.fields: dict[str, Coded] = {}
        self.exact: dict[str, np.ndarray] = {}
        self.values: dict[str, Sequence[str]] = {}
        for f in fields:
            values = self.values[f] = identities.supporting.get(f) or identities.certain[f]
            self.fields[f], self.exact[f] = _field(self.kinds[f], values)
        # Values that passed their rule, for a certain pair: the same codes where the field
        # has no other column.
        self.certain = {f: (self.fields[f].codes if f not in identities.supporting
                            or list(values) == list(identities.supporting[f])
                            else _field(self.kinds[f], values)[0].codes)
                        for f, values in identities.certain.items()}
        named = _names_of(self.names)
        self.forms, self.name_codes, self.name_exact = named.forms, named.codes, named.exact
        self.hanzi, self.latin, self.ordered = named.hanzi, named.latin, named.ordered
        self.native, self.in_order, self.characters = \
            named.native, named.in_order, named.characters
        self.words = named.words
        self.prior = evidence.prior(self.rows)

    # -- candidates ------------------------------------------------------------------------

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """Pairs worth scoring (first < second): rows sharing a key, near in name order. A
        block is a field's code (or a word's) plus the field's offset: numbers unique across
        fields, made without a dict of keys."""
        blocks, members, offset = [], [], 0
        for field in self.fields.values():
            # Both forms of a field where it has two (an address as words, and as typed).
            for codes in (field.codes, field.second):
                if codes is None:
                    continue
                rows = _shared(codes)
                blocks.append(codes[rows] + offset)
                members.append(rows)
                offset += int(codes.max(initial=-1)) + 1
        words, rows = self.words
        keep = _shared(words, rows)
        blocks.append(words[keep] + offset)
        members.append(rows[keep])
        return _sorted_neighbourhood(np.concatenate(blocks), np.concatenate(members),
                                     _name_order(self._in_name_order()), self.rows)

    def _in_name_order(self) -> list[str]:
        """What places a row in name order: its name, then the rest of what it says (so that
        rows of one name are ordered by their content, not by where they stand in the sheet:
        the pairs found do not depend on the rows' order)."""
        rest = ["\0".join(parts) for parts in zip(*self.values.values())] \
            if self.values else [""] * self.rows
        return [f"{f.latin}\0{r}" for f, r in zip(self.forms, rest)]

    # -- judging ---------------------------------------------------------------------------

    def judge(self, a: np.ndarray, b: np.ndarray, every: bool = False
              ) -> list[_Judged]:
        """The pairs (a[k], b[k]) that are duplicates, judged; `every`: all of them, judged
        or not (a group's rows paired with its first). What costs most (names' and texts'
        similarity, nicknames) is worked out only for the pairs it can decide."""
        personal, shared, veto, levels, shares = self._fields_of(a, b)
        texts = [f for f in self.fields if self.kinds[f] == "text"]
        text_gain = weight("text_close") - weight("text_different") if texts else 0.0
        if not every:
            keep = np.flatnonzero(shares | (self._most(a, b, personal, shared, levels, texts)
                                            >= -HOPE_SLACK))
            a, b, personal, veto, shares = (x[keep] for x in (a, b, personal, veto, shares))
            shared = {f: w[keep] for f, w in shared.items()}
            levels = {f: v[keep] for f, v in levels.items()}
        # The most the names and a text alike could add: where even that is not enough, and
        # no identity value is shared, the pair is not one person whatever its names.
        best_name = np.maximum(self.name_exact[a], weight("name_equivalent"))
        hopeful = personal + evidence.household(shared, len(a)) + best_name + text_gain
        decide = every | shares | (hopeful >= 0)
        name_level, name_score = self._names(a, b, decide)
        name_w = NAME_WEIGHT[name_level]
        exact_name = name_level == EXACT
        name_w[exact_name] = self.name_exact[a[exact_name]]
        personal += name_w
        similar: dict[str, dict[int, float]] = {}
        for f in texts:
            # Text alike but not the same counts only where it could tip the pair.
            hope = (personal + evidence.household(shared, len(a)) + text_gain
                    + weight("name_equivalent") >= 0)
            todo = np.flatnonzero(hope & (levels[f] == 1))
            close = self._similar(self.fields[f], a, b, todo, similar.setdefault(f, {}))
            levels[f][todo[close]] = 2
            shared[f][todo[close]] = weight("text_close")
        total = personal + evidence.household(shared, len(a))
        total, name_level, why_names = self._equivalents(a, b, total, name_level, name_w)
        self._given_names_apart(a, b, total, name_level, name_w, shares | (total >= 0))
        certain = shares & np.isin(name_level, COMPATIBLE) & ~veto
        possible = ~certain & ~veto & (total >= 0)
        chosen = np.arange(len(a)) if every else np.flatnonzero(certain | possible)
        out = []
        for k in chosen.tolist():
            agree = tuple(f for f in self.fields if levels[f][k] >= 2)
            out.append(_Judged(int(a[k]), int(b[k]), "certain" if certain[k] else "possible",
                               round(evidence.chance(float(total[k])), 2), agree,
                               (int(name_level[k]), float(name_score[k]), why_names.get(k)),
                               tuple((f, int(levels[f][k]), similar.get(f, {}).get(k))
                                     for f in agree)))
        return out

    def _most(self, a, b, personal, shared, levels, texts) -> np.ndarray:
        """The most each pair's evidence can come to, whatever is found below: its own name's
        weight where the names are the same, else an equivalent name's (the most a name that
        differs can weigh), and each text that differs found alike (which adds at most
        text_gain to the household's evidence). Most candidates come to less than nothing,
        share no identity value, and cannot be duplicates: they are judged no further. (Each
        pair is judged on its own, so the others' judgement is as it would be among all;
        HOPE_SLACK: a sum's rounding in another order cannot tip a pair.)"""
        ca, cb = self.name_codes[a], self.name_codes[b]
        same_name = (ca >= 0) & (ca == cb)
        most = personal + evidence.household(shared, len(a)) \
            + np.where(same_name, self.name_exact[a], weight("name_equivalent"))
        for f in texts:
            most += (levels[f] == 1) * (weight("text_close") - weight("text_different"))
        return most

    def _fields_of(self, a: np.ndarray, b: np.ndarray):
        """Each pair's evidence from its fields: (the prior and the personal fields' weights,
        the shareable fields' weights, vetoed, each field's level, shares an identity
        value)."""
        personal = np.full(len(a), self.prior)
        shared: dict[str, np.ndarray] = {}  # fields a household shares: phone, email, address
        veto = np.zeros(len(a), dtype=bool)
        levels = {}
        for f, field in self.fields.items():
            w, levels[f], v = evidence.field_weights(self.kinds[f], field, self.exact[f], a, b)
            if self.kinds[f] in evidence.SHARED:
                shared[f] = w
            else:
                personal += w
            veto |= v
        shares = np.zeros(len(a), dtype=bool)
        for f, codes in self.certain.items():
            if codes is self.fields[f].codes and self.kinds[f] != "text":
                shares |= levels[f] == 3        # the same values, already compared
            else:
                shares |= (codes[a] >= 0) & (codes[a] == codes[b])
        return personal, shared, veto, levels, shares

    def _names(self, a: np.ndarray, b: np.ndarray, decide: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's name level and similarity (Jaro-Winkler on the names in pinyin, in
        order or with their words sorted), worked out where it can `decide` the pair (the
        others: different)."""
        ca, cb = self.name_codes[a], self.name_codes[b]
        present = (ca >= 0) & (cb >= 0)
        level = np.full(len(a), NO_NAME, dtype=np.int8)
        score = np.zeros(len(a))
        level[present & (ca == cb)] = EXACT
        score[present & (ca == cb)] = 1.0
        level[present & (ca != cb) & ~decide] = DIFFERENT
        todo = np.flatnonzero(present & (ca != cb) & decide)
        if len(todo):
            x, y = a[todo], b[todo]
            # Hanzi names by their characters; names in two scripts, and latin ones, in pinyin
            # and letters, in order and with their words sorted (given and family swapped).
            both = self.hanzi[x] & self.hanzi[y]
            first = np.where(both, self.native[x], self.latin[x])
            second = np.where(both, self.native[y], self.latin[y])
            s = process.cpdist(first.tolist(), second.tolist(),
                               scorer=JaroWinkler.normalized_similarity, workers=-1)
            swap = np.flatnonzero(~both & ~(self.in_order[x] & self.in_order[y]))
            if len(swap):
                s[swap] = np.maximum(s[swap], process.cpdist(
                    self.ordered[x[swap]].tolist(), self.ordered[y[swap]].tolist(),
                    scorer=JaroWinkler.normalized_similarity, workers=-1))
            # Two hanzi names alike in sound (an input-method slip, 李民菁 / 李民婧) or with their
            # characters in another order (彭莉维 / 彭维莉): as close as a typo is.
            slip = both & ((self.latin[x] == self.latin[y])
                           | (self.characters[x] == self.characters[y]))
            s[slip] = np.maximum(s[slip], NAME_CLOSE)
            score[todo] = s
            level[todo] = np.where(s >= NAME_CLOSE, CLOSE, np.where(s >= NAME_FAIR, FAIR,
                                                                     DIFFERENT))
        return level, score

    def _given_names_apart(self, a, b, total, name_level, name_w, deciding) -> None:
        """Names alike overall whose other words clearly differ ('Linda Brownwell' / 'David
        Brownwell') are different names: looked at for the pairs it decides."""
        todo = np.flatnonzero(deciding & np.isin(name_level, (CLOSE, FAIR)))
        for k in todo.tolist():
            if given_names_apart(self.forms[a[k]], self.forms[b[k]]):
                total[k] += weight("name_different") - name_w[k]
                name_level[k] = DIFFERENT

    def _equivalents(self, a, b, total, name_level, name_w):
        """Names not alike in spelling that are one person's all the same (a nickname, an
        initial, the other script, a name left out): looked at where it would tip the pair."""
        gain = weight("name_equivalent") - name_w
        todo = np.flatnonzero(np.isin(name_level, (FAIR, DIFFERENT)) & (total + gain >= 0))
        why: dict[int, str] = {}
        for k in todo.tolist():
            how = equivalent(self.forms[a[k]], self.forms[b[k]])
            if how is not None:
                why[k] = how
                total[k] += gain[k]
                name_level[k] = EQUIVALENT
        return total, name_level, why

    def _similar(self, field: Coded, a, b, todo: np.ndarray, remember: dict) -> np.ndarray:
        """Which of the pairs `todo` have the field's words alike (token set >= TEXT_CLOSE)."""
        if not len(todo):
            return np.zeros(0, dtype=bool)
        texts = field.texts
        alike = process.cpdist([texts[i] for i in a[todo].tolist()],
                               [texts[i] for i in b[todo].tolist()],
                               scorer=fuzz.token_set_ratio, workers=-1)
        remember.update(zip(todo.tolist(), alike.tolist()))
        return alike >= evidence.TEXT_CLOSE

    def reported(self, p: _Judged, index: Sequence[int], kind: str) -> DuplicatePair:
        """A judged pair as the caller knows it: its rows by the caller's indexes, its reason
        in words."""
        return DuplicatePair(index[p.a], index[p.b], kind, p.score, self._reason(p), p.fields)

    def _reason(self, p: _Judged) -> str:
        x, y, (name_level, name_score, how) = p.a, p.b, p.names
        parts = [evidence.describe(self.kinds[f], self.labels.get(f, f), level, similarity)
                 for f, level, similarity in p.agreed]
        said = _names_said(self.forms[x], self.forms[y], name_level, name_score, how)
        if said is not None:
            parts.append(said if said == "same name"
                         else _("{said}: {one} / {other}", said=said, one=repr(self.names[x]),
                                other=repr(self.names[y])))
        return _list(parts)


def _names_said(fx: NameForm, fy: NameForm, level: int, score: float, how: str | None
                ) -> str | None:
    """How two names compare, in words (the names themselves follow), or None (no name)."""
    if level == EXACT:
        if fx.hanzi != fy.hanzi:
            return _("the same name in pinyin")
        return _("same name") if fx.native == fy.native or fx.latin == fy.latin \
            else _("names swapped")
    if level == EQUIVALENT:
        return how
    if level in (CLOSE, FAIR):
        if fx.hanzi and fy.hanzi:
            if fx.latin == fy.latin:
                return _("names that sound the same")
            if sorted(fx.native) == sorted(fy.native):
                return _("the same characters in another order")
        elif fx.hanzi != fy.hanzi:
            return (_("the same name in pinyin") if score == 1.0
                    else _alike(round(score, 2), True))
        return _alike(round(score, 2), False)
    return _("different names") if level == DIFFERENT else None


# A pair's words are made for every pair found (a hundred thousand in a big list), and few of
# them differ: each phrase is made once.
@functools.lru_cache(maxsize=1024)
def _alike(score: float, in_pinyin: bool) -> str:
    return (_("names {score:percent} alike in pinyin", score=score) if in_pinyin
            else _("names {score:percent} alike", score=score))


def _list(parts: list[str]) -> str:
    """The pieces of a reason, one after another: "same Phone, same name"."""
    if len(parts) < 2:
        return parts[0] if parts else ""
    # Keyed by each piece's text and message id: one text, one meaning in every language.
    return _joined(tuple((p, getattr(p, "msgid", None)) for p in parts))


@functools.lru_cache(maxsize=65536)
def _joined(pieces: tuple[tuple[str, str | None], ...]) -> str:
    parts = [p for p, _ in pieces]
    text = parts[0]
    for part in parts[1:]:
        # TRANSLATORS: two pieces of a duplicate pair's reason, one after the other.
        text = _("{reasons}, {reason}", reasons=text, reason=part)
    return text


def _groups(certain: list[_Judged], named: Sequence[bool]) -> dict[int, int]:
    """The groups of rows certainly one person, as each row's group (its smallest row): pairs
    chain (a shares the email of b, b the phone of c). A row without a name joins a group only
    where every row it certainly pairs with is in that one group: it cannot tell a household's
    Ann from its Tom, and never joins two groups into one. Its pairs elsewhere stay possible."""
    first: dict[int, int] = {}

    def root(x: int) -> int:
        while first.get(x, x) != x:
            x = first[x]
        return x

    both = [p for p in certain if named[p.a] and named[p.b]]
    for p in both:
        ra, rb = root(p.a), root(p.b)
        if ra != rb:
            first[max(ra, rb)] = min(ra, rb)
    group = {x: root(x) for p in both for x in (p.a, p.b)}
    partners: dict[int, set[int]] = {}
    for p in certain:
        if named[p.a] != named[p.b]:
            nameless, other = (p.a, p.b) if not named[p.a] else (p.b, p.a)
            partners.setdefault(nameless, set()).add(group.get(other, other))
    for nameless, groups in partners.items():
        if len(groups) == 1:
            (joined,) = groups
            group.setdefault(joined, joined)
            group[nameless] = joined
    # A group's first row is its smallest, the nameless row included.
    smallest: dict[int, int] = {}
    for row, g in group.items():
        smallest[g] = min(smallest.get(g, row), row)
    return {row: smallest[g] for row, g in group.items()}


def _shared(codes: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Where a key is held by more than one row (a block of one pairs nothing): the rows, or
    (with `rows`, each entry's row) the entries."""
    present = codes >= 0
    counts = np.bincount(codes[present]) if present.any() else np.zeros(0, dtype=np.int64)
    many = present.copy()
    many[present] = counts[codes[present]] > 1
    return np.flatnonzero(many) if rows is None else many


def _name_order(spelled: list[str]) -> np.ndarray:
    """Each name's place in name order (integers sort fast and stay small whatever the names'
    length). Only the first RANK_PREFIX characters count: a numpy text array is as wide as its
    longest entry, and one 30,000-character cell would make it gigabytes."""
    if max(map(len, spelled), default=0) > RANK_PREFIX:
        spelled = [s[:RANK_PREFIX] for s in spelled]
    rank = np.empty(len(spelled), dtype=np.int64)
    rank[np.argsort(np.array(spelled or [""]), kind="stable")[:len(spelled)]] = \
        np.arange(len(spelled))
    return rank


def _sorted_neighbourhood(block: np.ndarray, rows: np.ndarray, rank: np.ndarray, size: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Each row paired with the next WINDOW-1 rows of each of its blocks in name order (a
    block no bigger than the window: all against all), each pair once, first < second."""
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    # By block, then name order, as one number (a row is in a block once and has its own
    # place in name order: the numbers differ, and one argsort is twice as fast as lexsort).
    order = np.argsort(block * size + rank[rows], kind="stable")
    b, r = block[order], rows[order]
    found = []
    for step in range(1, WINDOW):
        same = b[:-step] == b[step:]
        found.append(np.stack((r[:-step][same], r[step:][same])))
    pairs = np.concatenate(found, axis=1)
    pairs = pairs[:, pairs[0] != pairs[1]]
    combined = np.minimum(pairs[0], pairs[1]) * size + np.maximum(pairs[0], pairs[1])
    combined.sort()     # each pair once: sorted, then the first of each run (no hash table)
    combined = combined[np.concatenate(([True], combined[1:] != combined[:-1]))[:len(combined)]]
    return combined // size, combined % size


def name_similarity(a: str, b: str) -> float:
    """0..1: how alike two names are, as the finder compares them (1.0 for the same name in
    another order or script)."""
    x, y = name_forms([a, b])
    if not x.words or not y.words:
        return 0.0
    if x.sorted == y.sorted:
        return 1.0
    return max(JaroWinkler.normalized_similarity(x.latin, y.latin),
               JaroWinkler.normalized_similarity(x.sorted, y.sorted))

