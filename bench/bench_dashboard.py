"""Server time of every dashboard page on a published snapshot.

Builds the application on ``SMALLGROUPS_SERVING_PATH`` (default: the snapshot of
``make run``) with a throw-away operator account, then requests, in-process (Starlette's
TestClient, no network), each page and chart data request: growth, groups (plain,
filtered, sorted), experiments, and the page and three charts of ``--groups`` groups (the
largest declared groups and detected communities, in turn). Each request runs
``--repeat`` times; the first run of a page is cold (the groups table is computed once per
snapshot). Prints, per route, the server time (the ``Server-Timing`` header the
application sets) of the first request, the median and the maximum, and the load average
(the machine is shared: compare figures measured in the same conditions).

Usage: ``python bench/bench_dashboard.py [--groups 10] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from orchestration.dashboard.app import create_app  # noqa: E402
from orchestration.lib.dashboard.access import add_user  # noqa: E402
from orchestration.lib.dashboard.snapshot import DashboardSettings, load_dashboard_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=10, help="group pages to time")
    parser.add_argument("--repeat", type=int, default=3, help="requests per route")
    args = parser.parse_args()
    serving = load_dashboard_settings().serving_path
    with duckdb.connect(str(serving), read_only=True) as con:
        sizes = con.execute(
            "select count(*), (select count(*) from fct_contents_enriched) from dim_communities"
        ).fetchone()
        groups = [
            row[0]
            for row in con.execute(
                """
                select coalesce(group_id, community_id) from dim_communities
                qualify row_number() over (partition by group_kind order by count_members desc,
                    community_id) <= $n
                order by count_members desc, community_id
                """,
                {"n": (args.groups + 1) // 2},
            ).fetchall()
        ][: args.groups]
    print(f"snapshot {serving}: {sizes[0]:,} groups, {sizes[1]:,} messages")
    with tempfile.TemporaryDirectory() as state:
        settings = DashboardSettings(
            serving_path=serving,
            users_path=Path(state) / "users",
            secret_path=Path(state) / "secret",
            secret=None,
            host="127.0.0.1",
            port=8050,
        )
        created = add_user(settings.users_path, "bench", "operator")
        client = TestClient(create_app(settings), follow_redirects=False)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
        client.post("/login", data={"name": "bench", "password": created.password, "csrf": csrf})
        routes = {
            "/growth": ["/growth"],
            "/charts/growth/{chart}.json": [
                f"/charts/growth/{c}.json" for c in ("users", "signups", "groups", "share")
            ],
            "/groups": ["/groups"],
            "/groups?filters": ["/groups?kind=detected&language=zh&min_size=5&sort=size"],
            "/charts/groups-map.json": ["/charts/groups-map.json"],
            "/experiments": ["/experiments"],
            "/groups/{id}": [f"/groups/{g}" for g in groups],
            "/charts/groups/{id}/{chart}.json": [
                f"/charts/groups/{g}/{c}.json"
                for g in groups
                for c in ("health", "activity", "sentiment")
            ],
            "/api/groups/{id}": [f"/api/groups/{g}" for g in groups],
        }
        token = {"Authorization": f"Bearer {created.token}"}
        times: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.repeat):
            for route, paths in routes.items():
                for path in paths:
                    response = client.get(path, headers=token if "/api/" in path else {})
                    assert response.status_code == 200, (path, response.status_code)
                    ms = float(re.search(r"app;dur=([\d.]+)", response.headers["server-timing"])[1])
                    times[route].append(ms)
    print(f"{'route':36s} {'n':>4s} {'first ms':>9s} {'median ms':>10s} {'max ms':>8s}")
    for route, values in times.items():
        print(
            f"{route:36s} {len(values):4d} {values[0]:9.1f} {statistics.median(values):10.1f} "
            f"{max(values):8.1f}"
        )
    worst = max(max(values) for values in times.values())
    print(f"slowest request: {worst:.1f} ms; load average {os.getloadavg()[0]:.2f}")
    return 0 if worst < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
