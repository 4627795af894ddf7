"""The ways one person comes to be entered again as someone slightly different: each slip is a
named, pure function of a person (and a random source) that gives the person as a second entry
writes them, or None where the slip cannot happen to this person (no Gmail address to alias, a
birthday whose day is past 12 to swap). benchmarks/people.py gives each duplicate one to three
slips, at most one of them to the name, and the benchmark can count what is found per slip.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
from functools import cache
from typing import Callable, NamedTuple

from nicknames import NickNamer

from .name_pools import FORMS_EN, FORMS_ZH, HOMOPHONES_ZH
from .person import (ADDRESS_ORDERS, ADDRESS_SHORT, DATE_STYLES, INTERNATIONAL_STYLES,
                     NATIONAL_STYLES, AddressForm, Person, written_date, written_phone)

Slip = Callable[[random.Random, Person, str], "Person | None"]
_replace = dataclasses.replace


class SlipKind(NamedTuple):
    name: str
    of_name: bool        # changes how the name is written (a duplicate makes one at most)
    make: Slip


_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours(letter: str) -> str:
    for r, row in enumerate(_KEYBOARD):
        if letter in row:
            c = row.index(letter)
            near = row[max(c - 1, 0):c] + row[c + 1:c + 2]
            for other in (_KEYBOARD[r - 1] if r else "", _KEYBOARD[r + 1] if r < 2 else ""):
                near += other[c:c + 1]
            return near
    return ""


def _latin_typo(rng: random.Random, word: str) -> str:
    """A letter dropped, doubled, or hit beside on the keyboard (never the first letter)."""
    i = rng.randrange(1, len(word))
    how = rng.choice(("drop", "double", "near"))
    if how == "drop":
        return word[:i] + word[i + 1:]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    near = _neighbours(word[i].lower())
    if not near:
        return word[:i] + word[i + 1:]
    return word[:i] + rng.choice(near) + word[i + 1:]


@cache
def _homophones() -> dict[str, str]:
    return {c: group.replace(c, "") for group in HOMOPHONES_ZH for c in group}


def name_typo(rng: random.Random, p: Person, lang: str) -> Person | None:
    if p.name_form == "hanzi":
        # The input method's list offered another character of the same sound: 张伟 / 张维.
        places = [i for i, c in enumerate(p.given_han) if _homophones().get(c)]
        if not places:
            return None
        i = rng.choice(places)
        typed = rng.choice(_homophones()[p.given_han[i]])
        return _replace(p, given_han=p.given_han[:i] + typed + p.given_han[i + 1:])
    part = rng.choice([f for f in ("given", "family") if len(getattr(p, f)) >= 3] or [None])
    if part is None or p.name_form.startswith("initial") and part == "given":
        return None
    word = getattr(p, part)
    typed = _latin_typo(rng, word)
    return _replace(p, **{part: typed}) if typed != word else None


def name_transposition(rng: random.Random, p: Person, lang: str) -> Person | None:
    if p.name_form == "hanzi":
        g = p.given_han     # 张晓明 / 张明晓
        return _replace(p, given_han=g[::-1]) if len(g) == 2 and g[0] != g[1] else None
    part = rng.choice(("given", "family"))
    word = getattr(p, part)
    places = [i for i in range(1, len(word) - 1) if word[i] != word[i + 1] and word[i + 1] != " "
              and word[i] != " "]
    if not places:
        return None
    i = rng.choice(places)
    return _replace(p, **{part: word[:i] + word[i + 1] + word[i] + word[i + 2:]})


@cache
def _nicknamer() -> NickNamer:
    return NickNamer()


def nickname(rng: random.Random, p: Person, lang: str) -> Person | None:
    """Bob for Robert, Bill for William: from the `nicknames` package's curated list."""
    if p.han or p.name_form == "hanzi":
        return None
    nicks = sorted(n for n in _nicknamer().nicknames_of(p.given.lower()) if len(n) >= 3)
    return _replace(p, given=rng.choice(nicks).capitalize()) if nicks else None


