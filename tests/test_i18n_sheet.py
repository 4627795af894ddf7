"""The sheet speaks its template's language (#20): a Chinese list gets its findings, duplicate
lines and Review reasons in Chinese; an English one keeps every word it had. A sheet whose
findings were written in other words gets them said anew once, then no more writes."""
from __future__ import annotations

import re

import openpyxl
import pytest

from sheet_templates import builtin, sample_rows
from sync.plan import RuleSettings
from sync.xlsx.install import install_new
from sync.xlsx.target import apply_workbook
from tests.conftest import TODAY

SETTINGS = RuleSettings(today=TODAY)
# Two Latin words in a row, once quoted values (a person's typing, said back) and command-line
# options (--date-order dmy, `sheetkeeper check`) are taken out.
ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,:;]+[A-Za-z]{2,}")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|--[a-z-]+(?: [a-z]+)?")


CRM = builtin("crm")


def findings(path, lang: str) -> list:
    return column(path, 0, CRM.column_of_type("findings").header(lang))


def column(path, tab: str | int, header: str) -> list:
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[tab] if isinstance(tab, int) else book[tab]
    rows = list(ws.iter_rows(values_only=True))
    head = next(r for r in rows if header in r)
    j = head.index(header)
    return [r[j] for r in rows[rows.index(head) + 1:] if r[j] not in (None, "")]


def messy(path, lang: str):
    install_new(builtin("crm"), path, lang, sample_rows("crm", lang) + [
        {"name": "王芳" if lang != "en" else "Fang Wang", "phone": "12345",
         "email": "wang@@example", "birthday": "03/05/2024"},
    ])
    apply_workbook(path, SETTINGS)        # IDs first
    apply_workbook(path, SETTINGS)        # then the pairs, by ID, on the Review tab
    return path


def english_in(texts) -> list[str]:
    return [t for t in texts if ENGLISH.search(QUOTED.sub("", t))]


def test_a_chinese_sheet_gets_its_findings_and_review_reasons_in_chinese(tmp_path):
    path = messy(tmp_path / "zh.xlsx", "zh-CN")
    lines = [line for cell in findings(path, "zh-CN") for line in cell.split("\n")]
    assert any(line.startswith("[重复]") and "确定重复" in line for line in lines)
    assert any(line.startswith("电话: ") for line in lines), lines   # the colour rule's "header:"
    assert any("不是日期" in line or "可能是" in line for line in lines), lines
    assert english_in(lines) == []
    reasons = column(path, CRM.word("tabs", "review", "zh-CN"),
                     CRM.word("review_headers", "reason", "zh-CN"))
    assert reasons and english_in(reasons) == [] and any("相同" in r for r in reasons)


def test_an_english_sheet_keeps_its_words(tmp_path):
    path = messy(tmp_path / "en.xlsx", "en")
    lines = [line for cell in findings(path, "en") for line in cell.split("\n")]
    assert any(re.match(r"\[Duplicate\] (certain|possible) duplicate of C-\d+ \(row \d+\): same ",
                        line) for line in lines), lines
    assert any(line.startswith("Phone: ") for line in lines)
    assert any(re.search(r"could be \d+ [A-Z][a-z]+ \d{4} or \d+ [A-Z][a-z]+ \d{4}", line)
               for line in lines), lines


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_findings_written_in_other_words_are_said_anew_once(tmp_path, monkeypatch, lang):
    """Yesterday's sheetkeeper wrote every finding in English (and judged under no catalog);
    today's judges each row once more and says it in the sheet's language, then writes
    nothing more. An English sheet reads the same: nothing is written at all."""
    import i18n
    import sync.cycle
    import sync.plan
    import sync.review
    path = tmp_path / "old.xlsx"
    with monkeypatch.context() as old:
        old.setattr(sync.cycle, "catalog_stamp", lambda: "before translations")
        old.setattr(sync.plan, "render", lambda text, lang: str(text))
        old.setattr(sync.review, "render", lambda text, lang: str(text))
        messy(path, lang)
    before = findings(path, lang)
    assert english_in(before)
    stamp = path.stat().st_mtime_ns
    apply_workbook(path, SETTINGS)
    after = findings(path, lang)
    if lang == "en":
        assert after == before and path.stat().st_mtime_ns == stamp
    else:
        assert english_in(after) == [] and len(after) == len(before)
        assert i18n.render(i18n._("certain"), lang) in "".join(after)
    stamp = path.stat().st_mtime_ns
    apply_workbook(path, SETTINGS)
    assert path.stat().st_mtime_ns == stamp


