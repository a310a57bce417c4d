"""Work on the units of a big worksheet in worker processes, handed over through shared memory.

A deflate stream inflates in one process only, but parsing (or rewriting)
what it yields is work for every CPU. :func:`fan_out` takes the units this
process inflates (:func:`ims_excel.xlsx.units.units`), copies each into a
slot of a shared memory ring, and hands the slot's number to a worker;
results come back in unit order. No temporary file, no pickling of the data:
only the slot number crosses the pipe one way and the (small) result the
other. At most ``slots`` units are in flight, so memory stays bounded however
big the sheet.

With ``fork`` (Linux, macOS) the ring is an anonymous map the workers inherit,
and the work function reaches them without being pickled. Without it (Windows,
where Excel users run ``process``; or ``IMS_EXCEL_NO_FORK=1``) the workers are
spawned: the ring is a named :class:`multiprocessing.shared_memory.SharedMemory`
they attach to, and the work function (a module-level function, or a
:func:`functools.partial` of one) is pickled to each worker once, when it
starts. Either way the sheet is inflated once, here.

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
from multiprocessing import shared_memory
from typing import TypeVar

T = TypeVar("T")

_WORKER: dict[str, object] = {}
"""In a worker process only: its view of the ring and its work, set by :func:`_start` from its arguments."""


def can_fork() -> bool:
    """Whether worker processes are forked (``IMS_EXCEL_NO_FORK=1`` says no: the Windows path, on Linux)."""
    return os.environ.get("IMS_EXCEL_NO_FORK", "") in ("", "0") and "fork" in mp.get_all_start_methods()


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


def _start(ring: mmap.mmap | str, size: int, work: Callable[[bytes], object], parent: int) -> None:
    """Worker initializer: die with the parent; attach the ring (inherited map, or shared memory by name)."""
    die_with_parent(parent)
    if isinstance(ring, str):
        shm = shared_memory.SharedMemory(name=ring)
        _WORKER.update(shm=shm, ring=shm.buf)
    else:
        _WORKER.update(ring=ring)
    _WORKER.update(size=size, work=work)


def _call(args: tuple[int, int, bytes | None]) -> object:
    slot, length, payload = args
    if payload is None:
        ring = _WORKER["ring"]
        size: int = _WORKER["size"]  # type: ignore[assignment]
        payload = bytes(ring[slot * size: slot * size + length])  # type: ignore[index]
    return _WORKER["work"](payload)  # type: ignore[operator]


class WorkerDied(RuntimeError):
    """A worker process ended abruptly (killed, out of memory); nothing was written."""


def fan_out(units: Iterable[bytes], work: Callable[[bytes], T], *, processes: int, slots: int | None = None,
            slot_size: int = 64 << 20) -> Iterator[T]:
    """``work(unit)`` for every unit, in ``processes`` workers; results in the units' order.

    Forked workers see ``work`` (and whatever it refers to) as this process had
    it when the generator started; spawned ones get ``work`` pickled, as it is
    then (see the module doc). A unit larger than ``slot_size`` goes through
    the pipe instead. An exception in ``work`` is raised here; a worker that
    dies raises :class:`WorkerDied` (never a hang). ``processes`` <= 1: the
    work is done here, in order.
    """
    if processes <= 1:
        for unit in units:
            yield work(unit)
        return
    slots = slots or 2 * processes + 1
    fork = can_fork()
    shm = None
    if fork:
        ring: mmap.mmap | memoryview = mmap.mmap(-1, slots * slot_size)  # anonymous and shared, inherited
        where: mmap.mmap | str = ring  # type: ignore[assignment]
    else:
        shm = shared_memory.SharedMemory(create=True, size=slots * slot_size)
        ring, where = shm.buf, shm.name
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    for s in range(slots):
        free.put(s)
    pool = cf.ProcessPoolExecutor(processes, mp_context=mp.get_context("fork" if fork else "spawn"),
                                  initializer=_start, initargs=(where, slot_size, work, os.getpid()))
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
        if shm is not None:
            del ring
            shm.close()
            shm.unlink()
        else:
            ring.close()


def _result(fut: cf.Future) -> object:
    try:
        return fut.result()
    except BrokenProcessPool as e:
        raise WorkerDied("a worker process ended abruptly (out of memory, or killed); nothing was written") from e
