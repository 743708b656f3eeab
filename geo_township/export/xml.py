"""The one XML helper the KML and GPX writers share."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def sub_element(parent: ET.Element, namespace: str, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child ``tag`` of ``parent`` in ``namespace`` with ``attrs`` and, when given, ``text``."""
    el = ET.SubElement(parent, f"{{{namespace}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el
