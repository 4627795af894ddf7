"""`export --format fxiaoke`: 纷享销客's import is an Excel file whose first row holds the
fields' labels. The file is written, opened again with openpyxl, and read back."""
from __future__ import annotations

import datetime as dt

import openpyxl

from service.cli import main
from sync.export.crm import CRM_FORMATS

from .conftest import CRM_EN, crm_row, write_table


def test_fxiaoke_is_one_workbook_with_its_labels_first(tmp_path, capsys):
    book = write_table(tmp_path / "customers.xlsx", CRM_EN, [
        crm_row(customer_id="C-000001", name="张伟", company="北京科技有限公司",
                phone="+8613800138000", email="zhang@example.cn", title="采购",
                birthday=dt.date(1985, 4, 12), notes="@SUM(1+1)*cmd|' /C calc'!A0",
                tags="vip, gym"),
        crm_row(customer_id="C-000002", name=None, phone="+8613900139000"),
    ])
    to = tmp_path / "联系人.xlsx"
    code = main(["export", str(book), "--to", str(to), "--format", "fxiaoke"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "1 of 2 rows have no 姓名" in out.out
    sheet = openpyxl.load_workbook(to).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    head = rows[0]
    assert head[:9] == ["姓名", "客户名称", "手机", "邮箱", "职务", "生日", "地址", "来源", "备注"]
    assert head[9] == "Customer ID"          # the way back to the row, first of the rest
    first = dict(zip(head, rows[1]))
    assert (first["姓名"], first["客户名称"], first["手机"]) == ("张伟", "北京科技有限公司",
                                                           "+8613800138000")
    assert first["生日"] == "1985-04-12"
    assert first["Tags"] == "vip;gym"
    assert first["备注"] == "@SUM(1+1)*cmd|' /C calc'!A0"     # shown as text …
    assert sheet.cell(2, head.index("备注") + 1).data_type == "s"   # … never run as a formula
    assert sheet.cell(2, head.index("备注") + 1).quotePrefix
    assert CRM_FORMATS["fxiaoke"].workbook and not CRM_FORMATS["salesforce"].workbook
