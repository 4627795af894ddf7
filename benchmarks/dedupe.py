"""`python -m benchmarks.dedupe`: sheetkeeper's duplicates against the truth, beside a peer's.

For each size and language, a labelled list (benchmarks/people.py: known duplicate groups, named
slips, look-alike different people) is put in an in-memory crm sheet and planned by
`sync.plan.plan_table`, as a check would. Scored: the pairs the plan reports, "certain",
"possible" and both, against the true pairs (every pair of rows within a person's group), as
unordered pairs of rows, with no transitive closure. The peer (benchmarks/peers.py) gets the
same rows, as the plan's cell rules leave them, in the same run.

The benchmark calls sheetkeeper only through the planner's public entry points (plan_table,
RuleSettings, SheetTable, layout_for, Plan.values_after), so it measures any duplicate finder
behind them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import time
from itertools import combinations
from typing import Any, Iterable, NamedTuple

from sheet_templates import builtin
from sync.header import layout_for
from sync.plan import Plan, RuleSettings, plan_table
from sync.table import SheetTable

from .people import HARD_NEGATIVES, LANGS, TEAMS, Roster, roster
from .slips import SLIP_NAMES
from .table import print_table

TODAY = dt.date(2026, 11, 23)
Pair = tuple[int, int]


class Scores(NamedTuple):
    precision: float
    recall: float
    f1: float


def scores(found: set[Pair], truth: set[Pair]) -> Scores:
    hits = len(found & truth)
    precision = hits / len(found) if found else math.nan
    recall = hits / len(truth) if truth else math.nan
    f1 = (2 * precision * recall / (precision + recall)
          if found and truth and precision + recall else math.nan)
    return Scores(precision, recall, f1)


def closure(found: set[Pair]) -> set[Pair]:
    """Every pair within the groups the found pairs join (a reports b, b reports c: a-c too).
    Not the benchmark's measure, which takes the pairs as reported; shown beside it, since a
    finder may report a group as a star."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = i = parent[parent[i]]
        return i

    for a, b in found:
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in list(parent):
        groups.setdefault(root(i), []).append(i)
    return {(min(a, b), max(a, b)) for rows in groups.values() for a, b in combinations(rows, 2)}


def sheet_of(people: Roster) -> SheetTable:
    """The roster as a crm sheet with headers in its language: row i is sheet row i + 2."""
    template = builtin("crm")
    headers = [c.header(people.lang) for c in template.columns]
    keys = [c.key for c in template.columns]
    layout = layout_for(headers, 1, template)
    rows = tuple(tuple(row.get(k) for k in keys) for row in people.rows)
    return SheetTable(f"people-{people.lang}-{len(rows)}.xlsx", "Customers", layout, rows,
                      tuple(range(2, 2 + len(rows))))


def planned(table: SheetTable, lang: str) -> tuple[Plan, float]:
    team = TEAMS[lang]
    settings = RuleSettings(today=TODAY, phone_region=team.phone_region,
                            date_order=team.date_order)
    gc.collect()
    start = time.perf_counter()
    plan = plan_table(table, settings)
    return plan, time.perf_counter() - start


def reported(plan: Plan, kind: str | None = None) -> set[Pair]:
    """The pairs of the plan's duplicates (of one kind), as row indices of the roster."""
    return {(min(m.rows) - 2, max(m.rows) - 2) for m in plan.duplicates
            if kind in (None, m.kind)}


def splink_run(plan: Plan) -> tuple[set[Pair], float]:
    """Splink's pairs on the rows as the plan's cell rules leave them, and its time."""
    from .peers import peer_records, splink_pairs

    layout = plan.table.layout
    index = {key: layout.index(key) for key in ("name", "birthday", "email", "phone",
                                               "address", "company")}
    gc.collect()
    start = time.perf_counter()
    found = splink_pairs(peer_records(plan.values_after(), index))
    return found, time.perf_counter() - start


def measure(size: int, lang: str, peer: str) -> dict[str, Any]:
    people = roster(size, lang)
    truth = people.true_pairs()
    plan, seconds = planned(sheet_of(people), lang)
    result: dict[str, Any] = {"rows": size, "lang": lang, "true_pairs": len(truth),
                              "plan_s": seconds, "people": people}
    for kind in ("certain", "possible", None):
        found = reported(plan, kind)
        result[kind or "all"] = scores(found, truth)
        result[f"{kind or 'all'}_found"] = found
    result["certain_wrong"] = len(result["certain_found"] - truth)
    result["all_closed"] = scores(closure(result["all_found"]), truth)
    # What sheetkeeper asserts: rows of one certain group are all one person (it lists the
    # group as a star, each row with the row a merge keeps), each possible pair as listed.
    asserted = closure(result["certain_found"]) | result["possible_found"]
    result["asserted"] = scores(asserted, truth)
    result["asserted_certain"] = scores(closure(result["certain_found"]), truth)
    if peer == "splink":
        found, seconds = splink_run(plan)
        result["peer"], result["peer_s"], result["peer_found"] = scores(found, truth), seconds, found
        result["peer_closed"] = scores(closure(found), truth)
    return result


