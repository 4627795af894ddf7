"""`sheetkeeper check` on real workbooks: what it reports, and that it never changes the file."""
import datetime as dt
import json

import openpyxl

from service.cli import main
from sheet_templates import builtin
from sync.check import check_target
from sync.xlsx.target import WorkbookTarget
from sync.plan import RuleSettings
from sync.xlsx.install import install_new
from tests.conftest import CRM_EN, ROOT, TODAY, crm_row, fingerprint, run_cli, write_table


def check_json(capsys, *args):
    code = main(["check", *map(str, args), "--report", "json", "--today", TODAY.isoformat()])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def test_json_report_shape_and_exit_status(tmp_path, capsys):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id="C-000012", name="Ann Lee", phone="138 0013 8000",
                email="ann@example.com"),
        crm_row(name="Bob Stone", email="bob@@example.com", phone="+8613900139000"),
    ])
    before = fingerprint(path)
    code, report, err = check_json(capsys, path, "--region", "CN")
    assert code == 1 and err == ""
    assert set(report) >= {"sheet", "rows", "changes", "findings", "duplicates"}
    assert report["sheet"] == "Customers" and report["rows"] == 2
    phone = next(c for c in report["changes"] if c["column"] == "Phone")
    assert phone == {"row_number": 2, "id": "C-000012", "column": "Phone",
                     "before": "138 0013 8000", "after": "+8613800138000", "rule": "phone",
                     "reason": phone["reason"]}
    new_id = next(c for c in report["changes"] if c["column"] == "Customer ID")
    assert new_id["row_number"] == 3 and new_id["after"] == "C-000013"   # next free ID
    email = next(f for f in report["findings"] if f["column"] == "Email")
    assert email["row_number"] == 3 and email["kind"] == "invalid_email"
    assert email["message"].startswith("Email: not a valid email address")
    assert fingerprint(path) == before          # check never writes


def test_clean_workbook_exits_zero(tmp_path, capsys):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(
        customer_id="C-000001", name="Ann Lee", phone="+8613800138000", email="ann@example.com",
        status="Active", member_since=dt.date(2020, 1, 1), last_contact=TODAY)])
    code, report, _ = check_json(capsys, path)
    assert code == 0, report
    assert report["changes"] == report["findings"] == report["duplicates"] == []
    assert main(["check", str(path), "--today", TODAY.isoformat()]) == 0
    assert "Clean: nothing to change" in capsys.readouterr().out


def test_columns_are_found_by_header_not_position(tmp_path, capsys):
    """Shuffled columns, aliases, title rows above the header and a user's own column."""
    headers = ["Favourite colour", "E-mail", "Full name", "Tel", "Cust ID", "Level"]
    path = write_table(tmp_path / "c.xlsx", headers, [
        ["  BLUE  ", " ANN@Example.COM", "ANN LEE", "138-0013-8000", "c7", "vip"],
    ], before=[["Our customers 2026"], []])
    code, report, _ = check_json(capsys, path, "--region", "CN")
    changed = {c["column"]: (c["before"], c["after"]) for c in report["changes"]}
    assert changed == {
        "E-mail": (" ANN@Example.COM", "ANN@example.com"),
        "Full name": ("ANN LEE", "Ann Lee"),
        "Tel": ("138-0013-8000", "+8613800138000"),
        "Cust ID": ("c7", "C-000007"),
        "Level": ("vip", "VIP"),
    }
    assert all(c["row_number"] == 4 for c in report["changes"])
    assert "Favourite colour" not in changed       # the user's own column is left alone


def test_chinese_headers_default_to_cn_numbers(tmp_path, capsys):
    path = tmp_path / "z.xlsx"
    install_new(builtin("crm"), path, "zh-CN", [{"name": "张 伟", "phone": 13800138000,
                                                 "tier": "vip", "email": "zw@example.com"}])
    code, report, _ = check_json(capsys, path)
    changed = {c["column"]: c["after"] for c in report["changes"]}
    assert report["sheet"] == "客户" and report["lang"] == "zh-CN"
    assert changed["电话"] == "+8613800138000" and changed["姓名"] == "张伟"
    assert changed["客户等级"] == "VIP"


def test_formula_cells_are_never_normalised_or_flagged(tmp_path, capsys):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id="C-000001", name='=UPPER("ann lee")', phone='="138"&"00138000"',
                email="ann@example.com", total_spend="=SUM(1,2)"),
    ])
    _, report, _ = check_json(capsys, path, "--region", "CN")
    touched = {c["column"] for c in report["changes"]} | {f["column"] for f in report["findings"]}
    assert not touched & {"Name", "Phone", "Total spend"}


def test_required_values_and_duplicate_ids(tmp_path, capsys):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id="C-000005", name="Ann Lee", email="ann@example.com"),
        crm_row(customer_id="C-000005", name="Bob Stone", email="bob@example.com"),
        crm_row(company="Nameless Ltd", email="x@example.com"),
        crm_row(name="No Contact"),
    ])
    _, report, _ = check_json(capsys, path)
    kinds = {(f["row_number"], f["kind"]) for f in report["findings"]}
    assert {(3, "duplicate_id"), (4, "missing_value"), (5, "missing_contact")} <= kinds
    # One ID on two people with other names: a copied ID, for a person to sort out, not a
    # duplicate for an automatic merge.
    dup = next(d for d in report["duplicates"] if d["ids"] == ["C-000005", "C-000005"])
    assert dup["rows"] == [2, 3] and dup["kind"] == "possible"
    assert "same Customer ID, different names: 'Ann Lee' / 'Bob Stone'" in dup["reason"]


