"""Exit codes, decided in one place.

* 0 — done, nothing wrong found
* 1 — done, and a check found an error in the data (a finding of severity ``error``)
* 2 — bad input or usage: a file, a setting or an option that cannot be honoured
  (:class:`~geo_township.errors.TownshipError`, click's usage errors)
* 3 — an internal error: a bug in geo-township, not a problem with the user's files
* 130 — interrupted (Ctrl-C)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the group imports these codes; --help must not load pandas
    from geo_township.results import Result

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


def exit_code(result: Result, *, also: Collection[str] = (), bad_input: bool = False) -> int:
    """The exit code of a command that checks something, from its Result.

    0 when no finding has severity ``error`` (nor a check code in ``also``, e.g. the rows an
    import skipped); otherwise 1 — or 2 with ``bad_input=True``, for commands whose error
    findings mean the input could not be read (``info``).
    """
    failed = any(f.severity == "error" or f.check in also for f in result.findings)
    if not failed:
        return EXIT_OK
    return EXIT_BAD_INPUT if bad_input else EXIT_FINDINGS
