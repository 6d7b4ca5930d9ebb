"""The sample city's permits: a Department of Building and Safety, synthetic and deterministic.

Over the months of the sample 311 data (received 2024-09-01 to 2026-11-15, "as of" the end of
2026-11-15), about 11 applications a business day of three types, each with a standard in
``params/departments/building-and-safety.yaml``. The story for a Stat meeting: business days
to issue stretch from late 2024 (compliance slipping, worst around the end of 2025) and come
back through 2026 (recovering); redress is paid for most late permits, but less often in the
bad months, so some is still outstanding. About a quarter of applications stop the clock once
waiting on the applicant (some twice). A few rows are bad on purpose (unknown department,
unreadable fee, issued before complete) to show the rejects.

``python -m stat_lib.ingest.sample_permits`` rewrites ``data/sample/permits.csv`` and
``data/sample/permit_stops.csv``; the same arguments always give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.business_calendar import BusinessCalendar

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = PROJECT_ROOT / "data" / "sample"
START, END, SEED, PER_DAY = "2024-09-01", "2026-11-15", 2027, 11
CAL = BusinessCalendar("America/Los_Angeles", "US", "CA")
# type: (share, within business days, percent per day, cap percent, fee range in dollars)
TYPES = {"Express permit": (0.5, 3, 20, 100, (150, 400)),
         "Electrical permit": (0.3, 5, 20, 100, (200, 900)),
         "Plan check": (0.2, 10, 10, 50, (800, 5000))}
PERMIT_COLUMNS = ["permit_id", "permit_type", "department", "received_at", "complete_at",
                  "issued_at", "status", "fee", "redress_paid"]
STOP_COLUMNS = ["permit_id", "stop_start", "stop_end"]


def story(t: np.ndarray) -> np.ndarray:
    """Multiplier on the days to issue, ``t`` = 0 at START, 1 at END: from 0.8 up to 1.7 at
    t = 0.6 (late 2025), back to 0.85 by the end."""
    return np.interp(t, [0.0, 0.6, 1.0], [0.8, 1.7, 0.85])


def generate(start: str = START, end: str = END, seed: int = SEED,
             per_day: float = PER_DAY) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(permits, stops)`` as the CSV files hold them (text, local times)."""
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64(start), np.datetime64(end) + 1)
    hol = CAL.holidays(int(start[:4]) - 1, int(end[:4]) + 1)
    days = days[np.is_busday(days, holidays=hol)]
    received = np.repeat(days, rng.poisson(per_day, len(days)))
    n = len(received)
    names = list(TYPES)
    kind = rng.choice(len(names), n, p=[TYPES[k][0] for k in names])
    within = np.array([TYPES[names[k]][1] for k in kind])
    wait = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 8, n))  # incomplete at first
    complete = np.busday_offset(received, wait, holidays=hol)
    t = (received - days[0]).astype(float) / max(1, (days[-1] - days[0]).astype(float))
    clock = np.round(within * story(t) * rng.lognormal(-0.25, 0.45, n)).astype(int)
    stop_len = np.where(rng.random(n) < 0.25, rng.integers(1, 9, n), 0)
    second = np.where((stop_len > 0) & (rng.random(n) < 0.2), rng.integers(1, 6, n), 0)
    issued = np.busday_offset(complete, clock + stop_len + second, holidays=hol)
    fee = [5 * round(rng.uniform(*TYPES[names[k]][4]) / 5) for k in kind]
    hours = rng.integers(8, 16, (3, n))
    permits = pd.DataFrame({
        "permit_id": [f"BP-{i + 1:06d}" for i in range(n)],
        "permit_type": [names[k] for k in kind], "department": "LADBS",
        "received_at": _text(received, hours[0]), "complete_at": _text(complete, hours[1]),
        "issued_at": _text(issued, hours[2]), "fee": [f"{f:.2f}" for f in fee]})
    open_ = issued > np.datetime64(end)
    permits.loc[open_, "issued_at"] = ""
    permits["status"] = np.where(open_, "In review", "Issued")
    late = ~open_ & (clock > within)
    permits["redress_paid"] = _paid(rng, kind, clock, within, fee, late, t)
    stops = _as_of(_stops(rng, permits["permit_id"], complete, clock, stop_len, second, hol),
                   end)
    return _bad_rows(permits[PERMIT_COLUMNS]), stops


