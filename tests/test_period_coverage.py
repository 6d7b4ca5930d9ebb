"""Periods the data does not reach are refused with the span it holds (case 44)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stat_lib.cli import main
from stat_lib.core.errors import UsageError
from stat_lib.core.periods import Period
from stat_lib.params import load_params
from stat_lib.run.coverage import check_covered
from support.builders import batch_home


@pytest.fixture
def params(tmp_path):
    # requests created 2026-10-02 ... 2026-11-02 (Los Angeles)
    return load_params(batch_home(tmp_path))


def _run(params, period):
    return CliRunner().invoke(main, ["--home", str(params.home), "run", "--period", period])


def test_a_period_after_the_newest_request_is_refused_with_the_span(params):
    result = _run(params, "2099-01")
    assert result.exit_code == 2, result.output
    assert "period 2099-01 starts after the newest request in the store" in result.output
    assert "(the data spans 2026-10-02 to 2026-11-02)" in result.output
    assert "--allow-empty" in result.output and "Traceback" not in result.output


def test_a_period_before_the_oldest_request_is_refused(params):
    result = _run(params, "2020-01")
    assert result.exit_code == 2
    assert "period 2020-01 ends before the oldest request" in result.output


def test_year_zero_is_a_usage_error_not_a_traceback(params):
    result = _run(params, "0000-01")
    assert result.exit_code == 2
    assert "year 0 is out of range (expected 1900-2199)" in result.output
    assert "Traceback" not in result.output


def test_covered_partial_and_allowed_periods_pass(params):
    for text in ("2026-10", "2026-11", "2026-W45", "2026-Q4", "2026"):
        check_covered(params, Period.parse(text))  # the data reaches each of them
    check_covered(params, Period.parse("2099-01"), allow_empty=True)
    with pytest.raises(UsageError, match="starts after"):
        check_covered(params, Period.parse("2026-12"))
