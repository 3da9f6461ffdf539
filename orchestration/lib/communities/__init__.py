"""Community detection, stable community ids across refreshes, and partition metrics."""

from orchestration.lib.communities.detection import (
    DEFAULT_ITERATIONS,
    DEFAULT_METHOD,
    METHODS,
    DetectionResult,
    auto_resolution,
    detect_communities,
    edges_from_duckdb,
)
from orchestration.lib.communities.identity import (
    EVENT_TYPES,
    IdentityResult,
    assign_community_ids,
    update_membership_history,
)
from orchestration.lib.communities.metrics import (
    adjusted_rand_index,
    coverage,
    normalized_mutual_info,
    purity,
)

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_METHOD",
    "EVENT_TYPES",
    "METHODS",
    "DetectionResult",
    "IdentityResult",
    "adjusted_rand_index",
    "assign_community_ids",
    "auto_resolution",
    "coverage",
    "detect_communities",
    "edges_from_duckdb",
    "normalized_mutual_info",
    "purity",
    "update_membership_history",
]