def initials(rng: random.Random, p: Person, lang: str) -> Person | None:
    """A. Lee for Anna Lee."""
    if p.name_form == "hanzi":
        return None
    return _replace(p, name_form=rng.choice(("initial", "initial nodot")))


def name_swap(rng: random.Random, p: Person, lang: str) -> Person | None:
    """Family name first (Lee Anna, Lee, Anna), or given name first where it was last."""
    if p.name_form == "hanzi" or p.name_form.startswith("initial"):
        return None
    if p.name_form == "given family":
        return _replace(p, name_form=rng.choice(("family given", "family, given")))
    return _replace(p, name_form="given family")


def hanzi_pinyin(rng: random.Random, p: Person, lang: str) -> Person | None:
    """张伟 / Zhang Wei (or Wei Zhang, ZHANG Wei) and the other way round."""
    if not p.han:
        return None
    if p.name_form == "hanzi":
        return _replace(p, name_form=rng.choice(("family given", "given family", "FAMILY given")))
    return _replace(p, name_form="hanzi")


def missing_fields(rng: random.Random, p: Person, lang: str) -> Person | None:
    """One or two of email, phone, birthday, address, company left out; never so many that
    nothing but the name is left to tell who it is."""
    present = [f for f in ("email", "phone", "birthday", "address", "company")
               if getattr(p, f) is not None and f not in p.protected]
    identity = [f for f in ("email", "phone", "birthday", "address") if getattr(p, f) is not None]
    if not present:
        return None
    for _ in range(10):
        gone = rng.sample(present, min(len(present), rng.choice((1, 1, 2))))
        if any(f not in gone for f in identity):
            return _replace(p, **dict.fromkeys(gone))
    return None


def phone_format(rng: random.Random, p: Person, lang: str) -> Person | None:
    """The same number written another way, with or without its country code as before."""
    if p.phone is None:
        return None
    same = NATIONAL_STYLES if p.phone_style in NATIONAL_STYLES else INTERNATIONAL_STYLES
    return _other_phone_style(rng, p, same)


def phone_country_code(rng: random.Random, p: Person, lang: str) -> Person | None:
    """+44 7812 345678 where it was 07812 345678, or the other way round."""
    if p.phone is None:
        return None
    other = INTERNATIONAL_STYLES if p.phone_style in NATIONAL_STYLES else NATIONAL_STYLES
    return _other_phone_style(rng, p, other)


def _other_phone_style(rng: random.Random, p: Person, styles: tuple[int, ...]) -> Person | None:
    was = written_phone(p.phone, p.phone_style)
    styles = [s for s in styles if written_phone(p.phone, s) != was]
    return _replace(p, phone_style=rng.choice(styles)) if styles else None


def email_alias(rng: random.Random, p: Person, lang: str) -> Person | None:
    """The same Gmail inbox: dots moved in or out, a +tag, googlemail.com."""
    if p.email is None:
        return None
    local, _, domain = p.email.partition("@")
    if domain not in ("gmail.com", "googlemail.com"):
        return None
    how = rng.choice(("dots", "tag", "domain"))
    if how == "domain":
        domain = "googlemail.com" if domain == "gmail.com" else "gmail.com"
    elif how == "tag":
        local += "+" + rng.choice(("shop", "news", "orders", "yoga", "2024"))
    elif "." in local:
        local = local.replace(".", "")
    elif len(local) > 2:
        i = rng.randrange(1, len(local) - 1)
        local = local[:i] + "." + local[i:]
    return _replace(p, email=f"{local}@{domain}")


def company_suffix(rng: random.Random, p: Person, lang: str) -> Person | None:
    """Ltd / Limited / Ltd. / none; 有限公司 / 公司 / none, the city before it or not."""
    c = p.company
    if c is None:
        return None
    forms = FORMS_ZH if not c.core.isascii() else FORMS_EN
    c = c._replace(form=rng.choice(forms.get(c.form, [""])))
    if c.city and rng.random() < 0.5:
        c = c._replace(city="")
    return _replace(p, company=c)


