"""`geo-township init DIR`: a township.toml proposed from the GIS files already in DIR.

Each file's layer kind and field mapping are decided from its metadata (geometry type,
field names, the file's name) against the kinds registry; what could not be decided is
marked in the file to check. An existing township.toml is never overwritten.

* :func:`propose_township` — the proposal and its township.toml text, nothing written
* :func:`write_township_toml` — the same, written to DIR/township.toml
"""

from __future__ import annotations

from pathlib import Path

from geo_township.config import CONFIG_NAME
from geo_township.errors import UsageError
from geo_township.propose.decide import Candidate, Decision, Undecided
from geo_township.propose.plan import Proposal, RasterPlan, build_proposal
from geo_township.propose.scan import Words
from geo_township.propose.toml_text import CHECK, proposal_toml


def _refuse_existing(folder: Path) -> None:
    target = folder / CONFIG_NAME
    if target.exists():
        raise UsageError(
            f"{folder} already holds a {CONFIG_NAME}; nothing was changed",
            hint=f"edit {target}, or move it away and run init again to get a new proposal",
            message_zh=f"{folder} 中已有 {CONFIG_NAME}，未做任何改动",
            hint_zh=f"请直接编辑 {target}；或将其移走后重新运行 init 以生成新的建议")


def propose_township(folder: str | Path) -> tuple[Proposal, str]:
    """The proposal for the files in ``folder`` and its township.toml text (nothing is written)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", hint="give init the folder that holds your GIS files")
    proposal = build_proposal(folder)
    return proposal, proposal_toml(proposal)


def write_township_toml(folder: str | Path) -> tuple[Proposal, Path]:
    """Write the proposed township.toml into ``folder`` (created if needed); never
    overwrites one that exists."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file", hint="give init a folder")
    _refuse_existing(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {folder}: {exc.strerror}", hint="choose a folder you can write to") from None
    proposal, text = propose_township(folder)
    target = folder / CONFIG_NAME
    try:
        with target.open("x", encoding="utf-8", newline="\n") as fh:  # "x": never replaces a file
            fh.write(text)
    except FileExistsError:
        _refuse_existing(folder)
        raise
    return proposal, target


__all__ = [
    "CHECK",
    "Candidate",
    "Decision",
    "Proposal",
    "RasterPlan",
    "Undecided",
    "Words",
    "propose_township",
    "write_township_toml",
]
