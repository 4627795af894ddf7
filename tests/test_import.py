"""`sheetkeeper import` into a real workbook, through the real CLI in-process: matched customers
filled, conflicts kept in Notes, new rows added with new IDs, duplicates inside the file folded,
one audited batch that `undo` takes back exactly, a dry run that writes nothing, and a later
cycle that takes none of it for a person's edit."""
from __future__ import annotations

import csv
import json

import pytest

from audit.log import AuditLog
from service.cli import main
from sync.opening import open_target

from .conftest import CRM_EN, crm_row, fingerprint, write_table

TODAY = "2026-11-23"


@pytest.fixture
def book(tmp_path):
    return write_table(tmp_path / "customers.xlsx", CRM_EN, [
        crm_row(customer_id="C-000001", name="Zhang Wei", phone="+8613800138000",
                email="zhang.wei@example.com", company="Acme"),
        crm_row(customer_id="C-000002", name="Mary Smith", phone="+8613900139000"),
        crm_row(customer_id="C-000003", name="Bob Stone", email="bob@stone.example",
                notes="Likes tea"),
    ])


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return path


def run(*args, capsys=None):
    code = main(list(args))
    out = capsys.readouterr() if capsys else None
    return code, out


def table_of(path):
    return open_target(path).read()


def by_id(path):
    table = table_of(path)
    headers = table.layout.headers
    return {rid: dict(zip(headers, row)) for rid, row in zip(table.row_ids[0], table.rows)}


def do_import(book, file, capsys, *more):
    code, out = run("import", str(file), "--into", str(book), "--region", "CN",
                    "--today", TODAY, "--report", "json", *more, capsys=capsys)
    assert code == 0, out.err
    return json.loads(out.out)


def test_matched_rows_fill_empty_cells_and_keep_conflicts_in_notes(book, tmp_path, capsys):
    file = write_csv(tmp_path / "shop.csv", [
        ["Name", "Mobile", "E-mail", "Company", "Title"],
        ["Zhang Wei", "138 0013 8000", "", "Other Ltd", "Buyer"],       # phone: C-000001
        ["Mary Smith", "", "MARY@smith.example", "", ""],              # no phone or email match
        ["Robert Stone", "", "bob@stone.example", "Stone & Co", ""],    # email: C-000003
    ])
    report = do_import(book, file, capsys)
    rows = by_id(book)
    one = rows["C-000001"]
    assert one["Title"] == "Buyer"                                   # filled
    assert one["Company"] == "Acme"                                  # never overwritten
    assert one["Notes"] == f"Imported from shop.csv line 2 ({TODAY}): Company: Other Ltd"
    three = rows["C-000003"]
    assert three["Company"] == "Stone & Co"
    assert three["Name"] == "Bob Stone"
    assert three["Notes"] == f"Likes tea\nImported from shop.csv line 4 ({TODAY}): Name: " \
                             "Robert Stone"
    by_line = {r["line"]: r for r in report["rows"]}
    assert by_line[2]["action"] == "updated" and by_line[2]["matched_by"] == "Phone"
    assert by_line[2]["filled"] == ["Title"] and by_line[2]["id"] == "C-000001"
    assert by_line[4]["matched_by"] == "Email"
    # Mary's row has neither her phone nor an email the list has: a new row, the possible
    # duplicate said (a person decides it on the Review tab).
    assert by_line[3]["action"] == "added" and by_line[3]["id"] == "C-000004"
    assert any("possible duplicate of C-000002" in f for f in by_line[3]["findings"])
    assert rows["C-000004"]["Email"] == "MARY@smith.example"     # as the email rule leaves it
    assert report["counts"] == {"added": 1, "updated": 2, "left": 0, "folded": 0}


def test_new_rows_are_normalised_and_get_the_next_free_ids(book, tmp_path, capsys):
    file = write_csv(tmp_path / "new.csv", [
        ["姓名", "手机号", "邮箱", "客户等级", "生日"],
        ["  li na ", "139 1234 5678", " LiNa@Example.COM ", "VIP", "1990/4/15"],
        ["王芳", "13511112222", "", "", ""],
    ])
    report = do_import(book, file, capsys)
    rows = by_id(book)
    assert rows["C-000004"]["Name"] == "Li Na"
    assert rows["C-000004"]["Phone"] == "+8613912345678"
    assert rows["C-000004"]["Email"] == "LiNa@example.com"
    assert rows["C-000004"]["Birthday"].isoformat()[:10] == "1990-04-15"
    assert rows["C-000005"]["Name"] == "王芳" and rows["C-000005"]["Phone"] == "+8613511112222"
    assert [r["id"] for r in report["rows"]] == ["C-000004", "C-000005"]
    table = table_of(book)
    assert table.row_numbers[-2:] == (5, 6)            # right after the last row


