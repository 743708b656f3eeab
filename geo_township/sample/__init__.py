"""The bundled sample township 青溪乡 (Qingxi Township): a seeded, deterministic generator.

`generate(out_dir)` writes every layer of the sample (what `layers/` in the repository holds)
and returns the *planted truth*: the faults and oddities put in on purpose, which the checks
and audits must find. `planted_truth()` returns the same dict without writing anything, and
`elevation(x, y)` is the terrain the layers follow (EPSG:4548 metres), for a matching DEM.

Rebuild the repository's copy with ``python -m geo_township.sample layers``.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from .terrain import DEFAULT_SEED, elevation

__all__ = ["DEFAULT_SEED", "elevation", "generate", "planted_truth"]

log = logging.getLogger(__name__)
_TRUTH: dict[int, dict] = {}


def generate(out_dir: Path, *, seed: int = DEFAULT_SEED) -> dict:
    """Write the sample township into out_dir and return its planted truth.

    Everything is computed afresh (so two calls really test determinism); the files are
    written to a temporary folder inside out_dir and renamed into place. Raises OSError when
    out_dir cannot be created or written.
    """
    from .build import build_sample
    from .writers import check_writable, write_sample

    check_writable(Path(out_dir))  # fail before the build, not after it
    sample = build_sample(seed)
    write_sample(sample, Path(out_dir))
    _TRUTH[seed] = sample.truth
    return copy.deepcopy(sample.truth)


def planted_truth(*, seed: int = DEFAULT_SEED) -> dict:
    """The planted truth of the sample (computed once per process and cached), as a dict.

    Costs one build (~15 s) the first time unless `generate` already ran in this process.

    JSON-serialisable: transfer faults with ids and areas in mu, tree foci and the ids of the
    odd trees, sand sites inside a management zone, and feature counts.
    """
    from .build import build_sample

    if seed not in _TRUTH:
        _TRUTH[seed] = build_sample(seed).truth
    return copy.deepcopy(_TRUTH[seed])
