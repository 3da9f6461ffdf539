"""The data behind every dashboard page, read from the published snapshot.

Each function takes a DuckDB connection (or cursor) on the snapshot and returns plain
data: lists of dicts keyed by column name, in a stable order (every ``order by`` ends on
a key). Ids always travel as bound parameters, never inside the SQL text. Access is not
decided here (see :mod:`.access`): callers pass only groups the caller may see.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import duckdb

__all__ = [
    "BILINGUAL_SHARE",
    "GROWTH_SERIES",
    "HEALTH_COMPONENTS",
    "TREND_BAND",
    "experiments",
    "filter_groups",
    "group_detail",
    "group_health",
    "group_sentiment",
    "groups_table",
    "growth",
    "interventions",
    "jsonable",
    "publication",
]

#: Daily series of ``fct_kpi_daily`` on the growth page, in display order.
GROWTH_SERIES = (
    "count_dau",
    "count_wau",
    "count_mau",
    "count_new_users",
    "count_active_groups",
    "count_active_group_members",
    "share_contents_in_groups",
)
#: The components of ``fct_community_health.health_score``.
HEALTH_COMPONENTS = ("activity_score", "cohesion_score", "growth_score", "sentiment_score")
#: A group whose 4-week member growth rate is above +TREND_BAND is ``growing``, below
#: -TREND_BAND ``shrinking``, else ``stable`` (``new`` without members 4 weeks before).
TREND_BAND = 0.05
#: A group is bilingual (e.g. ``zh/en``) when its second language has at least this share
#: of its messages.
BILINGUAL_SHARE = 0.2
#: Rows shown per list on a group page.
TOP_N = 10


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict]:
    cursor = con.execute(sql, params or {})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def jsonable(value: Any) -> Any:
    """``value`` with dates as ISO text and non-finite floats as None (for JSON).

    Parameters
    ----------
    value : object
        Plain data from this module.

    Returns
    -------
    object
        The same structure, serializable by :func:`json.dumps` with ``allow_nan=False``.
    """
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def publication(con: duckdb.DuckDBPyConnection) -> dict:
    """Which run the snapshot holds.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.

    Returns
    -------
    dict
        ``run_id``, ``published_at`` and ``count_tables``.
    """
    return _rows(
        con,
        "select any_value(run_id) as run_id, max(published_at) as published_at, "
        "count(*) as count_tables from smallgroups_publication",
    )[0]


def growth(con: duckdb.DuckDBPyConnection) -> dict:
    """The growth page: daily KPIs, their detected inflections and what is marked on them.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.

    Returns
    -------
    dict
        ``daily`` (one dict per ``kpi_date`` with :data:`GROWTH_SERIES`), ``inflections``
        (``fct_growth_inflections``, by series and date), ``interventions`` (start and end
        of each intervention, see :func:`interventions`) and ``experiments`` (id, name,
        unit type, start and end of each experiment, ``fct_experiment_health``).
    """
    daily = _rows(
        con,
        f"select kpi_date, count_users, {', '.join(GROWTH_SERIES)} "
        "from fct_kpi_daily order by kpi_date",
    )
    inflections = _rows(
        con,
        """
        select series_name, inflection_date, inflection_date_low, inflection_date_high,
            direction, slope_before, slope_after, slope_ratio, p_value, confidence,
            intervention_ids, experiment_ids, contribution_dau, contribution_posts_per_day
        from fct_growth_inflections
        order by series_name, inflection_date
        """,
    )
    experiments = _rows(
        con,
        """
        select experiment_id, experiment_name, unit_type, started_at, ended_at
        from fct_experiment_health
        where started_at is not null
        order by started_at, experiment_id
        """,
    )
    return {
        "daily": daily,
        "inflections": inflections,
        "interventions": interventions(con),
        "experiments": experiments,
    }


def interventions(con: duckdb.DuckDBPyConnection, community_ids: Iterable[str] | None = None):
    """Interventions with their attributed effects (``fct_intervention_attribution``).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.
    community_ids : iterable of str, optional
        Only the interventions on these groups.

    Returns
    -------
    list of dict
        By start time and id; the label of the group each one targets.
    """
    where, params = "", {}
    if community_ids is not None:
        where, params = (
            "where a.community_id in (select unnest($ids))",
            {"ids": sorted(community_ids)},
        )
    return _rows(
        con,
        f"""
        select a.intervention_id, a.intervention_type, a.target_type, a.target_id,
            a.group_kind, a.community_id, c.community_label, a.started_at, a.ended_at,
            a.status, a.n_donors, a.relative_effect, a.relative_ci_low, a.relative_ci_high,
            a.did_p_value, a.synth_relative_effect, a.has_pre_trend, a.contribution_dau,
            a.contribution_dau_ci_low, a.contribution_dau_ci_high
        from fct_intervention_attribution as a
        left join dim_communities as c on a.community_id = c.community_id
        {where}
        order by a.started_at, a.intervention_id
        """,
        params,
    )


def experiments(con: duckdb.DuckDBPyConnection) -> dict:
    """The experiments page: results with intervals, health flags and power.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.

    Returns
    -------
    dict
        ``results`` (``fct_experiment_results`` with a CI), ``health`` (SRM, unit splits
        and spillover flags per experiment), ``spillover`` (material spillover rows),
        ``power`` (``fct_experiment_power``) and ``interventions``.
    """
    results = _rows(
        con,
        """
        select experiment_id, metric_name, is_primary, variant, analysis_unit, adjustment,
            units, mean_control, mean_variant, lift_relative, lift_relative_ci_low,
            lift_relative_ci_high, p_value, p_value_adjusted
        from fct_experiment_results
        where lift_relative is not null
        order by experiment_id, is_primary desc, metric_name, variant, analysis_unit,
            adjustment
        """,
    )
    health = _rows(
        con,
        """
        select experiment_id, units_per_variant, srm_p_value, has_srm, has_member_srm,
            count_problems, has_unit_split_or_merge, spillover_share, has_spillover,
            recommend_randomize_by_community
        from fct_experiment_health
        order by experiment_id
        """,
    )
    spillover = _rows(
        con,
        """
        select experiment_id, metric_name, exposure_kind, exposure_level, units,
            spillover_estimate, ci_low, ci_high, p_value_adjusted, is_material
        from fct_experiment_spillover
        where has_spillover or is_material
        order by experiment_id, metric_name, exposure_kind, exposure_level
        """,
    )
    power = _rows(
        con,
        """
        select metric_name, unit_type, count_units, design_effect, mde_relative,
            mde_relative_cuped, power, alpha
        from fct_experiment_power
        order by metric_name, unit_type
        """,
    )
    return {
        "results": results,
        "health": health,
        "spillover": spillover,
        "power": power,
        "interventions": interventions(con),
    }


def groups_table(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every declared group and detected community, with its latest figures.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.

    Returns
    -------
    list of dict
        One dict per ``dim_communities`` row: ``community_id``, ``display_id`` (the
        declared ``group_id`` or the community id), ``group_kind``, ``community_label``,
        ``community_status``, ``size`` (members at its latest health snapshot, else
        ``dim_communities.count_members``), ``health_score``, ``peer_percentile``,
        ``member_growth_rate_4_weeks``, ``trend`` (see :data:`TREND_BAND`), ``language``
        (main language of its messages, ``a/b`` when bilingual, see
        :data:`BILINGUAL_SHARE`), ``count_messages`` and ``snapshot_date``; ordered by
        health (best first), then id.
    """
    return _rows(
        con,
        """
        with latest as (
            select community_id,
                max(snapshot_date) as snapshot_date,
                arg_max(count_members, snapshot_date) as count_members,
                arg_max(health_score, snapshot_date) as health_score,
                arg_max(peer_percentile, snapshot_date) as peer_percentile,
                arg_max(member_growth_rate_4_weeks, snapshot_date) as growth_rate,
                arg_max(count_members_4_weeks_before, snapshot_date) as members_before
            from fct_community_health
            group by community_id
        ),
        messages as (
            select 'group:' || group_id as community_id, language
            from fct_contents_enriched where group_id is not null
            union all
            select community_id, language
            from fct_contents_enriched where community_id is not null
        ),
        by_language as (
            select community_id, language, count(*) as n,
                sum(count(*)) over (partition by community_id) as total,
                row_number() over (
                    partition by community_id order by count(*) desc, language
                ) as language_rank
            from messages
            group by community_id, language
        ),
        languages as (
            select community_id,
                any_value(total) as count_messages,
                string_agg(language, '/' order by language_rank) filter (
                    where language_rank = 1
                        or (language_rank = 2 and n >= $bilingual * total)
                ) as language
            from by_language
            group by community_id
        )
        select d.community_id,
            coalesce(d.group_id, d.community_id) as display_id,
            d.group_kind,
            d.community_label,
            d.community_status,
            coalesce(l.count_members, d.count_members) as size,
            l.health_score,
            l.peer_percentile,
            l.growth_rate as member_growth_rate_4_weeks,
            case
                when l.growth_rate is null or coalesce(l.members_before, 0) = 0 then 'new'
                when l.growth_rate > $band then 'growing'
                when l.growth_rate < -$band then 'shrinking'
                else 'stable'
            end as trend,
            coalesce(g.language, 'none') as language,
            coalesce(g.count_messages, 0) as count_messages,
            l.snapshot_date
        from dim_communities as d
        left join latest as l on d.community_id = l.community_id
        left join languages as g on d.community_id = g.community_id
        order by l.health_score desc nulls last, d.community_id
        """,
        {"band": TREND_BAND, "bilingual": BILINGUAL_SHARE},
    )