def test_duplicates_certain_and_possible(tmp_path, capsys):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id="C-000001", name="John McDonald", company="Northwind",
                email="john@northwind.com"),
        crm_row(customer_id="C-000002", name="Jon McDonald", company="NORTHWIND",
                email="jmcd@northwind.com"),
        crm_row(customer_id="C-000003", name="John MacDonald", email="JOHN@northwind.com"),
    ])
    _, report, _ = check_json(capsys, path)
    pairs = {(tuple(d["ids"]), d["kind"]) for d in report["duplicates"]}
    assert pairs == {(("C-000001", "C-000003"), "certain"), (("C-000001", "C-000002"), "possible")}
    possible = next(d for d in report["duplicates"] if d["kind"] == "possible")
    assert "John McDonald" in possible["reason"] and "Company" in possible["reason"]
    assert 0.8 < possible["score"] <= 1


def test_status_is_recomputed(tmp_path, capsys):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id="C-000001", name="Ann", email="a@example.com", status="Active",
                member_since=dt.date(2024, 1, 1), last_contact=TODAY - dt.timedelta(days=90)),
        crm_row(customer_id="C-000002", name="Bob", email="b@example.com", status="active"),
    ])
    _, report, _ = check_json(capsys, path)
    status = {c["row_number"]: (c["after"], c["rule"]) for c in report["changes"]
              if c["column"] == "Status"}
    assert status == {2: ("Paused", "status"), 3: ("Active", "choice")}


def test_values_added_on_the_lists_tab_are_known(tmp_path, capsys):
    path = tmp_path / "c.xlsx"
    install_new(builtin("crm"), path, "en", [
        {"customer_id": "C-000001", "name": "Ann", "email": "a@example.com", "tier": "Gold"}])
    code, report, _ = check_json(capsys, path)
    assert any(f["kind"] == "unknown_choice" for f in report["findings"])
    book = openpyxl.load_workbook(path)
    book["Lists"]["B5"] = "Gold"
    book.save(path)
    code, report, _ = check_json(capsys, path)
    assert not any(f["kind"] == "unknown_choice" for f in report["findings"])


def test_members_template_is_recognised(tmp_path):
    path = tmp_path / "m.xlsx"
    install_new(builtin("members"), path, "en", [{"name": "sam lee", "plan": "Year",
                                                  "phone": "+44 7911 123456"}])
    plan = check_target(WorkbookTarget(path), RuleSettings(today=TODAY))
    assert plan.table.layout.template.name == "members"
    changed = {c.column: c.after for c in plan.changes}
    assert changed["Member number"] == "M-00001" and changed["Plan"] == "Annual"


def test_text_report_via_the_real_command(tmp_path):
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="ANN LEE", email="a@x")])
    result = run_cli("check", str(path), "--today", TODAY.isoformat())
    assert result.returncode == 1
    assert "Would change" in result.stdout and "Nothing was changed." in result.stdout
    assert '"ANN LEE" → "Ann Lee"' in result.stdout
    assert "Email: not a valid email address" in result.stdout


def test_streamed_json_equals_the_report_object(tmp_path):
    """The streamed JSON parses to exactly the object as_json builds, empty sections included."""
    import io

    from service.report import as_json, write_json
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(name="ANN LEE", email="a@x", phone="+8613800138000"),
        crm_row(name="Ann Lee", phone="+86 138 0013 8000")])
    plan = check_target(WorkbookTarget(path), RuleSettings(today=TODAY))
    out = io.StringIO()
    write_json(plan, out)
    assert json.loads(out.getvalue()) == json.loads(json.dumps(as_json(plan), default=str))
    clean = write_table(tmp_path / "clean.xlsx", ["Name", "Email"], [])
    out = io.StringIO()
    write_json(check_target(WorkbookTarget(clean), RuleSettings(today=TODAY)), out)
    assert json.loads(out.getvalue())["changes"] == []


def test_output_piped_into_a_closed_reader_exits_quietly(tmp_path):
    import subprocess
    import sys
    rows = [crm_row(name=f"PERSON {i}", email=f"p{i}@x") for i in range(3000)]
    path = write_table(tmp_path / "c.xlsx", CRM_EN, rows)
    pipeline = subprocess.run(
        f"{sys.executable} -m service check {path} --report json | head -1",
        shell=True, capture_output=True, text=True, cwd=str(ROOT))
    assert pipeline.stdout.startswith('{"sheet":"Customers"')
    assert "Traceback" not in pipeline.stderr and "BrokenPipe" not in pipeline.stderr


def test_a_cell_showing_an_error_is_reported_as_that_not_as_empty(tmp_path):
    """#N/A in Name was reported as 'empty' (calamine reads an error cell as empty), and a
    write could have gone over it (issue 24)."""
    path = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(name="Ann", phone="+8613800138000"),
                                                     crm_row(name=None, phone="+8613900139000")])
    book = openpyxl.load_workbook(path)
    book["Customers"]["B3"] = "#N/A"
    book["Customers"]["B3"].data_type = "e"
    book.save(path)
    plan = check_target(WorkbookTarget(path), RuleSettings(today=TODAY))
    about = [f for f in plan.findings if f.row_number == 3 and f.column == "Name"]
    assert [f.kind for f in about] == ["error_value"] and "#N/A" in about[0].message
    assert not [c for c in plan.changes if c.row_number == 3 and c.column == "Name"]
