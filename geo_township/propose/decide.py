"""Which layer kind each scanned source is, and how its fields map to ours.

Each source is scored against every kind its geometry fits, from the kinds registry
(:data:`~geo_township.kinds.KINDS`, :func:`~geo_township.kinds.match_fields`): a field
matched by a name only one kind uses counts 1, a name several kinds share counts less
(村名 tells little, 小班编码 a lot); matching the kind's id field and a file or layer
named like the kind count extra. Kinds whose required fields are missing are out. Each
kind then takes its best source, best scores first; a source is only given a kind that
is (nearly) its own best. What could not be decided is said, so it can be checked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from geo_township.kinds import KINDS, Kind, match_fields
from geo_township.propose.scan import Source, Words
from geo_township.vocabulary import normalise_name

#: The least score for a source to be given a kind at all.
MIN_SCORE = 1.0
#: Scores this close count as a tie (both kinds are said, the choice is marked to check).
TIE = 0.5
ID_BONUS = 1.0
NAME_BONUS = 2.0

#: Words in file or layer names that suggest a kind, besides its own names (en/zh).
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "villages": ("村界", "行政村", "村级", "cun"),
    "forest_plots": ("小班", "森林资源", "二类调查", "林地"),
    "infected_trees": ("疫木", "松材线虫", "枯死", "疫情", "trees"),
    "rivers": ("河流", "河段", "水系", "河道"),
    "sand_sites": ("采砂点", "砂场", "采砂场"),
    "land_transfers": ("流转", "transfer"),
    "basic_farmland": ("基本农田", "永农", "farmland"),
    "patrols": ("巡河", "轨迹", "patrol", "track"),
    "outfalls": ("排污口", "outfall"),
    "sand_zones": ("采砂分区", "采砂规划", "可采区", "禁采区"),
}


@dataclass
class Candidate:
    """A kind a source could be, with its score and field mapping."""

    kind: str
    score: float
    fields: dict[str, str]  # canonical -> the source's column


@dataclass
class Decision:
    """A source given a kind, with what is left to check."""

    kind: str
    source: Source
    fields: dict[str, str]
    unmapped: list[str]  # the source's columns no field took (kept as they are)
    missing: list[str]  # our fields the source has no column for
    checks: list[Words] = field(default_factory=list)
    crs: str | None = None  # to write when the file names none and the loader cannot infer it


@dataclass
class Undecided:
    """A source no kind was given to: the kinds it could be and why it was left out."""

    source: Source
    candidates: list[Candidate]
    reason: Words
    taken: bool = False  # its best kind went to another source (said there too)


def _alias_weights() -> dict[str, float]:
    """1 / the number of kinds whose fields go by each folded name."""
    uses: Counter[str] = Counter()
    for k in KINDS.values():
        names = {normalise_name(a) for f in k.fields for a in f.aliases}
        uses.update(names)
    return {name: 1.0 / n for name, n in uses.items()}


_WEIGHTS = _alias_weights()


def _named_like(source: Source, kind_: Kind) -> bool:
    """Whether the file's or layer's name suggests the kind."""
    text = normalise_name(f"{source.path.stem} {source.layer or ''}")
    words = (kind_.name, kind_.name.rstrip("s"), kind_.zh, kind_.en, *NAME_HINTS.get(kind_.name, ()))
    return any(normalise_name(w) and normalise_name(w) in text for w in words)


def candidates(source: Source) -> list[Candidate]:
    """The kinds ``source`` could be, best first (ties in the registry's order)."""
    found = []
    columns = source.columns + [c for c in source.derived if c not in source.columns]
    for kind_ in KINDS.values():
        if source.family is not None and source.family not in kind_.geometry:
            continue
        mapping = match_fields(columns, kind_).mapping
        if any(f.required and f.name not in mapping for f in kind_.fields):
            continue
        score = sum(_WEIGHTS.get(normalise_name(col), 1.0) for col in mapping.values())
        if kind_.id_field and kind_.id_field in mapping:
            score += ID_BONUS
        if _named_like(source, kind_):
            score += NAME_BONUS
        if score > 0:
            found.append(Candidate(kind_.name, round(score, 3), mapping))
    return sorted(found, key=lambda c: -c.score)


def decide(sources: list[Source]) -> tuple[list[Decision], list[Undecided]]:
    """Give each kind at most one source; return the decisions (in the registry's order)
    and the sources left undecided (in file order)."""
    options = [candidates(s) for s in sources]
    acceptable = [(i, c) for i, cands in enumerate(options)
                  for c in cands if c.score >= MIN_SCORE and c.score >= cands[0].score - TIE]
    taken: dict[str, int] = {}
    given: dict[int, Candidate] = {}
    for i, cand in sorted(acceptable, key=lambda t: _preference(sources[t[0]], t[1], t[0])):
        if cand.kind not in taken and i not in given:
            taken[cand.kind] = i
            given[i] = cand
    decisions = [_decision(sources[i], given[i], options[i], sources, options, taken)
                 for i in sorted(given, key=lambda i: list(KINDS).index(given[i].kind))]
    undecided = [_undecided(s, options[i], sources, taken) for i, s in enumerate(sources) if i not in given]
    return decisions, undecided


def _preference(source: Source, cand: Candidate, index: int) -> tuple:
    """Sort key: higher scores first; among equals, files at the top of the folder, then
    the larger, then in name order; then kinds in the registry's order."""
    return (-cand.score, source.rel.count("/"), -(source.features or 0), index, list(KINDS).index(cand.kind))


def _decision(source: Source, chosen: Candidate, options: list[Candidate], sources: list[Source],
              all_options: list[list[Candidate]], taken: dict[str, int]) -> Decision:
    """The chosen kind with its unmapped columns, missing fields and what to check."""
    kind_ = KINDS[chosen.kind]
    used = set(chosen.fields.values())
    decision = Decision(chosen.kind, source, chosen.fields,
                        unmapped=[c for c in source.columns if c not in used],
                        missing=[f.name for f in kind_.fields if f.name not in chosen.fields])
    others = [c for c in options if c.kind != chosen.kind and c.score >= chosen.score - TIE]
    if others:
        names = ", ".join(c.kind for c in others)
        decision.checks.append(Words(f"{source.label} could also be {names}; chosen: {chosen.kind}",
                                     f"{source.label} 也可能是 {names}；已选 {chosen.kind}"))
    rivals = [sources[i].label for i, opts in enumerate(all_options)
              if i not in taken.values() and opts and opts[0].kind == chosen.kind]
    if rivals:
        decision.checks.append(Words(
            f"{', '.join(rivals)} could also be {chosen.kind}; chosen: {source.label} (a kind has one file; merge "
            "them, or change path)",
            f"{'、'.join(rivals)} 也可能是 {chosen.kind}；已选 {source.label}"
            "（每类图层只有一个文件：请合并，或修改 path）"))
    return decision


def _undecided(source: Source, options: list[Candidate], sources: list[Source], taken: dict[str, int]) -> Undecided:
    """Why a source was given no kind."""
    if not options or options[0].score < MIN_SCORE:
        fits = [k.name for k in KINDS.values() if source.family is None or source.family in k.geometry]
        return Undecided(source, options, Words(
            f"could not tell which kind {source.label} is (its fields match too few of ours); "
            f"kinds that fit its geometry: {', '.join(fits)}",
            f"无法判断 {source.label} 属于哪类图层（字段与本工具的字段对应太少）；几何类型相符的图层类型："
            f"{', '.join(fits)}"))
    best = options[0]
    holder = sources[taken[best.kind]].label if best.kind in taken else "?"
    return Undecided(source, options, Words(
        f"{source.label} looks like {best.kind}, which is {holder} (a kind has one file)",
        f"{source.label} 看起来是 {best.kind}，但该类图层已对应 {holder}（每类图层只有一个文件）"),
        taken=best.kind in taken)
