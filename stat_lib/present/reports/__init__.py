"""Reports: what each notebook kind displays, one method per packet section."""

from .briefing import BriefingReport
from .citywide import CitywideReport
from .department import HEADLINE, DepartmentReport, quality_note
from .roundtable import RoundtableReport

__all__ = ["BriefingReport", "CitywideReport", "DepartmentReport", "HEADLINE", "RoundtableReport",
           "quality_note"]
