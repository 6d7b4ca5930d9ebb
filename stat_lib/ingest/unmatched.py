"""Source values that match no key in params, listed for a person to paste into params.

Used by ``stat-lib validate`` on a sample (department values no ``source_codes`` holds) and
by ingest (fallback district values no layer key matches).
"""

from __future__ import annotations

import json


def department_values(con) -> list[tuple[str | None, int, list[str]]]:
    """``(value, rows, files)`` of the staged rows rejected as ``unknown_department``, most
    rows first (``classified`` must hold them: after ``requests.preview``)."""
    return con.execute("""
        SELECT dept_raw, count(*) AS n, list(DISTINCT source_file ORDER BY source_file)
        FROM classified WHERE reason = 'unknown_department'
        GROUP BY 1 ORDER BY n DESC, dept_raw NULLS LAST""").fetchall()


def department_message(name: str, sample_rows: int, values) -> str:
    """The validate problem listing each unmatched department value with its rows and files."""
    total = sum(n for _, n, _ in values)
    lines = [f"source {name!r}: {total} of the first {sample_rows} rows of each file have a "
             f"department value in no department's source_codes:"]
    for value, n, files in values:
        shown = "(empty)" if value is None else json.dumps(value)
        lines.append(f"    {shown}: {n} row{'s' if n != 1 else ''} in {', '.join(files)}")
    paste = ", ".join(json.dumps(v) for v, _, _ in values if v is not None)
    lines.append(f"  Fix: add each value to the source_codes of the department that answers "
                 f"for it (params/departments/<slug>.yaml), e.g. source_codes: [{paste}]")
    return "\n".join(lines)
