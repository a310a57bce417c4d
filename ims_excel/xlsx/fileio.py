"""Every file this package writes goes through here: one atomic writer, dated backups, a lock per book.

:func:`save_atomically` writes into a temp file beside the target, ``fsync``\\ s it
and moves it into place with ``os.replace``: at every moment the file is either the
old one or the new one, never half of each. Around that it keeps the promises a user
relies on (issue 14):

* the saved file keeps the old file's **mode, owner and group** (a ``0600`` book stays
  ``0600``; owner and group where this process may set them);
* a **read-only** target (no write bit) is refused, not silently replaced;
* a **symlink** is written through: its target is replaced, the link stays a link;
* a **full disk**, a read-only folder or any other write failure is reported as
  :class:`CannotWrite` naming the file and the cause, the target unchanged and the
  temp file removed (a temp file a killed run left is removed by the next save,
  :func:`clean_stale_temps`);
* the previous version is kept as a **dated backup** beside the file
  (``client.bak-20261202-040512.xlsm``), the last :data:`BACKUPS` of them
  (``IMS_EXCEL_BACKUPS``; 0 keeps none), older ones removed (:func:`backups`,
  :func:`latest_backup`). A backup is a hard link where the file system allows, else a copy.

:func:`exclusive` holds a lock file beside a book (``.NAME.ims-lock``) while a command
reads and rewrites it, so that a second run says the book is in use instead of reading a
file that changes under it. The lock is an ``flock`` on that file: a run that is killed
releases it with its process, and the next run takes the file over (no stale lock to delete).
:func:`check_not_open` refuses a book that Excel (``~$NAME``) or LibreOffice
(``.~lock.NAME#``) has open.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import shutil
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

BACKUPS = int(os.environ.get("IMS_EXCEL_BACKUPS", "3"))
"""How many dated backups of a book are kept beside it (``IMS_EXCEL_BACKUPS``; 0 keeps none)."""

F = TypeVar("F", bound=Callable)


class CannotWrite(Exception):
    """A file could not be written (disk full, read-only, in use); the target is unchanged (exit 2)."""


class WorkbookBusy(CannotWrite):
    """The workbook is open in Excel or LibreOffice, or another run is working on it."""


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def _why(exc: OSError) -> str:
    if exc.errno in _FULL:
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in _DENIED:
        return "permission denied"
    return exc.strerror or str(exc)


def real_target(path: str | os.PathLike) -> Path:
    """The file a save replaces: ``path`` itself, or what a symlink points to (the link is kept)."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


# ---------------------------------------------------------------- backups


def _backup_re(path: Path) -> re.Pattern:
    return re.compile(rf"{re.escape(path.stem)}\.bak-(\d{{8}}-\d{{6}})(?:-(\d+))?{re.escape(path.suffix)}")


def backups(path: str | os.PathLike) -> list[Path]:
    """The dated backups of ``path`` beside its (real) file, oldest first."""
    path = real_target(path)
    pat = _backup_re(path)
    found = []
    with contextlib.suppress(OSError):
        for p in path.parent.iterdir():
            m = pat.fullmatch(p.name)
            if m:
                found.append(((m.group(1), int(m.group(2) or 0)), p))
    return [p for _, p in sorted(found)]


def latest_backup(path: str | os.PathLike) -> Path | None:
    """The newest dated backup of ``path``, or None."""
    found = backups(path)
    return found[-1] if found else None


def is_backup_or_temp(path: Path) -> bool:
    """A backup (``x.bak.xlsm``, ``x.bak-20261202-040512.xlsm``), a temp or lock file: not a client book."""
    n = path.name
    stem = Path(n).stem
    return (n.startswith(("~$", ".")) or n.endswith((".tmp", "#")) or stem.endswith(".bak")
            or re.search(r"\.bak-\d{8}-\d{6}(-\d+)?$", stem) is not None)


def _keep_backup(path: Path, keep: int) -> Path | None:
    """Keep the current ``path`` as a new dated backup, then drop all but the last ``keep``."""
    if keep <= 0:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    pat = _backup_re(path)
    same = [int(m.group(2) or 0) for m in (pat.fullmatch(p.name) for p in backups(path)) if m and m.group(1) == stamp]
    k = max(same) + 1 if same else 0  # after the newest of this second, even if older ones were removed
    bak = path.with_name(f"{path.stem}.bak-{stamp}{f'-{k}' if k else ''}{path.suffix}")
    try:
        os.link(path, bak)
    except OSError:
        tmp = bak.with_name(f".{bak.name}.{os.getpid()}.tmp")
        try:
            shutil.copy2(path, tmp)
            os.replace(tmp, bak)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    for old in backups(path)[:-keep]:
        with contextlib.suppress(OSError):
            old.unlink()
    return bak


# ---------------------------------------------------------------- temp files


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def clean_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove temp files that an interrupted save of ``path`` left (their process is gone)."""
    path = real_target(path)
    removed = []
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        m = re.fullmatch(rf"\.{re.escape(path.name)}\.(\d+)\.tmp", tmp.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


# ---------------------------------------------------------------- the writer


def check_writable(path: Path) -> os.stat_result | None:
    """The target's stat, or None when it does not exist yet; :class:`CannotWrite` when it is read-only."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CannotWrite(f"{path}: cannot be read ({_why(exc)})") from None
    if not stat.S_ISREG(st.st_mode):
        raise CannotWrite(f"{path}: is not a regular file; refused")
    if not st.st_mode & 0o222:
        raise CannotWrite(f"{path}: is read-only (mode {stat.S_IMODE(st.st_mode):04o}); nothing was written. "
                          "Make it writable first if it is meant to change")
    return st


