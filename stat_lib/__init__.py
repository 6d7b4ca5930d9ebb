"""stat_lib: data-driven Stat meetings from 311 data.

Kept import-light on purpose: every notebook kernel imports it, so heavy modules
(geopandas, altair, folium) are imported by the modules that need them, not here.
"""

__version__ = "0.1.0"
