"""The one place that tells a workbook path from a Google Sheet: a reference as a person gives it
(`customers.xlsx`, `gsheet:KEY`, a sheet's address) opened as a sync target. Everything above
(the CLI, the service) names targets this way; nothing below needs to know which it is."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from typing import TYPE_CHECKING

from sheet_templates import Template

from .settings import RuleSettings
from .targets import Target

if TYPE_CHECKING:
    from .cycle import ApplyResult
    from .undo import UndoResult

GOOGLE_PREFIXES = ("gsheet:", "https://docs.google.com/")


@dataclass(frozen=True)
class GoogleAccess:
    """How to reach Google: one of a service account's key, a signed-in user's token, or a
    local emulator of the APIs."""

    credentials: Path | None = None
    authorized_user: Path | None = None
    api_endpoint: str | None = None

    def open(self, reference: str):
        """The Google Sheet `reference` names (one request), as gsheets.GoogleSheet."""
        from .gsheets.client import GoogleSheet, connect
        client, account = connect(self.credentials, self.authorized_user, self.api_endpoint)
        return GoogleSheet.open(client, reference, account)


def is_google(reference: str | Path) -> bool:
    return str(reference).startswith(GOOGLE_PREFIXES)


def target_key(reference: str | Path) -> str:
    """What the audit log and the data folder call the target, without opening it."""
    if is_google(reference):
        from .gsheets.client import spreadsheet_key
        return f"gsheet:{spreadsheet_key(str(reference))}"
    from .xlsx.target import workbook_key
    return workbook_key(reference)


def open_target(reference: str | Path, templates: Sequence[Template] | None = None,
                sheet: str | None = None, google: GoogleAccess | None = None) -> Target:
    """The target `reference` names; `sheet`: the list's sheet or tab, where not found by its
    header. A Google Sheet is opened (one request) with `google`."""
    if is_google(reference):
        from .gsheets.target import GoogleTarget
        return GoogleTarget((google or GoogleAccess()).open(str(reference)), templates, sheet)
    live = open_in_excel(Path(reference), templates, sheet)
    if live is not None:
        return live
    from .xlsx.target import WorkbookTarget
    return WorkbookTarget(Path(reference), templates, sheet)


def open_in_excel(path: Path, templates: Sequence[Template] | None = None,
                  sheet: str | None = None) -> Target | None:
    """The workbook at `path` as it is open in Excel on this machine (sync.excel: read and
    written in the open book), or None: not open (no lock file), open in another program, or
    no Excel xlwings can reach (Linux). Then the file is the target, and a write waits for the
    workbook to be closed."""
    from .xlsx.replace import lock_files
    if not lock_files(path):
        return None
    from .excel.target import attached
    return attached(path, templates, sheet)


def undo_on(batch: str, data: Path, google: GoogleAccess | None = None) -> UndoResult:
    """Undo `batch`, on whatever it was written to."""
    from .undo import undo_batch     # the rules and the cycle: only when one is run
    return undo_batch(batch, data, lambda key, sheet: open_target(key, sheet=sheet,
                                                                  google=google))


def apply_to(target: Target, settings: RuleSettings, data: Path, dry_run: bool = False,
             auto_merge: str = "none") -> ApplyResult:
    """One cycle on `target`, with the API requests it made where it makes any."""
    first = getattr(target, "requests", None)
    from .cycle import run_cycle     # the rules and the cycle: only when one is run
    result = run_cycle(target, settings, data, dry_run, auto_merge)
    if first is None:
        return result
    return dataclasses.replace(result, requests=target.requests - first)
