"""A window cut to the rows its masks can select gives every metric value the full window gives
(stat_lib.metrics.windows.relevant, Window.cut): on the sample city's real rows, and on random
rows with every kind of end (none, before, at and after the creation; inside and outside the
period)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stat_lib.core.periods import Period
from stat_lib.metrics.registry import computed
from stat_lib.metrics.windows import NEVER, Window, relevant

TZ = "America/Los_Angeles"


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def _values(w: Window) -> dict:
    return {m.id: w.value(m.id) for m in computed("requests")}


@pytest.mark.slow
@pytest.mark.parametrize("period", ["2026-10", "2026-09", "2026-Q3", "2026-W40", "2025-12"])
def test_every_metric_of_the_sample_city_is_the_same_on_the_cut_rows(sample_city, period):
    from stat_lib.core.business_calendar import BusinessCalendar
    from stat_lib.metrics.prepare import prepare
    from stat_lib.store import load_requests
    params = sample_city
    calendar = BusinessCalendar.from_city(params.city)
    p = Period.parse(period, params.city.timezone)
    for slug in params.departments:
        prep = prepare(load_requests(params, [slug], end=p.end), params.departments[slug],
                       calendar)
        full, cut = prep.window(p), prep.values_window(p)
        assert len(cut.a["req"]) < len(full.a["req"]) or len(full.a["req"]) == 0
        want, got = _values(full), _values(cut)
        assert all(_same(want[k], got[k]) for k in want), (slug, period)


DAY = 86_400 * 10**9
START = Period.parse("2026-10", TZ).start.value


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-60, 60), st.one_of(st.none(), st.integers(-5, 60)),
                          st.sampled_from(["closed", "cancelled", "open"]),
                          st.one_of(st.none(), st.integers(0, 30)), st.booleans()),
                min_size=1, max_size=60))
# closed 3 days before it was created, 1 day into October: created in October, ended before it
@example([(1, -3, "closed", 5, False), (-20, 2, "closed", 5, False)])
def test_relevant_rows_hold_every_row_any_mask_selects(rows):
    """Every mask of October, of its prior and of a year before, over random rows: no row
    outside :func:`relevant` is in any of them, and the cut window's values are the same."""
    req = np.array([START + r[0] * DAY for r in rows], dtype=np.int64)
    end = np.array([NEVER if r[1] is None or r[2] == "open" else req[i] + r[1] * DAY
                    for i, r in enumerate(rows)], dtype=np.int64)
    due = np.array([NEVER if r[3] is None else req[i] + r[3] * DAY
                    for i, r in enumerate(rows)], dtype=np.int64)
    status = np.array([r[2] for r in rows])
    arrays = {"req": req, "end": end, "due": due, "has_end": end != NEVER,
              "has_due": due != NEVER, "closed": status == "closed",
              "cancelled": status == "cancelled", "days": (end - req) / DAY,
              "bdays": (end - req) / DAY, "pos": end > req, "neg": end < req,
              "dup": np.array([r[4] for r in rows]), "undated": np.zeros(len(rows), bool)}
    as_of = Period.parse("2026-11", TZ).start
    for period in ("2026-10", "2026-09", "2026-W41", "2026-Q4"):
        p = Period.parse(period, TZ)
        full = Window(arrays, p, TZ, as_of)
        keep = np.zeros(len(rows), bool)
        keep[relevant(req, end, full.s, full.e)] = True
        for mask in (full.created, full.ended, full.closed, full.open_start, full.open_end,
                     full.overdue_end, full.usable, full.eligible):
            assert not (mask & ~keep).any()
        want, got = _values(full), _values(Window.cut(arrays, p, TZ, as_of))
        assert all(_same(want[k], got[k]) for k in want), period


@pytest.mark.slow
def test_on_time_by_service_is_each_services_summary(sample_city):
    """Per service, the table's figures are the full window's over that service's rows."""
    from stat_lib.core.business_calendar import BusinessCalendar
    from stat_lib.metrics.prepare import prepare
    from stat_lib.metrics.requests import SERVICE_COLUMNS, on_time_by_service
    from stat_lib.store import load_requests
    params = sample_city
    calendar = BusinessCalendar.from_city(params.city)
    p = Period.parse("2026-10", params.city.timezone)
    for slug, dept in params.departments.items():
        prep = prepare(load_requests(params, [slug], end=p.end), dept, calendar)
        table = on_time_by_service(prep, dept, p, calendar)
        if table.empty:
            continue
        table = table.set_index("service_code")
        for code, row in table.iterrows():
            rows = (prep.frame["service_code"] == code).to_numpy()
            w = prep.window(p, {k: v[rows] for k, v in prep.arrays.items()})
            for col in SERVICE_COLUMNS:
                want, got = w.value(col), row[col]
                assert _same(want, got) or (want is None and got != got), (slug, code, col)
