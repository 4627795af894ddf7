"""`sheetkeeper export`: every format written from a real workbook and read back (CSV with the
csv module, xlsx with openpyxl), the OWASP CSV-injection payloads escaped, Chinese text
round-tripping, the file private, and the export recorded in the real audit log.

And the exports opened by LibreOffice headless (`make test-deps`): none of the payloads is
evaluated. Besides, what LibreOffice and Excel act on is checked directly: a CSV cell starting
with a formula character gets a leading apostrophe, and an xlsx cell is a text cell (never a
formula) with Excel's quote prefix."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import openpyxl
import pytest
import vobject
from hypothesis import given, strategies as st

from audit.log import AuditLog
from service.cli import main
from sync.export.crm import split_name
from sync.export.safe import spreadsheet_safe
from tests.conftest import CRM_EN, crm_row, fingerprint, run_cli


def write_table(path, headers, rows):
    """A workbook of the list, every text cell stored as text: "=1+1" as a person typed it
    after an apostrophe, or pasted it (openpyxl would otherwise store it as a formula)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Customers"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    for line in ws.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    book.save(path)
    return path

# OWASP's CSV-injection examples, and the forms around them (full-width, a payload on a later
# line of a multi-line cell).
PAYLOADS = [
    "=1+1", "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1", "\r=1+1", "\n=1+1", "=HYPERLINK(\"http://evil.example\",\"x\")",
    "＝1+1", "note\n=1+1", "ok\r\n+1",
]


def rows():
    return [
        crm_row(customer_id="C-000001", name="Anna Müller", company="Acme GmbH",
                phone="+4930123456", email="anna@example.com", tier="VIP", status="Active",
                member_since=dt.datetime(2024, 3, 1), total_spend=-12.5,
                tags="wholesale, berlin", notes="=1+1"),
        crm_row(customer_id="C-000002", name="张伟", company="上海某某有限公司",
                phone="+8613800138000", email="zhang@example.cn", tier="Normal",
                status="Paused", birthday=dt.datetime(1990, 5, 17), notes="老客户\n=SUM(A1)"),
        crm_row(customer_id="C-000003", name="Bob Stone", phone="-1+1", email="@bob",
                tier="Prospect", status="Churned", title="+cmd"),
    ]


@pytest.fixture
def book(tmp_path):
    return write_table(tmp_path / "customers.xlsx", CRM_EN, rows())


def export(book, to, *more):
    assert main(["export", str(book), "--to", str(to), *more]) == 0


def read_csv(path, bom):
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == bom
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_for_people_is_the_table_as_it_stands(book, tmp_path):
    to = tmp_path / "out" / "list.csv"
    to.parent.mkdir()
    export(book, to, "--format", "csv")
    got = read_csv(to, bom=True)
    assert got[0] == CRM_EN
    assert len(got) == 4
    by = dict(zip(got[0], got[2]))
    assert by["Name"] == "张伟" and by["Company"] == "上海某某有限公司"   # Chinese round-trips
    assert by["Phone"] == "+8613800138000"            # E.164: left usable
    assert by["Birthday"] == "1990-05-17"
    assert by["Notes"] == "老客户\n'=SUM(A1)"           # each line of a multi-line cell
    first = dict(zip(got[0], got[1]))
    assert first["Notes"] == "'=1+1" and first["Total spend"] == "-12.5"
    third = dict(zip(got[0], got[3]))
    assert third["Phone"] == "'-1+1"                   # not a phone: escaped
    assert third["Email"] == "'@bob" and third["Title"] == "'+cmd"
    assert stat.S_IMODE(os.stat(to).st_mode) == 0o600


def test_columns_and_rows_are_chosen(book, tmp_path):
    to = tmp_path / "vip.csv"
    export(book, to, "--format", "csv", "--columns", "姓名,Mobile,Email",
           "--tier", "vip,普通", "--status", "active,暂停")
    got = read_csv(to, bom=True)
    assert got == [["Name", "Phone", "Email"],
                   ["Anna Müller", "+4930123456", "anna@example.com"],
                   ["张伟", "+8613800138000", "zhang@example.cn"]]


