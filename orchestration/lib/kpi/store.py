"""Read the inputs of the growth inflections from the warehouse and write their output.

The output table ``kpi.growth_inflections`` is a dbt source (see
``models/staging/kpi``). It is small (a few bends per KPI series) and is rewritten whole
on every refresh, in one transaction, with the column types declared in :data:`TABLES`
so that an empty result (no bend found) keeps them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.lib.warehouse.tables import ddl_columns, ddl_names, stored_columns, transaction

__all__ = [
    "INFLECTION_TABLE_COLUMNS",
    "INPUT_MODELS",
    "SCHEMA",
    "TABLES",
    "read_experiments",
    "read_interventions",
    "read_kpi_daily",
    "write_inflections",
]

SCHEMA = "kpi"

#: The dbt models this step reads (the Dagster asset depends on them).
INPUT_MODELS = ("fct_kpi_daily", "stg_product__interventions", "stg_product__experiments")

TABLES: dict[str, str] = {
    "growth_inflections": """
        series_name varchar, inflection_date date, slope_before double, slope_after double,
        slope_change double, direction varchar, p_value double, date_low date,
        date_high date, rss_reduction_share double, criterion_gain double,
        intervention_ids varchar, n_interventions bigint, experiment_ids varchar,
        n_experiments bigint""",
}


#: Columns of ``kpi.growth_inflections``, in order.
INFLECTION_TABLE_COLUMNS = tuple(ddl_names(TABLES["growth_inflections"]))


def read_kpi_daily(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The daily KPI series (``fct_kpi_daily``), by day."""
    return con.execute("select * from main.fct_kpi_daily order by kpi_date").df()


def read_interventions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``intervention_id, started_at`` of every accepted intervention."""
    return con.execute(
        "select intervention_id, started_at from main.stg_product__interventions"
    ).df()


def read_experiments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``experiment_id, started_at`` of every accepted experiment."""
    return con.execute("select experiment_id, started_at from main.stg_product__experiments").df()


def write_inflections(con: duckdb.DuckDBPyConnection, inflections: pd.DataFrame) -> None:
    """Replace every row of ``kpi.growth_inflections``, in one transaction.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Writable warehouse connection.
    inflections : pandas.DataFrame
        At least the columns of the table (:data:`INFLECTION_TABLE_COLUMNS`); values
        are cast to the declared types on insert.
    """
    name = "growth_inflections"
    # A table of another layout (written before the types were declared here, or by an
    # older version) is replaced: it is rewritten whole anyway.
    stored = stored_columns(con, SCHEMA, name)
    with transaction(con):
        con.execute(f"create schema if not exists {SCHEMA}")
        if stored and stored != list(INFLECTION_TABLE_COLUMNS):
            con.execute(f"drop table {SCHEMA}.{name}")
        con.execute(f"create table if not exists {SCHEMA}.{name} ({TABLES[name]})")
        con.execute(f"delete from {SCHEMA}.{name}")
        if not inflections.empty:
            casts = ", ".join(
                f"cast({column} as {kind})" for column, kind in ddl_columns(TABLES[name])
            )
            con.register("_inflections", inflections[list(INFLECTION_TABLE_COLUMNS)])
            con.execute(f"insert into {SCHEMA}.{name} select {casts} from _inflections")
            con.unregister("_inflections")
