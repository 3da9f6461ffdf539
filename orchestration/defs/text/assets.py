"""Text of each group: two Python steps around the dbt models.

``contents_enriched`` reads the staged messages that have not been enriched yet and
writes their language, tokens, sentiment and need flag (``text.contents_enriched``) and
their topic terms (``text.content_terms``); dbt turns them into
``fct_contents_enriched``, topics, trending terms and weekly sentiment.
``community_pain_points`` runs after the community snapshots and extracts each group's
recurring complaints for every snapshot not computed yet (``text.community_pain_points``).
The work itself lives in `orchestration.lib.text.refresh`.
"""

import time
from dataclasses import fields

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.lib.config import dbt_project_var, load_settings
from orchestration.lib.text import store
from orchestration.lib.text.refresh import enrich_new_messages, refresh_pain_points
from orchestration.lib.text.snapshots import TextSettings
from orchestration.lib.warehouse import connect

GROUP = "text"


def _dbt_key(name: str) -> dg.AssetKey:
    return get_asset_key_for_model([smallgroups_dbt_assets], name)


class ContentEnrichmentConfig(dg.Config):
    """Launchpad options."""

    recompute_all: bool = False
    """Drop every enriched message and enrich all of them again."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=[GROUP, name],
            group_name=GROUP,
            deps=[_dbt_key("stg_product__contents"), _dbt_key("text_domain_terms")],
            kinds={"python", "duckdb"},
            description=description,
        )
        for name, description in (
            (
                "contents_enriched",
                "text.contents_enriched: language, tokens, sentiment score and label, need "
                "flag and word runs of every accepted message (only new messages are read).",
            ),
            (
                "content_terms",
                "text.content_terms: the unigram and bigram terms of each message, counted.",
            ),
        )
    ],
    can_subset=False,
)
def contents_enriched(context: dg.AssetExecutionContext, config: ContentEnrichmentConfig):
    """Enrich every accepted message not enriched yet (all of them after a model change)."""
    started = time.perf_counter()
    with connect(load_settings().duckdb_path) as con:
        stats = enrich_new_messages(con, recompute_all=config.recompute_all, log=context.log)
    common = {
        "messages_enriched_this_run": stats["messages_enriched_this_run"],
        "messages_per_second": stats["messages_per_second"] or 0.0,
        "orphans_removed": stats["orphans_removed"],
        "recomputed_all": stats["recomputed_all"],
        "enrichment_fingerprint": stats["enrichment_fingerprint"],
        "seconds": round(time.perf_counter() - started, 2),
    }
    shares = {
        k: stats[k] if stats[k] is not None else 0.0
        for k in stats
        if k.startswith("share_") or k == "mean_sentiment"
    }
    yield dg.MaterializeResult(
        asset_key=[GROUP, "contents_enriched"],
        metadata=common | shares | {"dagster/row_count": stats["count_messages"]},
    )
    yield dg.MaterializeResult(
        asset_key=[GROUP, "content_terms"],
        metadata=common | {"dagster/row_count": stats["count_terms"]},
    )


class PainPointConfig(dg.Config):
    """Pain-point settings (launchpad); the defaults are the documented ones."""

    window_days: int = int(dbt_project_var("text_window_days"))
    """Days of messages behind each snapshot's pain points (default: dbt's var
    text_window_days, the window of the topic and sentiment marts)."""
    top_pain_points: int = 5
    """Pain points kept per group and snapshot."""
    pain_min_messages: int = 3
    """Least complaint messages carrying a phrase in the window."""
    pain_min_authors: int = 2
    """Least distinct authors of those messages."""
    negative_threshold: float = -0.5
    """Messages scoring at most this are complaints even without a need pattern."""
    trend_ratio: float = 1.5
    """Rising / falling when the weekly rate changes by this factor..."""
    trend_min_change: float = 2.0
    """...and by at least this many messages a week."""
    n_examples: int = 3
    """Example content ids per phrase."""
    recompute_all: bool = False
    """Drop every stored snapshot and recompute them all."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=[GROUP, name],
            group_name=GROUP,
            deps=[
                dg.AssetKey([GROUP, "contents_enriched"]),
                dg.AssetKey(["communities", "community_assignments"]),
                dg.AssetKey(["communities", "community_snapshot_runs"]),
                _dbt_key("stg_product__contents"),
            ],
            kinds={"python", "duckdb"},
            description=description,
        )
        for name, description in (
            ("pain_point_runs", "text.pain_point_runs: one row per snapshot analysed."),
            (
                "community_pain_points",
                "text.community_pain_points: each group's recurring complaint phrases per "
                "weekly snapshot, with counts, trend, sentiment and examples.",
            ),
        )
    ],
    can_subset=False,
)
def community_pain_points(context: dg.AssetExecutionContext, config: PainPointConfig):
    """Extract pain points for every community snapshot not analysed yet."""
    settings = TextSettings(**{f.name: getattr(config, f.name) for f in fields(TextSettings)})
    started = time.perf_counter()
    with connect(load_settings().duckdb_path) as con:
        stats = refresh_pain_points(
            con, settings, recompute_all=config.recompute_all, log=context.log
        )
        counts = {
            name: con.execute(f"select count(*) from {store.SCHEMA}.{name}").fetchall()[0][0]
            for name in store.SNAPSHOT_TABLES
        }
    for name in store.SNAPSHOT_TABLES:
        yield dg.MaterializeResult(
            asset_key=[GROUP, name],
            metadata={
                "dagster/row_count": int(counts[name]),
                "snapshots_computed": stats["snapshots_computed"],
                "snapshots_stored": stats["snapshots_stored"],
                "settings_fingerprint": stats["settings_fingerprint"],
                "seconds": round(time.perf_counter() - started, 2),
            },
        )


@dg.asset_check(
    asset=dg.AssetKey([GROUP, "contents_enriched"]),
    description="Every accepted message is enriched exactly once, with one enrichment "
    "version, a known language and label, and a score in [-1, 1].",
    blocking=True,
)
def contents_enriched_account_for_every_message() -> dg.AssetCheckResult:
    with connect(load_settings().duckdb_path, read_only=True) as con:
        missing, extra, duplicated, versions, invalid = con.execute(
            f"""
            select
                (select count(*) from main.stg_product__contents as c
                 anti join {store.SCHEMA}.contents_enriched as e using (content_id)),
                (select count(*) from {store.SCHEMA}.contents_enriched as e
                 anti join main.stg_product__contents as c using (content_id)),
                (select count(*) - count(distinct content_id)
                 from {store.SCHEMA}.contents_enriched),
                (select count(distinct enrichment_fingerprint)
                 from {store.SCHEMA}.contents_enriched),
                (select count(*) from {store.SCHEMA}.contents_enriched
                 where language not in ('zh', 'en', 'other')
                    or sentiment_label not in ('positive', 'neutral', 'negative')
                    or sentiment_score not between -1 and 1)
            """
        ).fetchall()[0]
    return dg.AssetCheckResult(
        passed=missing == 0 and extra == 0 and duplicated == 0 and versions <= 1 and invalid == 0,
        metadata={
            "messages_not_enriched": missing,
            "enriched_messages_not_accepted": extra,
            "messages_enriched_twice": duplicated,
            "enrichment_versions": versions,
            "invalid_rows": invalid,
        },
    )
