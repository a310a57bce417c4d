"""Faults: a killed run, a full disk, read-only targets, two runs at once (issue 14, "Faults").

Each test makes the fault for real (``kill -9``, a small tmpfs, file modes, a second process) and checks
what the user is promised: the workbook and its backups intact, nothing left behind, a clear message
and exit 2, never a traceback, no worker process left over.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _gone(pids: list[int], within: float = 10.0) -> list[int]:
    """The pids still alive after waiting up to ``within`` seconds for them to end."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as fh:
            out += [int(x) for x in fh.read().split()]
    return out


FAN_OUT_FOREVER = textwrap.dedent("""
    import sys, time
    from ims_excel.xlsx.fanout import fan_out
    def work(unit):
        time.sleep(600)
    for _ in fan_out(iter([b"a", b"b", b"c"]), work, processes=2, slot_size=4):
        pass
""")


def test_fan_out_workers_die_with_a_killed_parent():
    """``kill -9`` of the parent: its forked workers end too (prctl PR_SET_PDEATHSIG), none left holding memory."""
    proc = subprocess.Popen([sys.executable, "-c", FAN_OUT_FOREVER])
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.05)
            workers = _children(proc.pid)
        assert len(workers) == 2, "the workers did not start"
        time.sleep(0.3)  # let them reach their initializer
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _gone(workers) == []
    finally:
        _kill(proc, workers)


def _kill(proc: subprocess.Popen, pids: list[int]) -> None:
    """Clean up after a failed test: the process and the workers it started (by their ids)."""
    if proc.poll() is None:
        proc.kill()
    for p in pids:
        if _alive(p):
            os.kill(p, signal.SIGKILL)
