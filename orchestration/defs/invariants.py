"""Asset checks on the Python outputs that had none: each counts the rows that break one
invariant of its table (a key that must be unique, a reference that must exist, a count
that must agree with another table, a share that must lie in [0, 1]) and passes when
every count is 0. The counts show in the Dagster UI beside the check, so a failure says
which invariant broke and on how many rows.

These are not blocking: the table's own step already wrote it in one transaction, and
the blocking checks of each domain (assignments, enriched messages, pain points,
readout...) guard what downstream models read.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from orchestration.lib.config import load_settings
from orchestration.lib.warehouse import connect

__all__ = ["INVARIANTS", "count_violations", "invariant_checks"]


def _duplicates(table: str, *columns: str) -> str:
    """SQL counting the keys (``columns``) of ``table`` that occur more than once."""
    key = ", ".join(columns)
    return f"select count(*) from (select {key} from {table} group by all having count(*) > 1)"


#: Per asset key: (description, {metric name: SQL counting the rows that break it}).
INVARIANTS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("communities", "community_snapshot_runs"): (
        "One run row per snapshot date, and its count of communities equals the detected "
        "communities of community_stats at that date.",
        {
            "duplicated_snapshot_dates": _duplicates(
                "communities.community_snapshot_runs", "snapshot_date"
            ),
            "runs_whose_community_count_differs": """
                select count(*) from communities.community_snapshot_runs as r
                where r.count_communities != (
                    select count(*) from communities.community_stats as s
                    where s.snapshot_date = r.snapshot_date and s.group_kind = 'detected')""",
        },
    ),
    ("communities", "community_events"): (
        "Every lifecycle event belongs to a stored snapshot, has a known type, and a split "
        "or a merge names the other community.",
        {
            "events_without_snapshot": """
                select count(*) from communities.community_events as e
                anti join communities.community_snapshot_runs as r
                    on e.snapshot_date = r.snapshot_date""",
            "events_of_unknown_type": """
                select count(*) from communities.community_events
                where event_type is null or event_type not in ('born', 'emerged', 'grew',
                    'shrank', 'continued', 'split', 'merged', 'dissolved')""",
            "splits_or_merges_without_other_community": """
                select count(*) from communities.community_events
                where event_type in ('split', 'merged') and related_community_id is null""",
        },
    ),
    ("communities", "community_member_metrics"): (
        "One row per snapshot and user, each a member of that community in "
        "community_assignments, with a share of ties inside in [0, 1].",
        {
            "duplicated_users": _duplicates(
                "communities.community_member_metrics", "snapshot_date", "user_id"
            ),
            "rows_not_members": """
                select count(*) from communities.community_member_metrics as m
                anti join communities.community_assignments as a
                    on a.snapshot_date = m.snapshot_date and a.user_id = m.user_id
                    and a.community_id = m.community_id and a.membership_status = 'member'""",
            "shares_out_of_range": """
                select count(*) from communities.community_member_metrics
                where not (share_inside between 0 and 1)""",
        },
    ),
    ("communities", "community_stats"): (
        "One row per snapshot and group; a detected community's member count equals its "
        "members in community_assignments; shares and conductance in [0, 1].",
        {
            "duplicated_groups": _duplicates(
                "communities.community_stats", "snapshot_date", "group_kind", "community_id"
            ),
            "member_counts_that_differ": """
                select count(*) from communities.community_stats as s
                where s.group_kind = 'detected' and s.count_members != (
                    select count(*) from communities.community_assignments as a
                    where a.snapshot_date = s.snapshot_date and a.community_id = s.community_id
                      and a.membership_status = 'member')""",
            "shares_out_of_range": """
                select count(*) from communities.community_stats
                where not (share_weight_inside between 0 and 1)
                   or not (conductance between 0 and 1)""",
        },
    ),
    ("experiments", "experiment_health"): (
        "One row per experiment; sample-ratio p-values in [0, 1].",
        {
            "duplicated_experiments": _duplicates("experiments.experiment_health", "experiment_id"),
            "p_values_out_of_range": """
                select count(*) from experiments.experiment_health
                where not (coalesce(srm_p_value, 0) between 0 and 1)
                   or not (coalesce(member_srm_p_value, 0) between 0 and 1)""",
        },
    ),
    ("experiments", "experiment_problems"): (
        "Every problem row names the problem and its reason.",
        {
            "rows_without_problem_or_reason": """
                select count(*) from experiments.experiment_problems
                where problem is null or reason is null""",
        },
    ),
    ("experiments", "experiment_spillover_summary"): (
        "One row per user experiment; adjusted p-values in [0, 1].",
        {
            "duplicated_experiments": _duplicates(
                "experiments.experiment_spillover_summary", "experiment_id"
            ),
            "p_values_out_of_range": """
                select count(*) from experiments.experiment_spillover_summary
                where not (coalesce(spillover_p_value, 0) between 0 and 1)""",
        },
    ),
    ("text", "content_terms"): (
        "Every term row belongs to an enriched message, once per (message, term), with a "
        "count of at least 1.",
        {
            "terms_of_unknown_messages": """
                select count(*) from text.content_terms as t
                anti join text.contents_enriched as e on t.content_id = e.content_id""",
            "duplicated_terms": _duplicates("text.content_terms", "content_id", "term"),
            "rows_without_term_or_count": """
                select count(*) from text.content_terms
                where term is null or term_count is null or term_count < 1""",
        },
    ),
    ("text", "pain_point_runs"): (
        "One run row per community snapshot it was computed for, and its count of pain "
        "points equals the rows of community_pain_points at that date.",
        {
            "duplicated_snapshot_dates": _duplicates("text.pain_point_runs", "snapshot_date"),
            "runs_without_community_snapshot": """
                select count(*) from text.pain_point_runs as p
                anti join communities.community_snapshot_runs as r
                    on p.snapshot_date = r.snapshot_date""",
            "runs_whose_count_differs": """
                select count(*) from text.pain_point_runs as p
                where p.count_pain_points != (
                    select count(*) from text.community_pain_points as c
                    where c.snapshot_date = p.snapshot_date)""",
        },
    ),
}


def count_violations(con, queries: Mapping[str, str]) -> dict[str, int]:
    """Run each counting query; {metric name: rows that break it}."""
    return {name: int(con.execute(sql).fetchone()[0]) for name, sql in queries.items()}


def _check(key: tuple[str, str], description: str, queries: dict[str, str]):
    @dg.asset_check(
        asset=dg.AssetKey(list(key)),
        name=f"{key[1]}_invariants_hold",
        description=description,
        blocking=False,
    )
    def check() -> dg.AssetCheckResult:
        with connect(load_settings().duckdb_path, read_only=True) as con:
            counts = count_violations(con, queries)
        return dg.AssetCheckResult(passed=not any(counts.values()), metadata=counts)

    return check


#: One check per table of INVARIANTS, for the Definitions.
invariant_checks = [_check(key, *spec) for key, spec in INVARIANTS.items()]
