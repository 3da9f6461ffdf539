"""Planting bad rows and harmless formatting noise into otherwise valid raw tables.

Bad rows are *extra* rows: each is a copy of a valid row with exactly one planted
problem (the reasons match the staging layer's rejection reasons), so the valid data
stays complete and every bad row can be listed in the ground truth by file and row
position. Duplicates are exact copies placed after their original in file order, so
the contract's "first by time, then file order" rule keeps the original.

Valid rows also get a little noise that staging must normalise rather than reject:
enum values with odd case and surrounding whitespace (``' Post '``, ``'COMMENT'``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

__all__ = [
    "CONTENT_REASONS",
    "EVENT_REASONS",
    "MEMBERSHIP_REASONS",
    "USER_REASONS",
    "BadRowLog",
    "break_encoding",
    "enum_variants",
    "interleave",
    "plant_bad_rows",
]

EVENT_REASONS = (
    "duplicate_key",
    "missing_key",
    "missing_user_id",
    "unknown_event_type",
    "timestamp_in_future",
    "timestamp_before_2000",
    "negative_amount",
    "unknown_user",
    "unknown_group",
)
USER_REASONS = ("duplicate_key", "missing_key")
CONTENT_REASONS = ("broken_encoding", "duplicate_key", "missing_key")
MEMBERSHIP_REASONS = ("unknown_group", "unknown_user")

_UNKNOWN_TYPES = ("lol", "Postt", "sesion_start", "click", "purchased", "like")
_EPOCH_1970 = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class BadRowLog:
    """Collects the planted bad rows for ``bad_rows.parquet``."""

    table: list[str] = field(default_factory=list)
    key: list[str | None] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    row_index: list[int] = field(default_factory=list)

    def add(self, table: str, keys: list, reasons: list[str], file: str, rows: np.ndarray) -> None:
        """Record bad rows of one file."""
        self.table.extend([table] * len(keys))
        self.key.extend(keys)
        self.reason.extend(reasons)
        self.file.extend([file] * len(keys))
        self.row_index.extend(int(r) for r in rows)

    def to_table(self) -> pa.Table:
        """The log as an Arrow table."""
        return pa.table(
            {
                "table": pa.array(self.table, pa.string()),
                "key": pa.array(self.key, pa.string()),
                "reason": pa.array(self.reason, pa.string()),
                "file": pa.array(self.file, pa.string()),
                "row_index": pa.array(self.row_index, pa.int64()),
            }
        )

    def counts(self) -> dict[str, int]:
        """Bad rows per reason."""
        values, counts = np.unique(np.array(self.reason, dtype=object), return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts, strict=True)}

    def counts_by_table(self) -> dict[str, int]:
        """Bad rows per table."""
        values, counts = np.unique(np.array(self.table, dtype=object), return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts, strict=True)}


def enum_variants(values: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Re-case / pad a share of enum values (valid after trim + lower-case).

    Parameters
    ----------
    values : ndarray of object
        Canonical lower-case values (None stays None).
    share : float
        Share of values to alter.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of object
    """
    out = values.copy()
    idx = np.flatnonzero((rng.random(values.size) < share) & (values != None))  # noqa: E711
    styles = rng.integers(0, 4, idx.size)
    for i, style in zip(idx.tolist(), styles.tolist(), strict=True):
        v = out[i]
        out[i] = (v.upper(), f" {v.title()} ", v.title(), f"{v}  ")[style]
    return out


def break_encoding(body: str, rng: np.random.Generator) -> str:
    """Return ``body`` with broken encoding: mojibake or U+FFFD replacement characters."""
    if any(ord(ch) > 127 for ch in body) and rng.random() < 0.7:
        return body.encode("utf-8").decode("cp1252", errors="replace")
    chars = list(body) or [" "]
    for pos in rng.integers(0, len(chars), size=min(3, len(chars))).tolist():
        chars[pos] = "\ufffd"
    return "".join(chars)


