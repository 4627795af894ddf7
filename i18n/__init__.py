"""Texts for people, in their language: gettext catalogs managed with Babel.

A text is marked where it is made, `_("{column}: is empty", column=header)`, and is a `Message`:
the English text itself (a `str`: comparing, logging and printing it works as before) that also
knows its message id and parameters, so `render(message, lang)` can say it again in another
language later, where that language is known: the sheet's (its template's language) where the
sheet's text is made, the command line's (`cli_language()`) where the CLI prints. A rule decides
before any language is known; it only builds messages, and loads no catalog (rules stay pure).

Catalogs: i18n/locale/<lang>/LC_MESSAGES/sheetkeeper.po, compiled to .mo and shipped in the
package; the template i18n/sheetkeeper.pot is extracted from the source. English is the source
language and needs no catalog. `make messages` extracts and updates, `make catalogs` compiles
(see ARCHITECTURE.md, "How to add a translatable text"); tests/test_i18n.py fails when a text
has no translation.

Placeholders are str.format's, by name. A spec names how Babel formats the value for the
language: `{n:number}` (1,234), `{share:percent}` (93%), `{day:date}` (2 January 2026 /
2026年1月2日), `{day:month}` (January 2026 / 2026年1月); any other spec is str.format's own.
English is formatted as en_GB writes it (the day first, as sheetkeeper always wrote dates). A
parameter that is a Message is rendered in the same language.
"""
from __future__ import annotations

import functools
import gettext
import os
import string
from pathlib import Path
from typing import Any

DOMAIN = "sheetkeeper"
LOCALE_DIR = Path(__file__).with_name("locale")
SOURCE = "en"
# How pybabel and tests/test_i18n.py find the texts: `_(msgid, **params)` and
# `_n(singular, plural, n, **params)`.
KEYWORDS = {"_": (1,), "_n": (1, 2)}


class Message(str):
    """A text for people: its English form, and what renders it in another language."""

    def __new__(cls, msgid: str, params: dict[str, Any] | None = None,
                plural: str | None = None, n: int | None = None) -> "Message":
        params = params or {}
        pattern = msgid if plural is None or n == 1 else plural
        self = super().__new__(cls, _format(pattern, params, SOURCE) if params else pattern)
        self.msgid, self.params, self.plural, self.n = msgid, params, plural, n
        return self

    def __reduce__(self):
        # Pickled back from a forked worker, or a copy: the English text is kept, not made again.
        return _restore, (str(self), self.msgid, self.params, self.plural, self.n)

    def __repr__(self) -> str:
        return f"Message({str.__repr__(self)})"

    def dump(self) -> dict:
        """A JSON-able form that `load` makes a Message of again (the seen state keeps them).
        Made once per message: the service saves the same findings after every edit. (The
        same dict each time: callers only serialise it.)"""
        out = self.__dict__.get("_dump_made")
        if out is None:
            out = {"id": self.msgid, "text": str(self)}
            if self.params:
                out["params"] = {k: _dumped(v) for k, v in self.params.items()}
            if self.plural is not None:
                out["plural"], out["n"] = self.plural, self.n
            self._dump_made = out
        return out


def _restore(text, msgid, params, plural, n) -> Message:
    self = str.__new__(Message, text)
    self.msgid, self.params, self.plural, self.n = msgid, params, plural, n
    return self


def _(msgid: str, **params: Any) -> Message:
    """A text to be said in the reader's language: `_("{column}: is empty", column=header)`."""
    return Message(msgid, params)


def _n(singular: str, plural: str, count: int, /, **params: Any) -> Message:
    """A text whose words follow a count: `_n("{n} day", "{n} days", n, n=n)`."""
    return Message(singular, params, plural, count)


def dump(value: Any) -> Any:
    """`value` as JSON-able data: a Message as a tagged dict, anything else as it is."""
    return value.dump() if isinstance(value, Message) else value


