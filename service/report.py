"""Turning a Plan into what `check` prints: a stable JSON object for scripts, or text for people."""
from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from audit.log import OPEN_BOOK_MARK
from i18n import SOURCE, Message, _, _n, cli_language, from_english, render, say
from sync.export.safe import spreadsheet_safe   # the one definition: the exports' too

if TYPE_CHECKING:
    from sync.plan import Plan

LANG_NAMES = {"en": _("English"), "zh-CN": _("Chinese")}
# The kinds of a duplicate pair in words (as the sheet's Findings say them).
DUPLICATE_KINDS = {"certain": _("certain"), "possible": _("possible")}


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _change(c, lang: str) -> dict:
    return {"row_number": c.row_number, "id": c.row_id, "column": c.column,
            "before": _plain(c.before), "after": _plain(c.after), "rule": c.rule,
            "reason": render(c.reason, lang)}


def _finding(f, lang: str) -> dict:
    # `kind` (and a change's `rule`) is the key scripts read; the words are the reader's.
    return {"row_number": f.row_number, "id": f.row_id, "column": f.column, "kind": f.kind,
            "message": render(f.message, lang)}


def _entry_change(c, lang: str) -> dict:
    """A change to a ledger tab's entry (Purchases, Follow-ups…): named by its tab and row."""
    return {"sheet": c.sheet, "row_number": c.row_number, "column": c.header,
            "before": _plain(c.before), "after": _plain(c.after), "rule": c.rule,
            "reason": render(c.reason, lang)}


def _entry_finding(f, lang: str) -> dict:
    return {"sheet": f.sheet, "row_number": f.row_number, "column": f.column, "kind": f.kind,
            "message": render(f.message, lang)}


def _duplicate(d, lang: str) -> dict:
    return {"rows": list(d.rows), "ids": list(d.ids), "kind": d.kind, "score": d.score,
            "reason": render(d.reason, lang)}


def as_json(plan: Plan) -> dict:
    facts, lang = plan.facts, cli_language()
    return {
        "sheet": facts.sheet,
        "rows": facts.rows,
        "template": facts.template,
        "lang": facts.lang,
        "changes": [_change(c, lang) for c in plan.changes],
        "findings": [_finding(f, lang) for f in plan.findings],
        "duplicates": [_duplicate(d, lang) for d in plan.duplicates],
        "entry_changes": [_entry_change(c, lang) for c in plan.ledger_changes],
        "entry_findings": [_entry_finding(f, lang) for f in plan.entry_findings],
    }


def write_json(plan: Plan, out: TextIO, batch: str | None = None) -> None:
    """The same object as `as_json`, streamed one item per line: a 100k-row report never
    exists whole in memory. orjson encodes the items (a million of them for a messy 100k-row
    list, where json's encoder took ten seconds); dates come out as ISO text, as in as_json."""
    facts, lang = plan.facts, cli_language()
    head = {"sheet": facts.sheet, "rows": facts.rows, "template": facts.template,
            "lang": facts.lang}
    if batch is not None:
        head["batch"] = batch
    write = _byte_writer(out)
    write(_encode(head)[:-1])
    for name, items in (("changes", _change_items(plan.changes, lang)),
                        ("findings", (_finding(f, lang) for f in plan.findings)),
                        ("duplicates", (_duplicate(d, lang) for d in plan.duplicates)),
                        ("entry_changes", (_entry_change(c, lang) for c in plan.ledger_changes)),
                        ("entry_findings",
                         (_entry_finding(f, lang) for f in plan.entry_findings))):
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


