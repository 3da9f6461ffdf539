"""All dbt models, seeds and tests as one ``@dbt_assets``; dbt tests become asset checks.

Assets are grouped by their folder (``staging/product`` -> ``staging_product``,
``marts/core`` -> ``marts_core``), never by model name. The manifest is parsed here when
it is missing or older than the dbt files (`orchestration.lib.dbt_project`, the one
place that runs ``dbt parse``). dbt finds the warehouse as the Python steps do:
``profiles.yml`` reads ``SMALLGROUPS_DUCKDB_PATH`` with the same default, and dagster-dbt
runs dbt in the project folder, against which both resolve a relative path.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.lock import WarehouseLock
from orchestration.defs.settings import LaunchpadConfig
from orchestration.lib.config import PROJECT_DIR, dbt_executable
from orchestration.lib.dbt_project import ensure_manifest, target_path

__all__ = ["DbtBuildConfig", "dbt_project", "dbt_resource", "smallgroups_dbt_assets"]

dbt_project = DbtProject(
    project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=target_path()
)
ensure_manifest(dbt_project.target_path)

#: The Python steps sit between dbt layers, so Dagster runs dbt in several steps.
#: "buildable" runs a test in the first step where all its parents exist (dbt's default,
#: "eager", would run e.g. a seed's relationship test before its model exists).
_INDIRECT_SELECTION = "buildable"


#: What a dbt node without parents (the seeds, ``metricflow_time_spine``) waits for.
_ROOT_DEP = dg.AssetKey(["raw", "users"])


class FolderGroupTranslator(DagsterDbtTranslator):
    """Group dbt assets by the first two folders under models/ (or ``seeds``); a dbt node
    without parents depends on the raw users table.

    Dagster splits the dbt assets into one step per "level" of non-dbt assets above
    them: nodes without parents would be a level of their own, run as a separate dbt
    invocation before staging (which waits for the raw tables), and each invocation
    costs a dbt start-up (in a one-day refresh at 10,000 users on the shared machine,
    44 s for 8 s of seeds). Waiting for the raw step (a few seconds) puts them in the
    staging step instead.
    """

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = self.get_resource_props(manifest, unique_id)
        if node["resource_type"] in ("model", "seed") and not node.get("depends_on", {}).get(
            "nodes"
        ):
            return spec.merge_attributes(deps=[_ROOT_DEP])
        return spec

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        folders = list(dbt_resource_props["fqn"][1:-1])
        return "_".join(folders[:2]) or "models"


class DbtBuildConfig(LaunchpadConfig):
    """Run options shown in the launchpad."""

    full_refresh: bool = False
    """Rebuild incremental models from all raw data instead of only the new files."""


def _indirect_selection_args(context: dg.AssetExecutionContext) -> list[str]:
    """``--indirect-selection buildable``, unless dagster-dbt picks the tests itself.

    When a run leaves out some dbt tests of the assets it builds (e.g. a check
    deselected in the launchpad), dagster-dbt selects the remaining tests by name and
    sets indirect selection to "empty" through the environment; a command-line flag
    would override it, so none is passed then. ``DBT_INDIRECT_SELECTION`` set by the
    user wins as well.
    """
    if os.environ.get("DBT_INDIRECT_SELECTION"):
        return []
    all_checks = {spec.key for spec in context.assets_def.node_check_specs_by_output_name.values()}
    excluded = all_checks - set(context.selected_asset_check_keys)
    selected_assets = set(context.selected_asset_keys)
    if any(check.asset_key in selected_assets for check in excluded):
        return []
    return ["--indirect-selection", _INDIRECT_SELECTION]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=FolderGroupTranslator(),
)
def smallgroups_dbt_assets(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    config: DbtBuildConfig,
    warehouse_lock: WarehouseLock,
):
    """Build (run + test) the selected dbt models and seeds."""
    del warehouse_lock  # held by the run from its first step to its last
    # dagster-dbt reads dbt's structured log, not its JSON artifacts: not writing
    # manifest.json, semantic_manifest.json and run_results.json into each invocation's
    # target folder saves their writing at the start of every dbt step (1.9 s of each in
    # the dbt log of a 10,000-user run on the shared machine; 5 dbt steps per refresh).
    # dbt unit tests check SQL logic on fixed inputs, not the data: the same answer
    # every night, at a fixed cost (15 of them, 22 s of dbt time per refresh). The test
    # suite runs them (tests/e2e/test_demo_pipeline.py, `dbt test --select test_type:unit`).
    args = [
        "build",
        "--no-write-json",
        "--exclude-resource-type",
        "unit_test",
        *_indirect_selection_args(context),
    ]
    if config.full_refresh:
        args.append("--full-refresh")
    yield from dbt.cli(args, context=context).stream()


dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
