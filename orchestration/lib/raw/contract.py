"""The raw-data contract as data: tables, their required columns and types.

``docs/raw_contract.md`` is the human description; this module is the one the code
checks against (the loader validates files with it and types the empty stand-ins of
absent optional tables with it). Keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "OPTIONAL_TABLES",
    "PARQUET_COMPATIBLE_TYPES",
    "REQUIRED_TABLES",
    "TABLES",
    "TYPE_DESCRIPTIONS",
    "RawTable",
]


@dataclass(frozen=True)
class RawTable:
    """One raw table of the contract.

    Attributes
    ----------
    name : str
        Table name, also the file or folder name.
    columns : tuple of (str, str)
        Required columns and the DuckDB type used when the table is absent.
    required : bool
        Whether the table must be present.
    optional_columns : tuple of (str, str)
        Columns a file may lack, and their type: staging reads them as null when absent.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    required: bool = False
    optional_columns: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


_TS = "timestamptz"
_TXT = "varchar"

TABLES: tuple[RawTable, ...] = (
    RawTable(
        "users",
        (
            ("user_id", _TXT),
            ("signed_up_at", _TS),
            ("country", _TXT),
            ("locale", _TXT),
            ("acquisition_channel", _TXT),
        ),
        required=True,
    ),
    RawTable(
        "groups",
        (
            ("group_id", _TXT),
            ("name", _TXT),
            ("category", _TXT),
            ("created_by_user_id", _TXT),
            ("created_at", _TS),
            ("visibility", _TXT),
        ),
    ),
    RawTable(
        "group_memberships",
        (
            ("group_id", _TXT),
            ("user_id", _TXT),
            ("joined_at", _TS),
            ("left_at", _TS),
            ("role", _TXT),
        ),
    ),
    RawTable(
        "events",
        (
            ("event_id", _TXT),
            ("user_id", _TXT),
            ("event_type", _TXT),
            ("occurred_at", _TS),
            ("group_id", _TXT),
            ("target_user_id", _TXT),
            ("content_id", _TXT),
            ("amount", "double"),
            ("currency", _TXT),
            ("properties", _TXT),
        ),
        required=True,
    ),
    RawTable(
        "contents",
        (
            ("content_id", _TXT),
            ("author_user_id", _TXT),
            ("group_id", _TXT),
            ("parent_content_id", _TXT),
            ("created_at", _TS),
            ("body", _TXT),
            ("language", _TXT),
        ),
    ),
    RawTable(
        "experiments",
        (
            ("experiment_id", _TXT),
            ("name", _TXT),
            ("unit_type", _TXT),
            ("started_at", _TS),
            ("ended_at", _TS),
            ("primary_metric", _TXT),
            ("hypothesis", _TXT),
        ),
        # Intended split (50/50, 10/45/45); absent or null means equal.
        optional_columns=(("traffic_split", _TXT),),
    ),
    RawTable(
        "experiment_assignments",
        (
            ("experiment_id", _TXT),
            ("unit_id", _TXT),
            ("variant", _TXT),
            ("assigned_at", _TS),
        ),
    ),
    RawTable(
        "interventions",
        (
            ("intervention_id", _TXT),
            ("target_type", _TXT),
            ("target_id", _TXT),
            ("intervention_type", _TXT),
            ("started_at", _TS),
            ("ended_at", _TS),
            ("description", _TXT),
        ),
        # The group (or community) a cross_group_connection connects the target with, of
        # the target's type; absent or null for other interventions. Attribution leaves
        # it out of the target's donors: it is treated by the same connection.
        optional_columns=(("related_target_id", _TXT),),
    ),
)

REQUIRED_TABLES = tuple(t.name for t in TABLES if t.required)
OPTIONAL_TABLES = tuple(t.name for t in TABLES if not t.required)

_INTEGERS = frozenset(
    {
        "tinyint",
        "smallint",
        "integer",
        "bigint",
        "hugeint",
        "utinyint",
        "usmallint",
        "uinteger",
        "ubigint",
        "uhugeint",
    }
)

#: The DuckDB types (``DuckDBPyType.id``) a Parquet column may have for each contract
#: type: the ones staging casts to the contract type without loss or guesswork. ``null``
#: is a column pyarrow wrote with no values at all. ``varchar`` is compatible with every
#: contract type: staging types text row by row and rejects a value that does not parse
#: with its reason, as for CSV files. Any other type stops the run
#: (``docs/raw_contract.md``, "Parquet types").
PARQUET_COMPATIBLE_TYPES: dict[str, frozenset[str]] = {
    # Text: strings (dictionary-encoded ones too), enums, UUIDs and integers (numeric
    # ids, read as their decimal digits). Floats (1e+16, 1.0), booleans, bytes, dates
    # and nested types would become a different or made-up text.
    _TXT: frozenset({"varchar", "enum", "uuid", "null"}) | _INTEGERS,
    # Timestamps of any precision, with or without a time zone (without: taken as UTC),
    # dates (midnight UTC), and text (typed and rejected row by row by staging, as in a
    # CSV file). Integers are not: an epoch's unit (s, ms, us) would be a guess.
    _TS: frozenset(
        {
            "timestamp with time zone",
            "timestamp",
            "timestamp_s",
            "timestamp_ms",
            "timestamp_ns",
            "date",
            "varchar",
            "null",
        }
    ),
    # Numbers of any width or precision, and text (typed and rejected row by row by
    # staging, `invalid_amount`, as in a CSV file).
    "double": frozenset({"double", "float", "decimal", "varchar", "null"}) | _INTEGERS,
}

#: How an error names each contract type.
TYPE_DESCRIPTIONS = {
    _TXT: "text (VARCHAR, or an integer, UUID or enum)",
    _TS: "a timestamp (TIMESTAMP [WITH TIME ZONE] of any precision, DATE, or text)",
    "double": "a number (DOUBLE, FLOAT, DECIMAL, an integer, or text)",
}
