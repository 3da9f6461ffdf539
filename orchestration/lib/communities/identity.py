"""Stable community ids across refreshes, lifecycle events and membership history.

Each refresh re-detects communities from scratch (or from a warm start), and the
labels it returns (0, 1, ...) mean nothing from one run to the next.
:func:`assign_community_ids` turns them into ids that persist: a current community
that overlaps a previous one enough (Jaccard index of their members at least
``min_overlap``, best pairs first, one to one) keeps the previous id; the others get
a new id derived from a hash of the refresh date and their sorted members, so the
same inputs always give the same ids, and ids minted on different dates or for
different members do not collide (48-bit digest, lengthened if it ever clashes with
an id in play), with no counter to keep. It also names what happened between the
two snapshots (born, continued, grew, shrank, split, merged, dissolved).
:func:`update_membership_history` keeps the slowly changing table of who belonged
where and when (one row per spell, the open spell with ``valid_to`` null).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_TYPES",
    "LINK_SHARE",
    "SIZE_CHANGE",
    "IdentityResult",
    "assign_community_ids",
    "update_membership_history",
]

#: Every ``event_type`` that :func:`assign_community_ids` emits.
EVENT_TYPES = (
    "born",
    "emerged",
    "continued",
    "grew",
    "shrank",
    "split",
    "merged",
    "dissolved",
)

#: A continuing community "grew" (or "shrank") when its size changed by more than
#: this share of its previous size; otherwise it "continued".
SIZE_CHANGE = 0.2

#: A previous and a current community are *linked* (one descends from the other)
#: when their shared members are at least this share of the smaller of the two:
#: the overlap coefficient, which, unlike Jaccard, stays high for each half of a
#: split and for each part of a merge.
LINK_SHARE = 0.5

_HASH_CHARS = 12


@dataclass(frozen=True)
class IdentityResult:
    """What :func:`assign_community_ids` returns.

    Attributes
    ----------
    assignment : pandas.DataFrame
        ``user_id``, ``community_id`` (str; missing, i.e. null, for unassigned users)
        and ``community_label`` (as given), one row per user of ``current``, sorted
        by user.
    communities : pandas.DataFrame
        One row per current community: ``community_id``, ``community_label``,
        ``size``, ``previous_community_id`` (the id it continues, else missing) and
        ``jaccard`` with it (0.0 for new ones), sorted by label.
    events : pandas.DataFrame
        ``community_id``, ``event_type`` (one of :data:`EVENT_TYPES`),
        ``related_community_id``, ``size_before``, ``size_after`` and ``overlap`` (the
        Jaccard index of the two member sets; 0.0 for born and dissolved). See
        :func:`assign_community_ids` for the meaning of each row.
    """

    assignment: pd.DataFrame
    communities: pd.DataFrame
    events: pd.DataFrame


def assign_community_ids(
    current: pd.DataFrame,
    previous: pd.DataFrame | None,
    *,
    as_of: date | datetime | str,
    min_overlap: float = 0.3,
    id_prefix: str = "c",
) -> IdentityResult:
    """Give this refresh's communities stable ids and list the lifecycle events.

    Parameters
    ----------
    current : pandas.DataFrame
        ``user_id`` and ``community_label`` (int, negative = unassigned), e.g. the
        membership of :func:`~orchestration.lib.communities.detect_communities`.
    previous : pandas.DataFrame or None
        ``user_id`` and ``community_id`` of the previous refresh (null = unassigned);
        None on the first refresh.
    as_of : date, datetime or str
        Date of this refresh; part of every new id.
    min_overlap : float, default 0.3
        Smallest Jaccard index (shared members / members of either) for a current
        community to keep a previous id.
    id_prefix : str, default "c"
        Prefix of new ids: ``prefix + 12 hex digits``.

    Returns
    -------
    IdentityResult
        Assignment with ids, one row per community, and the events.

    Notes
    -----
    *Matching*: every (previous, current) pair sharing members is scored by Jaccard;
    pairs at or above ``min_overlap`` are taken greedily from the highest score
    (ties: more shared members, then smaller previous id, then smaller label), each
    community at most once. Greedy rather than an optimal assignment: with
    ``min_overlap >= 1/3`` a community rarely has two candidate partners, and the
    result is easy to explain.

    *New ids*: ``prefix + sha256(as_of, sorted member ids)[:12]``; if that ever
    clashes with an id in use (previous or current), more digits are taken.

    *Events*, one row each (``community_id`` first, then ``related_community_id``):

    - ``continued`` / ``grew`` / ``shrank``: a matched community, related to its own
      previous id; grew or shrank when its size moved by more than
      :data:`SIZE_CHANGE` of the previous size.
    - ``split``: a current community with a new id linked (:data:`LINK_SHARE`) to
      exactly one previous community; related to that one. (The piece that kept the
      parent's id, if any, reports continued/shrank.)
    - ``merged``: a current community that absorbed previous communities other than
      the one whose id it kept (linked to two or more previous communities, or to one
      besides its own): one row per absorbed community.
    - ``born``: a current community with a new id and no link.
    - ``dissolved``: a previous community with no link to any current one (its
      members left, were scattered or are unassigned).
    """
    day = _day(as_of)
    cur = _current_frame(current)
    prev = _previous_frame(previous)

    cur_sizes = cur.groupby("community_label").size()
    prev_sizes = prev.groupby("community_id").size() if len(prev) else pd.Series(dtype="int64")
    pairs = _pairs(cur, prev, cur_sizes, prev_sizes)
    matched = _greedy_match(pairs, min_overlap)

    labels = cur_sizes.index.to_numpy()
    ids: dict[int, str] = {int(k): v for k, v in matched.items()}
    taken = set(prev_sizes.index) | set(ids.values())
    by_label = cur.sort_values(["community_label", "user_id"], kind="stable")
    member_ids = by_label["user_id"].to_numpy()
    ends = np.cumsum(cur_sizes.to_numpy())
    for label, end, size in zip(labels, ends, cur_sizes.to_numpy(), strict=True):
        if int(label) not in ids:
            members = member_ids[end - size : end].tolist()
            new_id = _new_id(id_prefix, day, members, taken)
            ids[int(label)] = new_id
            taken.add(new_id)

    label_values = current["community_label"].to_numpy(dtype=np.int64)
    assignment = pd.DataFrame(
        {
            "user_id": pd.Series(current["user_id"].to_numpy(), dtype=str),
            "community_id": pd.Series(label_values).map(pd.Series(ids, dtype=object)).astype(str),
            "community_label": label_values,
        }
    )
    assignment = assignment.sort_values("user_id", kind="stable").reset_index(drop=True)

    jaccard_of_match = {
        int(row.community_label): float(row.jaccard)
        for row in pairs.itertuples()
        if matched.get(int(row.community_label)) == row.community_id
    }
    communities = pd.DataFrame(
        {
            "community_id": pd.Series([ids[int(label)] for label in labels], dtype=str),
            "community_label": labels.astype("int64"),
            "size": cur_sizes.to_numpy().astype("int64"),
            "previous_community_id": pd.Series(
                [matched.get(int(label)) for label in labels], dtype=str
            ),
            "jaccard": [jaccard_of_match.get(int(label), 0.0) for label in labels],
        }
    )
    events = _events(pairs, matched, ids, cur_sizes, prev_sizes)
    return IdentityResult(assignment=assignment, communities=communities, events=events)


def update_membership_history(
    history: pd.DataFrame | None,
    current_assignment: pd.DataFrame,
    as_of: date | datetime | str,
) -> pd.DataFrame:
    """Close the spells of users who moved or left, open spells for new memberships.

    Parameters
    ----------
    history : pandas.DataFrame or None
        ``user_id``, ``community_id``, ``valid_from``, ``valid_to`` (null = open);
        None or empty on the first refresh.
    current_assignment : pandas.DataFrame
        ``user_id`` and ``community_id`` (null = unassigned) as of ``as_of``.
    as_of : date, datetime or str
        Date of this refresh: the ``valid_to`` of closed spells and the
        ``valid_from`` of new ones.

    Returns
    -------
    pandas.DataFrame
        The full history, sorted by ``user_id`` then ``valid_from``; dates as
        ``datetime64[s]`` at midnight, ids as ``str``. A user has at most one open spell. A spell
        opened and closed on the same ``as_of`` (re-running a refresh) is dropped, so
        re-running with the same inputs returns the same table.

    Raises
    ------
    ValueError
        If an open spell starts after ``as_of`` (history must move forward).
    """
    day = pd.Timestamp(_day(as_of)).as_unit("s")
    columns = ["user_id", "community_id", "valid_from", "valid_to"]
    if history is None or len(history) == 0:
        past = pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    else:
        past = history[columns].reset_index(drop=True)
    # Ids as Python objects inside: pandas' Arrow-backed ``str`` isin/compare paths
    # are many times slower at a million rows.
    past = pd.DataFrame(
        {
            "user_id": _object_ids(past["user_id"]),
            "community_id": _object_ids(past["community_id"]),
            "valid_from": pd.to_datetime(past["valid_from"]).astype("datetime64[s]"),
            "valid_to": pd.to_datetime(past["valid_to"]).astype("datetime64[s]"),
        }
    )
    now = current_assignment.loc[
        current_assignment["community_id"].notna(), ["user_id", "community_id"]
    ]
    now = pd.DataFrame(
        {"user_id": _object_ids(now["user_id"]), "community_id": _object_ids(now["community_id"])}
    ).drop_duplicates("user_id")

    is_open = past["valid_to"].isna().to_numpy()
    if (past.loc[is_open, "valid_from"] > day).any():
        raise ValueError(f"history has open spells starting after as_of={day.date()}")
    open_rows = np.flatnonzero(is_open)
    still = pd.Index(now["user_id"]).get_indexer(past["user_id"].to_numpy()[open_rows])
    now_ids = now["community_id"].to_numpy()
    past_ids = past["community_id"].to_numpy()[open_rows]
    unchanged = np.zeros(len(open_rows), dtype=bool)
    found = still >= 0
    unchanged[found] = now_ids[still[found]] == past_ids[found]
    to_close = open_rows[~unchanged]
    valid_to = past["valid_to"].to_numpy().copy()
    valid_to[to_close] = day.to_datetime64()
    past["valid_to"] = valid_to
    # A spell opened today and closed today never held: drop it.
    zero_length = np.zeros(len(past), dtype=bool)
    zero_length[to_close] = past["valid_from"].to_numpy()[to_close] == day.to_datetime64()
    past = past[~zero_length]

    keeps_spell = np.zeros(len(now), dtype=bool)
    keeps_spell[still[unchanged]] = True
    fresh = now[~keeps_spell]
    opened = pd.DataFrame(
        {
            "user_id": fresh["user_id"].to_numpy(),
            "community_id": fresh["community_id"].to_numpy(),
            "valid_from": np.full(len(fresh), day.to_datetime64(), dtype="datetime64[s]"),
            "valid_to": np.full(len(fresh), np.datetime64("NaT"), dtype="datetime64[s]"),
        }
    )
    out = pd.concat([past, opened], ignore_index=True)
    out = out.sort_values(["user_id", "valid_from"], kind="stable").reset_index(drop=True)
    return pd.DataFrame(
        {
            "user_id": out["user_id"].astype(str),
            "community_id": out["community_id"].astype(str),
            "valid_from": out["valid_from"].astype("datetime64[s]"),
            "valid_to": out["valid_to"].astype("datetime64[s]"),
        }
    )


def _object_ids(values: pd.Series) -> np.ndarray:
    """Ids as an object array of Python str (missing stays missing)."""
    array = np.array(values.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)
    present = pd.notna(array)
    array[present] = [str(value) for value in array[present]]
    return array


def _day(as_of: date | datetime | str) -> str:
    """``as_of`` as an ISO date string (YYYY-MM-DD)."""
    return pd.Timestamp(as_of).date().isoformat()


def _current_frame(current: pd.DataFrame) -> pd.DataFrame:
    """Assigned rows of ``current``: ``user_id`` (str) and ``community_label`` (int)."""
    missing = {"user_id", "community_label"} - set(current.columns)
    if missing:
        raise ValueError(f"current lacks column(s) {sorted(missing)}")
    frame = pd.DataFrame(
        {
            "user_id": current["user_id"].astype(str).to_numpy(dtype=object),
            "community_label": current["community_label"].to_numpy(dtype=np.int64),
        }
    )
    if frame["user_id"].duplicated().any():
        raise ValueError("current has duplicate user_id values")
    return frame[frame["community_label"] >= 0]


def _previous_frame(previous: pd.DataFrame | None) -> pd.DataFrame:
    """Assigned rows of ``previous``: ``user_id`` and ``community_id`` (both str)."""
    if previous is None or len(previous) == 0:
        return pd.DataFrame(
            {"user_id": pd.Series(dtype=object), "community_id": pd.Series(dtype=object)}
        )
    missing = {"user_id", "community_id"} - set(previous.columns)
    if missing:
        raise ValueError(f"previous lacks column(s) {sorted(missing)}")
    frame = previous[previous["community_id"].notna()]
    frame = pd.DataFrame(
        {
            "user_id": frame["user_id"].astype(str).to_numpy(dtype=object),
            "community_id": frame["community_id"].astype(str).to_numpy(dtype=object),
        }
    )
    if frame["user_id"].duplicated().any():
        raise ValueError("previous has duplicate user_id values")
    return frame


def _pairs(
    cur: pd.DataFrame, prev: pd.DataFrame, cur_sizes: pd.Series, prev_sizes: pd.Series
) -> pd.DataFrame:
    """Every (previous id, current label) pair sharing members, with its overlap."""
    columns = ["community_id", "community_label", "shared", "size_before", "size_after"]
    if len(prev) == 0 or len(cur) == 0:
        frame = pd.DataFrame({column: pd.Series(dtype="int64") for column in columns})
        frame["community_id"] = frame["community_id"].astype(object)
        frame["jaccard"] = pd.Series(dtype="float64")
        frame["link"] = pd.Series(dtype=bool)
        return frame
    joined = cur.merge(prev, on="user_id", how="inner")
    pairs = joined.groupby(["community_id", "community_label"]).size().rename("shared")
    pairs = pairs.reset_index()
    pairs["size_before"] = pairs["community_id"].map(prev_sizes).astype("int64")
    pairs["size_after"] = pairs["community_label"].map(cur_sizes).astype("int64")
    union = pairs["size_before"] + pairs["size_after"] - pairs["shared"]
    pairs["jaccard"] = pairs["shared"] / union
    smaller = np.minimum(pairs["size_before"], pairs["size_after"])
    pairs["link"] = pairs["shared"] >= LINK_SHARE * smaller
    return pairs.sort_values(["community_id", "community_label"], kind="stable").reset_index(
        drop=True
    )


def _greedy_match(pairs: pd.DataFrame, min_overlap: float) -> dict[int, str]:
    """One-to-one matching, best Jaccard first; returns current label -> previous id."""
    candidates = pairs[pairs["jaccard"] >= min_overlap]
    candidates = candidates.assign(neg_j=-candidates["jaccard"], neg_s=-candidates["shared"])
    candidates = candidates.sort_values(
        ["neg_j", "neg_s", "community_id", "community_label"], kind="stable"
    )
    matched: dict[int, str] = {}
    used: set[str] = set()
    for row in candidates.itertuples():
        label = int(row.community_label)
        if label in matched or row.community_id in used:
            continue
        matched[label] = row.community_id
        used.add(row.community_id)
    return matched


def _new_id(prefix: str, day: str, members: list[str], taken: set[str]) -> str:
    """``prefix`` + hex digest of the day and sorted members; longer if it clashes."""
    digest = hashlib.sha256("\n".join([day, *members]).encode("utf-8")).hexdigest()
    for length in range(_HASH_CHARS, len(digest) + 1):
        candidate = f"{prefix}{digest[:length]}"
        if candidate not in taken:
            return candidate
    raise RuntimeError(f"cannot make a new community id for {len(members)} members on {day}")


def _events(
    pairs: pd.DataFrame,
    matched: dict[int, str],
    ids: dict[int, str],
    cur_sizes: pd.Series,
    prev_sizes: pd.Series,
) -> pd.DataFrame:
    """Lifecycle events between the two snapshots (see :func:`assign_community_ids`)."""
    rows: list[dict[str, Any]] = []
    links = pairs[pairs["link"]]
    parents_of: dict[int, list[str]] = {}
    for row in links.itertuples():
        parents_of.setdefault(int(row.community_label), []).append(row.community_id)
    linked_previous = set(links["community_id"])
    jaccard = {
        (row.community_id, int(row.community_label)): float(row.jaccard)
        for row in pairs.itertuples()
    }

    for label, size in cur_sizes.items():
        label = int(label)
        own = ids[label]
        continued_from = matched.get(label)
        if continued_from is not None:
            before = int(prev_sizes[continued_from])
            change = (int(size) - before) / before
            kind = "grew" if change > SIZE_CHANGE else "shrank" if change < -SIZE_CHANGE else None
            rows.append(
                _event(
                    own,
                    kind or "continued",
                    continued_from,
                    before,
                    int(size),
                    jaccard[(continued_from, label)],
                )
            )
        parents = parents_of.get(label, [])
        others = [parent for parent in parents if parent != continued_from]
        kind = "split" if continued_from is None and len(others) == 1 else "merged"
        for parent in others:
            rows.append(
                _event(
                    own,
                    kind,
                    parent,
                    int(prev_sizes[parent]),
                    int(size),
                    jaccard[(parent, label)],
                )
            )
        if continued_from is None and not parents:
            rows.append(_event(own, "born", None, 0, int(size), 0.0))

    continued = set(matched.values())
    for community_id, size in prev_sizes.items():
        if community_id not in continued and community_id not in linked_previous:
            rows.append(_event(community_id, "dissolved", None, int(size), 0, 0.0))

    dtypes = {
        "community_id": str,
        "event_type": str,
        "related_community_id": str,
        "size_before": "int64",
        "size_after": "int64",
        "overlap": "float64",
    }
    events = pd.DataFrame(
        {
            column: pd.Series([row[column] for row in rows], dtype=dtype)
            for column, dtype in dtypes.items()
        }
    )
    order = {kind: rank for rank, kind in enumerate(EVENT_TYPES)}
    events["_rank"] = events["event_type"].map(order)
    events = events.sort_values(
        ["_rank", "community_id", "related_community_id"], kind="stable", na_position="first"
    )
    return events.drop(columns="_rank").reset_index(drop=True)


def _event(
    community_id: str,
    event_type: str,
    related: str | None,
    size_before: int,
    size_after: int,
    overlap: float,
) -> dict[str, Any]:
    """One event row."""
    return {
        "community_id": community_id,
        "event_type": event_type,
        "related_community_id": related,
        "size_before": size_before,
        "size_after": size_after,
        "overlap": overlap,
    }