def _dumped(value: Any) -> Any:
    """A parameter as JSON-able data that `load` gives back as it was where it matters (a date
    is formatted as a date again, not as its ISO text)."""
    import datetime as dt
    if isinstance(value, Message):
        return value.dump()
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def load(value: Any) -> Any:
    """What `dump` gave, back: a Message again (a plain text stays a plain text)."""
    if isinstance(value, dict):
        if "id" in value and "text" in value:
            params = {k: load(v) for k, v in value.get("params", {}).items()}
            message = _restore(value["text"], value["id"], params, value.get("plural"),
                               value.get("n"))
            message._dump_made = value     # dumped again (a finding restated): as it was
            return message
        import datetime as dt
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
    return value


def render(text: Any, lang: str | None) -> Any:
    """`text` in `lang` (a sheet's "zh-CN", a locale's "zh_CN.UTF-8"): a Message translated
    (its English text where the catalog has none), anything else as it is."""
    if not isinstance(text, Message):
        return text
    code = catalog_language(lang)
    if code == SOURCE:
        return str.__str__(text)
    translations = _translations(code)
    if text.plural is None:
        pattern = translations.gettext(text.msgid)
    else:
        pattern = translations.ngettext(text.msgid, text.plural, text.n)
    return _format(pattern, text.params, code)


def say(text: Any) -> Any:
    """`text` in the command line's language."""
    return render(text, cli_language())


def error_text(error: BaseException) -> str:
    """An exception's message in the command line's language (str(error) where it is not a
    Message)."""
    if len(error.args) == 1 and isinstance(error.args[0], Message):
        return say(error.args[0])
    return str(error)


# --- languages ----------------------------------------------------------------------------

def available() -> tuple[str, ...]:
    """The languages texts can be said in: English and each shipped catalog."""
    return (SOURCE, *_catalogs())