def address_abbreviation(rng: random.Random, p: Person, lang: str) -> Person | None:
    """St for Street; 上海浦东 for 上海市浦东新区, 88 for 88号, the city left out."""
    if p.address is None:
        return None
    short = rng.choice(ADDRESS_SHORT[lang])
    if short == "unit dash" and not p.address.unit:
        short = "no hao"
    return _replace(p, address_form=p.address_form._replace(short=short))


def address_order(rng: random.Random, p: Person, lang: str) -> Person | None:
    """The same parts in another order: town first, postcode first, the Western order."""
    if p.address is None:
        return None
    order = rng.choice([o for o in range(ADDRESS_ORDERS[lang]) if o != p.address_form.order])
    return _replace(p, address_form=p.address_form._replace(order=order))


def address_spacing(rng: random.Random, p: Person, lang: str) -> Person | None:
    """A space in the wrong place: LS62AB, 14 Mil lLane, 浦东 新区."""
    if p.address is None:
        return None
    return _replace(p, address_form=AddressForm(p.address_form.short, p.address_form.order,
                                                rng.randrange(1 << 30)))


def birthday_swap(rng: random.Random, p: Person, lang: str) -> Person | None:
    """Day and month the other way round (3 December for 12 March)."""
    d = p.birthday
    if d is None or d.day > 12 or d.day == d.month:
        return None
    return _replace(p, birthday=dt.date(d.year, d.day, d.month))


def birthday_digit(rng: random.Random, p: Person, lang: str) -> Person | None:
    """One digit of the year or the day off: 1981 for 1980, the 13th for the 12th."""
    d = p.birthday
    if d is None:
        return None
    text = d.strftime("%Y%m%d")
    near = []
    for i in (3, 6, 7):
        for digit in "0123456789":
            if digit != text[i]:
                typed = text[:i] + digit + text[i + 1:]
                try:
                    near.append(dt.datetime.strptime(typed, "%Y%m%d").date())
                except ValueError:
                    pass
    return _replace(p, birthday=rng.choice(near))


def birthday_format(rng: random.Random, p: Person, lang: str) -> Person | None:
    """The same date written another way (1980-03-12, 12.3.1980, a date cell)."""
    if p.birthday is None:
        return None
    was = written_date(p.birthday, p.birthday_style)
    styles = [s for s in DATE_STYLES[lang] if written_date(p.birthday, s) != was]
    return _replace(p, birthday_style=rng.choice(styles)) if styles else None


SLIPS: tuple[SlipKind, ...] = (
    SlipKind("name_typo", True, name_typo),
    SlipKind("name_transposition", True, name_transposition),
    SlipKind("nickname", True, nickname),
    SlipKind("initials", True, initials),
    SlipKind("name_swap", True, name_swap),
    SlipKind("hanzi_pinyin", True, hanzi_pinyin),
    SlipKind("missing_fields", False, missing_fields),
    SlipKind("phone_format", False, phone_format),
    SlipKind("phone_country_code", False, phone_country_code),
    SlipKind("email_alias", False, email_alias),
    SlipKind("company_suffix", False, company_suffix),
    SlipKind("address_abbreviation", False, address_abbreviation),
    SlipKind("address_order", False, address_order),
    SlipKind("address_spacing", False, address_spacing),
    SlipKind("birthday_swap", False, birthday_swap),
    SlipKind("birthday_digit", False, birthday_digit),
    SlipKind("birthday_format", False, birthday_format),
)
SLIP_NAMES = tuple(s.name for s in SLIPS)


def duplicate(rng: random.Random, p: Person, lang: str) -> tuple[Person, tuple[str, ...]]:
    """`p` entered again, with one to three slips (at most one of them to the name), and the
    names of the slips made."""
    wanted = rng.choices((1, 2, 3), (50, 35, 15))[0]
    made: list[str] = []
    name_done = False
    for kind in rng.sample(SLIPS, len(SLIPS)):
        if len(made) == wanted:
            break
        if kind.name in p.protected or (kind.of_name and name_done):
            continue
        slipped = kind.make(rng, p, lang)
        if slipped is not None and slipped != p:
            p, name_done = slipped, name_done or kind.of_name
            made.append(kind.name)
    return p, tuple(sorted(made))
