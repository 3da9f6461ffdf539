"""Plotly figures of the dashboard, built from the plain data of :mod:`.queries`.

Each function returns a :class:`plotly.graph_objects.Figure`; the web application sends
``figure.to_json()`` and the page draws it with the ``plotly.min.js`` of the installed
``plotly`` package (nothing from a CDN). Trace names and ``meta`` carry what the browser
tests check (e.g. the inflection marker trace is ``meta="inflection"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from orchestration.lib.dashboard.queries import HEALTH_COMPONENTS

__all__ = [
    "GROWTH_CHARTS",
    "activity_figure",
    "groups_map_figure",
    "growth_figure",
    "health_figure",
    "sentiment_figure",
]

#: The growth page's charts: name, title key, series of ``fct_kpi_daily`` drawn.
GROWTH_CHARTS = {
    "users": ("users_chart", ("count_dau", "count_wau", "count_mau")),
    "signups": ("signups_chart", ("count_new_users",)),
    "groups": ("groups_chart", ("count_active_groups", "count_active_group_members")),
    "share": ("share_chart", ("share_contents_in_groups",)),
}
_TREND_COLOURS = {
    "growing": "#2ca02c",
    "stable": "#7f7f7f",
    "shrinking": "#d62728",
    "new": "#1f77b4",
}


def _layout(title: str, **extra) -> dict:
    return {
        "title": {"text": title},
        "template": "plotly_white",
        "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        "height": 360,
        "legend": {"orientation": "h", "y": -0.15},
        "font": {"family": "Noto Sans CJK SC, Noto Sans, sans-serif"},
        **extra,
    }


def growth_figure(data: dict, chart: str, t: Callable[[str], str]) -> go.Figure:
    """One chart of the growth page: its series, their inflections, the interventions.

    Parameters
    ----------
    data : dict
        From :func:`.queries.growth`.
    chart : str
        A key of :data:`GROWTH_CHARTS`.
    t : callable
        Translator of the interface strings.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per series; the detected inflections of those series as markers on
        their curve (trace ``meta="inflection"``, hover: date interval, direction, slope
        ratio, linked interventions and experiments); interventions started as
        triangles at the bottom (``meta="intervention"``) and experiments started as
        stars at the bottom (``meta="experiment"``, hover: id, name, unit, start, end).
    """
    title_key, series = GROWTH_CHARTS[chart]
    days = [row["kpi_date"] for row in data["daily"]]
    figure = go.Figure(layout=_layout(t(title_key)))
    for name in series:
        figure.add_trace(
            go.Scatter(x=days, y=[row[name] for row in data["daily"]], mode="lines", name=name)
        )
    by_day = {row["kpi_date"]: row for row in data["daily"]}
    marks = [
        row
        for row in data["inflections"]
        if row["series_name"] in series and row["inflection_date"] in by_day
    ]
    if marks:
        figure.add_trace(
            go.Scatter(
                x=[row["inflection_date"] for row in marks],
                y=[by_day[row["inflection_date"]][row["series_name"]] for row in marks],
                mode="markers",
                name=t("inflection"),
                meta="inflection",
                marker={
                    "symbol": "diamond",
                    "size": 14,
                    "color": "#ff7f0e",
                    "line": {"width": 1, "color": "#000"},
                },
                text=[
                    f"{row['series_name']} {row['direction']} {row['inflection_date']}"
                    f" [{row['inflection_date_low']} – {row['inflection_date_high']}]"
                    f" ×{(row['slope_ratio'] or 0):.2f}"
                    f" {row['intervention_ids'] or ''} {row['experiment_ids'] or ''}".strip()
                    for row in marks
                ],
                hoverinfo="text",
            )
        )
    started = [row for row in data["interventions"] if row["started_at"] is not None]
    if started and chart != "share":
        figure.add_trace(
            go.Scatter(
                x=[row["started_at"] for row in started],
                y=[0] * len(started),
                mode="markers",
                name=t("intervention"),
                meta="intervention",
                marker={"symbol": "triangle-up", "size": 10, "color": "#9467bd"},
                text=[
                    f"{row['intervention_id']} {row['intervention_type']} → "
                    f"{row['community_label'] or row['target_id']}"
                    for row in started
                ],
                hoverinfo="text",
            )
        )
    experiments = data.get("experiments", [])
    if experiments and chart != "share":
        figure.add_trace(
            go.Scatter(
                x=[row["started_at"] for row in experiments],
                y=[0] * len(experiments),
                mode="markers",
                name=t("experiment"),
                meta="experiment",
                marker={"symbol": "star", "size": 12, "color": "#2ca02c"},
                text=[
                    f"{row['experiment_id']} {row['experiment_name'] or ''} "
                    f"({row['unit_type']}) {row['started_at']:%Y-%m-%d} → "
                    + (f"{row['ended_at']:%Y-%m-%d}" if row["ended_at"] else "…")
                    for row in experiments
                ],
                hoverinfo="text",
            )
        )
    return figure


def groups_map_figure(rows: Sequence[dict], t: Callable[[str], str]) -> go.Figure:
    """Size against health, one point per group, coloured by trend.

    Parameters
    ----------
    rows : sequence of dict
        Rows of :func:`.queries.groups_table` (already restricted to what the caller
        may see).
    t : callable
        Translator.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per trend; ``customdata`` holds the group's page id.
    """
    figure = go.Figure(
        layout=_layout(
            t("group_map"),
            xaxis={"title": {"text": t("size")}, "type": "log"},
            yaxis={"title": {"text": t("health")}},
            height=420,
        )
    )
    for trend, colour in _TREND_COLOURS.items():
        points = [r for r in rows if r["trend"] == trend and r["health_score"] is not None]
        if not points:
            continue
        figure.add_trace(
            go.Scatter(
                x=[r["size"] for r in points],
                y=[r["health_score"] for r in points],
                mode="markers",
                name=t(trend),
                marker={"color": colour, "size": 8, "opacity": 0.75},
                text=[r["community_label"] for r in points],
                customdata=[r["display_id"] for r in points],
                hovertemplate="%{text}<br>%{x} · %{y:.1f}<extra></extra>",
            )
        )
    return figure


def health_figure(detail: dict, t: Callable[[str], str]) -> go.Figure:
    """A group's health score and its components per snapshot.

    Parameters
    ----------
    detail : dict
        From :func:`.queries.group_detail`.
    t : callable
        Translator.

    Returns
    -------
    plotly.graph_objects.Figure
        Health as a thick line, components as thin ones.
    """
    days = [row["snapshot_date"] for row in detail["health"]]
    figure = go.Figure(layout=_layout(t("health_chart")))
    figure.add_trace(
        go.Scatter(
            x=days,
            y=[r["health_score"] for r in detail["health"]],
            name="health_score",
            line={"width": 4},
        )
    )
    for name in HEALTH_COMPONENTS:
        figure.add_trace(
            go.Scatter(
                x=days, y=[r[name] for r in detail["health"]], name=name, line={"width": 1.5}
            )
        )
    return figure


def activity_figure(detail: dict, t: Callable[[str], str]) -> go.Figure:
    """Members, active members and messages of a group per snapshot.

    Parameters
    ----------
    detail : dict
        From :func:`.queries.group_detail`.
    t : callable
        Translator.

    Returns
    -------
    plotly.graph_objects.Figure
        Members and active members as lines, messages as bars on a second axis.
    """
    days = [row["snapshot_date"] for row in detail["health"]]
    figure = go.Figure(
        layout=_layout(t("activity_chart"), yaxis2={"overlaying": "y", "side": "right"})
    )
    figure.add_trace(
        go.Bar(
            x=days,
            y=[r["count_messages"] for r in detail["health"]],
            name="count_messages",
            yaxis="y2",
            opacity=0.35,
        )
    )
    for name in ("count_members", "count_active_members"):
        figure.add_trace(go.Scatter(x=days, y=[r[name] for r in detail["health"]], name=name))
    return figure


def sentiment_figure(detail: dict, t: Callable[[str], str]) -> go.Figure:
    """Net sentiment and the share of need messages per week.

    Parameters
    ----------
    detail : dict
        From :func:`.queries.group_detail`.
    t : callable
        Translator.

    Returns
    -------
    plotly.graph_objects.Figure
        Two lines over ``week_start_date``.
    """
    weeks = [row["week_start_date"] for row in detail["sentiment"]]
    figure = go.Figure(layout=_layout(t("sentiment_chart")))
    for name in ("net_sentiment_week", "share_need_messages_week"):
        figure.add_trace(go.Scatter(x=weeks, y=[r[name] for r in detail["sentiment"]], name=name))
    return figure
