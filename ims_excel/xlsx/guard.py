"""Guards for reading untrusted files: regular files only, absolute size limits, XML entities by content.

Nothing here knows IMS: the callers turn :class:`Refused` into their own error (the book doors and the
format readers into "Cannot use this input", exit 2).

* :func:`check_file` refuses, before a byte is read, a path that is missing, unreadable (permission
  denied is named as such), a folder, or not a regular file (a FIFO would block the read forever,
  ``/dev/zero`` would fill memory), or larger than a limit.
* :func:`env_limit` gives a limit its documented default or the ``IMS_EXCEL_<NAME>`` environment
  variable (in MB), so that every limit can be raised without a code change.
* :func:`check_parts` refuses any zip part an XML parser would read (by its *content*, whatever it is
  called) whose prolog declares a DOCTYPE or ENTITY, or that is XML in UTF-16 (named as such).

>>> prolog_ok(b'<?xml version="1.0"?>\\n<!-- hi --><worksheet/>')
True
>>> prolog_ok(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
False
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

PROLOG_BYTES = 65536
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)

MAX_SHARED_STRINGS_BYTES = 512 * 1024**2
"""Largest shared-strings part read (it is read whole, by us and by calamine); ``IMS_EXCEL_MAX_SHARED_STRINGS_MB``.
A book whose 1,048,576 rows each hold a distinct 30-character text needs about 60 MB."""


class Refused(ValueError):
    """An input refused before it is read: ``file`` and ``message`` say which and why."""

    def __init__(self, file: str | os.PathLike, message: str):
        self.file, self.message = str(file), message
        super().__init__(f"{self.file}: {message}")


def env_limit(name: str, default: int) -> int:
    """A size limit in bytes: ``default``, or ``IMS_EXCEL_<name>`` (in MB) when that is set.

    The limits are absolute (an input larger than the limit is refused before it is read), so memory is
    bounded by what an input can become, whatever it compresses to. README, "Reliability", lists them.

    >>> env_limit("NO_SUCH_LIMIT_MB", 5)
    5
    """
    text = os.environ.get(f"IMS_EXCEL_{name}", "").strip()
    if not text:
        return default
    try:
        return int(float(text) * 1024 * 1024)
    except ValueError:
        raise Refused(f"IMS_EXCEL_{name}", f"{text!r} is not a number of MB") from None


def check_file(path: str | os.PathLike, limit: int = 0, limit_name: str = "") -> int:
    """Refuse, before reading a byte, an input that is missing, unreadable, not a regular file or bigger
    than ``limit`` bytes (0: no limit; ``limit_name`` names its variable). Returns the size."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise Refused(path, "no such file") from None
    except PermissionError:
        raise Refused(path, "permission denied: this user may not open it (check the file's and its "
                            "folder's permissions)") from None
    except OSError as exc:
        raise Refused(path, f"cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise Refused(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise Refused(path, "is not a regular file (a pipe, socket or device); refused: save the data to a "
                            "file first")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise Refused(path, "permission denied: this user may not read it (check the file's permissions)") \
            from None
    except OSError as exc:
        raise Refused(path, f"cannot be read: {exc.strerror or exc}") from None
    if limit and st.st_size > limit:
        raise Refused(path, f"is {st.st_size / 2**20:.0f} MB; the limit is {limit / 2**20:.0f} MB"
                            + (f" (set IMS_EXCEL_{limit_name} to raise it)" if limit_name else ""))
    return st.st_size


def limit_part(path: str | os.PathLike, info: zipfile.ZipInfo, limit: int, env: str) -> None:
    """Refuse a part whose declared size passes ``limit`` (shared strings: :data:`MAX_SHARED_STRINGS_BYTES`).

    The declared size is what inflating may produce (the readers stop there and check the CRC), so memory
    is bounded by it, whatever the compression ratio."""
    if os.path.basename(info.filename).lower().startswith("sharedstrings"):
        sst = env_limit("MAX_SHARED_STRINGS_MB", MAX_SHARED_STRINGS_BYTES)
        if sst and info.file_size > sst:
            raise Refused(path, f"part {info.filename!r} declares {info.file_size / 2**20:.0f} MB of shared "
                                f"strings; the limit is {sst / 2**20:.0f} MB (IMS_EXCEL_MAX_SHARED_STRINGS_MB); "
                                "refused")
    if limit and info.file_size > limit:
        raise Refused(path, f"part {info.filename!r} declares {info.file_size / 2**20:.0f} MB uncompressed, "
                            f"over the limit of {limit / 2**20:.0f} MB (IMS_EXCEL_{env}); refused as a zip bomb")


