"""The scale bench's big city: deterministic, skewed as stated, monthly chunks of one city.

Expected shares are worked out by hand from the calibration's five parent shares and the Zipf
split 1/k of each parent's copies.
"""

import hashlib

import pandas as pd
import pytest

from stat_lib.ingest import sample_big_city as big
from stat_lib.ingest import sample_city as sample
from stat_lib.params import load_params
from support.builders import ROOT


@pytest.fixture(scope="module")
def cal():
    return sample.load_calibration(ROOT / "data" / "la311")


def _digest(files) -> list[str]:
    return [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]


def test_departments_and_codes():
    depts = big.departments(30)
    assert [d.slug for d in depts[:6]] == [
        "sanitation", "beautification", "information-technology", "street-lighting",
        "water-and-power", "sanitation-2"]
    assert depts[5].code == "BOS02" and depts[29].code == "LADWP06"
    assert len({d.code for d in depts}) == 30 == len({d.slug for d in depts})
    # six copies per parent: 1/k normalised, 1 + 1/2 + ... + 1/6 = 2.45
    w = big.copy_weights(depts)["sanitation"]
    assert w[0] == pytest.approx(1 / 2.45) and w.sum() == pytest.approx(1)


def test_shares_are_skewed_as_stated(cal):
    shares = big.department_shares(30, cal)
    assert sum(shares.values()) == pytest.approx(1)
    bos = sum(s for (o, _), s in zip(cal.types, cal.shares) if o == "BOS")
    assert shares["sanitation"] == pytest.approx(bos / 2.45)
    top = list(shares.values())
    assert sum(top[:3]) > 0.5          # a few departments hold most requests
    assert sum(top[:10]) > 0.8
    assert top[-1] < 0.001             # and the smallest hold almost none


def test_month_totals_add_up_and_are_deterministic(cal):
    a = big.month_totals("2024-11-01", "2026-10-31", 30_000, 7, cal)
    assert len(a) == 24 and sum(a) == round(30_000 * 730 / 365.25)
    assert a == big.month_totals("2024-11-01", "2026-10-31", 30_000, 7, cal)


def test_write_requests_is_deterministic_and_skewed(tmp_path, cal):
    args = ("2026-08-01", "2026-10-31", 40_000, 30, 11)
    one = big.write_requests(tmp_path / "a", *args, calibration=cal)
    two = big.write_requests(tmp_path / "b", *args, calibration=cal)
    assert [f.name for f in one] == ["requests-2026-08.csv", "requests-2026-09.csv",
                                     "requests-2026-10.csv"]
    assert _digest(one) == _digest(two)
    df = pd.concat([pd.read_csv(f, dtype=str) for f in one], ignore_index=True)
    assert df["SRNumber"].is_unique  # months take disjoint ids
    expected = big.department_shares(30, cal)
    code_of = {d.code: d.slug for d in big.departments(30)}
    seen = df["Owner"].map(code_of).value_counts(normalize=True)
    assert set(seen.index) <= set(expected)
    for slug in ("sanitation", "sanitation-2", "beautification"):
        assert seen[slug] == pytest.approx(expected[slug], abs=0.02)


def test_chunks_are_one_city(cal):
    """A chunk's rows are as of the whole span's end: an early request closing after its own
    month is closed, not Open."""
    whole = ("2026-01-01", "2026-03-31")
    jan = sample.generate("2026-01-01", "2026-01-31", total=3000, seed=5, calibration=cal,
                          whole=whole, first_id=123)
    alone = sample.generate("2026-01-01", "2026-01-31", total=3000, seed=5, calibration=cal)
    assert jan["SRNumber"].iloc[0] == "1-123"
    late = jan["ClosedDate"] > pd.Timestamp("2026-01-31 23:59:59")
    assert late.sum() > 0 and (jan.loc[late, "Status"] != "Open").all()
    assert (alone["Status"] == "Open").sum() > (jan["Status"] == "Open").sum()
    # without ``whole`` the generator is unchanged: the committed sample's arguments
    assert sample.generate("2026-01-01", "2026-01-31", total=500, seed=5, calibration=cal
                           ).equals(sample.generate("2026-01-01", "2026-01-31", total=500,
                                                    seed=5, calibration=cal,
                                                    whole=("2026-01-01", "2026-01-31")))


def test_params_home_loads(tmp_path):
    big.write_params(tmp_path, 12)
    params = load_params(tmp_path)
    assert len(params.departments) == 12
    codes = params.department_for_code()
    assert codes["BOS"] == "sanitation" and codes["BOS03"] == "sanitation-3"
    assert params.departments["sanitation-3"].name == "Bureau of Sanitation 3"
    assert not params.city.permits
    assert [s.path for s in params.city.sources] == [big.REQUESTS_GLOB]
