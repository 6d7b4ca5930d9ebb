"""Params files that would silently change meaning: duplicate keys, twin files, bad encodings."""

from __future__ import annotations

import pytest
from support.builders import params_home

from stat_lib.core.errors import ParamsError
from stat_lib.params import load_params


def _problems(home) -> str:
    with pytest.raises(ParamsError) as exc:
        load_params(home)
    return str(exc.value)


def test_a_key_given_twice_names_both_lines(tmp_path):
    home = params_home(tmp_path)
    city = home / "params" / "city.yaml"
    text = city.read_text()
    first = text.splitlines().index(next(l for l in text.splitlines()
                                         if l.startswith("timezone:"))) + 1
    city.write_text(text + "timezone: Europe/London\n")
    last = len(city.read_text().splitlines())
    message = _problems(home)
    assert f"key 'timezone' appears twice, on lines {first} and {last}" in message
    assert "city.yaml" in message


def test_a_nested_key_given_twice_is_refused_but_the_same_key_in_two_mappings_is_not(tmp_path):
    home = params_home(tmp_path)
    dept = home / "params" / "departments" / "sanitation.yaml"
    text = dept.read_text()
    assert text.count("target:") > 1  # `target` in several mappings loads (the sample does)
    load_params(home)
    dept.write_text(text.replace("targets:\n", "targets:\n  on_time_rate: {target: 0.8}\n", 1))
    assert "key 'targets.on_time_rate' appears twice" in _problems(home)


def test_a_yml_file_beside_its_yaml_twin_is_refused(tmp_path):
    home = params_home(tmp_path)
    dept = next((home / "params" / "departments").glob("*.yaml"))
    twin = dept.with_suffix(".yml")
    twin.write_text(dept.read_text())
    message = _problems(home)
    assert f"both {twin.name} and {dept.name} exist" in message
    assert f"delete {twin.name}" in message


def test_params_that_are_not_utf8_name_the_file_and_line(tmp_path):
    home = params_home(tmp_path)
    city = home / "params" / "city.yaml"
    city.write_bytes(city.read_bytes() + "name: Bogot\u00e1\n".encode("latin-1"))
    line = len(city.read_bytes().splitlines())
    message = _problems(home)
    assert f"city.yaml, line {line}: not UTF-8 text (byte 0xe1" in message
    assert "save the file as UTF-8" in message