def save_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None], *, backup: bool = True,
                    keep: int | None = None) -> Path:
    """Call ``write(fh)`` on a temp file beside ``path``, then put it in ``path``'s place (see the module doc).

    ``backup``: keep the previous file as a dated backup (the last ``keep``, default :data:`BACKUPS`).
    Returns the path written (a symlink's target). Raises :class:`CannotWrite` (target unchanged, no
    temp file left) when the file cannot be written.
    """
    path = real_target(path)
    st = check_writable(path)
    clean_stale_temps(path)
    tmp = temp_path(path)
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as exc:
            raise CannotWrite(f"{path}: cannot write in {path.parent} ({_why(exc)}); nothing was written") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                if st is not None:
                    _same_mode_and_owner(fh.fileno(), st)
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if backup and st is not None:
                _keep_backup(path, BACKUPS if keep is None else keep)
            try:
                os.replace(tmp, path)
            except PermissionError as exc:
                raise WorkbookBusy(f"{path} cannot be replaced ({exc.strerror}); is it open in Excel?") from None
        except OSError as exc:
            if exc.errno in _FULL or exc.errno in _DENIED:
                raise CannotWrite(f"{path}: cannot be written ({_why(exc)}); the file is unchanged and nothing "
                                  "was left behind") from None
            raise
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`save_atomically` for a UTF-8 text file (no backup)."""
    data = text.encode("utf-8")
    return save_atomically(path, lambda fh: fh.write(data), backup=False)


def _same_mode_and_owner(fd: int, st: os.stat_result) -> None:
    """Give the temp file the replaced file's permission bits, then its owner and group where allowed."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
    if hasattr(os, "fchown"):
        for uid, gid in ((st.st_uid, st.st_gid), (-1, st.st_gid)):
            try:
                os.fchown(fd, uid, gid)
                break
            except OSError:
                continue


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# ---------------------------------------------------------------- locks


def office_locks(path: Path) -> list[Path]:
    """The lock files Excel (``~$NAME``, first two characters dropped if long) and LibreOffice
    (``.~lock.NAME#``) keep beside a file they have open."""
    name = path.name
    excel = path.with_name("~$" + (name[2:] if len(name) > 2 + len(path.suffix) + 6 else name))
    return [excel, path.with_name("~$" + name), path.with_name(f".~lock.{name}#")]


def check_not_open(path: str | os.PathLike) -> None:
    """:class:`WorkbookBusy` when Excel or LibreOffice has ``path`` open (its lock file exists)."""
    path = real_target(path)
    for cand in office_locks(path):
        if os.path.lexists(cand):  # False, not an error, where the folder may not be read (the reader names that)
            app = "LibreOffice" if cand.name.startswith(".~lock.") else "Excel"
            raise WorkbookBusy(f"{path} is open in {app} ({cand.name} exists): save and close it first")


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.ims-lock")


@contextlib.contextmanager
def exclusive(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the book's run lock (see the module doc); :class:`WorkbookBusy` when another run holds it."""
    path = real_target(path)
    lock = lock_path(path)
    fd = _acquire(path, lock)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _busy(path: Path, lock: Path) -> WorkbookBusy:
    try:
        holder = lock.read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        holder = []
    who = f" (process {holder[0]} on {holder[1]})" if len(holder) >= 2 else ""
    return WorkbookBusy(f"{path} is in use by another ims-excel run{who}: wait for it to finish and try again")


def _acquire(path: Path, lock: Path) -> int:
    for _ in range(20):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | (0 if fcntl else os.O_EXCL), 0o644)
        except FileExistsError:  # no flock (Windows): a lock file whose process is gone is stale
            holder = lock.read_text(errors="replace").split() if lock.exists() else []
            if holder and holder[0].isdigit() and holder[1:2] == [socket.gethostname()] \
                    and not _pid_alive(int(holder[0])):
                with contextlib.suppress(OSError):
                    lock.unlink()
                continue
            raise _busy(path, lock) from None
        except OSError as exc:
            raise CannotWrite(f"{path}: cannot write in {path.parent} ({_why(exc)}); nothing was written") from None
        if fcntl:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise _busy(path, lock) from None
            try:
                now = os.stat(lock)
            except FileNotFoundError:
                now = None
            mine = os.fstat(fd)
            if now is None or (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev):
                os.close(fd)  # the holder removed it as we opened it: try again
                continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
        return fd
    raise _busy(path, lock)


def locked(func: F) -> F:
    """Run ``func(path, ...)`` holding :func:`exclusive` on ``path`` (its first argument)."""
    @functools.wraps(func)
    def run(path, *args, **kwargs):
        if not os.path.isfile(path):  # nothing to lock: ``func`` names the missing file
            return func(path, *args, **kwargs)
        with exclusive(path):
            return func(path, *args, **kwargs)
    return run  # type: ignore[return-value]
