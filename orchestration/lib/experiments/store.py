"""Read the experiment readout's inputs from the warehouse and write its output.

The inputs are a few rows per experiment arm (sufficient statistics computed in dbt,
``int_experiment_metric_sums_aggregated``) and the accepted experiments. The outputs
``experiments.experiment_results``, ``experiment_health`` and ``experiment_problems``
are dbt sources (``models/staging/experiments``), rewritten whole on every refresh in one
transaction with the column types declared in :data:`TABLES`. The design help reads
``int_experiment_power_sums_aggregated`` and rewrites ``experiments.experiment_power``
(:data:`POWER_TABLES`) the same way.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.lib.warehouse.tables import replace_tables

__all__ = [
    "INPUT_MODELS",
    "POWER_INPUT_MODELS",
    "POWER_TABLES",
    "SCHEMA",
    "TABLES",
    "read_design_inputs",
    "read_experiments",
    "read_power_sums",
    "read_sums",
    "write_power",
    "write_readout",
]

SCHEMA = "experiments"

#: The dbt models this step reads (the Dagster asset depends on them).
INPUT_MODELS = ("int_experiment_metric_sums_aggregated", "stg_product__experiments")

#: The dbt model the design help (``experiment_power``) reads.
POWER_INPUT_MODELS = ("int_experiment_power_sums_aggregated",)

POWER_TABLES: dict[str, str] = {
    "experiment_power": """
        metric_name varchar, unit_type varchar, window_start_at timestamp,
        window_end_at timestamp, count_units bigint, count_members bigint,
        avg_members_per_unit double, cluster_size_cv double, icc double,
        design_effect double, metric_mean double, metric_stddev double,
        pre_post_correlation double, alpha double, power double, traffic_split varchar,
        count_units_control double, count_units_variant double, mde_standardized double,
        mde_relative double, mde_relative_cuped double""",
}

TABLES: dict[str, str] = {
    "experiment_results": """
        experiment_id varchar, metric_name varchar, is_primary boolean, variant varchar,
        analysis_unit varchar, adjustment varchar, units bigint, mean_control double,
        mean_variant double, lift_absolute double, lift_relative double,
        lift_relative_ci_low double, lift_relative_ci_high double, p_value double,
        p_value_adjusted double, variance_reduction double""",
    "experiment_health": """
        experiment_id varchar, units_per_variant varchar, srm_p_value double,
        has_srm boolean, members_per_variant varchar, member_srm_p_value double,
        has_member_srm boolean""",
    "experiment_problems": """
        experiment_id varchar, problem varchar, unit_id varchar, reason varchar,
        raw_values varchar""",
}


def read_experiments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``experiment_id, unit_type, primary_metric, traffic_split`` of accepted experiments."""
    return con.execute(
        "select experiment_id, unit_type, primary_metric, traffic_split"
        " from main.stg_product__experiments order by experiment_id"
    ).df()