def test_duplicates_inside_the_file_are_folded_into_the_first(book, tmp_path, capsys):
    file = write_csv(tmp_path / "dups.csv", [
        ["Name", "Phone", "Email", "Company", "Address"],
        ["Ann Lee", "13600136000", "", "Lee Co", ""],
        ["Ann Lee", "136 0013 6000", "ann@lee.example", "Lee Company", "1 Road"],
        ["ann lee", "", "ann@lee.example", "", ""],
    ])
    report = do_import(book, file, capsys)
    rows = by_id(book)
    assert len(rows) == 4
    ann = rows["C-000004"]
    assert (ann["Phone"], ann["Email"], ann["Company"], ann["Address"]) == \
        ("+8613600136000", "ann@lee.example", "Lee Co", "1 Road")
    assert ann["Notes"] == f"Imported from dups.csv line 3 ({TODAY}): Company: Lee Company"
    assert [(r["line"], r["action"], r["id"]) for r in report["rows"]] == \
        [(2, "added", "C-000004"), (3, "folded", "C-000004"), (4, "folded", "C-000004")]


def test_a_row_matched_by_its_id_and_one_with_nothing_new(book, tmp_path, capsys):
    file = write_csv(tmp_path / "ids.csv", [
        ["Customer ID", "Name", "Tier"],
        ["c-2", "Mary Smith", "VIP"],
        ["C-000003", "Bob Stone", ""],
        ["1001", "Order Person", ""],       # another system's number: not C-001001
    ])
    report = do_import(book, file, capsys)
    rows = by_id(book)
    assert rows["C-000002"]["Tier"] == "VIP"
    by_line = {r["line"]: r for r in report["rows"]}
    assert by_line[2]["matched_by"] == "Customer ID"
    assert by_line[3]["action"] == "left"
    assert by_line[4]["action"] == "added"
    assert rows["C-000004"]["Notes"] == f"Imported from ids.csv line 4 ({TODAY}): " \
                                        "Customer ID: 1001"


def test_unmapped_columns_go_to_notes_or_are_left_out_and_said(book, tmp_path, capsys):
    file = write_csv(tmp_path / "extra.csv", [
        ["Name", "Phone", "WeChat", "Status", "Findings"],
        ["Ann Lee", "13600136000", "annlee88", "Active", "old words"],
    ])
    report = do_import(book, file, capsys)
    columns = {c["header"]: (c["to"], c["why"]) for c in report["columns"]}
    assert columns["WeChat"][0] == "Notes"
    assert columns["Status"] == (None, "sheetkeeper works out Status itself")
    assert columns["Findings"][0] is None
    assert by_id(book)["C-000004"]["Notes"] == \
        f"Imported from extra.csv line 2 ({TODAY}): WeChat: annlee88"
    other = write_csv(tmp_path / "extra2.csv", [["Name", "Phone", "WeChat"],
                                                 ["Bo Li", "13700137000", "boli"]])
    report = do_import(book, other, capsys, "--unmapped", "leave")
    assert {c["header"]: c["to"] for c in report["columns"]}["WeChat"] is None
    assert by_id(book)["C-000005"]["Notes"] is None


def test_map_names_a_column_the_aliases_do_not_know(book, tmp_path, capsys):
    file = write_csv(tmp_path / "map.csv", [["Who", "Handy", "Fax"],
                                            ["Ann Lee", "13600136000", "123"]])
    report = do_import(book, file, capsys, "--map", "Who=Name", "--map", "Handy=电话",
                       "--map", "Fax=")
    columns = {c["header"]: c["to"] for c in report["columns"]}
    assert columns == {"Who": "Name", "Handy": "Phone", "Fax": None}
    assert by_id(book)["C-000004"]["Phone"] == "+8613600136000"


def test_the_text_report_shows_the_mapping_and_each_row(book, tmp_path, capsys):
    file = write_csv(tmp_path / "t.csv", [["Name", "Mobile", "WeChat"],
                                          ["Zhang Wei", "13800138000", "zw"]])
    code, out = run("import", str(file), "--into", str(book), "--region", "CN", "--dry-run",
                    capsys=capsys)
    assert code == 0
    assert "  Mobile -> Phone\n" in out.out
    assert "  WeChat -> Notes" in out.out
    assert "Dry run, nothing written. Would be: 0 added as new rows, 1 updated a customer, " \
        "0 matched a customer and brought nothing new, 0 folded into an earlier row of the " \
        "file." in out.out
    assert "line 2: matched C-000001 (sheet row 2), same Phone; to Notes: WeChat: zw" in out.out


def test_a_dry_run_writes_nothing_not_even_an_audit_log(book, tmp_path, capsys):
    file = write_csv(tmp_path / "new.csv", [["Name", "Phone"], ["Ann Lee", "13600136000"]])
    before = fingerprint(book)
    report = do_import(book, file, capsys, "--dry-run")
    assert report["dry_run"] and report["batch"] is None
    assert report["rows"][0]["action"] == "added"
    assert fingerprint(book) == before
    assert not (tmp_path / ".sheetkeeper").exists()


