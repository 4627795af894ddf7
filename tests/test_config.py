"""sheetkeeper.toml: the embedded default, a full file, and errors that name the key and line."""
import datetime as dt
from pathlib import Path

import pytest

from service import config
from service.config import ConfigError

FULL = """\
data = "state"

[rules]
region = "gb"
date_order = "dmy"
paused_days = 45
auto_merge = "certain"

[service]
debounce = 0.2
poll = 5

[snapshots]
at = "03:30"
keep_daily = 3

[[watch]]
path = "books"
template = "members"

[[watch]]
path = "other/list.xlsx"
region = "CN"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sheetkeeper.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_embedded_default(tmp_path):
    c = config.find(cwd=tmp_path)
    assert c.source is None
    assert c.watches[0].path == tmp_path.resolve() / "workbooks"
    assert c.watches[0].template == "crm"
    assert c.data == tmp_path.resolve() / "workbooks" / ".sheetkeeper"
    assert c.snapshot_at == dt.time(2, 0) and c.retention.keep_daily == 7


def test_a_full_file(tmp_path):
    c = config.find(cwd=write(tmp_path, FULL).parent)
    base = tmp_path.resolve()
    assert c.data == base / "state"
    assert (c.region, c.date_order, c.thresholds.paused_days, c.auto_merge) == \
        ("GB", "dmy", 45, "certain")
    assert (c.debounce, c.poll, c.snapshot_at, c.retention.keep_daily) == \
        (0.2, 5.0, dt.time(3, 30), 3)
    assert c.watch_for(base / "books" / "gym.xlsx").template == "members"
    assert c.watch_for(base / "other" / "list.xlsx").region == "CN"
    assert c.watch_for(base / "other" / "else.xlsx") is None


@pytest.mark.parametrize("text, where, words", [
    ("[[watch]]\npath = 'w'\n\n[rules]\nregoin = 'GB'\n", ":5: rules.regoin:", "unknown key"),
    ("[[watch]]\npath = 'w'\n[service]\ndebounce = 'soon'\n", ":4: service.debounce:",
     "must be a number"),
    ("[[watch]]\npath = 'w'\n[[watch]]\npath = 'v'\ntemplate = 'shop'\n",
     ":5: watch[2].template:", "not a template"),
    ("[[watch]]\npath = 'w'\nregion = 'XX'\n", ":3: watch[1].region:", "country code"),
    ("[[watch]]\npath = 'w'\n[snapshots]\nat = '25:00'\n", ":4: snapshots.at:", "time of day"),
    ("[snapshots]\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n[[watch]]\npath='w'\n",
     "snapshots.keep_daily", "keep at least one"),
    ("[rules]\nregion = 'GB'\n", "watch:", "nothing to watch"),
    ("[[watch]]\npath = 'w'\n[rules\n", ":3: (syntax)", ""),
    ("[[watch]]\ntemplate = 'crm'\n", "watch[1].path", "is missing"),
    ("[[watch]]\nspreadsheet = '1AbC'\n", "google:", "needs a [google] table"),
    ("[[watch]]\nspreadsheet = '1AbC'\n[google]\npoll = 5\n", ":3: google.credentials:",
     "is missing"),
    ("[[watch]]\nspreadsheet = '1AbC'\npath = 'w'\n[google]\ncredentials = 'k.json'\n",
     ":2: watch[1].spreadsheet:", "not both"),
    ("[[watch]]\nspreadsheet = 'https://example.com/x'\n[google]\ncredentials = 'k.json'\n",
     ":2: watch[1].spreadsheet:", "not the address of a Google Sheet"),
    ("[[watch]]\nspreadsheet = '1AbC'\n[google]\napi_endpoint = 'http://10.1.1.1:80'\n",
     ":4: google.api_endpoint:", "only a local emulator"),
    ("[[watch]]\nspreadsheet = '1AbC'\n[google]\ncredentials = 'k.json'\n"
     "authorized_user = 'u.json'\n", ":5: google.authorized_user:", "not both"),
    ("[[watch]]\nspreadsheet = '1AbC'\n[google]\ncredentials = 'k.json'\npoll = 0\n",
     ":5: google.poll:", "above 0"),
    ("[[watch]]\npath = 'w'\n[tiers]\nwrite = true\n", "tiers.vip_spend", "say when"),
    ("[[watch]]\npath = 'w'\n[points]\nper = 0\n", ":4: points.per:", "positive"),
    ("[[watch]]\npath = 'w'\n[tiers]\nvip_spend = 'lots'\n", ":4: tiers.vip_spend:",
     "must be"),
])
def test_mistakes_name_the_key_and_its_line(tmp_path, text, where, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        config.load(path)
    assert where in str(e.value) and words in str(e.value)
    assert str(e.value).startswith(str(path))


def test_a_google_sheet_to_watch(tmp_path):
    c = config.load(write(tmp_path, """\
