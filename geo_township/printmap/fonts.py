"""A font for Chinese text, found on the machine — never downloaded.

Village names are Chinese in the data whatever the page's language, so a printed map
nearly always needs a CJK font. We look, in order, for the fonts that Windows (Microsoft
YaHei, SimHei), macOS (PingFang, Hiragino, STHeiti) and Linux (Noto Sans CJK / Source Han
Sans, WenQuanYi) ship or install, first among the fonts matplotlib knows and then among
well-known font files (a font installed after matplotlib built its font cache is still
found). With none, :func:`require_cjk_font` stops with a message saying how to install
one — a map with boxes (tofu) in place of names is never drawn. Before drawing, every
character of every text is checked against the chosen fonts (:func:`missing_glyphs`).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from geo_township.errors import UsageError

CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Microsoft YaHei", "Microsoft YaHei UI", "SimHei", "DengXian",
    "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Sarasa Gothic SC",
    "Noto Sans CJK TC", "Noto Sans CJK JP", "Source Han Sans TW", "Droid Sans Fallback",
    "Arial Unicode MS", "SimSun", "NSimSun", "AR PL UMing CN", "AR PL UKai CN",
)
"""Font families that draw Chinese, best first (sans-serif Simplified Chinese first)."""

FONT_FILES: tuple[str, ...] = (
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]", "/usr/share/fonts/**/NotoSansSC*.[ot]tf",
    "/usr/share/fonts/**/SourceHanSans*.tt[cf]", "/usr/share/fonts/**/wqy-*.tt[cf]",
    "/usr/share/fonts/**/*CJK*.[ot]t[cf]", "/usr/local/share/fonts/**/*.[ot]t[cf]",
    "~/.local/share/fonts/**/*.[ot]t[cf]", "~/.fonts/**/*.[ot]t[cf]",
    "/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti*.ttc", "/Library/Fonts/*.tt[cf]",
    "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf", "C:/Windows/Fonts/simsun.ttc",
)
"""Where CJK font files usually are, for fonts matplotlib's cache does not list yet."""

PROBE = "乡村林河"
"""Characters a font must have to count as a Chinese font."""

LATIN_FALLBACK = "DejaVu Sans"
"""matplotlib's own font, behind the CJK one for the few symbols it lacks."""


def install_hint() -> str:
    """How to get a Chinese font on this kind of machine."""
    if sys.platform.startswith("win"):
        return ("Windows ships Microsoft YaHei (msyh.ttc) and SimHei (simhei.ttf): restore them in "
                "Settings > Personalization > Fonts, or install Noto Sans CJK SC from your IT department's "
                "software centre; then run the command again")
    if sys.platform == "darwin":
        return ("macOS ships PingFang SC: reinstall it with Font Book, or install Noto Sans CJK SC "
                "(brew install --cask font-noto-sans-cjk-sc); then run the command again")
    return ("install a Chinese font, e.g. on Debian/Ubuntu: sudo apt install fonts-noto-cjk "
            "(or fonts-wqy-microhei); Fedora: sudo dnf install google-noto-sans-cjk-fonts; "
            "then run the command again")


@dataclass(frozen=True)
class FontChoice:
    """The fonts a page is drawn with: ``family`` (the CJK one, or the Latin fallback when
    no text needs one), its ``path`` and face ``index`` in a collection (.ttc)."""

    family: str
    path: Path
    index: int = 0

    @property
    def families(self) -> list[str]:
        """matplotlib's ``font.family``: this font, then the Latin fallback."""
        return [self.family] if self.family == LATIN_FALLBACK else [self.family, LATIN_FALLBACK]


def is_cjk(char: str) -> bool:
    """Whether a character is a CJK ideograph, kana, hangul or CJK punctuation."""
    name = unicodedata.name(char, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "FULLWIDTH"))


def needs_cjk(texts: Iterable[str]) -> bool:
    """Whether any of ``texts`` holds a CJK character."""
    return any(is_cjk(ch) for text in texts for ch in str(text))


