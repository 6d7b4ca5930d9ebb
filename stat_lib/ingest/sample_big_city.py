"""A big synthetic city for the scale bench: many departments, millions of requests.

Built on :mod:`stat_lib.ingest.sample_city`. Each of the sample city's five request departments
(sanitation, beautification, information technology, street lighting, water and power) is split
into ``copies`` departments; copy ``k`` (1-based) of a parent takes a Zipf share ``1/k`` of the
parent's requests (copy 1 keeps the parent's slug and code, so the briefing and the roundtable
still name real departments). With the real shares of the five parents (sanitation 73%,
beautification 25%) a few departments hold most requests: see :func:`department_shares`.

The requests are written as monthly MyLA311 CSV files, each generated on its own with
``sample_city.generate(..., whole=span, first_id=...)`` (growth, stories and "as of" run along
the whole span), so memory stays at one month's rows. Same arguments, same files.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import sample_city

PARENTS = {  # slug -> source code, the sample city's request departments
    "sanitation": "BOS", "beautification": "OCB", "information-technology": "ITA",
    "street-lighting": "BSL", "water-and-power": "LADWP",
}
REQUESTS_GLOB = "data/requests/requests-*.csv"


@dataclass(frozen=True)
class Department:
    """One department of the big city: ``copy`` of ``parent`` (1 keeps the parent's names)."""

    parent: str
    copy: int

    @property
    def slug(self) -> str:
        return self.parent if self.copy == 1 else f"{self.parent}-{self.copy}"

    @property
    def code(self) -> str:
        return PARENTS[self.parent] + ("" if self.copy == 1 else f"{self.copy:02d}")


def departments(count: int) -> list[Department]:
    """``count`` departments, the parents in turn: 1-5 are the parents, 6-10 their copies 2."""
    if not 5 <= count <= 500:
        raise ValueError(f"count must be 5 to 500 departments, got {count}")
    parents = list(PARENTS)
    return [Department(parents[i % 5], i // 5 + 1) for i in range(count)]


def copy_weights(depts: list[Department]) -> dict[str, np.ndarray]:
    """Per parent: the Zipf shares 1/k of its copies (summing to 1), in copy order."""
    out = {}
    for parent in PARENTS:
        k = np.array([d.copy for d in depts if d.parent == parent], dtype=float)
        out[parent] = (1 / k) / (1 / k).sum()
    return out


def department_shares(count: int, calibration=None) -> dict[str, float]:
    """Expected share of all requests of each department (slug -> share), largest first."""
    cal = calibration or sample_city.load_calibration()
    by_code = {}
    for (owner, _), share in zip(cal.types, cal.shares):
        by_code[owner] = by_code.get(owner, 0.0) + share
    depts = departments(count)
    weights = copy_weights(depts)
    shares = {d.slug: by_code.get(PARENTS[d.parent], 0.0) * weights[d.parent][d.copy - 1]
              for d in depts}
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def months(start: str, end: str) -> list[tuple[dt.date, dt.date]]:
    """(first, last) day of every calendar month from ``start``'s month to ``end``'s."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    out, day = [], first.replace(day=1)
    while day <= last:
        nxt = (day + dt.timedelta(days=32)).replace(day=1)
        out.append((max(day, first), min(nxt - dt.timedelta(days=1), last)))
        day = nxt
    return out


def month_totals(start: str, end: str, per_year: int, seed: int, calibration) -> list[int]:
    """Requests of each month: ``per_year`` x years, split by the generator's day weights."""
    days = sample_city._span(start, end)
    total = round(per_year * len(days) / 365.25)
    weights = sample_city._weights(days, calibration).sum(axis=1)
    month_of = days.astype("datetime64[M]")
    per_month = np.array([weights[month_of == m].sum() for m in np.unique(month_of)])
    rng = np.random.default_rng(seed)
    return [int(n) for n in rng.multinomial(total, per_month / per_month.sum())]


def generate_month(first: dt.date, last: dt.date, total: int, first_id: int, seed: int,
                   span: tuple[str, str], depts: list[Department], calibration):
    """One month's requests with each row's Owner moved to one copy of its department."""
    df = sample_city.generate(first.isoformat(), last.isoformat(), total=total, seed=seed,
                              calibration=calibration, whole=span, first_id=first_id)
    rng = np.random.default_rng([seed, 1])
    owner = df["Owner"].to_numpy(dtype=object)
    for parent, weights in copy_weights(depts).items():
        codes = np.array([d.code for d in depts if d.parent == parent], dtype=object)
        rows = np.flatnonzero(owner == PARENTS[parent])
        owner[rows] = codes[rng.choice(len(codes), size=rows.size, p=weights)]
    df["Owner"] = owner
    return df


def write_requests(folder: Path, start: str, end: str, per_year: int, count: int,
                   seed: int = sample_city.DEFAULT_SEED, calibration=None) -> list[Path]:
    """Write one MyLA311 CSV per month into ``folder``; return the files, in month order."""
    cal = calibration or sample_city.load_calibration()
    depts = departments(count)
    folder.mkdir(parents=True, exist_ok=True)
    files, first_id = [], sample_city.SR_FIRST
    totals = month_totals(start, end, per_year, seed, cal)
    for i, ((first, last), n) in enumerate(zip(months(start, end), totals)):
        df = generate_month(first, last, n, first_id, seed + 1 + i, (start, end), depts, cal)
        files.append(sample_city.write_csv(df, folder / f"requests-{first:%Y-%m}.csv"))
        first_id += n
    return files


def write_params(home: Path, count: int, source_root: Path = sample_city.PROJECT_ROOT) -> None:
    """``home/params``: the sample city's params with ``count`` request departments, the
    monthly CSV files as the one source, no permits (their department is dropped)."""
    import yaml

    src = source_root / "params"
    (home / "params" / "departments").mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "results.yaml", home / "params" / "results.yaml")
    for d in departments(count):
        spec = yaml.safe_load((src / "departments" / f"{d.parent}.yaml").read_text())
        if d.copy > 1:
            spec["name"] = f"{spec['name']} {d.copy}"
        spec["source_codes"] = [d.code]
        (home / "params" / "departments" / f"{d.slug}.yaml").write_text(
            yaml.safe_dump(spec, sort_keys=False))
    city = yaml.safe_load((src / "city.yaml").read_text())
    city.pop("contact_center", None)  # requests only: no contact center, no surveys
    for key in ("permits", "permit_stops", "surveys", "telephony"):
        city.pop(key, None)
    city["sources"] = [{"name": "requests", "path": REQUESTS_GLOB, "profile": "myla311"}]
    city["data_notice"] = (f"Synthetic data: a {count}-department city generated by "
                           "stat_lib.ingest.sample_big_city for the scale bench.")
    (home / "params" / "city.yaml").write_text(yaml.safe_dump(city, sort_keys=False))
    shutil.copytree(source_root / "data" / "boundaries", home / "data" / "boundaries",
                    dirs_exist_ok=True)
