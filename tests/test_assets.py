"""The vega bundle is read from the user cache once a vl_convert version has written it."""

from __future__ import annotations

from importlib.metadata import version

import pytest
import vl_convert as vlc

from stat_lib.present import assets


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assets.vega_js.cache_clear()
    yield assets.bundle_cache(version("vl-convert-python"))
    assets.vega_js.cache_clear()


@pytest.mark.slow
def test_bundle_is_written_once_then_read_from_the_cache(cache):
    assert not cache.exists()
    first = assets.vega_js()
    assert cache.read_text(encoding="utf-8") == vlc.javascript_bundle()  # what V8 makes
    assert assets.script_safe(cache.read_text(encoding="utf-8")) in first
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temp file left
    # a second process reads it: the file's text is what it inlines
    cache.write_text("window.fromCache = 1;", encoding="utf-8")
    assets.vega_js.cache_clear()
    assert assets.vega_js().startswith("(function(){\nwindow.fromCache = 1;\n})();\n")


def test_cache_is_keyed_by_the_vl_convert_version(cache):
    assert cache.name == f"vega-bundle-vl-convert-{version('vl-convert-python')}.js"
    assert cache.parent == cache.parent.parent / "stat_lib"
    other = assets.bundle_cache("0.0.1")
    other.parent.mkdir(parents=True)
    other.write_text("window.otherVersion = 1;", encoding="utf-8")
    cache.write_text("window.thisVersion = 1;", encoding="utf-8")
    assert "thisVersion" in assets.vega_js() and "otherVersion" not in assets.vega_js()


@pytest.mark.slow
def test_unwritable_cache_still_gives_the_bundle(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assets.vega_js.cache_clear()
    try:
        assert vlc.javascript_bundle()[:200] in assets.vega_js()
    finally:
        assets.vega_js.cache_clear()


@pytest.mark.slow
def test_empty_cache_file_is_rebuilt(cache):
    cache.parent.mkdir(parents=True)
    cache.write_text("", encoding="utf-8")
    assert len(assets.vega_js()) > 100_000 and cache.stat().st_size > 100_000
