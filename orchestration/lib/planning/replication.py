"""Replicate a pilot that worked: its lookalikes that have not had it, ranked, with a design.

For each intervention whose attributed effect is significant and positive
(``fct_intervention_attribution``: estimated, the 95% interval of ``did_effect`` above 0),
:func:`rank_replications` ranks the groups that resemble its target and have not had an
intervention of that type:

- **candidates**: the target's lookalikes at the latest snapshot
  (``fct_community_lookalikes``, a few per group) and its donor candidates at the start
  (``fct_intervention_donors``, its lookalikes then, ``attribution_lookalike_depth`` of
  them) that still exist at the latest snapshot; a group in both keeps the latest
  similarity (``candidate_source``). A detected target gone since (its id does not
  survive) has only the second;
- **ranking**: by the forecast effect of the intervention type on the group
  (``fct_intervention_forecasts``: ``predicted_effect``, then similarity) when the
  forecast exists (``ranking_basis`` ``forecast``); a candidate without a forecast (or
  all of them, when the table is absent) is ranked after, by similarity, with the pilot's
  own effect per member-day carried over (``ranking_basis`` ``similarity``): its
  predicted effect and interval are the pilot's, its expected contribution to DAU and
  posts per day the pilot's contribution per member x its members;
- **roll-out to the top N**: the sum of the expected contributions of the first
  ``top_n`` (intervals: the sums of the bounds, as if the groups' errors moved together,
  the wide side);
- **verifying design**: randomize the first ``2 x top_n`` candidates, half to the
  roll-out and half to control (community-randomized for detected communities,
  group-randomized for declared groups); its minimum detectable relative effect is the
  power mart's (``fct_experiment_power``, metric :data:`DESIGN_METRIC`, the candidates'
  unit type) scaled from the mart's arms to ``top_n`` units per arm with
  :func:`orchestration.lib.experiments.power.standardized_mde` (the same unit-level
  spread), plain and after CUPED; ``design_is_powered`` says whether the pilot's
  relative effect reaches it.
"""

from __future__ import annotations

import logging
import time

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.experiments.power import standardized_mde

__all__ = [
    "COLUMNS",
    "DESIGN_METRIC",
    "FORECAST_COLUMNS",
    "FORECAST_MODEL",
    "INPUT_MODELS",
    "TABLE",
    "mde_at",
    "rank_replications",
    "read_inputs",
    "refresh_replication",
]

_log = logging.getLogger(__name__)

#: The dbt models the step reads (the Dagster asset depends on them).
INPUT_MODELS = (
    "fct_intervention_attribution",
    "fct_community_lookalikes",
    "fct_intervention_donors",
    "fct_community_health",
    "fct_experiment_power",
)
#: The forecasts' model: read (and depended on) when the project has it.
FORECAST_MODEL = "fct_intervention_forecasts"

#: The power mart's metric closest to the attribution's outcome (activity per member-day).
DESIGN_METRIC = "posts_per_member_day"

#: The contract of ``fct_intervention_forecasts`` (another step writes it).
FORECAST_COLUMNS = (
    "community_id", "group_kind", "snapshot_date", "intervention_type", "predicted_effect",
    "effect_ci_low", "effect_ci_high", "expected_dau_contribution",
    "expected_posts_per_day_contribution", "top_features", "n_training_interventions",
    "model_version",
)  # fmt: skip

#: The output columns, in order.
COLUMNS = (
    "intervention_id", "intervention_type", "pilot_group_kind", "pilot_community_id",
    "pilot_did_effect", "pilot_did_ci_low", "pilot_did_ci_high", "pilot_relative_effect",
    "snapshot_date", "replication_rank", "group_kind", "community_id", "count_members",
    "similarity", "candidate_source", "ranking_basis", "predicted_effect", "effect_ci_low",
    "effect_ci_high", "expected_dau_contribution", "expected_posts_per_day_contribution",
    "top_features", "model_version", "is_top_n", "top_n", "rollout_dau_contribution",
    "rollout_dau_ci_low", "rollout_dau_ci_high", "rollout_posts_per_day_contribution",
    "design_unit_type", "design_units_per_arm", "design_metric", "design_mde_relative",
    "design_mde_relative_cuped", "design_is_powered", "recommended_design",
)  # fmt: skip


