"""Driving Debian's Chromium with Playwright for the map's browser tests and screenshot:
headless, no network (tile requests get a plain tile, anything else is refused and
recorded), a fresh profile, and every console message, page error and dialog recorded."""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("GEO_TOWNSHIP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TILE_HOSTS = ("tile.openstreetmap.org", "arcgisonline.com", "autonavi.com", "tianditu.gov.cn")

PAINTED = """sel => [...document.querySelectorAll(sel)].some(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
    return false; })"""
"""A page script: whether any canvas matching the selector it is given has a drawn (non-transparent) pixel."""


def plain_tile(rgb: tuple[int, int, int] = (236, 234, 228)) -> bytes:
    """A 256 × 256 PNG of one colour (what every tile request gets)."""
    row = b"\x00" + bytes(rgb) * 256
    raw = zlib.compress(row * 256, 9)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def chromium_available() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return 'Playwright for Python is not installed (pip install ".[test]")'
    return None


@dataclass
class Session:
    """A browser page with what it logged."""

    page: object
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    tiles: int = 0

    def problems(self) -> list[str]:
        """Console errors, page errors, dialogs and refused (non-tile) requests."""
        return ([f"console {t}: {m}" for t, m in self.console if t == "error"]
                + [f"page error: {e}" for e in self.errors]
                + [f"dialog: {d}" for d in self.dialogs] + [f"request: {r}" for r in self.refused])


class Browser:
    """One Chromium with a fresh profile; :meth:`open` gives a page with the network blocked."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._profile = tempfile.mkdtemp(prefix="gt-chromium-")
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        self.context = self._pw.chromium.launch_persistent_context(
            self._profile, executable_path=executable, args=ARGS, headless=True,
            viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        self._tile = plain_tile()

    def open(self, html: Path, *, viewport: tuple[int, int] | None = None, timeout_ms: int = 60_000) -> Session:
        page = self.context.new_page()
        if viewport:
            page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        session = Session(page)
        page.on("console", lambda m: session.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: session.errors.append(str(e)))

        def on_dialog(dialog) -> None:
            session.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        def route(r) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:")):
                r.continue_()
            elif any(host in url for host in TILE_HOSTS):
                session.tiles += 1
                r.fulfill(status=200, content_type="image/png", body=self._tile)
            else:
                session.refused.append(url)
                r.abort()

        page.route("**/*", route)
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("body[data-map-ready='1']", timeout=timeout_ms, state="attached")
        return session

    def close(self) -> None:
        self.context.close()
        self._pw.stop()
        shutil.rmtree(self._profile, ignore_errors=True)
