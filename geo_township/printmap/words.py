"""The printed map's own words, in English and Chinese. Layer names, legend entries and
the township's name come from the interactive map's model, so both maps say the same."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "title": ("{township}", "{township}地图"),
    "village_title": ("{village}, {township}", "{township}{village}地图"),
    "data_date": ("data as of {date}", "数据截至 {date}"),
    "printed": ("printed {date}", "制图日期 {date}"),
    "legend": ("Legend", "图例"),
    "north": ("N", "北"),
    "scale": ("Scale {scale}", "比例尺 {scale}"),
    "sources": ("Sources: {files}.", "数据来源：{files}。"),
    "hillshade": ("Relief: hillshade of {file} ({res}), light from the north-west.",
                  "地形晕渲：{file}（{res}），光源西北。"),
    "projection": (("Projection: {crs}, in metres; the scale and the scale bar are true in it "
                    "(scale factor {k} at the map's centre). The arrow points to true north "
                    "(grid convergence {gamma})."),
                   ("投影：{crs}（单位：米），比例尺与比例尺条在此投影下准确"
                    "（图幅中心长度比 {k}）；指北针指向真北（子午线收敛角 {gamma}）。")),
    "layers_note": (("Layers as the interactive map shows them at opening (geo-township map); "
                     "counts in the legend are of the whole township."),
                    "图层与交互地图（geo-township map）打开时显示的一致；图例中的数量为全乡合计。"),
    "atlas_note": ("Other villages greyed.", "其他村淡化显示。"),
    "made_with": ("Made with geo-township {version}.", "由 geo-township {version} 制作。"),
}
"""(en, zh) of every text the printed map adds, with ``{}`` fields filled in."""


def word(key: str, lang: str, **fields: object) -> str:
    """The text ``key`` in ``lang`` (``zh`` or English), with its fields filled in."""
    en, zh = WORDS[key]
    return (zh if lang == "zh" else en).format(**fields)


def joined(items: list[str], lang: str) -> str:
    """A list in running text: ``a, b, c`` / ``a、b、c``."""
    return ("、" if lang == "zh" else ", ").join(items)
