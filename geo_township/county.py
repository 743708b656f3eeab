"""A county: several township folders named by one ``county.toml``, analysed together.

```toml
[county]
name = "青山县"
townships = ["qingxi", "towns/*"]   # folders (or globs of folders) relative to this file
claim_min_mu = 0.1                  # optional: overlaps below this are digitising slivers
```

:func:`load_county` reads and checks the file (every problem reported together, in
English and Chinese). :func:`run_county` runs one analysis — the same function a command
runs on one township, ``(township, **parameters) → Result`` — on every township and joins
the Results with :func:`join_results`: every table gains a leading ``township`` column,
each township keeps its own rows (per village, plot, …) and its own Total row, and tables
that have a Total row gain a county Total row, summed from the townships' totals with
rates recomputed from the summed counts (:data:`RATES`), never averaged. Findings keep the
township they came from. A township that cannot be read or analysed is named in an error
finding (:data:`COUNTY_CHECKS` ``township_failed``) and the others go on.

:func:`county_claims` finds land two townships both claim: villages whose polygons
overlap, and forest plots (the same plot id or not) whose polygons overlap, beyond
``claim_min_mu``; ``check`` on a county reports them.
"""

from __future__ import annotations

import glob
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.config import CONFIG_NAME, PARAMETERS, TownshipConfig, load_config, read_toml
from geo_township.errors import ConfigError, NotFoundError, TownshipError
from geo_township.labels import PARTIAL_TOTAL_LABEL, TOTAL_LABEL
from geo_township.layers import Township, load_township
from geo_township.measure import area_m2
from geo_township.overlaps import intersection_pairs
from geo_township.places import COUNTY_NAME, county_file
from geo_township.results import Check, Finding, Result, declare
from geo_township.units import M2_PER_MU

log = logging.getLogger(__name__)

TOTAL = TOTAL_LABEL["en"]
PARTIAL_TOTAL = PARTIAL_TOTAL_LABEL["en"]
"""The county Total's name when a township was left out, so no written table passes a
partial sum off as the county's."""
CLAIMS_LISTED = 50
"""Claims of one kind listed one by one; beyond, one finding counts the rest."""

COUNTY_CHECKS = declare(
    Check("township_failed", "error", "Township not analysed", "乡镇未能分析",
          "township {township} ({folder}) was left out: {error}",
          "乡镇 {township}（{folder}）未计入：{error}"),
    Check("village_claimed_twice", "error", "Village claimed by two townships", "村界被两个乡镇重复划入",
          "village {village_a} of {township_a} and village {village_b} of {township_b} overlap by {mu:,.2f} mu: "
          "both townships claim this land; agree the boundary and correct one of the villages layers",
          "{township_a}的{village_a}与{township_b}的{village_b}重叠 {mu:,.2f} 亩：两个乡镇都把这块地划入了本乡镇；"
          "请核定边界，改正其中一个乡镇的村界图层"),
    Check("plot_claimed_twice", "error", "Forest plot claimed by two townships", "小班被两个乡镇重复登记",
          "plot {plot_a} of {township_a} and plot {plot_b} of {township_b} overlap by {mu:,.2f} mu: the same "
          "forest is counted in both townships; keep it in the township it belongs to",
          "{township_a}的小班 {plot_a} 与{township_b}的小班 {plot_b} 重叠 {mu:,.2f} 亩：同一片林地在两个乡镇都被统计；"
          "请只保留在所属乡镇"),
)
"""The checks a county adds: a township left out, land claimed by two townships."""

RATES: dict[str, tuple[str, str]] = {
    "clearance_pct": ("due_cleared", "due"),
    "farmland_share_pct": ("transferred_farmland_mu", "basic_farmland_mu"),
    "coverage_pct": ("patrolled_km", "length_km"),
}
"""Rate columns (percent) of the analyses' tables and the counts they are made of:
``rate = 100 × numerator / denominator``. A county total recomputes them from the summed
counts; any other ``_pct`` column of a total row is left empty (a mean of percentages is
not a county's percentage)."""

DISTINCT_COUNTS = frozenset({"chiefs"})
"""Columns that count distinct people or things of a township's table, not amounts: a
county-level river chief serves reaches in several townships and is one chief, so the
county Total leaves these empty rather than add the townships' counts."""

