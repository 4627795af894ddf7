"""Translations: every text for people has its Chinese words, the compiled catalogs say what the
.po files say and ship in the package, and a Message renders in the language asked for."""
from __future__ import annotations

import datetime as dt
import gettext
import pickle
import string

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import i18n
from i18n import _, _n, render
from tests.conftest import ROOT

SOURCES = ("rules", "sync", "service", "audit", "sheet_templates", "i18n")
LANGUAGES = ("zh_CN",)


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> the files it is in, as `make messages` extracts them."""
    out: dict[str, set[str]] = {}
    for folder in SOURCES:
        for filename, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, [("**.py", "python")], keywords=i18n.KEYWORDS,
                comment_tags=(), strip_comment_tags=True):
            msgid = message[0] if isinstance(message, tuple) else message
            out.setdefault(msgid, set()).add(f"{folder}/{filename}")
    return {k: tuple(sorted(v)) for k, v in out.items()}


def catalog(code: str):
    with open(ROOT / "i18n" / "locale" / code / "LC_MESSAGES" / "sheetkeeper.po", "rb") as f:
        return read_po(f, locale=code)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_text_for_people_has_a_translation(code):
    """Fails with the texts to translate: run `make messages`, translate them in the .po,
    `make catalogs` (ARCHITECTURE.md, "How to add a translatable text")."""
    po = catalog(code)
    missing = []
    for msgid, where in extracted().items():
        entry = po.get(msgid)
        strings = (entry.string if isinstance(entry.string, tuple) else (entry.string,)) \
            if entry is not None else ("",)
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(f"{msgid!r} ({', '.join(where)})")
    assert not missing, f"{len(missing)} texts have no {code} translation:\n" + "\n".join(missing)


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_translation_keeps_the_placeholders(code):
    wrong = []
    for entry in catalog(code):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set().union(*map(fields, ids))
        for s in strings:
            if s and fields(s) - wanted:
                wrong.append(f"{ids[0]!r} -> {s!r}")
    assert not wrong


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_compiled_catalog_says_what_the_po_says(code):
    """The .mo the package ships is compiled from the .po as it is (`make catalogs`)."""
    path = ROOT / "i18n" / "locale" / code / "LC_MESSAGES" / "sheetkeeper.mo"
    with open(path, "rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for entry in catalog(code):
        if not entry.id or entry.fuzzy or not entry.string:
            continue
        if isinstance(entry.id, tuple):
            got = tuple(mo.ngettext(*entry.id, n) for n in (1, 2))
            if got[0] != entry.string[0]:
                stale.append(entry.id[0])
        elif mo.gettext(entry.id) != entry.string:
            stale.append(entry.id)
    assert not stale, "run `make catalogs`: " + ", ".join(map(repr, stale))


def test_the_package_data_ships_the_catalogs():
    import tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "i18n*" in data["packages"]["find"]["include"]
    assert data["package-data"]["i18n"] == ["locale/*/LC_MESSAGES/*.mo"]
    assert set(LANGUAGES) <= set(i18n.available())


def test_a_message_is_its_english_text_and_renders_in_chinese():
    m = _("not a valid number for {region}: it {detail}", region="CN",
          detail=_("has too few digits"))
    assert m == "not a valid number for CN: it has too few digits" and isinstance(m, str)
    assert render(m, "en") == m and type(render(m, "en")) is str
    assert render(m, "zh-CN") == render(m, "zh_CN.UTF-8") == "不是 CN 的有效号码：位数太少"
    assert render("plain text", "zh-CN") == "plain text"


def test_numbers_percentages_and_dates_follow_the_language():
    m = _("{n:number} rows, {share:percent} alike, since {day:date}", n=12345, share=0.93,
          day=dt.date(2026, 1, 2))
    assert m == "12,345 rows, 93% alike, since 2 January 2026"
    # No catalog entry needed to see Babel's formats: an untranslated text keeps its words.
    assert i18n._format("{day:date}", {"day": dt.date(2026, 1, 2)}, "zh_CN") == "2026年1月2日"


def test_plurals_and_nested_messages():
    one, many = (_n("{n} day", "{n} days", n, n=n) for n in (1, 3))
    assert (one, many) == ("1 day", "3 days")
    outer = _("{column}: {why}", column="Phone", why=_("is not a phone number"))
    assert outer == "Phone: is not a phone number"


def test_a_message_survives_pickle_and_json():
    m = _("{column}: {why}", column="Phone", why=_n("{n} day", "{n} days", 2, n=2))
    back = pickle.loads(pickle.dumps(m))
    assert back == m and back.msgid == m.msgid and back.params["why"].plural == "{n} days"
    import orjson
    loaded = i18n.load(orjson.loads(orjson.dumps(i18n.dump(m))))
    assert loaded == m and render(loaded, "zh-CN") == render(m, "zh-CN")
    assert i18n.load("plain") == "plain" and i18n.dump("plain") == "plain"
    # A date stays a date: said again from the seen state, it reads as it did when judged.
    ambiguous = _("could be {first:date} or {second:date}; type it as {first_iso} or "
                  "{second_iso}, or pass --date-order dmy or mdy", first=dt.date(2024, 5, 3),
                  second=dt.date(2024, 3, 5), first_iso="2024-05-03", second_iso="2024-03-05")
    again = i18n.load(orjson.loads(orjson.dumps(i18n.dump(ambiguous))))
    assert render(again, "zh-CN") == render(ambiguous, "zh-CN") and "2024年5月3日" in \
        render(again, "zh-CN")


@pytest.mark.parametrize("env, lang", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANGUAGE": "fr:zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),
    ({"LANGUAGE": "en:zh_CN", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANG": "zh_TW.UTF-8"}, "zh_CN"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
])
def test_the_command_line_language_follows_the_locale(env, lang):
    assert i18n.cli_language(env) == lang


def test_lang_overrides_the_locale():
    try:
        i18n.use_language("zh-CN")
        assert i18n.cli_language({"LANG": "en_US.UTF-8"}) == "zh_CN"
    finally:
        i18n.use_language(None)


def test_no_text_is_marked_where_extraction_cannot_see_it():
    """`_()` inside an f-string is invisible to pybabel (Python 3.11 reads an f-string as one
    token), and `_(f"…")` has no fixed text to translate."""
    import io
    import re
    import tokenize
    hidden = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
            previous = None
            for tok in tokens:
                if tok.type == tokenize.STRING:
                    prefix = re.match(r"[a-zA-Z]*", tok.string).group().lower()
                    if "f" in prefix and re.search(r"\b_n?\(", tok.string):
                        hidden.append(f"{path.relative_to(ROOT)}:{tok.start[0]}")
                    if "f" in prefix and previous is not None and previous[:2] == ("(", "_"):
                        hidden.append(f"{path.relative_to(ROOT)}:{tok.start[0]}")
                if tok.type not in (tokenize.NL, tokenize.COMMENT):
                    previous = (tok.string, previous[0] if previous else None)
    assert not hidden


def _stores_underscore(function) -> bool:
    """Whether `function` binds `_` in its own scope (not in a comprehension's, nor a nested
    function's): `_()` would then call that, not i18n's."""
    import ast
    todo = list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
                             ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
            return True
        todo.extend(ast.iter_child_nodes(node))
    return False


def test_no_function_that_says_a_text_binds_underscore_itself():
    import ast
    shadowed = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text())
            if not any(isinstance(n, ast.ImportFrom) and n.module == "i18n"
                       and any(a.name == "_" for a in n.names) for n in ast.walk(tree)):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and _stores_underscore(node):
                    shadowed.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not shadowed


def test_an_error_said_within_a_message_is_said_in_the_same_language():
    inner = ValueError(_("has too few digits"))
    outer = _("not a valid number for {region}: it {detail}", region="CN", detail=inner)
    assert outer == "not a valid number for CN: it has too few digits"
    assert render(outer, "zh-CN") == "不是 CN 的有效号码：位数太少"


def test_english_words_a_message_made_are_said_again_from_the_catalog():
    """The audit log keeps a reason's English; `sheetkeeper audit` says it in the reader's
    language by finding the message that made it."""
    assert i18n.from_english("merge of C-000001 + C-000004: filled from C-000004", "zh-CN") \
        == "合并 C-000001 + C-000004：从 C-000004 补填"
    assert i18n.from_english("a new row gets the next free ID", "zh-CN") == "新行获得下一个可用编号"
    assert i18n.from_english("not a valid number for CN: it has too few digits", "zh-CN") \
        == "不是 CN 的有效号码：位数太少"
    assert i18n.from_english("typed by a person, no message", "zh-CN") == \
        "typed by a person, no message"
    assert i18n.from_english("merge of C-1 + C-2", "en") == "merge of C-1 + C-2"
