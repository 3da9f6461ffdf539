"""The refresh lock as a Dagster resource (`orchestration.lib.warehouse.lock` does the
work): the assets that start a refresh (the raw tables, dbt) and the publication require
it, so every run that writes the warehouse holds the lock from its first step to its
last. A run that takes over the lock from a run killed with ``kill -9`` marks that run
as failed in the Dagster instance, where it would otherwise stay STARTED forever; so
does the ``new_raw_files`` sensor at every tick, when no run takes the lock."""

from contextlib import ExitStack

import dagster as dg
from pydantic import PrivateAttr

from orchestration.lib.config import load_settings
from orchestration.lib.warehouse.lock import warehouse_lock

__all__ = ["WarehouseLock", "fail_dead_holder_run"]

#: The statuses of a run that is still executing as far as the instance knows: a killed
#: run stays in one of them, since the process that would have ended it is gone.
_IN_PROGRESS = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)


def fail_dead_holder_run(
    instance: dg.DagsterInstance,
    holder: dict,
    log,
    current_run_id: str | None = None,
    *,
    reported_by: str | None = None,
) -> bool:
    """Report the run of a dead lock holder as failed, when the instance still has it
    in progress.

    Parameters
    ----------
    instance : dagster.DagsterInstance
        The instance the runs are recorded in.
    holder : dict
        The line the dead holder left in the lock file (``pid``, ``run_id``, ``since``).
    log : logging.Logger-like
        Where to say what was done (the run's ``context.log``).
    current_run_id : str, optional
        The run taking the lock over, named in the message (and never failed itself).
    reported_by : str, optional
        Who reports the failure, for the message; default ``run <current_run_id>``
        (the ``new_raw_files`` sensor, which runs no run, names itself).

    Returns
    -------
    bool
        True when the run was reported failed; False when it is unknown to this instance
        (a run of another Dagster home, or none), already finished, or the current run.
    """
    run_id = holder.get("run_id")
    if not isinstance(run_id, str) or not run_id or run_id == current_run_id:
        return False
    run = instance.get_run_by_id(run_id)
    if run is None:
        log.info(
            "the dead lock holder's run %s (pid %s) is not in this Dagster instance",
            run_id,
            holder.get("pid"),
        )
        return False
    if run.status not in _IN_PROGRESS:
        return False
    reporter = reported_by or f"run {current_run_id or 'unknown'}"
    message = (
        f"Run {run_id} was marked failed by {reporter}: its process "
        f"(pid {holder.get('pid')}, holding the warehouse lock since {holder.get('since')}) "
        "is dead, killed before it could end the run."
    )
    instance.report_run_failed(run, message=message)
    log.warning("%s (it was %s)", message, run.status.value)
    return True


class WarehouseLock(dg.ConfigurableResource):
    """Holds the working warehouse's refresh lock from the start of a run to its end.

    With the in-process executor a resource is set up once per run, before the first
    step, and torn down after the last; every asset that writes the warehouse at the
    start of a refresh (the raw tables, dbt) and the publication require it, so a second
    refresh waits (``SMALLGROUPS_LOCK_WAIT_SECONDS``) and then fails with a message naming
    the running one, without touching the warehouse. When the lock file names a previous
    holder whose process is dead (killed with ``kill -9``) and whose run the instance
    still has STARTING or STARTED, that run is reported failed
    (:func:`fail_dead_holder_run`) and this one carries on.
    """

    _stack: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = load_settings()
        stack = ExitStack()
        instance = context.instance
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
                on_dead_holder=None
                if instance is None
                else lambda holder: fail_dead_holder_run(
                    instance, holder, context.log, current_run_id=context.run_id
                ),
            )
        )
        self._stack = stack

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
