"""The paragraph for the work report's environment chapter, in Chinese in the report's own
style and in English, built from the indicators; a sentence whose layer is missing is left
out.

Numbers are written as officials write them: counts exactly with thousands separators;
areas to the whole mu, with 约 ("about") when that rounds the measured value, and the
oil-tea base as "N余亩" ("over N mu": the whole mu below the area); lengths to 0.1 km.
"""

from __future__ import annotations

import math

from geo_township.report.indicators import Missing, Value


def count(n: float | int) -> str:
    """A count with thousands separators: 13,208."""
    return f"{int(n):,}"


def about_mu(mu: float, lang: str) -> str:
    """An area to the whole mu, "约" / "about" when that rounds it."""
    whole = round(mu)
    text = f"{whole:,}"
    if abs(mu - whole) < 0.005:
        return text
    return f"约{text}" if lang == "zh" else f"about {text}"


def over_mu(mu: float, lang: str) -> str:
    """An area as "N余亩" / "over N mu" (the whole mu below it), or exactly when whole."""
    whole = math.floor(mu + 1e-9)
    if abs(mu - whole) < 0.005:
        return f"{whole:,}亩" if lang == "zh" else f"{whole:,} mu"
    return f"{whole:,}余亩" if lang == "zh" else f"over {whole:,} mu"


def _get(values: dict[str, dict[int, Value]], key: str, year: int, part: str = "value") -> float | int | None:
    v = values[key][year]
    if isinstance(v, Missing):
        return None
    return v.get(part)


def paragraph(values: dict[str, dict[int, Value]], year: int, lang: str = "zh", *, county: bool = False) -> str:
    """The paragraph for ``year`` in ``lang`` (zh or en); ``county``: of a county's summed
    numbers (in English "the county", and its photovoltaic projects)."""
    def g(key: str, part: str = "value") -> float | int | None:
        return _get(values, key, year, part)

    zh = lang == "zh"
    out: list[str] = []
    forest_t, planted = g("new_forest_transfer_mu"), g("new_afforestation_mu")
    parts = []
    if forest_t is not None:
        parts.append(f"新增林地流转{about_mu(forest_t, lang)}亩" if zh else
                     f"{about_mu(forest_t, lang)} mu of forest land newly transferred")
    if planted is not None:
        parts.append(f"新增人工造林{about_mu(planted, lang)}亩" if zh else
                     f"{about_mu(planted, lang)} mu of new plantations")
    place = "county" if county else "township"
    if parts:
        out.append(f"推深做实林长制，大力开展增绿增效行动，{year}年" + "，".join(parts) + "。" if zh else
                   f"Carrying the forest-chief system further, the {place} had in {year} " + " and ".join(parts) + ".")
    cleared, total = g("cleared_trees"), g("cleared_trees_cumulative")
    if cleared is not None and total is not None:
        rate = g("clearance_rate")
        rate_zh = f"，除治率{rate:g}%" if rate is not None else ""
        rate_en = f" (clearance rate {rate:g}%)" if rate is not None else ""
        out.append(f"全面防治松材线虫病，保障森林资源安全，{year}年清理疫木{count(cleared)}株{rate_zh}，"
                   f"累计清理疫木{count(total)}株。" if zh else
                   f"Fighting pine wilt disease, it cleared {count(cleared)} infected trees in {year}{rate_en}, "
                   f"{count(total)} in all.")
    plants, sites = g("sand_closed", "plants_cumulative"), g("sand_closed", "mining_sites_cumulative")
    closed = g("sand_closed", "cumulative")
    if plants is not None and sites is not None and closed is not None:
        other = int(closed) - int(plants) - int(sites)  # closed sites whose kind the layer does not say
        other_zh = f"，另关停未注明类型的场点{count(other)}处" if other > 0 else ""
        en = [f"{count(plants)} illegal manufactured-sand plants", f"{count(sites)} illegal sand-mining sites"]
        en += [f"{count(other)} closed sites of unrecorded kind"] if other > 0 else []
        out.append(f"全面规范整治辖区内采砂场点，累计关停非法机制砂企业{count(plants)}家，关停非法采砂点{count(sites)}处"
                   f"{other_zh}。" if zh else "Closed so far: " + ", ".join(en[:-1]) + " and " + en[-1] + ".")
    pv = g("pv_transfer_mu")
    if pv is not None and pv > 0:
        out.append(f"光伏电站项目已完成土地流转{about_mu(pv, lang)}亩。" if zh else
                   (f"Photovoltaic projects have {about_mu(pv, lang)} mu of land transferred." if county else
                    f"The photovoltaic project has {about_mu(pv, lang)} mu of land transferred."))
    farm = g("farmland_transfer_mu", "in_force")
    if farm is not None:
        out.append(f"目前已实现{about_mu(farm, lang)}亩农田流转。" if zh else
                   f"Farmland under transfer contracts: {about_mu(farm, lang)} mu.")
    oil = g("oil_tea_mu")
    if oil is not None and oil > 0:
        out.append(f"油茶种植基地{over_mu(oil, lang)}。" if zh else f"Oil-tea plantations cover {over_mu(oil, lang)}.")
    km, pct = g("river_km"), g("patrol_coverage_pct")
    if km is not None:
        cover_zh = f"，全年巡河覆盖率{pct:g}%" if pct is not None else ""
        cover_en = f"; patrols covered {pct:g}% of it in {year}" if pct is not None else ""
        out.append(f"纵深推进河长制，各级河长负责河道{km:,.1f}公里{cover_zh}。" if zh else
                   f"River chiefs are in charge of {km:,.1f} km of rivers{cover_en}.")
    return "".join(out) if zh else " ".join(out)