#: ``planning.pilot_replication``: one row per (pilot, candidate), the columns of
#: :data:`COLUMNS`.
TABLE: dict[str, str] = {
    "pilot_replication": """
        intervention_id varchar, intervention_type varchar, pilot_group_kind varchar,
        pilot_community_id varchar, pilot_did_effect double, pilot_did_ci_low double,
        pilot_did_ci_high double, pilot_relative_effect double, snapshot_date date,
        replication_rank bigint, group_kind varchar, community_id varchar,
        count_members bigint, similarity double, candidate_source varchar,
        ranking_basis varchar, predicted_effect double, effect_ci_low double,
        effect_ci_high double, expected_dau_contribution double,
        expected_posts_per_day_contribution double, top_features varchar,
        model_version varchar, is_top_n boolean, top_n bigint,
        rollout_dau_contribution double, rollout_dau_ci_low double,
        rollout_dau_ci_high double, rollout_posts_per_day_contribution double,
        design_unit_type varchar, design_units_per_arm bigint, design_metric varchar,
        design_mde_relative double, design_mde_relative_cuped double,
        design_is_powered boolean, recommended_design varchar""",
}


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def read_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame | None]:
    """The pilots, their candidates, what groups had, the forecasts and the power mart.

    Returns
    -------
    dict
        ``pilots`` (significant positive attributions), ``candidates``
        (``intervention_id, group_kind, community_id, similarity, candidate_source``),
        ``had`` (``group_kind, community_id, intervention_type`` of every accepted
        intervention), ``sizes`` (members at the latest snapshot), ``forecasts`` (None
        when ``main.fct_intervention_forecasts`` does not exist) and ``power``.
    """
    pilots = con.execute(
        """
        select intervention_id, intervention_type, group_kind, community_id, did_effect,
            did_ci_low, did_ci_high, relative_effect, avg_members_post, contribution_dau,
            contribution_dau_ci_low, contribution_dau_ci_high, contribution_posts_per_day,
        from main.fct_intervention_attribution
        where status = 'estimated' and did_ci_low > 0
        order by intervention_id
        """
    ).df()
    candidates = con.execute(
        """
        with latest as (
            select max(snapshot_date) as snapshot_date from main.fct_community_health
        ),
        alive as (
            select group_kind, community_id from main.fct_community_health
            where snapshot_date = (select snapshot_date from latest)
        ),
        pilots as (
            select intervention_id, group_kind, community_id
            from main.fct_intervention_attribution
            where status = 'estimated' and did_ci_low > 0
        ),
        from_lookalikes as (
            select pilots.intervention_id, l.lookalike_group_kind as group_kind,
                l.lookalike_community_id as community_id, l.similarity,
                'lookalikes_latest' as candidate_source,
            from pilots
            inner join main.fct_community_lookalikes as l
                on l.group_kind = pilots.group_kind and l.community_id = pilots.community_id
        ),
        from_donors as (
            select pilots.intervention_id, d.group_kind, d.community_id, d.similarity,
                'donors_at_start' as candidate_source,
            from pilots
            inner join main.fct_intervention_donors as d using (intervention_id)
            semi join alive on alive.group_kind = d.group_kind
                and alive.community_id = d.community_id
        )
        select * from from_lookalikes
        union all
        select * from from_donors
        order by all
        """
    ).df()
    had = con.execute(
        "select distinct group_kind, community_id, intervention_type"
        " from main.fct_intervention_attribution order by all"
    ).df()
    sizes = con.execute(
        """
        select snapshot_date, group_kind, community_id, count_members
        from main.fct_community_health
        where snapshot_date = (select max(snapshot_date) from main.fct_community_health)
        order by group_kind, community_id
        """
    ).df()
    forecasts = None
    if _table_exists(con, "main", "fct_intervention_forecasts"):
        forecasts = con.execute(
            f"""
            select {", ".join(FORECAST_COLUMNS)} from main.fct_intervention_forecasts
            where snapshot_date = (select max(snapshot_date) from main.fct_intervention_forecasts)
            order by group_kind, community_id, intervention_type
            """
        ).df()
    power = con.execute(
        "select unit_type, metric_name, alpha, power, count_units_control, count_units_variant,"
        " mde_standardized, mde_relative, mde_relative_cuped from main.fct_experiment_power"
        " order by unit_type, metric_name"
    ).df()
    return {
        "pilots": pilots,
        "candidates": candidates,
        "had": had,
        "sizes": sizes,
        "forecasts": forecasts,
        "power": power,
    }


