"""Loads template files (TOML) into `model.Template` and checks them.

A broken template is a developer's or an administrator's mistake; the error names the file, the
line and the field so it can be fixed without guessing.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from .model import (
    COLUMN_TYPES, LANGS, MEASURES, STATUS_KEYS, Choice, ChoiceList, Column, DuplicateSpec,
    IdFormat, Ledger, Rollup, StatusSpec, Template,
)

HERE = Path(__file__).parent
BUILTIN = ("crm", "members")


class TemplateError(ValueError):
    """A template file that cannot be used; says where (file, line, field) and why."""

    def __init__(self, path: Path, line: int | None, field: str, problem: str):
        self.path, self.line, self.field, self.problem = path, line, field, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: template field '{field}': {problem}")


@cache
def builtin(name: str) -> Template:
    """One of the templates that ship with sheetkeeper, by name."""
    if name not in BUILTIN:
        raise TemplateError(HERE / f"{name}.toml", None, "name",
                            f"no template called {name!r}; choose one of: {', '.join(BUILTIN)}")
    return load(HERE / f"{name}.toml")


def templates_or_builtin(templates: Sequence[Template] | None) -> list[Template]:
    """The templates given, else every built-in one: what a table is read with when no
    template is named."""
    return list(templates) if templates else [builtin(n) for n in BUILTIN]


def load(path: Path, common_path: Path = HERE / "common.toml") -> Template:
    source = _read_text(path)
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as e:
        line = _line_from_toml_error(str(e))
        raise TemplateError(path, line, "(syntax)", str(e)) from None
    words = tomllib.loads(_read_text(common_path))
    return _Builder(path, source, data, words).build()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise TemplateError(path, None, "(file)", f"cannot read it: {e.strerror}") from None
    except UnicodeDecodeError:
        raise TemplateError(path, None, "(file)", "is not UTF-8 text") from None


def _line_from_toml_error(message: str) -> int | None:
    m = re.search(r"at line (\d+)", message)
    return int(m.group(1)) if m else None


class _Builder:
    """Walks the parsed TOML, converting and checking; `fail` locates the field in the source."""

    def __init__(self, path: Path, source: str, data: dict, words: dict):
        self.path, self.source, self.data, self.words = path, source, data, words
        self.lines = source.splitlines()

    def fail(self, field_path: tuple, problem: str) -> TemplateError:
        return TemplateError(self.path, self._locate(field_path), _dotted(field_path), problem)

    def _locate(self, field_path: tuple) -> int | None:
        """Best-effort line of `field_path` (like ('columns', 3, 'type')) in the TOML source."""
        start, end = 0, len(self.lines)
        rest = list(field_path)
        if len(rest) >= 2 and isinstance(rest[1], int):
            # [[columns]] array of tables: the n-th header opens the n-th element.
            headers = [i for i, ln in enumerate(self.lines)
                       if re.match(rf"\s*\[\[\s*{re.escape(rest[0])}\s*\]\]", ln)]
            if rest[1] < len(headers):
                start = headers[rest[1]]
                end = next((i for i in range(start + 1, len(self.lines))
                            if re.match(r"\s*\[", self.lines[i])), len(self.lines))
                rest = rest[2:]
            else:
                rest = rest[:1]
        elif len(rest) >= 2:
            table = re.escape(".".join(str(p) for p in rest[:2]))
            hit = next((i for i, ln in enumerate(self.lines)
                        if re.match(rf"\s*\[\s*{table}\s*\]", ln)), None)
            if hit is not None:
                start, rest = hit, rest[2:]
            else:
                hit = next((i for i, ln in enumerate(self.lines)
                            if re.match(rf"\s*\[\s*{re.escape(str(rest[0]))}\s*\]", ln)), None)
                if hit is not None:
                    start, rest = hit, rest[1:]
        key = next((p for p in rest if isinstance(p, str)), None)
        if key is None:
            return start + 1
        for i in range(start, end):
            if re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", self.lines[i]):
                return i + 1
        return start + 1

    # -- typed getters ----------------------------------------------------------------------

    def get(self, table: dict, key: str, path: tuple, kind: type | tuple, required: bool = True,
            default: Any = None) -> Any:
        if key not in table:
            if required:
                raise self.fail(path + (key,), "is missing")
            return default
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(path + (key,), f"must be {_kind_name(kind)}, not {type(value).__name__}")
        return value

    def texts(self, table: dict, key: str, path: tuple, required: bool = True) -> dict[str, str]:
        value = self.get(table, key, path, dict, required=required, default={})
        missing = [lang for lang in LANGS if required and lang not in value]
        if missing:
            raise self.fail(path + (key,), f"needs text for {', '.join(missing)}")
        for lang, text in value.items():
            if lang not in LANGS:
                raise self.fail(path + (key,), f"unknown language {lang!r}; use {', '.join(LANGS)}")
            if not isinstance(text, str) or not text.strip():
                raise self.fail(path + (key,), f"text for {lang} must be a non-empty string")
        return value

    def strings(self, table: dict, key: str, path: tuple, required: bool = False) -> tuple[str, ...]:
        value = self.get(table, key, path, list, required=required, default=[])
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(path + (key,), "must be a list of non-empty strings")
        return tuple(value)

    # -- the template -------------------------------------------------------------------------

    def build(self) -> Template:
        d = self.data
        columns = tuple(self.column(c, i) for i, c in enumerate(self.get(d, "columns", (), list)))
        keys = [c.key for c in columns]
        for i, k in enumerate(keys):
            if k in keys[:i]:
                raise self.fail(("columns", i, "key"), f"column key {k!r} is used twice")
        lists = {name: self.choice_list(name, t)
                 for name, t in self.get(d, "lists", (), dict).items()}
        ledgers = tuple(self.ledger(g, n) for n, g in
                        enumerate(self.get(d, "ledgers", (), list, required=False, default=[])))
        for path, owner in [(("columns",), columns),
                            *((("ledgers", n, "columns"), g.columns)
                              for n, g in enumerate(ledgers))]:
            for i, c in enumerate(owner):
                if c.type in ("choice", "status") and c.list not in lists:
                    raise self.fail(path + (i, "list"),
                                    f"names list {c.list!r}, which is not defined under [lists]")
        self._check_aliases_unique(columns)
        self._check_rollups(columns, ledgers)

        def column_ref(path: tuple, key: str, types: tuple[str, ...] | None = None) -> str:
            if key not in keys:
                raise self.fail(path, f"names column {key!r}, which the template does not have")
            if types and columns[keys.index(key)].type not in types:
                raise self.fail(path, f"column {key!r} must be of type {' or '.join(types)}")
            return key

        t_id = self.get(d, "id", (), dict)
        id_format = IdFormat(
            column=column_ref(("id", "column"), self.get(t_id, "column", ("id",), str), ("id",)),
            prefix=self.get(t_id, "prefix", ("id",), str),
            digits=self.get(t_id, "digits", ("id",), int),
        )
        if not 1 <= id_format.digits <= 12:
            raise self.fail(("id", "digits"), "must be between 1 and 12")
        t_status = self.get(d, "status", (), dict)
        follow_up = self.get(t_status, "follow_up", ("status",), str, required=False)
        also = tuple(column_ref(("status", "also"), k, ("date",))
                     for k in self.strings(t_status, "also", ("status",)))
        status = StatusSpec(
            column=column_ref(("status", "column"),
                              self.get(t_status, "column", ("status",), str), ("status",)),
            start=column_ref(("status", "start"),
                             self.get(t_status, "start", ("status",), str), ("date",)),
            activity=column_ref(("status", "activity"),
                                self.get(t_status, "activity", ("status",), str), ("date",)),
            follow_up=column_ref(("status", "follow_up"), follow_up, ("date",)) if follow_up else None,
            also=also,
        )
        status_list = lists[columns[keys.index(status.column)].list]
        if sorted(c.key for c in status_list.choices) != sorted(STATUS_KEYS):
            raise self.fail(("lists", status_list.key, "values"),
                            f"a status list must have exactly the keys {', '.join(STATUS_KEYS)}")
        t_dup = self.get(d, "duplicates", (), dict)
        duplicates = DuplicateSpec(
            certain=tuple(column_ref(("duplicates", "certain"), k)
                          for k in self.strings(t_dup, "certain", ("duplicates",), required=True)),
            name=column_ref(("duplicates", "name"),
                            self.get(t_dup, "name", ("duplicates",), str), ("name",)),
            supporting=tuple(column_ref(("duplicates", "supporting"), k)
                             for k in self.strings(t_dup, "supporting", ("duplicates",))),
        )
        t_req = self.get(d, "required", (), dict, required=False, default={})
        any_of = self.get(t_req, "any_of", ("required",), list, required=False, default=[])
        required_any = tuple(tuple(column_ref(("required", "any_of"), k) for k in group)
                             for group in any_of)
        regions = self.texts(d, "phone_region", (), required=False)
        return Template(
            name=self.get(d, "name", (), str),
            titles=self.texts(d, "title", ()),
            sheet_names=self.texts(d, "sheet", ()),
            columns=columns,
            lists=lists,
            id=id_format,
            status=status,
            duplicates=duplicates,
            required_any=required_any,
            phone_regions=regions,
            words=self.words,
            ledgers=ledgers,
        )

    def ledger(self, table: Any, n: int) -> Ledger:
        path = ("ledgers", n)
        if not isinstance(table, dict):
            raise self.fail(path, "each [[ledgers]] entry must be a table")
        columns = tuple(self.column(c, i, path + ("columns",)) for i, c in
                        enumerate(self.get(table, "columns", path, list)))
        keys = [c.key for c in columns]
        self._check_aliases_unique(columns)

        def role(name: str, types: tuple[str, ...]) -> str:
            key = self.get(table, name, path, str)
            if key not in keys or columns[keys.index(key)].type not in types:
                raise self.fail(path + (name,), f"must name a column of the ledger of type "
                                                f"{' or '.join(types)}")
            return key

        return Ledger(key=self.get(table, "key", path, str),
                      sheet_names=self.texts(table, "sheet", path), columns=columns,
                      customer_id=role("customer_id", ("ref",)),
                      customer=role("customer", ("text",)), date=role("date", ("date",)))

    def _check_rollups(self, columns: tuple[Column, ...], ledgers: tuple[Ledger, ...]) -> None:
        by_key = {g.key: g for g in ledgers}
        for i, c in enumerate(columns):
            r = c.rollup
            if r is None:
                continue
            path = ("columns", i, "rollup")
            if r.ledger not in by_key:
                raise self.fail(path, f"names ledger {r.ledger!r}, which is not defined")
            if r.of is not None and r.of not in {k.key for k in by_key[r.ledger].columns}:
                raise self.fail(path, f"ledger {r.ledger!r} has no column {r.of!r}")

    def column(self, table: Any, i: int, where: tuple = ("columns",)) -> Column:
        path = where + (i,)
        if not isinstance(table, dict):
            raise self.fail(path, "each [[columns]] entry must be a table")
        type_ = self.get(table, "type", path, str)
        if type_ not in COLUMN_TYPES:
            raise self.fail(path + ("type",),
                            f"unknown type {type_!r}; use one of: {', '.join(COLUMN_TYPES)}")
        list_name = self.get(table, "list", path, str, required=type_ in ("choice", "status"))
        width = self.get(table, "width", path, int, required=False, default=14)
        if not 4 <= width <= 120:
            raise self.fail(path + ("width",), "must be between 4 and 120")
        return Column(
            key=self.get(table, "key", path, str),
            type=type_,
            headers=self.texts(table, "header", path),
            aliases=self.strings(table, "aliases", path),
            help=self.texts(table, "help", path),
            required=self.get(table, "required", path, bool, required=False, default=False),
            width=width,
            list=list_name,
            rollup=self.rollup(table, path),
        )

    def rollup(self, table: dict, path: tuple) -> Rollup | None:
        spec = self.get(table, "rollup", path, dict, required=False)
        if spec is None:
            return None
        measure = self.get(spec, "measure", path + ("rollup",), str)
        if measure not in MEASURES:
            raise self.fail(path + ("rollup", "measure"),
                            f"unknown measure {measure!r}; use one of: {', '.join(MEASURES)}")
        return Rollup(self.get(spec, "ledger", path + ("rollup",), str), measure,
                      self.get(spec, "of", path + ("rollup",), str, required=False))

    def choice_list(self, name: str, table: Any) -> ChoiceList:
        path = ("lists", name)
        if not isinstance(table, dict):
            raise self.fail(path, "must be a table with a 'values' array")
        entries = self.get(table, "values", path, list)
        choices = []
        for j, entry in enumerate(entries):
            vpath = path + ("values",)
            if not isinstance(entry, dict):
                raise self.fail(vpath, f"value #{j + 1} must be an inline table")
            labels = {lang: entry.get(lang) for lang in LANGS}
            bad = [lang for lang, text in labels.items() if not isinstance(text, str) or not text]
            if bad:
                raise self.fail(vpath, f"value #{j + 1} needs a label for {', '.join(bad)}")
            key = entry.get("key")
            if not isinstance(key, str) or not key:
                raise self.fail(vpath, f"value #{j + 1} needs a 'key'")
            aliases = entry.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise self.fail(vpath, f"value #{j + 1}: aliases must be a list of strings")
            choices.append(Choice(key=key, labels=labels, aliases=tuple(aliases)))
        seen: dict[str, str] = {}
        for c in choices:
            for spelling in (*c.labels.values(), *c.aliases):
                folded = fold_label(spelling)
                if seen.get(folded, c.key) != c.key:
                    raise self.fail(path + ("values",),
                                    f"{spelling!r} stands for both {seen[folded]!r} and {c.key!r}")
                seen[folded] = c.key
        return ChoiceList(key=name, choices=tuple(choices))

    def _check_aliases_unique(self, columns: tuple[Column, ...]) -> None:
        seen: dict[str, str] = {}
        for i, c in enumerate(columns):
            for spelling in (*c.headers.values(), *c.aliases):
                folded = fold_label(spelling)
                if seen.get(folded, c.key) != c.key:
                    raise self.fail(("columns", i, "aliases"),
                                    f"{spelling!r} would name both {seen[folded]!r} and {c.key!r}")
                seen[folded] = c.key


def fold_label(text: str) -> str:
    """The form in which headers and dropdown values are compared: case, width, spaces and
    punctuation do not matter ('E-mail ' == 'email' == 'ＥＭＡＩＬ')."""
    import unicodedata
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _kind_name(kind: type | tuple) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", list: "a list",
             dict: "a table"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def sample_rows(name: str, lang: str) -> list[dict]:
    """Messy example rows for `install --with-samples` (may be empty for a language)."""
    data = tomllib.loads(_read_text(HERE / "samples.toml"))
    return list(data.get(name, {}).get(lang, []))


def sample_entries(name: str, lang: str) -> dict[str, list[dict]]:
    """Example entries for the ledger tabs (ledger key -> rows by column key), typed as
    people type them, for `install --with-samples`."""
    data = tomllib.loads(_read_text(HERE / "samples.toml"))
    return {k: list(v) for k, v in data.get("entries", {}).get(name, {}).get(lang, {}).items()}
