"""Command line front door (`smallgroups ...`), used by the Makefile.

``smallgroups run`` materializes every asset in-process through the same Definitions
the UI loads, recording the run in ``$DAGSTER_HOME`` so it shows up in `make ui`;
``smallgroups summary`` prints the warehouse summary; ``smallgroups parse`` parses the
dbt project (`orchestration.lib.dbt_project`, which the code location also calls when
the manifest is stale); ``smallgroups demo`` writes the demo data set (see
``python -m orchestration.lib.demo.cli --help``).
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
    from orchestration.lib.warehouse.summary import format_summary, warehouse_summary

    settings = load_settings()
    with connect(settings.duckdb_path, read_only=True) as con:
        print(format_summary(warehouse_summary(con), str(settings.duckdb_path)))
    return 0


def _run(log_level: str, full_refresh: bool) -> int:
    _ensure_dagster_home()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    import dagster as dg

    # Importing the code location parses the dbt project when its manifest is stale.
    from orchestration.definitions import defs

    started = time.perf_counter()
    job = defs.resolve_job_def("refresh_all")
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
        failed = [event.step_key for event in result.get_step_failure_events()]
        print(f"\nsmallgroups: run {result.run_id} FAILED in step(s) {failed}", file=sys.stderr)
        for event in result.get_step_failure_events():
            error = event.step_failure_data.error
            print(error.message if error else event.message, file=sys.stderr)
        return 1
    print(f"\nsmallgroups: run {result.run_id} succeeded in {seconds:.0f} s")
    return _print_summary()


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
    sub.add_parser("demo", help="write the demo data set (pass generator options after --)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return _run(args.log_level, args.full_refresh)
    if args.command == "summary":
        return _print_summary()
    if args.command == "parse":
        from orchestration.lib.dbt_project import ensure_manifest

        ensure_manifest(force=True)
        return 0
    from orchestration.lib.demo.cli import main as demo_main

    return demo_main(rest)


if __name__ == "__main__":
    sys.exit(main())
