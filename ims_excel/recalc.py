"""LibreOffice as the formula engine: recalculate a workbook and read values back.

Three ways in, fastest last:

* :func:`recalculate` -- one ``soffice --convert-to`` per call with a throwaway
  profile whose ``OOXMLRecalcMode``/``ODFRecalcMode`` are 0 ("always
  recalculate on load"; LO 7.4 otherwise shows the cached values, which
  XlsxWriter writes as 0). The result is an ``.xlsx`` in ``out_dir`` (never the
  input's folder); read it with :func:`read_values`.
* :class:`Session` -- one long-lived soffice driven over UNO by a small worker
  process (this very file run by a Python that has the ``uno`` module: Debian's
  ``python3-uno`` is built for ``/usr/bin/python3``, not for our venv). The
  worker speaks one JSON line per request on stdin/stdout. A workbook is
  loaded, ``calculateAll()`` is called and every sheet's values come back via
  ``getDataArray()``, with the cells holding formula errors listed apart.
* :func:`export_pdf` / :func:`export_png` -- chosen sheets as a PDF (and PNG
  pages through ``pdftoppm``) for a person to look at.

Traps handled here (shared/domain/excel-tooling.md): soffice exits 0 even
when loading failed, so the output must exist and stderr must hold no
``Error:``; each process gets its own profile; every call is wrapped in a
timeout.

This module imports only the standard library at the top, so that the system
Python can run it as the UNO worker (``python3 recalc.py --uno-worker``).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOFFICE = os.environ.get("IMS_SOFFICE", "soffice")
DEFAULT_TIMEOUT = 300.0
XLSX_FILTER = "Calc MS Excel 2007 XML"

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
</oor:items>
"""


class RecalcError(RuntimeError):
    """LibreOffice did not produce what was asked (load error, timeout, crash)."""


def make_profile(parent: str | Path | None = None, *, recalc_mode: int = 0) -> Path:
    """A fresh LibreOffice user profile; ``recalc_mode`` 0 = always recalculate on load, 1 = never."""
    root = Path(tempfile.mkdtemp(prefix="ims-lo-profile-", dir=parent))
    user = root / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_XCU.format(mode=recalc_mode), encoding="utf-8")
    return root


def _soffice_base(profile: Path) -> list[str]:
    return [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
            "--nolockcheck", "--nodefault", "--nologo"]


