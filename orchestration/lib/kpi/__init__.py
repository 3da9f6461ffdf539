"""KPI analytics on daily series: change points of growth curves and their context."""

from orchestration.lib.kpi.inflection import (
    CONTEXT_COLUMNS,
    INFLECTION_COLUMNS,
    attach_context,
    detect_inflections,
)

__all__ = [
    "CONTEXT_COLUMNS",
    "INFLECTION_COLUMNS",
    "attach_context",
    "detect_inflections",
]