def test_the_command_line_speaks_the_locale_s_language(tmp_path):
    """LANG=zh_CN.UTF-8: the report and the errors in Chinese; --lang en overrides it. The
    JSON report keeps its keys (rule, kind) whatever the language."""
    import json
    import os
    import subprocess
    import sys
    path = tmp_path / "c.xlsx"
    install_new(CRM, path, "en", sample_rows("crm", "en"))
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "zh_CN.UTF-8"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "service", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    text = cli("check", str(path)).stdout
    assert "工作表" in text and "待查看" in text and "重复项" in text, text
    assert "Phone: 没有国家代码" in text          # the sheet's header, the reader's words
    missing = cli("check", str(tmp_path / "nowhere.xlsx"))
    assert missing.returncode == 2 and english_in([missing.stderr.split(": ", 1)[1]]) == [], \
        missing.stderr
    english = cli("--lang", "en", "check", str(path)).stdout
    assert "to look at" in english and "工作表" not in english
    report = json.loads(cli("check", "--report", "json", str(path)).stdout)
    assert {f["kind"] for f in report["findings"]} >= {"invalid_phone"}
    assert any("没有国家代码" in f["message"] for f in report["findings"])


def test_every_cell_sheetkeeper_writes_in_a_chinese_sheet_is_chinese(tmp_path):
    """Whatever sheetkeeper wrote into a zh-CN list (as the audit log records it: findings,
    statuses, review lines, a merge's notes and tombstone) holds no English sentence; values
    people typed and sheetkeeper moved (a merge) are theirs, not sentences of its own."""
    from audit.log import AuditLog
    from sync.xlsx.target import default_data_folder
    path = messy(tmp_path / "zh.xlsx", "zh-CN")
    review, decision = CRM.word("tabs", "review", "zh-CN"), CRM.word("decisions", "merge", "zh-CN")
    book = openpyxl.load_workbook(path)
    ws = book[review]
    header = [c.value for c in ws[1]]
    j = header.index(CRM.word("review_headers", "decision", "zh-CN"))
    ws.cell(row=2, column=j + 1, value=decision)
    book.save(path)
    apply_workbook(path, SETTINGS)
    apply_workbook(path, SETTINGS)
    with AuditLog(default_data_folder(path) / "audit.sqlite3") as log:
        written = [e for e in log.entries() if e.actor != "person" and e.rule != "edit"
                   and isinstance(e.after, str)]
    assert any(e.rule == "merge" for e in written)
    moved = {e.after for e in written if e.rule == "merge" and e.column != "检查结果"}
    said = [e.after for e in written if e.after not in moved]
    assert said and english_in(said) == [], english_in(said)


def test_a_chinese_google_sheet_gets_chinese_findings(server, tmp_path):
    """The same words through the Sheets API (the local emulator): the template installed in
    Chinese, a cycle writes its Findings and Review reasons in Chinese."""
    from sync.gsheets.client import GoogleSheet
    from sync.gsheets.install import install_into
    from sync.gsheets.target import apply_google
    from tests.fakesheets import sheetkeeper_client
    gc = sheetkeeper_client(server)
    sh = gc.create("客户名单")
    google = GoogleSheet.open(gc, sh.id)
    install_into(google, CRM, "zh-CN")
    tab = sh.worksheet(CRM.sheet_names["zh-CN"])
    twin = ["", "张伟", "Acme", "", "+86 138 0013 8000", "zw@example.com"]
    tab.update([twin, twin[:5] + ["zhangwei@example"], ["", "王芳", "", "", "12345"]], "A2")
    apply_google(google, SETTINGS, tmp_path)
    apply_google(google, SETTINGS, tmp_path)
    rows = tab.get_all_values()
    j = rows[0].index(CRM.column_of_type("findings").header("zh-CN"))
    lines = [line for r in rows[1:] if len(r) > j and r[j] for line in r[j].split("\n")]
    assert any(line.startswith("[重复]") for line in lines), lines
    assert any(line.startswith("电话: ") for line in lines), lines
    assert english_in(lines) == []
    review = sh.worksheet(CRM.word("tabs", "review", "zh-CN")).get_all_values()
    k = review[0].index(CRM.word("review_headers", "reason", "zh-CN"))
    assert review[1][k] and english_in([review[1][k]]) == [], review


def test_a_finding_stated_again_reads_as_when_it_was_judged(tmp_path):
    """Another cell of the row edited: the flagged cell is not judged again but stated again
    from the seen state, in the same words (its dates as dates), so Findings is not rewritten."""
    from audit.log import AuditLog
    from sync.xlsx.target import default_data_folder
    path = messy(tmp_path / "zh.xlsx", "zh-CN")
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    f, company = header.index(CRM.column_of_type("findings").header("zh-CN")), \
        header.index(CRM.column("company").header("zh-CN"))
    row = next(r for r in ws.iter_rows(min_row=2) if r[f].value and "可能是" in r[f].value)
    before = row[f].value
    assert re.search(r"可能是 \d{4}年\d{1,2}月\d{1,2}日", before), before   # the dates as dates
    row[company].value = "新公司"
    book.save(path)
    result = apply_workbook(path, SETTINGS)
    assert findings(path, "zh-CN").count(before) == 1
    with AuditLog(default_data_folder(path) / "audit.sqlite3") as log:
        assert not [e for e in log.entries(batch=result.batch) if e.rule == "findings"] \
            if result.batch else True