[google]
credentials = "keys/sa.json"
poll = 30

[[watch]]
path = "books"

[[watch]]
spreadsheet = "https://docs.google.com/spreadsheets/d/1AbCdEf_gh-IJ/edit#gid=0"
template = "crm"
sheet = "Kunden"
region = "de"
"""))
    (sheet,) = c.sheets
    assert sheet.key == "gsheet:1AbCdEf_gh-IJ" and sheet.sheet == "Kunden"
    assert c.google.credentials == tmp_path.resolve() / "keys" / "sa.json"
    assert c.google.poll == 30.0 and len(c.watches) == 1
    assert c.rule_settings("gsheet:1AbCdEf_gh-IJ", dt.date(2026, 11, 23)).phone_region == "DE"
    assert c.rule_settings("gsheet:other", dt.date(2026, 11, 23)).phone_region is None


def test_the_cli_takes_its_defaults_from_the_config(tmp_path, monkeypatch):
    from service.cli import main
    from sheet_templates import builtin
    from sync.xlsx.install import install_new
    book = tmp_path / "workbooks" / "c.xlsx"
    book.parent.mkdir()
    install_new(builtin("crm"), book, "en", [{"name": "Ann Lee", "phone": "020 7946 0958"}])
    write(tmp_path, '[rules]\nregion = "GB"\n[[watch]]\npath = "workbooks"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["apply", str(book), "--today", "2026-11-23"]) in (0, 1)
    import openpyxl
    ws = openpyxl.load_workbook(book)["Customers"]
    assert ws["E2"].value == "+442079460958"          # read as a GB number, from the config
    assert (tmp_path / ".sheetkeeper" / "audit.sqlite3").exists()   # beside the config file


def test_a_broken_config_is_a_clear_cli_error(tmp_path, monkeypatch, capsys):
    from service.cli import main
    write(tmp_path, "[[watch]]\npath = 'w'\ncolour = 'blue'\n")
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "sheetkeeper.toml:3: watch[1].colour: unknown key" in err


def test_points_tiers_and_churn_rules_reach_the_cycle(tmp_path):
    from rules.customer_value import ChurnRule, PointsRule, TierRule
    cfg = config.load(write(tmp_path, "[[watch]]\npath = 'w'\n[points]\nper = 50\n"
                                      "points = 1\nexpire_months = 24\n[tiers]\n"
                                      "vip_spend = 5000\nwrite = true\n[churn]\nfactor = 3\n"))
    value = cfg.rule_settings(tmp_path / "w" / "a.xlsx", dt.date(2026, 1, 1)).value
    assert value.points == PointsRule(50, 1, 24)
    assert value.tiers == TierRule(5000, None, 12, True)
    assert value.churn == ChurnRule(3, 30, 3)
    assert config.load(write(tmp_path, "[[watch]]\npath = 'w'\n")).value.tiers is None
