"""The benchmark scripts run end to end on a tiny synthetic county and find that every
command's numbers agree with its baselines (the scripts exit non-zero when they do not).
Sizes stay tiny: timing is the scripts' business, not the tests'."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("county")
    subprocess.run([sys.executable, str(BENCH / "county.py"), str(folder), "--trees", "2000", "--plots", "200",
                    "--villages", "12"], check=True, capture_output=True)
    return folder


def bench(script: str, *args: str, data: Path) -> str:
    done = subprocess.run([sys.executable, str(BENCH / script), *args, "--data", str(data), "--no-duckdb"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_trees_command_counts_agree_with_geopandas(county: Path, tmp_path: Path) -> None:
    out = bench("trees_command.py", "--township", str(county), "--commands", "plot", data=tmp_path)
    assert "per-plot counts: identical to the baseline" in out
    assert "plain geopandas" in out


def test_commands_help_and_area_agree_with_their_baselines(county: Path, tmp_path: Path) -> None:
    out = bench("commands.py", "--township", str(county), "--cases", "help", "area", "info", data=tmp_path)
    assert out.count("numbers agree") == 3
    assert "area_baseline" in out and "info_baseline" in out


def test_zonal_command_agrees_with_plain_exactextract(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH / "zonal_command.py"), "--size", "300", "--plots", "40",
                           "--data", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "numbers agree" in done.stdout and "exactextract" in done.stdout