_SORTABLE = (
    "health_score",
    "size",
    "community_label",
    "group_kind",
    "trend",
    "language",
    "member_growth_rate_4_weeks",
    "count_messages",
)


def filter_groups(
    rows: Sequence[dict],
    *,
    allowed: frozenset[str] | None = None,
    kind: str | None = None,
    trend: str | None = None,
    language: str | None = None,
    text: str | None = None,
    min_size: int | None = None,
    min_health: float | None = None,
    sort: str = "health_score",
    descending: bool = True,
) -> list[dict]:
    """Filter and sort rows of :func:`groups_table` (pure: no database).

    Parameters
    ----------
    rows : sequence of dict
        From :func:`groups_table`.
    allowed : frozenset of str, optional
        Only these ``community_id`` values (a leader's groups); None keeps all.
    kind, trend : str, optional
        Exact ``group_kind`` / ``trend``.
    language : str, optional
        Rows whose language (or one of the two of a bilingual group) is this code.
    text : str, optional
        Case-insensitive substring of the label or the id.
    min_size : int, optional
        At least this many members.
    min_health : float, optional
        Health score at least this.
    sort : str, default ``health_score``
        Column to sort on (an unknown one sorts on health).
    descending : bool, default True
        Largest first; ties always break on ``community_id`` ascending, missing values last.

    Returns
    -------
    list of dict
        The kept rows (the same dict objects).
    """
    sort = sort if sort in _SORTABLE else "health_score"
    needle = (text or "").strip().casefold()
    kept = [
        row
        for row in rows
        if (allowed is None or row["community_id"] in allowed)
        and (not kind or row["group_kind"] == kind)
        and (not trend or row["trend"] == trend)
        and (not language or language in (row["language"] or "").split("/"))
        and (
            not needle
            or needle in (row["community_label"] or "").casefold()
            or needle in row["display_id"].casefold()
        )
        and (min_size is None or (row["size"] or 0) >= min_size)
        and (
            min_health is None
            or (row["health_score"] is not None and row["health_score"] >= min_health)
        )
    ]
    kept.sort(key=lambda row: row["community_id"])
    present = [row for row in kept if row[sort] is not None]
    missing = [row for row in kept if row[sort] is None]
    present.sort(key=lambda row: row[sort], reverse=descending)
    return present + missing


