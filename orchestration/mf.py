"""MetricFlow's `mf` command without its network call.

The `mf` CLI of dbt-metricflow asks PyPI for a newer version on every start. smallgroups
promises no network at run time (and air-gapped warehouses would wait on it), so
``smallgroups-mf`` (or ``python -m orchestration.mf``) runs the same CLI with that check
switched off. Everything else - arguments, output, exit codes - is `mf`'s own.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run MetricFlow's CLI with the PyPI update check disabled."""
    import update_checker

    update_checker.UpdateChecker.check = lambda self, package_name, package_version: None
    from dbt_metricflow.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
