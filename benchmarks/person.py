"""One person of a labelled customer list (benchmarks/people.py), and how a row is written from
them. A Person holds what is true of someone (names, phone, address, birthday) together with how
one entry wrote it (which name order, which phone format); a duplicate is the same person written
another way (benchmarks/slips.py). Writing a row adds the noise every typed list has and
normalising takes away (letter case, stray spaces), drawn afresh for every row.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any, NamedTuple

from .generate import SOURCES, TIERS, TYPES
from .name_pools import STREET_TYPES_GB, TITLES_EN, TITLES_ZH


class Phone(NamedTuple):
    country: str                 # "44", "86"
    number: str                  # the national significant number: "7812345678"
    groups: tuple[int, ...]      # how its digits are grouped when written: (4, 6)
    trunk: str                   # written before it at home: "0", or "" (a Chinese mobile)
    landline: bool


class Address(NamedTuple):
    unit: str                    # "Flat 3", "3栋502室", or ""
    number: str                  # "14", "88"
    street: str                  # "Mill", "张杨"
    street_type: str             # "Lane", "路"
    town: str                    # "Leeds", "上海市"
    area: str                    # the postcode ("LS6 2AB") or the district ("浦东新区")


class AddressForm(NamedTuple):
    short: str = ""              # which shortening a person used ("" none: see ADDRESS_SHORT)
    order: int = 0               # which order of the parts (0: the usual one)
    space_slip: int | None = None   # where a space went wrong: a seed, or None


class Company(NamedTuple):
    city: str                    # "上海", or ""
    core: str                    # "Blue Harbour", "晨光"
    industry: str                # "Yoga", "贸易"
    form: str                    # the legal form as written: "Ltd", "有限公司", ""


# How a name is written: Latin forms use given/family (pinyin for a Chinese name), "hanzi" the
# Chinese characters.
NAME_FORMS = ("given family", "family given", "family, given", "FAMILY given", "initial",
              "initial nodot", "hanzi")


@dataclass(frozen=True)
class Person:
    given: str                   # in Latin letters (pinyin for a Chinese name)
    family: str
    given_han: str = ""          # in hanzi, for a Chinese name
    family_han: str = ""
    name_form: str = "given family"
    title: str | None = None
    phone: Phone | None = None
    phone_style: int = 0         # see PHONE_STYLES
    email: str | None = None
    address: Address | None = None
    address_form: AddressForm = AddressForm()
    company: Company | None = None
    birthday: dt.date | None = None
    birthday_style: int = 0      # see DATE_STYLES
    # What a duplicate of this person never does (slip names, or "birthday": never left out),
    # where it would leave a person unable to tell them from a look-alike.
    protected: frozenset[str] = frozenset()

    @property
    def han(self) -> bool:
        return bool(self.family_han)


def written_name(p: Person) -> str:
    form = p.name_form
    if form == "hanzi":
        return p.family_han + p.given_han
    if form == "family given":
        return f"{p.family} {p.given}"
    if form == "family, given":
        return f"{p.family}, {p.given}"
    if form == "FAMILY given":
        return f"{p.family.upper()} {p.given}"
    if form == "initial":
        return f"{p.given[0]}. {p.family}"
    if form == "initial nodot":
        return f"{p.given[0]} {p.family}"
    return f"{p.given} {p.family}"


# Phone formats: the first four written as at home (national), the rest with the country code.
NATIONAL_STYLES, INTERNATIONAL_STYLES = (0, 1, 2, 3), (4, 5, 6, 7)


def written_phone(phone: Phone, style: int) -> Any:
    parts, at = [], 0
    for size in phone.groups:
        parts.append(phone.number[at:at + size])
        at += size
    spaced, home = " ".join(parts), phone.trunk
    cc, number = phone.country, phone.number
    return [
        lambda: home + spaced,                                   # 07812 345678
        lambda: home + number,                                   # 07812345678
        lambda: home + "-".join(parts),                          # 021-5888-1234
        # A Chinese mobile typed into a number cell; else the area code in brackets.
        lambda: (float(number) if not home else f"({home}{parts[0]}) {' '.join(parts[1:])}"),
        lambda: f"+{cc} {spaced}",                               # +44 7812 345678
        lambda: f"+{cc}{number}",                                # +447812345678
        lambda: f"00{cc} {spaced}",                              # 0044 7812 345678
        lambda: f"+{cc}-{number}" if cc == "86" else f"+{cc} ({home}){spaced}",  # +44 (0)7812 …
    ][style]()


# Birthday formats; each language's team uses some of them (DATE_STYLES).
_MONTHS = ("January February March April May June July August September October November "
           "December").split()


def written_date(d: dt.date, style: int) -> Any:
    return [
        lambda: d,                                               # a real date cell
        lambda: d.isoformat(),
        lambda: f"{d.year}/{d.month}/{d.day}",
        lambda: f"{d.day}.{d.month}.{d.year}",
        lambda: f"{d.year}年{d.month}月{d.day}日",
        lambda: (d - dt.date(1899, 12, 30)).days,                # an Excel serial number
        lambda: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
        lambda: f"{d.day:02d}/{d.month:02d}/{d.year}",           # day first, as in the UK
    ][style]()


DATE_STYLES = {"en": (0, 1, 3, 5, 6, 7, 7, 7), "zh-CN": (0, 1, 2, 4, 4, 5)}

# The shortenings of an address: an English street type (STREET_TYPES_GB); for a Chinese address,
# the city left out, 市/区 left off, 号 left off, or the unit as 3-502.
ADDRESS_SHORT = {"en": ("type",), "zh-CN": ("no city", "no suffixes", "no hao", "unit dash")}
ADDRESS_ORDERS = {"en": 4, "zh-CN": 3}


def written_address(a: Address, form: AddressForm, lang: str) -> str:
    text = (_english_address if lang == "en" else _chinese_address)(a, form)
    if form.space_slip is not None:
        text = _space_slip(text, random.Random(form.space_slip))
    return text


def _english_address(a: Address, form: AddressForm) -> str:
    kind = STREET_TYPES_GB[a.street_type] if form.short == "type" else a.street_type
    street = f"{a.number} {a.street} {kind}"
    unit = f"{a.unit}, " if a.unit else ""
    return [
        f"{unit}{street}, {a.town} {a.area}",
        f"{a.town} {a.area}, {unit}{street}",
        f"{a.street} {kind} {a.number}{', ' + a.unit if a.unit else ''}, {a.town}, {a.area}",
        f"{a.area}, {unit}{street}, {a.town}",
    ][form.order]


def _chinese_address(a: Address, form: AddressForm) -> str:
    city, district, number, unit = a.town, a.area, f"{a.number}号", a.unit
    if form.short == "no city":
        city = ""
    elif form.short == "no suffixes":
        city, district = city.removesuffix("市"), district.removesuffix("新区").removesuffix("区")
    elif form.short == "no hao":
        number = a.number
    elif form.short == "unit dash" and unit:
        unit = unit.replace("栋", "-").removesuffix("室")
    road = f"{a.street}{a.street_type}{number}"
    return [
        f"{city}{district}{road}{unit}",
        ", ".join(p for p in (unit, road, district, city) if p),   # the Western order
        f"{district}{road}{unit}" + (f", {city}" if city else ""),
    ][form.order]


def _space_slip(text: str, rng: random.Random) -> str:
    """A space in the wrong place: one taken out (where there is one, half the time), one put
    inside a word."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    taken = None
    if spaces and rng.random() < 0.5:
        taken = rng.choice(spaces)
        text = text[:taken] + text[taken + 1:]
    inside = [i for i in range(1, len(text)) if text[i] not in " ," and text[i - 1] not in " ,"
              and i != taken]    # not back where it was taken out
    if inside:
        i = rng.choice(inside)
        text = text[:i] + " " + text[i:]
    return text


