"""Project settings read from the environment, in one place.

Every entry point (the Dagster code location, the CLI, the benchmarks and the tests)
builds a :class:`Settings` with :func:`load_settings` instead of reading environment
variables itself, so a default is defined once and documented once (README,
"Configuration").
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROJECT_DIR", "Settings", "dbt_executable", "load_settings"]

#: The repository root: the folder holding ``dbt_project.yml``.
PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Resolved configuration.

    Attributes
    ----------
    raw_dir : Path
        Folder with the raw tables (``SMALLGROUPS_RAW_DIR``).
    is_demo : bool
        True when ``SMALLGROUPS_RAW_DIR`` is unset: the demo data set is generated
        into ``raw_dir`` (and its planted truth into ``truth_dir``) when missing.
    truth_dir : Path
        Ground truth of the demo data set; never read by the pipeline.
    duckdb_path : Path
        The working warehouse file (``SMALLGROUPS_DUCKDB_PATH``): only the pipeline
        opens it.
    serving_path : Path
        The published snapshot readers open (``SMALLGROUPS_SERVING_PATH``, default
        ``<warehouse>_serving.duckdb`` beside the working warehouse).
    lock_wait_seconds : int
        How long a refresh waits for a running one before it stops
        (``SMALLGROUPS_LOCK_WAIT_SECONDS``, default 600; 0 stops at once).
    demo_users, demo_days, demo_seed : int
        Size and seed of the demo data set (``SMALLGROUPS_DEMO_USERS``,
        ``SMALLGROUPS_DEMO_DAYS``, ``SMALLGROUPS_DEMO_SEED``).
    import_kind : str or None
        ``stackexchange`` or ``collegemsg`` when ``SMALLGROUPS_STACKEXCHANGE_DUMP`` or
        ``SMALLGROUPS_COLLEGEMSG_FILE`` is set: the raw asset then imports that source
        into ``raw_dir`` (default ``data/imported/<name>``) before loading it.
    import_path : Path or None
        The dump folder or file to import.
    """

    raw_dir: Path
    is_demo: bool
    truth_dir: Path
    duckdb_path: Path
    serving_path: Path
    lock_wait_seconds: int
    demo_users: int
    demo_days: int
    demo_seed: int
    import_kind: str | None = None
    import_path: Path | None = None

    @property
    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt (``profiles.yml``) reads."""
        return {"SMALLGROUPS_DUCKDB_PATH": str(self.duckdb_path), "DO_NOT_TRACK": "1"}


def _int_env(environ: dict[str, str], name: str, default: int, *, allow_zero: bool = False) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        parsed = int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None
    if parsed < 0 or (parsed == 0 and not allow_zero):
        raise ValueError(f"{name}={value!r} must be {'>= 0' if allow_zero else 'positive'}")
    return parsed


def _path_env(environ: dict[str, str], name: str, default: Path) -> Path:
    value = environ.get(name, "").strip()
    path = Path(value).expanduser() if value else default
    return path if path.is_absolute() else (PROJECT_DIR / path)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment).

    Parameters
    ----------
    environ : dict, optional
        Mapping to read instead of ``os.environ`` (tests pass their own).

    Returns
    -------
    Settings
        Absolute paths; relative values are taken relative to the project folder.
    """
    environ = dict(os.environ if environ is None else environ)
    data_dir = PROJECT_DIR / "data"
    imports = {
        kind: environ.get(name, "").strip()
        for kind, name in (
            ("stackexchange", "SMALLGROUPS_STACKEXCHANGE_DUMP"),
            ("collegemsg", "SMALLGROUPS_COLLEGEMSG_FILE"),
        )
        if environ.get(name, "").strip()
    }
    if len(imports) > 1:
        raise ValueError(
            "set only one of SMALLGROUPS_STACKEXCHANGE_DUMP and SMALLGROUPS_COLLEGEMSG_FILE"
        )
    import_kind, import_value = next(iter(imports.items()), (None, None))
    import_path = None
    default_raw = data_dir / "raw"
    if import_kind:
        import_path = Path(import_value).expanduser()
        import_path = import_path if import_path.is_absolute() else PROJECT_DIR / import_path
        default_raw = data_dir / "imported" / import_path.stem.lower()
    is_demo = import_kind is None and not environ.get("SMALLGROUPS_RAW_DIR", "").strip()
    duckdb_path = _path_env(environ, "SMALLGROUPS_DUCKDB_PATH", data_dir / "smallgroups.duckdb")
    serving_path = _path_env(
        environ,
        "SMALLGROUPS_SERVING_PATH",
        duckdb_path.with_name(f"{duckdb_path.stem}_serving.duckdb"),
    )
    if serving_path == duckdb_path:
        raise ValueError(
            f"SMALLGROUPS_SERVING_PATH={serving_path} is the working warehouse "
            "(SMALLGROUPS_DUCKDB_PATH): readers need their own file"
        )
    return Settings(
        raw_dir=_path_env(environ, "SMALLGROUPS_RAW_DIR", default_raw),
        is_demo=is_demo,
        import_kind=import_kind,
        import_path=import_path,
        truth_dir=_path_env(environ, "SMALLGROUPS_TRUTH_DIR", data_dir / "ground_truth"),
        duckdb_path=duckdb_path,
        serving_path=serving_path,
        lock_wait_seconds=_int_env(environ, "SMALLGROUPS_LOCK_WAIT_SECONDS", 600, allow_zero=True),
        demo_users=_int_env(environ, "SMALLGROUPS_DEMO_USERS", 10_000),
        demo_days=_int_env(environ, "SMALLGROUPS_DEMO_DAYS", 120),
        demo_seed=_int_env(environ, "SMALLGROUPS_DEMO_SEED", 42),
    )


def dbt_executable() -> str:
    """The dbt of this environment: on PATH, else next to the running Python (when the
    venv is not activated, e.g. `make` or CI calling ``.venv/bin/python`` directly)."""
    return shutil.which("dbt") or str(Path(sys.executable).parent / "dbt")


def dbt_project_var(name: str, project_dir: Path = PROJECT_DIR) -> object:
    """A var from ``dbt_project.yml``, so Python steps share dbt's settings.

    Parameters
    ----------
    name : str
        The var, e.g. ``"text_window_days"``.
    project_dir : Path
        The dbt project folder.

    Returns
    -------
    object
        Its value.

    Raises
    ------
    KeyError
        When ``dbt_project.yml`` defines no such var (the message names the file).
    """
    import yaml

    path = project_dir / "dbt_project.yml"
    variables = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("vars") or {}
    if name not in variables:
        raise KeyError(f"{path}: no var {name!r} under vars:")
    return variables[name]
