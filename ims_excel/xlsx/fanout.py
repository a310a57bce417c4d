"""Work on the units of a big worksheet in forked processes, handed over through shared memory.

A deflate stream inflates in one process only, but parsing (or rewriting)
what it yields is work for every CPU. :func:`fan_out` takes the units this
process inflates (:func:`ims_excel.xlsx.units.units`), copies each into a
slot of an anonymous shared memory map that the workers inherit through
``fork``, and hands the slot's number to a worker; results come back in unit
order. No temporary file, no pickling of the data: only the slot number
crosses the pipe one way and the (small) result the other. At most ``slots``
units are in flight, so memory stays bounded however big the sheet.

Where ``fork`` is missing (Windows) the work is done in this process, in order.

Workers die with their parent (:func:`die_with_parent`): a ``kill -9`` of the
command leaves no worker holding memory behind.

>>> list(fan_out(iter([b"ab", b"cde", b"f"]), len, processes=2, slot_size=4))
[2, 3, 1]
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import mmap
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")

_SHARED: dict[str, object] = {}


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


PR_SET_PDEATHSIG = 1
"""``prctl`` option (linux/prctl.h): the signal this process gets when its parent dies."""


def die_with_parent(parent: int | None = None) -> None:
    """In a worker process: end when the parent process ends, however it ends (``kill -9`` included).

    On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (prctl(2)). Elsewhere a
    daemon thread watches the parent's id and ends the worker within a second of it changing.
    ``parent`` is the pid the worker was forked from: if it is already gone (it died between
    the fork and this call) the worker ends at once.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    parent = os.getppid() if parent is None else parent
    if os.getppid() != parent:
        os._exit(1)
    if not armed and hasattr(os, "getppid"):
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)
        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _call(args: tuple[int, int, bytes | None]) -> object:
    slot, length, payload = args
    if payload is None:
        ring: mmap.mmap = _SHARED["ring"]  # type: ignore[assignment]
        size: int = _SHARED["size"]  # type: ignore[assignment]
        payload = ring[slot * size: slot * size + length]
    return _SHARED["work"](payload)  # type: ignore[operator]


class WorkerDied(RuntimeError):
    """A worker process ended abruptly (killed, out of memory); nothing was written."""


def fan_out(units: Iterable[bytes], work: Callable[[bytes], T], *, processes: int, slots: int | None = None,
            slot_size: int = 64 << 20) -> Iterator[T]:
    """``work(unit)`` for every unit, in ``processes`` forked workers; results in the units' order.

    ``work`` runs in the workers and sees, through ``fork``, whatever this
    process had when the generator started. A unit larger than ``slot_size``
    goes through the pipe instead. An exception in ``work`` is raised here; a
    worker that dies raises :class:`WorkerDied` (never a hang).
    """
    if processes <= 1 or not can_fork():
        for unit in units:
            yield work(unit)
        return
    slots = slots or 2 * processes + 1
    ring = mmap.mmap(-1, slots * slot_size)  # anonymous and shared: the forked workers see the same pages
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    for s in range(slots):
        free.put(s)
    _SHARED.update(ring=ring, size=slot_size, work=work)
    pool = cf.ProcessPoolExecutor(processes, mp_context=mp.get_context("fork"), initializer=die_with_parent,
                                  initargs=(os.getpid(),))
    try:
        pending: deque = deque()
        for unit in units:
            if len(unit) <= slot_size:
                slot = free.get()
                ring[slot * slot_size: slot * slot_size + len(unit)] = unit
                args = (slot, len(unit), None)
            else:
                slot = -1
                args = (0, len(unit), unit)
            del unit
            fut = pool.submit(_call, args)
            if slot >= 0:
                fut.add_done_callback(lambda _, slot=slot: free.put(slot))
            pending.append(fut)
            while pending and pending[0].done():
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    except BrokenProcessPool as e:
        raise WorkerDied("a worker process ended abruptly (out of memory, or killed); nothing was written") from e
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _SHARED.clear()
        ring.close()


def _result(fut: cf.Future) -> object:
    try:
        return fut.result()
    except BrokenProcessPool as e:
        raise WorkerDied("a worker process ended abruptly (out of memory, or killed); nothing was written") from e
