"""Read the intervention forecast's inputs from the warehouse and write its outputs.

Inputs (dbt marts): the attributed interventions (``fct_intervention_attribution``)
joined to their target's row of ``fct_community_health`` at the snapshot the
attribution matched donors at (the last one before the start), and the groups of the
latest snapshot (the candidates). Outputs, rewritten whole in one transaction, dbt
sources (``models/staging/forecasts``):

- ``forecasts.intervention_forecasts``: one row per (candidate group, intervention
  type), read back by ``fct_intervention_forecasts``;
- ``forecasts.intervention_forecast_training``: one row per attributed intervention,
  whether the fit used it and, if not, why (nothing is dropped silently).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.lib.warehouse.tables import replace_tables

__all__ = [
    "HEALTH_COLUMNS",
    "INPUT_MODELS",
    "SCHEMA",
    "TABLES",
    "read_candidates",
    "read_training",
    "write_forecasts",
]

SCHEMA = "forecasts"

#: The dbt models this step reads (the Dagster asset depends on them).
INPUT_MODELS = ("fct_intervention_attribution", "fct_community_health")

#: ``fct_community_health`` columns the features are computed from.
HEALTH_COLUMNS = (
    "count_members",
    "member_growth_rate_4_weeks",
    "count_key_members",
    "key_member_active_share",
    "messages_per_member",
    "share_members_active",
    "share_weight_inside",
    "cohesion_score",
    "activity_score",
    "growth_score",
    "count_active_members",
    "count_messages",
)

TABLES: dict[str, str] = {
    "intervention_forecasts": """
        community_id varchar, group_kind varchar, snapshot_date date,
        intervention_type varchar, predicted_effect double, effect_ci_low double,
        effect_ci_high double, expected_dau_contribution double,
        expected_posts_per_day_contribution double, top_features varchar,
        n_training_interventions bigint, model_version varchar""",
    "intervention_forecast_training": """
        intervention_id varchar, intervention_type varchar, group_kind varchar,
        community_id varchar, snapshot_date date, started_at timestamp, status varchar,
        is_used boolean, exclusion_reason varchar, log_effect double, log_effect_se double,
        dau_effect_per_member double, dau_effect_se double,
        posts_effect_per_member double, posts_effect_se double, model_version varchar""",
}

_HEALTH = ", ".join(f"health.{c}" for c in HEALTH_COLUMNS)


def read_training(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every attributed intervention with its estimates and its target's health row.

    Returns
    -------
    pandas.DataFrame
        ``fct_intervention_attribution``'s identifiers, status, effects and intervals,
        ``n_donors`` and ``avg_members_post``, ``has_health_row`` and the
        :data:`HEALTH_COLUMNS` of the target at ``snapshot_date`` (null without one),
        by intervention id.
    """
    return con.execute(
        f"""
        select
            attribution.intervention_id, attribution.intervention_type,
            attribution.group_kind, attribution.community_id, attribution.snapshot_date,
            attribution.started_at, attribution.status, attribution.n_donors,
            attribution.relative_effect, attribution.relative_ci_low,
            attribution.relative_ci_high, attribution.avg_members_post,
            attribution.contribution_dau, attribution.contribution_dau_ci_low,
            attribution.contribution_dau_ci_high, attribution.contribution_posts_per_day,
            attribution.contribution_posts_ci_low, attribution.contribution_posts_ci_high,
            health.community_id is not null as has_health_row,
            {_HEALTH}
        from main.fct_intervention_attribution as attribution
        left join main.fct_community_health as health
            on health.snapshot_date = attribution.snapshot_date
            and health.group_kind = attribution.group_kind
            and health.community_id = attribution.community_id
        order by attribution.intervention_id
        """
    ).df()


def read_candidates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The groups of the latest snapshot of ``fct_community_health`` (the candidates).

    Returns
    -------
    pandas.DataFrame
        ``snapshot_date, group_kind, community_id`` and the :data:`HEALTH_COLUMNS`, by
        group kind and id.
    """
    return con.execute(
        f"""
        select health.snapshot_date, health.group_kind, health.community_id, {_HEALTH}
        from main.fct_community_health as health
        where health.snapshot_date = (select max(snapshot_date) from main.fct_community_health)
        order by health.group_kind, health.community_id
        """
    ).df()


def write_forecasts(
    con: duckdb.DuckDBPyConnection, forecasts: pd.DataFrame, training: pd.DataFrame
) -> None:
    """Replace every row of both output tables, in one transaction."""
    replace_tables(
        con,
        SCHEMA,
        TABLES,
        {"intervention_forecasts": forecasts, "intervention_forecast_training": training},
    )
