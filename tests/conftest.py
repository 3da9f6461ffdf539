"""Shared fixtures: paths and a helper that runs the real pipeline in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
FIXTURE_RAW_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_small"


@pytest.fixture(scope="session")
def fixture_raw_dir() -> Path:
    return FIXTURE_RAW_DIR


def _run_pipeline(tmp_path: Path, **env_overrides: str) -> subprocess.CompletedProcess:
    """Run `smallgroups run` (every asset, in-process executor) with its own warehouse
    file and Dagster home under ``tmp_path``; return the finished process."""
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
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--log-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="session")
def run_pipeline():
    """The function that runs the whole pipeline in a subprocess (see ``_run_pipeline``)."""
    return _run_pipeline
