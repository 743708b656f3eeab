"""The page's compact encoding: varints, coordinates, columns, PNG — checked by decoding
independently (numpy here, the page's own decoder in the browser tests)."""

from __future__ import annotations

import base64
import gzip
import json
import struct
import zlib

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo_township.webmap import encode


def _leb128(value: int) -> bytes:
    """Reference LEB128 encoder, one value at a time."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


@pytest.mark.parametrize("values", [[0], [1, 127, 128, 255, 300, 16383, 16384], [2**40 + 5, 0, 2**53 - 1]])
def test_varints_match_a_reference_leb128_encoder(values):
    assert encode.varints(np.array(values, dtype=np.uint64)) == b"".join(_leb128(v) for v in values)
    assert encode.read_varints(encode.varints(np.array(values, dtype=np.uint64))).tolist() == values


def test_zigzag_maps_small_magnitudes_to_small_numbers():
    assert encode.zigzag(np.array([0, -1, 1, -2, 2])).tolist() == [0, 1, 2, 3, 4]
    v = np.array([-(2**40), -3, 0, 7, 2**40])
    assert encode.unzigzag(encode.zigzag(v)).tolist() == v.tolist()


def test_coordinates_round_trip_to_a_millionth_of_a_degree():
    rng = np.random.default_rng(1)
    xy = np.column_stack([rng.uniform(117.0, 118.0, 1000), rng.uniform(30.0, 31.0, 1000)])
    back = encode.decode_coords(encode.encode_coords(xy))
    assert np.abs(back - xy).max() <= 0.5e-6 + 1e-12
    # nearby points cost few bytes: deltas of ~0.001° need 2 bytes per coordinate
    line = np.column_stack([117.5 + np.arange(100) * 0.001, np.full(100, 30.5)])
    assert len(encode.encode_coords(line)) < 100 * 2 * 2 + 10


def _split(buf: encode.Buffer, name: str) -> bytes:
    raw = b"".join(buf.parts)
    offset, length = buf.streams[name]
    return raw[offset:offset + length]


def test_polygon_structure_streams_describe_parts_rings_and_vertices():
    hole = Polygon(box(0, 0, 10, 10).exterior.coords, [box(2, 2, 4, 4).exterior.coords])
    multi = MultiPolygon([box(20, 0, 21, 1), box(22, 0, 23, 1)])
    geoms = np.array([hole, multi], dtype=object)
    buf = encode.Buffer()
    encode.encode_geometry(shapely.transform(geoms, lambda c: c / 100 + [117, 30]), "polygon", buf)
    assert encode.read_varints(_split(buf, "parts")).tolist() == [1, 2]
    assert encode.read_varints(_split(buf, "rings")).tolist() == [2, 1, 1]
    assert encode.read_varints(_split(buf, "verts")).tolist() == [4, 4, 4, 4]  # closing vertex dropped
    xy = encode.decode_coords(_split(buf, "xy"))
    assert xy.shape == (16, 2)
    assert xy[0].tolist() == pytest.approx([117.1, 30.0])


def test_line_and_point_streams():
    buf = encode.Buffer()
    encode.encode_geometry(np.array([LineString([(117, 30), (117.1, 30.1), (117.2, 30)])]), "line", buf)
    assert encode.read_varints(_split(buf, "verts")).tolist() == [3]
    pts = encode.Buffer()
    encode.encode_geometry(np.array([Point(117.5, 30.5), Point(117.6, 30.4)]), "point", pts)
    assert encode.decode_coords(_split(pts, "xy")).tolist() == [[117.5, 30.5], [117.6, 30.4]]


def test_columns_encode_missing_values_as_zero_and_values_plus_one():
    buf = encode.Buffer()
    dates = pd.Series(pd.to_datetime(["2022-10-03", None, "2023-01-15"]))
    head = encode.encode_column("found_date", dates, "date", buf)
    days = encode.read_varints(_split(buf, head["data"]))
    assert days[1] == 0
    base = head["base"]
    assert (np.datetime64("1970-01-01") + int(days[0] - 1 + base)) == np.datetime64("2022-10-03")
    assert (np.datetime64("1970-01-01") + int(days[2] - 1 + base)) == np.datetime64("2023-01-15")

    num = encode.encode_column("declared_mu", pd.Series([10.5, None, -2.25]), "num", buf, decimals=2)
    vals = encode.read_varints(_split(buf, num["data"]))
    assert vals[1] == 0
    assert encode.unzigzag(vals[[0, 2]] - 1).tolist() == [1050, -225]

    cat = encode.encode_column("status", pd.Series(["felled", None, "cleared", "felled"]), "cat", buf,
                               words={"felled": "已伐", "cleared": "已清理"})
    words = _split(buf, cat["dict"]).decode("utf-8").split("\x00")
    codes = encode.read_varints(_split(buf, cat["data"])).tolist()
    assert [words[c - 1] if c else None for c in codes] == ["已伐", None, "已清理", "已伐"]

    text = encode.encode_column("tree_id", pd.Series(["T1", None, "<b>x</b>"]), "text", buf)
    assert _split(buf, text["data"]).decode("utf-8").split("\x00") == ["T1", "", "<b>x</b>"]


def test_large_buffers_are_gzipped_and_small_ones_not():
    buf = encode.Buffer()
    buf.add("a", bytes(300_000))
    big = buf.payload(gzip_min=200_000)
    assert big["gzip"] and gzip.decompress(base64.b64decode(big["b64"])) == bytes(300_000)
    small = encode.Buffer()
    small.add("a", b"abc")
    assert small.payload()["gzip"] is False and base64.b64decode(small.payload()["b64"]) == b"abc"


def test_safe_json_cannot_close_a_script_element():
    hostile = {"v": "</script><script>alert(1)</script><!-- \u2028 & <img src=x onerror=alert(1)>"}
    text = encode.safe_json(hostile)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == hostile


def test_png_data_url_is_a_valid_png_of_the_pixels():
    img = np.zeros((2, 3, 4), dtype=np.uint8)
    img[0, 0] = (255, 0, 0, 255)
    img[1, 2] = (0, 0, 255, 128)
    png = base64.b64decode(encode.png_data_url(img).split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (3, 2)
    idat_len = struct.unpack(">I", png[33:37])[0]
    raw = zlib.decompress(png[41:41 + idat_len])
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(2, 1 + 3 * 4)
    assert (rows[:, 0] == 0).all()
    assert np.array_equal(rows[:, 1:].reshape(2, 3, 4), img)
