"""The duplicate review queue in the workbook, and acting on what people decide there.

The Review tab lists each duplicate pair once, keyed "C-000001 + C-000004", with both rows' key
values, the score and the reason, and a Decision a person picks (Merge / Keep both). Rows keep
their place between cycles so a decision never slides onto another pair; new pairs are added at
the end; a pair that is gone and was never decided is cleared.

A merge keeps the older row (the lower ID): its empty cells are filled from the other row, and
where both hold different values the kept row's value stays and the other's is added to its
Notes ("Merged from C-000004: Phone +86…"), so nothing typed is lost or hidden. The merged-away
row is copied whole to the Merged tab and then cleared in the table, keeping only its ID and a
note of where it went. It is cleared rather than deleted so that no other row moves under
people's formulas, filters and references.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from i18n import _, render
from rules.ids import id_number
from sheet_templates import fold_label
from sheet_templates.presentation import REVIEW_KEYS

from .cells import MAX_CELL_TEXT
from .ledgers import repointed
from .plan import Plan
from .table import SheetTable, SideTab
from .targets import Batch

DETAIL_KEYS = ("phone", "email", "company")
SKIP_ON_MERGE = ("id", "findings", "status")   # sheetkeeper's own columns


@dataclass(frozen=True)
class Decision:
    pair: str
    ids: tuple[str, str]           # (kept, merged away) for a merge: lower ID first
    action: str                    # merge | keep_both
    review_row: int | None         # where it was decided (None: decided by auto_merge)


def pair_key(table: SheetTable, a: str, b: str) -> tuple[str, str, str]:
    """('C-000001 + C-000004', lower ID, higher ID)."""
    fmt = table.layout.template.id
    low, high = sorted((a, b), key=lambda i: (id_number(i, fmt) or 0, i))
    return f"{low} + {high}", low, high


def _word(table: SheetTable, group: str, key: str) -> str:
    return table.layout.template.word(group, key, table.layout.lang)


def _review_columns(table: SheetTable, tab: SideTab) -> dict[str, int]:
    return {k: i for k in REVIEW_KEYS
            if (i := tab.column(_word(table, "review_headers", k))) is not None}


def decisions(table: SheetTable, plan: Plan, auto_merge: str = "none") -> list[Decision]:
    """What people decided on the Review tab and has not been done yet, plus, with
    auto_merge = "certain", every certain pair."""
    out = _decided_on_the_tab(table)
    if auto_merge == "certain":
        seen = {d.pair for d in out}
        for d in plan.duplicates:
            if d.kind == "certain" and all(d.ids):
                key, low, high = pair_key(table, *d.ids)
                if key not in seen:
                    out.append(Decision(key, (low, high), "merge", None))
                    seen.add(key)
    return out


def _decided_on_the_tab(table: SheetTable) -> list[Decision]:
    """The Review tab's lines with a decision (in any of its words) and not yet done."""
    tab = table.review
    if tab is None:
        return []
    cols = _review_columns(table, tab)
    if not {"pair", "decision", "decided"} <= cols.keys():
        return []
    actions = {fold_label(label): key for key, labels in
               table.layout.template.words["decisions"].items() for label in labels.values()}
    out = []
    for number, row in tab.rows:
        pair, decision = row[cols["pair"]], row[cols["decision"]]
        done = row[cols["decided"]] if cols["decided"] < len(row) else None
        action = actions.get(fold_label(str(decision))) if decision else None
        ids = tuple(part.strip() for part in str(pair).split("+")) if pair else ()
        if action and not done and len(ids) == 2:
            out.append(Decision(str(pair), ids, action, number))
    return out


def merge_batch(table: SheetTable, chosen: list[Decision], today: dt.date) -> tuple[Batch, list[str]]:
    """The writes and records that carry out `chosen`; and what could not be done, in words."""
    template = table.layout.template
    batch, problems = Batch.empty(), []
    row_of = table.by_id
    notes_key = next((c.key for c in template.columns if c.type == "notes"), None)
    merged_rows = 0
    for decision in chosen:
        if decision.action == "merge":
            a, b = (row_of.get(x) for x in decision.ids)
            if a is None or b is None:
                problems.append(_("{pair}: a row is no longer in the sheet; not merged",
                                  pair=decision.pair))
                continue
            if table.merged is None:
                problems.append(_("{pair}: the workbook has no {tab} tab; run `sheetkeeper "
                                  "install --upgrade` to add it; not merged", pair=decision.pair,
                                  tab=_word(table, 'tabs', 'merged')))
                continue
            _merge(table, batch, a, b, decision, notes_key, today, merged_rows)
            merged_rows += 1
        _mark_decided(table, batch, decision, today)
    return batch, problems


