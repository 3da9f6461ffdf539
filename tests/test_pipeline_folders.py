"""The test runs' Dagster home is in memory while they run and on disk afterwards."""

import pytest

from tests import pipeline_folders
from tests.pipeline_folders import dagster_home_in_memory


@pytest.fixture
def memory_fs(tmp_path, monkeypatch):
    """A stand-in for /dev/shm (the mechanism is the same on any file system)."""
    folder = tmp_path / "shm"
    folder.mkdir()
    monkeypatch.setattr(pipeline_folders, "_MEMORY_FS", folder)
    return folder


def test_the_home_is_in_memory_inside_and_a_real_folder_with_its_files_after(tmp_path, memory_fs):
    home = tmp_path / "run" / "dagster_home"
    with dagster_home_in_memory(home) as inside:
        assert inside == home and home.is_symlink()
        memory = home.resolve()
        assert memory.parent == memory_fs
        (home / "history").mkdir()
        (home / "history" / "runs.db").write_text("first run")
    assert home.is_dir() and not home.is_symlink() and not memory.exists()
    assert (home / "history" / "runs.db").read_text() == "first run"

    # A second run's block starts from the files the first left, and keeps what it adds.
    with dagster_home_in_memory(home):
        assert (home / "history" / "runs.db").read_text() == "first run"
        (home / "dagster.yaml").write_text("telemetry: {}")
    assert sorted(p.name for p in home.iterdir()) == ["dagster.yaml", "history"]


def test_files_come_back_when_the_block_fails(tmp_path, memory_fs):
    home = tmp_path / "dagster_home"
    with pytest.raises(RuntimeError), dagster_home_in_memory(home):
        (home / "runs.db").write_text("partial")
        raise RuntimeError("the run failed")
    assert (home / "runs.db").read_text() == "partial" and not home.is_symlink()
    assert not list(memory_fs.iterdir())


def test_without_a_memory_file_system_the_home_is_only_created(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline_folders, "_MEMORY_FS", tmp_path / "no_shm")
    home = tmp_path / "dagster_home"
    with dagster_home_in_memory(home):
        assert home.is_dir() and not home.is_symlink()
    assert home.is_dir()