_EARLIEST, _LATEST = "first_", "last_"  # date columns whose county total is the earliest / latest

LOWEST = re.compile(r"^min$|^min_|_min$")
HIGHEST = re.compile(r"^max$|^max_|_max$")
"""Statistics whose county total is the lowest / highest of the townships' (zonal's min and
max, the candidates' largest drop)."""
MEANS: dict[str, tuple[str, str]] = {"mean": ("sum", "pixels")}
"""Means recomputed from summed columns: zonal's coverage-weighted mean is its sum over its
pixels (coverage-weighted), so the county's is the summed sum over the summed pixels."""
NOT_ADDED = re.compile(r"^(mean|std|median|p\d+)$|_(mean|std|median)$")
"""Statistics a county total cannot make from the townships' totals (a standard deviation, a
median, a percentile, a mean without its parts): left empty."""


@dataclass(frozen=True)
class CountyMember:
    """One township of a county: its name (from its township.toml) and configuration."""

    name: str
    config: TownshipConfig

    def township(self) -> Township:
        """A fresh Township (its layers read on first use)."""
        return Township(self.config)


@dataclass(frozen=True)
class CountyFailure:
    """A township the county names that could not be read: its folder and the error."""

    name: str
    folder: Path
    error: TownshipError

    def as_finding(self) -> Finding:
        """The error finding that names it in the county's Result."""
        return replace(COUNTY_CHECKS.township_failed.finding(
            "township", self.name, township=self.name, folder=str(self.folder), error=self.error.text("en")),
            message_zh=COUNTY_CHECKS.township_failed.message_zh.format(
                township=self.name, folder=str(self.folder), error=self.error.text("zh")),
            township=self.name)


@dataclass(frozen=True)
class County:
    """A validated county.toml: its name, its townships (in the file's order) and the
    townships that could not be read."""

    path: Path
    name: str
    members: list[CountyMember]
    failures: list[CountyFailure] = field(default_factory=list)
    claim_min_mu: float = float(PARAMETERS["overlap_min_mu"].default)


def is_county(place: str | Path | None) -> bool:
    """Whether ``place`` (a --township value, or None for the working folder) is a county."""
    return county_file(place) is not None


def load_county(path: str | Path) -> County:
    """Read and check a county.toml (or a folder holding one).

    Every problem of the file is reported together in one :class:`ConfigError`: a folder
    that does not exist, a glob that matches no township folder, a folder without
    township.toml, two townships of the same name, unknown keys. A township whose own
    township.toml is wrong is not the county file's fault: it is listed in
    :attr:`County.failures` and the others go on.
    """
    cfg_path = Path(path)
    if cfg_path.is_dir():
        cfg_path = cfg_path / COUNTY_NAME
    cfg_path = cfg_path.resolve()
    raw = _read(cfg_path)
    problems: list[tuple[str, str]] = []

    def problem(en: str, zh: str) -> None:
        problems.append((en, zh))

    for key in raw:
        if key != "county":
            problem(f"[{key}] is not a table of a county file; only [county]",
                    f"county.toml 只能有 [county] 表，不能有 [{key}]")
    county = raw.get("county", {})
    if not isinstance(county, dict):
        county = {}
    for key in county:
        if key not in ("name", "townships", "claim_min_mu"):
            problem(f"[county] unknown key {key!r}; the keys are name, townships, claim_min_mu",
                    f"[county] 中有未知的键 {key!r}；可用的键：name、townships、claim_min_mu")
    name = county.get("name")
    if not name:
        problem('[county] has no name; add name = "青山县"', '[county] 中没有县名；请加 name = "青山县"')
    entries = county.get("townships")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, str) for e in entries):
        problem('[county] townships is missing or not a list of folders; write townships = ["qingxi", "towns/*"]',
                '[county] 中缺少 townships，或不是文件夹列表；请写 townships = ["qingxi", "towns/*"]')
        entries = []
    claim_min_mu = county.get("claim_min_mu", PARAMETERS["overlap_min_mu"].default)
    if isinstance(claim_min_mu, bool) or not isinstance(claim_min_mu, (int, float)) or claim_min_mu < 0:
        problem(f"[county] claim_min_mu = {claim_min_mu!r} is not a number of mu ≥ 0; write e.g. claim_min_mu = 0.1",
                f"[county] claim_min_mu = {claim_min_mu!r} 不是大于等于 0 的亩数；请写如 claim_min_mu = 0.1")
        claim_min_mu = PARAMETERS["overlap_min_mu"].default
    folders = _folders(cfg_path.parent, entries, problem)
    members: list[CountyMember] = []
    failures: list[CountyFailure] = []
    for folder in folders:
        try:
            members.append(CountyMember("", load_config(folder)))
        except TownshipError as exc:
            failures.append(CountyFailure(folder.name, folder, exc))
    members = [replace(m, name=m.config.name) for m in members]
    seen: dict[str, Path] = {}
    for member in members:
        other = seen.setdefault(member.name, member.config.root)
        if other != member.config.root:
            problem(f"townships {other} and {member.config.root} are both named {member.name!r}; give each its own "
                    "name under [township] in its township.toml (tables tell townships apart by name)",
                    f"乡镇 {other} 和 {member.config.root} 都叫 {member.name!r}；请在各自 township.toml 的 [township] "
                    "中改用不同的名称（表格按名称区分乡镇）")
    if problems:
        n = len(problems)
        raise ConfigError(
            f"{n} problem{'s' if n > 1 else ''} in the county file:\n  - " + "\n  - ".join(en for en, _ in problems),
            path=cfg_path, message_zh=f"县级文件中有 {n} 处问题：\n  - " + "\n  - ".join(zh for _, zh in problems))
    return County(cfg_path, str(name), members, failures, float(claim_min_mu))


