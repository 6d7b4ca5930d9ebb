"""Pytest configuration and shared fixtures only; what tests build is in support/builders.py."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from support.builders import params_home, sample_home

# A shared, loaded 2-core machine: no per-example deadlines (tests never fail on time).
settings.register_profile("stat_lib", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("stat_lib")

# Packet charts skip altair's schema validation when displayed; every test validates them,
# kernels included (read when stat_lib.present.charts is imported).
os.environ["STAT_LIB_VALIDATE_CHARTS"] = "1"


@pytest.fixture
def home(tmp_path) -> Path:
    """A copy of the sample city's params in a fresh home folder (no store, no outputs)."""
    return params_home(tmp_path)


@pytest.fixture(scope="session")
def sample_city(tmp_path_factory):
    """The bundled sample city (data/sample, 120,900 rows) ingested into a fresh home, once per
    session. Tests may write outputs into it; none may change its params or its store."""
    from stat_lib.ingest import ingest
    from stat_lib.params import load_params
    params = load_params(sample_home(tmp_path_factory.mktemp("sample-city")))
    ingest(params)
    return params
