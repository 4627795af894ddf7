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


@lru_cache(maxsize=262_144, typed=True)
def normalise_email(value: object) -> Outcome:
    if not isinstance(value, str):
        return Problem("invalid_email", f"{shown(value)} is not an email address")
    text = fold_fullwidth(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:"):]
    out = plain_address(text)
    if out is None:
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError as e:
            return Problem("invalid_email", f"not a valid email address: {e}")
        # email-validator's normalized form turns an ASCII (punycode) domain into Unicode and
        # NFC-normalises the local part: the local part is the owner's, kept exactly as typed,
        # and the domain only lower-cased, in the script it was typed in.
        local, _, domain = text.rpartition("@")
        out = f"{local}@{domain.lower()}"
    if out == value:
        return None
    return Normalised(out, "removed spaces and full-width forms, lower-cased the domain")
