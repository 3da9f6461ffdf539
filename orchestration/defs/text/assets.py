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

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import smallgroups_dbt_assets
from orchestration.defs.settings import LaunchpadConfig, settings_from_config
from orchestration.lib.communities import store as community_store
from orchestration.lib.config import load_settings
from orchestration.lib.text import store
from orchestration.lib.text.refresh import enrich_new_messages, refresh_pain_points
from orchestration.lib.text.snapshots import TextSettings
from orchestration.lib.warehouse import connect

__all__ = [
    "GROUP",
    "ContentEnrichmentConfig",
    "PainPointConfig",
    "community_pain_points",
    "community_pain_points_are_consistent",
    "contents_enriched",
    "contents_enriched_account_for_every_message",
]

GROUP = "text"


def _dbt_key(name: str) -> dg.AssetKey:
    return get_asset_key_for_model([smallgroups_dbt_assets], name)


class ContentEnrichmentConfig(LaunchpadConfig):
    """Launchpad options."""

    recompute_all: bool = False
    """Drop every enriched message and enrich all of them again."""
    workers: int = 0
    """Worker processes enriching batches of messages in parallel; 0 = every core this
    process may use (os.sched_getaffinity), 1 = no pool. Small inputs (fewer than
    POOL_MIN_MESSAGES new messages) always run in the step's own process."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=[GROUP, name],
            group_name=GROUP,
            deps=[_dbt_key(model) for model in store.ENRICHMENT_INPUT_MODELS],
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
        stats = enrich_new_messages(
            con, recompute_all=config.recompute_all, workers=config.workers, log=context.log
        )
    common = {
        "messages_enriched_this_run": stats["messages_enriched_this_run"],
        "messages_per_second": stats["messages_per_second"] or 0.0,
        "workers": stats["workers"],
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


class PainPointConfig(LaunchpadConfig):
    """Pain-point settings (launchpad); the defaults are the library's (TextSettings)."""

    window_days: int = TextSettings.window_days
    """Days of messages behind each snapshot's pain points (default: dbt's var
    text_window_days, the window of the topic and sentiment marts)."""
    top_pain_points: int = TextSettings.top_pain_points
    """Pain points kept per group and snapshot."""
    pain_min_messages: int = TextSettings.pain_min_messages
    """Least complaint messages carrying a phrase in the window."""
    pain_min_authors: int = TextSettings.pain_min_authors
    """Least distinct authors of those messages."""
    pain_min_lift: float = TextSettings.pain_min_lift
    """Least lift: the phrase's share of the group's complaints over its share of all
    messages of the window (domain words used everywhere are near 1)."""
    pain_min_group_lift: float = TextSettings.pain_min_group_lift
    """The phrase's share of the group's complaints must exceed this times its share of
    the group's other messages (the group's own subject words are near 1)."""
    pain_max_words: int = TextSettings.pain_max_words
    """Longest phrase in words."""
    pain_absorb_share: float = TextSettings.pain_absorb_share
    """A longer phrase replaces a part of it found in at least this share of the part's
    complaint messages."""
    negative_threshold: float = TextSettings.negative_threshold
    """Messages scoring at most this are complaints even without a need pattern."""
    trend_ratio: float = TextSettings.trend_ratio
    """Rising / falling when the weekly rate changes by this factor..."""
    trend_min_change: float = TextSettings.trend_min_change
    """...and by at least this many messages a week."""
    n_examples: int = TextSettings.n_examples
    """Example content ids per phrase."""
    recompute_all: bool = False
    """Drop every stored snapshot and recompute them all."""


#: The Python outputs the pain points read besides the dbt models of the store: the
#: enriched messages and the community snapshots.
_PAIN_POINT_PYTHON_INPUTS = (
    dg.AssetKey([GROUP, "contents_enriched"]),
    *(dg.AssetKey([community_store.SCHEMA, name]) for name in store.PAIN_POINT_COMMUNITY_TABLES),
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=[GROUP, name],
            group_name=GROUP,
            deps=[
                *_PAIN_POINT_PYTHON_INPUTS,
                *(_dbt_key(model) for model in store.PAIN_POINT_INPUT_MODELS),
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
    settings = settings_from_config(TextSettings, config)
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
                "seconds_phrase_index": stats["seconds_phrase_index"],
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
                 where not regexp_full_match(language, '[a-z]{{2}}|other')
                    or sentiment_label not in ('positive', 'neutral', 'negative')
                    or sentiment_score not between -1 and 1
                    or (sentiment_score is null) != (sentiment_missing_reason is not null)
                    or (sentiment_score is null) != (sentiment_label is null))
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


@dg.asset_check(
    asset=dg.AssetKey([GROUP, "community_pain_points"]),
    description="Pain points and their runs match the community snapshots: one run per "
    "stored community snapshot and none for another, each run's pain-point count equal to "
    "its rows; one row per snapshot, group and phrase, ranks 1..n without gaps; counts "
    "positive, authors <= messages, shares in [0, 1].",
    blocking=True,
)
def community_pain_points_are_consistent() -> dg.AssetCheckResult:
    snapshots = f"{community_store.SCHEMA}.community_snapshot_runs"
    runs = f"{store.SCHEMA}.pain_point_runs"
    points = f"{store.SCHEMA}.community_pain_points"
    with connect(load_settings().duckdb_path, read_only=True) as con:
        row = con.execute(
            f"""
            select
                (select count(*) from {snapshots} as s
                 anti join {runs} as r using (snapshot_date)),
                (select count(*) from {runs} as r
                 anti join {snapshots} as s using (snapshot_date)),
                (select count(*) from {points} as p
                 anti join {runs} as r using (snapshot_date)),
                (select count(*) from {runs} as r
                 where r.count_pain_points != (
                     select count(*) from {points} as p where p.snapshot_date = r.snapshot_date)),
                (select count(*) from (
                     select 1 from {points}
                     group by snapshot_date, group_kind, community_id, phrase
                     having count(*) > 1)),
                (select count(*) from (
                     select 1 from {points}
                     group by snapshot_date, group_kind, community_id
                     having min(rank) != 1 or max(rank) != count(*)
                        or count(distinct rank) != count(*))),
                (select count(*) from {points}
                 where not (count_messages > 0 and count_authors > 0)
                    or count_authors > count_messages
                    or share_of_messages not between 0 and 1
                    or share_of_need_messages not between 0 and 1
                    or share_negative not between 0 and 1),
                (select count(*) from {points}),
                (select count(*) from {runs})
            """
        ).fetchall()[0]
    names = (
        "community_snapshots_without_run",
        "runs_without_community_snapshot",
        "pain_points_without_run",
        "runs_miscounting_pain_points",
        "duplicated_snapshot_group_phrases",
        "groups_with_broken_ranks",
        "rows_with_invalid_counts_or_shares",
    )
    failures = {name: int(value) for name, value in zip(names, row[:-2], strict=True)}
    return dg.AssetCheckResult(
        passed=not any(failures.values()),
        metadata=failures | {"pain_points": int(row[-2]), "snapshots_analysed": int(row[-1])},
    )