def mde_at(power: pd.DataFrame, unit_type: str, units_per_arm: int) -> tuple[float, float]:
    """The power mart's relative MDE (plain, CUPED) scaled to ``units_per_arm`` per arm.

    ``power`` holds ``fct_experiment_power``'s rows; the metric is :data:`DESIGN_METRIC`.
    NaN when the mart has no row for ``unit_type`` or with fewer than 2 units per arm.
    """
    row = power[(power["unit_type"] == unit_type) & (power["metric_name"] == DESIGN_METRIC)]
    if row.empty or units_per_arm < 2:
        return np.nan, np.nan
    row = row.iloc[0]
    mart = standardized_mde(
        row["count_units_control"],
        alpha=row["alpha"],
        power=row["power"],
        ratio=row["count_units_variant"] / row["count_units_control"],
    )
    ours = standardized_mde(units_per_arm, alpha=row["alpha"], power=row["power"])
    if not np.isfinite(mart) or mart <= 0 or not np.isfinite(ours):
        return np.nan, np.nan
    # Same unit-level spread: the relative MDE scales with the standardized one.
    scale = ours / mart
    return float(row["mde_relative"] * scale), float(row["mde_relative_cuped"] * scale)


def rank_replications(
    pilots: pd.DataFrame,
    candidates: pd.DataFrame,
    had: pd.DataFrame,
    sizes: pd.DataFrame,
    forecasts: pd.DataFrame | None,
    power: pd.DataFrame,
    *,
    top_n: int = 10,
) -> pd.DataFrame:
    """One row per (significant pilot, lookalike that has not had it), ranked (pure).

    Parameters
    ----------
    pilots, candidates, had, sizes, forecasts, power : pandas.DataFrame
        :func:`read_inputs`' frames (``forecasts`` None: rank by similarity).
    top_n : int
        The roll-out's budget in groups (var ``pilot_replication_top_n``).

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, sorted by intervention and rank.
    """
    if pilots.empty or candidates.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    frame = candidates.merge(
        pilots.rename(columns={"group_kind": "pilot_group_kind",
                               "community_id": "pilot_community_id"}),
        on="intervention_id",
    )  # fmt: skip
    # Not the pilot itself, not a group that had an intervention of this type.
    frame = frame[
        ~(
            (frame["group_kind"] == frame["pilot_group_kind"])
            & (frame["community_id"] == frame["pilot_community_id"])
        )
    ]
    had_it = had.assign(_had=True)
    frame = frame.merge(had_it, on=["group_kind", "community_id", "intervention_type"], how="left")
    frame = frame[frame["_had"].isna()].drop(columns="_had")
    # One row per candidate: a group in both lists keeps its similarity at the latest
    # snapshot.
    frame["_source_order"] = (frame["candidate_source"] != "lookalikes_latest").astype(int)
    frame = frame.sort_values(
        ["intervention_id", "group_kind", "community_id", "_source_order"]
    ).drop_duplicates(["intervention_id", "group_kind", "community_id"])
    frame = frame.merge(sizes, on=["group_kind", "community_id"], how="inner")
    if forecasts is not None and len(forecasts):
        fc = forecasts[list(FORECAST_COLUMNS)].drop(columns="snapshot_date")
        frame = frame.merge(fc, on=["group_kind", "community_id", "intervention_type"], how="left")
    else:
        for column in FORECAST_COLUMNS:
            if column not in ("community_id", "group_kind", "snapshot_date", "intervention_type"):
                frame[column] = np.nan
        frame["top_features"] = None
        frame["model_version"] = None
    has_forecast = frame["predicted_effect"].notna()
    frame["ranking_basis"] = np.where(has_forecast, "forecast", "similarity")
    # Without a forecast: the pilot's effect per member-day carried over.
    per_member = frame["count_members"] / frame["avg_members_post"].where(
        frame["avg_members_post"] > 0
    )
    carried = {
        "predicted_effect": frame["did_effect"],
        "effect_ci_low": frame["did_ci_low"],
        "effect_ci_high": frame["did_ci_high"],
        "expected_dau_contribution": frame["contribution_dau"] * per_member,
        "expected_posts_per_day_contribution": frame["contribution_posts_per_day"] * per_member,
    }
    for column, value in carried.items():
        frame[column] = frame[column].where(has_forecast, value)
    dau_low = frame["contribution_dau_ci_low"] * per_member
    dau_high = frame["contribution_dau_ci_high"] * per_member
    frame["_dau_low"] = np.where(has_forecast, np.nan, dau_low)
    frame["_dau_high"] = np.where(has_forecast, np.nan, dau_high)
    frame["_basis_order"] = np.where(has_forecast, 0, 1)
    frame["_effect_key"] = np.where(has_forecast, -frame["predicted_effect"].fillna(0), 0.0)
    frame = frame.sort_values(
        ["intervention_id", "_basis_order", "_effect_key", "similarity", "group_kind",
         "community_id"],
        ascending=[True, True, True, False, True, True],
        ignore_index=True,
    )  # fmt: skip
    frame["replication_rank"] = frame.groupby("intervention_id").cumcount() + 1
    frame["is_top_n"] = frame["replication_rank"] <= top_n
    frame["top_n"] = top_n
    top = frame[frame["is_top_n"]].groupby("intervention_id")
    rollout = pd.DataFrame(
        {
            "rollout_dau_contribution": top["expected_dau_contribution"].sum(min_count=1),
            "rollout_dau_ci_low": top["_dau_low"].sum(min_count=1),
            "rollout_dau_ci_high": top["_dau_high"].sum(min_count=1),
            "rollout_posts_per_day_contribution": top["expected_posts_per_day_contribution"].sum(
                min_count=1
            ),
            "_top_kind": top["group_kind"].agg(lambda k: k.mode().sort_values().iloc[0]),
        }
    ).reset_index()
    frame = frame.merge(rollout, on="intervention_id", how="left")
    # The roll-out's interval: the carried-over pilot's bounds; a top N with a forecast
    # (which has no interval of its contribution) has none.
    top_basis = frame[frame["is_top_n"]].groupby("intervention_id")["ranking_basis"]
    any_forecast = frame["intervention_id"].map(top_basis.agg(lambda b: (b == "forecast").any()))
    frame.loc[
        any_forecast.fillna(False).astype(bool), ["rollout_dau_ci_low", "rollout_dau_ci_high"]
    ] = np.nan
    frame["design_unit_type"] = np.where(frame["_top_kind"] == "detected", "community", "group")
    # The first 2 x top_n candidates, half to each arm (fewer candidates: half of them).
    count = frame.groupby("intervention_id")["replication_rank"].transform("max")
    frame["design_units_per_arm"] = np.minimum(top_n, count // 2).astype(int)
    frame["design_metric"] = DESIGN_METRIC
    mdes = {
        (unit, n): mde_at(power, unit, int(n))
        for unit, n in frame[["design_unit_type", "design_units_per_arm"]]
        .drop_duplicates()
        .itertuples(index=False)
    }
    keys = list(zip(frame["design_unit_type"], frame["design_units_per_arm"], strict=True))
    frame["design_mde_relative"] = [mdes[k][0] for k in keys]
    frame["design_mde_relative_cuped"] = [mdes[k][1] for k in keys]
    frame["design_is_powered"] = (
        frame["relative_effect"] >= frame["design_mde_relative_cuped"]
    ).where(frame["design_mde_relative_cuped"].notna())
    frame["recommended_design"] = [
        f"{unit}-randomized: the top {2 * n} lookalikes, {n} to the roll-out and {n} to "
        f"control, stratified by size and health (smallgroups plan --intervention-type "
        f"{kind} --budget {n}); detectable effect on {DESIGN_METRIC} "
        + (f"{100 * cuped:.0f}% with CUPED ({100 * plain:.0f}% without), the pilot's "
           f"{100 * effect:+.0f}%" if np.isfinite(cuped) else "unknown (no power row)")
        for unit, n, kind, cuped, plain, effect in zip(
            frame["design_unit_type"], frame["design_units_per_arm"],
            frame["intervention_type"], frame["design_mde_relative_cuped"],
            frame["design_mde_relative"], frame["relative_effect"], strict=True,
        )
    ]  # fmt: skip
    out = frame.rename(
        columns={
            "did_effect": "pilot_did_effect",
            "did_ci_low": "pilot_did_ci_low",
            "did_ci_high": "pilot_did_ci_high",
            "relative_effect": "pilot_relative_effect",
        }
    )
    return out[list(COLUMNS)].reset_index(drop=True)


def refresh_replication(
    con: duckdb.DuckDBPyConnection, *, top_n: int = 10, log: logging.Logger | None = None
) -> dict:
    """Rank the replications and rewrite ``planning.pilot_replication``.

    Returns
    -------
    dict
        ``count_rows``, ``count_pilots``, ``ranking_basis`` (rows per basis),
        ``forecasts_present``, ``top_n`` and ``seconds``.
    """
    from orchestration.lib.planning.refresh import write_tables

    log = log or _log
    started = time.perf_counter()
    inputs = read_inputs(con)
    frame = rank_replications(**inputs, top_n=top_n)
    write_tables(con, {"pilot_replication": frame}, TABLE)
    log.info("%d replication rows for %d pilots", len(frame), frame["intervention_id"].nunique())
    return {
        "count_rows": len(frame),
        "count_pilots": int(frame["intervention_id"].nunique()),
        "ranking_basis": {k: int(v) for k, v in frame["ranking_basis"].value_counts().items()},
        "forecasts_present": inputs["forecasts"] is not None,
        "top_n": top_n,
        "seconds": round(time.perf_counter() - started, 3),
    }