def interleave(valid: pa.Table, bad: pa.Table, after: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Insert bad rows into a valid table.

    Parameters
    ----------
    valid, bad : pyarrow.Table
        Same schema.
    after : ndarray of int
        For each bad row, the valid row it follows (-1 = before the first row).

    Returns
    -------
    table : pyarrow.Table
    positions : ndarray of int
        Row index of each bad row in ``table``.
    """
    n = valid.num_rows
    key = np.concatenate([np.arange(n, dtype=np.int64) * 2, np.asarray(after, np.int64) * 2 + 1])
    order = np.argsort(key, kind="stable")
    position = np.empty(key.size, dtype=np.int64)
    position[order] = np.arange(key.size)
    combined = pa.concat_tables([valid, bad.cast(valid.schema)]) if bad.num_rows else valid
    return combined.take(pa.array(order)), position[n:]


def _shift_year(moment: datetime, year: int) -> datetime:
    try:
        return moment.replace(year=year)
    except ValueError:  # 29 February
        return moment.replace(year=year, day=28)


def plant_bad_rows(
    table_name: str,
    valid: pa.Table,
    n_bad: int,
    reason_offset: int,
    rng: np.random.Generator,
    *,
    fresh_ids: list[str] | None = None,
    key_of=None,
    unknown_user_ids: list[str] | None = None,
    unknown_group_ids: list[str] | None = None,
) -> tuple[pa.Table, list, list[str], np.ndarray]:
    """Add ``n_bad`` bad rows to one file's valid rows.

    Parameters
    ----------
    table_name : str
        ``events``, ``users``, ``contents`` or ``group_memberships``.
    valid : pyarrow.Table
        The file's valid rows, in final order.
    n_bad : int
        Number of bad rows to add.
    reason_offset : int
        Position in the table's reason cycle of the first bad row (reasons are
        taken in turn so that each appears about equally often).
    rng : numpy.random.Generator
    fresh_ids : list of str, optional
        New primary keys for bad rows that need one (as many as ``n_bad``).
    key_of : callable, optional
        ``dict row -> str | None``, the key recorded in the truth.
    unknown_user_ids, unknown_group_ids : list of str, optional
        Ids that exist nowhere, for the ``unknown_*`` reasons.

    Returns
    -------
    table : pyarrow.Table
        Valid and bad rows interleaved.
    keys : list
        Truth key of each bad row.
    reasons : list of str
    positions : ndarray of int
        Row index of each bad row in ``table``.
    """
    reasons_cycle = {
        "events": EVENT_REASONS,
        "users": USER_REASONS,
        "contents": CONTENT_REASONS,
        "group_memberships": MEMBERSHIP_REASONS,
    }[table_name]
    n = valid.num_rows
    if n_bad <= 0 or n == 0:
        return valid, [], [], np.array([], dtype=np.int64)
    reasons = [reasons_cycle[(reason_offset + i) % len(reasons_cycle)] for i in range(n_bad)]
    source = rng.integers(0, n, n_bad)
    rows = valid.take(pa.array(source)).to_pylist()
    after = rng.integers(-1, n, n_bad)
    id_col = {"events": "event_id", "users": "user_id", "contents": "content_id"}.get(table_name)
    for i, (row, reason) in enumerate(zip(rows, reasons, strict=True)):
        if reason == "duplicate_key":
            after[i] = source[i] + int(rng.integers(0, max(n - source[i], 1)))
            continue
        if id_col and reason != "missing_key":
            row[id_col] = fresh_ids[i]
        if reason == "missing_key":
            row[id_col] = None
        elif reason == "missing_user_id":
            row["user_id"] = None
        elif reason == "unknown_event_type":
            row["event_type"] = _UNKNOWN_TYPES[int(rng.integers(0, len(_UNKNOWN_TYPES)))]
        elif reason == "timestamp_in_future":
            row["occurred_at"] = _shift_year(row["occurred_at"], 2099)
        elif reason == "timestamp_before_2000":
            moment = row["occurred_at"]
            if rng.random() < 0.5:
                row["occurred_at"] = _shift_year(moment, 1999)
            else:
                row["occurred_at"] = _EPOCH_1970.replace(
                    hour=moment.hour, minute=moment.minute, second=moment.second
                )
        elif reason == "negative_amount":
            amount = row["amount"] if row["event_type"] == "purchase" else None
            row.update(
                event_type="purchase",
                group_id=None,
                target_user_id=None,
                content_id=None,
                amount=-round(abs(amount) if amount else float(rng.uniform(1, 60)), 2),
                currency=row["currency"] or "USD",
                properties='{"sku": "pro_monthly"}',
            )
        elif reason == "unknown_user":
            col = "user_id" if table_name in ("events", "group_memberships") else "author_user_id"
            row[col] = unknown_user_ids[i]
        elif reason == "unknown_group":
            row["group_id"] = unknown_group_ids[i]
        elif reason == "broken_encoding":
            row["body"] = break_encoding(row["body"], rng)
    bad = pa.Table.from_pylist(rows, schema=valid.schema)
    keys = [key_of(row) for row in rows]
    table, positions = interleave(valid, bad, after)
    return table, keys, reasons, positions
