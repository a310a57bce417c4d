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

>>> list(fan_out(iter([b"ab", b"cde", b"f"]), len, processes=2, slot_size=4))
[2, 3, 1]
"""

from __future__ import annotations

import concurrent.futures as cf
import mmap
import multiprocessing as mp
import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")

_SHARED: dict[str, object] = {}


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


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
    pool = cf.ProcessPoolExecutor(processes, mp_context=mp.get_context("fork"))
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
