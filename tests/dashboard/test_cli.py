"""`smallgroups dashboard add-user | serve`: what they print and when they refuse."""

import json

import pytest

from orchestration.cli import main


@pytest.fixture
def env(monkeypatch, tmp_path, snapshot_path):
    monkeypatch.setenv("SMALLGROUPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SMALLGROUPS_SERVING_PATH", str(snapshot_path))
    monkeypatch.setenv("SMALLGROUPS_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    for name in ("SMALLGROUPS_DASHBOARD_USERS", "SMALLGROUPS_DASHBOARD_PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "state" / "dashboard_users"


def test_add_user_prints_one_time_secrets(env, capsys):
    assert main(["dashboard", "add-user", "bo", "--role", "leader", "--group", "g1"]) == 0
    out = capsys.readouterr().out
    token = next(line[7:] for line in out.splitlines() if line.startswith("token: "))
    password = next(line[10:] for line in out.splitlines() if line.startswith("password: "))
    stored = env.read_text()
    assert token not in stored and password not in stored
    assert json.loads(stored)["accounts"][0]["group_id"] == "g1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "leader", "--group", "g404"], "no group_id 'g404' in dim_groups"),
        (["--role", "leader", "--user", "u404"], "no user_id 'u404' in dim_users"),
        (["--role", "leader"], "exactly one of --group and --user"),
    ],
)
def test_add_user_refuses_what_cannot_work(env, capsys, args, message):
    assert main(["dashboard", "add-user", "bo", *args]) == 2
    assert message in capsys.readouterr().err
    assert not env.exists()


def test_serve_stops_on_bad_configuration(env, capsys, monkeypatch, tmp_path):
    assert main(["dashboard", "serve"]) == 2
    assert "add-user" in capsys.readouterr().err  # no default account
    monkeypatch.setenv("SMALLGROUPS_DASHBOARD_PORT", "80a")
    assert main(["dashboard", "serve"]) == 2
    assert "SMALLGROUPS_DASHBOARD_PORT='80a'" in capsys.readouterr().err
    monkeypatch.delenv("SMALLGROUPS_DASHBOARD_PORT")
    monkeypatch.setenv("SMALLGROUPS_SERVING_PATH", str(tmp_path / "none.duckdb"))
    assert main(["dashboard", "serve"]) == 2
    assert "no published snapshot" in capsys.readouterr().err
