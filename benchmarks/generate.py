"""Realistic messy customer lists for benchmarks: English and Chinese names, phones and dates in
mixed formats, dropdown values typed every which way, ~5% duplicates with typos. Seeded, so a
size always gives the same file."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from openpyxl import Workbook

from sheet_templates import builtin

FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
         "Elizabeth", "William", "Susan", "Priya", "Ahmed", "Sofia", "Lucas", "Olivia", "Noah",
         "Emma", "Liam", "Chloe", "Mateo", "Aisha", "Hiroshi", "Ingrid", "Pieter", "Siobhan"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Lopez",
        "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "McDonald", "O'Brien",
        "van der Berg", "Nakamura", "Natarajan", "Kowalski", "Rossi", "Dubois", "Murphy"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
COMPANIES = ["Northwind Traders", "Blue Harbor Yoga", "Acme Ltd", "Contoso", "Fabrikam Inc",
             "上海晨光贸易有限公司", "杭州青柠瑜伽馆", "Lotus Studio", "Van der Berg Bakery", ""]
TIERS = ["VIP", "vip", "VIP客户", "Normal", "normal ", "普通", "Prospect", "潜客", "Gold"]
TYPES = ["Existing", "existing customer", "老客户", "Potential", "Lead", "Partner", "合作伙伴"]
SOURCES = ["Referral", "referral", "Website", "web", "Walk-in", "到店", "Instagram", "微信", "Event"]


def _phone(rng: random.Random) -> object:
    digits = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return rng.choice([
        lambda: digits, lambda: f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        lambda: f"{digits[:3]}-{digits[3:7]}-{digits[7:]}", lambda: f"+86 {digits}",
        lambda: float(digits), lambda: f"+86{digits}", lambda: f"+1 (415) {rng.randrange(200, 999)}-{rng.randrange(10**4):04d}",
        lambda: f"{digits[:5]}",
    ])()


def _date(rng: random.Random, start: dt.date, days: int) -> object:
    d = start + dt.timedelta(days=rng.randrange(days))
    return rng.choice([
        lambda: d, lambda: d.isoformat(), lambda: f"{d.year}/{d.month}/{d.day}",
        lambda: f"{d.day}.{d.month}.{d.year}", lambda: f"{d.year}年{d.month}月{d.day}日",
        lambda: (d - dt.date(1899, 12, 30)).days, lambda: f"{d.month:02d}/{d.day:02d}/{d.year}",
        lambda: None,
    ])()


def _name(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.3:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        return name, f"user{rng.randrange(10**6)}"
    # Pools the size real lists have: a few hundred given names, thousands of family names.
    first = rng.choice(FIRST) + rng.choice(["", "", "a", "o", "ie", "ine", "el", "y"])
    last = rng.choice(LAST) + rng.choice(["", "", "", "son", "er", "ez", "ski", "berg", "ford",
                                          "well", "ton", "ley", "wood", "man", "stein"])
    name = rng.choice([f"{first} {last}", f"{first} {last}".upper(), f"{first}  {last}",
                       f"{first} {last}".lower(), f"{first} {last}"])
    return name, f"{first}.{last}".replace(" ", "").replace("'", "").lower()


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name.replace("", " ").strip() if rng.random() < 0.5 else name
    i = rng.randrange(1, len(name) - 1)
    return rng.choice([name[:i] + name[i + 1:], name[:i] + name[i] + name[i:],
                       " ".join(reversed(name.split())) or name])


def messy_rows(n: int, seed: int = 42) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    for i in range(n):
        if rows and rng.random() < 0.05:
            twin = dict(rng.choice(rows))
            twin["name"] = _typo(rng, str(twin["name"]))
            twin["customer_id"] = None
            if rng.random() < 0.5:
                twin["email"] = None
            rows.append(twin)
            continue
        name, handle = _name(rng)
        domain = rng.choice(["example.com", "Example.COM", "mail.cn", "qq.com", "gmail"])
        email = rng.choice([f"{handle}{i}@{domain}", f" {handle}{i}@{domain} ".upper(), None])
        rows.append({
            "customer_id": f"C-{i + 1:06d}" if rng.random() < 0.7 else None,
            "name": name,
            "company": (rng.choice(COMPANIES) if rng.random() < 0.15 else
                        f"{rng.choice(LAST)} {rng.choice(['Ltd', 'Inc', 'GmbH', '贸易'])}"
                        f" {rng.randrange(n // 10 + 1)}"),
            "title": rng.choice(["Buyer", "Owner", " manager ", "采购经理", None]),
            "phone": _phone(rng),
            "email": email,
            "address": rng.choice([f"{rng.randrange(1, 999)} {rng.choice(LAST)} St",
                                   f"上海市浦东新区{rng.choice(SURNAMES)}路{rng.randrange(1, 999)}号",
                                   None]),
            "customer_type": rng.choice(TYPES),
            "tier": rng.choice(TIERS),
            "source": rng.choice(SOURCES),
            "status": rng.choice(["Active", "New", "", "paused"]),
            "member_since": _date(rng, dt.date(2018, 1, 1), 3000),
            "last_contact": _date(rng, dt.date(2024, 1, 1), 1000),
            "next_follow_up": _date(rng, dt.date(2026, 1, 1), 500),
            "birthday": _date(rng, dt.date(1950, 1, 1), 20000),
            "total_spend": rng.choice([f"${rng.randrange(10**5):,}.00", rng.randrange(10**4),
                                       f"¥{rng.randrange(10**5):,}", None]),
            "tags": rng.choice(["vip; gym", "wholesale,priority", None, "yoga ， pilates"]),
            "notes": rng.choice([None, "Met at the fair", "Prefers WeChat"]),
        })
    return rows


def write_workbook(path: Path, n: int, seed: int = 42) -> Path:
    """A crm-shaped workbook of `n` messy rows."""
    return write_rows(path, messy_rows(n, seed))


def mostly_clean_rows(n: int, mess: float = 0.02, seed: int = 7) -> list[dict]:
    """Rows as sheetkeeper leaves them (IDs, E.164 phones, real dates, list values, statuses),
    with a share `mess` of the cells typed messily again: what a list in use looks like."""
    import datetime as dt

    from rules.status import classify_status

    rng = random.Random(seed)
    template = builtin("crm")
    today = dt.date(2026, 11, 23)
    status_label = {c.key: c.label("en") for c in template.lists["status"].choices}
    rows = []
    for i in range(n):
        first = rng.choice(FIRST) + rng.choice(["", "a", "o", "ie"])
        last = rng.choice(LAST) + rng.choice(["", "son", "er", "ez", "ski"])
        digits = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        since = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(3000))
        contact = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1000))
        status = classify_status(since, contact, today)
        row = {
            "customer_id": f"C-{i + 1:06d}", "name": f"{first} {last}",
            "company": f"{rng.choice(LAST)} Ltd {rng.randrange(n // 10 + 1)}",
            "phone": f"+86{digits}", "email": f"{first.lower()}.{i}@example.com",
            "customer_type": rng.choice(["Existing", "Potential", "Partner"]),
            "tier": rng.choice(["VIP", "Normal", "Prospect"]),
            "source": rng.choice(["Referral", "Website", "Walk-in", "Event"]),
            "status": status_label[status.key], "member_since": since, "last_contact": contact,
            "total_spend": rng.randrange(10**5), "tags": "vip, gym",
        }
        for key, messy in (("name", row["name"].upper()),
                           ("phone", f"{digits[:3]} {digits[3:7]} {digits[7:]}"),
                           ("email", f" {row['email'].upper()} "),
                           ("tier", row["tier"].lower()),
                           ("member_since", f"{since.year}/{since.month}/{since.day}")):
            if rng.random() < mess * 19 / 5:   # ~`mess` of all 19 cells, spread over these five
                row[key] = messy
        rows.append(row)
    return rows


def write_rows(path: Path, rows: list[dict]) -> Path:
    """A crm-shaped workbook of `rows` (write-only openpyxl: fast, low memory)."""
    template = builtin("crm")
    keys = [c.key for c in template.columns]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Customers")
    sheet.append([c.header("en") for c in template.columns])
    for row in rows:
        sheet.append([row.get(k) for k in keys])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    book.save(tmp)
    tmp.replace(path)
    return path
