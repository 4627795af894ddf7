"""The forms in which two people's names are compared.

A name is folded (full-width to half-width, case folded) and split into words; a name in hanzi
is also spelled in pinyin (pypinyin), so that "张伟" meets "Zhang Wei"; a name's words are also
sorted, so that "Wei Zhang" meets "Zhang Wei". Given names are matched through nicknames
("Bob" / "Robert", "Bill" / "William": the curated list of the `nicknames` package) and
initials ("A. Lee" / "Anna Lee"). Each distinct name is worked out once per call: a list's
names repeat ("张伟"), and pypinyin costs about 15 µs a name.
"""
from __future__ import annotations

import functools
from collections import Counter
import re
import unicodedata
from typing import NamedTuple, Sequence

from i18n import _

_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDS = re.compile(r"[^\W_]+")


class NameForm(NamedTuple):
    native: str            # folded, without spaces: 'zhangwei', '张伟'
    words: tuple[str, ...]  # latin words, in order: ('zhang', 'wei') for both 'Zhang Wei' and 张伟
    latin: str             # the words joined: 'zhangwei'
    sorted: str            # the words sorted, joined: 'weizhang'
    hanzi: bool


EMPTY = NameForm("", (), "", "", False)


def fold(text: str) -> str:
    """Full-width to half-width, case folded: the form text is compared in."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


# The forms of the names seen lately, kept between calls: the service plans the same list again
# after every edit, and its names are what they were.
REMEMBERED_NAMES = 400_000
_known: dict[str, NameForm] = {}


def name_forms(names: Sequence[str]) -> list[NameForm]:
    """The NameForm of each name ("" gives EMPTY)."""
    if len(_known) > REMEMBERED_NAMES:
        _known.clear()
    known = _known
    out = []
    for name in names:
        form = known.get(name)
        if form is None:
            form = known[name] = _form(name)
        out.append(form)
    return out


def _form(name: str) -> NameForm:
    if name.isascii():
        # Most names: letters and digits are words, all else (and "_") a space; no hanzi.
        words = name.encode().translate(ASCII_WORDS).decode().split()
        if not words:
            return EMPTY
        latin = "".join(words)
        return NameForm(latin, tuple(words), latin, "".join(sorted(words)), False)
    words = _WORDS.findall(fold(name))
    if not words:
        return EMPTY
    native = "".join(words)
    hanzi = bool(_HANZI.search(native))
    if hanzi:
        words = _pinyin_words(words)
    return NameForm(native, tuple(words), "".join(words), "".join(sorted(words)), hanzi)


# A byte table (bytes.translate is eight times as fast as str.translate with a dict) that
# keeps an ASCII text's letters, lowered, and digits, and makes all else a space.
ASCII_WORDS = bytes(ord(chr(c).lower()) if c < 128 and chr(c).isalnum() else ord(" ")
                    for c in range(256))


def _pinyin_words(words: list[str]) -> list[str]:
    """Words with their hanzi spelled in pinyin, a word per syllable of a hanzi run ('张伟' ->
    'zhang', 'wei'; a Chinese given name written in pinyin is mostly one word, 'Zhang Xiaoming'
    -> 'zhang', 'xiaoming', so a hanzi given name is also joined: see latin_variants)."""
    out: list[str] = []
    for word in words:
        if not _HANZI.search(word):
            out.append(word)
            continue
        run = ""
        for char in word:
            if _HANZI.match(char):
                if run:
                    out.append(run)
                    run = ""
                out.append(_syllable(char))
            else:
                run += char
        if run:
            out.append(run)
    return out


@functools.cache
def _pinyin_dict() -> dict[int, str]:
    """pypinyin's dictionary of each character's readings, loaded on its own: importing it as
    `pypinyin.pinyin_dict` runs the package's __init__ first, which loads its phrase
    dictionaries and segmenter (0.5 s) that reading a name one character at a time never uses
    (0.04 s this way)."""
    import importlib.util
    import os
    package = importlib.util.find_spec("pypinyin")
    path = os.path.join(package.submodule_search_locations[0], "pinyin_dict.py")
    spec = importlib.util.spec_from_file_location("sheetkeeper_pinyin_dict", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pinyin_dict


@functools.lru_cache(maxsize=None)
def _syllable(char: str) -> str:
    """A hanzi's pinyin, without tone ('张' -> 'zhang', '吕' -> 'lv', as pypinyin writes ü):
    its first reading in pypinyin's dictionary. (A name is read a character at a time: there
    is no phrase in it to read. The dictionary alone loads in half the time pypinyin takes.)"""
    readings = _pinyin_dict().get(ord(char))
    if readings is None:
        return char
    first = readings.split(",")[0].replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v") \
        .replace("ǚ", "v").replace("ǜ", "v")
    return "".join(c for c in unicodedata.normalize("NFKD", first)
                   if not unicodedata.combining(c))


def latin_variants(form: NameForm) -> set[str]:
    """The ways the name's letters may be grouped into words when written in pinyin: a hanzi
    name's given name is one word ('Zhang Xiaoming'), its family name first or last."""
    variants = {form.latin, form.sorted}
    if form.hanzi and len(form.words) > 2:
        family, given = form.words[0], "".join(form.words[1:])
        variants |= {family + given, given + family}
    return variants


