"""Giving memory freed after a big read back to the operating system.

Reading a million trees makes and frees many small objects (text cells, WKB, geometries
in the file's CRS): the C allocator keeps the freed pages for reuse, so the process's
resident memory stays hundreds of MiB above what it holds, and the next big step (the
plots, the reprojection) adds its own peak on top. :func:`release_freed_memory` asks
Arrow's allocator to return what it keeps for reuse (a streamed layer's freed batches), and
glibc's allocator its free pages (``malloc_trim``; elsewhere that step does nothing).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys

log = logging.getLogger(__name__)


@functools.cache
def _trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """glibc's ``malloc_trim``, or None (another C library, or none found)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> bool:
    """Return the allocators' free pages to the system; True when the C library's could be
    (glibc)."""
    arrow = sys.modules.get("pyarrow")  # not imported: Arrow holds nothing (and costs no import)
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
