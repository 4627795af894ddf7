"""Putting a new workbook file in place of the old one, only if the old one is still exactly
what the cycle read: the conditional replace.

Checking the file and then renaming over it leaves a window in which a person's save is
replaced and lost, silently. So the replace itself is what is checked: the new file and the
workbook trade places, and what came out is hashed; if it is not the bytes that were read (a
person saved meanwhile), it goes back. What each platform gives:

- Linux (renameat2 RENAME_EXCHANGE) and macOS (renamex_np RENAME_SWAP): the trade is one
  atomic step; the workbook's name always points at a whole file, the old or the new.
- Elsewhere, and on filesystems without an exchange (some network shares): the workbook is
  renamed aside (atomic: whatever is there at that instant goes), checked, and the new file is
  hard-linked into its place, which fails rather than replace a file a person saved in between.
  For those microseconds the workbook's name is absent; a program opening it then gets "not
  found" and tries again.
- Not covered anywhere: a program that opened the workbook *before* the trade and writes into it
  in place (truncate and rewrite) *after* the check. Excel and LibreOffice save by writing a new
  file and renaming it (and keep a lock file while the workbook is open, which sheetkeeper waits
  for); in-place writers are scripts.

A person's save that lands *after* the trade replaces sheetkeeper's new file; that is their
save, and it stands. The caller is told (`WriteUncertain`): what reached the workbook is then
settled from its cells.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from audit.os_family import family, is_windows
from i18n import _

from ..errors import WorkbookBusy, WorkbookChanged, WriteFailed, WriteUncertain
from .package import read_bytes

TEMPORARY_SUFFIX = ".sheetkeeper"   # the new package, beside the workbook, until it replaces it
# A temporary file this old was left by a writer that was killed or lost power before its
# replace: a write takes seconds, and each workbook has one writer at a time.
STALE_TEMPORARY_S = 3600

Step = Callable[[str], None]


def _no_step(_: str) -> None:
    pass


def lock_files(path: Path) -> list[Path]:
    """Lock files that say the workbook is open: Excel's ~$NAME, LibreOffice's .~lock.NAME#."""
    candidates = [path.with_name(f"~${path.name}"), path.with_name(f".~lock.{path.name}#")]
    if len(path.name) > 2:   # Excel shortens long names: ~$ replaces the first two characters
        candidates.append(path.with_name(f"~${path.name[2:]}"))
    return [p for p in candidates if p.exists()]


SET_ASIDE_SUFFIX = TEMPORARY_SUFFIX + ".was"   # a workbook set aside during a write


def recover_set_aside(path: Path) -> bool:
    """Put back a workbook that a write set aside and never put back: where there is no atomic
    exchange (Windows), a writer killed in the moment between setting the workbook aside and
    linking the new one in leaves it only as `.NAME.xlsx.<random>.sheetkeeper.was`. With no
    workbook at `path`, the newest such file is linked back into its place (never over a file
    a person saved there meanwhile: theirs stands, and the set-aside copy, what they had
    opened, is left for the sweep). True if it was put back."""
    if os.path.lexists(path):
        return False
    pattern = glob.escape(f".{path.name}.") + "*" + SET_ASIDE_SUFFIX
    asides = sorted(path.parent.glob(pattern), key=_mtime_or_zero, reverse=True)
    for aside in asides:
        try:
            os.link(aside, path)
        except FileExistsError:
            return False
        except OSError:
            # No hard links on this filesystem (FAT, exFAT): a rename, which on Windows also
            # refuses to replace a file that is there.
            if not is_windows():
                return False
            try:
                os.rename(aside, path)
            except OSError:
                return False
            return True
        aside.unlink(missing_ok=True)
        return True
    return False


def recover_set_aside_in(folder: Path) -> list[Path]:
    """`recover_set_aside` for every workbook in `folder` left set aside; the workbooks put
    back."""
    back = []
    for aside in folder.glob("." + "*" + SET_ASIDE_SUFFIX):
        stem = aside.name[1:-len(SET_ASIDE_SUFFIX)]          # NAME.xlsx.<random>
        workbook = folder / stem.rsplit(".", 1)[0]
        if recover_set_aside(workbook):
            back.append(workbook)
    return back


