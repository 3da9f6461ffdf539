"""Speed of the experiments step on a warehouse scaled up by copies (bench helper).

Building the 100,000-user warehouse end to end (detection, text, ...) takes long, so
this measures the experiments step on a built warehouse whose inputs are replicated
``copies`` times: every user, group, community, event, interaction, membership and
experiment assignment gets ``copies`` copies with suffixed ids (``u00001~3``), the same
experiments keep their ids, so each has ``copies`` times its units. The copies are
identical worlds: the statistics are not those of a bigger demo, the work is. The
experiment step's intermediate models are tables (``dbt_project.yml``), so after the
inputs are scaled they are rebuilt by dbt: the sufficient statistics are computed
there, once. The timed step is that dbt run (:data:`_SUMS`), the three Python assets
(readout, power, spillover: read the tables, compute, write) and the dbt run of the
experiment marts (their staging views and tables) after them; the dbt figures are
the span from their first model's start to the last one's end; dbt's start and parse
are printed apart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib.experiments.refresh import (
    refresh_experiments,
    refresh_power,
    refresh_spillover,
)

__all__ = ["SCALED_INPUTS", "measure_scaled_step", "scale_warehouse"]

#: The relations the experiment models read, and their id columns to suffix.
SCALED_INPUTS = {
    "stg_product__users": ("user_id",),
    "int_events_priced": ("event_id", "user_id", "group_id", "target_user_id", "content_id"),
    "int_interactions_unioned": ("interaction_id", "user_id", "other_user_id", "group_id"),
    "stg_communities__assignments": ("user_id", "community_id"),
    "stg_product__group_memberships": ("group_id", "user_id"),
    "stg_product__experiment_assignments": ("unit_id",),
}

#: The experiment intermediate models the Python steps read (tables: rebuilt after scaling).
_SUMS = "int_experiment_user_metrics_measured int_experiment_cluster_metrics_measured int_experiment_metric_sums_aggregated int_experiment_power_units_measured int_experiment_power_sums_aggregated int_experiment_spillover_exposures_measured int_experiment_spillover_units_measured"  # noqa: E501

_MARTS = "stg_experiments__* fct_experiment_results fct_experiment_health fct_experiment_problems fct_experiment_power fct_experiment_spillover int_experiment_problems_unioned"  # noqa: E501


def scale_warehouse(path: Path, copies: int) -> dict[str, int]:
    """Replace the experiment models' inputs in ``path`` by ``copies`` copies each.

    Returns the rows of each replaced relation.
    """
    rows = {}
    with duckdb.connect(str(path)) as con:
        for name, columns in SCALED_INPUTS.items():
            kind = con.execute(
                "select table_type from information_schema.tables where table_name = ?", [name]
            ).fetchone()[0]
            replaced = ", ".join(
                f"{c} || case when copy_number = 0 then '' else '~' || copy_number end as {c}"
                for c in columns
            )
            con.execute(
                f"create table scaled_{name} as select source.* replace ({replaced}) "
                f"from {name} as source cross join range({copies}) as copies(copy_number)"
            )
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {name}")
            con.execute(f"alter table scaled_{name} rename to {name}")
            rows[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
    return rows


def measure_scaled_step(source: Path, copies: int, workdir: Path) -> dict:
    """Copy ``source``, scale it, and time the experiments step on the copy."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "scaled.duckdb"
    shutil.copyfile(source, path)
    started = time.perf_counter()
    rows = scale_warehouse(path, copies)
    figures = {"copies": copies, "rows": rows, "scale_seconds": time.perf_counter() - started}
    with duckdb.connect(str(path)) as con:
        figures["count_users"] = con.execute("select count(*) from stg_product__users").fetchone()[
            0
        ]
        figures["units"] = dict(
            con.execute(
                "select experiment_id, count(*) from stg_product__experiment_assignments group by 1"
            ).fetchall()
        )
    env = {**os.environ, "SMALLGROUPS_DUCKDB_PATH": str(path)}

    def dbt_run(name: str, selection: str) -> None:
        target = workdir / f"dbt_target_{name}"
        started = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "run", "--select", *selection.split(),
             "--target-path", str(target), "--log-path", str(workdir / "dbt_logs"), "--quiet"],
            env=env, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
        )  # fmt: skip
        figures[f"{name}_wall_seconds"] = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(done.stdout + done.stderr)
        results = json.loads((target / "run_results.json").read_text())["results"]
        # From the first model's start to the last one's end: dbt runs models on several
        # threads, so the sum of their execution times would count overlaps twice.
        stamps = [
            datetime.fromisoformat(t[key].replace("Z", "+00:00"))
            for r in results
            for t in r["timing"]
            for key in ("started_at", "completed_at")
        ]
        figures[f"{name}_seconds"] = (max(stamps) - min(stamps)).total_seconds()

    dbt_run("sums", _SUMS)
    with duckdb.connect(str(path)) as con:
        for name, refresh in (
            ("readout", refresh_experiments),
            ("power", refresh_power),
            ("spillover", refresh_spillover),
        ):
            started = time.perf_counter()
            refresh(con)
            figures[f"{name}_seconds"] = time.perf_counter() - started
    dbt_run("marts", _MARTS)
    figures["step_seconds"] = (
        figures["sums_seconds"]
        + figures["readout_seconds"]
        + figures["power_seconds"]
        + figures["spillover_seconds"]
        + figures["marts_seconds"]
    )
    return figures
