from pathlib import Path

import pytest

from sheet_templates import BUILTIN, LANGS, TemplateError, builtin, fold_label, load
from sheet_templates.loader import HERE

CRM_SOURCE = (HERE / "crm.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_templates_load_with_every_language(name):
    t = builtin(name)
    for column in t.columns:
        for lang in LANGS:
            assert column.header(lang) and column.help[lang]
    for choices in t.lists.values():
        for lang in LANGS:
            assert all(choices.labels(lang))
    assert t.column(t.id.column).type == "id"
    assert t.column(t.status.column).type == "status"


def test_crm_has_the_columns_of_the_brief():
    t = builtin("crm")
    headers = [c.header("en") for c in t.columns]
    assert headers == ["Customer ID", "Name", "Company", "Title", "Phone", "Email", "Address",
                       "Customer type", "Tier", "Source", "Status", "Member since",
                       "Last contact", "Next follow-up", "Birthday", "Total spend", "Orders",
                       "First purchase", "Last purchase", "Average order", "Points", "Segment",
                       "Tags", "Notes", "Findings"]
    assert t.lists["customer_type"].labels("en") == ["Existing", "Potential", "Partner"]
    assert t.lists["tier"].labels("en") == ["VIP", "Normal", "Prospect"]
    assert t.lists["status"].labels("en") == ["New", "Active", "Paused", "Churned"]


def test_members_has_the_columns_of_the_brief():
    keys = [c.key for c in builtin("members").columns]
    assert keys == ["member_no", "name", "phone", "email", "plan", "joined", "last_visit",
                    "visits_30d", "valid_until", "status", "activities", "notes", "findings"]


@pytest.mark.parametrize("spelling", ["电话", "Tel", "Mobile", "Phone number", "手机号",
                                      " PHONE ", "phone-number"])
def test_phone_aliases(spelling):
    t = builtin("crm")
    spellings = {fold_label(s) for s in (*t.column("phone").headers.values(),
                                         *t.column("phone").aliases)}
    assert fold_label(spelling) in spellings


def broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    assert old in CRM_SOURCE
    path = tmp_path / "crm.toml"
    path.write_text(CRM_SOURCE.replace(old, new, count), encoding="utf-8")
    return path


def line_of(path: Path, text: str, nth: int = 1) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [i + 1 for i, ln in enumerate(lines) if text in ln]
    return hits[nth - 1]


@pytest.mark.parametrize("old, new, field, words", [
    ('type = "phone"', 'type = "telephone"', "columns[4].type", "unknown type 'telephone'"),
    ("width = 18", 'width = "wide"', "columns[4].width", "must be a whole number"),
    ('header = { en = "Email", zh-CN = "邮箱" }', 'header = { en = "Email" }',
     "columns[5].header", "zh-CN"),
    ("digits = 6", "digits = = 6", "(syntax)", "Invalid"),
    ('list = "tier"', 'list = "tiers"', "columns[8].list", "not defined under [lists]"),
    ('activity = "last_contact"', 'activity = "last_call"', "status.activity",
     "names column 'last_call'"),
])
def test_broken_template_names_file_line_and_field(tmp_path, old, new, field, words):
    path = broken(tmp_path, old, new)
    with pytest.raises(TemplateError) as e:
        load(path)
    assert (e.value.path, e.value.line, e.value.field) == (path, line_of(path, new), field)
    assert words in str(e.value)
    assert str(e.value).startswith(f"{path}:{e.value.line}: ")


def test_alias_clash_is_named(tmp_path):
    with pytest.raises(TemplateError, match="'Tel' would name both 'phone' and 'source'"):
        load(broken(tmp_path, '"Lead source"', '"Tel"'))


def test_unknown_template_name():
    with pytest.raises(TemplateError, match="choose one of: crm, members"):
        builtin("gym")
