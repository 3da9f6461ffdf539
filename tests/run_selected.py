"""``smallgroups run`` for a part of the pipeline: the tests whose point lies in a few
assets materialize only those (and what they need), not the whole job.

``python -m tests.run_selected SELECTION`` runs the ``refresh_all`` job of the code
location (the same Definitions, resources, refresh lock, dbt models with their dbt tests
and asset checks) in-process like ``smallgroups run`` (orchestration/cli.py), with
``SELECTION`` in Dagster's asset selection syntax (``+key:stg_product__events``: the
model and everything upstream of it). It exits 0 when the run succeeded and 1, naming
the failed steps, when it did not.
"""

from __future__ import annotations

import argparse
import sys

from orchestration.cli import _ensure_dagster_home


def main(argv: list[str] | None = None) -> int:
    """Run the selected assets of ``refresh_all``; return the exit code.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: the command line's).

    Returns
    -------
    int
        0 when the run succeeded, 1 when it failed.
    """
    parser = argparse.ArgumentParser(prog="python -m tests.run_selected")
    parser.add_argument("selection", help="Dagster asset selection, e.g. +key:stg_product__events")
    args = parser.parse_args(argv)
    _ensure_dagster_home()
    import dagster as dg

    from orchestration.definitions import defs

    keys = dg.AssetSelection.from_string(args.selection).resolve(defs.resolve_asset_graph())
    if not keys:
        print(f"no asset matches {args.selection!r}", file=sys.stderr)
        return 2
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=dg.DagsterInstance.get(),
        asset_selection=sorted(keys),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
    if not result.success:
        failed = [event.step_key for event in result.get_step_failure_events()]
        print(f"run {result.run_id} of {args.selection!r} FAILED in {failed}", file=sys.stderr)
        return 1
    print(f"run {result.run_id} of {len(keys)} assets succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
