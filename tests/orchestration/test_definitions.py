"""The code location loads, with the groups, checks and schedule the README promises."""

import dataclasses
import os
import re
import subprocess
import sys

import dagster as dg
import pytest
import yaml

from orchestration.definitions import defs
from orchestration.defs.attribution.assets import AttributionConfig
from orchestration.defs.communities.assets import CommunityDetectionConfig
from orchestration.defs.kpi.assets import GrowthInflectionConfig
from orchestration.defs.planning.assets import PotentialConfig
from orchestration.defs.settings import settings_from_config
from orchestration.defs.text.assets import PainPointConfig
from orchestration.lib.attribution import store as attribution_store
from orchestration.lib.attribution.refresh import AttributionSettings
from orchestration.lib.communities import store as community_store
from orchestration.lib.communities.snapshots import DetectionSettings
from orchestration.lib.config import PROJECT_DIR, dbt_project_var, load_settings
from orchestration.lib.experiments import store as experiment_store
from orchestration.lib.kpi import store as kpi_store
from orchestration.lib.kpi.refresh import InflectionSettings
from orchestration.lib.planning import refresh as planning_refresh, replication
from orchestration.lib.planning.refresh import PotentialSettings
from orchestration.lib.text import store as text_store
from orchestration.lib.text.snapshots import TextSettings

#: What the code location used to set at import time: unset here, so that setting it
#: again would show.
_ENVIRONMENT_SET_BEFORE = ("SMALLGROUPS_DUCKDB_PATH", "DO_NOT_TRACK", "DBT_INDIRECT_SELECTION")


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
        "malformed_lines",
    }
    base_events = specs[dg.AssetKey("base_product__events")]
    assert dg.AssetKey(["raw", "events"]) in {dep.asset_key for dep in base_events.deps}
    malformed = specs[dg.AssetKey("base_product__malformed_lines")]
    assert dg.AssetKey(["raw", "malformed_lines"]) in {dep.asset_key for dep in malformed.deps}
    rejects = specs[dg.AssetKey("stg_product__rejected_rows")]
    assert dg.AssetKey("base_product__malformed_lines") in {dep.asset_key for dep in rejects.deps}


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


