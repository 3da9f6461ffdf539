"""Raw-data contract: discover, validate and register the raw tables."""

from orchestration.lib.raw.contract import OPTIONAL_TABLES, REQUIRED_TABLES, TABLES, RawTable
from orchestration.lib.raw.loader import (
    RawDataError,
    RawTableFile,
    discover_raw_tables,
    register_raw_tables,
)

__all__ = [
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "TABLES",
    "RawDataError",
    "RawTable",
    "RawTableFile",
    "discover_raw_tables",
    "register_raw_tables",
]
