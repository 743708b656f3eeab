"""One command run as a user runs it, measured whole: wall seconds, CPU seconds (user +
system, its worker processes included) and peak memory.

Peak memory is the larger of the process's own peak RSS (exact, from ``wait4``) and the
peak of its whole process tree sampled every 0.2 s: the sum of each process's PSS
(proportional set size: pages the workers share with the process that forked them are
counted once, split between them). ``wait4`` alone would report only the largest single
process of a command that counts on worker processes.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

SAMPLE_S = 0.2


def _tree_memory(pid: int) -> int:
    """Bytes held by the process ``pid`` and its descendants now (PSS, else RSS)."""
    import psutil

    try:
        top = psutil.Process(pid)
        procs = [top, *top.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            try:
                total += proc.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def measured(argv: list[str], *, env: dict[str, str], cwd: Path, stdout: Path | None = None
             ) -> tuple[int, str, dict[str, float]]:
    """Run ``argv``; its exit code, stderr and ``{"wall", "cpu", "rss_mib"}``."""
    start = time.perf_counter()
    peak = [0]
    with open(stdout or os.devnull, "wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_S):
                peak[0] = max(peak[0], _tree_memory(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""  # until it closes
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    rss_mib = max(usage.ru_maxrss / 1024, peak[0] / 2**20)
    return os.waitstatus_to_exitcode(status), stderr, {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                                                       "rss_mib": rss_mib}
