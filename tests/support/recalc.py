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


_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                     "#GETTING_DATA", "#SPILL!", "#CALC!"})


class _WorkerDied(RecalcError):
    """The UNO worker or its soffice is gone; a fresh one may succeed."""


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
    """One soffice for many workbooks, driven over UNO by a worker process::

        with Session() as lo:
            res = lo.values("book.xlsm", sheets=["Summary"])
            res["Summary"]["values"][0][0]

    :meth:`values` returns ``{sheet: {"values": rows, "errors": [[cell, text], ...]}}``
    where ``rows`` start at A1 and cover the used area; text cells are ``str``,
    numbers (dates and booleans too, as serials and 1.0/0.0) ``float``, empty
    cells ``''``.

    Without a Python that has ``uno`` the session falls back (``mode == "cli"``)
    to one :func:`recalculate` per call, read back with openpyxl: the same
    answers, a few seconds slower each; :meth:`pdf` then exports every sheet.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, python: str | None = None,
                 mode: str | None = None):
        self.timeout = timeout
        self.last_seconds: dict = {}
        """Wall and soffice CPU seconds of the last :meth:`values` call:
        ``load``, ``calculate``, ``load_cpu``, ``calculate_cpu``."""
        self.office_pid: int | None = None
        self.restarts = 0
        self._python = None if mode == "cli" else (python or uno_python())
        self.mode = "uno" if self._python else "cli"
        self._proc: subprocess.Popen | None = None
        self._profile: Path | None = None
        if self.mode == "uno":
            self._start()
        elif mode != "cli":
            import warnings

            warnings.warn("no Python with the 'uno' module (apt-get install python3-uno): "
                          "LibreOffice runs once per workbook, slower", RuntimeWarning, stacklevel=2)

    def _start(self) -> None:
        """Start the worker (and its soffice) in a process group of its own."""
        self._profile = make_profile(recalc_mode=1)  # never on load: calculateAll() does it once
        self._proc = subprocess.Popen(
            [self._python, str(Path(__file__).resolve()), "--uno-worker", str(self._profile)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1, start_new_session=True)
        try:
            self.office_pid = self._call({"op": "ping"}, timeout=120).get("office_pid")
        except Exception:
            self.close()
            raise

    def _request(self, request: dict) -> dict:
        """Send a request; if the worker or soffice died, start a fresh one and retry once."""
        for attempt in (0, 1):
            if self._proc is None or self._proc.poll() is not None:
                self.close()
                self._start()
                self.restarts += attempt
            try:
                return self._call(request)
            except _WorkerDied:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _call(self, request: dict, *, timeout: float | None = None) -> dict:
        if self._proc is None or self._proc.poll() is not None:
            raise _WorkerDied("the LibreOffice worker is not running")
        assert self._proc.stdin and self._proc.stdout
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self._kill()
            raise _WorkerDied(f"the LibreOffice worker died ({exc})") from exc
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._proc.stdout], [], [], left)[0]:
                self._kill()
                raise RecalcError(f"LibreOffice worker timed out on {request.get('op')}")
            line = self._proc.stdout.readline()
            if not line:
                self._kill()
                raise _WorkerDied("the LibreOffice worker died")
            if line.startswith("@@"):
                reply = json.loads(line[2:])
                if reply.get("fatal"):
                    self._kill()
                    raise _WorkerDied(reply.get("error", "soffice died"))
                if not reply.get("ok"):
                    raise RecalcError(reply.get("error", "worker error"))
                return reply

    def _kill(self) -> None:
        """Kill the worker's process group (the worker and the soffice it started)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        self._drop_profile()

    def _drop_profile(self) -> None:
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def values(self, path: str | Path, sheets: list[str] | None = None, *,
               save_as: str | Path | None = None) -> dict:
        """Load, ``calculateAll()``, return the values of ``sheets`` (all if None).

        ``save_as`` (optional) also stores the recalculated book as .xlsx there.
        """
        if self.mode == "cli":
            return self._cli_values(path, sheets, save_as)
        req = {"op": "values", "path": str(Path(path).resolve()), "sheets": sheets,
               "save_as": str(Path(save_as).resolve()) if save_as else None}
        reply = self._request(req)
        self.last_seconds = reply.get("seconds", {})
        return reply["sheets"]

    def load_seconds(self, path: str | Path) -> dict:
        """Only load the book (no ``calculateAll()``) and close it: ``{"load": wall, "load_cpu": soffice CPU}``
        seconds (also :attr:`last_seconds`). UNO sessions only."""
        if self.mode == "cli":
            raise RecalcError("load_seconds needs a Python with uno")
        reply = self._request({"op": "load", "path": str(Path(path).resolve())})
        self.last_seconds = reply.get("seconds", {})
        return self.last_seconds

    def pdf(self, path: str | Path, out: str | Path, sheets: list[str] | None = None) -> Path:
        """Recalculate and export ``sheets`` (all if None) to one PDF."""
        out = Path(out).resolve()
        if self.mode == "cli":
            with tempfile.TemporaryDirectory(prefix="ims-pdf-") as tmp:
                shutil.move(str(convert(path, tmp, "pdf", timeout=self.timeout)), out)
            return out
        self._request({"op": "pdf", "path": str(Path(path).resolve()), "sheets": sheets, "out": str(out)})
        if not out.is_file():
            raise RecalcError(f"no PDF written to {out}")
        return out

    def _cli_values(self, path: str | Path, sheets: list[str] | None,
                    save_as: str | Path | None) -> dict:
        """The fallback: soffice --convert-to with recalculation, then openpyxl ``data_only``."""
        import datetime as dt

        import openpyxl

        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="ims-recalc-") as tmp:
            out = recalculate(path, tmp, timeout=self.timeout)
            self.last_seconds = {"convert": time.monotonic() - t0}
            book = openpyxl.load_workbook(out, data_only=True, read_only=True)
            result = {}
            for name in sheets or book.sheetnames:
                ws = book[name]
                rows, errors = [], []
                for r, row in enumerate(ws.iter_rows(values_only=True)):
                    line = []
                    for c, v in enumerate(row):
                        if isinstance(v, str) and (v in _ERRORS or v.startswith("Err:")):
                            errors.append([_a1(r, c), v])
                        if v is None:
                            v = ""
                        elif isinstance(v, bool):
                            v = float(v)
                        elif isinstance(v, (dt.datetime, dt.date)):
                            v = (dt.datetime(v.year, v.month, v.day) - dt.datetime(1899, 12, 30)).days
                            v = float(v)
                        elif isinstance(v, int):
                            v = float(v)
                        line.append(v)
                    rows.append(line)
                while rows and not any(x != "" for x in rows[-1]):
                    rows.pop()
                width = max((max((i + 1 for i, x in enumerate(r) if x != ""), default=0) for r in rows),
                            default=0)
                result[name] = {"values": [r[:width] + [""] * (width - len(r[:width])) for r in rows],
                                "errors": errors}
            book.close()
            if save_as:
                shutil.copyfile(out, save_as)
        return result

    def close(self) -> None:
        """Ask the worker to quit (it terminates soffice); kill its process group if it hangs."""
        proc = getattr(self, "_proc", None)
        if proc is not None:
            try:
                if proc.poll() is None and proc.stdin:
                    proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                    proc.stdin.flush()
                proc.wait(timeout=40)
                self._proc = None
            except (OSError, subprocess.TimeoutExpired, ValueError):
                self._kill()
        if getattr(self, "_profile", None) is not None:
            self._drop_profile()

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
                reply(ok=True, office_pid=office.pid)
                continue
            doc = None
            try:
                t0, c0 = time.monotonic(), _cpu_seconds(office.pid)
                doc = load(req["path"])
                t1, c1 = time.monotonic(), _cpu_seconds(office.pid)
                if op == "load":
                    reply(ok=True, seconds={"load": t1 - t0, "load_cpu": c1 - c0})
                    continue
                doc.calculateAll()
                t2, c2 = time.monotonic(), _cpu_seconds(office.pid)
                secs = {"load": t1 - t0, "calculate": t2 - t1,
                        "load_cpu": c1 - c0, "calculate_cpu": c2 - c1}
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
                    for name in sheets.getElementNames():
                        sheets.getByName(name).IsVisible = name in names
                    doc.storeToURL(uno.systemPathToFileUrl(req["out"]),
                                   (prop("FilterName", "calc_pdf_Export"),))
                    reply(ok=True, seconds=secs)
                else:
                    reply(ok=False, error=f"unknown op {op!r}")
            except Exception as exc:  # noqa: BLE001 - reported to the client
                if office.poll() is not None or type(exc).__name__ == "DisposedException":
                    reply(ok=False, fatal=True, error=f"soffice died: {type(exc).__name__}: {exc}")
                    doc = None
                    break
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (soffice -> oosplash ->
    soffice.bin) so far; Linux /proc, 0.0 elsewhere."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


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
