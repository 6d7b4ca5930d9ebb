"""Reports: what each notebook kind displays, one method per packet section."""

from .citywide import CitywideReport
from .department import HEADLINE, DepartmentReport, quality_note

__all__ = ["CitywideReport", "DepartmentReport", "HEADLINE", "quality_note"]
