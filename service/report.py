"""Turning a Plan into what `check` prints: a stable JSON object for scripts, or text for people."""
from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from audit.log import OPEN_BOOK_MARK
from sync.export.safe import spreadsheet_safe   # the one definition: the exports' too

if TYPE_CHECKING:
    from sync.plan import Plan

LANG_NAMES = {"en": "English", "zh-CN": "Chinese"}


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _change(c) -> dict:
    return {"row_number": c.row_number, "id": c.row_id, "column": c.column,
            "before": _plain(c.before), "after": _plain(c.after), "rule": c.rule,
            "reason": c.reason}


def _finding(f) -> dict:
    return {"row_number": f.row_number, "id": f.row_id, "column": f.column, "kind": f.kind,
            "message": f.message}


def _duplicate(d) -> dict:
    return {"rows": list(d.rows), "ids": list(d.ids), "kind": d.kind, "score": d.score,
            "reason": d.reason}


def as_json(plan: Plan) -> dict:
    facts = plan.facts
    return {
        "sheet": facts.sheet,
        "rows": facts.rows,
        "template": facts.template,
        "lang": facts.lang,
        "changes": [_change(c) for c in plan.changes],
        "findings": [_finding(f) for f in plan.findings],
        "duplicates": [_duplicate(d) for d in plan.duplicates],
    }


def write_json(plan: Plan, out: TextIO, batch: str | None = None) -> None:
    """The same object as `as_json`, streamed one item per line: a 100k-row report never
    exists whole in memory. orjson encodes the items (a million of them for a messy 100k-row
    list, where json's encoder took ten seconds); dates come out as ISO text, as in as_json."""
    facts = plan.facts
    head = {"sheet": facts.sheet, "rows": facts.rows, "template": facts.template,
            "lang": facts.lang}
    if batch is not None:
        head["batch"] = batch
    write = _byte_writer(out)
    write(_encode(head)[:-1])
    for name, items in (("changes", _change_items(plan.changes)),
                        ("findings", (_finding(f) for f in plan.findings)),
                        ("duplicates", (_duplicate(d) for d in plan.duplicates))):
        write(b',"%s":[' % name.encode())
        chunk, first = [], True
        for item in items:
            chunk.append(_encode(item))
            if len(chunk) == 4096:
                write((b"\n  " if first else b",\n  ") + b",\n  ".join(chunk))
                chunk, first = [], False
        if chunk:
            write((b"\n  " if first else b",\n  ") + b",\n  ".join(chunk))
        write(b"]" if first and not chunk else b"\n]")
    write(b"}\n")


def _change_items(changes):
    # Inline rather than _change(): a function call per change costs a second at 100k rows.
    return ({"row_number": c.row_number, "id": c.row_id, "column": c.column,
             "before": c.before, "after": c.after, "rule": c.rule, "reason": c.reason}
            for c in changes)


def _encode(item: dict) -> bytes:
    try:
        return orjson.dumps(item)
    except orjson.JSONEncodeError:
        # What orjson refuses (an integer past 64 bits) json still writes.
        return json.dumps(item, ensure_ascii=False,
                          default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)
                          ).encode()


def _byte_writer(out: TextIO):
    """Write bytes to `out`: straight to the buffer under a text stream like stdout, decoded
    for a stream that has none (io.StringIO)."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        return lambda data: out.write(data.decode())
    out.flush()
    return buffer.write


def _show(value: Any, width: int = 36) -> str:
    if value is None:
        return "(empty)"
    text = json.dumps(_plain(value), ensure_ascii=False) if isinstance(value, str) \
        else str(_plain(value))
    text = text.replace("\\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def as_text(plan: Plan, limit: int = 50, batch: str | None = None) -> str:
    facts = plan.facts
    certain = sum(d.kind == "certain" for d in plan.duplicates)
    lines = [
        f"{facts.source} — sheet {facts.sheet!r}: {_count(facts.rows, 'row')} "
        f"(template {facts.template}, {LANG_NAMES.get(facts.lang, facts.lang)} headers"
        f"{', phone region ' + plan.region if plan.region else ''})",
    ]
    lines += [f"  note: {n}" for n in facts.notes]
    if plan.clean:
        lines.append("Clean: nothing to change, nothing to look at.")
        return "\n".join(lines) + "\n"
    wrote = batch not in (None, "dry run")
    changed = (f"{'Changed' if wrote else 'Would change'} {_count(len(plan.changes), 'cell')}"
               if plan.changes else "Nothing to change")
    lines.append(
        f"{changed}; "
        f"{_count(len(plan.findings), 'finding')} to look at; "
        f"{_count(len(plan.duplicates), 'duplicate pair')} "
        f"({certain} certain, {len(plan.duplicates) - certain} possible). "
        + (f"Written as batch {batch} (`sheetkeeper undo {batch}` reverts it)." if wrote
           else "Nothing was changed." if plan.changes else ""))

    def section(title: str, items: list, render) -> None:
        if not items:
            return
        lines.append("")
        lines.append(f"{title} ({len(items):,})")
        shown = items if limit <= 0 else items[:limit]
        lines.extend("  " + render(x) for x in shown)
        if len(items) > len(shown):
            lines.append(f"  … and {len(items) - limit:,} more (--limit 0 shows all, "
                         "--report json gives them to scripts)")

    notes = [c for c in plan.changes if c.rule == "findings"]
    section("Changes", [c for c in plan.changes if c.rule != "findings"], lambda c: (
        f"row {c.row_number:<5} {c.row_id or '':<10} {c.column}: {_show(c.before)} → "
        f"{_show(c.after)} — {c.reason}"))
    section("Findings", list(plan.findings), lambda f: (
        f"row {f.row_number:<5} {f.row_id or '':<10} {f.message}"))
    section("Duplicates", list(plan.duplicates), lambda d: (
        f"rows {d.rows[0]} and {d.rows[1]} ({d.ids[0] or 'no ID'}, {d.ids[1] or 'no ID'}): "
        f"{d.kind}, score {d.score:.2f}: {d.reason}"))
    if notes:
        lines.append("")
        lines.append(f"The {notes[0].column} column {'was' if wrote else 'would be'} updated "
                     f"in {_count(len(notes), 'row')} to say the above in the sheet.")
    return "\n".join(lines) + "\n"


AUDIT_COLUMNS = ("seq", "at", "workbook", "sheet", "row_id", "column", "before", "after", "rule",
                 "reason", "batch", "actor")


def write_audit(entries, fmt: str, out: TextIO, notes: dict[str, str] | None = None) -> None:
    """The audit log as a table for people, CSV or JSON lines for tools. `notes`: batch -> its
    note, said (for people) before the batch's first line (where it went: "written into the
    workbook open in Excel, not saved")."""
    import csv
    notes = notes or {}
    rows = ({k: _plain(getattr(e, k)) for k in AUDIT_COLUMNS} for e in entries)
    if fmt == "json":
        encode = json.JSONEncoder(ensure_ascii=False).encode
        for row in rows:
            out.write(encode(row) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, AUDIT_COLUMNS)
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    else:
        told = None
        for row in rows:
            if row["batch"] != told and row["batch"] in notes:
                said = notes[row["batch"]].split(f" ({OPEN_BOOK_MARK}")[0]
                out.write(f"{row['at'][:19]}  {row['batch']}  ({said})\n")
            told = row["batch"]
            out.write(f"{row['at'][:19]}  {row['batch']}  {row['actor']:<11} "
                      f"{row['row_id'] or '':<10} {row['column']}: {_show(row['before'])} → "
                      f"{_show(row['after'])} — {row['reason']}\n")
