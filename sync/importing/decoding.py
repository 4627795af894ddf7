"""The bytes of a text file (a CSV, a vCard file) as text, line by line, in bounded memory.

The encoding is the one named (`--encoding`), else the file's byte-order mark says it (UTF-8 with
a BOM as Excel writes "CSV UTF-8", UTF-16 as Excel writes "Unicode text"), else UTF-8 if the
start of the file is UTF-8, else charset-normalizer's best guess among the encodings the
spreadsheet programs of this project's users save in (GB18030, of which GBK and GB2312 are
subsets, as Chinese Excel writes "CSV"; Big5; Windows-1252; Shift-JIS). A file that does not
decode all the way through is refused naming the first bad line: nothing is guessed from
mojibake.
"""
from __future__ import annotations

import codecs
from pathlib import Path
from typing import Iterator

from i18n import _

from . import ImportInputError

CHUNK = 1 << 16          # read this much at a time: memory stays flat whatever the file's size
SAMPLE = 1 << 16         # what the encoding is guessed from
# Encodings a spreadsheet program saves a CSV in, for the users this project has (the templates
# speak English and Chinese). Korean and the rest are left out on purpose: on a short Chinese
# file charset-normalizer prefers EUC-KR. `--encoding` reaches any of them.
CANDIDATES = ["gb18030", "big5", "cp1252", "shift_jis"]
BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"))


def encoding_of(path: Path, named: str | None = None) -> tuple[str, int]:
    """The file's encoding and the length of its byte-order mark (skipped when reading)."""
    with open(path, "rb") as f:
        sample = f.read(SAMPLE)
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            if named and codecs.lookup(named).name.replace("_", "-") not in (
                    encoding, encoding[:6], "utf-8-sig", "utf-16", "utf-32"):
                raise ImportInputError(_("{file}: starts with the byte-order mark of {found}, "
                                         "not {named}; leave out --encoding", file=path.name,
                                         found=encoding.upper(), named=named))
            return encoding, len(bom)
    if named:
        return _known(named), 0
    if b"\0" in sample:
        raise ImportInputError(_("{file}: is not a text file (it holds NUL bytes and no "
                                 "byte-order mark); if it is UTF-16 without one, say "
                                 "--encoding utf-16-le", file=path.name))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE)
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes     # only for a file that is not UTF-8
    best = from_bytes(_whole_lines(sample), cp_isolation=CANDIDATES).best()
    if best is None:
        raise ImportInputError(_("{file}: cannot tell its encoding; say it with --encoding "
                                 "(gb18030, utf-16, cp1252, …)", file=path.name))
    return best.encoding, 0


def _known(named: str) -> str:
    try:
        name = codecs.lookup(named).name
    except LookupError:
        raise ImportInputError(_("--encoding {named}: not an encoding Python knows; try "
                                 "utf-8, gb18030, utf-16 or cp1252", named=named)) from None
    # GBK and GB2312 files often hold the odd character only GB18030 has: read them as that.
    return "gb18030" if name in ("gbk", "gb2312") else name


def _whole_lines(sample: bytes) -> bytes:
    """The sample up to its last line end: a character cut in two misleads the guess."""
    end = sample.rfind(b"\n")
    return sample[:end + 1] if end > 0 else sample


def text_lines(path: Path, encoding: str, skip: int = 0) -> Iterator[str]:
    """The file's lines ("\\n" kept), decoded as `encoding`, after `skip` bytes (its BOM). A
    byte sequence that does not decode stops it with an error naming the line."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    newline = "\n".encode(encoding)
    line, offset, rest = 1, skip, ""
    with open(path, "rb") as f:
        f.seek(skip)
        while True:
            chunk = f.read(CHUNK)
            held = decoder.getstate()[0]
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                data = held + chunk
                start = offset - len(held)
                bad = line + _count(data[:e.start], newline, start - skip)
                raise ImportInputError(_(
                    "{file}: line {line} is not {encoding} (bytes {bytes}); save the file as "
                    "UTF-8, or name its encoding with --encoding", file=path.name, line=bad,
                    encoding=encoding, bytes=data[e.start:e.end].hex(" "))) from None
            offset += len(chunk)
            pieces = (rest + text).split("\n")
            rest = pieces.pop()
            for piece in pieces:
                yield piece + "\n"
            line += len(pieces)
            if not chunk:
                break
    if rest:
        yield rest


def _count(data: bytes, newline: bytes, start: int) -> int:
    """Line ends in `data`, whose first byte is `start` bytes into the text: a multi-byte
    newline counts only where it starts on a character boundary."""
    if len(newline) == 1:
        return data.count(newline)
    width, count, at = len(newline), 0, data.find(newline)
    while at >= 0:
        if (start + at) % width == 0:
            count += 1
        at = data.find(newline, at + 1)
    return count
