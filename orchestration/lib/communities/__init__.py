"""Community detection and stable community ids across refreshes.

`detection` finds the communities of one window's interaction graph, `identity` keeps
their ids from one refresh to the next, `structure` measures each member's place in
its community; `store`, `snapshots` and `refresh` are the pipeline step around them.
Scores against ground truth (NMI, ARI, purity) live apart, in
`orchestration.lib.evaluation`.
"""

from orchestration.lib.communities.detection import (
    DEFAULT_ITERATIONS,
    DEFAULT_METHOD,
    METHODS,
    DetectionResult,
    auto_resolution,
    detect_communities,
)
from orchestration.lib.communities.identity import (
    EVENT_TYPES,
    IdentityResult,
    assign_community_ids,
    update_membership_history,
)

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_METHOD",
    "EVENT_TYPES",
    "METHODS",
    "DetectionResult",
    "IdentityResult",
    "assign_community_ids",
    "auto_resolution",
    "detect_communities",
    "update_membership_history",
]
