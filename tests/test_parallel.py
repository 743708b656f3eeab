"""Chunks spread over worker processes (:mod:`geo_township.parallel`): results in the
chunks' order, a bounded number in flight, the workers' log records and errors carried
back as if the work had run here."""

from __future__ import annotations

import logging
import os
import signal

import pytest

from geo_township import parallel
from geo_township.errors import UsageError
from geo_township.parallel import MAX_WORKERS, can_fork, default_workers, ordered_map

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_results_come_in_the_order_of_the_items_from_other_processes() -> None:
    out = list(ordered_map(_square_and_pid, range(40), workers=2))
    assert [v for v, _ in out] == [x * x for x in range(40)]
    pids = {p for _, p in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # on a busy machine one worker may take them all


def test_one_worker_runs_here() -> None:
    out = list(ordered_map(_square_and_pid, range(5), workers=1))
    assert out == [(x * x, os.getpid()) for x in range(5)]


def test_at_most_one_item_more_than_workers_is_read_ahead() -> None:
    drawn = []

    def items():
        for i in range(20):
            drawn.append(i)
            yield i

    seen = []
    for value, _ in ordered_map(_square_and_pid, items(), workers=3):
        seen.append((value, len(drawn)))
    assert seen[0] == (0, 4)  # items 0–3 handed out before the first result is waited for
    assert all(n <= i + 4 for i, (_, n) in enumerate(seen))


def _warn(x: int) -> int:
    logging.getLogger("geo_township.test_parallel").warning("chunk %d: %s", x, "看过了", extra={"zh": f"块 {x}"})
    return x


def test_log_records_of_workers_are_handled_here_in_order(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="geo_township.test_parallel"):
        assert list(ordered_map(_warn, range(6), workers=2)) == list(range(6))
    records = [r for r in caplog.records if r.name == "geo_township.test_parallel"]
    assert [r.getMessage() for r in records] == [f"chunk {x}: 看过了" for x in range(6)]
    assert [r.zh for r in records] == [f"块 {x}" for x in range(6)]


def _refuse(x: int) -> int:
    if x == 3:
        raise UsageError("row 3 is bad", path="trees.gpkg", hint="mend row 3")
    return x


def test_an_error_in_a_worker_is_raised_here_whole() -> None:
    with pytest.raises(UsageError) as caught:
        list(ordered_map(_refuse, range(8), workers=2))
    assert str(caught.value) == "trees.gpkg: row 3 is bad Fix: mend row 3"


def test_a_closure_over_what_the_caller_holds_runs_in_the_workers() -> None:
    held = {"factor": 7}  # forked workers see it without its being pickled
    assert list(ordered_map(lambda x: x * held["factor"], range(10), workers=2)) == [7 * x for x in range(10)]


def test_default_workers_are_the_cores_at_most_four() -> None:
    assert default_workers() == min(len(os.sched_getaffinity(0)), MAX_WORKERS)


def _ignores_ctrl_c(_: int) -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_ctrl_c_is_left_to_the_caller() -> None:
    """A Ctrl-C reaches every process of the terminal's group: the workers leave it to the
    caller, which stops them and says so once, instead of each printing a traceback."""
    before = signal.getsignal(signal.SIGINT)
    assert all(ordered_map(_ignores_ctrl_c, range(4), workers=2))
    assert signal.getsignal(signal.SIGINT) is before  # this process's own handling is untouched


def test_macos_counts_in_the_process_itself(monkeypatch) -> None:
    """macOS lists fork among its start methods, but its system libraries may not survive it."""
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    assert default_workers() == 1 and not can_fork()
    assert list(ordered_map(_square_and_pid, range(3), workers=2)) == [(x * x, os.getpid()) for x in range(3)]
