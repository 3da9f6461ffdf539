"""Freshness of a raw table as dbt declares it: how old its newest row is.

dbt's ``freshness`` config of a source (``warn_after``, ``error_after``, ``filter``,
``loaded_at_field``; for the raw events in ``models/staging/product/_product__sources.yml``)
is the one definition. ``dbt source freshness`` evaluates it, and so does the Dagster
asset check ``raw_events_are_fresh`` through this module: :func:`freshness_rule` reads
the rule from the manifest's source node, :func:`latest_loaded_at` runs the same query
dbt runs (``max(loaded_at_field)`` over the rows passing ``filter``), and
:func:`evaluate_freshness` compares the lag with the thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

__all__ = [
    "FreshnessResult",
    "FreshnessRule",
    "evaluate_freshness",
    "format_lag",
    "freshness_rule",
    "latest_loaded_at",
]

_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class FreshnessRule:
    """A source's freshness thresholds and the expression that dates its rows.

    Attributes
    ----------
    loaded_at_field : str
        SQL expression giving a row's time (dbt's ``loaded_at_field``).
    warn_after, error_after : timedelta or None
        Lags past which the table is stale (a warning, an error); None: not checked.
    filter : str or None
        SQL condition a row must meet to count (dbt's freshness ``filter``).
    """

    loaded_at_field: str
    warn_after: timedelta | None
    error_after: timedelta | None
    filter: str | None = None


def _threshold(spec: Mapping | None) -> timedelta | None:
    if not spec or spec.get("count") is None or spec.get("period") is None:
        return None
    period = spec["period"]
    if period not in _PERIODS:
        raise ValueError(f"freshness period {period!r} is not one of {sorted(_PERIODS)}")
    return int(spec["count"]) * _PERIODS[period]


def freshness_rule(source_node: Mapping) -> FreshnessRule:
    """The freshness rule of a source node of dbt's ``manifest.json``.

    Parameters
    ----------
    source_node : Mapping
        ``manifest["sources"]["source.<project>.<source>.<table>"]``.

    Returns
    -------
    FreshnessRule
        Its rule, read from the node's ``config`` (dbt >= 1.10) or its top level.

    Raises
    ------
    ValueError
        The source declares no ``loaded_at_field`` or no threshold (the message names it).
    """
    config = source_node.get("config") or {}
    name = f"{source_node.get('source_name')}.{source_node.get('name')}"
    loaded_at_field = config.get("loaded_at_field") or source_node.get("loaded_at_field")
    freshness = config.get("freshness") or source_node.get("freshness") or {}
    rule = FreshnessRule(
        loaded_at_field=loaded_at_field or "",
        warn_after=_threshold(freshness.get("warn_after")),
        error_after=_threshold(freshness.get("error_after")),
        filter=freshness.get("filter") or None,
    )
    if not rule.loaded_at_field:
        raise ValueError(f"source {name}: no loaded_at_field, so its freshness is undefined")
    if rule.warn_after is None and rule.error_after is None:
        raise ValueError(f"source {name}: freshness declares neither warn_after nor error_after")
    return rule


def latest_loaded_at(
    con: duckdb.DuckDBPyConnection, relation: str, rule: FreshnessRule
) -> datetime | None:
    """The newest ``loaded_at_field`` of ``relation`` among the rows passing the filter.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection to the warehouse.
    relation : str
        The table or view, e.g. ``raw.events``.
    rule : FreshnessRule
        Gives the expression and the filter.

    Returns
    -------
    datetime or None
        In UTC; None when no row has a time.
    """
    where = f"where {rule.filter}" if rule.filter else ""
    (seconds,) = con.execute(
        f"select epoch(max({rule.loaded_at_field})) from {relation} {where}"
    ).fetchone()
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def format_lag(lag: timedelta) -> str:
    """``"2 d 5 h"``, ``"5 h 12 min"`` or ``"12 min"`` (rounded down to the minute)."""
    minutes = int(lag.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@dataclass(frozen=True)
class FreshnessResult:
    """The verdict on one table.

    Attributes
    ----------
    status : str
        ``"pass"``, ``"warn"`` (past ``warn_after``) or ``"error"`` (past ``error_after``,
        or no dated row at all).
    lag : timedelta or None
        ``checked_at - latest`` (None without a dated row).
    latest, checked_at : datetime or None, datetime
        The newest row's time and the time compared with.
    message : str
        One sentence naming the asset, the newest time, the lag and the threshold.
    """

    status: str
    lag: timedelta | None
    latest: datetime | None
    checked_at: datetime
    message: str

    @property
    def passed(self) -> bool:
        """True when the table is within ``warn_after`` (and ``error_after``)."""
        return self.status == "pass"


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} h"


def evaluate_freshness(
    asset: str, latest: datetime | None, checked_at: datetime, rule: FreshnessRule
) -> FreshnessResult:
    """Compare the age of the newest row with the rule's thresholds.

    Parameters
    ----------
    asset : str
        Named in the message, e.g. ``"raw/events"``.
    latest : datetime or None
        The newest row's time (timezone-aware), or None when there is none.
    checked_at : datetime
        The time to compare with (timezone-aware, usually now).
    rule : FreshnessRule
        The thresholds.

    Returns
    -------
    FreshnessResult
        ``error`` past ``error_after``, else ``warn`` past ``warn_after``, else ``pass``.
    """
    if latest is None:
        return FreshnessResult(
            "error", None, None, checked_at, f"{asset}: no row with a valid time, so no freshness"
        )
    lag = checked_at - latest
    newest = f"{asset}: newest row at {latest.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if rule.error_after is not None and lag > rule.error_after:
        status, limit = "error", f"past error_after {_hours(rule.error_after)}"
    elif rule.warn_after is not None and lag > rule.warn_after:
        status, limit = "warn", f"past warn_after {_hours(rule.warn_after)}"
    else:
        status = "pass"
        bound = rule.warn_after if rule.warn_after is not None else rule.error_after
        limit = f"within {'warn_after' if rule.warn_after is not None else 'error_after'} "
        limit += _hours(bound)
    age = f"{format_lag(lag)} old" if lag >= timedelta(0) else f"{format_lag(-lag)} ahead"
    return FreshnessResult(status, lag, latest, checked_at, f"{newest}, {age}: {limit}")
