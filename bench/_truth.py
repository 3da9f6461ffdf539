"""Generate the demo data set, load its planted ground truth and ask it who belonged where.

:func:`demo_command` is the generator's command line for benchmarks that generate
their own data set (in a child process, so its time and memory can be measured). The
demo generator writes Parquet files into ``data/ground_truth``; dates there are
the first day in effect (``valid_from``, ``day``) and the first day no longer in
effect (``valid_to``, exclusive; null while still in effect). A user who churned on
day ``c`` is counted as gone from ``c`` on (alive on ``d`` when ``churned_on > d`` or
null).

*One label per user*: a bridge holds two planted memberships at once (and a few
users hold more). Where a user has several memberships valid on a day, the one with
the earliest ``valid_from`` wins, ties going to the smaller ``community_id``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

__all__ = [
    "LABEL_RULE",
    "TRUTH_FILES",
    "Truth",
    "alive_users",
    "background_at",
    "demo_command",
    "load_truth",
    "members_at",
    "memberships_at",
]

#: Files :func:`load_truth` needs.
TRUTH_FILES = (
    "community_memberships.parquet",
    "key_members.parquet",
    "bridges.parquet",
    "community_events.parquet",
    "communities.parquet",
    "users.parquet",
)

#: The rule that gives a user with several planted memberships a single label.
LABEL_RULE = (
    "a user with several planted memberships valid on the day (bridges) is labelled with "
    "the one with the earliest valid_from, ties to the smaller community_id"
)


def demo_command(raw_dir: Path, truth_dir: Path, *, users: int, days: int, seed: int) -> list[str]:
    """The command that generates a demo data set: raw files to ``raw_dir``, truth to
    ``truth_dir`` (run it from the project folder)."""
    return [
        *(sys.executable, "-m", "orchestration.lib.demo.cli"),
        *("--users", str(users), "--days", str(days), "--seed", str(seed)),
        *("--out", str(raw_dir), "--truth", str(truth_dir)),
    ]


@dataclass(frozen=True)
class Truth:
    """The planted truth, dates as ``datetime.date`` (or None)."""

    memberships: pd.DataFrame
    key_members: pd.DataFrame
    bridges: pd.DataFrame
    events: pd.DataFrame
    communities: pd.DataFrame
    users: pd.DataFrame
    folder: Path


def _dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Columns as python dates (None for missing), whatever Parquet gave back."""
    frame = frame.copy()
    for column in columns:
        values = pd.to_datetime(frame[column])
        frame[column] = [None if pd.isna(v) else v.date() for v in values]
    return frame


def load_truth(folder: Path) -> Truth | None:
    """The ground truth in ``folder``; None when a file is missing."""
    if not all((folder / name).exists() for name in TRUTH_FILES):
        return None
    read = {name.split(".")[0]: pd.read_parquet(folder / name) for name in TRUTH_FILES}
    memberships = _dates(read["community_memberships"], ["valid_from", "valid_to", "churned_on"])
    for column in ("community_id", "user_id"):
        memberships[column] = memberships[column].astype(str)
    users = _dates(read["users"], ["churned_on"])
    users["user_id"] = users["user_id"].astype(str)
    return Truth(
        memberships=memberships,
        key_members=read["key_members"].astype({"community_id": str, "user_id": str}),
        bridges=read["bridges"].astype({"user_id": str, "community_id": str}),
        events=_dates(read["community_events"], ["day"]),
        communities=_dates(read["communities"], ["born_day", "end_day"]),
        users=users,
        folder=folder,
    )


def memberships_at(truth: Truth, day: date) -> pd.DataFrame:
    """Every planted membership row valid on ``day`` whose user has not churned by then:
    ``valid_from <= day < valid_to`` (or ``valid_to`` null), ``churned_on`` null or
    after ``day``. A bridge keeps all its rows."""
    m = truth.memberships
    valid = (m["valid_from"] <= day) & m["valid_to"].map(lambda v: v is None or v > day)
    alive = m["churned_on"].map(lambda v: v is None or v > day)
    return m[valid & alive].reset_index(drop=True)


def members_at(truth: Truth, day: date) -> pd.Series:
    """Planted label of every member alive on ``day`` (index ``user_id``), one per user
    by :data:`LABEL_RULE`."""
    rows = memberships_at(truth, day).sort_values(["user_id", "valid_from", "community_id"])
    rows = rows.drop_duplicates("user_id")
    return pd.Series(
        rows["community_id"].to_numpy(), index=pd.Index(rows["user_id"], name="user_id")
    )


def alive_users(truth: Truth, day: date, signed_up: set[str] | None = None) -> set[str]:
    """Users not churned by ``day`` (and, when given, among ``signed_up``)."""
    u = truth.users
    alive = u[u["churned_on"].map(lambda v: v is None or v > day)]["user_id"]
    result = set(alive)
    return result if signed_up is None else result & signed_up


def background_at(truth: Truth, day: date, signed_up: set[str] | None = None) -> set[str]:
    """Planted background users on ``day``: never a planted member of any community,
    not churned by ``day`` and (when ``signed_up`` is given) signed up by then."""
    ever = set(truth.memberships["user_id"])
    return {user for user in alive_users(truth, day, signed_up) if user not in ever}
