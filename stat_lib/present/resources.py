"""The packaged notebooks and templates, and a home's own overrides of them.

A built wheel carries them as package data in ``stat_lib/packaged/`` (pyproject.toml maps the
repository's top-level ``notebooks/`` and ``templates/`` there); a source checkout (an
editable install) uses those top-level folders directly. A home's own ``notebooks/`` and
``templates/`` come first (``stat-lib --home DIR init --notebooks`` copies the packaged ones
there to start from).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..core.errors import MissingDependency

PACKAGE = Path(__file__).resolve().parents[1]  # the stat_lib folder


def packaged(name: str) -> Path:
    """The packaged folder ``name`` (``notebooks`` or ``templates``)."""
    roots = [PACKAGE / "packaged" / name]
    if (PACKAGE.parent / "pyproject.toml").is_file():  # a source checkout, not site-packages
        roots.append(PACKAGE.parent / name)
    for root in roots:
        if root.is_dir():
            return root
    raise MissingDependency(f"the packaged {name}/ folder is missing from {PACKAGE}; "
                            f"reinstall stat-lib (`pip install --force-reinstall stat-lib`)")


def template_dirs(home=None) -> list[Path]:
    """Template base folders, a home's own ``templates/`` first (duplicates dropped)."""
    dirs = [Path(home) / "templates"] if home is not None else []
    dirs = [d for d in dirs if d.is_dir()] + [packaged("templates")]
    return list(dict.fromkeys(d.resolve() for d in dirs))


def copy_into(home, force: bool = False) -> list[Path]:
    """Copy the packaged notebooks and templates into ``home`` for a city to customise.

    Existing files are kept unless ``force``; returns the files written.
    """
    written = []
    for name in ("notebooks", "templates"):
        source = packaged(name)
        skip = {"__pycache__", ".ipynb_checkpoints"}
        for path in sorted(p for p in source.rglob("*") if p.is_file() and not skip & set(p.parts)):
            target = Path(home) / name / path.relative_to(source)
            if target.resolve() == path.resolve() or (target.exists() and not force):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            written.append(target)
    return written