@functools.cache
def _nicknamer():
    from nicknames import NickNamer
    return NickNamer()


@functools.lru_cache(maxsize=4096)
def given_names_alike(a: str, b: str) -> bool:
    """Whether two given names are one person's: the same, or one a short form of the other
    ('Bob' / 'Robert', 'Libby' / 'Elizabeth', 'Chris' / 'Christopher'). The curated list also
    relates full names to each other ('Hannah' / 'Susan', both forms of Susannah; 'Emily' /
    'Amelia'): two full names are two people. A short form is short (four letters at most),
    the start of the long name, or a diminutive (-y, -ie: 'Peggy', 'Debbie') that is not
    itself a name with many short forms ('Emily')."""
    if a == b:
        return True
    namer = _nicknamer()
    if not (b in namer.nicknames_of(a) | namer.canonicals_of(a)
            or a in namer.nicknames_of(b) | namer.canonicals_of(b)):
        return False
    short, long_ = sorted((a, b), key=len)
    return (len(short) <= 4 or long_.startswith(short)
            or short.endswith(("y", "ie", "ey", "i")) and len(namer.nicknames_of(short)) <= 4)


def given_names_apart(x: NameForm, y: NameForm) -> bool:
    """Two names alike overall whose words, beside the ones they share, are clearly not one
    person's: 'Linda Brownwell' and 'David Brownwell' (a long family name makes the whole
    names 93% alike)."""
    if x.hanzi or y.hanzi or len(x.words) < 2 or len(y.words) < 2:
        return False
    common, rest_x, rest_y = _beside(x.words, y.words)
    if not common or not rest_x or not rest_y:
        return False
    from rapidfuzz.distance import JaroWinkler
    for a in rest_x:
        for b in rest_y:
            if (JaroWinkler.normalized_similarity(a, b) >= 0.8 or a[0] == b[0] and
                    (len(a) == 1 or len(b) == 1) or given_names_alike(a, b)):
                return False
    return True


def _beside(x: tuple[str, ...], y: tuple[str, ...]) -> tuple[bool, list[str], list[str]]:
    """Whether two names have a word in common, and each one's words beside the ones both
    have, counted ('Thomas Thomas' has one Thomas more than 'Thomas, Catherine': it is not part
    of it), in the name's order."""
    xs, ys = set(x), set(y)
    if len(xs) == len(x) and len(ys) == len(y):     # no word twice (most names): sets will do
        return not xs.isdisjoint(ys), [w for w in x if w not in ys], [w for w in y if w not in xs]
    cx, cy = Counter(x), Counter(y)
    return bool(cx & cy), list((cx - cy).elements()), list((cy - cx).elements())


def equivalent(x: NameForm, y: NameForm) -> str | None:
    """How two names that are not spelled alike are still one person's name, in words, or None:
    the other script, a nickname, an initial, or one name part of the other (a given name left
    out)."""
    if not x.words or not y.words:
        return None
    if x.hanzi and y.hanzi:
        # Two hanzi names are alike in sound or characters (a typo: see duplicates._names) or
        # not at all: 任伟 and 任波伟, 赵维 and 赵芳伟, are a family's two people, not one name
        # with a part left out.
        return None
    if latin_variants(x) & latin_variants(y):
        return _("the same name in pinyin") if x.hanzi != y.hanzi else _("the same name")
    common, rest_x, rest_y = _beside(x.words, y.words)
    if not common:
        return None
    if not rest_x or not rest_y:
        return _("one name is part of the other")
    if len(rest_x) == 1 and len(rest_y) == 1:
        a, b = rest_x[0], rest_y[0]
        if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
            return _("an initial for the given name")
        if given_names_alike(a, b):
            return _("a nickname for the given name")
    return None
