"""Writing the printed map: a PDF of one page (the township or a village) or of one page
per village (the atlas), or a PNG; and the PNG bytes of a page for a report's figure."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geo_township.layers import Township
from geo_township.printmap import paper as pp
from geo_township.printmap.fonts import FontChoice
from geo_township.printmap.plan import (
    RELIEF_PDF_DPI,
    Page,
    Sheet,
    build_county_sheet,
    build_sheet,
    check_request,
    check_village,
    plan_page,
    village_names,
)
from geo_township.webmap.model import MapModel

if TYPE_CHECKING:
    from geo_township.webmap.county_map import CountyMap


@dataclass
class PrintedMap:
    """A printed map written to ``path`` (None for bytes handed back): its format (``pdf``
    or ``png``), paper, resolution, language, page size in points, its pages, the layers
    drawn (keys of the interactive map's layers, in draw order), the font, the relief
    raster used, the CRS drawn in, the file's size and how long it took (s)."""

    path: Path | None
    format: str
    paper: str
    orientation: str
    dpi: int
    lang: str
    size_pt: tuple[float, float]
    pages: list[Page]
    layers: list[str]
    font: FontChoice
    relief: str | None
    crs: str
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def _plan(township: Township, path: str | Path | None, *, paper: str, orientation: str, dpi: int,
          village: str | None, atlas: bool, lang: str, model: MapModel | None, hillshade: bool | str
          ) -> tuple[str, Sheet, list[Page]]:
    """Check the request (before any work), then build the sheet and plan its pages."""
    fmt = check_request(path, paper=paper, orientation=orientation, dpi=dpi, village=village, atlas=atlas,
                        lang=lang)
    if village is not None:
        check_village(township, village)
    sheet = build_sheet(township, lang=lang, paper=paper, orientation=orientation, model=model,
                        hillshade=hillshade)
    targets: list[str | None] = list(village_names(township)) if atlas else [village]
    return fmt, sheet, [plan_page(sheet, v) for v in targets]


def _county_plan(cmap: CountyMap, path: str | Path | None, *, paper: str, orientation: str, dpi: int, lang: str
                 ) -> tuple[str, Sheet, list[Page]]:
    """A county's request checked, its sheet built, its one page planned."""
    fmt = check_request(path, paper=paper, orientation=orientation, dpi=dpi, village=None, atlas=False, lang=lang)
    sheet = build_county_sheet(cmap, lang=lang, paper=paper, orientation=orientation)
    return fmt, sheet, [plan_page(sheet, None)]


def _render(sheet: Sheet, pages: list[Page], fmt: str, dpi: int, target) -> None:
    """Draw the pages into ``target`` (a path or a binary file object)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from geo_township import __version__
    from geo_township.printmap.compose import page_figure, rc_params

    relief_ppi = min(dpi, RELIEF_PDF_DPI) if fmt == "pdf" else dpi
    with matplotlib.rc_context(rc_params(sheet.font)):
        if fmt == "png":
            fig = page_figure(sheet, pages[0], dpi=dpi, relief_ppi=relief_ppi)
            fig.savefig(target, format="png", dpi=dpi, metadata={"Software": f"geo-township {__version__}"})
            return
        meta = {"Title": sheet.title, "Creator": f"geo-township {__version__}", "Subject": sheet.subtitle}
        with PdfPages(target, metadata=meta) as pdf:
            for page in pages:
                pdf.savefig(page_figure(sheet, page, dpi=dpi, relief_ppi=relief_ppi))


def _result(sheet: Sheet, pages: list[Page], fmt: str, *, path: Path | None, paper: str, orientation: str,
            dpi: int, size: int, started: float) -> PrintedMap:
    crs = sheet.township.working_crs
    epsg = crs.to_epsg()
    return PrintedMap(path, fmt, paper, orientation, dpi, sheet.lang, pp.page_size_pt(paper, orientation), pages,
                      [p.key for p in sheet.layers], sheet.font, sheet.relief.name if sheet.relief else None,
                      f"EPSG:{epsg}" if epsg else crs.to_string(), size, time.perf_counter() - started,
                      list(sheet.model.warnings))


def _written(sheet: Sheet, pages: list[Page], fmt: str, target: Path, *, paper: str, orientation: str, dpi: int,
             started: float) -> PrintedMap:
    """The pages drawn into ``target``, atomically, and what was written."""
    from geo_township.io.write import atomic_path

    with atomic_path(target) as tmp:
        _render(sheet, pages, fmt, dpi, tmp)
    return _result(sheet, pages, fmt, path=target, paper=paper, orientation=orientation, dpi=dpi,
                   size=target.stat().st_size, started=started)


def _png(sheet: Sheet, pages: list[Page], fmt: str, *, paper: str, orientation: str, dpi: int, started: float
         ) -> tuple[bytes, PrintedMap]:
    """The page drawn as PNG bytes, and what it shows."""
    buffer = io.BytesIO()
    _render(sheet, pages, fmt, dpi, buffer)
    data = buffer.getvalue()
    return data, _result(sheet, pages, fmt, path=None, paper=paper, orientation=orientation, dpi=dpi,
                         size=len(data), started=started)


def print_map(township: Township, path: str | Path, *, paper: str = "A4", orientation: str = "landscape",
              dpi: int = 300, village: str | None = None, atlas: bool = False, lang: str = "en",
              model: MapModel | None = None, hillshade: bool | str = True) -> PrintedMap:
    """Write the printed map of ``township`` to ``path`` (``.pdf`` or ``.png``).

    One page of the whole township, or of ``village`` (zoomed to it, the other villages
    greyed), or with ``atlas=True`` one PDF page per village in the listing order. Each
    page has a title, the dates, the layers the interactive map shows at opening (pass its
    ``model`` to reuse one already built), village names, a legend, a north arrow, a scale
    bar true in the working CRS, the notes on sources and method and, with ``hillshade``
    (True: the township's DEM when it has one; or a raster's name), the relief. ``dpi`` is
    the PNG's resolution and the PDF relief's (up to 200). The request is checked before
    any work; a map whose Chinese text no installed font can draw is refused.
    """
    started = time.perf_counter()
    fmt, sheet, pages = _plan(township, path, paper=paper, orientation=orientation, dpi=dpi, village=village,
                              atlas=atlas, lang=lang, model=model, hillshade=hillshade)
    return _written(sheet, pages, fmt, Path(path), paper=paper, orientation=orientation, dpi=dpi, started=started)


def print_county_map(cmap: CountyMap, path: str | Path, *, paper: str = "A4", orientation: str = "landscape",
                     dpi: int = 300, lang: str = "en") -> PrintedMap:
    """Write the printed map of a county (:func:`~geo_township.webmap.county_map.prepare_county_map`)
    to ``path`` (``.pdf`` or ``.png``): one page with every township's layers as the county's
    interactive page shows them at opening, township names at their borders, one legend,
    north arrow, scale bar and notes as :func:`print_map` draws them, in the first
    township's working CRS; no relief (:func:`~geo_township.printmap.plan.build_county_sheet`)."""
    started = time.perf_counter()
    fmt, sheet, pages = _county_plan(cmap, path, paper=paper, orientation=orientation, dpi=dpi, lang=lang)
    return _written(sheet, pages, fmt, Path(path), paper=paper, orientation=orientation, dpi=dpi, started=started)


def county_map_png(cmap: CountyMap, *, paper: str = "A4", orientation: str = "landscape", dpi: int = 200,
                   lang: str = "en") -> tuple[bytes, PrintedMap]:
    """The county's printed page (:func:`print_county_map`) as PNG bytes, for a report's figure."""
    started = time.perf_counter()
    fmt, sheet, pages = _county_plan(cmap, None, paper=paper, orientation=orientation, dpi=dpi, lang=lang)
    return _png(sheet, pages, fmt, paper=paper, orientation=orientation, dpi=dpi, started=started)


def map_png(township: Township, *, paper: str = "A4", orientation: str = "landscape", dpi: int = 200,
            village: str | None = None, lang: str = "en", model: MapModel | None = None,
            hillshade: bool | str = True) -> tuple[bytes, PrintedMap]:
    """The printed map's page (the township, or ``village``) as PNG bytes, for a report's
    figure, and what it shows (options as :func:`print_map`)."""
    started = time.perf_counter()
    fmt, sheet, pages = _plan(township, None, paper=paper, orientation=orientation, dpi=dpi, village=village,
                              atlas=False, lang=lang, model=model, hillshade=hillshade)
    return _png(sheet, pages, fmt, paper=paper, orientation=orientation, dpi=dpi, started=started)
