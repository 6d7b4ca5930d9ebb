"""The sample city's 311 contact center: two years of 30-minute intervals, deterministic.

Two queues (English, Spanish) from 2024-11-16 to 2026-11-15, the days the sample 311 requests
end on; open 07:00-19:00 on weekdays and 08:00-17:00 at weekends. About 4,000 calls a weekday
(1.2 million a year, Philly311's volume), a summer peak, a weekday-morning peak (09:00-11:00).
Agents are scheduled for an occupancy of 85% of the expected load; from late 2025 a staffing
shortfall (a third of the agents short at the worst, around March 2026) drives service level
down and abandonment up (roughly a third abandoned and an average wait of minutes at the worst,
as the 2014 audit of LA 311 found), then hiring brings it back by the summer of 2026.
Service level is counted against 30 seconds; the short-abandon cutoff is 5 seconds until
2026-06-30 and 10 seconds from 2026-07-01 (params/city.yaml ``contact_center:`` says so). A
few rows are bad on purpose (a duplicate interval, more answered and abandoned than offered, a
negative count, an unreadable time) to show the rejects.

``python -m stat_lib.ingest.sample_telephony`` rewrites ``data/sample/telephony.csv``; the
same arguments always give a byte-identical file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = PROJECT_ROOT / "data" / "sample" / "telephony.csv"
START, END, SEED = "2024-11-16", "2026-11-15", 311
QUEUES = {"311 English": 0.82, "311 Spanish": 0.18}
CALLS_PER_WEEKDAY, WEEKEND_SHARE, AHT = 4000, 0.35, 320.0
# relative calls per hour of day (weekdays; weekends are flatter)
WEEKDAY_HOURS = {7: 0.6, 8: 1.2, 9: 1.55, 10: 1.5, 11: 1.3, 12: 1.1, 13: 1.1, 14: 1.0,
                 15: 0.9, 16: 0.8, 17: 0.5, 18: 0.35}
WEEKEND_HOURS = {8: 0.8, 9: 1.0, 10: 1.1, 11: 1.1, 12: 1.0, 13: 1.0, 14: 0.9, 15: 0.8,
                 16: 0.6}
SHORTFALL = ("2025-10-15", "2026-03-01", "2026-08-01", 0.36)  # start, worst, end, depth
CUTOFF_CHANGE = "2026-07-01"  # short abandons: under 5 s before, under 10 s from
COLUMNS = ["queue", "interval_start", "interval_minutes", "offered", "answered", "abandoned",
           "short_abandoned", "answered_within", "speed_of_answer_seconds", "handle_seconds",
           "agent_hours"]


def _slots(start: str, end: str) -> pd.DataFrame:
    """Every open 30-minute interval: ``day, start`` (local wall time), ``weight``."""
    rows = []
    for day in pd.date_range(start, end, freq="D"):
        hours = WEEKDAY_HOURS if day.day_of_week < 5 else WEEKEND_HOURS
        total = sum(hours.values()) * 2
        per_day = CALLS_PER_WEEKDAY * (1 if day.day_of_week < 5 else WEEKEND_SHARE)
        for hour, w in hours.items():
            for minute in (0, 30):
                rows.append((day, day + pd.Timedelta(hours=hour, minutes=minute),
                             per_day * w / total))
    return pd.DataFrame(rows, columns=["day", "start", "expected"])


def _season(days: pd.Series) -> np.ndarray:
    """Summer peak (+12% in late July), 3% growth a year."""
    doy = days.dt.day_of_year.to_numpy()
    years = (days - pd.Timestamp(START)).dt.days.to_numpy() / 365.25
    return (1 + 0.12 * np.cos(2 * np.pi * (doy - 205) / 365.25)) * 1.03 ** years


def _staffing(days: pd.Series) -> np.ndarray:
    """1 normally; a raised-cosine dip to ``1 - depth`` at the worst of the shortfall."""
    start, worst, end, depth = SHORTFALL
    t = days.to_numpy(dtype="datetime64[D]").astype(float)
    s, w, e = (np.datetime64(x, "D").astype(float) for x in (start, worst, end))
    phase = np.where(t <= w, (t - s) / (w - s), (e - t) / (e - w))
    bump = np.where((t > s) & (t < e), 0.5 - 0.5 * np.cos(np.pi * np.clip(phase, 0, 1)), 0)
    return 1 - depth * bump


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def generate(start: str = START, end: str = END, seed: int = SEED) -> pd.DataFrame:
    """The intervals of both queues (bad rows included), in file order."""
    rng = np.random.default_rng(seed)
    slots = _slots(start, end)
    frames = []
    for queue, share in QUEUES.items():
        expected = slots["expected"].to_numpy() * share * _season(slots["day"])
        offered = rng.poisson(expected)
        agents = np.maximum(expected * AHT / (1800 * 0.85) * _staffing(slots["day"])
                            * rng.lognormal(0, 0.08, len(slots)), 0.5)
        load = offered * AHT / (agents * 1800)
        frames.append(_calls(rng, slots, queue, offered, agents, load))
    df = pd.concat(frames).sort_values(["interval_start", "queue"], kind="stable")
    return _with_bad_rows(df.reset_index(drop=True))


def _calls(rng, slots, queue, offered, agents, load) -> pd.DataFrame:
    """Counts of one queue from its load (offered x handle time / agent time)."""
    p_abandon = 0.02 + 0.50 * _sigmoid((load - 1.25) / 0.09)
    level = 0.985 - 0.90 * _sigmoid((load - 1.12) / 0.05)  # of counted offered
    wait = 8 + 290 * _sigmoid((load - 1.2) / 0.09)            # seconds, mean
    abandoned = rng.binomial(offered, p_abandon)
    other = rng.binomial(offered - abandoned, 0.004)  # still queued at the interval's end
    answered = offered - abandoned - other
    new_cutoff = slots["day"].to_numpy() >= np.datetime64(CUTOFF_CHANGE)
    short = rng.binomial(abandoned, np.where(new_cutoff, 0.38, 0.28))
    counted = offered - short
    q = np.clip(level * counted / np.maximum(answered, 1), 0, 1)
    within = rng.binomial(answered, q)
    speed = np.round(answered * wait * rng.lognormal(0, 0.15, len(offered)))
    handle = np.round(answered * AHT * rng.lognormal(0, 0.06, len(offered)))
    return pd.DataFrame({
        "queue": queue, "interval_start": slots["start"].dt.strftime("%Y-%m-%d %H:%M"),
        "interval_minutes": 30, "offered": offered, "answered": answered,
        "abandoned": abandoned, "short_abandoned": short, "answered_within": within,
        "speed_of_answer_seconds": speed.astype(int), "handle_seconds": handle.astype(int),
        "agent_hours": np.round(agents * 0.5, 2)})


def _with_bad_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Five rows with errors real exports have (rejected at ingest): an earlier export of an
    interval that appears again (the later row wins), more answered and abandoned than
    offered, a negative count, an unreadable interval start, answered within > answered."""
    bad = df.iloc[[1000, 5000, 9000, 15000, 20000]].copy()
    bad.iloc[1, bad.columns.get_loc("answered")] = bad.iloc[1]["offered"] + 5
    bad.iloc[2, bad.columns.get_loc("abandoned")] = -3
    bad.iloc[3, bad.columns.get_loc("interval_start")] = "2026-02-30 09:00"
    bad.iloc[4, bad.columns.get_loc("answered_within")] = bad.iloc[4]["answered"] + 1
    earlier = bad.iloc[[0]].assign(offered=lambda d: d["offered"] + 4)
    head, tail = df.iloc[:1000], df.iloc[1000:]
    return pd.concat([head, earlier, tail, bad.iloc[1:]], ignore_index=True)[COLUMNS]


def write(out: Path = DEFAULT_OUT, **kw) -> Path:
    """Write the intervals as CSV (about 1.7 MB)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    generate(**kw).to_csv(out, index=False, lineterminator="\n")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m stat_lib.ingest.sample_telephony",
                                description="write the sample city's 311 contact-center "
                                            "intervals")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    print(write(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