def written_company(c: Company) -> str:
    if c.city or not c.core.isascii():
        return f"{c.city}{c.core}{c.industry}{c.form}"
    return f"{c.core} {c.industry} {c.form}".strip()


def row_of(p: Person, rng: random.Random, lang: str) -> dict[str, Any]:
    """The row one entry of `p` makes, in the crm template's column keys (Customer ID left for
    sheetkeeper to fill)."""
    today = dt.date(2026, 11, 23)
    return {
        "customer_id": None,
        "name": _noisy_name(p, rng),
        "company": written_company(p.company) if p.company else None,
        "title": p.title if rng.random() < 0.9 else rng.choice(TITLES_ZH if p.han else TITLES_EN),
        "phone": written_phone(p.phone, p.phone_style) if p.phone else None,
        "email": _noisy_email(p.email, rng) if p.email else None,
        "address": (_trailing(written_address(p.address, p.address_form, lang), rng)
                    if p.address else None),
        "customer_type": rng.choice(TYPES),
        "tier": rng.choice(TIERS),
        "source": rng.choice(SOURCES),
        "status": rng.choice(["Active", "New", "", "paused"]),
        "member_since": today - dt.timedelta(days=rng.randrange(300, 3000)),
        "last_contact": today - dt.timedelta(days=rng.randrange(1, 900)),
        "next_follow_up": rng.choice([None, today + dt.timedelta(days=rng.randrange(1, 200))]),
        "birthday": written_date(p.birthday, p.birthday_style) if p.birthday else None,
        "total_spend": rng.choice([f"${rng.randrange(10**5):,}.00", rng.randrange(10**4),
                                   f"¥{rng.randrange(10**5):,}", None]),
        "tags": rng.choice(["vip; gym", "wholesale,priority", None, "yoga ， pilates"]),
        "notes": rng.choice([None, None, "Met at the fair", "Prefers WeChat", "回访"]),
    }


def _noisy_name(p: Person, rng: random.Random) -> str:
    name, roll = written_name(p), rng.random()
    if p.name_form == "hanzi":
        if roll < 0.1:
            return f"{p.family_han} {p.given_han}"
        return name + " " if roll < 0.15 else name
    if roll < 0.1:
        return name.upper()
    if roll < 0.18:
        return name.lower()
    if roll < 0.23:
        return name.replace(" ", "  ", 1)
    return name + " " if roll < 0.28 else name


def _noisy_email(email: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        return email.upper()
    if roll < 0.2:
        return f" {email} "
    return email[0].upper() + email[1:] if roll < 0.25 else email


def _trailing(text: str, rng: random.Random) -> str:
    return text + " " if rng.random() < 0.05 else text
