"""Compact encoding of map layers for the page: columns of varints, not one object per
feature.

Folium's per-feature objects cost about a millisecond to build and half a kilobyte of
HTML each; a GeoJSON layer of a million points is far over any page budget. Here a layer
is a few byte streams instead:

* coordinates as longitude/latitude in millionths of a degree (≈ 0.1 m), delta-encoded
  along the layer and written as zigzag varints (1–3 bytes per coordinate);
* geometry structure (parts per feature, rings per part, vertices per ring) as varints;
* attribute columns: ``cat`` (a dictionary of distinct texts + varint codes), ``text``
  (UTF-8, NUL-separated), ``date`` (days as varints), ``num`` (scaled integers).

The streams of a layer are concatenated into one buffer, gzip-compressed when large
(the browser inflates it with ``DecompressionStream``), and base64-encoded into the page.
A JSON header names each stream's offset and length. ``static/township-map.js`` decodes
it. Missing values are encoded as 0 in every varint stream (so values are stored + 1).
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

COORD_SCALE = 1_000_000
"""Coordinates are stored in millionths of a degree (0.11 m of latitude)."""
GZIP_MIN_BYTES = 2_000_000
"""Buffers larger than this are gzip-compressed (smaller pages for big layers). Inflating
needs ``DecompressionStream`` (Chrome/Edge 80+, Firefox 113+, Safari 16.4+), so a
township-sized page, whose layers stay below this, opens in older browsers too."""
DAY0 = np.datetime64("1970-01-01", "D")


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed integers to unsigned so small magnitudes stay small (0, -1, 1, -2 → 0, 1, 2, 3)."""
    v = np.asarray(values, dtype=np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def varints(values: np.ndarray) -> bytes:
    """Unsigned integers as LEB128 varints (7 bits per byte, high bit = more), vectorised."""
    v = np.asarray(values, dtype=np.uint64)
    if v.size == 0:
        return b""
    nbytes = np.ones(v.shape, dtype=np.int64)
    rest = v >> np.uint64(7)
    while rest.any():
        more = rest > 0
        nbytes += more
        rest = rest >> np.uint64(7)
    starts = np.cumsum(nbytes) - nbytes
    out = np.zeros(int(nbytes.sum()), dtype=np.uint8)
    for k in range(int(nbytes.max())):
        sel = nbytes > k
        byte = (v[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)
        cont = (nbytes[sel] - 1 > k).astype(np.uint64) << np.uint64(7)
        out[starts[sel] + k] = (byte | cont).astype(np.uint8)
    return out.tobytes()


def read_varints(data: bytes) -> np.ndarray:
    """Inverse of :func:`varints` (used by the tests and the benchmark's checks)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint64)
    ends = np.flatnonzero(arr < 0x80)
    starts = np.concatenate([[0], ends[:-1] + 1])
    out = np.zeros(len(ends), dtype=np.uint64)
    length = ends - starts + 1
    for k in range(int(length.max())):
        sel = length > k
        out[sel] |= (arr[starts[sel] + k].astype(np.uint64) & np.uint64(0x7F)) << np.uint64(7 * k)
    return out


def unzigzag(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.uint64)
    return (v >> np.uint64(1)).astype(np.int64) ^ -(v & np.uint64(1)).astype(np.int64)


def _text_stream(values: list[str]) -> bytes:
    joined = "\x00".join(values)
    if joined.count("\x00") != max(len(values) - 1, 0):  # a value holds a NUL: drop it from that value
        joined = "\x00".join(v.replace("\x00", "") for v in values)
    return joined.encode("utf-8")


def safe_json(obj: Any) -> str:
    """JSON that can sit inside a ``<script>`` element: ``<``, ``>``, ``&`` and the JS
    line separators are written as ``\\u003c``-style escapes, so no value can close the script
    or open a comment."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


@dataclass
class Buffer:
    """Byte streams of one layer, concatenated, with a header of (name → offset, length)."""

    parts: list[bytes] = field(default_factory=list)
    streams: dict[str, tuple[int, int]] = field(default_factory=dict)
    size: int = 0

    def add(self, name: str, data: bytes) -> str:
        self.streams[name] = (self.size, len(data))
        self.parts.append(data)
        self.size += len(data)
        return name

    def payload(self, *, gzip_min: int = GZIP_MIN_BYTES) -> dict[str, Any]:
        """``{"b64": ..., "gzip": bool, "streams": {...}, "bytes": raw size}``."""
        raw = b"".join(self.parts)
        packed = gzip.compress(raw, compresslevel=6, mtime=0) if len(raw) >= gzip_min else raw
        return {"b64": base64.b64encode(packed).decode("ascii"), "gzip": packed is not raw,
                "streams": {k: [o, n] for k, (o, n) in self.streams.items()}, "bytes": len(raw)}


# --------------------------------------------------------------------------- geometry


def quantise(coords: np.ndarray) -> np.ndarray:
    """lon/lat degrees → integers in millionths of a degree."""
    return np.round(np.asarray(coords, dtype="float64") * COORD_SCALE).astype(np.int64)


def encode_coords(coords: np.ndarray) -> bytes:
    """(n, 2) lon/lat → interleaved zigzag varint deltas of the quantised values."""
    q = quantise(coords).reshape(-1)
    if q.size == 0:
        return b""
    pairs = q.reshape(-1, 2)
    delta = np.empty_like(pairs)
    delta[0] = pairs[0]
    delta[1:] = pairs[1:] - pairs[:-1]
    return varints(zigzag(delta.reshape(-1)))


def decode_coords(data: bytes) -> np.ndarray:
    """Inverse of :func:`encode_coords`: (n, 2) degrees."""
    vals = unzigzag(read_varints(data)).reshape(-1, 2)
    return np.cumsum(vals, axis=0) / COORD_SCALE


def encode_geometry(geoms: np.ndarray, family: str, buf: Buffer) -> None:
    """Add the streams of ``geoms`` (shapely, lon/lat) to ``buf``.

    points: ``xy``; lines: ``parts`` (per feature), ``verts`` (per part), ``xy``;
    polygons: ``parts`` (per feature), ``rings`` (per part), ``verts`` (per ring, the
    closing vertex dropped), ``xy``.
    """
    if family == "point":
        buf.add("xy", encode_coords(shapely.get_coordinates(geoms)))
        return
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    buf.add("parts", varints(np.bincount(part_of, minlength=len(geoms))))
    if family == "line":
        coords, owner = shapely.get_coordinates(parts, return_index=True)
        buf.add("verts", varints(np.bincount(owner, minlength=len(parts))))
        buf.add("xy", encode_coords(coords))
        return
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    buf.add("rings", varints(np.bincount(ring_of, minlength=len(parts))))
    coords, owner = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(owner, minlength=len(rings))
    last = np.cumsum(counts) - 1  # the closing vertex of each ring repeats its first
    keep = np.ones(len(coords), dtype=bool)
    keep[last[counts > 0]] = False
    buf.add("verts", varints(np.maximum(counts - 1, 0)))
    buf.add("xy", encode_coords(coords[keep]))


# --------------------------------------------------------------------------- columns


def _is_missing(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy(dtype=bool)


def encode_column(name: str, series: pd.Series, kind: str, buf: Buffer, *, decimals: int = 2,
                  words: dict[Any, str] | None = None) -> dict[str, Any]:
    """Add one attribute column to ``buf``; returns its header entry.

    ``kind`` is ``date``, ``num``, ``cat`` or ``text``; ``words`` maps codes to the
    words to show (vocabulary labels in the page's language).
    """
    head: dict[str, Any] = {"name": name, "type": kind}
    missing = _is_missing(series)
    if kind == "date":
        days = pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[D]")
        ok = ~np.isnat(days)
        base = int((days[ok] - DAY0).astype(np.int64).min()) if ok.any() else 0
        vals = np.zeros(len(days), dtype=np.uint64)
        vals[ok] = ((days[ok] - DAY0).astype(np.int64) - base + 1).astype(np.uint64)
        head.update(base=base, data=buf.add(f"c:{name}", varints(vals)))
        return head
    if kind == "num":
        num = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
        ok = np.isfinite(num)
        scaled = np.zeros(len(num), dtype=np.int64)
        scaled[ok] = np.round(num[ok] * 10**decimals).astype(np.int64)
        vals = np.where(ok, zigzag(scaled) + np.uint64(1), np.uint64(0))
        head.update(decimals=decimals, data=buf.add(f"c:{name}", varints(vals)))
        return head
    text = series.astype(object).where(~missing, None)
    if kind == "cat":
        codes, uniques = pd.factorize(text, sort=False)
        shown = [_word(u, words) for u in uniques]
        head.update(dict=buf.add(f"d:{name}", _text_stream(shown)),
                    data=buf.add(f"c:{name}", varints((codes + 1).astype(np.uint64))))
        return head
    if words is None and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        values = series.to_numpy(dtype=object, na_value="").tolist()  # plain text: no per-value formatting
    else:
        values = ["" if v is None else _word(v, words) for v in text.tolist()]
    head.update(data=buf.add(f"t:{name}", _text_stream(values)))
    return head


def _word(value: Any, words: dict[Any, str] | None) -> str:
    if words and value in words:
        return words[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def column_kind(series: pd.Series) -> str:
    """How to store a column: dates, numbers, few distinct texts (cat) or many (text)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "num"
    n = len(series)
    distinct = series.nunique(dropna=True)
    return "cat" if distinct <= max(16, n // 4) else "text"


def png_data_url(image: np.ndarray) -> str:
    """An RGBA uint8 array (rows, cols, 4) as a ``data:image/png;base64,…`` URL."""
    import struct
    import zlib

    rgba = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = rgba.shape[:2]
    raw = np.concatenate([np.zeros((height, 1), dtype=np.uint8), rgba.reshape(height, width * 4)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
