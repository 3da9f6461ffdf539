"""The one way to open the DuckDB warehouse from Python."""

from orchestration.lib.warehouse.connection import connect

__all__ = ["connect"]
