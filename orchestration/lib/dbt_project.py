"""The one place that runs ``dbt parse``: the manifest the Dagster code location loads.

Dagster builds an asset per dbt model and a check per dbt test from
``<target>/manifest.json``; a stale manifest would make dbt run tests Dagster does not
know, or miss new ones. :func:`ensure_manifest` parses when the manifest is missing or
older than any file dbt parses (``dbt_project.yml``, ``profiles.yml`` and the model,
seed, test, macro and analysis folders it names), so the code location (``make ui``,
``make run``, the tests) loads a current manifest without a separate parse step, and
does not pay for a parse when nothing changed. ``smallgroups parse`` (``make parse``)
forces one. :func:`generate_docs_site` (``make docs``) writes the dbt docs site as one
offline HTML file. ``DBT_TARGET_PATH`` (dbt's own variable) moves the manifest, e.g. so a test
run does not rewrite the project's ``target/``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from orchestration.lib.config import PROJECT_DIR, dbt_executable, load_settings

__all__ = [
    "ensure_manifest",
    "generate_docs_site",
    "manifest_is_stale",
    "parse_dbt_project",
    "target_path",
]

_PATH_KEYS = ("model-paths", "seed-paths", "test-paths", "macro-paths", "analysis-paths")
_TOP_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")
#: Written beside the manifest: the project folder it was parsed from.
_PROJECT_STAMP = ".parsed_project_dir"


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


def _parsed_here(target: Path, project_dir: Path) -> bool:
    """Whether the target's manifest was parsed from ``project_dir`` (its stamp says so)."""
    stamp = target / _PROJECT_STAMP
    return stamp.exists() and stamp.read_text(encoding="utf-8") == str(project_dir.resolve())


def manifest_is_stale(manifest: Path, project_dir: Path = PROJECT_DIR) -> bool:
    """True when ``manifest`` is missing, parsed from another project folder, or older
    than a file dbt parses.

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
    # A manifest holds absolute paths (seeds are loaded from its root_path): one parsed
    # from another checkout of the project (a worktree, a moved folder) must be redone.
    if not _parsed_here(manifest.parent, project_dir):
        return True
    parsed_at = manifest.stat().st_mtime
    return any(path.stat().st_mtime > parsed_at for path in _parsed_files(project_dir))


def _run_dbt(args: list[str], target: Path, project_dir: Path) -> None:
    """Run one quiet dbt command of the project into ``target``; raise when it fails."""
    # The environment is given to dbt alone: this process's own is left as it is.
    env = {**os.environ, **load_settings().dbt_env}
    command = [dbt_executable(), *args, "--quiet", "--profiles-dir", str(project_dir)]
    subprocess.run([*command, "--target-path", str(target)], cwd=project_dir, env=env, check=True)


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
    if not _parsed_here(target, project_dir):
        # dbt's partial parse would keep the other checkout's absolute paths.
        (target / "partial_parse.msgpack").unlink(missing_ok=True)
    _run_dbt(["parse"], target, project_dir)
    (target / _PROJECT_STAMP).write_text(str(project_dir.resolve()), encoding="utf-8")
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


def generate_docs_site(out_dir: Path, project_dir: Path = PROJECT_DIR) -> Path:
    """Write the dbt docs site (models, columns, tests, lineage, exposures) as one HTML
    file that opens offline, with the catalog of the built warehouse.

    ``dbt docs generate --static`` inlines the manifest and the catalog into the page,
    so it needs no server and fetches nothing. The catalog (column types, row counts)
    is read from the warehouse of the settings; before a first ``make run`` the site
    still documents every model, without a catalog. dbt opens the warehouse for
    writing, so run it when no refresh is running.

    Parameters
    ----------
    out_dir : Path
        Folder to write ``index.html`` into (created).
    project_dir : Path
        The dbt project folder.

    Returns
    -------
    Path
        ``<out_dir>/index.html``.

    Raises
    ------
    subprocess.CalledProcessError
        When dbt fails (its messages are on the console).
    """
    out_dir = Path(out_dir)
    target = out_dir / "dbt_target"
    _run_dbt(["docs", "generate", "--static"], target, project_dir)
    site = out_dir / "index.html"
    site.write_bytes((target / "static_index.html").read_bytes())
    return site
