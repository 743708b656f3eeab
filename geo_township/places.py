"""What a ``--township`` value names: one township, or a county of several.

A county is a TOML file with a ``[county]`` table and no ``[township]`` one (usually
``county.toml``), or a folder that holds ``county.toml`` and no ``township.toml``; see
:mod:`geo_township.county`. This module only tells them apart (so that loading a
township can refuse a county with a clear message); the county itself is read there.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from geo_township.config import CONFIG_NAME
from geo_township.errors import ConfigError

COUNTY_NAME = "county.toml"
"""The file naming a county's townships."""


def county_file(path: str | Path | None = None, *, cwd: Path | None = None) -> Path | None:
    """The county file that ``path`` (or, without one, the working folder) names, or None
    when it names a township.

    A county is a TOML file with a ``[county]`` table and no ``[township]`` one (usually
    ``county.toml``), or a folder that holds ``county.toml`` and no ``township.toml``.
    Without ``path``, the working folder's township wins over ``./county.toml``, wherever
    a township is looked for: ``./township.toml``, then ``./layers/township.toml``.
    """
    folder = Path(path) if path is not None else (cwd or Path.cwd())
    if folder.is_dir():
        if (folder / CONFIG_NAME).exists() or not (folder / COUNTY_NAME).is_file():
            return None
        if path is None and (folder / "layers" / CONFIG_NAME).exists():
            return None
        return folder / COUNTY_NAME
    if path is None or folder.suffix.lower() != ".toml" or not folder.is_file() or folder.name == CONFIG_NAME:
        return None
    try:
        raw = tomllib.loads(folder.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return folder if folder.name == COUNTY_NAME else None  # the county loader says what is wrong
    return folder if "county" in raw and "township" not in raw else None


def refuse_county(path: str | Path | None = None, *, cwd: Path | None = None) -> None:
    """Raise a clear error when ``path`` (or the working folder) is a county: for what runs
    on one township only (the commands that do not join townships)."""
    county = county_file(path, cwd=cwd)
    if county is not None:
        raise ConfigError("this is a county file, and this command runs on one township at a time",
                          path=county, hint="run it for each township: --township FOLDER, one of the folders the "
                          "county file lists under townships",
                          message_zh="这是县级文件（county.toml），而此命令一次只能处理一个乡镇",
                          hint_zh="请对每个乡镇分别运行：--township 乡镇文件夹"
                          "（county.toml 中 townships 所列的文件夹之一）")
