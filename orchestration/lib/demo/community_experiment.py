"""Plant a community-randomized experiment in a built demo, in two phases.

The generator cannot write a community experiment into the raw data: an assignment
names *detected* communities, whose ids exist only after the pipeline has run
(``prefix + sha256(snapshot date, sorted detected members)``, carried from snapshot to
snapshot by member overlap, :func:`orchestration.lib.communities.assign_community_ids`),
and the detected members are not the planted ones (partial recovery, unassigned
users, splits). Guessing the ids from the planted communities would test the guess,
not the pipeline. So the demo plants it the way a product would run one:

1. build the demo warehouse (phase one);
2. ``smallgroups experiment design --assigned-at T --out FILE`` designs it on the
   detected communities (the last snapshot on or before ``T``);
3. :func:`plant_community_experiment` "runs" it: each member of a treatment community
   (the members that snapshot gives it, the ones the readout uses) makes, for each post
   at or after ``T``, one extra post with probability ``effect`` at the same instant,
   outside any declared group and without content, so the treatment arm's posts per
   member-day rise by ``effect`` in expectation; it lands the extra posts as a new
   raw events file, appends the ``experiments`` row and the designed assignments to the
   raw tables, and writes the truth (``community_experiment.parquet``);
4. rebuild (phase two, an ordinary incremental run) and read the experiment out.

The extra posts leave every other readout alone when ``T`` is after the user
experiment's end (exp002): a copy shares its original's instant, so no member's active
days, activity flags or last event move (exp001's ``active_member_share`` and
``retention_d28``), and it carries no group (exp001 counts posts in its groups only).
The extra posts carry no target user, so the interaction graph and the detected
communities do not change either.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .generator import EVENTS_SCHEMA

__all__ = [
    "EXPERIMENT_ID",
    "EXTRA_EVENTS_FILE",
    "extra_posts",
    "main",
    "plant_community_experiment",
    "read_assignments",
    "snapshot_members",
]

#: Id of the planted community experiment (the generator's are exp001 and exp002).
EXPERIMENT_ID = "exp003"
#: The raw events file that lands the extra posts (relative to the raw folder).
EXTRA_EVENTS_FILE = "events/planted_exp003.parquet"
_PARQUET = {"compression": "zstd"}


def extra_posts(
    posts: pd.DataFrame,
    treated_users: Sequence[str],
    *,
    start: pd.Timestamp,
    effect: float,
    seed: int,
    experiment_id: str = EXPERIMENT_ID,
) -> pd.DataFrame:
    """The extra posts a treatment raising posting by ``effect`` makes.

    Parameters
    ----------
    posts : pandas.DataFrame
        ``event_id, user_id, occurred_at`` (UTC) of accepted posts.
    treated_users : sequence of str
        The treatment arm's members.
    start : pandas.Timestamp
        The assignment time: posts before it are left alone.
    effect : float
        Planted relative effect on posts, in [0, 1]: each post of a treated member at or
        after ``start`` gets one copy with this probability.
    seed : int
        Seed of the draws (made over the posts in ``event_id`` order, so the input
        order does not matter).
    experiment_id : str
        Prefix of the new event ids and value of ``properties.planted``.

    Returns
    -------
    pandas.DataFrame
        Raw ``events`` rows (the contract's columns): ``event_id`` =
        ``<experiment_id>_<original event_id>``, the original's user and instant,
        ``event_type`` ``post``, no group, target, content or amount, sorted by
        ``occurred_at`` then ``event_id``.
    """
    if not 0 <= effect <= 1:
        raise ValueError(f"effect {effect} must be in [0, 1] (one copy per post at most)")
    start = pd.Timestamp(start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    occurred = pd.to_datetime(posts["occurred_at"], utc=True)
    eligible = posts.assign(occurred_at=occurred)[
        (occurred >= start) & posts["user_id"].astype(str).isin(set(map(str, treated_users)))
    ].sort_values("event_id", kind="stable")
    draws = np.random.default_rng(seed).random(len(eligible))
    chosen = eligible[draws < effect]
    frame = pd.DataFrame(
        {
            "event_id": experiment_id + "_" + chosen["event_id"].astype(str),
            "user_id": chosen["user_id"].astype(str),
            "event_type": "post",
            "occurred_at": chosen["occurred_at"],
            "group_id": None,
            "target_user_id": None,
            "content_id": None,
            "amount": np.nan,
            "currency": None,
            "properties": json.dumps({"planted": experiment_id}),
        }
    )
    return frame.sort_values(["occurred_at", "event_id"], ignore_index=True)


def read_assignments(path: Path) -> pd.DataFrame:
    """A designed ``experiment_assignments`` file (CSV or Parquet), ``assigned_at`` in UTC."""
    path = Path(path)
    frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    frame["assigned_at"] = pd.to_datetime(frame["assigned_at"], utc=True)
    return frame


def snapshot_members(
    con: duckdb.DuckDBPyConnection, community_ids: Sequence[str], assigned_at: pd.Timestamp
) -> tuple[pd.Timestamp, pd.DataFrame]:
    """Members of the assigned communities, as the readout resolves them.

    The last snapshot on or before the assignment day (the rule of
    ``int_experiment_cluster_metrics_measured`` and of the design with
    ``--assigned-at``).

    Returns
    -------
    (pandas.Timestamp, pandas.DataFrame)
        The snapshot date and ``community_id, user_id`` (members of the assigned
        communities only), sorted.
    """
    day = pd.Timestamp(assigned_at).date()
    snapshot = con.execute(
        "select max(snapshot_date) from main.stg_communities__assignments where snapshot_date <= ?",
        [day],
    ).fetchone()[0]
    if snapshot is None:
        raise ValueError(f"no community snapshot on or before {day}")
    members = con.execute(
        "select community_id, user_id from main.stg_communities__assignments"
        " where snapshot_date = ? and membership_status = 'member'"
        " and community_id in (select unnest(?::varchar[])) order by all",
        [snapshot, list(map(str, community_ids))],
    ).df()
    return pd.Timestamp(snapshot), members


def _naive_utc(moment: pd.Timestamp) -> pd.Timestamp:
    """``moment`` as a naive UTC timestamp (the warehouse's timestamps are UTC, naive)."""
    moment = pd.Timestamp(moment)
    return moment if moment.tzinfo is None else moment.tz_convert("UTC").tz_localize(None)


def _append_rows(path: Path, rows: pa.Table) -> None:
    """Rewrite a raw Parquet table with ``rows`` after its own (row positions kept)."""
    existing = pq.read_table(path)
    if rows.column("experiment_id").to_pylist()[0] in set(
        existing.column("experiment_id").to_pylist()
    ):
        raise ValueError(f"{path} already holds {rows.column('experiment_id')[0]}: planted twice?")
    pq.write_table(pa.concat_tables([existing, rows.cast(existing.schema)]), path, **_PARQUET)


def plant_community_experiment(
    con: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    truth_dir: Path,
    assignments: pd.DataFrame,
    *,
    effect: float = 0.3,
    seed: int = 13,
    control: str = "control",
) -> dict:
    """Run a designed community experiment in the demo's raw data (phase 2 of 2).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The built demo warehouse (read only is enough).
    raw_dir, truth_dir : Path
        The demo's raw folder (gets the extra posts file and the appended experiment and
        assignment rows) and truth folder (gets ``community_experiment.parquet``).
    assignments : pandas.DataFrame
        The design (:func:`read_assignments`): one experiment id, one ``assigned_at``.
    effect : float
        Planted relative effect on the treatment arm's posts per member-day.
    seed : int
        Seed of the extra posts.
    control : str
        The control variant; every other variant is treated.

    Returns
    -------
    dict
        What was planted: ``experiment_id``, ``snapshot_date``, ``assigned_at``,
        ``planted_effect``, ``units_per_arm``, ``members_per_arm``, ``extra_posts``,
        ``eligible_posts`` (treated members' posts after the start) and ``events_file``.
    """
    raw_dir, truth_dir = Path(raw_dir), Path(truth_dir)
    experiment_ids = assignments["experiment_id"].unique()
    starts = assignments["assigned_at"].unique()
    if len(experiment_ids) != 1 or len(starts) != 1:
        raise ValueError("expected one experiment and one assigned_at in the design")
    experiment_id, start = str(experiment_ids[0]), pd.Timestamp(starts[0])
    snapshot, members = snapshot_members(con, assignments["unit_id"], start)
    arm = assignments.set_index("unit_id")["variant"]
    members["variant"] = members["community_id"].map(arm)
    treated = members.loc[members["variant"] != control, "user_id"].astype(str)
    posts = con.execute(
        "select event_id, user_id, occurred_at from main.stg_product__events"
        " where event_type = 'post' and occurred_at >= ? and user_id in"
        " (select unnest(?::varchar[])) order by event_id",
        [_naive_utc(start).to_pydatetime(), sorted(treated)],
    ).df()
    extra = extra_posts(
        posts, treated, start=start, effect=effect, seed=seed, experiment_id=experiment_id
    )
    events_path = raw_dir / EXTRA_EVENTS_FILE.replace(EXPERIMENT_ID, experiment_id)
    if events_path.exists():
        raise ValueError(f"{events_path} exists: planted twice?")
    pq.write_table(
        pa.Table.from_pandas(extra, schema=EVENTS_SCHEMA, preserve_index=False),
        events_path,
        **_PARQUET,
    )
    _append_rows(
        raw_dir / "experiments.parquet",
        pa.table(
            {
                "experiment_id": [experiment_id],
                "name": ["Community posting challenge"],
                "unit_type": ["community"],
                "started_at": pa.array([start.to_pydatetime()], pa.timestamp("us", tz="UTC")),
                "ended_at": pa.array([None], pa.timestamp("us", tz="UTC")),
                "primary_metric": ["posts_per_member_day"],
                "hypothesis": [
                    "A posting challenge run in a community makes its members post more."
                ],
            }
        ),
    )
    design = assignments.sort_values("unit_id", ignore_index=True)
    _append_rows(
        raw_dir / "experiment_assignments.parquet",
        pa.table(
            {
                "experiment_id": design["experiment_id"].astype(str).to_numpy(),
                "unit_id": design["unit_id"].astype(str).to_numpy(),
                "variant": design["variant"].astype(str).to_numpy(),
                "assigned_at": pa.array(
                    design["assigned_at"].dt.to_pydatetime(), pa.timestamp("us", tz="UTC")
                ),
            }
        ),
    )
    units = design["variant"].value_counts().sort_index()
    per_arm = members.groupby("variant").size().reindex(units.index, fill_value=0)
    planted = {
        "experiment_id": experiment_id,
        "snapshot_date": str(snapshot.date()),
        "assigned_at": str(start),
        "planted_effect": float(effect),
        "units_per_arm": {str(k): int(v) for k, v in units.items()},
        "members_per_arm": {str(k): int(v) for k, v in per_arm.items()},
        "extra_posts": len(extra),
        "eligible_posts": len(posts),
        "events_file": str(events_path.relative_to(raw_dir)),
    }
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth = pd.DataFrame(
        {
            "experiment_id": [experiment_id],
            "unit_type": ["community"],
            "metric": ["posts_per_member_day"],
            "planted_effect": [float(effect)],
            "effect_definition": [
                "relative increase of the posts of a treatment community's members (its "
                "members at the design's snapshot), from assigned_at to the last data day"
            ],
            "snapshot_date": [snapshot.date()],
            "assigned_at": [start],
            "n_treatment": [int(units.drop(control, errors="ignore").sum())],
            "n_control": [int(units.get(control, 0))],
            "members_treatment": [int(per_arm.drop(control, errors="ignore").sum())],
            "members_control": [int(per_arm.get(control, 0))],
            "extra_posts": [len(extra)],
            "eligible_posts": [len(posts)],
        }
    )
    truth.to_parquet(truth_dir / "community_experiment.parquet", index=False)
    return planted


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m orchestration.lib.demo.community_experiment --design FILE``.

    Plants the designed experiment in ``SMALLGROUPS_RAW_DIR`` (reading the warehouse at
    ``SMALLGROUPS_DUCKDB_PATH``), writes the truth to ``SMALLGROUPS_TRUTH_DIR`` and prints
    what was planted; then run ``smallgroups run`` to read it out.
    """
    from orchestration.lib.config import load_settings

    parser = argparse.ArgumentParser(
        prog="python -m orchestration.lib.demo.community_experiment",
        description="Plant a designed community experiment (smallgroups experiment design "
        "--out) with a known posting effect in the demo's raw data.",
    )
    parser.add_argument("--design", required=True, help="the design's assignment file")
    parser.add_argument("--effect", type=float, default=0.3, help="relative effect (0.3)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the extra posts (13)")
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            planted = plant_community_experiment(
                con,
                settings.raw_dir,
                settings.truth_dir,
                read_assignments(Path(args.design)),
                effect=args.effect,
                seed=args.seed,
            )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(planted, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
