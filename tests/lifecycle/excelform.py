"""Checks of a written book against what Excel itself writes, read with tools independent of the writer.

The VBA project is read with olefile (the compound file, MS-CFB) and oletools
(MS-OVBA decompression, olevba's module decoder), not with pyOpenVBA, which
made it. :func:`ovba_problems` lists every way ``xl/vbaProject.bin`` departs
from MS-OVBA's on-write form; :func:`audit_errors` runs ``openxml-audit``.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from pathlib import Path

import olefile
from oletools.olevba import VBA_Parser, decompress_stream
from openxml_audit import FileFormat, OpenXmlValidator

VBA_PROJECT_ON_WRITE = bytes.fromhex("cc61ffff000000")
"""MS-OVBA §2.3.4.1 _VBA_PROJECT: Reserved1 0x61CC; Version "MUST be 0xFFFF on write"; Reserved2 0x00;
Reserved3 (2 bytes); PerformanceCache "MUST NOT be present on write" -- 7 bytes, as EPPlus writes."""
FORMATS = (FileFormat.OFFICE_2016, FileFormat.MICROSOFT_365)


def dir_records(raw: bytes) -> list[tuple[int, bytes]]:
    """The records of a decompressed ``dir`` stream (MS-OVBA §2.3.4.2): Id u16, Size u32, Data.

    PROJECTVERSION (0x0009) is the one record whose Size field (Reserved, 4) does
    not count its 6 data bytes (§2.3.4.2.1.11).
    """
    out, i = [], 0
    while i + 6 <= len(raw):
        rid, size = struct.unpack_from("<HI", raw, i)
        if rid == 0x0009:
            size = 6
        out.append((rid, raw[i + 6:i + 6 + size]))
        i += 6 + size
    return out


def dir_modules(records: list[tuple[int, bytes]]) -> list[dict]:
    """MODULE records (§2.3.4.2.3.2): name, stream name, offset, cookie, type (0x21 procedural, 0x22 other)."""
    modules, cur = [], None
    for rid, data in records:
        if rid == 0x0019:  # MODULENAME starts a MODULE record
            cur = {"name": data.decode("cp1252")}
            modules.append(cur)
        elif cur is None:
            continue
        elif rid == 0x001A:
            cur["stream"] = data.decode("cp1252")
        elif rid == 0x0031:
            cur["offset"] = struct.unpack("<I", data)[0]
        elif rid == 0x002C:
            cur["cookie"] = struct.unpack("<H", data)[0]
        elif rid in (0x0021, 0x0022):
            cur["type"] = rid
    return modules


def project_bin(book: Path) -> bytes:
    with zipfile.ZipFile(book) as z:
        return z.read("xl/vbaProject.bin")


def ovba_problems(data: bytes) -> list[str]:
    """How ``vbaProject.bin`` departs from MS-OVBA's on-write form (empty: none)."""
    problems = []
    ole = olefile.OleFileIO(io.BytesIO(data))
    streams = {"/".join(e) for e in ole.listdir(streams=True, storages=False)}
    head = ole.openstream("VBA/_VBA_PROJECT").read()
    if head != VBA_PROJECT_ON_WRITE:
        problems.append(f"VBA/_VBA_PROJECT is {len(head)} bytes {head[:8].hex()}..., "
                        f"not {VBA_PROJECT_ON_WRITE.hex()} (MS-OVBA §2.3.4.1)")
    records = dir_records(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    cookie = [struct.unpack("<H", d)[0] for rid, d in records if rid == 0x0013]
    if cookie != [0xFFFF]:
        problems.append(f"PROJECTCOOKIE {cookie}, not 0xFFFF on write (§2.3.4.2.3.1)")
    modules = dir_modules(records)
    for m in modules:
        if m.get("offset") != 0:
            problems.append(f"{m['name']}: MODULEOFFSET {m.get('offset')} -- a performance cache precedes "
                            "the source (§2.3.4.3); on write the stream holds the source only")
        if m.get("cookie") != 0xFFFF:
            problems.append(f"{m['name']}: MODULECOOKIE {m.get('cookie')}, not 0xFFFF (§2.3.4.2.3.2.7)")
        stream = ole.openstream(f"VBA/{m['stream']}").read()
        if stream[:1] != b"\x01":  # CompressedContainer SignatureByte (§2.4.1.1.1) at byte 0
            problems.append(f"{m['name']}: stream does not start with a CompressedContainer")
            continue
        try:
            text = decompress_stream(bytearray(stream)).decode("cp1252")
        except ValueError:
            text = ""
        if not text.startswith(f'Attribute VB_Name = "{m["name"]}"'):
            problems.append(f"{m['name']}: the whole stream does not decompress to the module's source")
    expected = {"VBA/dir", "VBA/_VBA_PROJECT", "PROJECT", "PROJECTwm"} | {f"VBA/{m['stream']}" for m in modules}
    if streams != expected:
        problems.append(f"streams beyond the project's (SRP caches?): {sorted(streams ^ expected)}")
    # PROJECT stream (§2.3.1): one ProjectModule line per MODULE record, of the matching kind (§2.3.4.2.3.2).
    text = ole.openstream("PROJECT").read().decode("cp1252")
    declared = {}
    for key, name in re.findall(r"^(Document|Module|Class|BaseClass)=([^/\r\n]+)", text, re.MULTILINE):
        declared[name] = key
    in_dir = {m["name"]: ("Module" if m.get("type") == 0x21 else "other") for m in modules}
    if set(declared) != set(in_dir):
        problems.append(f"PROJECT names {sorted(declared)}, dir names {sorted(in_dir)}")
    for name, kind in in_dir.items():
        if name in declared and (declared[name] == "Module") != (kind == "Module"):
            problems.append(f"{name}: {declared[name]} in PROJECT, MODULETYPE {kind} in dir")
    # olevba decodes every module (it reads dir, MODULEOFFSET and the compressed source itself).
    decoded = {name.rsplit(".", 1)[0]: code for _, _, name, code in VBA_Parser("vbaProject.bin", data=data)
               .extract_macros()}
    for m in modules:
        if f'Attribute VB_Name = "{m["name"]}"' not in decoded.get(m["stream"], ""):
            problems.append(f"{m['name']}: olevba does not decode it")
    ole.close()
    return problems


def audit_errors(book: Path) -> dict[str, list[str]]:
    """openxml-audit's schema and semantic errors for ``book``, per Office version (empty lists: valid)."""
    out = {}
    for ff in FORMATS:
        result = OpenXmlValidator(file_format=ff, max_errors=50).validate(str(book))
        out[ff.value] = [str(e) for e in result.errors]
    return out
