"""Params: typed models of a home's params/ folder, loaded with every problem reported at once.

>>> from stat_lib.params import load_params
>>> params = load_params(".")          # doctest: +SKIP
"""

from .loading import default_home, load_params
from .models import (
                     Boundary,
                     Branding,
                     City,
                     ColumnMapping,
                     Coordinates,
                     Department,
                     Params,
                     Redress,
                     Result,
                     Results,
                     Service,
                     Sla,
                     Source,
                     SqlSource,
                     Standard,
                     Target,
)

__all__ = ["load_params", "default_home", "Boundary", "Branding", "City", "ColumnMapping",
           "Coordinates", "Department", "Params", "Redress", "Result", "Results", "Service",
           "Sla", "Source", "SqlSource", "Standard", "Target"]
