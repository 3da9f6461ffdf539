"""The code location loads, with the groups, checks and schedule the README promises."""

import dagster as dg

from orchestration.definitions import defs


def _specs():
    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


def test_raw_assets_feed_staging():
    specs = _specs()
    raw_keys = {key for key in specs if key.path[0] == "raw"}
    assert {key.path[1] for key in raw_keys} == {
        "users",
        "groups",
        "group_memberships",
        "events",
        "contents",
        "experiments",
        "experiment_assignments",
        "interventions",
    }
    base_events = specs[dg.AssetKey("base_product__events")]
    assert dg.AssetKey(["raw", "events"]) in {dep.asset_key for dep in base_events.deps}


def test_dbt_assets_are_grouped_by_folder():
    groups = {key.to_user_string(): spec.group_name for key, spec in _specs().items()}
    assert groups["stg_product__events"] == "staging_product"
    assert groups["base_product__events"] == "staging_product"
    assert groups["int_interactions_unioned"] == "intermediate_graph"
    assert groups["dim_users"] == "marts_core"
    assert groups["fct_user_edges"] == "marts_graph"
    assert groups["event_types"] == "seeds"
    assert groups["raw/events"] == "raw"


def test_dbt_tests_are_asset_checks():
    check_keys = {
        (key.asset_key.to_user_string(), key.name)
        for key in defs.resolve_asset_graph().asset_check_keys
    }
    assert ("dim_users", "unique_dim_users_user_id") in check_keys
    assert ("stg_product__rejected_rows", "assert_raw_rows_accounted_for") in check_keys


def test_daily_schedule_is_defined_and_off():
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.cron_schedule == "0 3 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert defs.resolve_job_def("refresh_all") is not None


def test_text_steps_sit_between_staging_and_the_text_marts():
    specs = _specs()
    enriched = specs[dg.AssetKey(["text", "contents_enriched"])]
    assert enriched.group_name == "text"
    assert dg.AssetKey("stg_product__contents") in {d.asset_key for d in enriched.deps}
    pains = specs[dg.AssetKey(["text", "community_pain_points"])]
    assert dg.AssetKey(["communities", "community_assignments"]) in {
        d.asset_key for d in pains.deps
    }
    topics = specs[dg.AssetKey("fct_community_topics")]
    assert topics.group_name == "marts_text"
    upstream = {d.asset_key for d in specs[dg.AssetKey("stg_text__content_terms")].deps}
    assert dg.AssetKey(["text", "content_terms"]) in upstream
    checks = {
        (key.asset_key.to_user_string(), key.name)
        for key in defs.resolve_asset_graph().asset_check_keys
    }
    assert ("text/contents_enriched", "contents_enriched_account_for_every_message") in checks