def group_detail(con: duckdb.DuckDBPyConnection, community_id: str) -> dict | None:
    """Everything the page of one group shows.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.
    community_id : str
        A ``dim_communities.community_id`` the caller may see.

    Returns
    -------
    dict or None
        None when there is no such group; else ``group`` (the ``dim_communities`` row,
        with ``dim_groups`` facts for a declared group), ``health`` (every snapshot:
        score, components, what raised and lowered it most), ``activity`` (members, active
        members and messages per snapshot), ``members`` (latest snapshot's key members
        and bridges of a detected community; a declared group's most active authors of
        its last 28 days), ``role_counts``, ``topics``, ``trending``, ``pain_points``
        (with their example messages), ``sentiment`` (weekly), ``lookalikes``,
        ``affinity``, ``events`` (lifecycle), ``messages`` (latest messages) and
        ``interventions``.
    """
    params = {"id": community_id}
    group = _rows(
        con,
        """
        select d.*, g.name as declared_name, g.category, g.visibility, g.owner_user_id,
            g.created_at as group_created_at, g.count_members_current, g.count_admins_current,
            g.count_contents, g.last_activity_at
        from dim_communities as d
        left join dim_groups as g on d.group_kind = 'declared' and d.group_id = g.group_id
        where d.community_id = $id
        """,
        params,
    )
    if not group:
        return None
    group = group[0]
    health = group_health(con, community_id)
    latest = max((row["snapshot_date"] for row in health), default=None)
    members = _members(con, group, latest)
    role_counts = _rows(
        con,
        """
        select member_role, count(*) as count_members from fct_community_members
        where community_id = $id
            and snapshot_date = (
                select max(snapshot_date) from fct_community_members where community_id = $id
            )
        group by member_role order by count_members desc, member_role
        """,
        params,
    )
    topics = _rows(
        con,
        """
        select term_rank, term, score, count_messages, share_of_messages
        from fct_community_topics
        where community_id = $id and snapshot_date = (
            select max(snapshot_date) from fct_community_topics where community_id = $id)
            and term_rank <= $n
        order by term_rank, term
        """,
        {**params, "n": TOP_N},
    )
    trending = _rows(
        con,
        """
        select week_start_date, term_rank, term, count_messages, count_authors, rise, lift
        from fct_community_trending_terms
        where community_id = $id and snapshot_date = (
            select max(snapshot_date) from fct_community_trending_terms where community_id = $id)
            and term_rank <= $n
        order by term_rank, term
        """,
        {**params, "n": TOP_N},
    )
    pain_points = _pain_points(con, community_id)
    sentiment = group_sentiment(con, community_id)
    lookalikes = _rows(
        con,
        """
        select l.lookalike_rank, l.lookalike_community_id, c.community_label,
            l.similarity, l.structural_similarity, l.topic_similarity
        from fct_community_lookalikes as l
        left join dim_communities as c on l.lookalike_community_id = c.community_id
        where l.community_id = $id and l.snapshot_date = (
            select max(snapshot_date) from fct_community_lookalikes where community_id = $id)
        order by l.lookalike_rank, l.lookalike_community_id
        """,
        params,
    )
    affinity = _rows(
        con,
        """
        with mine as (
            select case when community_id_a = $id then community_id_b else community_id_a end
                    as other_community_id,
                affinity, count_cross_edges, count_members_tied_across, topic_similarity,
                snapshot_date
            from fct_community_affinity
            where community_id_a = $id or community_id_b = $id
        )
        select m.other_community_id, c.community_label, m.affinity, m.count_cross_edges,
            m.count_members_tied_across, m.topic_similarity
        from mine as m
        left join dim_communities as c on m.other_community_id = c.community_id
        where m.snapshot_date = (select max(snapshot_date) from mine)
        order by m.affinity desc, m.other_community_id
        limit $n
        """,
        {**params, "n": TOP_N},
    )
    events = _rows(
        con,
        """
        select e.event_date, e.event_type, e.related_community_id, c.community_label,
            e.size_before, e.size_after, e.overlap
        from fct_community_events as e
        left join dim_communities as c on e.related_community_id = c.community_id
        where e.community_id = $id and e.event_type != 'continued'
        order by e.event_date, e.event_type, e.related_community_id
        """,
        params,
    )
    return {
        "group": group,
        "health": health,
        "members": members,
        "role_counts": role_counts,
        "topics": topics,
        "trending": trending,
        "pain_points": pain_points,
        "sentiment": sentiment,
        "lookalikes": lookalikes,
        "affinity": affinity,
        "events": events,
        "messages": _messages(con, group),
        "interventions": interventions(con, [community_id]),
    }


