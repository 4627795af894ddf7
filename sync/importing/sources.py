"""A file to import, as its header and its rows, streamed: a CSV (its delimiter sniffed), a
workbook's sheet (xlsx_file), or vCards (vcards). Which reader by the file's extension; a file
that is not what its extension says is refused in one line, as is one with more rows than an
import takes (read up to there and no further: memory stays bounded whatever the file's size).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, Iterator, Sequence

from i18n import _

from . import ImportInputError
from .decoding import encoding_of, text_lines

# The most rows one import takes: about five times a big team's list, and well within what a
# workbook (1,048,576 rows) or a Google Sheet (10 million cells) holds beside the list.
MAX_ROWS = 250_000
SNIFF_LINES = 50
DELIMITERS = ",;\t|"
ZIP_MAGIC, OLE_MAGIC = b"PK\x03\x04", bytes.fromhex("d0cf11e0a1b11ae1")
TEXT_KINDS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".vcf": "vcard", ".vcard": "vcard"}
WORKBOOK_KINDS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls"}

Row = tuple[int, Sequence[Any]]      # (the line or sheet row it starts on, its values)


@dataclass
class SourceFile:
    """What an import reads: the header, then the rows (an iterator: read once)."""

    path: Path
    kind: str                       # csv | xlsx | xls | vcard
    headers: tuple[str, ...]
    rows: Iterator[Row]
    described: str                  # how it was read, in words ("CSV, GB18030, ';'")
    # What the reader itself did not take (a vCard's PHOTO, UID): filled in as it reads.
    left_out: set[str] = field(default_factory=set)


def open_source(path: Path, encoding: str | None = None, sheet: str | None = None
                ) -> SourceFile:
    """The file at `path`, ready to stream. Raises ImportInputError for a file that cannot be
    imported as its name says."""
    if not path.is_file():
        raise ImportInputError(_("{path}: no such file", path=str(path)))
    suffix = path.suffix.lower()
    with open(path, "rb") as f:
        magic = f.read(8)
    if suffix in WORKBOOK_KINDS:
        if not magic.startswith((ZIP_MAGIC, OLE_MAGIC)):
            raise ImportInputError(_("{file}: is not a workbook, whatever its name says (a CSV "
                                     "or text file named .xlsx?); rename it to what it is, "
                                     "then import it again", file=path.name))
        from .xlsx_file import read_workbook   # calamine: only for a workbook
        return _limited(read_workbook(path, sheet))
    kind = TEXT_KINDS.get(suffix)
    if kind is None:
        raise ImportInputError(_("{file}: cannot import a {suffix} file; sheetkeeper imports "
                                 ".csv, .txt, .tsv, .xlsx, .xls and .vcf", file=path.name,
                                 suffix=suffix or _("nameless")))
    if magic.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raise ImportInputError(_("{file}: is a workbook (or another binary file), not {what}; "
                                 "if it is a workbook, name it .xlsx and import it again",
                                 file=path.name,
                                 what=_("a CSV") if kind == "csv" else _("vCards")))
    if sheet is not None:
        raise ImportInputError(_("--sheet is for a workbook; {file} has no sheets",
                                 file=path.name))
    found, bom = encoding_of(path, encoding)
    lines = text_lines(path, found, bom)
    if kind == "vcard":
        from .vcards import read_vcards
        return _limited(read_vcards(path, lines, found))
    return _limited(_read_csv(path, lines, found))


def _read_csv(path: Path, lines: Iterator[str], encoding: str) -> SourceFile:
    head = list(islice(lines, SNIFF_LINES))
    dialect = _dialect("".join(head))
    reader = csv.reader(chain(head, lines), dialect)
    rows = _numbered(path, reader)
    for line, values in rows:
        if any(str(v).strip() for v in values):
            headers = tuple(str(v).strip() for v in values)
            separated = {"\t": _("tab-separated"), ",": _("comma-separated"),
                         ";": _("semicolon-separated"), "|": _("bar-separated")}
            return SourceFile(path, "csv", headers, rows,
                              _("CSV, {encoding}, {separated}", encoding=encoding.upper(),
                                separated=separated[dialect.delimiter]))
    raise ImportInputError(_("{file}: is empty: no header row, no rows", file=path.name))


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The delimiter the sample uses (Excel: a comma, a semicolon where the decimal sign is a
    comma, a tab in "Unicode text"); a one-column file has none to find."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return type("Sniffed", (csv.excel,), {"delimiter": best if counts[best] else ","})


def _numbered(path: Path, reader) -> Iterator[Row]:
    """Each record with the line it starts on (a quoted value may run over several)."""
    start = 1
    try:
        for values in reader:
            yield start, values
            start = reader.line_num + 1
    except csv.Error as e:
        raise ImportInputError(_("{file}: line {line}: not CSV as it stands ({error}); check "
                                 "that line's quotes", file=path.name, line=reader.line_num,
                                 error=str(e))) from None


def _limited(source: SourceFile) -> SourceFile:
    source.rows = _at_most(source.path, source.rows, MAX_ROWS)
    return source


def _at_most(path: Path, rows: Iterator[Row], limit: int) -> Iterator[Row]:
    """The rows (blank ones skipped), stopping with an error at the first one past `limit`,
    before anything is planned or written."""
    count = 0
    for line, values in rows:
        if not any(v not in (None, "") and str(v).strip() for v in values):
            continue
        count += 1
        if count > limit:
            raise ImportInputError(_(
                "{file}: has more than {limit:number} rows (line {line}); an import takes at "
                "most {limit:number}: split the file and import each part", file=path.name,
                limit=limit, line=line))
        yield line, values