def test_xlsx_reads_back_as_text_never_formulas(book, tmp_path):
    to = tmp_path / "list.xlsx"
    export(book, to, "--format", "xlsx")
    ws = openpyxl.load_workbook(to).active
    grid = [[c for c in row] for row in ws.iter_rows()]
    assert [c.value for c in grid[0]] == CRM_EN
    head = CRM_EN.index
    notes = grid[1][head("Notes")]
    assert notes.value == "=1+1" and notes.data_type == "s" and notes.quotePrefix
    assert grid[2][head("Name")].value == "张伟"
    phone = grid[1][head("Phone")]
    assert phone.value == "+4930123456" and not phone.quotePrefix
    assert grid[1][head("Member since")].value == dt.datetime(2024, 3, 1)
    assert grid[1][head("Total spend")].value == -12.5
    assert all(c.data_type != "f" for row in grid for c in row)
    assert stat.S_IMODE(os.stat(to).st_mode) == 0o600


@pytest.mark.parametrize("payload", PAYLOADS)
def test_owasp_payloads_are_escaped_in_every_column(payload, tmp_path):
    book = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(
        customer_id="C-000001", name=payload, phone=payload, email=payload,
        total_spend=payload, notes=payload)])
    to = tmp_path / "c.csv"
    export(book, to, "--format", "csv")
    got = read_csv(to, bom=True)[1]
    for header in ("Name", "Phone", "Email", "Total spend", "Notes"):
        cell = got[CRM_EN.index(header)]
        for line in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            assert not line.startswith(("=", "+", "-", "@", "\t", "＝")), (header, cell)
        assert not cell.startswith(("\r", "\n"))


def test_the_one_escape_rule():
    assert spreadsheet_safe("+4930123456", "phone") == "+4930123456"
    assert spreadsheet_safe("+4930123456") == "'+4930123456"        # not said to be a phone
    assert spreadsheet_safe("+49 30 123", "phone") == "'+49 30 123"   # not strictly E.164
    assert spreadsheet_safe("-12.50", "money") == "-12.50"
    assert spreadsheet_safe("-1+2", "money") == "'-1+2"
    assert spreadsheet_safe(-5) == -5
    assert spreadsheet_safe("a\n@b\r\n-c") == "a\n'@b\r\n'-c"


def test_the_audit_csv_uses_the_same_rule():
    from service import report
    assert report.spreadsheet_safe is spreadsheet_safe


def test_salesforce_file_has_its_columns_dates_and_no_bom(book, tmp_path):
    to = tmp_path / "sf.csv"
    export(book, to, "--format", "salesforce")
    got = read_csv(to, bom=False)
    head = got[0]
    assert head[:10] == ["First Name", "Last Name", "Email", "Phone", "Account Name", "Title",
                         "Mailing Street", "Birthdate", "Lead Source", "Description"]
    assert "Customer ID" in head and "Findings" not in head and "Name" not in head
    anna, zhang = (dict(zip(head, r)) for r in got[1:3])
    assert (anna["First Name"], anna["Last Name"]) == ("Anna", "Müller")
    assert (zhang["First Name"], zhang["Last Name"]) == ("", "张伟")
    assert zhang["Birthdate"] == "1990-05-17" and anna["Member since"] == "2024-03-01"
    assert anna["Description"] == "'=1+1"


def test_zoho_and_hubspot_join_tags_with_semicolons(book, tmp_path):
    export(book, tmp_path / "z.csv", "--format", "zoho")
    z = read_csv(tmp_path / "z.csv", bom=False)
    assert dict(zip(z[0], z[1]))["Tag"] == "wholesale;berlin"
    export(book, tmp_path / "h.csv", "--format", "hubspot")
    h = read_csv(tmp_path / "h.csv", bom=False)
    anna = dict(zip(h[0], h[1]))
    assert anna["Phone Number"] == "+4930123456" and anna["Tags"] == "wholesale;berlin"
    assert anna["Company Name"] == "Acme GmbH"