@functools.cache
def _catalogs() -> tuple[str, ...]:
    if not LOCALE_DIR.is_dir():
        return ()
    return tuple(sorted(p.name for p in LOCALE_DIR.iterdir()
                        if (p / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()))


@functools.lru_cache(maxsize=64)
def catalog_language(lang: str | None) -> str:
    """The catalog that says `lang`: "zh-CN", "zh_CN.UTF-8", "zh", "zh-Hans" -> "zh_CN";
    English, "C", an unknown language or None -> "en"."""
    if not lang:
        return SOURCE
    tag = lang.split(".")[0].split("@")[0].replace("-", "_")
    if tag in ("C", "POSIX", ""):
        return SOURCE
    catalogs = _catalogs()
    if tag in catalogs:
        return tag
    language = tag.split("_")[0].lower()
    same = [c for c in catalogs if c.split("_")[0].lower() == language]
    return same[0] if same else SOURCE


_chosen: str | None = None


def use_language(lang: str | None) -> None:
    """The command line's language from here on (`--lang`); None: the locale's again."""
    global _chosen
    _chosen = lang


def cli_language(environ: os._Environ | dict | None = None) -> str:
    """The language the command line speaks: `--lang`, else the first of LANGUAGE (a list,
    as gettext reads it), LC_ALL, LC_MESSAGES, LANG that is set, else (Windows) the display
    language."""
    if _chosen:
        return catalog_language(_chosen)
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if not value:
            continue
        if name == "LANGUAGE":
            # A list in order of preference: the first we have (English is always had).
            for part in value.split(":"):
                code = catalog_language(part)
                if part and (code != SOURCE or part.split("_")[0].lower() in ("en", "c")):
                    return code
            continue
        return catalog_language(value)
    return _windows_language() if environ is None else SOURCE


def _windows_language() -> str:
    """Windows sets none of the locale variables: its display language, as gettext's own
    documentation suggests finding it (GetUserDefaultUILanguage, a Windows language ID, in
    locale.windows_locale). Elsewhere, English. (Only a real Windows answers this: the tests'
    Windows mode does not reach it.)"""
    import sys
    if sys.platform != "win32":
        return SOURCE
    try:
        import ctypes
        import locale
        ui = ctypes.windll.kernel32.GetUserDefaultUILanguage()
        return catalog_language(locale.windows_locale.get(ui))
    except (AttributeError, OSError, ImportError):
        return SOURCE


@functools.cache
def _translations(code: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)


@functools.cache
def catalog_stamp() -> str:
    """What the shipped catalogs are, in a few characters: a sheet judged under other catalogs
    has its texts said again (once) in the new words."""
    import hashlib
    digest = hashlib.sha256()
    for code in _catalogs():
        digest.update(code.encode())
        digest.update((LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes())
    return digest.hexdigest()[:12]


def from_english(text: str, lang: str | None) -> str:
    """English words a message once made (a reason the audit log kept), said in `lang`: found
    in the catalog as a whole message, or as one whose fields the words fill ("merge of
    C-000001 + C-000004: filled from C-000004"); words no message made stay as they are."""
    code = catalog_language(lang)
    if code == SOURCE or not text:
        return text
    return _reworded(text, code, 2)


@functools.lru_cache(maxsize=8192)
def _reworded(text: str, code: str, depth: int) -> str:
    translations = _translations(code)
    said = translations.gettext(text)
    if said != text or depth == 0:
        return said
    for pattern, msgid in _patterns(code):
        m = pattern.fullmatch(text)
        if m:
            params = {k: _reworded(v, code, depth - 1) for k, v in m.groupdict().items()}
            return _format(translations.gettext(msgid), params, code)
    return text


@functools.cache
def _patterns(code: str) -> list:
    """(regex of a message's English, msgid) for every message of the catalog with fields and
    words of its own, the most specific (most fixed words) first."""
    import re
    catalog = getattr(_translations(code), "_catalog", {})
    out = []
    for msgid in catalog:
        if not isinstance(msgid, str) or "{" not in msgid:
            continue
        regex, names, fixed = [], set(), 0
        try:
            parsed = list(string.Formatter().parse(msgid))
        except ValueError:
            continue
        for literal, name, _spec, _conv in parsed:
            regex.append(re.escape(literal))
            fixed += len(literal)
            if name is not None:
                regex.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
                names.add(name)
        words = sum(ch.isalpha() for literal, *_rest in parsed for ch in literal)
        # A message of fields and punctuation alone ("{column}: {why}") would match any
        # words at all: only messages with words of their own are looked for.
        if names and words >= 4 and all(n.isidentifier() for n in names):
            out.append((fixed, re.compile("".join(regex), re.DOTALL), msgid))
    out.sort(key=lambda item: -item[0])
    return [(pattern, msgid) for _fixed, pattern, msgid in out]


# --- formatting ---------------------------------------------------------------------------

class _Formatter(string.Formatter):
    def __init__(self, code: str):
        self.code = code

    def format_field(self, value: Any, spec: str) -> str:
        if isinstance(value, BaseException) and len(value.args) == 1 \
                and isinstance(value.args[0], Message):
            value = value.args[0]      # an error of sheetkeeper's own, said within another
        if isinstance(value, Message):
            value = render(value, self.code)
        if spec in ("number", "percent", "date", "month"):
            return _babel_format(value, spec, self.code)
        return format(value, spec)


@functools.cache
def _formatter(code: str) -> _Formatter:
    return _Formatter(code)


def _format(pattern: str, params: dict[str, Any], code: str) -> str:
    if not params:
        return pattern
    if code == SOURCE and not _babel_specs(pattern):
        # English: a Message parameter is its English text already, and str.format is three
        # times as fast as a Formatter (every finding of a 100k-row list is made here).
        return pattern.format_map(params)
    return _formatter(code).vformat(pattern, (), params)


@functools.lru_cache(maxsize=4096)
def _babel_specs(pattern: str) -> bool:
    return any(spec in ("number", "percent", "date", "month")
               for _text, _name, spec, _conv in string.Formatter().parse(pattern) if spec)


def _babel_format(value: Any, spec: str, code: str) -> str:
    # Babel only where a spec asks for it: importing it costs every command a few
    # milliseconds.
    import datetime as dt
    code = "en_GB" if code == SOURCE else code
    if spec == "number" and isinstance(value, (int, float)):
        from babel.numbers import format_decimal
        return format_decimal(value, locale=code)
    if spec == "percent" and isinstance(value, (int, float)):
        from babel.numbers import format_percent
        return format_percent(value, locale=code)
    if spec == "date" and isinstance(value, dt.date):
        from babel.dates import format_date
        return format_date(value, format="long", locale=code)
    if spec == "month" and isinstance(value, dt.date):
        from babel.dates import format_skeleton
        return format_skeleton("yMMMM", value, locale=code)
    return str(value)
