"""Present: reports, charts, maps and packets (the only layer that imports folium, altair or
nbconvert).

- :mod:`~stat_lib.present.reports`: what each notebook kind displays;
- :mod:`~stat_lib.present.notebook_kinds`: the notebook kinds (registered) and overrides;
- :mod:`~stat_lib.present.charts` / :mod:`~stat_lib.present.maps`: altair and folium, offline;
- :mod:`~stat_lib.present.packets`: nbconvert export (offline HTML, PDF);
- :mod:`~stat_lib.present.index_pages`: the period and root index pages;
- :mod:`~stat_lib.present.assets` / :mod:`~stat_lib.present.chromium`: inlined JavaScript,
  headless Chromium;
- :mod:`~stat_lib.present.resources`: packaged notebooks and templates;
- :mod:`~stat_lib.present.summary`: a notebook's summary for the batch.

Kept import-light: importing ``stat_lib.present`` imports none of its modules.
"""
