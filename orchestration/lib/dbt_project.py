"""The one place that runs ``dbt parse``: the manifest the Dagster code location loads.

Dagster builds an asset per dbt model and a check per dbt test from
``<target>/manifest.json``; a stale manifest would make dbt run tests Dagster does not
know, or miss new ones. :func:`ensure_manifest` parses when the manifest is missing or
older than any file dbt parses (``dbt_project.yml``, ``profiles.yml`` and the model,
seed, test, macro and analysis folders it names), so the code location (``make ui``,
``make run``, the tests) loads a current manifest without a separate parse step, and
does not pay for a parse when nothing changed. ``smallgroups parse`` (``make parse``)
forces one. ``DBT_TARGET_PATH`` (dbt's own variable) moves the manifest, e.g. so a test
run does not rewrite the project's ``target/``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from orchestration.lib.config import PROJECT_DIR, dbt_executable, load_settings

__all__ = ["ensure_manifest", "manifest_is_stale", "parse_dbt_project", "target_path"]

_PATH_KEYS = ("model-paths", "seed-paths", "test-paths", "macro-paths", "analysis-paths")
_TOP_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")


def target_path(environ: Mapping[str, str] | None = None, project_dir: Path = PROJECT_DIR) -> Path:
    """The dbt target folder: ``DBT_TARGET_PATH`` (relative to the project) or ``target``.

    Parameters
    ----------
    environ : mapping, optional
        Read instead of ``os.environ`` (tests pass their own).
    project_dir : Path
        The dbt project folder.

    Returns
    -------
    Path
        An absolute path.
    """
    environ = os.environ if environ is None else environ
    path = Path(environ.get("DBT_TARGET_PATH", "").strip() or "target").expanduser()
    return path if path.is_absolute() else project_dir / path


def _parsed_files(project_dir: Path) -> list[Path]:
    import yaml

    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    files = [project_dir / name for name in _TOP_FILES if (project_dir / name).exists()]
    for key in _PATH_KEYS:
        for folder in config.get(key) or []:
            files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return files


def manifest_is_stale(manifest: Path, project_dir: Path = PROJECT_DIR) -> bool:
    """True when ``manifest`` is missing or older than a file dbt parses.

    Parameters
    ----------
    manifest : Path
        The ``manifest.json``.
    project_dir : Path
        The dbt project folder.

    Returns
    -------
    bool
        Whether a parse is needed.
    """
    if not manifest.exists():
        return True
    parsed_at = manifest.stat().st_mtime
    return any(path.stat().st_mtime > parsed_at for path in _parsed_files(project_dir))


def parse_dbt_project(target: Path | None = None, project_dir: Path = PROJECT_DIR) -> Path:
    """Run ``dbt parse`` into ``target`` and return the manifest path.

    Parameters
    ----------
    target : Path, optional
        The target folder (default: :func:`target_path`).
    project_dir : Path
        The dbt project folder.

    Returns
    -------
    Path
        ``<target>/manifest.json``.

    Raises
    ------
    subprocess.CalledProcessError
        When dbt cannot parse the project (its messages are on the console).
    """
    target = target or target_path(project_dir=project_dir)
    # The environment is given to dbt alone: this process's own is left as it is.
    env = {**os.environ, **load_settings().dbt_env}
    subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(target),
        ],
        cwd=project_dir,
        env=env,
        check=True,
    )
    return target / "manifest.json"


def ensure_manifest(
    target: Path | None = None, *, force: bool = False, project_dir: Path = PROJECT_DIR
) -> bool:
    """Parse the dbt project when forced or when its manifest is missing or stale.

    Parameters
    ----------
    target : Path, optional
        The target folder (default: :func:`target_path`).
    force : bool, default False
        Parse even when the manifest looks current.
    project_dir : Path
        The dbt project folder.

    Returns
    -------
    bool
        Whether dbt parse ran.
    """
    target = target or target_path(project_dir=project_dir)
    if not force and not manifest_is_stale(target / "manifest.json", project_dir):
        return False
    # `dagster dev` loads the code location in several processes at once: one parses,
    # the others wait for it and then find the manifest current.
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and not manifest_is_stale(target / "manifest.json", project_dir):
            return False
        parse_dbt_project(target, project_dir)
    return True
