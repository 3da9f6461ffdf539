"""What the Dagster UI shows on the published snapshot: markdown an engineer can read.

The publishing step attaches these to its materialization, so the asset page of
``serving/published_snapshot`` answers the first questions after a run without a SQL
client: which rows were rejected and why, which groups rank highest, and how the growth
curve looks (a text sparkline of daily active users with the detected inflections).
Every function reads the published snapshot (or any warehouse with the same marts); a
mart that is absent or empty gives a line saying so, never a placeholder figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import duckdb

from orchestration.lib.warehouse.summary import rejected_by_reason

__all__ = ["growth_curve_md", "markdown_table", "rejects_md", "sparkline", "top_groups_md"]

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    """One block character per value, scaled from the smallest to the largest.

    Parameters
    ----------
    values : sequence of float
        The series, in order; None values are drawn as a space.

    Returns
    -------
    str
        ``len(values)`` characters; a flat series is drawn at the lowest bar.
    """
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    span = high - low
    top = len(_BARS) - 1
    return "".join(
        " " if v is None else _BARS[0 if span == 0 else round((v - low) / span * top)]
        for v in values
    )


def _cell(value: object) -> str:
    """A markdown table cell: pipes escaped, line breaks flattened, numbers grouped."""
    if isinstance(value, float | Decimal):
        text = f"{value:,.3f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table of ``rows`` under ``header``."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = current_database() and table_schema = 'main' "
            "and table_name = ?",
            [table],
        ).fetchone()[0]
    )


def rejects_md(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """Rejected rows by raw table and reason: (total, markdown table)."""
    if not _has(con, "stg_product__rejected_rows"):
        return 0, "No rejects table in this warehouse."
    rows = rejected_by_reason(con)
    total = sum(n for _, _, n in rows)
    if not rows:
        return 0, "No row was rejected."
    return total, markdown_table(["raw table", "reason", "rows"], rows)


def top_groups_md(con: duckdb.DuckDBPyConnection, limit: int = 10) -> str:
    """The highest-potential groups of the latest snapshot (rpt_high_potential_communities)."""
    if not _has(con, "rpt_high_potential_communities"):
        return "rpt_high_potential_communities is not built."
    rows = con.execute(
        """
        select
            potential_rank, group_kind, coalesce(community_label, group_name, community_id),
            count_members, round(potential_score, 3), round(health_score, 3), reason
        from main.rpt_high_potential_communities
        where snapshot_date = (select max(snapshot_date) from main.rpt_high_potential_communities)
        order by potential_rank, group_kind, community_id
        limit ?
        """,
        [limit],
    ).fetchall()
    if not rows:
        return "No group is ranked yet."
    return markdown_table(["rank", "kind", "group", "members", "potential", "health", "why"], rows)


def growth_curve_md(con: duckdb.DuckDBPyConnection, max_points: int = 60) -> str:
    """Daily active users as a sparkline (weekly means past ``max_points`` days) with the
    first and last values and the inflections detected on the DAU series."""
    if not _has(con, "fct_kpi_daily"):
        return "fct_kpi_daily is not built."
    days = con.execute(
        "select kpi_date, count_dau from main.fct_kpi_daily order by kpi_date"
    ).fetchall()
    if not days:
        return "fct_kpi_daily is empty."
    if len(days) > max_points:
        points = con.execute(
            "select date_trunc('week', kpi_date)::date, avg(count_dau) "
            "from main.fct_kpi_daily group by 1 order by 1"
        ).fetchall()
        unit = "weekly mean DAU"
    else:
        points, unit = days, "DAU"
    values = [float(v) for _, v in points]
    lines = [
        f"`{sparkline(values)}`",
        "",
        f"{unit}, {points[0][0]} to {points[-1][0]}: {values[0]:,.0f} -> {values[-1]:,.0f} "
        f"(min {min(values):,.0f}, max {max(values):,.0f})",
    ]
    if _has(con, "fct_growth_inflections"):
        bends = con.execute(
            "select inflection_date, direction, round(slope_ratio, 2), count_interventions "
            "from main.fct_growth_inflections where series_name = 'count_dau' "
            "order by inflection_date"
        ).fetchall()
        if bends:
            lines += [
                "",
                markdown_table(
                    ["DAU inflection", "direction", "slope ratio", "interventions before"], bends
                ),
            ]
        else:
            lines += ["", "No inflection detected on DAU."]
    return "\n".join(lines)