def _change_items(changes, lang: str):
    # Inline rather than _change(): a function call per change costs a second at 100k rows.
    # In English not even render(): a message is its English text, and orjson writes it so.
    if lang == SOURCE:
        return ({"row_number": c.row_number, "id": c.row_id, "column": c.column,
                 "before": c.before, "after": c.after, "rule": c.rule, "reason": c.reason}
                for c in changes)
    return ({"row_number": c.row_number, "id": c.row_id, "column": c.column,
             "before": c.before, "after": c.after, "rule": c.rule,
             "reason": render(c.reason, lang)} for c in changes)


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
        return say(_("(empty)"))
    text = json.dumps(_plain(value), ensure_ascii=False) if isinstance(value, str) \
        else str(_plain(value))
    text = text.replace("\\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"


def _rows(n: int) -> Message:
    return _n("{n:number} row", "{n:number} rows", n, n=n)


def _summary(plan: Plan, wrote: bool, batch: str | None) -> str:
    """The line that counts what the plan holds, and says whether it was written."""
    certain = sum(d.kind == "certain" for d in plan.duplicates)
    n = len(plan.changes)
    if not plan.changes:
        changed = _("Nothing to change")
    elif wrote:
        changed = _n("Changed {n:number} cell", "Changed {n:number} cells", n, n=n)
    else:
        changed = _n("Would change {n:number} cell", "Would change {n:number} cells", n, n=n)
    if wrote:
        after = _("Written as batch {batch} (`sheetkeeper undo {batch}` reverts it).",
                  batch=batch)
    else:
        after = _("Nothing was changed.") if plan.changes else ""
    findings, pairs = len(plan.findings), len(plan.duplicates)
    return say(_("{changed}; {findings} to look at; {pairs} ({certain} certain, {possible} "
                 "possible). {after}", changed=changed,
                 findings=_n("{n:number} finding", "{n:number} findings", findings, n=findings),
                 pairs=_n("{n:number} duplicate pair", "{n:number} duplicate pairs", pairs,
                          n=pairs),
                 certain=certain, possible=pairs - certain, after=after))


def _row(number: int) -> str:
    """'row 12' padded as the report's lines line up (the word in the reader's language)."""
    said = say(_("row {row}", row=number))
    return f"{said:<9}"


def as_text(plan: Plan, limit: int = 50, batch: str | None = None) -> str:
    """The report for people, in the command line's language (i18n.cli_language)."""
    facts = plan.facts
    region = _(", phone region {region}", region=plan.region) if plan.region else ""
    lines = [say(_("{source} — sheet {sheet}: {rows} (template {template}, {language} "
                   "headers{region})", source=str(facts.source), sheet=repr(facts.sheet),
                   rows=_rows(facts.rows), template=facts.template,
                   language=LANG_NAMES.get(facts.lang, facts.lang), region=region))]
    lines += ["  " + say(_("note: {note}", note=n)) for n in facts.notes]
    if plan.clean:
        lines.append(say(_("Clean: nothing to change, nothing to look at.")))
        return "\n".join(lines) + "\n"
    wrote = batch not in (None, "dry run")
    lines.append(_summary(plan, wrote, batch).rstrip())

    def section(title: str, items: list, line) -> None:
        if not items:
            return
        lines.append("")
        lines.append(say(_("{title} ({n:number})", title=title, n=len(items))))
        shown = items if limit <= 0 else items[:limit]
        lines.extend("  " + line(x) for x in shown)
        if len(items) > len(shown):
            more = len(items) - limit
            lines.append("  " + say(_n(
                "… and {n:number} more (--limit 0 shows all, --report json gives them to "
                "scripts)", "… and {n:number} more (--limit 0 shows all, --report json gives "
                "them to scripts)", more, n=more)))

    notes = [c for c in plan.changes if c.rule == "findings"]
    no_id = say(_("no ID"))
    section(_("Changes"), [c for c in plan.changes if c.rule != "findings"], lambda c: (
        f"{_row(c.row_number)} {c.row_id or '':<10} {c.column}: {_show(c.before)} → "
        f"{_show(c.after)} — {say(c.reason)}"))
    section(_("Findings"), list(plan.findings), lambda f: (
        f"{_row(f.row_number)} {f.row_id or '':<10} {say(f.message)}"))
    section(_("Duplicates"), list(plan.duplicates), lambda d: say(_(
        "rows {a} and {b} ({id_a}, {id_b}): {kind}, score {score}: {reason}", a=d.rows[0],
        b=d.rows[1], id_a=d.ids[0] or no_id, id_b=d.ids[1] or no_id,
        kind=DUPLICATE_KINDS.get(d.kind, d.kind), score=f"{d.score:.2f}", reason=d.reason)))
    # The ledger tabs' (Purchases, Follow-ups…): an entry is named by its tab and row.
    section(_("Entries"), [c for c in plan.ledger_changes if c.rule != "findings"],
            lambda c: f"{c.sheet} {_row(c.row_number)} {c.header}: {_show(c.before)} → "
                      f"{_show(c.after)} — {say(c.reason)}")
    section(_("Entry findings"), list(plan.entry_findings),
            lambda f: f"{f.sheet} {_row(f.row_number)} {say(f.message)}")
    if notes:
        lines.append("")
        rows = _rows(len(notes))
        lines.append(say(
            _("The {column} column was updated in {rows} to say the above in the sheet.",
              column=notes[0].column, rows=rows) if wrote else
            _("The {column} column would be updated in {rows} to say the above in the sheet.",
              column=notes[0].column, rows=rows)))
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
        reason = _reason_for_people(cli_language())
        for row in rows:
            if row["batch"] != told and row["batch"] in notes:
                said = notes[row["batch"]].split(f" ({OPEN_BOOK_MARK}")[0]
                out.write(f"{row['at'][:19]}  {row['batch']}  ({said})\n")
            told = row["batch"]
            out.write(f"{row['at'][:19]}  {row['batch']}  {row['actor']:<11} "
                      f"{row['row_id'] or '':<10} {row['column']}: {_show(row['before'])} → "
                      f"{_show(row['after'])} — {reason(row['reason'])}\n")


def _reason_for_people(lang: str):
    """A logged reason in `lang`: the log keeps the English words (CSV and JSON give them as
    they are), and the catalog finds the message that made them (i18n.from_english)."""
    if lang == SOURCE:
        return lambda text: text
    return lambda text: from_english(text, lang) if isinstance(text, str) else text
