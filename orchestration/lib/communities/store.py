"""Read the inputs of community snapshots from the warehouse and write their outputs.

The tables live in the schema ``communities`` and are dbt sources (see
``models/staging/communities``). Each snapshot is written in one transaction after
deleting any rows of the same date, so re-running is idempotent and a provisional
snapshot (week in progress) is simply replaced.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from orchestration.lib.communities.snapshots import SnapshotResult
from orchestration.lib.warehouse.tables import insert_frame, transaction

__all__ = [
    "INPUT_MODELS",
    "SCHEMA",
    "TABLES",
    "activity_span",
    "carry_snapshot_forward",
    "delete_snapshots",
    "drop_staged_co_memberships",
    "ensure_tables",
    "interaction_edges",
    "read_declared_membership",
    "read_previous_assignment",
    "read_previous_candidates",
    "read_users",
    "read_window_edges",
    "recent_edges",
    "row_counts",
    "stage_co_memberships",
    "stored_fingerprints",
    "stored_snapshots",
    "write_snapshot",
]

SCHEMA = "communities"

#: The dbt models and seeds this step reads (the Dagster asset depends on them).
INPUT_MODELS = (
    "int_user_edges_weekly",
    "int_co_memberships_paired",
    "dim_users",
    "fct_user_activity_daily",
    "stg_product__group_memberships",
    "edge_kind_weights",
)

TABLES: dict[str, str] = {
    "community_snapshot_runs": """
        snapshot_date date, is_provisional boolean, window_start_date date, method varchar,
        resolution double, modularity double, count_users bigint, count_assigned bigint,
        count_unassigned bigint, count_communities bigint, count_edges bigint,
        count_split bigint, seconds double, settings_fingerprint varchar,
        count_dormant bigint, count_fringe bigint, count_candidate_communities bigint,
        count_candidates bigint, count_recent_split bigint, count_undone_splits bigint,
        count_undone_merges bigint, is_carried_forward boolean""",
    "community_assignments": (
        "snapshot_date date, user_id varchar, community_id varchar, membership_status varchar"
    ),
    "community_events": """
        snapshot_date date, community_id varchar, event_type varchar,
        related_community_id varchar, size_before bigint, size_after bigint, overlap double""",
    "community_stats": """
        snapshot_date date, group_kind varchar, community_id varchar, count_members bigint,
        count_internal_edges bigint, internal_weight double, boundary_weight double,
        volume double, internal_density double, share_weight_inside double,
        conductance double, avg_clustering double""",
    "community_member_metrics": """
        snapshot_date date, user_id varchar, community_id varchar, weighted_degree double,
        weighted_degree_inside double, share_inside double, count_neighbours bigint,
        count_neighbours_inside bigint, pagerank_in_community double,
        participation_coefficient double, count_communities_touched bigint,
        top_other_community_id varchar, weight_to_top_other double""",
}

#: Temporary table of :func:`stage_co_memberships`.
_STAGED_CO_MEMBERSHIPS = "temp.main._community_co_memberships"

#: Prefix of declared groups' ids when they are scored next to detected communities.
DECLARED_PREFIX = "group:"


def ensure_tables(con: duckdb.DuckDBPyConnection, *, recreate: bool = False) -> None:
    """Create the output schema and tables (dropping them first when ``recreate``).

    Everything runs in one transaction: a run killed half-way through a recreation
    leaves the previous tables whole (none dropped, none half made)."""
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        for name, columns in TABLES.items():
            if recreate:
                con.execute(f"drop table if exists {SCHEMA}.{name}")
            con.execute(f"create table if not exists {SCHEMA}.{name} ({columns})")
        # Tables made before the flag existed: their snapshots were all computed in full.
        con.execute(
            f"alter table {SCHEMA}.community_snapshot_runs "
            "add column if not exists is_carried_forward boolean default false"
        )


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every output table."""
    return {
        name: int(con.execute(f"select count(*) from {SCHEMA}.{name}").fetchall()[0][0])
        for name in TABLES
    }