def _read(cfg_path: Path) -> dict[str, Any]:
    """The county file's TOML, or a clear error (the township file's rules, the county's words)."""
    if not cfg_path.exists():
        raise ConfigError("county file not found", path=cfg_path,
                          hint="give --township the county.toml (or its folder), or a township folder",
                          message_zh="找不到县级文件",
                          hint_zh="请用 --township 指定 county.toml（或其所在文件夹），或一个乡镇文件夹")
    return read_toml(cfg_path, what="county file", what_zh="县级文件", reference="the example in docs/county.md",
                     reference_zh=" docs/zh/county.md 中的示例")


def _folders(root: Path, entries: Iterable[str], problem: Callable[[str, str], None]) -> list[Path]:
    """The township folders the entries name, each once, in the file's order; a problem
    for an entry that names none."""
    out: list[Path] = []
    for entry in entries:
        if glob.has_magic(entry):
            matches = sorted(Path(p) for p in glob.glob(str(root / entry)))
            found = [m.parent if m.is_file() else m for m in matches
                     if (m.is_dir() and (m / CONFIG_NAME).is_file()) or m.name == CONFIG_NAME]
            if not found:
                what = (f"matches {len(matches)} folder(s), none with a {CONFIG_NAME}" if matches
                        else "matches nothing")
                what_zh = (f"匹配到 {len(matches)} 个文件夹，但都没有 {CONFIG_NAME}" if matches
                           else "没有匹配到任何文件夹")
                problem(f"townships entry {entry!r} {what} (paths are relative to {root}); correct the pattern or "
                        "remove the entry",
                        f"townships 中的 {entry!r} {what_zh}（路径相对于 {root}）；请改正通配符或删去这一项")
            out.extend(found)
            continue
        p = root / entry
        folder = p.parent if p.name == CONFIG_NAME else p
        if not folder.is_dir():
            problem(f"townships entry {entry!r}: folder {folder} does not exist (paths are relative to {root}); "
                    "correct the path or remove the entry",
                    f"townships 中的 {entry!r}：文件夹 {folder} 不存在（路径相对于 {root}）；请改正路径或删去这一项")
        elif not (folder / CONFIG_NAME).is_file():
            problem(f"townships entry {entry!r}: folder {folder} has no {CONFIG_NAME}, so it is not a township "
                    "folder; point at the folder that holds it, or run `geo-township init` there",
                    f"townships 中的 {entry!r}：文件夹 {folder} 中没有 {CONFIG_NAME}，不是乡镇文件夹；"
                    "请指向含有它的文件夹，或在该文件夹运行 `geo-township init`")
        else:
            out.append(folder)
    unique = list(dict.fromkeys(f.resolve() for f in out))
    return unique


