from pathlib import Path

import pytest

from orchestration.lib.config import PROJECT_DIR, load_settings


def test_defaults_are_demo_mode_inside_the_project():
    settings = load_settings({})
    assert settings.is_demo
    assert settings.raw_dir == PROJECT_DIR / "data" / "raw"
    assert settings.duckdb_path == PROJECT_DIR / "data" / "smallgroups.duckdb"
    assert (settings.demo_users, settings.demo_days, settings.demo_seed) == (10_000, 120, 42)
    assert settings.serving_path == PROJECT_DIR / "data" / "smallgroups_serving.duckdb"
    assert settings.lock_wait_seconds == 600


def test_the_serving_file_follows_the_warehouse_and_can_be_set(tmp_path):
    settings = load_settings({"SMALLGROUPS_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    assert settings.serving_path == tmp_path / "w_serving.duckdb"
    settings = load_settings(
        {"SMALLGROUPS_SERVING_PATH": "bi/snapshot.duckdb", "SMALLGROUPS_LOCK_WAIT_SECONDS": "0"}
    )
    assert settings.serving_path == PROJECT_DIR / "bi" / "snapshot.duckdb"
    assert settings.lock_wait_seconds == 0


def test_serving_on_the_working_warehouse_is_refused(tmp_path):
    path = str(tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match="SMALLGROUPS_SERVING_PATH"):
        load_settings({"SMALLGROUPS_DUCKDB_PATH": path, "SMALLGROUPS_SERVING_PATH": path})


def test_a_negative_lock_wait_is_refused():
    with pytest.raises(ValueError, match="SMALLGROUPS_LOCK_WAIT_SECONDS"):
        load_settings({"SMALLGROUPS_LOCK_WAIT_SECONDS": "-1"})


def test_configured_raw_dir_turns_demo_off_and_relative_paths_resolve(tmp_path):
    settings = load_settings(
        {"SMALLGROUPS_RAW_DIR": "some/raw", "SMALLGROUPS_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    )
    assert not settings.is_demo
    assert settings.raw_dir == PROJECT_DIR / "some" / "raw"
    assert settings.duckdb_path == Path(tmp_path / "w.duckdb")
    assert settings.dbt_env["SMALLGROUPS_DUCKDB_PATH"] == str(tmp_path / "w.duckdb")


@pytest.mark.parametrize("value", ["ten", "-5", "0"])
def test_bad_integer_setting_names_the_variable(value):
    with pytest.raises(ValueError, match="SMALLGROUPS_DEMO_USERS"):
        load_settings({"SMALLGROUPS_DEMO_USERS": value})


def test_an_import_source_turns_demo_off_and_picks_its_own_raw_folder():
    settings = load_settings({"SMALLGROUPS_STACKEXCHANGE_DUMP": "/dumps/Conlang.Meta"})
    assert settings.import_kind == "stackexchange" and not settings.is_demo
    assert settings.import_path == Path("/dumps/Conlang.Meta")
    assert settings.raw_dir == PROJECT_DIR / "data" / "imported" / "conlang"


def test_two_import_sources_are_refused():
    with pytest.raises(ValueError, match="only one"):
        load_settings(
            {"SMALLGROUPS_STACKEXCHANGE_DUMP": "a", "SMALLGROUPS_COLLEGEMSG_FILE": "b.txt"}
        )


def test_dbt_project_vars_are_read_and_a_missing_one_is_named(tmp_path):
    from orchestration.lib.config import dbt_project_var

    assert dbt_project_var("text_window_days") == 28
    (tmp_path / "dbt_project.yml").write_text("name: x\nvars:\n  a: 1\n")
    assert dbt_project_var("a", tmp_path) == 1
    with pytest.raises(KeyError, match="dbt_project.yml"):
        dbt_project_var("b", tmp_path)


def test_the_detection_and_text_windows_default_to_dbts_vars():
    from orchestration.lib.communities.snapshots import DetectionSettings
    from orchestration.lib.config import dbt_project_var
    from orchestration.lib.text.snapshots import TextSettings

    assert DetectionSettings().window_days == dbt_project_var("community_window_days") == 28
    assert TextSettings().window_days == dbt_project_var("text_window_days")
