"""The files `sheetkeeper import` reads, made here as the programs people use make them: a CSV
from Chinese Excel (GBK), Excel's "Unicode text" (UTF-16, tab-separated), UTF-8 with a BOM and
semicolons, a phone's vCards (3.0 and 4.0, two phones), a workbook with extra columns; and what
it refuses, in one line with exit status 2 and the target untouched."""
from __future__ import annotations

import json
import tracemalloc

import openpyxl
import pytest

from service.cli import main
from sync.importing import sources
from sync.opening import open_target

from .conftest import CRM_EN, crm_row, fingerprint, write_table
from .test_layers import BACKENDS, offending
from .conftest import ROOT

TODAY = "2026-11-23"
CRM_ZH = ["客户编号", "姓名", "公司", "职位", "电话", "邮箱", "地址", "客户类型", "客户等级",
          "来源", "状态", "加入日期", "最近联系", "下次跟进", "生日", "累计消费", "标签", "备注",
          "检查结果"]


@pytest.fixture
def book(tmp_path):
    return write_table(tmp_path / "customers.xlsx", CRM_EN, [
        crm_row(customer_id="C-000001", name="Zhang Wei", phone="+8613800138000")])


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def imported(capsys, book, file, *more):
    code, out, err = run(capsys, "import", str(file), "--into", str(book), "--region", "CN",
                         "--today", TODAY, "--report", "json", *more)
    assert code == 0, err
    return json.loads(out)


def rows_of(book):
    table = open_target(book).read()
    return [dict(zip(table.layout.headers, row)) for row in table.rows]


def test_a_gbk_csv_as_chinese_excel_saves_it(book, tmp_path, capsys):
    """Chinese Excel's "CSV (逗号分隔)": GBK, CRLF, no BOM. 镕 is in GBK and not in GB2312."""
    text = ("客户名称,手机号码,电子邮箱,公司名称,备注\r\n"
            "朱镕,13912345678,zhu@example.com,北京科技有限公司,老客户\r\n"
            "王芳,135 1111 2222,,上海贸易,\r\n")
    file = tmp_path / "客户.csv"
    file.write_bytes(text.encode("gbk"))
    report = imported(capsys, book, file)
    assert report["read_as"] == "CSV, GB18030, comma-separated"
    assert {c["header"]: c["to"] for c in report["columns"]} == {
        "客户名称": "Name", "手机号码": "Phone", "电子邮箱": "Email", "公司名称": "Company",
        "备注": "Notes"}
    rows = rows_of(book)
    assert rows[1]["Name"] == "朱镕" and rows[1]["Company"] == "北京科技有限公司"
    assert rows[1]["Notes"] == "老客户" and rows[1]["Phone"] == "+8613912345678"
    assert rows[2]["Phone"] == "+8613511112222"


def test_excel_unicode_text_is_utf16_and_tab_separated(book, tmp_path, capsys):
    file = tmp_path / "contacts.txt"
    text = "Name\tMobile\tCompany\r\nAnn Lee\t+44 20 7946 0000\tLee & Co\r\n李娜\t13900139000\t\r\n"
    file.write_bytes(text.encode("utf-16"))         # with its BOM, as Excel writes it
    assert file.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    report = imported(capsys, book, file)
    assert report["read_as"] == "CSV, UTF-16-LE, tab-separated"
    rows = rows_of(book)
    assert [r["Name"] for r in rows] == ["Zhang Wei", "Ann Lee", "李娜"]
    assert rows[1]["Phone"] == "+442079460000"


def test_utf8_with_a_bom_and_semicolons(book, tmp_path, capsys):
    file = tmp_path / "eu.csv"
    file.write_bytes("Name;Phone;Total spend\r\nJosé Müller;+49 30 1234567;1.200,50\r\n"
                     .encode("utf-8-sig"))
    report = imported(capsys, book, file)
    assert report["read_as"] == "CSV, UTF-8, semicolon-separated"
    assert rows_of(book)[1]["Name"] == "José Müller"      # the BOM is not in the first header


def test_the_encoding_can_be_named(book, tmp_path, capsys):
    file = tmp_path / "west.csv"
    file.write_bytes("Name,Phone\r\nRenée Côté,+33 1 23 45 67 89\r\n".encode("cp1252"))
    report = imported(capsys, book, file, "--encoding", "cp1252")
    assert report["read_as"].startswith("CSV, CP1252")
    assert rows_of(book)[1]["Name"] == "Renée Côté"


VCARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Li;Na;;;\r\nFN:Li Na\r\nORG:Acme Ltd;Sales\r\n"
    "TITLE:Buyer\r\nTEL;TYPE=CELL:+86 139 1234 5678\r\nTEL;TYPE=WORK,VOICE:010-6552 9988\r\n"
    "EMAIL;TYPE=INTERNET:lina@example.com\r\nEMAIL;TYPE=INTERNET:na.li@work.example\r\n"
    "BDAY:1990-04-15\r\nADR;TYPE=HOME:;;1 Main St;Beijing;;100000;China\r\n"
    "NOTE:Met at the fair\\, likes tea. A long note that a phone folds over two lines becau\r\n"
    " se vCard lines are at most 75 octets\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\nUID:1234\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zhang Wei\r\n"
    "TEL;VALUE=uri;TYPE=\"voice,cell\":tel:+86-138-0013-8000\r\n"
    "EMAIL;PREF=1:zhang.wei@example.com\r\nEND:VCARD\r\n")


def test_vcards_with_two_phones_and_emails(book, tmp_path, capsys):
    file = tmp_path / "contacts.vcf"
    file.write_text(VCARDS, encoding="utf-8", newline="")
    report = imported(capsys, book, file)
    assert report["not_imported"] == ["PHOTO", "UID"]
    assert [(r["line"], r["action"]) for r in report["rows"]] == [(1, "added"), (18, "updated")]
    rows = rows_of(book)
    li = rows[1]
    assert (li["Name"], li["Company"], li["Title"]) == ("Li Na", "Acme Ltd, Sales", "Buyer")
    assert li["Phone"] == "+8613912345678" and li["Email"] == "lina@example.com"
    assert li["Address"] == "1 Main St, Beijing, 100000, China"
    assert li["Birthday"].isoformat()[:10] == "1990-04-15"
    assert li["Notes"].startswith("Met at the fair, likes tea. A long note that a phone folds "
                                  "over two lines because vCard lines")
    assert "Other phones: 010-6552 9988; Other emails: na.li@work.example" in li["Notes"]
    # The 4.0 card's tel: URI is the list's Zhang Wei: his empty Email is filled.
    assert rows[0]["Email"] == "zhang.wei@example.com" and len(rows) == 2


def test_a_workbook_with_extra_columns_and_a_named_sheet(book, tmp_path, capsys):
    file = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    wb.active.append(["nothing to import here"])
    ws = wb.create_sheet("Contacts")
    ws.append(["Full name", "Mobile phone", "Email address", "Fax", "Loyalty points", None])
    ws.append(["Ann Lee", 13600136000, "ann@lee.example", "010-1234", 120, "stray"])
    ws.append(["Zhang Wei", "138 0013 8000", "zhang.wei@example.com", None, None, None])
    wb.save(file)
    report = imported(capsys, book, file, "--sheet", "Contacts")
    assert report["read_as"] == "xlsx sheet 'Contacts'"
    columns = {c["header"]: c["to"] for c in report["columns"]}
    assert columns["Full name"] == "Name" and columns["Mobile phone"] == "Phone"
    assert columns["Fax"] == columns["Loyalty points"] == columns["column 6"] == "Notes"
    rows = rows_of(book)
    assert rows[1]["Phone"] == "+8613600136000"         # a number cell, as a cycle reads it
    assert rows[1]["Notes"].endswith("Fax: 010-1234; Loyalty points: 120; column 6: stray")
    assert rows[0]["Email"] == "zhang.wei@example.com"


# -- what is refused ---------------------------------------------------------------------

def refused(capsys, book, file, *more):
    before = fingerprint(book)
    code, out, err = run(capsys, "import", str(file), "--into", str(book), *more)
    assert code == 2 and out == ""
    assert err.startswith("sheetkeeper import: ") and err.count("\n") == 1, err
    assert fingerprint(book) == before
    return err


def test_a_workbook_named_csv_and_a_csv_named_xlsx(book, tmp_path, capsys):
    wb = openpyxl.Workbook()
    wb.active.append(["Name"])
    wb.save(tmp_path / "really.xlsx")
    (tmp_path / "really.xlsx").rename(tmp_path / "list.csv")
    err = refused(capsys, book, tmp_path / "list.csv")
    assert "is a workbook (or another binary file), not a CSV" in err
    (tmp_path / "list.xlsx").write_text("Name,Phone\nAnn,1\n")
    err = refused(capsys, book, tmp_path / "list.xlsx")
    assert "is not a workbook, whatever its name says" in err
    (tmp_path / "list.pdf").write_text("x")
    assert "cannot import a .pdf file" in refused(capsys, book, tmp_path / "list.pdf")


