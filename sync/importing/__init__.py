"""`sheetkeeper import`: a list from elsewhere (a CSV, another workbook, a phone's vCards) brought
into a target through the same rules and bookkeeping as a cycle, one job to a module:

    decoding   the bytes of a text file as text: its encoding found (or told), a bad line named
    sources    a file as a header and rows, streamed: CSV, vCard, and (xlsx_file) a workbook
    mapping    the file's headers to the template's columns, and what is left over
    upsert     the rows against the list: matched and filled, folded, or added (pure)
    run        read, map, plan under the cycle lock, write one audited batch

Generic like the cycle: it reads and writes the list through a Target (sync.targets) and never
asks which kind it is.
"""
from __future__ import annotations

from sync.errors import SheetkeeperError


class ImportInputError(SheetkeeperError):
    """The file cannot be imported as it is (not what its name says, an encoding that does not
    decode, no column the template knows, too many rows); the target is not touched."""
