"""A long, mostly quiet history made from a demo data set: the benchmark case of quiet weeks.

Real sites are often old and quiet: a Stack Exchange meta dump holds 2,550 users and
3,743 messages over 13 years, and most of its ~680 weeks see no interaction at all.
:func:`stretch_history` turns a demo data set of ``n`` consecutive days into one whose
activity comes in bursts of ``burst_days`` days separated by ``gap_days`` of silence:
every timestamp of every raw table moves by the same monotone map, so the order of
events, replies, memberships and experiments is kept, and each daily event file is
renamed after its new date. Nothing is added or removed: the stretched set holds the
same rows as the source (tested), only further apart.

    python -m orchestration.lib.demo.quiet --src data/bench/u2500/raw --out data/bench/quiet/raw

The map of a timestamp ``t`` with ``k = floor((t - start) / burst_days)`` clipped to
``[0, bursts - 1]`` is ``t + k * gap_days``: values before the first day stay, values
after the last burst move with it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["QuietHistory", "main", "stretch_history"]

_US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class QuietHistory:
    """What :func:`stretch_history` wrote.

    Attributes
    ----------
    first_date, last_date : date
        First and last day with events after stretching.
    bursts : int
        Active stretches.
    span_days : int
        Calendar days from the first to the last day with events.
    rows : dict
        Rows per table (``events`` summed over the daily files), equal to the source's.
    """

    first_date: date
    last_date: date
    bursts: int
    span_days: int
    rows: dict[str, int]


def _shift_us(values: np.ndarray, start_us: int, burst_days: int, gap_days: int, bursts: int):
    """Microseconds to add to each timestamp (int64 microseconds since the epoch)."""
    k = np.floor_divide(values - start_us, burst_days * _US_PER_DAY)
    k = np.clip(k, 0, bursts - 1)
    return k * gap_days * _US_PER_DAY


def _stretch_table(
    table: pa.Table, start_us: int, burst_days: int, gap_days: int, bursts: int
) -> pa.Table:
    for index, field in enumerate(table.schema):
        if not pa.types.is_timestamp(field.type):
            continue
        column = table.column(index).combine_chunks()
        as_us = pc.cast(column, pa.timestamp("us", tz=field.type.tz))
        ints = as_us.cast(pa.int64()).to_numpy(zero_copy_only=False)
        valid = ~np.asarray(column.is_null())
        moved = ints.copy()
        moved[valid] = ints[valid] + _shift_us(ints[valid], start_us, burst_days, gap_days, bursts)
        array = pa.array(moved, type=pa.int64(), mask=~valid).cast(as_us.type)
        table = table.set_column(index, field, pc.cast(array, field.type))
    return table


def stretch_history(
    src: str | Path,
    out: str | Path,
    *,
    burst_days: int = 14,
    gap_days: int = 280,
) -> QuietHistory:
    """Write ``src``'s raw tables into ``out`` with activity in bursts and long gaps.

    Parameters
    ----------
    src : path
        A raw folder as the demo generator writes it (``events/`` holds one file per
        day named ``YYYY-MM-DD.parquet``; the other tables are single Parquet files).
    out : path
        Target raw folder; replaced when it exists.
    burst_days : int
        Consecutive source days kept together (default 14).
    gap_days : int
        Quiet days inserted after each burst (default 280).

    Returns
    -------
    QuietHistory

    Raises
    ------
    ValueError
        When ``src`` has no daily event files or the arguments are not positive.
    """
    if burst_days < 1 or gap_days < 0:
        raise ValueError(f"burst_days must be >= 1 and gap_days >= 0 ({burst_days}, {gap_days})")
    src, out = Path(src), Path(out)
    days = sorted((src / "events").glob("*.parquet"))
    if not days:
        raise ValueError(f"{src / 'events'}: no daily event files to stretch")
    first = date.fromisoformat(days[0].stem)
    n_days = (date.fromisoformat(days[-1].stem) - first).days + 1
    bursts = -(-n_days // burst_days)
    start_us = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
    start_us *= 1_000_000
    if out.exists():
        shutil.rmtree(out)
    (out / "events").mkdir(parents=True)
    rows: dict[str, int] = {}
    for path in sorted(src.glob("*.parquet")):
        table = _stretch_table(pq.read_table(path), start_us, burst_days, gap_days, bursts)
        pq.write_table(table, out / path.name)
        rows[path.stem] = table.num_rows
    rows["events"] = 0
    last = first
    for path in days:
        offset = (date.fromisoformat(path.stem) - first).days
        moved = first + timedelta(days=offset + min(offset // burst_days, bursts - 1) * gap_days)
        table = _stretch_table(pq.read_table(path), start_us, burst_days, gap_days, bursts)
        pq.write_table(table, out / "events" / f"{moved.isoformat()}.parquet")
        rows["events"] += table.num_rows
        last = max(last, moved)
    return QuietHistory(first, last, bursts, (last - first).days + 1, rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--src``, ``--out``, ``--burst-days``, ``--gap-days``."""
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.lib.demo.quiet", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--src", required=True, help="raw folder of a demo data set")
    parser.add_argument("--out", required=True, help="raw folder to write (replaced)")
    parser.add_argument("--burst-days", type=int, default=14)
    parser.add_argument("--gap-days", type=int, default=280)
    args = parser.parse_args(argv)
    try:
        result = stretch_history(
            args.src, args.out, burst_days=args.burst_days, gap_days=args.gap_days
        )
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"{result.bursts} bursts from {result.first_date} to {result.last_date} "
        f"({result.span_days:,} days); rows {result.rows}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
