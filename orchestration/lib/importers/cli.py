"""Command line for the importers of public interaction data sets.

``python -m orchestration.lib.importers.cli stackexchange <dump_dir> --out <raw_dir>``
converts an unpacked Stack Exchange site dump, ``python -m
orchestration.lib.importers.cli collegemsg <file> --out <raw_dir>`` the SNAP CollegeMsg
log (see :mod:`.stackexchange` and :mod:`.collegemsg`); both print the import summary
(rows read, used and skipped per source file and reason, rows written per table) and
leave it in ``<raw_dir>/_import_report.json``. Point ``SMALLGROUPS_RAW_DIR`` at the
folder to run the pipeline on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orchestration.lib.importers.collegemsg import import_collegemsg
from orchestration.lib.importers.stackexchange import import_stackexchange

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
        prog="python -m orchestration.lib.importers.cli",
        description="Convert a public interaction data set into a smallgroups raw folder.",
    )
    sub = parser.add_subparsers(dest="source", required=True)
    se = sub.add_parser("stackexchange", help="an unpacked Stack Exchange site dump folder")
    se.add_argument("dump_dir", help="folder with Users.xml, Posts.xml, ...")
    se.add_argument("--site", help="site name (default: the folder name)")
    se.add_argument("--language", help="language tag of the site (default: from the site)")
    cm = sub.add_parser("collegemsg", help="a SNAP CollegeMsg 'src dst unix_ts' file")
    cm.add_argument("file", help="the text file, e.g. CollegeMsg.txt")
    for command in (se, cm):
        command.add_argument("--out", required=True, help="raw data folder to write")
        command.add_argument(
            "--memory-limit", default="3GB", help="DuckDB memory limit (default 3GB)"
        )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one importer; returns the process exit code."""
    args = parse_args(argv)
    try:
        if args.source == "stackexchange":
            summary = import_stackexchange(
                args.dump_dir,
                args.out,
                site=args.site,
                language=args.language,
                memory_limit=args.memory_limit,
            )
        else:
            summary = import_collegemsg(args.file, args.out, memory_limit=args.memory_limit)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary.format())
    return 1 if summary.unaccounted() else 0


if __name__ == "__main__":
    raise SystemExit(main())
