"""Community detection and stable community ids across refreshes.

`detection` finds the communities of one window's interaction graph, `membership`
tests whether each user is really a member of theirs, `identity` keeps
their ids from one refresh to the next, `structure` measures each member's place in
its community; `store`, `snapshots` and `refresh` are the pipeline step around them.
Scores against ground truth (NMI, ARI, purity) live apart, in
`orchestration.lib.evaluation`.
"""

from orchestration.lib.communities.detection import (
    DEFAULT_ITERATIONS,
    DEFAULT_METHOD,
    DEFAULT_RESOLUTION_RULE,
    METHODS,
    RESOLUTION_RULES,
    DetectionResult,
    asymptotic_surprise,
    auto_resolution,
    detect_communities,
)
from orchestration.lib.communities.identity import (
    EVENT_TYPES,
    IdentityResult,
    assign_community_ids,
    update_membership_history,
)
from orchestration.lib.communities.membership import (
    DEFAULT_MEMBERSHIP_ALPHA,
    MEMBERSHIP_STATUSES,
)

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_MEMBERSHIP_ALPHA",
    "DEFAULT_METHOD",
    "DEFAULT_RESOLUTION_RULE",
    "EVENT_TYPES",
    "MEMBERSHIP_STATUSES",
    "METHODS",
    "RESOLUTION_RULES",
    "DetectionResult",
    "IdentityResult",
    "asymptotic_surprise",
    "assign_community_ids",
    "auto_resolution",
    "detect_communities",
    "update_membership_history",
]
