"""The errors of the audit log and the snapshot store. `str()` says what happened and what to do.
sheetkeeper's other errors (sync.errors) sit above this layer; the CLI and the service tell
both the same way (`sync.errors.EXPLAINED`)."""
from __future__ import annotations


class AuditError(Exception):
    """The audit log cannot be used (locked, corrupt, unwritable); nothing was written."""

    exit_code = 2


class SnapshotError(AuditError):
    """A snapshot cannot be taken, found or restored as asked."""
