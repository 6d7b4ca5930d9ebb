"""The sample city's resident surveys: synthetic, deterministic, quarterly.

Eight quarters (2024-Q4 to 2026-Q3: the last two years of complete quarters before the sample
311 data ends on 2026-11-15) of responses about four departments, a few hundred a quarter
each (320 to 650), from the sample's fifteen council districts (unevenly: some districts
give fewer than the 30 responses a district needs to be judged), on a 1-5 scale with
survey weights between 0.5 and 2 and an occasional comment. The story: Sanitation holds near
70% satisfied, then drops about ten points in 2026-Q3 (beyond the combined margin: a real
drop); Street Lighting moves a few points (inside the margin: no change to report); Water and
Power stays around 80%, Beautification around 55-60%. A few rows are bad on purpose (an answer
off the scale, an unknown department, an unreadable date, a negative weight) to show the
rejects.

``python -m stat_lib.ingest.sample_surveys`` rewrites ``data/sample/surveys.csv``; the same
arguments always give a byte-identical file.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = PROJECT_ROOT / "data" / "sample" / "surveys.csv"
SEED = 2026
QUARTERS = [(2024, 4), (2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2),
            (2026, 3)]
# department: (responses a quarter, share satisfied per quarter, oldest first)
LEVELS = {"sanitation": (650, [0.69, 0.70, 0.68, 0.71, 0.70, 0.71, 0.70, 0.60]),
          "street-lighting": (520, [0.61, 0.63, 0.62, 0.62, 0.63, 0.62, 0.62, 0.65]),
          "water-and-power": (480, [0.79, 0.80, 0.81, 0.79, 0.80, 0.81, 0.80, 0.81]),
          "beautification": (320, [0.55, 0.54, 0.56, 0.55, 0.57, 0.55, 0.56, 0.55])}
DISTRICTS = [str(d) for d in range(1, 16)]
DISTRICT_SHARE = np.array([10, 9, 8, 8, 7, 7, 7, 6, 6, 6, 6, 6, 5, 5, 4], dtype=float)
COMMENTS = {True: ["Crew came the day after I called.", "Quick and polite, thank you.",
                   "Much better than last year.", "The online form was easy."],
            False: ["Waited two weeks and nobody came.", "Called three times, no answer.",
                    "The pickup was missed again this month.",
                    "Nobody told me the request was closed."]}
COLUMNS = ["response_id", "responded_at", "department", "district", "answer", "comment",
           "weight"]
BAD_ROWS = [["S-BAD-1", "2026-08-03 10:00", "sanitation", "4", "7", "", "1.0"],
            ["S-BAD-2", "2026-08-04 11:30", "parks", "9", "4", "", "1.0"],
            ["S-BAD-3", "not a date", "street-lighting", "2", "5", "", "1.0"],
            ["S-BAD-4", "2026-08-05 09:15", "water-and-power", "3", "4", "", "-1.2"]]


def answers(rng, n: int, share: float) -> np.ndarray:
    """``n`` answers on 1-5 with about ``share`` of them 4 or 5."""
    happy = rng.random(n) < share
    return np.where(happy, rng.choice([4, 5], n, p=[0.55, 0.45]),
                    rng.choice([1, 2, 3], n, p=[0.3, 0.3, 0.4]))


def generate(seed: int = SEED) -> list[list[str]]:
    """Every row of the sample file (text), bad rows last."""
    rng = np.random.default_rng(seed)
    rows = []
    for slug, (per_quarter, shares) in LEVELS.items():
        for (year, q), share in zip(QUARTERS, shares):
            n = int(rng.poisson(per_quarter))
            start = np.datetime64(f"{year}-{3 * q - 2:02d}-01")
            days = (np.datetime64(f"{year + q // 4}-{(3 * q) % 12 + 1:02d}-01") - start)
            at = (start + rng.integers(0, days.astype(int), n).astype("timedelta64[D]")
                  ).astype("datetime64[m]") + rng.integers(8 * 60, 20 * 60, n)
            district = rng.choice(DISTRICTS, n, p=DISTRICT_SHARE / DISTRICT_SHARE.sum())
            got = answers(rng, n, share)
            weight = np.round(np.exp(rng.normal(0, 0.3, n)).clip(0.5, 2.0), 2)
            said = rng.random(n) < 0.04
            for i in range(n):
                text = str(rng.choice(COMMENTS[bool(got[i] >= 4)])) if said[i] else ""
                rows.append([f"S{year}{q}-{slug[:3].upper()}-{i + 1:04d}",
                             str(at[i]).replace("T", " "), slug, district[i], str(got[i]),
                             text, f"{weight[i]:.2f}"])
    rows.sort(key=lambda r: (r[1], r[0]))
    return rows + BAD_ROWS


def write(path: Path = DEFAULT_PATH, seed: int = SEED) -> int:
    """Write the sample file; return the number of data rows."""
    rows = generate(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(COLUMNS)
        out.writerows(rows)
    return len(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    print(f"{write(args.out, args.seed):,} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
