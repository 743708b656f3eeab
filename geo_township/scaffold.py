"""Start a new township folder from the sample (`geo-township init --sample DIR`), to try
the tool; for one's own files, :mod:`geo_township.propose` writes the township.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from geo_township.config import CONFIG_NAME
from geo_township.errors import UsageError

#: The bundled sample in a source checkout (absent from an installed wheel).
REPO_SAMPLE = Path(__file__).resolve().parent.parent / "layers"


def init_township(dest: str | Path) -> list[Path]:
    """Write the sample township into ``dest`` (created if needed) and return the files.

    The sample is copied from the repository's ``layers/`` when present, otherwise made
    by the deterministic generator (the same files). An existing township is never
    overwritten: ``dest`` must not already hold a township.toml.
    """
    dest = Path(dest)
    if (dest / CONFIG_NAME).exists():
        raise UsageError(f"{dest} already holds a {CONFIG_NAME}",
                         hint="choose a new folder; nothing was changed",
                         message_zh=f"{dest} 中已有 {CONFIG_NAME}", hint_zh="请选择一个新文件夹；未做任何改动")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file", hint="give init the name of a new folder")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {dest}: {exc.strerror}", hint="choose a folder you can write to") from None
    if (REPO_SAMPLE / CONFIG_NAME).exists():
        written = []
        for src in sorted(REPO_SAMPLE.iterdir()):
            if src.is_file():
                target = dest / src.name
                if target.exists():
                    raise UsageError(f"{target} already exists", hint="choose an empty folder; nothing was overwritten")
                shutil.copy2(src, target)
                written.append(target)
        return written
    from geo_township.sample import generate

    before = set(dest.iterdir())
    generate(dest)
    return sorted(set(dest.iterdir()) - before)