def _mtime_or_zero(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def digest_of(path: Path) -> str:
    return hashlib.sha256(read_bytes(path)).hexdigest()


def stage(path: Path, data: bytes) -> str:
    """`data` in a temporary file beside `path`, with its mode (and owner), synced: ready to
    take the workbook's place. Its path."""
    info = os.stat(path)
    _sweep_stale(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX,
                                   dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.chmod(tmp, info.st_mode & 0o7777)
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                os.chown(tmp, info.st_uid, info.st_gid)
            _copy_attributes(path, tmp)
            os.fsync(f.fileno())
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise WriteFailed(_("{path}: could not write the new workbook ({strerror}); the workbook "
                            "is unchanged", path=path, strerror=e.strerror)) from None
    return tmp


def _copy_attributes(source: Path, target: str) -> None:
    """Extended attributes (Linux: a tag, a security label, a "where it came from") go with
    the workbook to its new file, where the platform has them and allows it."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(source)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(target, name, os.getxattr(source, name))
        except OSError:
            pass     # not ours to set (a system namespace): the file is written without it


def _sweep_stale(path: Path) -> None:
    """Remove the temporary files that writers of `path` left behind: each is a copy of the
    workbook (personal data), hidden beside it."""
    now = time.time()
    for tmp in path.parent.glob(glob.escape(f".{path.name}.") + "*" + TEMPORARY_SUFFIX):
        try:
            if now - tmp.stat().st_mtime > STALE_TEMPORARY_S:
                tmp.unlink()
        except OSError:
            pass     # gone already, or not ours to remove: a later write tries again


class StagedFile:
    """`data` staged beside the workbook at `path`, to take its place (`commit`) only while the
    workbook still holds the bytes whose SHA-256 is `expected`. A context manager: a file not
    committed is removed."""

    def __init__(self, path: Path, data: bytes, expected: str):
        self.path, self.expected = path, expected
        self.digest = hashlib.sha256(data).hexdigest()
        self._tmp: str | None = stage(path, data)

    def commit(self, between: Step | None = None) -> None:
        tmp, self._tmp = self._tmp, None
        swap_in(self.path, tmp, self.expected, self.digest, between or _no_step)

    def __enter__(self) -> "StagedFile":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            Path(self._tmp).unlink(missing_ok=True)
            self._tmp = None


def replace_if_unchanged(path: Path, data: bytes, expected: str) -> str:
    """Replace the workbook at `path` by `data` if it still holds the bytes whose SHA-256 is
    `expected` (as `swap_in`); the new digest."""
    with StagedFile(path, data, expected) as staged:
        staged.commit()
        return staged.digest


def swap_in(path: Path, new: str, expected: str, new_digest: str,
            between: Step = _no_step) -> None:
    """Put the staged file `new` in place of the workbook at `path` if the workbook holds the
    bytes whose SHA-256 is `expected`. Raises WorkbookChanged when it does not (nothing
    written, the person's file in place), WorkbookBusy when it was opened meanwhile,
    WriteUncertain when a save landed right after the trade (theirs stands). `new` is gone
    after, in every case. `between(step)` is called between the steps (tests play a person's
    save there)."""
    try:
        if lock_files(path):
            raise WorkbookBusy(_("{path}: opened in a spreadsheet program meanwhile; not written",
                                 path=path))
        between("staged")
        if _exchange(new, path):
            _check_exchanged(path, new, expected, new_digest, between)
        else:
            _check_set_aside(path, new, expected, between)
        _sync_folder(path.parent)
    finally:
        Path(new).unlink(missing_ok=True)
    if digest_of(path) != new_digest:
        raise WriteUncertain(_("{path}: saved by someone else just as sheetkeeper wrote; their "
                               "save stands", path=path))


def _check_exchanged(path: Path, displaced: str, expected: str, new_digest: str,
                     between: Step) -> None:
    """After the trade: `displaced` holds what the workbook held. Not the bytes read: trade
    back, unless the workbook was saved over again meanwhile (then that save stands and the
    one displaced is kept beside it, never deleted)."""
    between("swapped")
    if _digest_or_none(Path(displaced)) == expected:
        return
    if _digest_or_none(path) == new_digest and _exchange(displaced, path):
        raise WorkbookChanged(_("{path}: saved by someone else while writing; not written",
                                path=path))
    _keep_beside(path, displaced)
    raise WorkbookChanged(_("{path}: saved twice by someone else while writing; not written",
                            path=path))


def _check_set_aside(path: Path, new: str, expected: str, between: Step) -> None:
    """Without an exchange: the workbook renamed aside, checked, and the new file linked into
    its place, which fails if a person saved one there in between."""
    aside = new + ".was"
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        raise WorkbookChanged(_("{path}: gone while writing; not written", path=path)) from None
    except PermissionError:   # Windows: a program holds it open
        raise WorkbookBusy(_("{path}: opened in another program meanwhile; not written",
                             path=path)) from None
    between("swapped")
    if _digest_or_none(Path(aside)) != expected:
        _put_back(path, aside)
        raise WorkbookChanged(_("{path}: saved by someone else while writing; not written",
                                path=path))
    try:
        os.link(new, path)
    except FileExistsError:
        # A person saved a new file in the moment it was aside: theirs stands, and what was
        # set aside is what the cycle read (it is in their save's past): nothing is lost.
        Path(aside).unlink(missing_ok=True)
        raise WorkbookChanged(_("{path}: saved by someone else while writing; not written",
                                path=path)
                              ) from None
    except OSError as e:
        _put_back(path, aside)
        raise WriteFailed(_("{path}: could not put the new workbook in place ({strerror}); the "
                            "workbook is unchanged", path=path, strerror=e.strerror)) from None
    Path(aside).unlink(missing_ok=True)


def _put_back(path: Path, aside: str) -> None:
    try:
        os.link(aside, path)
        Path(aside).unlink(missing_ok=True)
    except FileExistsError:
        _keep_beside(path, aside)


def _keep_beside(path: Path, stray: str) -> None:
    """A person's save that lost the race with their own next save: kept, visibly, beside."""
    keep = path.with_name(f"{path.stem} (saved {time.strftime('%Y-%m-%d %H.%M.%S')})"
                          f"{path.suffix}")
    try:
        os.rename(stray, keep)
    except OSError:
        pass


def _digest_or_none(path: Path) -> str | None:
    try:
        return digest_of(path)
    except OSError:
        return None


def _sync_folder(folder: Path) -> None:
    if is_windows():
        return     # Windows has no directory handles to sync; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the atomic exchange -----------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2      # Linux <linux/fs.h>
_RENAME_SWAP = 2          # macOS <stdio.h>
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EXDEV,
                getattr(errno, "ENOTSUP", errno.EINVAL), getattr(errno, "EOPNOTSUPP", errno.EINVAL)}
exchange_available = True   # tests turn it off to run the set-aside path


def _libc_exchange() -> Callable[[bytes, bytes], int] | None:
    if family() == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        fn = getattr(libc, "renameat2", None)
        return None if fn is None else (lambda a, b: fn(_AT_FDCWD, a, _AT_FDCWD, b,
                                                          _RENAME_EXCHANGE))
    if family() == "macos":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        fn = getattr(libc, "renamex_np", None)
        return None if fn is None else (lambda a, b: fn(a, b, _RENAME_SWAP))
    return None


_EXCHANGE = _libc_exchange()


def _exchange(a: str | Path, b: str | Path) -> bool:
    """Trade the files at `a` and `b` atomically. False where the platform or filesystem
    cannot (nothing was done); raises WriteFailed on any other failure."""
    if _EXCHANGE is None or not exchange_available:
        return False
    if _EXCHANGE(os.fsencode(a), os.fsencode(b)) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    if err == errno.ENOENT:
        raise WorkbookChanged(_("{b}: gone while writing; not written", b=b))
    raise WriteFailed(_("{b}: could not put the new workbook in place ({value}); the workbook is "
                        "unchanged", b=b, value=os.strerror(err)))
