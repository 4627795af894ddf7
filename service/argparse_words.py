"""argparse's own words (usage:, options, its errors) in the command line's language.

argparse says them through `gettext` in a domain of its own, and Python ships no Chinese for
it; the ones a person meets are sheetkeeper's messages here, and argparse is given a `_` that
says them from sheetkeeper's catalogs (only in the CLI's process: see service.cli.main).
"""
from __future__ import annotations

import argparse

from i18n import Message, _, say

# Extracted into the catalogs like every text; argparse fills in the %-placeholders itself.
WORDS = (
    _("usage: "),
    _("positional arguments"),
    _("options"),
    _("show this help message and exit"),
    _("the following arguments are required: %s"),
    _("unrecognized arguments: %s"),
    _("invalid choice: %(value)r (choose from %(choices)s)"),
    _("argument %(argument_name)s: %(message)s"),
    _("%(prog)s: error: %(message)s\n"),
    _("expected one argument"),
    _("invalid %(type)s value: %(value)r"),
    _("ambiguous option: %(option)s could match %(matches)s"),
    _("one of the arguments %s is required"),
    _("not allowed with argument %s"),
)


def speak() -> None:
    """argparse's words in the command line's language from here on."""
    argparse._ = lambda text: say(Message(text))