def test_importing_the_code_location_leaves_the_environment_alone():
    # In a fresh interpreter: this one imported the definitions already.
    script = (
        "import os, sys\n"
        "before = dict(os.environ)\n"
        "import orchestration.definitions\n"
        "names = {*before, *os.environ}\n"
        "changed = sorted(k for k in names if before.get(k) != os.environ.get(k))\n"
        "sys.exit(f'environment changed: {changed}' if changed else 0)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in _ENVIRONMENT_SET_BEFORE}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _deps(key: dg.AssetKey) -> set[dg.AssetKey]:
    return {dep.asset_key for dep in _specs()[key].deps}


def test_python_steps_depend_on_the_models_their_store_reads():
    def models(names):
        return {dg.AssetKey(name) for name in names}

    for table in community_store.TABLES:
        assert _deps(dg.AssetKey(["communities", table])) == models(community_store.INPUT_MODELS)
    assert _deps(dg.AssetKey(["kpi", "growth_inflections"])) == models(kpi_store.INPUT_MODELS)
    assert _deps(dg.AssetKey(["text", "contents_enriched"])) == models(
        text_store.ENRICHMENT_INPUT_MODELS
    )
    assert _deps(dg.AssetKey(["text", "community_pain_points"])) == {
        *models(text_store.PAIN_POINT_INPUT_MODELS),
        dg.AssetKey(["text", "contents_enriched"]),
        *(dg.AssetKey(["communities", t]) for t in text_store.PAIN_POINT_COMMUNITY_TABLES),
    }
    assert set(text_store.PAIN_POINT_COMMUNITY_TABLES) <= set(community_store.TABLES)
    assert _deps(dg.AssetKey(["experiments", "experiment_power"])) == models(
        experiment_store.POWER_INPUT_MODELS
    )
    for table in experiment_store.SPILLOVER_TABLES:
        assert _deps(dg.AssetKey(["experiments", table])) == models(
            experiment_store.SPILLOVER_INPUT_MODELS
        )
    assert _deps(dg.AssetKey(["attribution", "intervention_attribution"])) == models(
        attribution_store.INPUT_MODELS
    )
    for table in planning_refresh.TABLES:
        assert _deps(dg.AssetKey(["planning", table])) == models(planning_refresh.INPUT_MODELS)
    # fct_intervention_forecasts too, once the project has it
    replication_deps = _deps(dg.AssetKey(["planning", "pilot_replication"]))
    assert models(replication.INPUT_MODELS) <= replication_deps
    assert replication_deps - models(replication.INPUT_MODELS) <= models(
        [replication.FORECAST_MODEL]
    )


def test_every_python_step_has_an_asset_check():
    checked = {key.asset_key for key in defs.resolve_asset_graph().asset_check_keys}
    python_steps = [
        assets_def
        for assets_def in defs.resolve_asset_graph().assets_defs
        if "python" in {kind for spec in assets_def.specs for kind in spec.kinds}
    ]
    assert {a.node_def.name for a in python_steps} == {
        "community_snapshots",
        "contents_enriched",
        "community_pain_points",
        "kpi__growth_inflections",
        "experiment_readout",
        "experiments__experiment_power",
        "experiment_spillover",
        "attribution__intervention_attribution",
        "potential_score",
        "planning__pilot_replication",
    }
    for assets_def in python_steps:
        # every output of the step, not only one of them
        unchecked = sorted(k.to_user_string() for k in assets_def.keys - checked)
        assert not unchecked, (assets_def.node_def.name, unchecked)


@pytest.mark.parametrize(
    ("config_class", "settings_class", "hidden"),
    [
        (CommunityDetectionConfig, DetectionSettings, {"min_overlap"}),
        (PainPointConfig, TextSettings, set()),
        (GrowthInflectionConfig, InflectionSettings, set()),
        (AttributionConfig, AttributionSettings, set()),
        (PotentialConfig, PotentialSettings, {"outcome", "horizon_days", "seed"}),
    ],
)
def test_launchpad_defaults_are_the_library_defaults(config_class, settings_class, hidden):
    config = config_class()
    shown = set(config_class.model_fields)
    for field in dataclasses.fields(settings_class):
        if field.name in hidden:
            assert field.name not in shown
            continue
        assert getattr(config, field.name) == field.default, field.name
    assert settings_from_config(settings_class, config) == settings_class()
    # Every launchpad option shows its docstring as its description.
    launchpad = config_class.to_config_schema().as_field().config_type.fields
    assert set(launchpad) == shown
    assert all(launchpad[name].description for name in shown), shown


def test_the_detection_window_is_dbts():
    assert CommunityDetectionConfig().window_days == dbt_project_var("community_window_days")
    assert PainPointConfig().window_days == dbt_project_var("text_window_days")


def test_dbt_opens_the_warehouse_the_python_steps_open():
    # dbt runs in the project folder and reads SMALLGROUPS_DUCKDB_PATH with this default.
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    path = profile["smallgroups"]["outputs"]["duckdb"]["path"]
    default = re.fullmatch(r"\{\{ env_var\('SMALLGROUPS_DUCKDB_PATH', '(.+)'\) \}\}", path)
    assert default, path
    assert PROJECT_DIR / default.group(1) == load_settings({}).duckdb_path


def test_dbt_runs_with_buildable_indirect_selection_unless_dagster_picks_the_tests(monkeypatch):
    from types import SimpleNamespace

    from orchestration.defs.dbt.assets import _indirect_selection_args

    monkeypatch.delenv("DBT_INDIRECT_SELECTION", raising=False)
    model, other = dg.AssetKey("dim_users"), dg.AssetKey("dim_groups")
    checks = [dg.AssetCheckKey(model, "unique"), dg.AssetCheckKey(other, "not_null")]
    specs = {f"out_{i}": SimpleNamespace(key=key) for i, key in enumerate(checks)}

    def context(selected_assets, selected_checks):
        return SimpleNamespace(
            assets_def=SimpleNamespace(node_check_specs_by_output_name=specs),
            selected_asset_keys=set(selected_assets),
            selected_asset_check_keys=set(selected_checks),
        )

    buildable = ["--indirect-selection", "buildable"]
    assert _indirect_selection_args(context([model, other], checks)) == buildable
    # A check left out of an asset that is not built either: still buildable.
    assert _indirect_selection_args(context([model], checks[:1])) == buildable
    # A check of a built asset left out: dagster-dbt names the tests, with "empty".
    assert _indirect_selection_args(context([model, other], checks[:1])) == []
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "cautious")
    assert _indirect_selection_args(context([model, other], checks)) == []