def test_the_import_is_one_batch_and_undo_restores_the_list_exactly(book, tmp_path, capsys):
    before = table_of(book)
    file = write_csv(tmp_path / "mix.csv", [
        ["Name", "Phone", "Email", "Company", "Title", "WeChat"],
        ["Zhang Wei", "13800138000", "", "Other Ltd", "Buyer", "zw"],
        ["Ann Lee", "13600136000", "ann@lee.example", "", "", ""],
        ["Ann Lee", "", "ann@lee.example", "Lee Co", "", ""],
        ["Bob Stone", "13700137000", "bob@stone.example", "", "", ""],
    ])
    report = do_import(book, file, capsys)
    batch = report["batch"]
    assert batch and report["batches"] == [batch]
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        info = log.batch_info(batch)
        assert info[2] == "import" and info[4] == "written"
        assert log.counter(log.batch_info(batch)[0], "ids_issued") == 4
    # A cycle after it writes the new row's Status and Findings, and logs no person edit.
    code, out = run("apply", str(book), "--region", "CN", "--today", TODAY, capsys=capsys)
    assert code in (0, 1)
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        assert not [e for e in log.entries(workbook=log.batch_info(batch)[0])
                    if e.actor == "person"]
    code, out = run("undo", batch, "--data", str(tmp_path / ".sheetkeeper"), capsys=capsys)
    assert code == 0, out
    after = table_of(book)
    # The rows as they were: the added row is gone whole (its Status and Findings, written
    # by the cycle after, too), the filled cells are empty, the Notes as before.
    assert _values(after, exclude=("Status", "Findings")) == \
        _values(before, exclude=("Status", "Findings"))
    assert len(after.rows) == len(before.rows)
    # The next import gives out fresh IDs: an ID is never issued twice.
    again = do_import(book, file, capsys)
    assert again["rows"][1]["id"] == "C-000005"


def _values(table, exclude=()):
    keep = [j for j, h in enumerate(table.layout.headers) if h not in exclude]
    return [tuple(row[j] for j in keep) for row in table.rows]


def test_a_changed_workbook_is_read_again_before_the_write(book, tmp_path, capsys, monkeypatch):
    """A person's save between the import's read and its write: the import is planned again
    on what the person saved, and the person's value stands."""
    import openpyxl
    from sync.xlsx import target as xlsx_target
    file = write_csv(tmp_path / "f.csv", [["Name", "Phone", "Title"],
                                          ["Zhang Wei", "13800138000", "Buyer"]])
    real = xlsx_target.WorkbookTarget.prepare
    saved = []

    def person_saves_first(self, table, batch):
        if not saved:
            book_ = openpyxl.load_workbook(book)
            book_["Customers"]["D2"] = "Chief buyer"
            book_.save(book)
            saved.append(True)
        return real(self, table, batch)

    monkeypatch.setattr(xlsx_target.WorkbookTarget, "prepare", person_saves_first)
    report = do_import(book, file, capsys)
    assert saved
    assert by_id(book)["C-000001"]["Title"] == "Chief buyer"
    assert report["rows"][0]["noted"] == ["Title: Buyer"]


def test_the_rows_it_touches_arrive_judged_as_a_cycle_judges_them(book, tmp_path, capsys):
    """Their Status and Findings are in the import's batch: the cycle after it has nothing to
    change in them."""
    file = write_csv(tmp_path / "j.csv", [
        ["Name", "Phone", "Email", "Member since", "Tier"],
        ["Zhang Wei", "13800138000", "", "2026/11/1", ""],
        ["Ann Lee", "12", "ann@", "2020-01-05", "Gold"],
        ["Bo Li", "13700137000", "bo@li.example", "", "VIP"],
    ])
    report = do_import(book, file, capsys)
    rows = by_id(book)
    assert "Phone:" in rows["C-000004"]["Findings"] and "Email:" in rows["C-000004"]["Findings"]
    assert rows["C-000001"]["Status"] == "New"         # from the Member since it filled
    touched = {r["id"] for r in report["rows"]}
    code, out = run("apply", str(book), "--region", "CN", "--today", TODAY, "--report", "json",
                    capsys=capsys)
    assert code in (0, 1)
    changes = json.loads(out.out)["changes"]
    assert not [c for c in changes if c["id"] in touched], changes


def test_the_duplicate_finders_certain_match_is_a_match(book, tmp_path, capsys):
    """A bare number in the ID column is no ID of ours by itself; with the same name as the
    customer whose ID has that number, the duplicate finder is certain, and that is a match."""
    file = write_csv(tmp_path / "c.csv", [["ID", "Name", "Title"],
                                          ["2", "Mary Smith", "Owner"],
                                          ["3", "Someone Else", "Clerk"]])
    report = do_import(book, file, capsys)
    by_line = {r["line"]: r for r in report["rows"]}
    assert (by_line[2]["action"], by_line[2]["id"], by_line[2]["matched_by"]) == \
        ("updated", "C-000002", "certain duplicate")
    assert by_id(book)["C-000002"]["Title"] == "Owner"
    assert by_line[3]["action"] == "added"
