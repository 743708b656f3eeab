"""geo-township: the numbers and maps a township's forest and river chiefs sign.

The library is importable without the command line: load a township with
:func:`geo_township.layers.load_township`, then call an analysis such as
:func:`geo_township.measure.area_by`.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
