"""Reports: what each notebook kind displays, one method per packet section."""

from .briefing import BriefingReport
from .citywide import CitywideReport
from .contact_center import ContactCenterReport
from .department import HEADLINE, DepartmentReport, quality_note
from .roundtable import RoundtableReport

__all__ = ["BriefingReport", "CitywideReport", "ContactCenterReport",
           "DepartmentReport", "HEADLINE", "RoundtableReport",
           "quality_note"]
