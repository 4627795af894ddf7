"""Dropdown values: whatever people type for a value ('vip', 'VIP客户', ' Vip ') becomes the
value's label in the sheet's language. An unknown value stays, with a problem."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from sheet_templates import ChoiceList, fold_label

from i18n import _

from .outcome import Normalised, Outcome, Problem


@dataclass(frozen=True)
class ChoiceMatcher:
    """Folded spelling -> label, for one dropdown list in one language."""

    column: str
    labels: tuple[str, ...]
    spellings: Mapping[str, str] = field(repr=False)
    # Dropdown columns repeat a handful of values; remember each outcome once.
    seen: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def for_list(cls, choices: ChoiceList, lang: str, column: str,
                 extra_labels: Iterable[str] = ()) -> "ChoiceMatcher":
        """`extra_labels`: values a team added to the workbook's Lists tab; accepted as they are."""
        spellings: dict[str, str] = {}
        for c in choices.choices:
            for spelling in (*c.labels.values(), *c.aliases):
                spellings.setdefault(fold_label(spelling), c.label(lang))
        labels = [c.label(lang) for c in choices.choices]
        for extra in extra_labels:
            if extra and fold_label(extra) and fold_label(extra) not in spellings:
                spellings[fold_label(extra)] = extra
                labels.append(extra)
        return cls(column=column, labels=tuple(labels), spellings=spellings)


def normalise_choice(value: object, matcher: ChoiceMatcher) -> Outcome:
    try:
        return matcher.seen[value]
    except KeyError:
        outcome = matcher.seen[value] = _normalise_choice(value, matcher)
        return outcome


def _normalise_choice(value: object, matcher: ChoiceMatcher) -> Outcome:
    text = value if isinstance(value, str) else str(value)
    label = matcher.spellings.get(fold_label(text))
    if label is None:
        shown = ", ".join(matcher.labels)
        return Problem("unknown_choice",
                       _("{value} is not one of {labels}; pick one from the list "
                         "(or add it on the Lists tab)", value=repr(text.strip()),
                         labels=shown))
    if label == value:
        return None
    return Normalised(label, _("the list's own spelling of {value}", value=repr(text.strip())))
