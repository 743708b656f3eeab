"""Work on a stream of chunks spread over this machine's cores, results in the chunks' order.

:func:`ordered_map` runs ``work(item)`` for each item in forked worker processes: forked, so
every worker starts with what the caller already holds (a county's plots and villages,
read and indexed once) without copying it, and each has its own GEOS objects, which are not
safe to share between threads. At most ``workers + 1`` items are in flight, so memory stays
bounded by a few chunks whatever the stream's length; each item is pickled before the next
one is read (a chunk may borrow a reader's buffers). Log records a worker emits are carried
back with its result and handled here, in order, as if the work had run in this process.

Where ``fork`` is not available (Windows) or not safe (macOS, whose system libraries may
not survive it), or one worker is asked for, the work runs here, one item after another,
with the same results.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4
"""Workers at most by default: each holds a chunk's working memory (about 0.3 GiB for
250,000 trees), so more cores would mostly add memory."""

_work: Callable[[Any], Any] | None = None  # set before the pool forks; workers inherit it
_records: list[logging.LogRecord] = []


def default_threads() -> int:
    """The cores this process may use, at most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def can_fork() -> bool:
    """Whether worker processes are forked here: not on Windows (no fork) nor macOS (not safe)."""
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def default_workers() -> int:
    """:func:`default_threads`, or 1 where worker processes cannot be forked."""
    return default_threads() if can_fork() else 1


class _Collect(logging.Handler):
    """Keeps a worker's log records, their messages formatted (arguments may not pickle)."""

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        _records.append(record)


def _start_worker() -> None:
    """In a new worker: Ctrl-C is left to the caller (which stops the workers, so the user
    sees one message, not a traceback per worker), and its log records are collected for
    the caller, not written by the handlers it inherited (the terminal, a progress bar)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_Collect())


def _run(payload: bytes) -> tuple[Any, list[logging.LogRecord]]:
    assert _work is not None
    _records.clear()
    held = [pickle.loads(payload)]
    result = _work(held.pop())  # held by the work alone, which may drop it once it has what it needs
    return result, list(_records)


def _replay(records: list[logging.LogRecord]) -> None:
    for record in records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def ordered_map(work: Callable[[T], R], items: Iterable[T], *, workers: int | None = None) -> Iterator[R]:
    """``work(item)`` for each of ``items``, in their order, on ``workers`` forked
    processes (default :func:`default_workers`); in this process when that is 1."""
    global _work
    workers = default_workers() if workers is None else workers
    if workers <= 1 or not can_fork():
        yield from map(work, items)
        return
    if _work is not None:
        raise RuntimeError("ordered_map does not nest")
    _work = work
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker) as pool:
            pending: deque[Any] = deque()
            for item in items:
                payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
                del item  # the reader may free it before reading the next
                pending.append(pool.apply_async(_run, (payload,)))
                del payload
                if len(pending) > workers:
                    result, records = pending.popleft().get()
                    _replay(records)
                    yield result
            while pending:
                result, records = pending.popleft().get()
                _replay(records)
                yield result
    finally:
        _work = None