def group_health(con: duckdb.DuckDBPyConnection, community_id: str) -> list[dict]:
    """A group's health per snapshot (``fct_community_health``), oldest first.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.
    community_id : str
        A ``dim_communities.community_id``.

    Returns
    -------
    list of dict
        Score, peer percentile, :data:`HEALTH_COMPONENTS`, the components that raised and
        lowered it most, members, active members, messages and key members.
    """
    return _rows(
        con,
        f"""
        select snapshot_date, count_members, health_score, peer_percentile,
            {", ".join(HEALTH_COMPONENTS)}, top_raising_component, top_raising_points,
            top_lowering_component, top_lowering_points, count_active_members, count_messages,
            share_members_active, member_growth_rate_4_weeks, count_key_members
        from fct_community_health where community_id = $id
        order by snapshot_date
        """,
        {"id": community_id},
    )


def group_sentiment(con: duckdb.DuckDBPyConnection, community_id: str) -> list[dict]:
    """A group's sentiment per week (``fct_community_sentiment_weekly``), oldest first.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.
    community_id : str
        A ``dim_communities.community_id``.

    Returns
    -------
    list of dict
        One row per week, from the latest snapshot that covers it.
    """
    return _rows(
        con,
        """
        select week_start_date, count_messages_week, avg_sentiment_week, net_sentiment_week,
            share_negative_week, share_need_messages_week
        from fct_community_sentiment_weekly
        where community_id = $id
        qualify row_number() over (
            partition by week_start_date order by snapshot_date desc) = 1
        order by week_start_date
        """,
        {"id": community_id},
    )


