"""Load params/: every file validated, every problem reported at once with file, line and key.

``load_params`` collects the problems of every file (unknown keys, wrong types, cross-file
checks) before raising one ``ParamsErrors``, so one run shows them all.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..core.errors import ParamsError, ParamsErrors
from .briefing_models import meeting_checks
from .models import City, Department, Params, Results
from .yaml_lines import line_of, load_yaml


def _validate(model, data, path: Path, lines, **extra):
    try:
        return model.model_validate({**extra, **(data or {})} if isinstance(data, dict) else data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith(
                ("function-", "literal["))))
            key = ".".join(str(x) for x in loc) or None
            found = err.get("input")
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                allowed = ", ".join(_allowed_keys(model, loc[:-1]))
                msg = f"unknown key; expected one of: {allowed}"
            elif err["type"] != "missing" and not isinstance(found, (dict, list)):
                msg = f"{msg} (found {found!r})"
            problems.append(ParamsError(msg, path=path, key=key, row=line_of(lines, loc)))
        raise ParamsErrors(problems) from None


def _allowed_keys(model, loc) -> list[str]:
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        ann = getattr(field, "annotation", None)
        inner = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)
                 and issubclass(a, BaseModel)]
        if not inner:
            return []
        model = inner[0]
    return list(model.model_fields)


def load_params(home: str | Path) -> Params:
    """Load and validate every params file under ``home/params``; raise all problems at once."""
    home = Path(home).resolve()
    pdir = home / "params"
    if not (pdir / "city.yaml").exists():
        raise ParamsError("file not found; is --home (or STAT_LIB_HOME) the folder holding "
                          "params/? `stat-lib --home DIR init` writes a skeleton.",
                          path=pdir / "city.yaml")
    problems: list[ParamsError] = _twin_files(pdir)
    files = [pdir / "city.yaml"]

    def attempt(fn):
        try:
            return fn()
        except ParamsErrors as exc:
            problems.extend(exc.errors)
        except ParamsError as exc:
            problems.append(exc)

    city = attempt(lambda: _validate(City, *_read(pdir / "city.yaml")))
    departments = {}
    for f in sorted((pdir / "departments").glob("*.y*ml")):
        files.append(f)
        dept = attempt(lambda f=f: _validate(Department, *_read(f), slug=f.stem))
        if dept:
            departments[dept.slug] = dept
    results_file = pdir / "results.yaml"
    results = Results()
    if results_file.exists():
        files.append(results_file)
        results = attempt(lambda: _validate(Results, *_read(results_file))) or Results()
    problems += _cross_checks(departments, results, pdir)
    problems += meeting_checks(city, departments, pdir)
    if not departments and not problems:
        problems.append(ParamsError("no department files; add params/departments/<slug>.yaml",
                                    path=pdir / "departments"))
    if problems:
        raise ParamsErrors(problems)
    return Params(home=home, city=city, departments=departments, results=results, files=files)


def _twin_files(pdir: Path) -> list[ParamsError]:
    """``x.yml`` beside ``x.yaml``: one would silently hide the other."""
    problems = []
    for folder in (pdir, pdir / "departments"):
        for yml in sorted(folder.glob("*.yml")):
            if yml.with_suffix(".yaml").exists():
                problems.append(ParamsError(
                    f"both {yml.name} and {yml.stem}.yaml exist, and only one can hold these "
                    f"params; merge them into {yml.stem}.yaml and delete {yml.name}", path=yml))
    return problems


def _read(path: Path):
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise ParamsError(f"expected a mapping of keys, found {type(data).__name__}", path=path)
    return data, path, lines


def _cross_checks(departments: dict, results: Results, pdir: Path) -> list[ParamsError]:
    problems = []
    seen: dict[str, str] = {}
    known_results = {r.id for r in results.results}
    for d in departments.values():
        f = pdir / "departments" / f"{d.slug}.yaml"
        for code in d.source_codes:
            if code in seen:
                problems.append(ParamsError(
                    f"source code {code!r} is also claimed by department {seen[code]!r}; "
                    f"a source value maps to one department", path=f, key="source_codes"))
            seen[code] = d.slug
        if d.result and known_results and d.result not in known_results:
            problems.append(ParamsError(
                f"unknown strategic result {d.result!r}; expected one of "
                f"{', '.join(sorted(known_results))}", path=f, key="result"))
        for st in d.standards:
            for s in st.services:
                if d.service(s) is None:
                    problems.append(ParamsError(
                        f"standard {st.id!r} names service {s!r}, which is not in this "
                        f"department's services", path=f, key="standards"))
    return problems


def default_home() -> Path:
    return Path(os.environ.get("STAT_LIB_HOME") or Path.cwd())
