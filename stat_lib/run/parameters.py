"""Notebook parameters checked before execution: unknown names are errors, not warnings.

Papermill only warns about a name the parameters cell does not declare (#245, #333) and
injects at the top when no cell is tagged ``parameters``; both are errors here.
"""

from __future__ import annotations

import json
from pathlib import Path

PARAMETER_NAMES = ("department", "period", "home", "as_of")


def check_parameters(notebook: Path, parameters: dict) -> str | None:
    """Why ``parameters`` cannot be given to ``notebook``, or None when they can.

    Papermill only warns about a name the parameters cell does not declare (#245, #333) and
    injects at the top when no cell is tagged ``parameters``; both are errors here.
    """
    if not notebook.exists():
        return f"notebook not found: {notebook}; expected it in the notebooks folder"
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except ValueError as exc:
        return f"{notebook}: not a readable .ipynb ({exc})"
    cells = [c for c in nb.get("cells", [])
             if "parameters" in (c.get("metadata", {}).get("tags") or [])]
    if not cells:
        return (f"{notebook}: no cell is tagged 'parameters'; add one declaring "
                f"{', '.join(PARAMETER_NAMES)} (papermill would inject blindly)")
    declared = declared_names("".join(_source(c) for c in cells))
    unknown = [k for k in parameters if k not in declared]
    if unknown:
        return (f"{notebook}: unknown parameter(s) {', '.join(map(repr, unknown))}; its "
                f"parameters cell declares {', '.join(sorted(declared)) or 'nothing'}. Add "
                f"e.g. `{unknown[0]} = None` to the cell tagged 'parameters'")
    return None


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return ("".join(src) if isinstance(src, list) else src) + "\n"


def declared_names(source: str) -> set[str]:
    """Names assigned at the top level of a parameters cell (``x = 1``, ``x: int = 1``)."""
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        tree = ast.parse("\n".join(lines))
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names
