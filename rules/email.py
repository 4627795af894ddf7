"""Email addresses: trimmed, full-width folded, domain lower-cased, syntax checked.

email-validator decides what is valid (no DNS look-ups: a sync cycle must not wait on the
network). A common, plainly valid address takes a fast path that gives the same answer as
email-validator does; a property test holds the two together.
"""
from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator import SPECIAL_USE_DOMAIN_NAMES

from i18n import _

from .outcome import Normalised, Outcome, Problem, shown
from .text import fold_fullwidth

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")


def plain_address(text: str) -> str | None:
    """The normalised form of an ASCII address of the everyday shape, or None when only the full
    validator can tell."""
    m = _PLAIN.fullmatch(text)
    if not m or len(m.group(1)) > 64 or len(text) > 254:
        return None
    domain = m.group(2).lower()
    if any(domain == d or domain.endswith("." + d) for d in SPECIAL_USE_DOMAIN_NAMES):
        return None
    if any(label[2:4] == "--" for label in domain.split(".")):
        return None   # reserved for IDNA (xn--): only the full validator can judge it
    return f"{m.group(1)}@{domain}"


# email-validator says why in English: the reasons a list's typing meets, in words that can be
# translated (each the library's own English); a rarer one stays in the library's words.
_VALIDATOR_SAYS = {m: m for m in (
    _("An email address must have an @-sign."),
    _("There must be something before the @-sign."),
    _("There must be something after the @-sign."),
    _("An email address cannot have two periods in a row."),
    _("An email address cannot have a period and a hyphen next to each other."),
    _("The part after the @-sign is not valid. It should have a period."),
    _("The part after the @-sign is not valid. It is not within a valid top-level domain."),
    _("The part after the @-sign is a special-use or reserved name that cannot be used with "
      "email."),
    _("There can't be anything after the email address."),
    _("The email address contains an invalid character."),
    _("The email address contains invalid characters before the @-sign."),
    _("The email address is not valid ASCII."),
    _("A display name and angle brackets around the email address are not permitted here."),
    _("An email address cannot end with a period."),
    _("An email address cannot start with a period."),
    _("An email address cannot have a period immediately before the @-sign."),
    _("An email address cannot have a period immediately after the @-sign."),
)}
_VALIDATOR_STARTS = (
    ("The email address contains invalid characters before the @-sign: ",
     lambda rest: _("The email address contains invalid characters before the @-sign: {chars}",
                    chars=rest)),
    ("The part after the @-sign contains invalid characters: ",
     lambda rest: _("The part after the @-sign contains invalid characters: {chars}",
                    chars=rest)),
    ("The email address is too long", lambda rest: _("The email address is too long{rest}",
                                                     rest=rest)),
)


def _validator_words(error: EmailNotValidError) -> str:
    said = str(error)
    known = _VALIDATOR_SAYS.get(said)
    if known is not None:
        return known
    for start, words in _VALIDATOR_STARTS:
        if said.startswith(start):
            return words(said[len(start):])
    return said


@lru_cache(maxsize=262_144, typed=True)
def normalise_email(value: object) -> Outcome:
    if not isinstance(value, str):
        return Problem("invalid_email", _("{value} is not an email address", value=shown(value)))
    text = fold_fullwidth(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:"):]
    out = plain_address(text)
    if out is None:
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError as e:
            return Problem("invalid_email", _("not a valid email address: {why}",
                                              why=_validator_words(e)))
        # email-validator's normalized form turns an ASCII (punycode) domain into Unicode and
        # NFC-normalises the local part: the local part is the owner's, kept exactly as typed,
        # and the domain only lower-cased, in the script it was typed in.
        local, _at, domain = text.rpartition("@")
        out = f"{local}@{domain.lower()}"
    if out == value:
        return None
    return Normalised(out, _("removed spaces and full-width forms, lower-cased the domain"))
