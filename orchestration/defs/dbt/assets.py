"""All dbt models, seeds and tests as one ``@dbt_assets``; dbt tests become asset checks.

Assets are grouped by their folder (``staging/product`` -> ``staging_product``,
``marts/core`` -> ``marts_core``), never by model name.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.lib.config import PROJECT_DIR, dbt_executable

# DBT_TARGET_PATH (dbt's own variable) moves the manifest and run artefacts, e.g. so
# that a test run on another warehouse does not rewrite the project's target/.
_TARGET_PATH = Path(os.environ.get("DBT_TARGET_PATH", "target"))
dbt_project = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target_path=_TARGET_PATH if _TARGET_PATH.is_absolute() else PROJECT_DIR / _TARGET_PATH,
)
# `dagster dev` re-parses on load; headless runs parse here when no manifest exists yet.
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)


class FolderGroupTranslator(DagsterDbtTranslator):
    """Group dbt assets by the first two folders under models/ (or ``seeds``)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        folders = list(dbt_resource_props["fqn"][1:-1])
        return "_".join(folders[:2]) or "models"


class DbtBuildConfig(dg.Config):
    """Run options shown in the launchpad."""

    full_refresh: bool = False
    """Rebuild incremental models from all raw data instead of only the new files."""


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=FolderGroupTranslator(),
)
def smallgroups_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
):
    """Build (run + test) the selected dbt models and seeds."""
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    yield from dbt.cli(args, context=context).stream()


dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