def convert(path_in: str | Path, out_dir: str | Path, target: str,
            *, timeout: float = DEFAULT_TIMEOUT, recalc: bool = True) -> Path:
    """Run ``soffice --convert-to target`` on one file (own profile, timeout, checks).

    ``target`` is what follows ``--convert-to``, e.g. ``xlsx:Calc MS Excel 2007 XML``
    or ``pdf``. Returns the written file.
    """
    src = Path(path_in).resolve()
    out = Path(out_dir).resolve()
    if not src.is_file():
        raise FileNotFoundError(src)
    if out == src.parent:
        raise ValueError("out_dir must not be the input's folder (LibreOffice would overwrite it)")
    out.mkdir(parents=True, exist_ok=True)
    ext = target.split(":", 1)[0]
    expected = out / f"{src.stem}.{ext}"
    if expected.exists():
        expected.unlink()
    profile = make_profile(recalc_mode=0 if recalc else 1)
    cmd = ["timeout", "-k", "10", str(int(timeout)), *_soffice_base(profile),
           "--convert-to", target, "--outdir", str(out), str(src)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode == 124:
        raise RecalcError(f"soffice timed out after {timeout:.0f} s on {src.name}")
    if "Error:" in proc.stderr or not expected.is_file():
        raise RecalcError(f"soffice failed on {src.name} (exit {proc.returncode}): "
                          f"{proc.stderr.strip() or proc.stdout.strip()}")
    return expected


def recalculate(path_in: str | Path, out_dir: str | Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Full recalculation by LibreOffice; returns ``out_dir/<stem>.xlsx`` holding fresh values.

    Never ship the result: LibreOffice drops table styles, column formulas and
    the theme when it saves. It is for reading values only.
    """
    return convert(path_in, out_dir, f"xlsx:{XLSX_FILTER}", timeout=timeout)


def read_values(path: str | Path, sheet: str) -> list[list[object]]:
    """All cell values of one sheet as rows (python-calamine; empty cells are '')."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def read_frame(path: str | Path, sheet: str, header_row: int = 1):
    """One sheet as a pandas DataFrame whose header is 1-based row ``header_row``."""
    import pandas as pd

    rows = read_values(path, sheet)[header_row - 1:]
    if not rows:
        return pd.DataFrame()
    header = [str(h) for h in rows[0]]
    return pd.DataFrame(rows[1:], columns=header)


# ------------------------------------------------------------------ UNO worker (client side)

def uno_python() -> str | None:
    """A Python executable that can ``import uno`` (IMS_UNO_PYTHON, ours, or /usr/bin/python3)."""
    candidates = [os.environ.get("IMS_UNO_PYTHON", ""), sys.executable, "/usr/bin/python3", "python3"]
    for exe in candidates:
        if not exe or not shutil.which(exe) and not Path(exe).is_file():
            continue
        try:
            ok = subprocess.run([exe, "-c", "import uno"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return exe
    return None


class Session:
    """One soffice for many workbooks, driven over UNO by a worker process.

    >>> with Session() as lo:                                   # doctest: +SKIP
    ...     res = lo.values("book.xlsm", sheets=["Summary"])
    ...     res["Summary"]["values"][0][0]

    :meth:`values` returns ``{sheet: {"values": rows, "errors": [[cell, text], ...]}}``
    where ``rows`` start at A1 and cover the used area; text cells are ``str``,
    numbers (dates too, as serials) ``float``, empty cells ``''``.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, python: str | None = None):
        self.timeout = timeout
        exe = python or uno_python()
        if exe is None:
            raise RecalcError("no Python with the 'uno' module (apt-get install python3-uno)")
        self._profile = make_profile(recalc_mode=1)  # never on load: calculateAll() does it once
        self._proc = subprocess.Popen(
            [exe, str(Path(__file__).resolve()), "--uno-worker", str(self._profile)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)
        try:
            self._call({"op": "ping"}, timeout=120)
        except Exception:
            self.close()
            raise

    def _call(self, request: dict, *, timeout: float | None = None) -> dict:
        if self._proc is None or self._proc.poll() is not None:
            raise RecalcError("the LibreOffice worker is not running")
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._proc.stdout], [], [], left)[0]:
                self.close()
                raise RecalcError(f"LibreOffice worker timed out on {request.get('op')}")
            line = self._proc.stdout.readline()
            if not line:
                self.close()
                raise RecalcError("the LibreOffice worker died")
            if line.startswith("@@"):
                reply = json.loads(line[2:])
                if not reply.get("ok"):
                    raise RecalcError(reply.get("error", "worker error"))
                return reply

    def values(self, path: str | Path, sheets: list[str] | None = None, *,
               save_as: str | Path | None = None) -> dict:
        """Load, ``calculateAll()``, return the values of ``sheets`` (all if None).

        ``save_as`` (optional) also stores the recalculated book as .xlsx there.
        """
        req = {"op": "values", "path": str(Path(path).resolve()), "sheets": sheets,
               "save_as": str(Path(save_as).resolve()) if save_as else None}
        return self._call(req)["sheets"]

    def pdf(self, path: str | Path, out: str | Path, sheets: list[str] | None = None) -> Path:
        """Recalculate and export ``sheets`` (all if None) to one PDF."""
        out = Path(out).resolve()
        self._call({"op": "pdf", "path": str(Path(path).resolve()), "sheets": sheets, "out": str(out)})
        if not out.is_file():
            raise RecalcError(f"no PDF written to {out}")
        return out

    def close(self) -> None:
        proc, self._proc = getattr(self, "_proc", None), None
        if proc is not None:
            try:
                if proc.poll() is None and proc.stdin:
                    proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                    proc.stdin.flush()
                proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                proc.kill()
                proc.wait()
        profile = getattr(self, "_profile", None)
        if profile is not None:
            shutil.rmtree(profile, ignore_errors=True)
            self._profile = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


def export_pdf(path: str | Path, sheets: list[str] | None, out: str | Path,
               *, session: Session | None = None) -> Path:
    """The recalculated ``sheets`` of a workbook as one PDF at ``out``."""
    if session is not None:
        return session.pdf(path, out, sheets)
    with Session() as lo:
        return lo.pdf(path, out, sheets)


def export_png(pdf: str | Path, out_dir: str | Path, *, dpi: int = 80) -> list[Path]:
    """PNG pages of a PDF through ``pdftoppm`` (Debian ``poppler-utils``)."""
    if shutil.which("pdftoppm") is None:
        raise RecalcError("pdftoppm not found (apt-get install poppler-utils)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prefix = out / Path(pdf).stem
    subprocess.run(["timeout", "120", "pdftoppm", "-png", "-r", str(dpi), str(pdf), str(prefix)],
                   check=True, capture_output=True)
    return sorted(out.glob(f"{prefix.name}-*.png"))


# ------------------------------------------------------------------ UNO worker (server side)

def _worker(profile: str) -> None:  # pragma: no cover - runs under the system python
    """Serve JSON requests from stdin over one soffice (run: ``python3 recalc.py --uno-worker PROFILE``)."""
    import uno
    from com.sun.star.beans import PropertyValue
    from com.sun.star.connection import NoConnectException

    def prop(name, value):
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    def reply(**kw):
        sys.stdout.write("@@" + json.dumps(kw, default=str) + "\n")
        sys.stdout.flush()

    pipe = f"ims_{os.getpid()}_{int(time.time() * 1000)}"
    office = subprocess.Popen(
        [*_soffice_base(Path(profile)), "--invisible", f"--accept=pipe,name={pipe};urp;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    ctx = None
    for _ in range(600):
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if office.poll() is not None:
                break
            time.sleep(0.1)
    if ctx is None:
        reply(ok=False, error="could not connect to soffice")
        office.kill()
        return
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

    def load(path):
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                           (prop("Hidden", True),))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not load {path}")
        doc.calculateAll()
        return doc

    def sheet_values(sheet):
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        addr = cursor.getRangeAddress()
        rng = sheet.getCellRangeByPosition(0, 0, addr.EndColumn, addr.EndRow)
        values = [list(r) for r in rng.getDataArray()]
        errors = []
        found = sheet.queryFormulaCells(4)  # com.sun.star.sheet.FormulaResult.ERROR
        for ra in found.getRangeAddresses():
            for r in range(ra.StartRow, ra.EndRow + 1):
                for c in range(ra.StartColumn, ra.EndColumn + 1):
                    cell = sheet.getCellByPosition(c, r)
                    errors.append([_a1(r, c), cell.getString()])
                    if len(errors) >= 200:
                        return values, errors
        return values, errors

    try:
        for line in sys.stdin:
            req = json.loads(line)
            op = req.get("op")
            if op == "quit":
                break
            if op == "ping":
                reply(ok=True)
                continue
            doc = None
            try:
                t0 = time.monotonic()
                doc = load(req["path"])
                secs = time.monotonic() - t0
                sheets = doc.getSheets()
                names = req.get("sheets") or list(sheets.getElementNames())
                if op == "values":
                    out = {}
                    for name in names:
                        values, errors = sheet_values(sheets.getByName(name))
                        out[name] = {"values": values, "errors": errors}
                    if req.get("save_as"):
                        doc.storeToURL(uno.systemPathToFileUrl(req["save_as"]),
                                       (prop("FilterName", XLSX_FILTER),))
                    reply(ok=True, sheets=out, seconds=secs)
                elif op == "pdf":
                    doc.enableAutomaticCalculation(False)
                    for name in sheets.getElementNames():
                        sheets.getByName(name).IsVisible = name in names
                    doc.storeToURL(uno.systemPathToFileUrl(req["out"]),
                                   (prop("FilterName", "calc_pdf_Export"),))
                    reply(ok=True, seconds=secs)
                else:
                    reply(ok=False, error=f"unknown op {op!r}")
            except Exception as exc:  # noqa: BLE001 - reported to the client
                reply(ok=False, error=f"{type(exc).__name__}: {exc}")
            finally:
                if doc is not None:
                    try:
                        doc.close(True)
                    except Exception:  # noqa: BLE001
                        doc.dispose()
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the bridge drops as soffice exits
            pass
        try:
            office.wait(timeout=20)
        except subprocess.TimeoutExpired:
            office.kill()


def _a1(row: int, col: int) -> str:
    """0-based (row, col) -> A1."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


if __name__ == "__main__" and len(sys.argv) >= 3 and sys.argv[1] == "--uno-worker":
    _worker(sys.argv[2])
