"""Per-kind merge rules, as data: which field identifies a feature, which status has an
order (and which order), what a duplicate looks like for kinds without an id.

A status moves only forward along its ranks (a lower rank is refused unless the import
allows regress); statuses of equal rank (a sand site ``licensed`` or ``illegal``) may
replace each other. A kind without an id field (patrol tracks) is append-only: a feature
already present — same key fields, or the same geometry — is skipped and reported. A
contract whose end date moves later is *renewed* (its other changes go with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geo_township.errors import UsageError
from geo_township.kinds import KINDS, Kind


@dataclass(frozen=True)
class MergeRule:
    """How an import merges a survey into a layer of ``kind``."""

    kind: str
    id_field: str | None  # features are matched by this field; None: append-only
    status_rank: dict[str, int] = field(default_factory=dict)  # status code -> rank (forward only)
    same_keys: tuple[str, ...] = ()  # append-only kinds: a feature with these values is already present
    geometry_updates: bool = True  # a known feature's geometry may be replaced by the survey's
    renew_field: str | None = None  # a later date here makes an update a renewal (contracts)

    @property
    def history_id(self) -> str:
        """The history's column for a feature's key: the id field, or ``track`` for an
        append-only kind (its key fields, e.g. chief and start time)."""
        return self.id_field or "track"

    @property
    def spec(self) -> Kind:
        """The layer kind's fields and labels."""
        return KINDS[self.kind]


RULES: dict[str, MergeRule] = {
    r.kind: r
    for r in (
        MergeRule("forest_plots", "plot_id"),
        MergeRule("land_transfers", "parcel_id", renew_field="end_date"),
        MergeRule("sand_sites", "site_id",
                  status_rank={"licensed": 0, "illegal": 0, "closed": 1, "restored": 2}),
        MergeRule("outfalls", "outfall_id"),
        MergeRule("patrols", None, same_keys=("chief", "start"), geometry_updates=False),
    )
}
"""The kinds ``import --layer`` merges into besides ``infected_trees`` (which has its own
rules in :mod:`geo_township.treeimport`)."""


def rule(kind: str) -> MergeRule:
    """The merge rule of a kind; an unknown kind lists the ones that take imports."""
    try:
        return RULES[kind]
    except KeyError:
        raise UsageError(f"import cannot merge into layer {kind!r}", message_zh=f"import 不能导入到图层 {kind!r}",
                         hint_zh="--layer 请用：infected_trees、" + "、".join(RULES),
                         hint="use --layer with one of: infected_trees, " + ", ".join(RULES)) from None