def activity_span(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """First and last day with events (from ``fct_user_activity_daily``)."""
    row = con.execute(
        "select min(activity_date), max(activity_date) from main.fct_user_activity_daily"
    ).fetchall()[0]
    return None if row[0] is None else (row[0], row[1])


def stored_fingerprints(con: duckdb.DuckDBPyConnection) -> set[str | None]:
    """Settings fingerprints of the stored snapshots (None for tables made before
    fingerprints existed; empty when nothing is stored yet)."""
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            f"where table_schema = '{SCHEMA}' and table_name = 'community_snapshot_runs'"
        ).fetchall()
    }
    if not columns:
        return set()
    if "settings_fingerprint" not in columns:
        count = con.execute(f"select count(*) from {SCHEMA}.community_snapshot_runs").fetchall()
        return {None} if count[0][0] else set()
    rows = con.execute(
        f"select distinct settings_fingerprint from {SCHEMA}.community_snapshot_runs"
    ).fetchall()
    return {row[0] for row in rows}


def stored_snapshots(con: duckdb.DuckDBPyConnection) -> dict[date, bool]:
    """Snapshot dates already computed, with their ``is_provisional`` flag."""
    rows = con.execute(
        f"select snapshot_date, is_provisional from {SCHEMA}.community_snapshot_runs"
    ).fetchall()
    return {row[0]: bool(row[1]) for row in rows}


def delete_snapshots(con: duckdb.DuckDBPyConnection, dates: list[date]) -> None:
    """Remove every row of these snapshot dates from every output table, in one
    transaction (a kill half-way leaves every table as it was)."""
    if not dates:
        return
    with transaction(con):
        _delete_rows(con, dates)


def _delete_rows(con: duckdb.DuckDBPyConnection, dates: list[date]) -> None:
    """The deletes of :func:`delete_snapshots`, inside the caller's transaction."""
    for name in TABLES:
        con.executemany(
            f"delete from {SCHEMA}.{name} where snapshot_date = ?", [[d] for d in dates]
        )


def read_previous_assignment(con: duckdb.DuckDBPyConnection, before: date) -> pd.DataFrame | None:
    """The members (fringe users left out) of the latest stored snapshot before
    ``before``, or None: the warm start and the identities follow the members."""
    latest = con.execute(
        f"select max(snapshot_date) from {SCHEMA}.community_snapshot_runs where snapshot_date < ?",
        [before],
    ).fetchall()[0][0]
    if latest is None:
        return None
    return con.execute(
        f"select user_id, community_id from {SCHEMA}.community_assignments "
        "where snapshot_date = ? and membership_status = 'member' order by user_id",
        [latest],
    ).df()


def read_previous_candidates(con: duckdb.DuckDBPyConnection, before: date) -> pd.DataFrame | None:
    """The candidate communities (new, awaiting confirmation) of the latest stored
    snapshot before ``before``, or None."""
    latest = con.execute(
        f"select max(snapshot_date) from {SCHEMA}.community_snapshot_runs where snapshot_date < ?",
        [before],
    ).fetchall()[0][0]
    if latest is None:
        return None
    return con.execute(
        f"select user_id, community_id from {SCHEMA}.community_assignments "
        "where snapshot_date = ? and membership_status = 'candidate' order by user_id",
        [latest],
    ).df()


