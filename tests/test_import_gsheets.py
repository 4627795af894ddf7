"""`sheetkeeper import` into a Google Sheet, on the emulator through the real gspread client:
the same upsert, one audited batch that `undo` takes back, a dry run that sends no write, and a
bad file that sends nothing at all."""
from __future__ import annotations

import csv
import json

import pytest

from audit.log import AuditLog
from service.cli import main
from sync.opening import GoogleAccess, open_target

from .fakesheets import installed_sheet

TODAY = "2026-11-23"


@pytest.fixture
def sheet(server):
    return installed_sheet(server, [
        ["C-000001", "Zhang Wei", "Acme", "", "+8613800138000", "zhang.wei@example.com"],
        ["C-000002", "Mary Smith", "", "", "+8613900139000"]])


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def cli(capsys, server, tmp_path, *args):
    code = main([*args, "--api-endpoint", server.url, "--data", str(tmp_path / "data")])
    out = capsys.readouterr()
    return code, out.out, out.err


def values(server, sheet):
    table = open_target(f"gsheet:{sheet.key}", google=GoogleAccess(api_endpoint=server.url)
                        ).read()
    return table, [dict(zip(table.layout.headers, row)) for row in table.rows]


FILE = [["Name", "Mobile", "Company", "Title", "WeChat"],
        ["Zhang Wei", "138 0013 8000", "Other Ltd", "Buyer", "zw"],
        ["Ann Lee", "13600136000", "Lee Co", "", ""],
        ["ann lee", "136 0013 6000", "", "Owner", ""]]


def test_import_then_undo_on_a_google_sheet(server, sheet, tmp_path, capsys):
    before, _ = values(server, sheet)
    file = write_csv(tmp_path / "shop.csv", FILE)
    code, out, err = cli(capsys, server, tmp_path, "import", str(file), "--into",
                         f"gsheet:{sheet.key}", "--region", "CN", "--today", TODAY,
                         "--report", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["counts"] == {"added": 1, "updated": 1, "left": 0, "folded": 1}
    table, rows = values(server, sheet)
    zhang, ann = rows[0], rows[2]
    assert (zhang["Title"], zhang["Company"]) == ("Buyer", "Acme")
    assert zhang["Notes"] == f"Imported from shop.csv line 2 ({TODAY}): Company: Other Ltd; " \
                             "WeChat: zw"
    assert (ann["Customer ID"], ann["Phone"], ann["Title"]) == ("C-000003", "+8613600136000",
                                                                "Owner")
    assert ann["Phone"] == "+8613600136000"        # text, not a number Google parsed
    with AuditLog(tmp_path / "data" / "audit.sqlite3") as log:
        assert log.batch_info(report["batch"])[2:5:2] == ("import", "written")
    code, out, err = cli(capsys, server, tmp_path, "undo", report["batch"])
    assert code == 0, out + err
    after, _ = values(server, sheet)
    assert after.rows == before.rows


def test_a_dry_run_and_a_bad_file_send_no_write(server, sheet, tmp_path, capsys):
    file = write_csv(tmp_path / "shop.csv", FILE)
    start = len(server.faults.log)
    code, out, err = cli(capsys, server, tmp_path, "import", str(file), "--into",
                         f"gsheet:{sheet.key}", "--region", "CN", "--dry-run")
    assert code == 0, err
    assert "Would be: 1 added as new rows, 1 updated a customer" in out
    sent = server.faults.log[start:]
    assert sent and all(method == "GET" for method, *_ in sent), sent
    (tmp_path / "odd.csv").write_text("Foo,Bar\r\n1,2\r\n")
    start = len(server.faults.log)
    code, out, err = cli(capsys, server, tmp_path, "import", str(tmp_path / "odd.csv"),
                         "--into", f"gsheet:{sheet.key}")
    assert code == 2 and err.count("\n") == 1 and "--map" in err
    assert all(method == "GET" for method, *_ in server.faults.log[start:])


def test_a_large_import_goes_out_in_parts_each_undone(server, sheet, tmp_path, capsys,
                                                      monkeypatch):
    """Google takes at most about 2 MB in one request (lowered here to a few rows' worth): the
    import goes out in parts, whole rows together, each a batch of its own, and undoing them
    all gives back the sheet as it was."""
    import functools

    from sync.gsheets import bodies
    monkeypatch.setattr(bodies, "parts", functools.partial(bodies.parts, limit=600))
    before, _ = values(server, sheet)
    rows = [["Name", "Mobile", "Company"]] + [[f"Person {n}", f"1370013{n:04d}", "Co"]
                                              for n in range(12)]
    file = write_csv(tmp_path / "many.csv", rows)
    code, out, err = cli(capsys, server, tmp_path, "import", str(file), "--into",
                         f"gsheet:{sheet.key}", "--region", "CN", "--today", TODAY,
                         "--report", "json")
    assert code == 0, err
    report = json.loads(out)
    assert len(report["batches"]) > 1 and report["batch"] == report["batches"][0]
    _, after = values(server, sheet)
    assert len(after) == 2 + 12
    assert {r["Customer ID"] for r in after[2:]} == {f"C-{n:06d}" for n in range(3, 15)}
    for batch in reversed(report["batches"]):
        code, out, err = cli(capsys, server, tmp_path, "undo", batch)
        assert code == 0, out + err
    undone, _ = values(server, sheet)
    assert undone.rows == before.rows
