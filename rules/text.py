"""Names, free text and tags: white space, full-width forms and (for Latin names) letter case.

Only full-width ASCII (U+FF01–FF5E) and the ideographic space are folded, not all of NFKC: a
person's ①, ﬁ or half-width katakana are theirs to keep. CJK text is never re-cased; a Latin name
is re-cased only when it was typed all upper or all lower ("JOHN MCDONALD"), word by word: Mc,
the common Mac names, O' and D', particles such as van and de after the first word, and Roman
numerals. (nameparser does this too, but at ~230 µs a name it cost seconds per 100k rows; the
rules it applies to case alone are these few, so they live here, with tests.)
"""
from __future__ import annotations

import re
from functools import lru_cache

from i18n import _

from .outcome import Normalised, Outcome, Problem, shown

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = re.compile(r"\s+")
_LINE_SPACES = re.compile(r"[^\S\n]+")
_LATIN_NAME = re.compile(r"[A-Za-z\u00C0-\u024F .,'’\-]+")
_TAG_SEPARATORS = re.compile(r"[,;，；、|\n]+")
# A space between two Han characters in a name is alignment padding ("张 伟"), not a word break.
_HAN_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff]) (?=[\u3400-\u9fff\uf900-\ufaff])")
MAX_NAME_LENGTH = 200


def fold_fullwidth(text: str) -> str:
    """Full-width ASCII to ASCII, ideographic space to space; zero-width characters removed."""
    if text.isascii():      # none of those is ASCII; most cells are, and the check is free
        return text
    return text.translate(_FULLWIDTH).translate(_INVISIBLE)


def tidy_line(text: str) -> str:
    return _SPACES.sub(" ", fold_fullwidth(text)).strip()


def tidy_lines(text: str) -> str:
    """Like tidy_line, but keeps the line breaks of a multi-line cell (an address)."""
    lines = (_LINE_SPACES.sub(" ", ln).strip() for ln in fold_fullwidth(text).splitlines())
    return "\n".join(ln for ln in lines if ln)


_TIDIED = _("removed extra spaces and full-width forms")


def _changed(before: object, after: str, reason: str) -> Outcome:
    return None if after == before else Normalised(after, reason)


@lru_cache(maxsize=262_144, typed=True)
def normalise_text(value: object) -> Outcome:
    if not isinstance(value, str):
        return None
    return _changed(value, tidy_lines(value), _TIDIED)


@lru_cache(maxsize=262_144, typed=True)
def normalise_name(value: object) -> Outcome:
    if not isinstance(value, str):
        return Problem("invalid_name", _("{value} is not a name; type the person's name",
                                         value=shown(value)))
    if len(value) > MAX_NAME_LENGTH:
        return Problem("invalid_name",
                       _("{n:number} characters is too long for a name; "
                         "move the extra text to Notes", n=len(value)))
    tidy = _HAN_GAP.sub("", tidy_line(value))
    cased = recase_latin_name(tidy)
    if cased != tidy:
        reason = _("fixed the capitals of a name typed all in one case")
    else:
        reason = _TIDIED
    return _changed(value, cased, reason)


def recase_latin_name(name: str) -> str:
    """'JOHN MCDONALD' -> 'John McDonald'; a mixed-case or non-Latin name comes back as it is."""
    letters = [ch for ch in name if ch.isalpha()]
    if len(letters) < 2 or not _LATIN_NAME.fullmatch(name):
        return name
    if name not in (name.upper(), name.lower()):
        return name
    words = name.lower().split(" ")
    return " ".join(_recase_word(w, first=(i == 0)) for i, w in enumerate(words))


_PARTICLES = frozenset("van von der den de del della di da du la le dos das ter ten bin al y "
                       "e zu".split())
_MAC_NAMES = frozenset("macdonald macleod mackenzie macintyre macarthur macmillan macgregor "
                       "maclean macpherson mackay maclaren macneil macaulay macbeth".split())
_ROMAN = frozenset("ii iii iv vi vii viii".split())
_WORD_PART = re.compile(r"([\-])")


def _recase_word(word: str, first: bool) -> str:
    bare = word.rstrip(".,")
    if not first and bare in _PARTICLES:
        return word
    if bare in _ROMAN:
        return word.upper()
    return "".join(_recase_part(p) for p in _WORD_PART.split(word))


def _recase_part(part: str) -> str:
    if not part or part == "-":
        return part
    if len(part) > 2 and part[1] in "'’" and part[0] in "od":   # O'Brien, D'Angelo
        return part[0].upper() + part[1] + part[2:].capitalize()
    if part.startswith("mc") and len(part) > 3:
        return "Mc" + part[2:].capitalize()
    if part.rstrip(".,") in _MAC_NAMES:
        return "Mac" + part[3:].capitalize()
    return part.capitalize()


@lru_cache(maxsize=262_144, typed=True)
def normalise_tags(value: object) -> Outcome:
    if not isinstance(value, str):
        return None
    seen: dict[str, str] = {}
    for part in _TAG_SEPARATORS.split(fold_fullwidth(value)):
        tag = tidy_line(part)
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return _changed(value, ", ".join(seen.values()),
                    _("one comma between tags, no repeats or extra spaces"))
