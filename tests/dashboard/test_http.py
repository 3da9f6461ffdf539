"""The web application over HTTP (Starlette's TestClient): every page and API route
decides access on the server, and the tests try to break in."""

import base64
import json
import os
import re
import shutil
import time

import pytest
from starlette.testclient import TestClient

from orchestration.dashboard.app import create_app
from orchestration.lib.dashboard.access import AccountError
from tests.dashboard.conftest import build_snapshot, csrf_of

PAGES = ("/growth", "/groups", "/groups/g1", "/groups/c1", "/experiments")
SQLISH = ("g1' OR '1'='1", "c1; drop table dim_communities; --", "g2%27--", "%00", "g1%2520")


@pytest.fixture
def app(dashboard):
    settings, _ = dashboard
    return create_app(settings)


def _client(app):
    return TestClient(app, base_url="http://127.0.0.1:8050", follow_redirects=False)


def login(app, dashboard, name):
    _, accounts = dashboard
    client = _client(app)
    csrf = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"name": name, "password": accounts[name].password, "csrf": csrf}
    )
    assert response.status_code == 303, response.text
    return client


def bearer(dashboard, name):
    return {"Authorization": f"Bearer {dashboard[1][name].token}"}


def test_no_login_no_data(app):
    client = _client(app)
    for path in (
        *PAGES,
        "/charts/growth/users.json",
        "/charts/groups/g1/health.json",
        "/charts/groups-map.json",
        "/open?group_id=g1",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    assert "摄影" not in client.get("/login").text


def test_api_needs_a_valid_token(app, dashboard):
    client = _client(app)
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic " + base64.b64encode(b"op:x").decode()},
        {"Authorization": dashboard[1]["op"].token},
    ):
        for path in ("/api/groups", "/api/groups/g1"):
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
    # A session cookie is not an API credential.
    signed_in = login(app, dashboard, "op")
    assert signed_in.get("/api/groups").status_code == 401


