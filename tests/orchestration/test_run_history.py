"""The run history's SQLite files are written without fsyncs during a run, others not."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from orchestration.lib.run_history import relaxed_run_history_sync

# SQLite's `pragma synchronous` values: 0 = OFF, 2 = FULL (the default).
_OFF, _FULL = 0, 2


def _synchronous(path) -> int:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.connect() as conn:
        value = conn.execute(text("pragma synchronous")).scalar_one()
    engine.dispose()
    return value


def test_only_files_under_the_dagster_home_and_only_inside_the_block(tmp_path):
    home, elsewhere = tmp_path / "dagster_home", tmp_path / "elsewhere"
    (home / "storage").mkdir(parents=True)
    elsewhere.mkdir()
    with relaxed_run_history_sync(home):
        assert _synchronous(home / "storage" / "run.db") == _OFF
        assert _synchronous(elsewhere / "other.db") == _FULL
    assert _synchronous(home / "storage" / "run.db") == _FULL


def test_without_a_dagster_home_nothing_changes(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with relaxed_run_history_sync():
        assert _synchronous(tmp_path / "run.db") == _FULL


def test_dagsters_own_event_log_connections_are_relaxed(tmp_path, monkeypatch):
    import dagster as dg

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with relaxed_run_history_sync(home), dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        with storage.index_connection() as conn:
            assert conn.execute(text("pragma synchronous")).scalar_one() == _OFF
    with (
        dg.DagsterInstance.get() as instance,
        instance.event_log_storage.index_connection() as conn,
    ):
        assert conn.execute(text("pragma synchronous")).scalar_one() == _FULL