def _message_filter(group: dict) -> tuple[str, dict]:
    if group["group_kind"] == "declared":
        return "group_id = $key", {"key": group["group_id"]}
    return "community_id = $key", {"key": group["community_id"]}


def _members(con, group: dict, latest: date | None) -> list[dict]:
    if group["group_kind"] == "detected":
        return _rows(
            con,
            """
            select user_id, member_role, is_key_member, is_bridge, key_member_rank,
                key_member_score, count_messages_4_weeks, participation_coefficient,
                top_other_community_id
            from fct_community_members
            where community_id = $id and (is_key_member or is_bridge)
                and snapshot_date = (
                    select max(snapshot_date) from fct_community_members
                    where community_id = $id)
            order by is_key_member desc, key_member_rank nulls last, user_id
            limit 25
            """,
            {"id": group["community_id"]},
        )
    where, params = _message_filter(group)
    return _rows(
        con,
        f"""
        select author_user_id as user_id,
            case when author_user_id = $owner then 'owner' else 'member' end as member_role,
            count(*) as count_messages_4_weeks,
            count(*) filter (where parent_content_id is null) as count_posts,
            max(created_at) as last_message_at
        from fct_contents_enriched
        where {where}
            and created_date > coalesce(
                cast($latest as date), (select max(created_date) from fct_contents_enriched)
            ) - 28
        group by author_user_id
        order by count_messages_4_weeks desc, user_id
        limit 25
        """,
        {**params, "owner": group.get("owner_user_id"), "latest": latest},
    )


def _pain_points(con, community_id: str) -> list[dict]:
    rows = _rows(
        con,
        """
        select pain_point_rank, phrase, language, count_messages, count_authors, trend,
            avg_sentiment, share_negative, score, example_content_ids
        from fct_community_pain_points
        where community_id = $id and snapshot_date = (
            select max(snapshot_date) from fct_community_pain_points where community_id = $id)
            and pain_point_rank <= $n
        order by pain_point_rank, phrase
        """,
        {"id": community_id, "n": TOP_N},
    )
    ids = sorted({cid for row in rows for cid in (row["example_content_ids"] or [])})
    examples = {
        row["content_id"]: row
        for row in _rows(
            con,
            "select content_id, author_user_id, created_at, language, body "
            "from fct_contents_enriched where content_id in (select unnest($ids))",
            {"ids": ids},
        )
    }
    for row in rows:
        row["examples"] = [
            examples[cid] for cid in (row.pop("example_content_ids") or []) if cid in examples
        ]
    return rows


def _messages(con, group: dict, limit: int = 20) -> list[dict]:
    where, params = _message_filter(group)
    return _rows(
        con,
        f"""
        select content_id, author_user_id, created_at, language, sentiment_label,
            is_need_message, body
        from fct_contents_enriched
        where {where}
        order by created_at desc, content_id
        limit $limit
        """,
        {**params, "limit": limit},
    )