def test_a_crm_file_is_split_at_its_limit(tmp_path, monkeypatch, capsys):
    from sync.export import crm
    monkeypatch.setitem(crm.CRM_FORMATS, "salesforce",
                        crm.CrmFormat("salesforce", crm.SALESFORCE.columns, max_rows=2))
    book = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id=f"C-{k:06d}", name=f"P{k} Q", email=f"p{k}@x.org")
        for k in range(1, 6)])
    to = tmp_path / "sf.csv"
    export(book, to, "--format", "salesforce")
    parts = [tmp_path / f"sf-{k}.csv" for k in (1, 2, 3)]
    assert not to.exists()
    counts = [len(read_csv(p, bom=False)) - 1 for p in parts]
    assert counts == [2, 2, 1]
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in parts)
    # Fewer rows later: the third part left from before is named, not silently left.
    book = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id=f"C-{k:06d}", name=f"P{k} Q", email=f"p{k}@x.org")
        for k in range(1, 4)])
    assert main(["export", str(book), "--to", str(to), "--format", "salesforce"]) == 0
    assert "sf-3.csv (and any after it) is from an earlier export" in capsys.readouterr().out


def test_the_real_limits():
    from sync.export.crm import SALESFORCE, ZOHO
    assert SALESFORCE.max_rows == 50_000 and ZOHO.max_rows == 25_000


def test_the_export_is_in_the_audit_log_without_values(book, tmp_path):
    to = tmp_path / "list.csv"
    export(book, to, "--format", "csv", "--tier", "vip")
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        [(batch, _, workbook, note)] = log.exports()
        assert log.batch_info(batch)[2] == "export"
        assert list(log.entries(batch=batch)) == []
        assert log.last_batch(workbook) is None      # an export wrote nothing to the list
        assert log.verify() is None
    assert str(to.resolve()) in note and "1 rows" in note and "tier vip" in note
    assert "Anna" not in note and "+4930123456" not in note
    shown = run_cli("audit", str(book), "--exports")
    assert shown.returncode == 0 and batch in shown.stdout and "as csv to" in shown.stdout


def test_undo_of_an_export_says_there_is_nothing_to_undo(book, tmp_path, capsys):
    export(book, tmp_path / "list.csv", "--format", "csv")
    with AuditLog(tmp_path / ".sheetkeeper" / "audit.sqlite3") as log:
        [(batch, *_)] = log.exports()
    assert main(["undo", batch, "--data", str(tmp_path / ".sheetkeeper")]) == 2
    assert "is an export" in capsys.readouterr().err