@functools.lru_cache(maxsize=32)
def _cmap(path: str, index: int) -> frozenset[int]:
    """The code points a font file (face ``index`` of a collection) has glyphs for."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        font = TTFont(path, fontNumber=index, lazy=True)
        cmap = font.getBestCmap() or {}
        font.close()
    except (OSError, TTLibError, ValueError, KeyError, AssertionError):  # unreadable: not a candidate
        return frozenset()
    return frozenset(cmap)


def _entries():
    from matplotlib import font_manager

    return font_manager.fontManager.ttflist


def _pick(families: Iterable[str]) -> FontChoice | None:
    """The first of ``families`` that matplotlib knows, in its regular weight, with the
    :data:`PROBE` characters."""
    entries = _entries()
    for family in families:
        faces = [e for e in entries if e.name == family and e.style == "normal"]
        faces.sort(key=lambda e: abs(int(e.weight) - 400) if str(e.weight).isdigit() else 500)
        for face in faces:
            index = int(getattr(face, "index", 0) or 0)
            if all(ord(ch) in _cmap(face.fname, index) for ch in PROBE):
                return FontChoice(face.name, Path(face.fname), index)
    return None


def _register_font_files() -> list[str]:
    """Add well-known CJK font files to matplotlib's font list; the families they bring."""
    from matplotlib import font_manager

    known = {e.fname for e in _entries()}
    families: list[str] = []
    for pattern in FONT_FILES:
        for name in sorted(glob.glob(os.path.expanduser(pattern), recursive=True)):
            if name in known:
                continue
            known.add(name)
            with contextlib.suppress(OSError, RuntimeError, ValueError):  # not a font matplotlib reads
                font_manager.fontManager.addfont(name)
            families += [e.name for e in _entries() if e.fname == name]
    return list(dict.fromkeys(families))


def find_cjk_font(families: Iterable[str] | None = None) -> FontChoice | None:
    """A font on this machine that draws Chinese (see :data:`CJK_FAMILIES`), or None."""
    order = tuple(CJK_FAMILIES if families is None else families)
    found = _pick(order)
    if found is not None:
        return found
    extra = _register_font_files()
    return _pick(order) or _pick(extra)


def latin_font() -> FontChoice:
    """matplotlib's own DejaVu Sans (for pages without any Chinese text)."""
    from matplotlib import font_manager

    return FontChoice(LATIN_FALLBACK, Path(font_manager.findfont(LATIN_FALLBACK)))


def choose_font(texts: Iterable[str]) -> FontChoice:
    """The font for a page whose texts are ``texts``: a CJK font when any needs one (else
    a clear error saying how to install one), the Latin fallback otherwise; refused when
    some character is in neither font."""
    texts = [str(t) for t in texts]
    if needs_cjk(texts):
        font = find_cjk_font()
        if font is None:
            raise UsageError("no font that can draw Chinese was found on this computer, so the map's Chinese "
                             "text (village names, Chinese labels) would print as empty boxes",
                             hint=install_hint())
    else:
        font = find_cjk_font() or latin_font()
    missing = missing_glyphs(texts, font)
    if missing:
        shown = " ".join(f"{ch} (U+{ord(ch):04X})" for ch in sorted(missing)[:12])
        raise UsageError(f"the font {font.family} ({font.path.name}) has no glyph for {shown}, which would print "
                         "as empty boxes", hint="install a fuller Chinese font (Noto Sans CJK SC: " + install_hint()
                         + "), or correct these characters in the data")
    return font


def missing_glyphs(texts: Iterable[str], font: FontChoice) -> set[str]:
    """Characters of ``texts`` (other than spaces, controls and format marks) that neither
    ``font`` nor the Latin fallback can draw."""
    covered = set(_cmap(str(font.path), font.index)) | set(_cmap(str(latin_font().path), 0))
    chars = {ch for text in texts for ch in str(text)}
    return {ch for ch in chars if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf")
            and ord(ch) not in covered}