def test_operator_sees_everything(app, dashboard):
    client = login(app, dashboard, "op")
    for path in PAGES + ("/groups/group:g2", "/groups/c2"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "error-banner" not in response.text, path
        assert float(re.search(r"app;dur=([\d.]+)", response.headers["server-timing"])[1]) < 1000
    assert "摄影 · 夜景噪点 · 三脚架" in client.get("/groups").text
    page = client.get("/groups/c1").text
    assert "夜景噪点太多了,三脚架也不稳" in page and "trail · boots" in page  # lookalike
    growth = client.get("/growth").text
    assert "count_dau" in growth and "2026-01-06" in growth
    figure = client.get("/charts/growth/users.json").json()
    assert any(trace.get("meta") == "inflection" for trace in figure["data"])
    api = client.get("/api/groups", headers=bearer(dashboard, "op")).json()
    assert len(api["groups"]) == 5 and api["publication"]["run_id"] == "run-1"
    one = client.get("/api/groups/g2", headers=bearer(dashboard, "op"))
    assert one.status_code == 200 and one.json()["group"]["community_id"] == "group:g2"
    assert client.get("/groups/nope").status_code == 404
    assert client.get("/api/groups/nope", headers=bearer(dashboard, "op")).status_code == 404


@pytest.mark.parametrize("name", ["lead_g1", "lead_u1"])
def test_leader_sees_only_their_group(app, dashboard, name):
    client = login(app, dashboard, name)
    own, other = ("g1", "g2") if name == "lead_g1" else ("c1", "c2")
    assert client.get(f"/groups/{own}").status_code == 200
    assert client.get(f"/charts/groups/{own}/health.json").status_code == 200
    # Changing the URL, the id form, the chart's data request, the form field.
    tries = [
        f"/groups/{other}",
        "/groups/group:g2",
        "/groups/c2",
        "/groups/c3",
        f"/charts/groups/{other}/health.json",
        f"/charts/groups/{other}/sentiment.json",
        "/charts/groups/group:g2/activity.json",
        "/growth",
        "/experiments",
        "/charts/growth/users.json",
        "/groups/nope",
    ]
    for path in tries:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "SECRET" not in response.text and "Hiking" not in response.text, path
    redirect = client.get(f"/open?group_id={other}")
    assert client.get(redirect.headers["location"]).status_code == 403
    # The list, its filters (a query parameter naming another group) and the map.
    for query in ("", "?q=Hiking", "?kind=declared", "?q=g2", "?language=en"):
        page = client.get("/groups" + query).text
        assert "Hiking club" not in page and "trail · boots" not in page, query
    points = client.get("/charts/groups-map.json?q=").json()["data"]
    assert {c for trace in points for c in trace.get("customdata", [])} <= {own}
    page = client.get(f"/groups/{own}").text
    assert "SECRET" not in page and "trail · boots" not in page
    # API with the leader's token.
    headers = bearer(dashboard, name)
    listed = client.get("/api/groups", headers=headers).json()["groups"]
    assert [g["display_id"] for g in listed] == [own]
    assert client.get(f"/api/groups/{own}", headers=headers).status_code == 200
    for group_id in (other, "group:g2", "c2", "nope", *SQLISH):
        assert client.get(f"/api/groups/{group_id}", headers=headers).status_code == 403
    detail = client.get(f"/api/groups/{own}", headers=headers).json()
    assert "lookalikes" not in detail and "SECRET" not in json.dumps(detail)


def test_sql_looking_ids_are_just_unknown(app, dashboard):
    op = login(app, dashboard, "op")
    leader = login(app, dashboard, "lead_g1")
    for group_id in SQLISH:
        assert op.get(f"/groups/{group_id}").status_code == 404, group_id
        assert leader.get(f"/groups/{group_id}").status_code == 403, group_id
        assert leader.get(f"/charts/groups/{group_id}/health.json").status_code == 403
    # A path that climbs out of the group reaches no route.
    assert leader.get("/groups/..%2Fgroups%2Fg2").status_code in (403, 404)
    assert leader.get("/api/groups/..%2Fg2", headers=bearer(dashboard, "lead_g1")).status_code in (
        403,
        404,
    )
    assert op.get("/groups?q=' or 1=1 --&min_size=1;drop&sort=x").status_code == 200
    assert op.get("/groups").text.count('class="group-link"') == 5


def test_tampered_or_foreign_cookies_are_refused(app, dashboard, tmp_path):
    client = login(app, dashboard, "lead_g1")
    cookie = client.cookies["smallgroups_session"]
    payload, _, signature = cookie.partition(".")
    data = json.loads(base64.b64decode(payload + "=="))
    assert data["name"] == "lead_g1"
    forged = base64.b64encode(json.dumps({**data, "name": "op"}).encode()).decode()
    for value in (forged + "." + signature, cookie[:-2] + "xx", "garbage"):
        fresh = _client(app)
        fresh.cookies.set("smallgroups_session", value)
        assert fresh.get("/growth").status_code == 303
        assert fresh.get("/groups/g2").status_code == 303
    # A cookie signed by another dashboard (another secret) is worth nothing here.
    settings, _ = dashboard
    other_settings = type(settings)(**{**settings.__dict__, "secret": "x" * 40})
    other = login(create_app(other_settings), dashboard, "op")
    fresh = _client(app)
    fresh.cookies.set("smallgroups_session", other.cookies["smallgroups_session"])
    assert fresh.get("/growth").status_code == 303


def test_login_form_rules(app, dashboard):
    _, accounts = dashboard
    client = _client(app)
    csrf = csrf_of(client.get("/login").text)
    password = accounts["op"].password
    assert client.post("/login", data={"name": "op", "password": password}).status_code == 403
    assert (
        client.post(
            "/login", data={"name": "op", "password": password, "csrf": "forged"}
        ).status_code
        == 403
    )
    wrong = client.post("/login", data={"name": "op", "password": "nope", "csrf": csrf})
    assert wrong.status_code == 401 and 'id="login-failed"' in wrong.text
    # Only a local path is followed after login (no open redirect).
    for target, expected in (
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/groups/g1", "/groups/g1"),
    ):
        response = client.post(
            "/login", data={"name": "op", "password": password, "csrf": csrf, "next": target}
        )
        assert response.headers["location"] == expected
        csrf = csrf_of(client.get("/groups").text)
    # Logging out needs the CSRF token of the session.
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/growth").status_code == 200
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/growth").status_code == 303


def test_recreated_account_ends_old_sessions(app, dashboard):
    settings, _ = dashboard
    client = login(app, dashboard, "lead_g1")
    assert client.get("/groups/g1").status_code == 200
    from orchestration.lib.dashboard.access import add_user

    time.sleep(0.01)
    add_user(settings.users_path, "lead_g1", "leader", group_id="g2")
    assert client.get("/groups/g1").status_code == 303


def test_follows_a_refresh_of_the_snapshot(app, dashboard, tmp_path):
    settings, _ = dashboard
    client = login(app, dashboard, "op")
    assert "摄影 · 夜景噪点" in client.get("/groups").text
    held = app.state.snapshot.cursor()  # a reader in the middle of a request
    renamed = build_snapshot(
        tmp_path / "next.duckdb",
        {
            "dim_communities": [
                (
                    "c9",
                    "detected",
                    None,
                    None,
                    None,
                    None,
                    1,
                    "active",
                    None,
                    None,
                    "新的社群 · refresh",
                )
            ]
        },
    )
    os.replace(renamed, settings.serving_path)
    assert "新的社群 · refresh" in client.get("/groups").text
    assert "摄影" not in client.get("/groups").text
    assert held.execute("select count(*) from dim_communities").fetchone()[0] == 5
    held.close()


def test_missing_snapshot_and_configuration(app, dashboard, tmp_path):
    settings, _ = dashboard
    client = login(app, dashboard, "op")
    shutil.move(settings.serving_path, tmp_path / "away.duckdb")
    response = client.get("/groups")
    assert response.status_code == 503 and "error-banner" in response.text
    assert "smallgroups run" in response.text
    empty = type(settings)(**{**settings.__dict__, "users_path": tmp_path / "none"})
    with pytest.raises(AccountError, match="add-user"):
        create_app(empty)
    short = type(settings)(**{**settings.__dict__, "secret": "short"})
    with pytest.raises(ValueError, match="32 characters"):
        create_app(short)


def test_interface_language_and_headers(app, dashboard):
    client = login(app, dashboard, "op")
    zh = client.get("/groups", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in zh.text and "小组" in zh.text and "健康度" in zh.text
    en = client.get("/groups", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in en.text and "Health" in en.text
    assert "default-src 'self'" in en.headers["content-security-policy"]
    assert en.headers["x-frame-options"] == "DENY"
    # Nothing is loaded from another site: scripts and styles are served here.
    for page in (en.text, client.get("/growth").text, client.get("/groups/c1").text):
        assert not re.search(r'(src|href)="(https?:)?//', page)
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert client.get("/static/../app.py").status_code == 404
