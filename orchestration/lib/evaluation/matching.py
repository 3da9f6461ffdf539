"""Match planted communities (the demo's truth) to the detected ones at a snapshot.

Each planted community maps to the detected community holding most of its members
alive at the snapshot, when that community holds at least half of them (a user with
several planted memberships, a bridge, counts for the smallest planted id). The text
evaluation scores each planted community's pain points and topic in the detected
community it maps to, and the lookalike benchmark compares the planted topics of
detected lookalike pairs. Evaluation only: the pipeline never reads the truth.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["map_planted_to_detected", "planted_and_detected"]


def planted_and_detected(con: Any, truth_dir: Path, snapshot_date: date) -> pd.DataFrame:
    """Each planted member alive at a snapshot with its planted and detected community.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The warehouse (``communities.community_assignments``).
    truth_dir : Path
        The generator's truth folder (``community_memberships.parquet``).
    snapshot_date : date
        The snapshot.

    Returns
    -------
    DataFrame
        ``user_id, planted, detected`` (detected is null for unassigned users), the
        input of `map_planted_to_detected`.
    """
    return con.execute(
        f"""
        with planted as (
            select user_id, min(community_id) as planted
            from read_parquet('{truth_dir}/community_memberships.parquet')
            where valid_from <= $day and (valid_to is null or valid_to > $day)
              and (churned_on is null or churned_on > $day)
            group by user_id
        )
        select planted.user_id, planted.planted, a.community_id as detected
        from planted left join communities.community_assignments as a
            on a.user_id = planted.user_id and a.snapshot_date = $day
            and a.membership_status = 'member'
        """,
        {"day": snapshot_date},
    ).df()


def map_planted_to_detected(pairs: pd.DataFrame, min_share: float = 0.5) -> pd.DataFrame:
    """Map each planted community to the detected one holding most of its members.

    Parameters
    ----------
    pairs : DataFrame
        ``user_id, planted, detected`` (detected may be null: unassigned).
    min_share : float, default 0.5
        Least share of the planted members that must sit in the chosen community.

    Returns
    -------
    DataFrame
        ``planted, detected, share`` for the planted communities that map.
    """
    sized = pairs.groupby("planted").size().rename("n")
    counts = (
        pairs.dropna(subset=["detected"])
        .groupby(["planted", "detected"])
        .size()
        .rename("k")
        .reset_index()
        .sort_values(["planted", "k", "detected"], ascending=[True, False, True])
        .drop_duplicates("planted")
    )
    counts["share"] = counts["k"] / sized.reindex(counts["planted"]).to_numpy()
    return counts.loc[counts["share"] >= min_share, ["planted", "detected", "share"]].reset_index(
        drop=True
    )
