"""Read the attribution's inputs from the warehouse and write its output.

The inputs are computed in dbt and DuckDB: the intervention windows
(``int_intervention_windows_dated``), the donor candidates with their exclusion reasons
(``fct_intervention_donors``), the daily members' sums of each target and its eligible
candidates over its window (``int_intervention_group_days_measured``, a few rows per
group and day) and the global KPIs over each post-period (``fct_kpi_daily``). The output
``attribution.intervention_attribution`` is a dbt source (``models/staging/attribution``),
rewritten whole on every refresh in one transaction with the types of :data:`TABLES`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.lib.warehouse.tables import ddl_columns, ddl_names, stored_columns, transaction

__all__ = [
    "INPUT_MODELS",
    "SCHEMA",
    "TABLES",
    "read_candidates",
    "read_kpis",
    "read_panel",
    "read_windows",
    "write_attribution",
]

SCHEMA = "attribution"

#: The dbt models this step reads (the Dagster asset depends on them).
INPUT_MODELS = (
    "int_intervention_windows_dated",
    "fct_intervention_donors",
    "int_intervention_group_days_measured",
    "fct_kpi_daily",
)

TABLES: dict[str, str] = {
    "intervention_attribution": """
        intervention_id varchar, target_type varchar, target_id varchar, group_kind varchar,
        community_id varchar, intervention_type varchar, started_at timestamp,
        ended_at timestamp, snapshot_date date, pre_start_date date, pre_end_date date,
        post_start_date date, post_end_date date, status varchar, n_candidates bigint,
        n_eligible bigint, n_donors bigint, donor_ids varchar, target_pre_rate double,
        target_post_rate double, counterfactual_rate double, did_effect double,
        did_ci_low double, did_ci_high double, did_p_value double,
        did_placebo_p_value double, relative_effect double, relative_ci_low double,
        relative_ci_high double, synth_effect double, synth_relative_effect double,
        synth_pre_rmse double, pre_trend_difference double, pre_trend_p_value double,
        has_pre_trend boolean, avg_members_post double, share_of_dau double,
        share_of_posts double, contribution_dau double, contribution_dau_ci_low double,
        contribution_dau_ci_high double, contribution_posts_per_day double,
        contribution_posts_ci_low double, contribution_posts_ci_high double""",
}


def read_windows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every accepted intervention with its periods (``int_intervention_windows_dated``)."""
    return con.execute(
        "select * from main.int_intervention_windows_dated order by intervention_id"
    ).df()


def read_candidates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The donor candidates of every intervention (``fct_intervention_donors``)."""
    return con.execute(
        "select intervention_id, group_kind, community_id, lookalike_rank, is_eligible,"
        " exclusion_reason from main.fct_intervention_donors order by intervention_id,"
        " lookalike_rank"
    ).df()


def read_panel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Daily members' sums of each target and its eligible candidates over its window."""
    return con.execute(
        """
        with windows as (select * from main.int_intervention_windows_dated),
        units as (
            select intervention_id, group_kind, community_id from windows
            union
            select intervention_id, group_kind, community_id
            from main.fct_intervention_donors where is_eligible
        )
        select
            units.intervention_id, days.community_id, days.activity_date,
            days.count_members, days.count_active_members, days.count_activity_events,
            days.count_contents
        from units
        inner join windows using (intervention_id)
        inner join main.int_intervention_group_days_measured as days
            on days.group_kind = units.group_kind
            and days.community_id = units.community_id
            and days.activity_date between windows.pre_start_date and windows.post_end_date
        order by all
        """
    ).df()


def read_kpis(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """DAU and contents per day (``fct_kpi_daily``) averaged over each post-period."""
    return con.execute(
        """
        select
            windows.intervention_id,
            avg(kpi.count_dau) as avg_dau,
            avg(kpi.count_contents) as avg_contents,
        from main.int_intervention_windows_dated as windows
        inner join main.fct_kpi_daily as kpi
            on kpi.kpi_date between windows.post_start_date and windows.post_end_date
        group by all
        order by all
        """
    ).df()


def write_attribution(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Replace every row of ``attribution.intervention_attribution``, in one transaction."""
    name, ddl = "intervention_attribution", TABLES["intervention_attribution"]
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        stored = stored_columns(con, SCHEMA, name)
        if stored and stored != ddl_names(ddl):
            con.execute(f"drop table {SCHEMA}.{name}")
        con.execute(f"create table if not exists {SCHEMA}.{name} ({ddl})")
        con.execute(f"delete from {SCHEMA}.{name}")
        if frame.empty:
            return
        casts = ", ".join(f"cast({column} as {kind})" for column, kind in ddl_columns(ddl))
        con.register("_attribution", frame[ddl_names(ddl)])
        con.execute(f"insert into {SCHEMA}.{name} select {casts} from _attribution")
        con.unregister("_attribution")