@pytest.mark.parametrize("args, words", [
    (["--format", "pdf"], "no export format 'pdf'"),
    (["--format", "csv", "--columns", "Shoe size"], "no column 'Shoe size'"),
    (["--format", "csv", "--status", "sleeping"], "no status 'sleeping'"),
])
def test_bad_input_is_one_line_and_nothing_is_written(book, tmp_path, args, words):
    to = tmp_path / "out.csv"
    before = fingerprint(book)
    result = run_cli("export", str(book), "--to", str(to), *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert "Traceback" not in result.stderr
    assert not to.exists() and fingerprint(book) == before
    assert not (tmp_path / ".sheetkeeper").exists()       # not even the data folder


@pytest.mark.parametrize("where", ["data", "snapshots", "itself", "nofolder", "readonly",
                                   "unwritable"])
def test_places_an_export_may_not_go(book, tmp_path, where):
    data = tmp_path / ".sheetkeeper"
    (data / "snapshots").mkdir(parents=True)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    to = {"data": data / "audit.sqlite3", "snapshots": data / "snapshots" / "x.xlsx",
          "itself": book, "nofolder": tmp_path / "no" / "x.csv",
          "readonly": locked / "x.csv",
          # Where even root cannot make a file: the write itself fails, past every check.
          "unwritable": Path("/proc/sheetkeeper-export.csv")}[where]
    before = fingerprint(book)
    try:
        result = run_cli("export", str(book), "--to", str(to), "--format", "xlsx")
    finally:
        locked.chmod(0o700)
    if where == "readonly" and os.geteuid() == 0:
        pytest.skip("root writes in a folder without write permission")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert fingerprint(book) == before
    assert where == "itself" or not to.exists()


def test_a_list_that_is_not_a_list(tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_text("Name,Phone\nAnn,123\n")
    result = run_cli("export", str(path), "--to", str(tmp_path / "o.csv"), "--format", "csv")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert not (tmp_path / "o.csv").exists()


def test_names_split_for_a_crm():
    assert split_name("Dr. Jean-Luc van der Berg") == ("Jean-Luc", "van der Berg")
    assert split_name("欧阳娜娜") == ("", "欧阳娜娜")
    assert split_name("张 伟") == ("", "张 伟")        # not 张 as a given name
    assert split_name(None) == ("", "")


@pytest.mark.parametrize("fmt, version", [("vcf", "3.0"), ("vcf4", "4.0")])
def test_vcards_read_back_with_an_independent_parser(book, tmp_path, fmt, version):
    to = tmp_path / "contacts.vcf"
    export(book, to, "--format", fmt)
    data = to.read_bytes()
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))   # folded, in octets
    cards = list(vobject.readComponents(data.decode("utf-8")))
    assert [c.version.value for c in cards] == [version] * 3
    anna, zhang, _ = cards
    assert anna.fn.value == "Anna Müller"
    assert (anna.n.value.given, anna.n.value.family) == ("Anna", "Müller")
    assert anna.email.value == "anna@example.com" and anna.org.value == ["Acme GmbH"]
    assert anna.categories.value == ["wholesale", "berlin"]
    assert anna.note.value == "=1+1"          # an address book runs no formulas
    assert zhang.fn.value == "张伟" and zhang.n.value.family == "张伟"
    assert zhang.note.value == "老客户\n=SUM(A1)"
    assert zhang.bday.value == ("1990-05-17" if version == "3.0" else "19900517")
    tel = zhang.tel.value
    assert tel == ("+8613800138000" if version == "3.0" else "tel:+8613800138000")
    assert zhang.uid.value == "C-000002"
    assert stat.S_IMODE(os.stat(to).st_mode) == 0o600


def test_a_long_chinese_line_folds_between_characters(tmp_path):
    from sync.export.vcard import _folded
    line = "NOTE:" + "客户备注很长" * 20
    folded = _folded(line).encode("utf-8").split(b"\r\n")
    assert all(len(part) <= 75 for part in folded)
    assert b"".join(p[1:] if k else p for k, p in enumerate(folded)).decode("utf-8") == line


def test_a_google_sheet_exports_through_the_emulator_and_is_not_written(server, tmp_path):
    """The real command in a subprocess, over HTTP to the emulator, through the real gspread
    client: the export reads the sheet and sends no write."""
    from .fakesheets import installed_sheet
    sheet = installed_sheet(server, [["C-000001", "张伟", "", "", "+8613800138000",
                                      "zhang@example.cn"],
                                     ["C-000002", "=1+1", "", "", "", "x@example.org"]])
    before = len(server.faults.log)
    data = tmp_path / "data"
    to = tmp_path / "sheet.csv"
    done = run_cli("export", f"gsheet:{sheet.key}", "--api-endpoint", server.url,
                   "--data", str(data), "--to", str(to), "--format", "hubspot")
    assert done.returncode == 0, done.stderr
    sent = server.faults.log[before:]
    assert sent and all(method == "GET" for method, *_ in sent), sent
    got = read_csv(to, bom=False)
    rows = [dict(zip(got[0], r)) for r in got[1:]]
    assert rows[0]["Last Name"] == "张伟" and rows[0]["Phone Number"] == "+8613800138000"
    assert rows[1]["Last Name"] == "'=1+1"
    with AuditLog(data / "audit.sqlite3") as log:
        [(_, _, workbook, note)] = log.exports()
    assert workbook == f"gsheet:{sheet.key}" and "as hubspot" in note
    elsewhere = tmp_path / "other"
    refused = run_cli("export", f"gsheet:{sheet.key}", "--api-endpoint", server.url,
                      "--data", str(elsewhere), "--to", str(tmp_path / "x.csv"),
                      "--format", "pdf")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert not elsewhere.exists() and not (tmp_path / "x.csv").exists()