def read_window_edges(
    con: duckdb.DuckDBPyConnection,
    snapshot_date: date,
    window_days: int,
    *,
    horizon_days: int | None = None,
    half_life_days: float | None = None,
    recent_days: int = 7,
    co_memberships: str = "main.int_co_memberships_paired",
) -> pd.DataFrame:
    """The graph as of ``snapshot_date``, in one read.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Warehouse connection.
    snapshot_date : date
        Last day of the graph.
    window_days : int
        The measurement window (dbt var ``community_window_days``): ``interaction_weight``
        sums the weeks that start inside it, undecayed.
    horizon_days : int, optional
        How far back the detection graph reaches (default ``window_days``).
    half_life_days : float, optional
        Half-life of the detection weights: a week's interaction weight counts
        ``0.5 ** (age / half_life_days)``, ``age`` the days from the week's middle (at
        most the snapshot) to the snapshot. None keeps every week of the horizon at full
        weight (a hard window).
    recent_days : int, default 7
        ``recent_interaction_weight`` sums the weeks that overlap the last
        ``recent_days`` days (on a Sunday, the week that ends with it; on a weekday, the
        week in progress and the last complete one).
    co_memberships : str, default "main.int_co_memberships_paired"
        Relation holding ``int_co_memberships_paired``. That model is a view, which
        re-joins every group membership on each read (8 s on the 30,000-user demo): a
        refresh reads it once into a temporary table (:func:`stage_co_memberships`)
        and passes that.

    Returns
    -------
    pandas.DataFrame
        ``user_id_a``, ``user_id_b``, ``edge_weight`` (detection: the decayed interaction
        weight of the horizon, rescaled so that a tie steady over the horizon weighs what
        it weighs in the undecayed window, plus the co-membership weight of declared
        groups shared at some point of the window, from the edge_kind_weights seed),
        ``interaction_weight`` (behaviour alone, undecayed, in the window: cohesion and
        member figures use it, see :func:`interaction_edges`, so a declared group is not
        "dense" merely by being declared) and ``recent_interaction_weight``. Sums are
        decimal so the result does not depend on the order DuckDB adds rows in: the same
        input must give the same communities.
    """
    horizon = window_days if horizon_days is None else int(horizon_days)
    if horizon < 7 or window_days < 7:
        raise ValueError(f"window_days and horizon_days must be >= 7, got {window_days}, {horizon}")
    window_start = snapshot_date - timedelta(days=window_days - 1)
    horizon_start = snapshot_date - timedelta(days=max(horizon, window_days) - 1)
    recent_start = snapshot_date - timedelta(days=max(recent_days, 1) - 1 + 6)
    decay = _week_decay(horizon, window_days, half_life_days)
    return con.execute(
        f"""
        with co_membership_weight as (
            select weight from main.edge_kind_weights where interaction_kind = 'co_membership'
        ),
        weeks as (
            select user_id_a, user_id_b, week_start_date, interaction_weight,
                greatest(date_diff('day', week_start_date, ?::date) - 3, 0) as age_days
            from main.int_user_edges_weekly
            where week_start_date between ? and ?
        ),
        interactions as (
            select user_id_a, user_id_b,
                case when week_start_date >= ? then interaction_weight else 0.0 end
                    as interaction_weight,
                interaction_weight * decay as detection_weight,
                case when week_start_date >= ? then interaction_weight else 0.0 end
                    as recent_interaction_weight,
                0.0 as co_membership_weight
            from (select *, {decay} as decay from weeks)
        ),
        co_memberships as (
            select user_id_a, user_id_b, 0.0 as interaction_weight, 0.0 as detection_weight,
                0.0 as recent_interaction_weight,
                co_membership_weight * (select weight from co_membership_weight)
                    as co_membership_weight
            from {co_memberships}
            where cast(shared_since as date) <= ?
              and (shared_until is null or cast(shared_until as date) >= ?)
        ),
        summed as (
            select user_id_a, user_id_b,
                sum(cast(interaction_weight as decimal(18, 6))) as interaction_weight,
                sum(cast(detection_weight as decimal(18, 6))) as detection_weight,
                sum(cast(recent_interaction_weight as decimal(18, 6)))
                    as recent_interaction_weight,
                sum(cast(co_membership_weight as decimal(18, 6))) as co_membership_weight
            from (select * from interactions union all select * from co_memberships)
            group by all
        )
        select user_id_a, user_id_b,
            cast(detection_weight + co_membership_weight as double) as edge_weight,
            cast(interaction_weight as double) as interaction_weight,
            cast(recent_interaction_weight as double) as recent_interaction_weight
        from summed
        where detection_weight + co_membership_weight > 0 or interaction_weight > 0
        order by user_id_a, user_id_b
        """,
        [
            snapshot_date,
            horizon_start,
            snapshot_date,
            window_start,
            recent_start,
            snapshot_date,
            window_start,
        ],
    ).df()


