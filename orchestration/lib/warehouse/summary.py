"""What `make run` prints at the end: the main marts' row counts and the rejects.

The summary reads a warehouse that may be partly built or built from a data set without
the optional tables (no contents, no groups, no experiments): a table that is absent
shows as "not built" or its line is left out, and an empty one shows 0, never a
placeholder figure.
"""

from __future__ import annotations

import duckdb

__all__ = ["MAIN_TABLES", "format_summary", "rejected_by_reason", "warehouse_summary"]

#: Tables whose row counts the summary shows, in data-flow order.
MAIN_TABLES = (
    "stg_product__users",
    "stg_product__events",
    "stg_product__contents",
    "dim_users",
    "dim_groups",
    "fct_user_activity_daily",
    "fct_group_members_daily",
    "fct_user_edges",
    "dim_communities",
    "fct_community_health",
    "fct_community_members",
    "rpt_high_potential_communities",
    "fct_contents_enriched",
    "fct_community_topics",
    "fct_community_pain_points",
    "stg_product__rejected_rows",
)


def rejected_by_reason(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """Rejected rows as (raw table, reason, rows), by table, most frequent reason first."""
    return con.execute(
        "select source_table, rejection_reason, count(*) from main.stg_product__rejected_rows "
        "group by all order by 1, 3 desc, 2"
    ).fetchall()


def warehouse_summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Count rows of the main tables and rejected rows by table and reason.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to a built warehouse.

    Returns
    -------
    dict
        ``row_counts`` (table -> rows, None when absent), ``raw_row_counts`` and
        ``rejects`` (list of (table, reason, rows)).
    """
    tables = set(
        con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    )
    existing = {name for schema, name in tables if schema == "main"}
    row_counts: dict[str, int | None] = {}
    for table in MAIN_TABLES:
        row_counts[table] = (
            con.execute(f"select count(*) from main.{table}").fetchone()[0]
            if table in existing
            else None
        )
    raw_row_counts = {
        name: con.execute(f"select count(*) from raw.{name}").fetchone()[0]
        for name in sorted(name for schema, name in tables if schema == "raw")
    }
    rejects = rejected_by_reason(con) if "stg_product__rejected_rows" in existing else []
    communities = None
    # the table, not only its schema: the schema may exist before the first snapshot
    if ("communities", "community_snapshot_runs") in tables:
        rows = con.execute(
            "select snapshot_date, count_communities, count_assigned, count_users, modularity "
            "from communities.community_snapshot_runs order by snapshot_date desc limit 1"
        ).fetchall()
        communities = rows[0] if rows else None
    text = None
    if {"fct_contents_enriched", "fct_community_pain_points"} <= existing:
        languages = con.execute(
            "select language, count(*) from main.fct_contents_enriched group by 1 order by 2 desc"
        ).fetchall()
        # The most complained-about phrase of the latest snapshot, over all groups.
        top = con.execute(
            """
            select community_id, phrase, count_messages, count_authors
            from main.fct_community_pain_points
            where snapshot_date = (select max(snapshot_date) from main.fct_community_pain_points)
              and group_kind = 'detected'
            order by count_messages desc, community_id, pain_point_rank
            limit 1
            """
        ).fetchall()
        text = {"languages": languages, "top_pain_point": top[0] if top else None}
    return {
        "row_counts": row_counts,
        "raw_row_counts": raw_row_counts,
        "rejects": rejects,
        "communities": communities,
        "text": text,
    }


def format_summary(
    summary: dict[str, object], duckdb_path: str, serving_path: str | None = None
) -> str:
    """Render :func:`warehouse_summary` as the text `make run` prints; the "query it"
    line opens ``serving_path`` (the published snapshot) when given."""
    lines = ["", "smallgroups: warehouse built", "", "  rows in the main tables:"]
    for table, count in summary["row_counts"].items():
        shown = "not built" if count is None else f"{count:>12,}"
        lines.append(f"    {table:<32} {shown}")
    raw_total = sum(summary["raw_row_counts"].values())
    rejected_total = sum(count for _, _, count in summary["rejects"])
    lines += ["", f"  raw rows read: {raw_total:,}; rejected: {rejected_total:,} (by reason):"]
    for table, reason, count in summary["rejects"]:
        lines.append(f"    {table:<24} {reason:<24} {count:>8,}")
    if summary.get("communities"):
        day, count, assigned, users, modularity = summary["communities"]
        # the column is nullable in the runs table
        quality = "n/a" if modularity is None else f"{modularity:.3f}"
        lines += [
            "",
            f"  communities at {day}: {count:,} detected, {assigned:,} of {users:,} users "
            f"assigned, modularity {quality}",
        ]
    if summary.get("text"):
        languages = summary["text"]["languages"]
        total = sum(n for _, n in languages)
        shares = ", ".join(f"{lang} {n / total:.0%}" for lang, n in languages)
        lines += ["", f"  messages enriched: {total:,}" + (f" ({shares})" if shares else "")]
        if summary["text"]["top_pain_point"]:
            community, phrase, count, authors = summary["text"]["top_pain_point"]
            lines.append(
                f"  loudest pain point: '{phrase}' in community {community} "
                f"({count} messages from {authors} members in 4 weeks; fct_community_pain_points)"
            )
    lines += [
        "",
        f"  working warehouse (the pipeline's own): {duckdb_path}",
        *(
            [f"  published snapshot (for BI tools, the dashboard, notebooks): {serving_path}"]
            if serving_path
            else []
        ),
        "  query it:  .venv/bin/python -c \"import duckdb; duckdb.connect('"
        + (serving_path or duckdb_path)
        + "', read_only=True).sql('from dim_users limit 5').show()\"",
        "  open the UI with `make ui`, then http://127.0.0.1:3000 (same run history)",
        "",
    ]
    return "\n".join(lines)
