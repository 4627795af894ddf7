"""The templates sheetkeeper provides (data files beside this module) and the code that loads them."""
from .loader import (
    BUILTIN, TemplateError, builtin, fold_label, load, sample_entries, sample_rows,
    templates_or_builtin,
)
from .model import LANGS, Choice, ChoiceList, Column, Ledger, Rollup, Template

__all__ = ["BUILTIN", "LANGS", "Choice", "ChoiceList", "Column", "Ledger", "Rollup", "Template", "TemplateError",
           "builtin", "fold_label", "load", "sample_entries", "sample_rows", "templates_or_builtin"]
