"""The one dbt-parse helper: it parses when the manifest is missing or older than a file
dbt reads, and not otherwise; DBT_TARGET_PATH moves the manifest."""

import os
import subprocess
import sys

import pytest

from orchestration.lib import dbt_project
from orchestration.lib.config import PROJECT_DIR


@pytest.fixture
def project(tmp_path):
    (tmp_path / "dbt_project.yml").write_text(
        "name: x\nmodel-paths: [models]\nmacro-paths: [macros]\n"
    )
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "models" / "marts" / "a.sql").write_text("select 1 as a\n")
    (tmp_path / "macros").mkdir()
    (tmp_path / "elsewhere.txt").write_text("not read by dbt\n")
    return tmp_path


def _age(path, seconds):
    stat = path.stat()
    os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def test_a_missing_manifest_is_stale(project):
    assert dbt_project.manifest_is_stale(project / "target" / "manifest.json", project)


def test_a_manifest_older_than_a_model_or_the_project_file_is_stale(project):
    manifest = project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    for path in (project / "models" / "marts" / "a.sql", project / "dbt_project.yml"):
        _age(path, 100)
    assert not dbt_project.manifest_is_stale(manifest, project)
    (project / "elsewhere.txt").write_text("changed\n")  # dbt does not read it
    assert not dbt_project.manifest_is_stale(manifest, project)
    (project / "models" / "marts" / "b.sql").write_text("select 2 as b\n")
    assert dbt_project.manifest_is_stale(manifest, project)


def test_a_current_manifest_is_not_parsed_again(project, monkeypatch):
    calls = []
    monkeypatch.setattr(dbt_project, "parse_dbt_project", lambda *a: calls.append(a))
    target = project / "target"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    for path in (project / "models" / "marts" / "a.sql", project / "dbt_project.yml"):
        _age(path, 100)
    assert not dbt_project.ensure_manifest(target, project_dir=project)
    assert calls == []
    assert dbt_project.ensure_manifest(target, force=True, project_dir=project)
    assert calls == [(target, project)]


def test_the_target_follows_dbt_target_path():
    assert dbt_project.target_path({}) == PROJECT_DIR / "target"
    assert dbt_project.target_path({"DBT_TARGET_PATH": "elsewhere"}) == PROJECT_DIR / "elsewhere"
    assert dbt_project.target_path({"DBT_TARGET_PATH": "/tmp/t"}).as_posix() == "/tmp/t"


def test_smallgroups_parse_writes_the_manifest_where_dbt_target_path_says(tmp_path):
    env = {**os.environ, "DBT_TARGET_PATH": str(tmp_path / "target")}
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "parse"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "target" / "manifest.json").exists()
