"""The one way to open the DuckDB warehouse from Python, and the table helpers every
step's store shares (column declarations, stored columns, transactions)."""

from orchestration.lib.warehouse.connection import connect

__all__ = ["connect"]