def _merge(table, batch, a, b, decision, notes_key, today, merged_rows) -> None:
    """Row `b` merged into row `a`: `a` filled where empty and noted with the rest, `b` kept
    whole on the Merged tab, then left as a tombstone. A formula cell is never written, in
    either row: its value is computed, and writing it would replace the formula for good."""
    layout = table.layout
    notes_j = layout.index(notes_key) if notes_key else None
    set_aside = _fill(table, batch, a, b, decision, notes_j)
    if notes_j is not None:
        _note(table, batch, a, b, decision, notes_j, set_aside, today)
    _to_merged_tab(table, batch, b, decision, today, merged_rows)
    _tombstone(table, batch, b, decision)
    for c in repointed(table, *decision.ids):     # their purchases go with the kept row
        batch.add(c.sheet, c.row_number, c.column, c.before, c.after, c.entry, c.header,
                  c.rule, c.reason, table.sheet)


def _fill(table, batch, a, b, decision, notes_j) -> list[str]:
    """Fill the kept row's empty cells from the other row; the other row's differing values,
    as 'header: value', for the note."""
    layout, template = table.layout, table.layout.template
    keep, gone = table.rows[a], table.rows[b]
    keep_id, gone_id = decision.ids
    own = {layout.columns[c.key] for c in template.columns
           if c.type in SKIP_ON_MERGE and c.key in layout.columns}
    # Worked out from the entries, which the merge points at the kept row: rolled up again,
    # not values to set aside in the notes (a Last contact, typed or logged, is one).
    rolled_up = {layout.columns[c.key] for c in template.columns
                 if c.rollup and c.rollup.measure != "latest" and c.key in layout.columns}
    kept_at, gone_at = table.row_numbers[a], table.row_numbers[b]
    set_aside = []
    for j, header in enumerate(layout.headers):
        if j in own or j == notes_j or not header or (kept_at, j) in table.formulas \
                or (gone_at, j) in table.formulas:
            continue
        mine, theirs = keep[j], gone[j]
        if theirs in (None, ""):
            continue
        if mine in (None, ""):
            batch.add(table.sheet, kept_at, layout.first_column + j, mine, theirs, keep_id,
                      header, "merge", _("merge of {pair}: filled from {id}",
                                         pair=decision.pair, id=gone_id),
                      table.sheet)
        elif mine != theirs and j not in rolled_up:
            set_aside.append(f"{header}: {theirs}")
    return set_aside


def _note(table, batch, a, b, decision, notes_j, set_aside, today) -> None:
    """The other row's values that differ, and its notes, added to the kept row's notes."""
    extra = table.rows[b][notes_j]
    if extra not in (None, ""):
        set_aside = [*set_aside, str(extra)]
    if not set_aside:
        return
    keep_id, gone_id = decision.ids
    head = f"{_word(table, 'review_words', 'merged_from')} {gone_id} ({today.isoformat()}): "
    before = table.rows[a][notes_j]
    after = _noted(before, head + "; ".join(set_aside))
    if len(after) > MAX_CELL_TEXT:
        # Past what a cell holds: a pointer instead. Nothing is lost: every value set aside is
        # in the merged-away row, which the Merged tab keeps whole.
        after = _noted(before, head + _word(table, "review_words", "on_merged_tab")
                       .format(tab=table.merged.name))
    if len(after) <= MAX_CELL_TEXT:
        batch.add(table.sheet, table.row_numbers[a], table.layout.first_column + notes_j, before,
                  after, keep_id, table.layout.headers[notes_j], "merge",
                  _("merge of {pair}: kept the other values", pair=decision.pair), table.sheet)


def _to_merged_tab(table, batch, b, decision, today, merged_rows) -> None:
    """The merged-away row, whole, on the next free line of the Merged tab."""
    keep_id, gone_id = decision.ids
    gone, merged = table.rows[b], table.merged
    reason = _("merge of {pair}", pair=decision.pair)
    target = merged.next_row + merged_rows
    for j, header in enumerate(table.layout.headers):
        col = merged.column(header)
        if col is not None and gone[j] not in (None, ""):
            batch.add(merged.name, target, col, None, gone[j], gone_id, header, "merge",
                      _("merge of {pair}: the merged-away row, kept whole",
                        pair=decision.pair), table.sheet)
    for key, value in (("merged_into", keep_id), ("merged_at", today)):
        col = merged.column(_word(table, "merged_headers", key))
        if col is not None:
            batch.add(merged.name, target, col, None, value, gone_id,
                      _word(table, "merged_headers", key), "merge", reason, table.sheet)