def _as_of(stops: pd.DataFrame, end: str) -> pd.DataFrame:
    """The stops as the export of ``end`` knows them: none starts later; a later restart is
    not known yet (still stopped: no end)."""
    stops = stops[stops["stop_start"].str[:10] <= end].copy()
    stops.loc[stops["stop_end"].str[:10] > end, "stop_end"] = ""
    return stops.reset_index(drop=True)


def _text(days: np.ndarray, hours: np.ndarray) -> list[str]:
    return [f"{d} {h:02d}:00" for d, h in zip(days.astype(str), hours)]


def _paid(rng, kind, clock, within, fee, late, t) -> list[str]:
    """Redress paid as the schedule says for most late permits; less often in the bad months."""
    names = list(TYPES)
    out = []
    pay = rng.random(len(kind)) < np.interp(t, [0.0, 0.6, 1.0], [0.95, 0.55, 0.9])
    for k, c, w, f, is_late, p in zip(kind, clock, within, fee, late, pay):
        if not (is_late and p):
            out.append("")
            continue
        _, _, pct, cap, _ = TYPES[names[k]]
        out.append(f"{round(f * min(cap, pct * (c - w)) / 100, 2):.2f}")
    return out


def _stops(rng, ids, complete, clock, first, second, hol) -> pd.DataFrame:
    """Clock stops: the first after ``j`` clock days, the second right after the clock restarts."""
    rows = []
    for pid, c, k, a, b in zip(ids, complete, clock, first, second):
        if not a:
            continue
        j = int(rng.integers(0, max(1, k)))
        s = np.busday_offset(c, j, holidays=hol)
        e = np.busday_offset(s, a, holidays=hol)
        rows.append((pid, f"{s} 10:00", f"{e} 14:00"))
        if b:
            s2 = np.busday_offset(e, 1 if k - j > 1 else 0, holidays=hol)
            rows.append((pid, f"{s2} 10:00", f"{np.busday_offset(s2, b, holidays=hol)} 14:00"))
    return pd.DataFrame(rows, columns=STOP_COLUMNS)


def _bad_rows(permits: pd.DataFrame) -> pd.DataFrame:
    """Five rows with the data-entry errors real exports have (rejected at ingest)."""
    bad = permits.iloc[[10, 500, 1500, 3000, 4500]].copy()
    bad["permit_id"] = [f"BP-X{i}" for i in range(5)]
    bad.iloc[0, bad.columns.get_loc("department")] = "LADBS-OLD"   # unknown_department
    bad.iloc[1, bad.columns.get_loc("fee")] = "TBD"                # bad_fee
    bad.iloc[2, bad.columns.get_loc("issued_at")] = "2024-01-02 09:00"  # issued_before_complete
    bad.iloc[3, bad.columns.get_loc("permit_type")] = ""           # missing_permit_type
    bad.iloc[4, bad.columns.get_loc("complete_at")] = "pending"    # bad_complete_at
    return pd.concat([permits, bad], ignore_index=True)


def write(out_dir: Path = DEFAULT_DIR, **kw) -> tuple[Path, Path]:
    """Write ``permits.csv`` and ``permit_stops.csv`` into ``out_dir``."""
    permits, stops = generate(**kw)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = out_dir / "permits.csv", out_dir / "permit_stops.csv"
    for frame, path in zip((permits, stops), paths):
        frame.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m stat_lib.ingest.sample_permits",
                                description="write the sample city's synthetic permits")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args(argv)
    for path in write(args.out_dir, seed=args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
