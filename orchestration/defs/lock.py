"""The refresh lock as a Dagster resource (`orchestration.lib.warehouse.lock` does the
work): the assets that start a refresh (the raw tables, dbt) and the publication require
it, so every run that writes the warehouse holds the lock from its first step to its
last."""

from contextlib import ExitStack

import dagster as dg
from pydantic import PrivateAttr

from orchestration.lib.config import load_settings
from orchestration.lib.warehouse.lock import warehouse_lock

__all__ = ["WarehouseLock"]


class WarehouseLock(dg.ConfigurableResource):
    """Holds the working warehouse's refresh lock from the start of a run to its end.

    With the in-process executor a resource is set up once per run, before the first
    step, and torn down after the last; every asset that writes the warehouse at the
    start of a refresh (the raw tables, dbt) and the publication require it, so a second
    refresh waits (``SMALLGROUPS_LOCK_WAIT_SECONDS``) and then fails with a message naming
    the running one, without touching the warehouse.
    """

    _stack: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = load_settings()
        stack = ExitStack()
        stack.enter_context(
            warehouse_lock(
                settings.duckdb_path,
                run_id=context.run_id or "unknown",
                wait_seconds=settings.lock_wait_seconds,
                on_wait=lambda holder: context.log.warning(
                    "waiting up to %s s for the running refresh (%s)",
                    settings.lock_wait_seconds,
                    holder,
                ),
            )
        )
        self._stack = stack

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