def read_sums(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per-arm sufficient statistics (``int_experiment_metric_sums_aggregated``)."""
    return con.execute(
        "select * from main.int_experiment_metric_sums_aggregated"
        " order by experiment_id, metric_name, variant"
    ).df()


def read_power_sums(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The design help's sums per (metric, unit type), from the power sums model."""
    return con.execute(
        "select * from main.int_experiment_power_sums_aggregated order by metric_name, unit_type"
    ).df()


def read_design_inputs(
    con: duckdb.DuckDBPyConnection, window_days: int, as_of: pd.Timestamp | None = None
) -> tuple[pd.Timestamp, pd.Timestamp, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Inputs of the experiment design, at the latest community snapshot (by ``as_of``).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Warehouse connection (read only is enough).
    window_days : int
        Interaction window (the weeks starting within ``window_days`` before the
        snapshot, as the detection's ``community_window_days``).
    as_of : pandas.Timestamp, optional
        The assignment time: the design uses the last snapshot on or before its day,
        the snapshot whose members the readout (``int_experiment_cluster_metrics_measured``)
        gives each assigned community. None: the latest snapshot.

    Returns
    -------
    tuple
        ``snapshot_date``, the last event's time, the snapshot's members
        (``community_id, user_id``; ``stg_communities__assignments`` keeps members
        only), the detected communities' ``community_id, health_score``
        (``fct_community_health``) and the interaction graph ``user_id_a, user_id_b,
        weight`` (``int_user_edges_weekly``).
    """
    day = None if as_of is None else pd.Timestamp(as_of).date()
    snapshot, last_event = con.execute(
        "select (select max(snapshot_date) from main.stg_communities__assignments"
        " where ?::date is null or snapshot_date <= ?::date),"
        " (select max(occurred_at) from main.int_events_priced)",
        [day, day],
    ).fetchone()
    if snapshot is None:
        raise ValueError(
            "no community snapshot in the warehouse: run the pipeline first"
            if day is None
            else f"no community snapshot on or before {day}: pick a later --assigned-at"
        )
    members = con.execute(
        "select community_id, user_id from main.stg_communities__assignments"
        " where snapshot_date = ? and membership_status = 'member' order by all",
        [snapshot],
    ).df()
    health = con.execute(
        "select community_id, health_score from main.fct_community_health"
        " where snapshot_date = ? and group_kind = 'detected' order by community_id",
        [snapshot],
    ).df()
    edges = con.execute(
        "select user_id_a, user_id_b, sum(interaction_weight) as weight"
        " from main.int_user_edges_weekly"
        " where week_start_date > ?::date - ?::integer and week_start_date <= ?"
        " group by all order by all",
        [snapshot, window_days, snapshot],
    ).df()
    return pd.Timestamp(snapshot), pd.Timestamp(last_event), members, health, edges


def write_readout(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    """Replace every row of the three output tables, in one transaction.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection.
    frames : dict of str to pandas.DataFrame
        One frame per table of :data:`TABLES`, with at least its columns.
    """
    _replace_tables(con, TABLES, frames)


def write_power(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Replace every row of ``experiments.experiment_power`` (:data:`POWER_TABLES`)."""
    _replace_tables(con, POWER_TABLES, {"experiment_power": frame})


def _replace_tables(
    con: duckdb.DuckDBPyConnection, tables: dict[str, str], frames: dict[str, pd.DataFrame]
) -> None:
    replace_tables(con, SCHEMA, tables, frames)


# --------------------------------------------------------------------------- spillover
# The interference step (lib/experiments/spillover.py): per-unit exposures and outcomes
# of user experiments in, the exposure bins, estimates and per-experiment summary out.

__all__ += [
    "SPILLOVER_INPUT_MODELS",
    "SPILLOVER_TABLES",
    "read_spillover_units",
    "read_user_experiments",
    "write_spillover",
]

#: The dbt models the spillover step reads.
SPILLOVER_INPUT_MODELS = ("int_experiment_spillover_units_measured", "stg_product__experiments")

SPILLOVER_TABLES: dict[str, str] = {
    "experiment_spillover": """
        experiment_id varchar, metric_name varchar, exposure_kind varchar,
        exposure_level varchar, exposure_low double, exposure_high double, units bigint,
        mean_exposure double, mean_outcome double, share_units_exposed double,
        spillover_baseline double, spillover_slope double, spillover_estimate double,
        ci_low double, ci_high double, p_value double, p_value_adjusted double,
        spillover_share double, lift_relative double, has_spillover boolean,
        is_material boolean""",
    "experiment_spillover_summary": """
        experiment_id varchar, spillover_metric_name varchar,
        spillover_exposure_kind varchar, spillover_share double, spillover_p_value double,
        has_spillover boolean, recommend_randomize_by_community boolean""",
}


def read_user_experiments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Ids of the accepted user-randomized experiments."""
    return [
        row[0]
        for row in con.execute(
            "select experiment_id from main.stg_product__experiments"
            " where unit_type = 'user' order by experiment_id"
        ).fetchall()
    ]


def read_spillover_units(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per-unit outcomes and exposures (``int_experiment_spillover_units_measured``)."""
    return con.execute(
        "select * from main.int_experiment_spillover_units_measured"
        " order by experiment_id, metric_name, unit_id"
    ).df()


def write_spillover(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    """Replace every row of the spillover tables (:data:`SPILLOVER_TABLES`)."""
    _replace_tables(con, SPILLOVER_TABLES, frames)