def test_an_undecodable_line_is_named(book, tmp_path, capsys):
    # Past the part the encoding is guessed from: found UTF-8, and line 5001 is not.
    lines = ["Name,Phone\r\n"] + [f"Person {n},1390000{n:04d}\r\n" for n in range(5000)]
    data = "".join(lines).encode() + b"Bad \xff\xfe name,13900000000\r\n"
    (tmp_path / "bad.csv").write_bytes(data)
    err = refused(capsys, book, tmp_path / "bad.csv")
    assert "bad.csv: line 5002 is not utf-8 (bytes ff)" in err
    (tmp_path / "small.csv").write_bytes(b"Name\r\nok\r\n\x81\r\n")
    assert "line 3 is not utf-8" in refused(capsys, book, tmp_path / "small.csv",
                                            "--encoding", "utf-8")


def test_no_column_the_template_knows(book, tmp_path, capsys):
    (tmp_path / "odd.csv").write_text("Foo,Bar\r\n1,2\r\n")
    err = refused(capsys, book, tmp_path / "odd.csv")
    assert "none of the file's columns is one the template knows" in err and "--map" in err


def test_a_map_that_names_no_column(book, tmp_path, capsys):
    (tmp_path / "a.csv").write_text("Name,Foo\r\nAnn,2\r\n")
    assert "the file has no column 'Mobile'" in refused(capsys, book, tmp_path / "a.csv",
                                                        "--map", "Mobile=Phone")
    assert "'Shoe size' is not a column" in refused(capsys, book, tmp_path / "a.csv",
                                                    "--map", "Foo=Shoe size")


def test_a_vcard_cut_short_and_a_file_with_no_cards(book, tmp_path, capsys):
    (tmp_path / "cut.vcf").write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\n")
    assert "line 1 has no END:VCARD" in refused(capsys, book, tmp_path / "cut.vcf")
    (tmp_path / "none.vcf").write_text("hello\r\n")
    assert "holds no vCard" in refused(capsys, book, tmp_path / "none.vcf")


def test_a_huge_file_stops_at_the_limit_in_bounded_memory(book, tmp_path, capsys,
                                                          monkeypatch):
    """100 MB of rows: read up to the limit and no further (the limit is lowered here so the
    test is quick; the memory it takes does not grow with the file)."""
    monkeypatch.setattr(sources, "MAX_ROWS", 20_000)
    file = tmp_path / "huge.csv"
    row = b"Ann Lee,13600136000,ann@lee.example,Lee Company Limited,1 Long Road\r\n"
    with open(file, "wb") as f:
        f.write(b"Name,Phone,Email,Company,Address\r\n")
        block = row * 10_000
        while f.tell() < 100 * 1024 * 1024:
            f.write(block)
    tracemalloc.start()
    try:
        err = refused(capsys, book, file)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "has more than 20,000 rows (line 20002)" in err
    assert peak < 40 * 1024 * 1024, peak


def test_a_field_too_long_for_a_csv(book, tmp_path, capsys):
    (tmp_path / "long.csv").write_text("Name,Notes\r\nAnn,\"" + "x" * 200_000 + "\"\r\n")
    assert "line 2" in refused(capsys, book, tmp_path / "long.csv")


def test_the_import_package_imports_no_backend():
    """Generic like the cycle: the target through the seam; a workbook file is read with
    calamine in one module of its own."""
    for path in sorted((ROOT / "sync" / "importing").glob("*.py")):
        allowed = ("python_calamine",) if path.name == "xlsx_file.py" else ()
        assert [m for m in offending(path, BACKENDS) if m.split(".")[0] not in allowed] == [], \
            path.name


def test_an_old_phones_vcard_21_in_quoted_printable(book, tmp_path, capsys):
    """Older Android phones export vCard 2.1, Chinese names as quoted-printable UTF-8, a long
    one over a soft line break."""
    file = tmp_path / "old.vcf"
    file.write_bytes(b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
                     b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=BC=9F;;;\r\n"
                     b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=AC=A7=E9=98=B3=E5=A4=A7=\r\n"
                     b"=E4=BC=9F\r\nTEL;CELL:13912345678\r\nEND:VCARD\r\n")
    imported(capsys, book, file)
    assert rows_of(book)[1]["Name"] == "欧阳大伟"
    assert rows_of(book)[1]["Phone"] == "+8613912345678"