def prolog_ok(head: bytes) -> bool:
    """Does this XML start (within the bytes given) with no DOCTYPE before its first element?"""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if re.search(rb"<!(?:DOCTYPE|ENTITY)", head, re.I):
        return False
    pos = 0
    while pos < len(head):
        m = _PROLOG_ITEM.match(head, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    rest = head[pos:]
    if not rest:
        return len(head) < PROLOG_BYTES  # an empty or all-prolog short part is harmless
    return rest.startswith(b"<") and not rest.startswith(b"<!")


def looks_xml(head: bytes) -> bool:
    """Would an XML parser take this part? (It starts with ``<`` after a BOM and whitespace; UTF-16 too.)

    >>> looks_xml(b"\\xef\\xbb\\xbf  <?xml?><a/>"), looks_xml(b"PK\\x03\\x04"), looks_xml("<a/>".encode("utf-16"))
    (True, False, True)
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:1] == b"<"


COPIED_ONLY = ("customXml/", "xl/media/", "xl/printerSettings/")
"""Parts no reader of ours parses (custom XML data, images): copied as they are, whatever their encoding."""


def utf16_xml(head: bytes) -> bool:
    """Is this part XML in UTF-16 (with a BOM, or without one: ``<`` then a NUL, or a NUL then ``<``)?

    Excel writes every part in UTF-8; a UTF-16 part (allowed by XML 1.0, rare in practice) would be read as
    no cells at all by a byte-level reader, so it is named instead (issue 14, "UTF-16 ... XML").

    >>> utf16_xml('<?xml version="1.0"?><a/>'.encode("utf-16")), utf16_xml(b"<a/>"), utf16_xml('<?xml version="1.0"?><a/>'.encode("utf-16-be"))
    (True, False, True)
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return looks_xml(head)
    # no BOM: "<" then a name or "?"/"!", every other byte NUL for the first 16 characters (not a binary part)
    for start, zeros in ((0, head[1:32:2]), (1, head[0:32:2])):
        text = head[start:32:2]
        if len(head) >= 32 and zeros == bytes(16) and re.match(rb"<[?!A-Za-z_]", text):
            return True
    return False


def harmless_doctype(name: str, head: bytes) -> bool:
    """An image (``xl/media/*.svg``) may carry ``<!DOCTYPE svg PUBLIC "..." "...">``: allowed when it has no
    internal subset and no ENTITY (nothing to expand), as such a part is copied as it is and parsed by no one.

    >>> harmless_doctype("xl/media/logo.svg", b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>')
    True
    >>> harmless_doctype("xl/media/logo.svg", b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>')
    False
    """
    return (name.lower().startswith("xl/media/") and len(re.findall(rb"<!DOCTYPE", head, re.I)) == 1
            and re.search(rb"<!DOCTYPE[^>\[]*>", head, re.I) is not None and not re.search(rb"<!ENTITY", head, re.I))


def check_parts(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], path: str | os.PathLike) -> None:
    """Refuse any part that an XML parser would read and that declares a DOCTYPE or ENTITY, *by content*:
    whatever the part is called (a worksheet renamed ``sheet3.dat`` is still parsed as XML by whoever
    follows the relationship to it)."""
    for info in infos:
        if not info.file_size or info.is_dir():
            continue
        try:
            # XML-named parts: their first 64 KB, whole when small, so their CRC is checked here; any other part
            # is read short of its end (its CRC is checked by whoever reads it: a VBA project is only copied)
            xml_named = info.filename.lower().endswith((".xml", ".rels", ".vml"))
            with zf.open(info) as fh:
                head = fh.read(PROLOG_BYTES if xml_named else min(PROLOG_BYTES, info.file_size - 1))
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
            raise Refused(path, f"part {info.filename!r} is damaged ({exc}); the file may be truncated or "
                                "corrupted: use its backup") from None
        if looks_xml(head) and not prolog_ok(head) and not harmless_doctype(info.filename, head):
            raise Refused(path, f"part {info.filename!r} declares a DOCTYPE or ENTITY; refused (XML entity "
                                "expansion)")
        if utf16_xml(head) and not info.filename.startswith(COPIED_ONLY):
            raise Refused(path, f"part {info.filename!r} is XML written in UTF-16; Excel writes its parts in "
                                "UTF-8 and ims-excel reads only that: open the file in Excel (or LibreOffice) and "
                                "save it again")