def run_county(county: County, analysis: Callable[..., Result], /, *args: Any, claims: bool = False,
               **kwargs: Any) -> Result:
    """Run ``analysis(township, *args, **kwargs)`` on every township of ``county`` and join
    the Results (:func:`join_results`).

    A township that fails (:func:`each_township`) is named in an error finding and the
    others go on; one that does not hold what was asked for is passed over. ``claims=True``
    adds the land two townships both claim (:func:`county_claims`), as ``check`` does.
    """
    townships: list[tuple[str, Township]] = []

    def work(township: Township) -> Result:
        result = analysis(township, *args, **kwargs)
        if claims:  # kept for the claims (their layers are read already); otherwise let go
            townships.append((township.config.name, township))
        return result

    parts, failures = each_township(county, work)
    result = join_results(county.name, parts, failures)
    first = county.members[[m.name for m in county.members].index(parts[0][0])].config
    title, title_zh = result.title, result.title_zh
    for name in (first.display_name("en"), first.name):  # "Trees — 东岭乡" → "Trees — 青山县"
        title = title.replace(f"{county.name}: ", "", 1).replace(name, county.name) if name in title else title
        title_zh = title_zh.replace(f"{county.name}：", "", 1).replace(name, county.name) \
            if name in title_zh else title_zh
    result = replace(result, title=title, title_zh=title_zh)
    if claims:
        found, table = county_claims(townships, min_mu=county.claim_min_mu)
        result = replace(result, findings=[*result.findings, *found],
                         tables={**result.tables, "claims": table} if len(table) else result.tables)
    return result


_T = TypeVar("_T")


def each_township(county: County, work: Callable[[Township], _T], *,
                  passed_over: list[tuple[str, NotFoundError]] | None = None
                  ) -> tuple[list[tuple[str, _T]], list[CountyFailure]]:
    """``work(township)`` for every township of ``county`` that it succeeds on, by name,
    and the townships that failed (those the county could not read first).

    A township on which ``work`` raises a :class:`~geo_township.errors.TownshipError` (a
    broken layer, a missing file) is a failure and the others go on; when every township
    fails, the first error is raised. A township that does not hold what was asked for
    (:class:`~geo_township.errors.NotFoundError`: a tree id, a layer) is passed over; when
    none holds it, that is the error, said of the county. ``passed_over`` (when given)
    receives those townships, by name, with what they lack."""
    parts: list[tuple[str, _T]] = []
    failures = list(county.failures)
    missing: list[NotFoundError] = []
    for member in county.members:
        try:
            parts.append((member.name, work(member.township())))
        except NotFoundError as exc:
            missing.append(exc)
            if passed_over is not None:
                passed_over.append((member.name, exc))
        except TownshipError as exc:
            log.info("township %s left out: %s", member.name, exc)
            failures.append(CountyFailure(member.name, member.config.root, exc))
    if not parts and missing and not failures:
        first = missing[0]
        raise NotFoundError(f"{first.message}, nor in any other township of {county.name}", path=county.path,
                            hint=first.hint, hint_zh=first.hint_zh,
                            message_zh=f"{first.message_zh or first.message}，全县（{county.name}）其他乡镇也没有")
    if not parts:
        raise failures[0].error if failures else ConfigError("the county names no township", path=county.path)
    return parts, failures


def county_features(county: County, make: Callable[..., gpd.GeoDataFrame], /, *args: Any, **kwargs: Any
                    ) -> tuple[gpd.GeoDataFrame, list[CountyFailure], list[tuple[str, NotFoundError]]]:
    """``make(township, *args, **kwargs)`` (features: a layer's selection, those behind a
    number) of every township of ``county`` in one frame with a leading ``township``
    column, in the first township's CRS; the townships that failed, and those passed over
    for not holding what was asked for, with what they lack (see :func:`each_township`)."""
    passed_over: list[tuple[str, NotFoundError]] = []
    parts, failures = each_township(county, lambda township: make(township, *args, **kwargs),
                                    passed_over=passed_over)
    return _joined_features(parts), failures, passed_over


