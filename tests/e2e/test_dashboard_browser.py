"""The dashboard as a person uses it: a real browser (Playwright on Debian's chromium)
against `smallgroups dashboard serve` over one small built warehouse.

The warehouse is the session's shared demo build (``demo_build`` in tests/conftest.py:
1,500 users x 60 days, detected communities with Chinese labels, growth inflections,
interventions); a session fixture creates the accounts
with `smallgroups dashboard add-user` and starts the server on loopback. Screenshots of
the main pages go to ``target/screenshots/`` (plus ``timings.json``: the server time of
each page). The Dagster UI (`dagster dev` on loopback, same run history) is opened too:
its asset list shows the pipeline's assets, materialized. Set
``SMALLGROUPS_E2E_DEMO_BUILD`` to the folder of
an earlier build to reuse it instead of building one (faster reruns).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from orchestration.lib.config import PROJECT_DIR

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_DIR / "target" / "screenshots"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def built(demo_build) -> Path:
    """The shared demo build (tests/conftest.py ``demo_build``)."""
    return demo_build


@pytest.fixture(scope="session")
def serving_path(built) -> Path:
    return built / "warehouse_serving.duckdb"


@pytest.fixture(scope="session")
def facts(serving_path) -> dict:
    """Ids the tests use, read from the snapshot: a declared group with Chinese messages
    (the leader's), another group, and a detected community with a Chinese label."""
    with duckdb.connect(str(serving_path), read_only=True) as con:
        own, own_label = con.execute(
            """
            select d.group_id, d.community_label from dim_communities as d
            join fct_community_pain_points as p on p.community_id = d.community_id
            where d.group_kind = 'declared' and p.language = 'zh'
            group by all order by count(*) desc, d.group_id limit 1
            """
        ).fetchone()
        other, other_label = con.execute(
            "select group_id, community_label from dim_communities "
            "where group_kind = 'declared' and group_id != ? order by group_id limit 1",
            [own],
        ).fetchone()
        community, community_label = con.execute(
            """
            select d.community_id, d.community_label from dim_communities as d
            join fct_community_health as h on h.community_id = d.community_id
            where d.group_kind = 'detected' and regexp_matches(d.community_label, '[一-鿿]')
            group by all order by count(*) desc, d.community_id limit 1
            """
        ).fetchone()
        count_inflections = con.execute(
            "select count(*) from fct_growth_inflections where series_name = 'count_dau'"
        ).fetchone()[0]
    assert count_inflections > 0, "the fixture warehouse must show a DAU inflection"
    return {
        "own": own,
        "own_label": own_label,
        "other": other,
        "other_label": other_label,
        "community": community,
        "community_label": community_label,
    }


def _add_user(env: dict, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "dashboard", "add-user", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    secrets = dict(re.findall(r"^(password|token): (\S+)$", result.stdout, re.MULTILINE))
    assert set(secrets) == {"password", "token"}, result.stdout
    return {"name": args[0], **secrets}


@pytest.fixture(scope="session")
def server(tmp_path_factory, serving_path, facts):
    state = tmp_path_factory.mktemp("dashboard_state")
    port = _free_port()
    env = {
        **os.environ,
        "SMALLGROUPS_SERVING_PATH": str(serving_path),
        "SMALLGROUPS_STATE_DIR": str(state),
        "SMALLGROUPS_DASHBOARD_PORT": str(port),
        "SMALLGROUPS_DUCKDB_PATH": str(state / "unused.duckdb"),
    }
    env.pop("SMALLGROUPS_DASHBOARD_HOST", None)
    env.pop("SMALLGROUPS_DASHBOARD_USERS", None)
    # No account yet: the server refuses to start (no default account).
    refused = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "dashboard", "serve"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "add-user" in refused.stderr
    users = {
        "op": _add_user(env, "op", "--role", "operator"),
        "leader": _add_user(env, "leader", "--role", "leader", "--group", facts["own"]),
    }
    log = open(state / "server.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "dashboard", "serve"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail((state / "server.log").read_text())
    yield {"base": base, "users": users, "log": state / "server.log"}
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make test` installs it (make browser)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def timings():
    measured: dict[str, float] = {}
    yield measured
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "timings.json").write_text(json.dumps(measured, indent=2) + "\n")


class Session:
    """A logged-in browser tab that records page errors and server times."""

    def __init__(self, browser, server, who: str, timings: dict, locale: str = "en-US"):
        self.context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.timings = timings
        self.base = server["base"]
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("response", self._timed)
        user = server["users"][who]
        self.page.goto(self.base + "/login")
        self.page.fill("input[name=name]", user["name"])
        self.page.fill("input[name=password]", user["password"])
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        assert self.page.locator("#account-name").inner_text() == user["name"]

    def _timed(self, response):
        match = re.search(r"app;dur=([\d.]+)", response.headers.get("server-timing", ""))
        if match and "/static/" not in response.url:
            key = response.url.replace(self.base, "")
            self.timings[key] = max(self.timings.get(key, 0.0), float(match[1]))

    def open(self, path: str, shot: str | None = None, charts: int = 0):
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        if charts:
            self.page.wait_for_function(
                f"document.querySelectorAll('div.chart[data-drawn=true]').length >= {charts}",
                timeout=20_000,
            )
        if shot:
            self.page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)
        return response

    def no_error_banner(self):
        assert self.page.locator(".error-banner").count() == 0, self.page.content()[:2000]
        assert not self.errors, self.errors

    def close(self):
        self.context.close()


def _platform_fonts(page, selector: str) -> dict[str, int]:
    """Fonts chromium really used to draw the text of the elements matching ``selector``
    (DevTools protocol: family name to glyphs drawn)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
    used: dict[str, int] = {}
    for node in nodes[:200]:
        for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
            used[font["familyName"]] = used.get(font["familyName"], 0) + font["glyphCount"]
    cdp.detach()
    return used


def test_operator_pages(browser, server, facts, timings):
    s = Session(browser, server, "op", timings)
    # Growth: the DAU curve is drawn with its inflection marker on it.
    s.open("/growth", "growth", charts=4)
    s.no_error_banner()
    drawn = s.page.evaluate(
        """() => {
            const el = document.getElementById('chart-users');
            const i = el._fullData.findIndex(t => t.meta === 'inflection');
            const e = el._fullData.findIndex(t => t.meta === 'experiment');
            const traces = el.querySelectorAll('.scatterlayer .trace');
            const line = traces[0].querySelector('path.js-line');
            return {names: el._fullData.map(t => t.name), marker: i,
                    points: i < 0 ? 0 : traces[i].querySelectorAll('path.point').length,
                    experiments: e < 0 ? 0 : traces[e].querySelectorAll('path.point').length,
                    line: line ? line.getAttribute('d').length : 0};
        }"""
    )
    assert drawn["names"][:3] == ["count_dau", "count_wau", "count_mau"]
    assert drawn["marker"] > 0 and drawn["points"] >= 1, drawn
    assert drawn["line"] > 100, drawn
    # The demo's experiments (exp001, exp002) are marked where they started.
    assert drawn["experiments"] == 2, drawn
    assert s.page.locator("#inflections td", has_text="count_dau").count() >= 1
    # Groups: labels (Chinese among them), the map, sorting.
    s.open("/groups", "groups", charts=1)
    s.no_error_banner()
    table = s.page.locator("#groups-table").inner_text()
    assert facts["community_label"] in table and facts["own_label"] in table
    fonts = _platform_fonts(s.page, "#groups-table a.group-link")
    assert any("CJK" in name for name in fonts), fonts
    s.page.click("#groups-table th a:has-text('Members')")
    s.page.wait_for_load_state("networkidle")
    assert "sort=size" in s.page.url
    # A detected community's page: label, charts, pain points with example messages.
    s.open(f"/groups/{facts['community']}", "community", charts=3)
    s.no_error_banner()
    assert s.page.locator("#group-label").inner_text() == facts["community_label"]
    fonts = _platform_fonts(s.page, "#group-label")
    assert any("CJK" in name for name in fonts), fonts
    assert s.page.locator("#pain-points li").count() >= 1
    assert s.page.locator("#members tr").count() >= 2
    # The declared group's page and the experiments page.
    s.open(f"/groups/{facts['own']}", "declared_group", charts=3)
    s.no_error_banner()
    assert _CJK.search(s.page.locator("#messages").inner_text())
    s.open("/experiments", "experiments")
    s.no_error_banner()
    assert s.page.locator("#experiment-results tr").count() >= 2
    s.close()


def test_chinese_interface(browser, server, facts, timings):
    s = Session(browser, server, "op", timings, locale="zh-CN")
    s.open("/groups", "groups_zh", charts=1)
    s.no_error_banner()
    assert s.page.locator("html").get_attribute("lang") == "zh-CN"
    assert s.page.locator("header nav").inner_text().split() == ["增长", "小组", "实验与干预"]
    fonts = _platform_fonts(s.page, "header nav a")
    assert any("CJK" in name for name in fonts), fonts
    s.close()


def test_leader_cannot_open_another_group(browser, server, facts, timings):
    s = Session(browser, server, "leader", timings)
    assert s.page.url.endswith("/groups")
    rows = s.page.locator("#groups-table a.group-link")
    assert rows.count() == 1 and rows.first.inner_text() == facts["own_label"]
    s.open(f"/groups/{facts['own']}", "leader_own_group", charts=3)
    s.no_error_banner()
    assert s.page.locator("#pain-points li").count() >= 1
    assert s.page.locator("#lookalikes").count() == 0
    # Changing the URL.
    response = s.open(f"/groups/{facts['other']}", "leader_forbidden")
    assert response.status == 403
    assert s.page.locator(".error-banner").count() == 1
    assert facts["other_label"] not in s.page.content()
    # The form field of the "open group" form.
    s.open("/groups")
    s.page.fill("form.open input[name=group_id]", facts["other"])
    s.page.click("form.open button")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator(".error-banner").count() == 1
    # A chart's data request and the operator pages, from inside the leader's page.
    s.open(f"/groups/{facts['own']}")
    statuses = s.page.evaluate(
        """async (paths) => Promise.all(paths.map(p => fetch(p).then(r => r.status)))""",
        [
            f"/charts/groups/{facts['other']}/health.json",
            "/charts/growth/users.json",
            f"/charts/groups/{facts['own']}/health.json",
        ],
    )
    assert statuses == [403, 403, 200]
    assert s.open("/growth").status == 403
    s.close()


def test_api_tokens_on_the_live_server(server, facts):
    base, users = server["base"], server["users"]

    def get(path, who=None):
        headers = {"Authorization": f"Bearer {users[who]['token']}"} if who else {}
        return httpx.get(base + path, headers=headers, timeout=10)

    assert get("/api/groups").status_code == 401
    assert get(f"/api/groups/{facts['own']}").status_code == 401
    assert get(f"/api/groups/{facts['other']}", "op").status_code == 200
    assert get(f"/api/groups/{facts['community']}", "op").status_code == 200
    assert get(f"/api/groups/{facts['own']}", "leader").status_code == 200
    assert get(f"/api/groups/{facts['other']}", "leader").status_code == 403
    assert get(f"/api/groups/{facts['community']}", "leader").status_code == 403
    listed = get("/api/groups", "leader").json()["groups"]
    assert [g["display_id"] for g in listed] == [facts["own"]]
    assert len(get("/api/groups", "op").json()["groups"]) > 10


@pytest.fixture(scope="session")
def dagster_ui(built):
    """`dagster dev` on loopback over the build's run history and dbt artefacts."""
    port = _free_port()
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DAGSTER_HOME": str(built / "dagster_home"),
        "SMALLGROUPS_DUCKDB_PATH": str(built / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(built / "dbt_target"),
        "SMALLGROUPS_RAW_DIR": str(built / "raw"),
    }
    for name in ("SMALLGROUPS_SERVING_PATH", "SMALLGROUPS_TRUTH_DIR"):
        env.pop(name, None)
    log = open(built / "dagster_dev.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(base + "/server_info", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)
    else:
        process.kill()
        pytest.fail((built / "dagster_dev.log").read_text()[-5000:])
    yield base
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: dagster dev shuts down
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a loaded machine: its code servers are slow to stop
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    log.close()


_ASSETS_QUERY = """
query { assetNodes { assetKey { path } assetMaterializations(limit: 1) { timestamp } } }
"""


def _skip_dagster_welcome(page) -> None:
    """Close the UI's first-visit "Join the Dagster community" dialog when it shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=3_000)
    except PlaywrightTimeout:  # no dialog this time
        return
    skip.click()


def test_dagster_ui_lists_the_materialized_assets(browser, dagster_ui, serving_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(dagster_ui + "/assets")
    page.wait_for_selector("text=dim_communities", timeout=90_000)
    _skip_dagster_welcome(page)
    page.screenshot(path=str(SCREENSHOTS / "dagster_assets.png"), full_page=True)
    with duckdb.connect(str(serving_path), read_only=True) as con:
        marts = [
            row[0]
            for row in con.execute(
                "select table_name from smallgroups_publication order by table_name"
            ).fetchall()
        ]
    # What the UI's asset graph holds (its own GraphQL API, from the page): every
    # published mart is an asset, materialized by the run in the history.
    nodes = page.evaluate(
        """async (query) => {
            const response = await fetch('/graphql', {method: 'POST',
                headers: {'Content-Type': 'application/json'}, body: JSON.stringify({query})});
            return (await response.json()).data.assetNodes;
        }""",
        _ASSETS_QUERY,
    )
    by_name = {node["assetKey"]["path"][-1]: node for node in nodes}
    assert len(nodes) > len(marts)  # the Python steps and staging too
    assert not [m for m in marts if m not in by_name], sorted(by_name)
    assert not [m for m in marts if not by_name[m]["assetMaterializations"]]
    # A mart's own page in the UI shows it materialized.
    path = "/".join(by_name["fct_kpi_daily"]["assetKey"]["path"])
    page.goto(f"{dagster_ui}/assets/{path}")
    page.wait_for_selector("text=fct_kpi_daily", timeout=60_000)
    page.wait_for_selector("text=/Materialized|Latest materialization/i", timeout=60_000)
    _skip_dagster_welcome(page)
    page.screenshot(path=str(SCREENSHOTS / "dagster_asset_fct_kpi_daily.png"))
    context.close()


def test_pages_are_fast_and_served_on_loopback(server, timings):
    # Runs last: every page and chart the browser tests opened took under 1 s on the server.
    assert timings, "the browser tests recorded no page"
    slow = {path: ms for path, ms in timings.items() if ms >= 1000}
    assert not slow, slow
    assert server["base"].startswith("http://127.0.0.1:")
    assert "127.0.0.1" in server["log"].read_text()
