"""Command line for the demo-data generator.

``python -m orchestration.lib.demo.cli --users 10000 --days 120 --seed 42
--bad-row-share 0.01 --out data/raw --truth data/ground_truth`` writes the raw tables
and the planted truth (see :mod:`orchestration.lib.demo.generator`), printing progress
and a summary of what was written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .generator import generate

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
    """
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.lib.demo.cli",
        description="Generate the smallgroups demo raw data and its ground truth.",
    )
    parser.add_argument("--users", type=int, default=10_000, help="number of users (default 10000)")
    parser.add_argument("--days", type=int, default=120, help="days of activity (default 120)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--bad-row-share",
        type=float,
        default=0.01,
        help="share of bad rows per table (default 0.01)",
    )
    parser.add_argument(
        "--staggered-interventions",
        type=int,
        default=0,
        help="plant N staggered interventions with feature-dependent effects instead of "
        "the pilots (default 0: the pilots)",
    )
    parser.add_argument(
        "--declared-group-share",
        type=float,
        default=None,
        help="share of communities with a declared group (default 0.40)",
    )
    parser.add_argument("--start-date", default="2026-01-01", help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--out", default="data/raw", help="raw data folder (default data/raw)")
    parser.add_argument(
        "--truth",
        default="data/ground_truth",
        help="ground-truth folder (default data/ground_truth)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator; returns the process exit code."""
    args = parse_args(argv)
    try:
        summary = generate(
            args.out,
            args.truth,
            n_users=args.users,
            n_days=args.days,
            seed=args.seed,
            bad_row_share=args.bad_row_share,
            start_date=args.start_date,
            staggered_interventions=args.staggered_interventions,
            declared_group_share=args.declared_group_share,
            progress=lambda message: print(message, flush=True),
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary.format())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