def county_at(place: str | Path | None) -> County | None:
    """The county at ``place`` (its county.toml, or a folder holding one; None: the working
    folder), or None when ``place`` is a township."""
    found = county_file(place)
    return None if found is None else load_county(found)


def run(place: str | Path | None, analysis: Callable[..., Result], /, *args: Any, claims: bool = False,
        **kwargs: Any) -> Result:
    """``analysis`` on the township at ``place`` (a folder or its township.toml, None for the
    working folder), or on every township of the county when ``place`` is a county
    (:func:`run_county`): the one entry the commands use, so each accepts both."""
    found = county_file(place)
    if found is None:
        return analysis(load_township(place), *args, **kwargs)
    return run_county(load_county(found), analysis, *args, claims=claims, **kwargs)


def join_results(county: str, parts: list[tuple[str, Result]], failures: Iterable[CountyFailure] = ()) -> Result:
    """One Result from the Results of several townships (``(name, result)`` pairs).

    Each table gains a leading ``township`` column. A table whose townships' versions have
    a Total row (first column ``Total``) keeps each township's Total and gains a county
    Total row (``township`` = Total): numeric columns summed over the townships' Total
    rows, rates of :data:`RATES` recomputed from those sums, other ``_pct`` columns empty,
    ``first_…``/``last_…`` dates the earliest/latest. Findings carry their township;
    features gain a ``township`` column, in the first township's CRS; provenance is kept
    per township.
    """
    failures = list(failures)
    first = parts[0][1]
    names: list[str] = list(dict.fromkeys(n for _, r in parts for n in r.all_tables() if n != "findings"))
    tables: dict[str, pd.DataFrame] = {}
    for name in names:
        frames = [(t, _table(r, name)) for t, r in parts]
        tables[name] = _joined_table([(t, df) for t, df in frames if df is not None], partial=bool(failures))
    main = tables.pop(first.table_name, pd.DataFrame())
    findings = [failure.as_finding() for failure in failures]
    findings += [replace(f, township=f.township or t) for t, r in parts for f in r.findings]
    features: dict[str, gpd.GeoDataFrame] = {}
    for key in dict.fromkeys(k for _, r in parts for k in r.features):
        layers = [(t, r.features[key]) for t, r in parts if key in r.features]
        features[key] = _joined_features(layers)
    notes, notes_zh = _notes(parts, "en"), _notes(parts, "zh")
    merged = {k: v for _, r in parts for k, v in r.vocab.items()}
    return replace(
        first, title=f"{county}: {first.title}", title_zh=f"{county}：{first.title_in('zh')}", table=main,
        tables=tables, findings=findings, features=features, notes=notes, notes_zh=notes_zh, vocab=merged,
        decimals={k: v for _, r in parts for k, v in r.decimals.items()},
        labels=_shared_labels(parts),
        provenance={"county": county, "townships": {t: r.provenance for t, r in parts}})


def _shared_labels(parts: list[tuple[str, Result]]) -> dict[str, tuple[str, str]]:
    """The column headings every township gives alike. A heading that differs between them
    (one that names a township's own dates: "Due by 2023-03-31") would be wrong for the
    other townships' rows, so the column keeps its general heading; each township's own is
    in its notes."""
    keys = dict.fromkeys(k for _, r in parts for k in r.labels)
    return {k: parts[0][1].labels[k] for k in keys
            if all(r.labels.get(k) == parts[0][1].labels.get(k) for _, r in parts)}


def _notes(parts: list[tuple[str, Result]], lang: str) -> list[str]:
    """The townships' notes in ``lang``: a note every township gives once, the others
    each after its township's name."""
    each = [(t, r.notes_in(lang)) for t, r in parts]
    common = [n for n in each[0][1] if all(n in notes for _, notes in each[1:])]
    sep = "：" if lang == "zh" else ": "
    shared = _shared_labels(parts)
    headings = [f"{t}{sep}{r.labels[k][1 if lang == 'zh' else 0]}" for t, r in parts
                for k in r.labels if k not in shared]
    return common + [f"{t}{sep}{n}" for t, notes in each for n in notes if n not in common] + headings


