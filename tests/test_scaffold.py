"""`geo-township init --sample DIR`: the sample township copied into a new folder, never
over an existing township."""

from __future__ import annotations

import pytest

from geo_township.cli import main
from geo_township.errors import UsageError
from geo_township.scaffold import init_township


def test_the_sample_is_copied_and_loads(tmp_path, sample_dir):
    from geo_township.layers import load_township

    files = init_township(tmp_path / "try")
    names = {f.name for f in files}
    assert "township.toml" in names and {p.name for p in sample_dir.iterdir() if p.is_file()} == names
    assert len(load_township(tmp_path / "try").layer("villages").gdf) == 10


def test_an_existing_township_is_refused(tmp_path):
    (tmp_path / "township.toml").write_text("# mine\n", encoding="utf-8")
    with pytest.raises(UsageError, match="already holds"):
        init_township(tmp_path)
    assert (tmp_path / "township.toml").read_text(encoding="utf-8") == "# mine\n"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file"):
        init_township(tmp_path / "file")


def test_init_sample_through_the_command_line_in_both_languages(runner, tmp_path):
    result = runner.invoke(main, ["init", "--sample", str(tmp_path / "a")])
    assert result.exit_code == 0 and "Wrote" in result.stdout and "township.toml" in result.stdout
    zh = runner.invoke(main, ["init", "--sample", str(tmp_path / "b"), "--lang", "zh"])
    assert zh.exit_code == 0 and "已写入" in zh.stdout
    again = runner.invoke(main, ["init", "--sample", str(tmp_path / "b"), "--lang", "zh"])
    assert again.exit_code == 2 and "已有 township.toml" in again.stderr
