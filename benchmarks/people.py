"""Labelled customer lists for the duplicate benchmark (python -m benchmarks.dedupe).

`roster(n, lang, seed)` is a list of n rows in the crm template's column keys, in English (a UK
team's list: GB phones, day-first dates, a few Chinese customers written in pinyin) or in Chinese
(hanzi names, Chinese phones and addresses, a few foreign customers), together with the truth:
which person each row is. About 12% of people were entered two to four times, each later entry
with one to three named slips (benchmarks/slips.py). About one person in ten is one of two
different people made alike on purpose, the hard negatives: a couple sharing the home phone and
address, flatmates at one address, a family sharing one email address, two people with the
same very common name (John Smith, 张伟) and different birthdays, a parent and child of the same
name at the same address. Values are messy the way typed lists are (phones and dates in several
formats, letter case, stray spaces): sheetkeeper normalises before it dedupes.

Seeded: the same (n, lang, seed) gives the same list, row for row.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from functools import cache
from itertools import combinations
from typing import Any, NamedTuple

import phonenumbers
from pypinyin import lazy_pinyin

from . import name_pools as pools
from .person import (DATE_STYLES, INTERNATIONAL_STYLES, NATIONAL_STYLES, Address,
                     Company, Person, Phone, row_of)
from .slips import duplicate

LANGS = ("en", "zh-CN")
DUPLICATED_SHARE = 0.12      # of people, entered more than once
HARD_NEGATIVE_SHARE = 0.05   # of draws, a pair of look-alike people instead of one person
HARD_NEGATIVES = ("household_phone", "shared_address", "family_email", "common_name",
                  "parent_child")


class Team(NamedTuple):
    """How the team keeping a list of this language has sheetkeeper set up."""
    phone_region: str
    date_order: str


TEAMS = {"en": Team("GB", "dmy"), "zh-CN": Team("CN", "auto")}


class Roster(NamedTuple):
    lang: str
    rows: list[dict[str, Any]]          # crm column key -> value as typed
    entity: list[int]                   # the person each row is
    slips: list[tuple[str, ...]]        # () for a person's first entry, else its slips
    hard_negatives: list[tuple[int, int, str]]   # (row, row, kind): two people made alike

    def groups(self) -> dict[int, list[int]]:
        rows: dict[int, list[int]] = {}
        for i, e in enumerate(self.entity):
            rows.setdefault(e, []).append(i)
        return rows

    def true_pairs(self) -> set[tuple[int, int]]:
        """Every unordered pair of rows (i < j) that are the same person."""
        return {pair for rows in self.groups().values() for pair in combinations(rows, 2)}


def roster(n: int, lang: str = "en", seed: int = 1) -> Roster:
    if lang not in LANGS:
        raise ValueError(f"no people for language {lang!r}; choose one of {', '.join(LANGS)}")
    rng = random.Random(f"people:{lang}:{seed}")
    world = _World(rng, lang)
    entries: list[tuple[int, Person, tuple[str, ...]]] = []    # (entity, person as entered, slips)
    looks: list[tuple[int, int, str]] = []
    entity = 0
    while len(entries) < n:
        if rng.random() < HARD_NEGATIVE_SHARE:
            kind = rng.choice(HARD_NEGATIVES)
            people = list(getattr(world, kind)())
            looks.append((entity, entity + 1, kind))
        else:
            people = [world.person()]
        for p in people:
            entries.append((entity, p, ()))
            if rng.random() < DUPLICATED_SHARE:
                for _ in range(rng.choices((1, 2, 3), (60, 30, 10))[0]):
                    entries.append((entity, *duplicate(rng, p, lang)))
            entity += 1
    del entries[n:]
    rng.shuffle(entries)
    rows = [row_of(p, rng, lang) for _, p, _ in entries]
    first = {e: i for i, (e, _, slips) in enumerate(entries) if not slips}
    hard = [(first[a], first[b], kind) for a, b, kind in looks if a in first and b in first]
    return Roster(lang, rows, [e for e, _, _ in entries], [s for _, _, s in entries], hard)


def _weights(count: int, flatness: int) -> list[float]:
    """Zipf-like: the first few are common, the tail long."""
    return [1 / (i + flatness) for i in range(count)]


@cache
def _pinyin(hanzi: str) -> str:
    return "".join(lazy_pinyin(hanzi)).capitalize()


@dataclass
class _World:
    """Who can be drawn, and what is taken already (emails and phones are one person's unless
    a hard negative shares them)."""
    rng: random.Random
    lang: str

    def __post_init__(self) -> None:
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.given_en_w = _weights(len(pools.GIVEN_EN), 10)
        self.family_en_w = _weights(len(pools.FAMILY_EN), 10)
        self.surname_w = _weights(len(pools.SURNAMES_ZH), 5)
        self.given_zh_w = _weights(len(pools.GIVEN_ZH), 10)
        self.companies = [self._company() for _ in range(400)]
        self.company_w = _weights(len(self.companies), 3)

    # --- one person ------------------------------------------------------------------------

    def person(self, han: bool | None = None) -> Person:
        rng = self.rng
        if han is None:
            han = rng.random() < (0.08 if self.lang == "en" else 0.94)
        p = self._han_name() if han else self._latin_name()
        # Each person has a name and at least two of phone, email, birthday and address.
        fields = {"phone": 0.9, "email": 0.8, "birthday": 0.65, "address": 0.7}
        while True:
            has = {f for f, share in fields.items() if rng.random() < share}
            if len(has) >= 2:
                break
        address = self._address() if "address" in has else None
        return replace(
            p,
            title=rng.choice(pools.TITLES_ZH if han else pools.TITLES_EN),
            phone=(self._phone(landline=rng.random() < 0.1, at=address) if "phone" in has
                   else None),
            phone_style=self._phone_style(),
            email=self._email(p) if "email" in has else None,
            address=address,
            company=(self.companies[rng.choices(range(len(self.companies)), self.company_w)[0]]
                     if rng.random() < 0.55 else None),
            birthday=self._birthday(1940, 2008) if "birthday" in has else None,
            birthday_style=rng.choice(DATE_STYLES[self.lang]),
        )

    def _latin_name(self) -> Person:
        rng = self.rng
        given = rng.choices(pools.GIVEN_EN, self.given_en_w)[0]
        family = rng.choices(pools.FAMILY_EN, self.family_en_w)[0]
        if rng.random() < 0.4 and " " not in family:
            family += rng.choice(pools.FAMILY_TAILS)
        return Person(given=given, family=family)

    def _han_name(self, family_han: str | None = None) -> Person:
        rng = self.rng
        family_han = family_han or rng.choices(pools.SURNAMES_ZH, self.surname_w)[0]
        given_han = "".join(rng.choices(pools.GIVEN_ZH, self.given_zh_w,
                                        k=rng.choice((1, 2, 2))))
        # In an English list a Chinese name is written in pinyin, in either order.
        form = "hanzi" if self.lang != "en" else rng.choice(("given family", "family given"))
        return Person(given=_pinyin(given_han), family=_pinyin(family_han), given_han=given_han,
                      family_han=family_han, name_form=form)

    def _phone(self, landline: bool = False, at: Address | None = None) -> Phone:
        """A mobile, or a landline (with the dialling code of the town `at`, where given)."""
        rng = self.rng
        town = at.town if at else None
        while True:
            if self.lang == "en":
                if landline:
                    _, _, code, groups = rng.choice(
                        [t for t in pools.TOWNS_GB if t[0] == town] or pools.TOWNS_GB)
                    number = code + str(rng.choice("2345678")) + "".join(
                        rng.choices("0123456789", k=9 - len(code)))
                    phone = Phone("44", number, groups, "0", True)
                else:
                    number = "7" + rng.choice("45789") + "".join(rng.choices("0123456789", k=8))
                    phone = Phone("44", number, (4, 6), "0", False)
            elif landline:
                _, _, code = rng.choice(
                    [c for c in pools.CITIES_ZH if c[0] == town] or pools.CITIES_ZH)
                number = code + rng.choice("2345678") + "".join(rng.choices("0123456789", k=7))
                phone = Phone("86", number, (len(code), 4, len(number) - len(code) - 4), "0",
                              True)
            else:
                number = "1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9))
                phone = Phone("86", number, (3, 4, 4), "", False)
            if phone.number in self.phones:
                continue
            parsed = phonenumbers.parse(f"+{phone.country}{phone.number}")
            if phonenumbers.is_valid_number(parsed):
                self.phones.add(phone.number)
                return phone

    def _phone_style(self) -> int:
        # Most numbers are typed as at home; some with the country code.
        return self.rng.choice(NATIONAL_STYLES * 3 + INTERNATIONAL_STYLES)

    def _email(self, p: Person, shared: bool = False) -> str:
        """`p`'s own address, or (`shared`) their family's."""
        rng = self.rng
        given = "".join(c for c in p.given.lower() if c.isalpha())
        family = "".join(c for c in p.family.lower() if c.isalpha())
        if self.lang == "en":
            domain = rng.choices(["gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk",
                                  "btinternet.com", "icloud.com"], [35, 15, 15, 10, 10, 15])[0]
        else:
            domain = rng.choices(["qq.com", "163.com", "126.com", "gmail.com", "sina.com",
                                  "foxmail.com"], [35, 25, 10, 15, 10, 5])[0]
        if shared:
            local = rng.choice([f"the{family}s", f"{family}family", f"{family}.home",
                                f"{family}jia"])
        elif domain == "qq.com":
            local = str(rng.randrange(10**5, 10**10))
        else:
            local = rng.choice([f"{given}.{family}", f"{given}{family}", f"{given[0]}{family}",
                                f"{family}.{given}", f"{given}_{family}", f"{family}{given}"])
            if rng.random() < 0.3:
                local += str(rng.randrange(1, 100))
        # Two people never have one mailbox: Gmail ignores the dots in an address, so
        # john.taylor@ and johntaylor@ are one person's.
        def mailbox(local: str) -> str:
            return f"{local.replace('.', '') if domain == 'gmail.com' else local}@{domain}"

        while mailbox(local) in self.emails:
            local += str(rng.randrange(10))
        self.emails.add(mailbox(local))
        return f"{local}@{domain}"

    def _address(self) -> Address:
        rng = self.rng
        if self.lang == "en":
            town, area, _, _ = rng.choice(pools.TOWNS_GB)
            postcode = (f"{area}{rng.randrange(1, 20)} {rng.randrange(1, 10)}"
                        f"{''.join(rng.choices('ABDEFGHJLNPQRSTUWXYZ', k=2))}")
            unit = f"Flat {rng.randrange(1, 30)}" if rng.random() < 0.2 else ""
            return Address(unit, str(rng.randrange(1, 300)), rng.choice(pools.STREETS_GB),
                           rng.choice(list(pools.STREET_TYPES_GB)), town, postcode)
        city, districts, _ = rng.choice(pools.CITIES_ZH)
        unit = (f"{rng.randrange(1, 30)}栋{rng.randrange(1, 33)}{rng.randrange(1, 5):02d}室"
                if rng.random() < 0.6 else "")
        return Address(unit, str(rng.randrange(1, 1500)), rng.choice(pools.ROADS_ZH),
                       rng.choice(pools.ROAD_TYPES_ZH), city, rng.choice(districts))

    def _company(self) -> Company:
        rng = self.rng
        if self.lang == "en":
            core = rng.choice([rng.choice(pools.WORDS_EN), rng.choice(pools.FAMILY_EN[:80])])
            return Company("", core, rng.choice(pools.INDUSTRIES_EN),
                           rng.choices(list(pools.FORMS_EN), [60, 10, 3, 7, 5, 15])[0])
        city = rng.choice(pools.CITIES_ZH)[0].removesuffix("市") if rng.random() < 0.5 else ""
        return Company(city, rng.choice(pools.CORES_ZH), rng.choice(pools.INDUSTRIES_ZH),
                       rng.choices(list(pools.FORMS_ZH), [70, 15, 5, 10])[0])

    def _birthday(self, first_year: int, last_year: int) -> dt.date:
        start = dt.date(first_year, 1, 1)
        return start + dt.timedelta(days=self.rng.randrange((last_year - first_year) * 365))

    def _relative(self, p: Person, same_family: bool) -> Person:
        """Someone of `p`'s household: a given name that starts with another letter."""
        while True:
            q = self.person(han=p.han if self.lang == "en" else None)
            if same_family and q.han == p.han:
                q = replace(q, family=p.family, family_han=p.family_han)
                q = replace(q, email=self._email(q) if q.email else None)
            if q.given[0] != p.given[0] and not (
                    q.han and p.han and q.given_han[0] == p.given_han[0]):
                return q

    # --- two different people made alike: the hard negatives -------------------------------

    def household_phone(self) -> tuple[Person, Person]:
        """A couple: one home phone, one address, two given names."""
        address = self._address()
        home = self._phone(landline=True, at=address)
        a = replace(self.person(), phone=home, address=address, protected=frozenset({"initials"}))
        b = self._relative(a, same_family=self.rng.random() < (0.8 if self.lang == "en" else 0.3))
        return a, replace(b, phone=home, address=address, protected=a.protected)

    def shared_address(self) -> tuple[Person, Person]:
        """Flatmates: one address, nothing else in common."""
        a = self.person()
        b = self.person()
        address = a.address or self._address()
        return replace(a, address=address), replace(b, address=address)

    def family_email(self) -> tuple[Person, Person]:
        """Two of a family writing the family's one email address."""
        a = self.person()
        b = self._relative(a, same_family=True)
        email = self._email(a, shared=True)
        keep = frozenset({"initials"})
        b = replace(b, address=a.address if self.rng.random() < 0.7 else b.address)
        return replace(a, email=email, protected=keep), replace(b, email=email, protected=keep)

    def common_name(self) -> tuple[Person, Person]:
        """Two strangers with the same very common name, born on different days."""
        a, b = self.person(), self.person()
        if self.lang == "en":
            given, family = self.rng.choice(pools.COMMON_EN)
            names: dict[str, Any] = {"given": given, "family": family, "given_han": "",
                                     "family_han": "", "name_form": "given family"}
        else:
            family_han, given_han = self.rng.choice(pools.COMMON_ZH)
            names = {"given": _pinyin(given_han), "family": _pinyin(family_han),
                     "given_han": given_han, "family_han": family_han, "name_form": "hanzi"}
        born = self._birthday(1940, 2008)
        other = born + dt.timedelta(days=self.rng.choice((-1, 1)) * self.rng.randrange(400, 9000))
        keep = frozenset({"birthday"})
        return (replace(a, **names, birthday=born, protected=keep),
                replace(b, **names, birthday=other, protected=keep))

    def parent_child(self) -> tuple[Person, Person]:
        """A parent and the child named after them, at one address, a generation apart."""
        parent = replace(self.person(), birthday=self._birthday(1940, 1975))
        child = self.person(han=parent.han)
        born = parent.birthday + dt.timedelta(days=self.rng.randrange(22 * 365, 38 * 365))
        keep = frozenset({"birthday"})
        address = parent.address or self._address()
        phone = parent.phone if parent.phone and self.rng.random() < 0.5 else child.phone
        names = {k: getattr(parent, k) for k in ("given", "family", "given_han", "family_han",
                                                 "name_form")}
        return (replace(parent, address=address, protected=keep),
                replace(child, **names, address=address, phone=phone, birthday=born,
                        email=self._email(parent) if child.email else None, protected=keep))

