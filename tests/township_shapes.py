"""Hand-sized shapes shared by tests (importable by name; conftest modules are not)."""

from shapely.geometry import box

# Two villages side by side, each 0.01° × 0.01° (about 960 m × 1110 m at 30.5°N).
WEST = box(117.49, 30.49, 117.50, 30.50)
EAST = box(117.50, 30.49, 117.51, 30.50)