def _table(result: Result, name: str) -> pd.DataFrame | None:
    return result.table if name == result.table_name else result.tables.get(name)


def _is_total(df: pd.DataFrame) -> pd.Series:
    if not len(df.columns):
        return pd.Series(False, index=df.index)
    return df.iloc[:, 0].astype("object").eq(TOTAL)


def is_county_total(township: pd.Series) -> pd.Series:
    """Which rows of a joined table are the county's Total (whole, or of the townships analysed)."""
    return township.isin([TOTAL, PARTIAL_TOTAL])


def _joined_table(frames: list[tuple[str, pd.DataFrame]], *, partial: bool = False) -> pd.DataFrame:
    """The townships' versions of one table, one after another under a township column,
    with a county Total row when they have Total rows."""
    pieces = []
    for township, df in frames:
        piece = df.copy()
        piece.insert(0, "township", township)
        pieces.append(piece)
    nonempty = [p for p in pieces if len(p)]
    joined = pd.concat(nonempty, ignore_index=True) if nonempty else pieces[0].iloc[0:0]
    totals = pd.concat([df[_is_total(df)] for _, df in frames if len(df)], ignore_index=True) if nonempty else None
    if totals is None or not len(totals):
        return joined
    row = county_total(totals)
    row["township"] = PARTIAL_TOTAL if partial else TOTAL
    return pd.concat([joined, pd.DataFrame([row], columns=joined.columns)], ignore_index=True)


def county_total(totals: pd.DataFrame) -> dict[str, Any]:
    """The county's Total row from the townships' Total rows of one table: counts and
    amounts summed, :data:`RATES` and :data:`MEANS` recomputed from the sums, minimums and
    maximums (:data:`LOWEST`, :data:`HIGHEST`) the lowest and highest, other percentages,
    the :data:`NOT_ADDED` statistics and the :data:`DISTINCT_COUNTS` empty,
    ``first_``/``last_`` dates the earliest/latest, text empty."""
    row: dict[str, Any] = {}
    for col in totals.columns[1:]:
        values = totals[col]
        if str(col).endswith("_pct"):
            continue
        if pd.api.types.is_bool_dtype(values) or col in DISTINCT_COUNTS:
            row[col] = None
        elif pd.api.types.is_numeric_dtype(values):
            name = str(col)
            row[col] = (values.min() if LOWEST.search(name) else values.max() if HIGHEST.search(name)
                        else np.nan if NOT_ADDED.search(name) else values.sum(min_count=1))
        elif pd.api.types.is_datetime64_any_dtype(values):
            row[col] = values.min() if str(col).startswith(_EARLIEST) else (
                values.max() if str(col).startswith(_LATEST) else pd.NaT)
        else:
            row[col] = None
    for col, (total, count) in MEANS.items():
        if col in row and pd.notna(row.get(total)) and row.get(count):
            row[col] = row[total] / row[count]
    for col in totals.columns:
        if str(col).endswith("_pct"):
            parts = RATES.get(str(col))
            if parts is not None and all(p in row for p in parts):
                num, den = row[parts[0]], row[parts[1]]
                row[col] = 100.0 * num / den if pd.notna(den) and den else np.nan
            else:
                row[col] = np.nan
    return row


def _joined_features(layers: list[tuple[str, gpd.GeoDataFrame]]) -> gpd.GeoDataFrame:
    """The townships' features of one key under a township column, in the first one's CRS."""
    crs = next((g.crs for _, g in layers if g.crs is not None), None)
    pieces = []
    for township, gdf in layers:
        piece = gdf.to_crs(crs) if crs is not None and gdf.crs is not None and gdf.crs != crs else gdf.copy()
        piece.insert(0, "township", township)
        pieces.append(piece)
    return gpd.GeoDataFrame(pd.concat(pieces, ignore_index=True), geometry=pieces[0].geometry.name, crs=crs)


CLAIM_COLUMNS = ["layer", "township_a", "feature_a", "township_b", "feature_b", "overlap_mu"]
"""The columns of the claims table (and of :func:`claimed_land`'s features)."""


