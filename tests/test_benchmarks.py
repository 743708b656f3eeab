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


def _ledger_and_baseline(tmp_path: Path, ours: dict[str, int], theirs: dict[str, int]) -> tuple[Path, Path]:
    """A ledger and a baseline table where every tree is found only (疑似), per plot."""
    ledger = tmp_path / "plot.csv"
    rows = [f"{p},v,{n},0,0,0,0" for p, n in ours.items()] + [f",Total,{sum(ours.values())},0,0,0,0"]
    ledger.write_text("plot_id,village,found,confirmed,felled,cleared,verified\n" + "\n".join(rows) + "\n",
                      encoding="utf-8-sig")
    baseline = tmp_path / "baseline.csv"
    baseline.write_text("plot,疑似\n" + "\n".join(f"{p},{n}" for p, n in theirs.items()) + "\n", encoding="utf-8")
    return ledger, baseline


def test_count_check_passes_a_tree_on_a_shared_edge_and_nothing_more(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    from trees_command import check_counts

    same = _ledger_and_baseline(tmp_path, {"P1": 5, "P2": 3}, {"P1": 5, "P2": 3})
    assert check_counts(*same) == ("", "")
    # one tree of a million sits on the other side of the edge P1|P2 in the baseline: a note, no problem
    problem, note = check_counts(*_ledger_and_baseline(tmp_path, {"P1": 600_000, "P2": 400_000},
                                                       {"P1": 599_999, "P2": 400_001}))
    assert problem == "" and note.startswith("1 of 1,000,000 trees in a neighbouring plot") and "P1, P2" in note
    # two trees moved in a million: more than an edge explains
    problem, _ = check_counts(*_ledger_and_baseline(tmp_path, {"P1": 600_000, "P2": 400_000},
                                                    {"P1": 599_998, "P2": 400_002}))
    assert problem.startswith("2 plots differ (2 trees moved")
    # a tree's status told differently in two plots (totals equal, no tree moved by its find): still a problem
    ledger, baseline = _ledger_and_baseline(tmp_path, {"P1": 5, "P2": 3}, {"P1": 5, "P2": 3})
    baseline.write_text("plot,疑似,已确认\nP1,4,1\nP2,4,-1\n", encoding="utf-8")
    problem, _ = check_counts(ledger, baseline)
    assert problem.startswith("2 plots differ")
    # a tree lost: the totals differ
    problem, _ = check_counts(*_ledger_and_baseline(tmp_path, {"P1": 5, "P2": 3}, {"P1": 5, "P2": 2}))
    assert "totals differ" in problem