SOFFICE = shutil.which("soffice")


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; "
                    "`make test-deps` installs it")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_libreoffice_evaluates_none_of_the_payloads(tmp_path, fmt):
    """The exports opened by a real spreadsheet program: LibreOffice headless reads each and
    saves it again; a payload it had run as a formula would come out as a formula cell (xlsx)
    or as its result (csv). (With the escape rule switched off the CSV case fails; the xlsx
    writes every text as a text cell whatever it starts with, so that case holds even then.)"""
    book = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id=f"C-{k:06d}", name=f"P{k} Q", email=f"p{k}@x.org", notes=payload)
        for k, payload in enumerate(PAYLOADS, start=1)])
    exported = tmp_path / f"export.{fmt}"
    export(book, exported, "--format", fmt)
    out = tmp_path / "lo"
    out.mkdir()
    target = "xlsx" if fmt == "csv" else "csv:Text - txt - csv (StarCalc):44,34,76,1"
    subprocess.run([SOFFICE, "--headless", "--norestore",
                    f"-env:UserInstallation=file://{out / 'profile'}",
                    *(["--infilter=CSV:44,34,76,1"] if fmt == "csv" else []),
                    "--convert-to", target, "--outdir", str(out), str(exported)],
                   check=True, capture_output=True, timeout=180)
    notes = CRM_EN.index("Notes")
    if fmt == "csv":
        ws = openpyxl.load_workbook(out / "export.xlsx").active
        cells = [row[notes] for row in ws.iter_rows(min_row=2)]
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
        shown = [str(c.value).lstrip("'") for c in cells]
    else:
        rows = list(csv.reader(io.StringIO((out / "export.csv").read_text("utf-8"),
                                           newline="")))
        shown = [r[notes] for r in rows[1:]]
    # What is read is the payload as typed (give or take the apostrophe and white space),
    # never what it evaluates to ("=1+1" -> 2, "-2+3" -> 1, a HYPERLINK -> its label).
    words = [re.sub(r"\W", "", p) for p in PAYLOADS]
    assert [re.sub(r"\W", "", t) for t in shown] == words


def _nameparser_reading(name):
    from nameparser import HumanName
    h = HumanName(name.strip())
    first = " ".join(p for p in (h.first, h.middle) if p)
    last = " ".join(p for p in (h.last, h.suffix) if p)
    return (first, last) if last else ("", first)


WORDS = st.sampled_from(["Anna", "Dr", "Jr", "van", "Y", "Mary", "Müller", "de", "Sir", "III",
                         "O", "Li", "Ms", "Bin", "JOHN", "smith", "Mc", "Esq"])


@given(st.tuples(WORDS | st.text(st.characters(categories=["Lu", "Ll"]), min_size=1,
                                 max_size=8),
                 WORDS | st.text(st.characters(categories=["Lu", "Ll"]), min_size=1,
                                 max_size=8)))
def test_the_fast_two_word_split_reads_as_nameparser_does(words):
    name = " ".join(words)
    if split_name.__wrapped__(name) != _nameparser_reading(name):
        assert any(c for c in name if crm_cjk(c)), name    # only a name kept whole differs