def by_slip(result: dict[str, Any], key: str) -> dict[str, float]:
    """Per slip, the share of pairs (a person's first entry, a later entry with that slip) that
    end up in one group; per kind of look-alike, the share of its pairs of different people
    that do. Groups are the reported pairs closed, so that a finder reporting a group as a star
    is not counted as missing a slip it found."""
    people: Roster = result["people"]
    found: set[Pair] = closure(result[key])
    first = {e: i for i, (e, s) in enumerate(zip(people.entity, people.slips)) if not s}
    made: dict[str, list[bool]] = {}
    for i, (e, slips) in enumerate(zip(people.entity, people.slips)):
        for slip in slips:
            if e in first:
                made.setdefault(slip, []).append((min(i, first[e]), max(i, first[e])) in found)
    for a, b, kind in people.hard_negatives:
        made.setdefault(kind, []).append((min(a, b), max(a, b)) in found)
    return {k: sum(v) / len(v) for k, v in made.items()} | {
        f"{k} n": len(v) for k, v in made.items()}


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dedupe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000",
                        help="row counts, comma-separated (default: %(default)s)")
    parser.add_argument("--langs", default=",".join(LANGS),
                        help="list languages, comma-separated (default: %(default)s)")
    parser.add_argument("--peer", choices=("splink", "none"), default="splink",
                        help="the peer measured in the same run (default: %(default)s)")
    parser.add_argument("--by-slip", action="store_true",
                        help="also print recall per slip and look-alikes reported per kind")
    args = parser.parse_args(list(argv) if argv is not None else None)
    sizes = [int(s) for s in args.sizes.split(",")]
    langs = args.langs.split(",")
    for lang in langs:
        if lang not in LANGS:
            parser.error(f"no labelled lists in {lang!r}; choose from {', '.join(LANGS)}")
    results = [measure(size, lang, args.peer) for size in sizes for lang in langs]

    def part(kind: str, i: int):
        return lambda r: r[kind][i] if kind in r else math.nan

    columns = [("rows", "rows", ","), ("lang", "lang", ""), ("true pairs", "true_pairs", ","),
               ("cert P", part("certain", 0), ".4f"), ("cert R", part("certain", 1), ".3f"),
               ("cert F1", part("certain", 2), ".3f"), ("poss P", part("possible", 0), ".3f"),
               ("poss R", part("possible", 1), ".3f"), ("poss F1", part("possible", 2), ".3f"),
               ("all P", part("all", 0), ".3f"), ("all R", part("all", 1), ".3f"),
               ("all F1", part("all", 2), ".3f"), ("cert wrong", "certain_wrong", ","),
               ("asserted P", part("asserted", 0), ".4f"),
               ("asserted R", part("asserted", 1), ".3f"),
               ("asserted F1", part("asserted", 2), ".3f"),
               ("closed F1", part("all_closed", 2), ".3f"), ("plan s", "plan_s", ".2f")]
    if args.peer != "none":
        columns += [("peer P", part("peer", 0), ".3f"), ("peer R", part("peer", 1), ".3f"),
                    ("peer F1", part("peer", 2), ".3f"),
                    ("peer closed F1", part("peer_closed", 2), ".3f"),
                    ("peer s", lambda r: r["peer_s"], ".1f")]
    print_table(columns, results)
    print("\nPairs are unordered pairs of rows, scored against every pair within a person's "
          "group, as reported: no transitive closure (closed F1: the same after closing the "
          "reported pairs into groups).\nasserted: what sheetkeeper asserts, every pair within "
          "a certain group (listed as a star: each row with the row a merge keeps; in "
          "--report json, certain pairs sharing a row) and each possible pair as listed.\n"
          "cert wrong: certain pairs that are different people. "
          "plan s: the whole plan (cell rules and duplicates). "
          "en lists are a UK team's (phone region GB, dates day first); zh-CN lists use the "
          "template's defaults (CN).")
    if args.peer == "splink":
        from .peers import SPLINK_DESCRIPTION, splink_version
        print("peer: " + SPLINK_DESCRIPTION.format(version=splink_version()) + ".\npeer s: "
              "Splink's training and prediction, on the values the plan's cell rules leave.")
    if args.by_slip:
        _print_by_slip(results, args.peer != "none")


def _print_by_slip(results: list[dict[str, Any]], with_peer: bool) -> None:
    rows = []
    mine = [by_slip(r, "all_found") for r in results]
    theirs = [by_slip(r, "peer_found") for r in results] if with_peer else []
    for kind in (*SLIP_NAMES, *HARD_NEGATIVES):
        row: dict[str, Any] = {"kind": kind}
        for r, m, t in zip(results, mine, theirs or [{}] * len(mine)):
            label = f"{r['lang']} {r['rows']:,}"
            row[f"{label} n"] = m.get(f"{kind} n", 0)
            row[label] = m.get(kind, math.nan)
            row[f"{label} peer"] = t.get(kind, math.nan)
        rows.append(row)
    columns = [("slip or look-alike", "kind", "")]
    for r in results:
        label = f"{r['lang']} {r['rows']:,}"
        columns.append((f"{label} n", f"{label} n", ","))
        columns.append((label, label, ".3f"))
        if with_peer:
            columns.append((f"{label} peer", f"{label} peer", ".3f"))
    print("\nShare in one group (the reported pairs closed): for a slip, of the pairs (first "
          "entry, entry with that slip); for a look-alike, of its pairs of different people "
          "(lower is better). n: pairs.")
    print_table(columns, rows)


if __name__ == "__main__":
    main()