def claimed_land(townships: list[tuple[str, Township]], *, min_mu: float) -> gpd.GeoDataFrame:
    """The land two townships both claim, one feature per claim: the overlap of a village
    (or forest plot) of one township with one of another, larger than ``min_mu`` mu
    (ellipsoidal area), for every pair of townships; columns :data:`CLAIM_COLUMNS`, in the
    first township's CRS. A township without the layer is skipped for it."""
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    crs = None
    for kind, field_name in (("villages", "village"), ("forest_plots", "plot_id")):
        loaded = []
        for name, township in townships:
            try:
                gdf = township.optional(kind)
            except TownshipError:  # check reports the layer itself
                continue
            if gdf is not None and len(gdf):
                loaded.append((name, gdf))
        if len(loaded) < 2:
            continue
        crs = crs or loaded[0][1].crs
        loaded = [(n, g.to_crs(crs) if g.crs != crs else g) for n, g in loaded]
        for i, (name_a, a) in enumerate(loaded):
            for name_b, b in loaded[i + 1:]:
                pairs = intersection_pairs(a.geometry.reset_index(drop=True), b.geometry.reset_index(drop=True))
                if not len(pairs):
                    continue
                mu = area_m2(pairs.geometry, method="ellipsoidal") / M2_PER_MU
                keep = mu > min_mu
                ids_a = _ids(a, field_name)[pairs["left"].to_numpy()[keep]]
                ids_b = _ids(b, field_name)[pairs["right"].to_numpy()[keep]]
                rows += [{"layer": kind, "township_a": name_a, "feature_a": fa, "township_b": name_b,
                          "feature_b": fb, "overlap_mu": float(m)}
                         for fa, fb, m in zip(ids_a, ids_b, mu[keep], strict=True)]
                geoms += list(pairs.geometry.to_numpy()[keep])
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=CLAIM_COLUMNS), geometry=gpd.GeoSeries(geoms, crs=crs),
                            crs=crs)


def county_claims(townships: list[tuple[str, Township]], *, min_mu: float) -> tuple[list[Finding], pd.DataFrame]:
    """Land two townships both claim (:func:`claimed_land`) as findings and a table.

    Returns the findings (``village_claimed_twice``, ``plot_claimed_twice``; the first
    :data:`CLAIMS_LISTED` of each kind, then one counting the rest) and the table
    :data:`CLAIM_COLUMNS` of every claim.
    """
    return claim_findings(claimed_land(townships, min_mu=min_mu))


def claim_findings(claimed: gpd.GeoDataFrame) -> tuple[list[Finding], pd.DataFrame]:
    """The findings and the table (:func:`county_claims`) of the claims :func:`claimed_land` found."""
    table = pd.DataFrame(claimed[CLAIM_COLUMNS]).reset_index(drop=True)
    findings: list[Finding] = []
    for kind, check, a_key, b_key in (("villages", COUNTY_CHECKS.village_claimed_twice, "village_a", "village_b"),
                                      ("forest_plots", COUNTY_CHECKS.plot_claimed_twice, "plot_a", "plot_b")):
        mine = table[table["layer"] == kind]
        for r in mine.head(CLAIMS_LISTED).itertuples(index=False):
            findings.append(replace(check.finding(kind, f"{r.feature_a} / {r.feature_b}", township_a=r.township_a,
                                                  township_b=r.township_b, mu=r.overlap_mu,
                                                  **{a_key: r.feature_a, b_key: r.feature_b}),
                                    township=f"{r.township_a} / {r.township_b}"))
        if len(mine) > CLAIMS_LISTED:
            findings.append(check.more(kind, len(mine) - CLAIMS_LISTED))
    return findings, table


def _ids(gdf: gpd.GeoDataFrame, field_name: str) -> np.ndarray:
    """Each feature's id for a message: its ``field_name`` value, else its row position."""
    if field_name in gdf.columns:
        values = gdf[field_name].astype("object").to_numpy()
        return np.array([str(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else f"#{i + 1}"
                         for i, v in enumerate(values)], dtype=object)
    return np.array([f"#{i + 1}" for i in range(len(gdf))], dtype=object)