def _tombstone(table, batch, b, decision) -> None:
    """The row keeps its ID and says where it went: a tombstone the rules pass over (it holds
    only sheetkeeper's own columns), that undo can find, and that tells a person what
    happened."""
    layout, template = table.layout, table.layout.template
    keep_id, gone_id = decision.ids
    gone, gone_at, merged = table.rows[b], table.row_numbers[b], table.merged
    id_j = layout.index(template.id.column)
    findings = template.column_of_type("findings")
    findings_j = layout.index(findings.key) if findings else None
    for j, header in enumerate(layout.headers):
        if j == id_j or (gone_at, j) in table.formulas:
            continue
        after = (f"{_word(table, 'merged_headers', 'merged_into')} {keep_id} ({merged.name})"
                 if j == findings_j else None)
        if gone[j] not in (None, "") or after is not None:
            batch.add(table.sheet, gone_at, layout.first_column + j, gone[j], after, gone_id,
                      header or f"column {j + 1}", "merge",
                      _("merge of {pair}: moved to the {tab} tab", pair=decision.pair,
                        tab=merged.name), table.sheet)


def _noted(before, note: str) -> str:
    return f"{before}\n{note}" if before not in (None, "") else note


def _mark_decided(table, batch, decision, today) -> None:
    tab = table.review
    if tab is None or decision.review_row is None:
        return
    cols = _review_columns(table, tab)
    word = "merged" if decision.action == "merge" else "kept"
    text = f"{_word(table, 'review_words', word)} {today.isoformat()}"
    batch.add(tab.name, decision.review_row, cols["decided"], None, text, decision.pair,
              _word(table, "review_headers", "decided"), "review",
              _DONE.get(decision.action, decision.action), table.sheet)


_DONE = {"merge": _("merge done"), "keep_both": _("keep both done")}


LISTING = ("pair", "kind", "score", "reason", "id_a", "name_a", "details_a", "id_b", "name_b",
           "details_b")


def listing_batch(table: SheetTable, plan: Plan) -> Batch:
    """Writes that bring the Review tab's listing up to date with the plan's pairs."""
    batch = Batch.empty()
    tab = table.review
    if tab is None:
        return batch
    cols = _review_columns(table, tab)
    if "pair" not in cols:
        return batch
    wanted = _wanted_lines(table, plan)
    existing = {str(row[cols["pair"]]): (number, row) for number, row in tab.rows
                if cols["pair"] < len(row) and row[cols["pair"]]}
    _bring_up_to_date(table, tab, cols, wanted, existing, batch)
    _clear_gone(table, tab, cols, wanted, existing, batch)
    return batch


def _wanted_lines(table: SheetTable, plan: Plan) -> dict[str, list[Any]]:
    """The listing the plan's pairs make, by pair key, in LISTING's order."""
    wanted: dict[str, list[Any]] = {}
    for d in plan.duplicates:
        if not all(d.ids) or d.ids[0] == d.ids[1]:
            continue   # rows get their IDs first; a shared ID is a finding, not a pair
        key, low, high = pair_key(table, *d.ids)
        kind = _word(table, "review_words", d.kind)
        wanted[key] = [key, kind, d.score, render(d.reason, table.layout.lang),
                       *_side(table, low), *_side(table, high)]
    return wanted


def _bring_up_to_date(table, tab, cols, wanted, existing, batch) -> None:
    """Each wanted line written where it differs: on its own line, or on the next free one."""
    next_row = tab.next_row
    for key, values in wanted.items():
        number, row = existing.get(key, (None, ()))
        if number is None:
            number, next_row = next_row, next_row + 1
        for k, value in zip(LISTING, values):
            if k not in cols:
                continue
            current = row[cols[k]] if cols[k] < len(row) else None
            if not _same_cell(current, value):
                batch.add(tab.name, number, cols[k], current, value, key,
                          _word(table, "review_headers", k), "review",
                          _("the duplicate review listing"), table.sheet)


def _clear_gone(table, tab, cols, wanted, existing, batch) -> None:
    """A line whose pair is gone and was never decided is cleared; a decided one stays."""
    for key, (number, row) in existing.items():
        decided = [row[cols[k]] for k in ("decision", "decided")
                   if k in cols and cols[k] < len(row)]
        if key in wanted or any(decided):
            continue
        for k, j in cols.items():
            if j < len(row) and row[j] not in (None, ""):
                batch.add(tab.name, number, j, row[j], None, key,
                          _word(table, "review_headers", k), "review",
                          _("no longer a duplicate pair"), table.sheet)


def _side(table: SheetTable, rid: str) -> list[Any]:
    i = table.by_id.get(rid)
    row = table.rows[i] if i is not None else ()
    layout = table.layout

    def value(key: str) -> Any:
        j = layout.index(key)
        return row[j] if row and j is not None and row[j] not in ("", None) else None

    name_key = table.layout.template.duplicates.name
    details = " · ".join(str(v) for k in DETAIL_KEYS if (v := value(k)) is not None)
    return [rid, value(name_key), details or None]


def _same_cell(current: Any, value: Any) -> bool:
    if isinstance(current, float) and isinstance(value, (int, float)):
        return abs(current - value) < 1e-9
    return (current in (None, "") and value in (None, "")) or current == value