def crm_cjk(c):
    from sync.export.crm import _CJK
    return bool(_CJK.search(c))


def test_a_cell_showing_an_error_is_shown_to_people_and_not_handed_to_a_crm(tmp_path):
    book = write_table(tmp_path / "c.xlsx", CRM_EN, [crm_row(customer_id="C-000001",
                                                            name="Ann Lee", email="a@x.org")])
    wb = openpyxl.load_workbook(book)
    cell = wb.active.cell(row=2, column=CRM_EN.index("Company") + 1)
    cell.value, cell.data_type = "#N/A", "e"
    wb.save(book)
    export(book, tmp_path / "people.csv", "--format", "csv")
    assert dict(zip(CRM_EN, read_csv(tmp_path / "people.csv", bom=True)[1]))["Company"] == "#N/A"
    export(book, tmp_path / "sf.csv", "--format", "salesforce")
    got = read_csv(tmp_path / "sf.csv", bom=False)
    assert dict(zip(got[0], got[1]))["Account Name"] == ""


def test_a_crm_export_says_which_records_the_crm_will_refuse(tmp_path, capsys):
    book = write_table(tmp_path / "c.xlsx", CRM_EN, [
        crm_row(customer_id="C-000001", name="Ann Lee", email="a@x.org"),
        crm_row(customer_id="C-000002", email="nameless@x.org")])
    export(book, tmp_path / "sf.csv", "--format", "salesforce")
    assert "1 of 2 rows have no Last Name" in capsys.readouterr().out
    export(book, tmp_path / "h.csv", "--format", "hubspot")
    assert "note:" not in capsys.readouterr().out


def test_a_members_list_exports_to_a_crm_by_its_own_columns(tmp_path):
    from sheet_templates import builtin
    members = builtin("members")
    headers = [c.header("en") for c in members.columns]
    row = {c.key: None for c in members.columns}
    row.update(member_no="M-00001", name="李娜", phone="+8613900139000",
               email="li@example.cn", activities="yoga, swim", joined=dt.datetime(2025, 1, 2))
    book = write_table(tmp_path / "m.xlsx", headers, [[row[c.key] for c in members.columns]])
    export(book, tmp_path / "z.csv", "--format", "zoho")
    got = read_csv(tmp_path / "z.csv", bom=False)
    li = dict(zip(got[0], got[1]))
    assert li["Last Name"] == "李娜" and li["Phone"] == "+8613900139000"
    assert li[members.column("joined").header("en")] == "2025-01-02"
    own = got[0][got[0].index("Description") + 1:]
    assert own[0] == members.column("member_no").header("en")    # the way back to the row
    assert li[members.column("activities").header("en")] == "yoga;swim"   # a multi-select


# (No apostrophe in the text: a cell that already begins with one reads the same escaped or not,
# as in Excel, so "nothing is lost" is said of the rest.)
FORMULA_TEXT = st.text(st.sampled_from(list("=+-@\t\r\n＝＋－＠a1. ")), max_size=12)


@given(FORMULA_TEXT, st.sampled_from([None, "phone", "money", "text"]))
def test_no_line_of_an_escaped_cell_starts_a_formula_and_nothing_is_lost(text, column_type):
    safe = spreadsheet_safe(text, column_type)
    if safe == text and column_type in ("phone", "money") and text and \
            re.fullmatch(r"\+[1-9][0-9]{1,14}|-?[0-9]+(?:\.[0-9]+)?", text):
        return                                   # strictly its column's type: kept usable
    lines = re.split(r"\r\n|\r|\n", safe)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"))
    assert all(not ln.startswith(("=", "+", "-", "@", "\t", "＝", "＋", "－", "＠"))
               for ln in lines)
    # Only apostrophes were added, each before a line that began with a formula character.
    unescaped = re.sub(r"(^|\r\n|\r|\n)'(?=[=+\-@\t\r\n＝＋－＠])", r"\1", safe)
    assert unescaped == text
