"""Shared fixtures: paths and a helper that runs the real pipeline in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline_folders import dagster_home_in_memory

PROJECT_DIR = Path(__file__).resolve().parents[1]
FIXTURE_RAW_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_small"


@pytest.fixture(scope="session")
def fixture_raw_dir() -> Path:
    return FIXTURE_RAW_DIR


def _run(tmp_path: Path, command: list[str], env_overrides: dict[str, str]):
    """Run ``command`` (a pipeline run) in the project folder with its own warehouse
    file and Dagster home under ``tmp_path``; return the finished process. The Dagster
    home is kept in memory while the run writes it (tests/pipeline_folders.py)."""
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "SMALLGROUPS_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        # Its own dbt artefacts: the project's target/ keeps describing data/.
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
        **env_overrides,
    }
    for name in ("SMALLGROUPS_RAW_DIR", "SMALLGROUPS_TRUTH_DIR", "SMALLGROUPS_SERVING_PATH"):
        if name not in env_overrides:
            env.pop(name, None)
    with dagster_home_in_memory(Path(env["DAGSTER_HOME"])):
        return subprocess.run(
            [sys.executable, *command],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )


def _run_pipeline(tmp_path: Path, **env_overrides: str) -> subprocess.CompletedProcess:
    """Run `smallgroups run` (every asset, in-process executor) with its own warehouse
    file and Dagster home under ``tmp_path``; return the finished process."""
    return _run(
        tmp_path, ["-m", "orchestration.cli", "run", "--log-level", "WARNING"], env_overrides
    )


def _run_selected(
    tmp_path: Path, selection: str, **env_overrides: str
) -> subprocess.CompletedProcess:
    """Run the assets ``selection`` names (Dagster asset selection syntax) as
    `smallgroups run` runs them all (tests/run_selected.py), in the folders of
    ``_run_pipeline``; return the finished process."""
    return _run(tmp_path, ["-m", "tests.run_selected", selection], env_overrides)


@pytest.fixture(scope="session")
def run_pipeline():
    """The function that runs the whole pipeline in a subprocess (see ``_run_pipeline``)."""
    return _run_pipeline


@pytest.fixture(scope="session")
def run_selected():
    """The function that runs some assets of the pipeline in a subprocess (see
    ``_run_selected``): for a test whose point lies in a few assets."""
    return _run_selected


# The demo build that several end-to-end tests share (one build of the whole pipeline
# costs minutes): large enough for ties in the rankings, detected communities with
# Chinese labels, growth inflections and interventions.
DEMO_BUILD = {"n_users": 1_500, "n_days": 60, "seed": 11}


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> Path:
    """The folder of one whole-pipeline build of the demo (``DEMO_BUILD``): ``raw``,
    ``truth``, ``warehouse.duckdb``, ``warehouse_serving.duckdb`` (the published
    snapshot), ``dagster_home`` (the run's history) and ``dbt_target``. Tests only read
    it; a test that refreshes copies what it needs first. ``SMALLGROUPS_E2E_DEMO_BUILD``
    names the folder of an earlier build to reuse it (faster reruns)."""
    given = os.environ.get("SMALLGROUPS_E2E_DEMO_BUILD")
    if given:
        return Path(given)
    from orchestration.lib.demo.generator import generate

    tmp = tmp_path_factory.mktemp("demo_build")
    generate(tmp / "raw", tmp / "truth", **DEMO_BUILD)
    result = _run_pipeline(
        tmp, SMALLGROUPS_RAW_DIR=str(tmp / "raw"), SMALLGROUPS_TRUTH_DIR=str(tmp / "truth")
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return tmp