def stage_co_memberships(con: duckdb.DuckDBPyConnection) -> str:
    """Read the view ``int_co_memberships_paired`` once into a temporary table (the
    columns :func:`read_window_edges` uses) and return its name."""
    con.execute(
        f"create or replace temp table {_STAGED_CO_MEMBERSHIPS} as "
        "select user_id_a, user_id_b, co_membership_weight, shared_since, shared_until "
        "from main.int_co_memberships_paired"
    )
    return _STAGED_CO_MEMBERSHIPS


def drop_staged_co_memberships(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the table of :func:`stage_co_memberships`."""
    con.execute(f"drop table if exists {_STAGED_CO_MEMBERSHIPS}")


def _week_decay(horizon_days: int, window_days: int, half_life_days: float | None) -> str:
    """SQL expression of a week's detection weight factor (column ``age_days``).

    ``0.5 ** (age_days / half_life_days)``, times the constant that makes a tie of equal
    weight every week of the horizon sum to what it sums to over the undecayed window
    (so the co-membership weight keeps its share); 1 for a hard window.
    """
    if half_life_days is None:
        return "1.0"
    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be > 0, got {half_life_days}")
    weeks = max(1, horizon_days // 7)
    ages = [3 + 7 * k for k in range(weeks)]
    total = sum(0.5 ** (age / half_life_days) for age in ages)
    scale = (window_days // 7) / total
    return f"{scale!r} * power(0.5, age_days / {float(half_life_days)!r})"


def recent_edges(window_edges: pd.DataFrame) -> pd.DataFrame:
    """The pairs of :func:`read_window_edges` that interacted in its recent period, with
    that period's interaction weight as ``edge_weight``."""
    tied = window_edges[window_edges["recent_interaction_weight"] > 0]
    return pd.DataFrame(
        {
            "user_id_a": tied["user_id_a"].to_numpy(),
            "user_id_b": tied["user_id_b"].to_numpy(),
            "edge_weight": tied["recent_interaction_weight"].to_numpy(),
        }
    )


def interaction_edges(window_edges: pd.DataFrame) -> pd.DataFrame:
    """The behaviour-only graph of :func:`read_window_edges` (pairs that interacted)."""
    tied = window_edges[window_edges["interaction_weight"] > 0]
    return pd.DataFrame(
        {
            "user_id_a": tied["user_id_a"].to_numpy(),
            "user_id_b": tied["user_id_b"].to_numpy(),
            "edge_weight": tied["interaction_weight"].to_numpy(),
        }
    )


def read_users(con: duckdb.DuckDBPyConnection, snapshot_date: date) -> pd.Series:
    """Users signed up by the end of ``snapshot_date``. (Users tied in the window's graph
    are labelled too: a provisional snapshot reads whole weeks, which can reach a few
    days past its date.)"""
    return con.execute(
        "select user_id from main.dim_users where signup_date <= ? order by user_id",
        [snapshot_date],
    ).df()["user_id"]


def read_declared_membership(con: duckdb.DuckDBPyConnection, snapshot_date: date) -> pd.DataFrame:
    """Members of declared groups at the end of ``snapshot_date``, ids prefixed."""
    return con.execute(
        f"""
        select distinct user_id, '{DECLARED_PREFIX}' || group_id as community_id
        from main.stg_product__group_memberships
        where cast(joined_at as date) <= ?
          and (left_at is null or cast(left_at as date) > ?)
        order by all
        """,
        [snapshot_date, snapshot_date],
    ).df()


def write_snapshot(
    con: duckdb.DuckDBPyConnection,
    result: SnapshotResult,
    *,
    is_provisional: bool,
    window_start: date,
) -> None:
    """Replace one snapshot's rows in every output table, in one transaction."""
    snapshot_date = result.run["snapshot_date"]
    run = pd.DataFrame(
        [
            {
                **result.run,
                "is_provisional": is_provisional,
                "window_start_date": window_start,
                "is_carried_forward": False,
            }
        ]
    )
    frames = {
        "community_snapshot_runs": run,
        "community_assignments": result.assignments,
        "community_events": result.events,
        "community_stats": result.stats,
        "community_member_metrics": result.members,
    }
    with transaction(con):
        _delete_rows(con, [snapshot_date])
        for name, frame in frames.items():
            insert_frame(con, SCHEMA, name, TABLES[name], frame)


def carry_snapshot_forward(
    con: duckdb.DuckDBPyConnection,
    source_date: date,
    snapshot_date: date,
    *,
    is_provisional: bool,
    window_start: date,
    count_users: int,
    declared_stats: pd.DataFrame | None,
    seconds: float,
) -> None:
    """Write the snapshot ``snapshot_date`` as a copy of the stored ``source_date``.

    For a snapshot whose computation would repeat the source's step for step (see
    :mod:`orchestration.lib.communities.refresh`): every row of the source is copied
    under the new date, in one transaction after deleting any rows of that date. The
    run row takes the new ``is_provisional``, ``window_start_date``, ``seconds``,
    ``count_users`` (users signed up since have no tie, so they only add to the
    unassigned) and ``is_carried_forward`` true.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection.
    source_date : date
        The stored snapshot to copy (the latest one before ``snapshot_date``).
    snapshot_date : date
        The snapshot written.
    is_provisional : bool
        Whether the new snapshot is the week in progress.
    window_start : date
        First day of its window.
    count_users : int
        Its users (the run's ``count_users``).
    declared_stats : pandas.DataFrame or None
        The declared groups' rows of ``community_stats`` (``group_kind`` declared,
        without ``snapshot_date``) when the declared membership changed since the
        source; None copies the source's.
    seconds : float
        Time the snapshot took.
    """
    with transaction(con):
        _delete_rows(con, [snapshot_date])
        for name in ("community_assignments", "community_events", "community_member_metrics"):
            con.execute(
                f"insert into {SCHEMA}.{name} select * replace (?::date as snapshot_date) "
                f"from {SCHEMA}.{name} where snapshot_date = ?",
                [snapshot_date, source_date],
            )
        kinds = "" if declared_stats is None else "and group_kind = 'detected'"
        con.execute(
            f"insert into {SCHEMA}.community_stats select * replace "
            f"(?::date as snapshot_date) from {SCHEMA}.community_stats "
            f"where snapshot_date = ? {kinds}",
            [snapshot_date, source_date],
        )
        if declared_stats is not None and not declared_stats.empty:
            frame = declared_stats.assign(snapshot_date=snapshot_date)
            insert_frame(con, SCHEMA, "community_stats", TABLES["community_stats"], frame)
        con.execute(
            f"""
            insert into {SCHEMA}.community_snapshot_runs select * replace (
                ?::date as snapshot_date, ?::boolean as is_provisional,
                ?::date as window_start_date, ?::bigint as count_users,
                ?::bigint - count_assigned as count_unassigned, ?::double as seconds,
                true as is_carried_forward)
            from {SCHEMA}.community_snapshot_runs where snapshot_date = ?
            """,
            [
                snapshot_date,
                is_provisional,
                window_start,
                count_users,
                count_users,
                seconds,
                source_date,
            ],
        )
