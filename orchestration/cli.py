"""Command line front door (`smallgroups ...`), used by the Makefile.

``smallgroups run`` materializes every asset in-process through the same Definitions
the UI loads, recording the run in ``$DAGSTER_HOME`` so it shows up in `make ui`;
``smallgroups summary`` prints the warehouse summary; ``smallgroups parse`` parses the
dbt project (`orchestration.lib.dbt_project`, which the code location also calls when
the manifest is stale); ``smallgroups docs`` writes the dbt docs site
(``target/docs/index.html``, one file that opens offline); ``smallgroups demo`` writes
the demo data set (see ``python -m orchestration.lib.demo.cli --help``);
``smallgroups experiment design --out FILE`` designs a community-randomized experiment on
the latest detected communities and writes its ``experiment_assignments`` file (never
into the raw folder); ``smallgroups plan --intervention-type T --budget N [--out FILE]``
prints which lookalikes of the type's significant pilots to roll it out to, whom to
contact and the expected effect, and writes the verifying experiment's assignments
(docs/planning.md); ``smallgroups dashboard serve`` starts the dashboard on the
published snapshot and ``smallgroups dashboard add-user NAME --role operator|leader``
creates one of its accounts (see docs/dashboard.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from orchestration.lib.config import PROJECT_DIR, load_settings


def _ensure_dagster_home() -> None:
    home = os.environ.setdefault("DAGSTER_HOME", str(PROJECT_DIR / ".dagster_home"))
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "dagster.yaml")
    if not os.path.exists(config):
        with open(config, "w") as handle:
            handle.write("telemetry:\n  enabled: false\n")


def _print_summary() -> int:
    from orchestration.lib.warehouse import connect
    from orchestration.lib.warehouse.publish import read_publication
    from orchestration.lib.warehouse.summary import format_summary, warehouse_summary

    settings = load_settings()
    with connect(settings.serving_path, read_only=True) as con:
        publication = read_publication(con)
    with connect(settings.duckdb_path, read_only=True) as con:
        text = format_summary(
            warehouse_summary(con), str(settings.duckdb_path), str(settings.serving_path)
        )
    print(text.rstrip("\n"))
    print(
        f"  snapshot of run {publication['run_id']}: "
        f"{len(publication['row_counts'])} tables, published {publication['published_at']}\n"
    )
    return 0


def _run(log_level: str, full_refresh: bool) -> int:
    _ensure_dagster_home()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    import dagster as dg

    # Importing the code location parses the dbt project when its manifest is stale.
    from orchestration.definitions import defs
    from orchestration.lib.run_history import relaxed_run_history_sync

    started = time.perf_counter()
    job = defs.resolve_job_def("refresh_all")
    # The run history is written without fsyncs (see orchestration.lib.run_history).
    with relaxed_run_history_sync(os.environ["DAGSTER_HOME"]):
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(),
            run_config={
                "loggers": {"console": {"config": {"log_level": log_level}}},
                "ops": {"smallgroups_dbt_assets": {"config": {"full_refresh": full_refresh}}},
            },
            raise_on_error=False,
        )
    seconds = time.perf_counter() - started
    if not result.success:
        failures = result.get_step_failure_events()
        where = f"in step(s) {[event.step_key for event in failures]}" if failures else ""
        print(f"\nsmallgroups: run {result.run_id} FAILED {where}", file=sys.stderr)
        for event in failures:
            error = event.step_failure_data.error
            print(error.message if error else event.message, file=sys.stderr)
        if not failures:
            # Failed before any step, e.g. another refresh holds the warehouse's lock.
            for event in result.all_events:
                if event.event_type_value in ("RUN_FAILURE", "ENGINE_EVENT") and event.message:
                    error = getattr(event.event_specific_data, "error", None)
                    if error is not None:
                        print(_root_message(error), file=sys.stderr)
        print("the published snapshot was left as it was", file=sys.stderr)
        return 1
    print(f"\nsmallgroups: run {result.run_id} succeeded in {seconds:.0f} s")
    return _print_summary()


def _root_message(error) -> str:
    """The innermost cause of a Dagster error (the one that names the problem)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _design(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from orchestration.lib.experiments.refresh import DesignSettings, design_community_experiment
    from orchestration.lib.warehouse import connect

    settings = load_settings()
    design = DesignSettings(
        experiment_id=args.experiment_id,
        arms=tuple(args.arms.split(",")),
        size_bins=args.size_bins,
        health_bins=args.health_bins,
        seed=args.seed,
        assigned_at=args.assigned_at,
    )
    try:
        with connect(settings.duckdb_path, read_only=True) as con:
            summary = design_community_experiment(con, Path(args.out), settings.raw_dir, design)
    except ValueError as error:
        print(f"smallgroups experiment design: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _plan(args: argparse.Namespace) -> int:
    from pathlib import Path

    from orchestration.lib.planning.plan import (
        build_plan,
        design_verifying_experiment,
        format_plan,
    )
    from orchestration.lib.warehouse import connect

    settings = load_settings()
    try:
        with connect(settings.duckdb_path, read_only=True) as con:
            plan = build_plan(con, args.intervention_type, args.budget, group_kind=args.group_kind)
            summary = None
            if args.out:
                summary = design_verifying_experiment(
                    con, plan, Path(args.out), settings.raw_dir, seed=args.seed,
                    experiment_id=args.experiment_id,
                )  # fmt: skip
    except ValueError as error:
        print(f"smallgroups plan: {error}", file=sys.stderr)
        return 2
    print(format_plan(plan, args.budget, summary))
    return 0


def _check_leader_target(serving_path, group_id: str | None, user_id: str | None) -> None:
    """A leader's group or user must exist in the published snapshot, when there is one."""
    if not (group_id or user_id) or not serving_path.exists():
        return
    from orchestration.lib.warehouse import connect

    table, column, value = (
        ("dim_groups", "group_id", group_id) if group_id else ("dim_users", "user_id", user_id)
    )
    with connect(serving_path, read_only=True) as con:
        sql = f"select count(*) from {table} where {column} = ?"
        found = con.execute(sql, [value]).fetchone()
    if not found[0]:
        raise ValueError(
            f"no {column} {value!r} in {table} of the published snapshot {serving_path}"
        )


def _dashboard(args: argparse.Namespace) -> int:
    from orchestration.lib.dashboard.access import AccountError, add_user
    from orchestration.lib.dashboard.snapshot import load_dashboard_settings

    try:
        settings = load_dashboard_settings()
        if args.dashboard_command == "add-user":
            _check_leader_target(settings.serving_path, args.group, args.user)
            created = add_user(
                settings.users_path,
                args.name,
                args.role,
                group_id=args.group,
                user_id=args.user,
            )
            print(
                f"account {created.account.name} ({created.account.role}) in {settings.users_path}"
            )
            print("shown once, store them now (only their hashes are kept):")
            print(f"password: {created.password}")
            print(f"token: {created.token}")
            return 0
        if not settings.serving_path.exists():
            raise ValueError(
                f"no published snapshot at {settings.serving_path}: run `smallgroups run` first "
                "(or set SMALLGROUPS_SERVING_PATH)"
            )
        import uvicorn

        from orchestration.dashboard.app import create_app

        app = create_app(settings)
    except (AccountError, ValueError) as error:
        print(f"smallgroups dashboard: {error}", file=sys.stderr)
        return 2
    print(
        f"smallgroups dashboard: http://{settings.host}:{settings.port} "
        f"(snapshot {settings.serving_path})",
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smallgroups", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialize every asset, then print the summary")
    run.add_argument("--log-level", default="INFO", help="Dagster console log level")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild incremental models from all raw data, not only new files",
    )
    sub.add_parser("summary", help="print row counts and rejects of the built warehouse")
    sub.add_parser("parse", help="parse the dbt project (the manifest the code location loads)")
    docs = sub.add_parser("docs", help="write the dbt docs site as one offline HTML file")
    docs.add_argument(
        "--out", default=str(PROJECT_DIR / "target" / "docs"), help="folder for index.html"
    )
    sub.add_parser("demo", help="write the demo data set (pass generator options after --)")
    experiment = sub.add_parser("experiment", help="experiment tools")
    experiment_sub = experiment.add_subparsers(dest="experiment_command", required=True)
    design = experiment_sub.add_parser(
        "design",
        help="design a community-randomized experiment on the latest detected communities "
        "(strata by size and health, fixed seed) and write its experiment_assignments file",
    )
    design.add_argument("--out", required=True, help="file to write (.csv, else Parquet)")
    design.add_argument("--experiment-id", help="default community_<snapshot>_seed<seed>")
    design.add_argument("--arms", default="control,treatment", help="variants, control first")
    design.add_argument("--size-bins", type=int, default=3, help="quantile bins of size")
    design.add_argument("--health-bins", type=int, default=3, help="quantile bins of health")
    design.add_argument("--seed", type=int, default=0, help="seed of the assignment")
    design.add_argument(
        "--assigned-at", help="UTC start (default: the midnight after the last event)"
    )
    plan = sub.add_parser(
        "plan",
        help="roll an intervention type out to the lookalikes of its significant pilots: "
        "groups, key members, expected effect, and the verifying experiment's assignments",
    )
    plan.add_argument(
        "--intervention-type",
        required=True,
        help="resource_boost, pilot, activity or cross_group_connection",
    )
    plan.add_argument("--budget", type=int, required=True, help="groups to roll out to")
    plan.add_argument(
        "--group-kind",
        choices=["detected", "declared"],
        help="kind of groups (default: the kind of most top candidates)",
    )
    plan.add_argument("--out", help="write the verifying experiment's assignments here")
    plan.add_argument("--experiment-id", help="default rollout_<type>_seed<seed>")
    plan.add_argument("--seed", type=int, default=0, help="seed of the assignment")
    dashboard = sub.add_parser("dashboard", help="the web dashboard on the published snapshot")
    dashboard_sub = dashboard.add_subparsers(dest="dashboard_command", required=True)
    serve = dashboard_sub.add_parser(
        "serve",
        help="serve it on SMALLGROUPS_DASHBOARD_HOST:SMALLGROUPS_DASHBOARD_PORT "
        "(default 127.0.0.1:8050)",
    )
    serve.add_argument("--log-level", default="info", help="uvicorn log level")
    add = dashboard_sub.add_parser(
        "add-user", help="create an account; prints its one-time password and API token"
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["operator", "leader"])
    who = add.add_mutually_exclusive_group()
    who.add_argument("--group", help="leader of this declared group (dim_groups.group_id)")
    who.add_argument("--user", help="leader of the communities where this user is a key member")
    args, rest = parser.parse_known_args(argv)
    if args.command == "dashboard":
        return _dashboard(args)
    if args.command == "experiment":
        return _design(args)
    if args.command == "plan":
        return _plan(args)
    if args.command == "run":
        return _run(args.log_level, args.full_refresh)
    if args.command == "summary":
        return _print_summary()
    if args.command == "docs":
        from pathlib import Path

        from orchestration.lib.dbt_project import generate_docs_site

        print(f"smallgroups docs: {generate_docs_site(Path(args.out))}")
        return 0
    if args.command == "parse":
        from orchestration.lib.dbt_project import ensure_manifest

        ensure_manifest(force=True)
        return 0
    from orchestration.lib.demo.cli import main as demo_main

    return demo_main(rest)


if __name__ == "__main__":
    sys.exit(main())
