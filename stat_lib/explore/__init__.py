"""The explorer: a liaison's small public API for notebooks (docs/liaisons.md).

>>> from stat_lib.explore import open_home
>>> home = open_home()                                   # the home at or above the cwd
>>> home.metric("on_time_rate", "sanitation", "2026-10", by="district")
>>> home.behind("overdue_open", "sanitation", "2026-10", service="Bulky Items")

Importing this package and loading data import neither folium, altair nor nbconvert; charts
and maps (:mod:`~stat_lib.explore.views`) and Excel (:mod:`~stat_lib.explore.export`) load
their libraries on first use.

- :mod:`~stat_lib.explore.home`: ``open_home``, ``Home`` (load, requests, metric, figures,
  headline, scorecard, standards, compare, behind, window, chart, map, to_excel);
- :mod:`~stat_lib.explore.slices`: ``Slice`` (district, service, channel) and grouping;
- :mod:`~stat_lib.explore.loaders`: rows of any dataset kind (``register_loader``);
- :mod:`~stat_lib.explore.tables`: ``readable`` (figures as the packet writes them).
"""

from .home import Home, find_home, open_home, weeks_of
from .loaders import LOADERS, register_loader
from .slices import GROUPS, MISSING, Slice
from .tables import readable

__all__ = ["Home", "find_home", "open_home", "weeks_of", "LOADERS", "register_loader",
           "GROUPS", "MISSING", "Slice", "readable"]
