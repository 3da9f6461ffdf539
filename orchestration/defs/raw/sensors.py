"""The ``new_raw_files`` sensor: a refresh when raw files land (off until switched on).

Every ``minimum_interval_seconds`` it lists the contract files of SMALLGROUPS_RAW_DIR
(`orchestration.lib.raw.watch`) and requests a ``refresh_all`` run when the folder
differs from the cursor, the state it saw when it last requested one. The run key is
derived from that state, so one state never starts two runs. It waits while a refresh
is queued or running (a ``refresh_all`` run not yet started, or the warehouse's refresh
lock held by any refresh, `smallgroups run` included), without moving its cursor: the
next tick after that refresh looks again, and files that landed during it start one
more run.

Every tick first looks for a refresh killed while it held the warehouse lock
(`orchestration.lib.warehouse.lock.dead_lock_holder`: the lock file names a process that
is gone) and reports its run failed when the instance still has it STARTING or STARTED
(`orchestration.defs.lock.fail_dead_holder_run`), so a killed run neither blocks the
sensor (which waits on STARTING runs) nor stays STARTED until another refresh takes the
lock.
"""

import time

import dagster as dg

from orchestration.defs.lock import fail_dead_holder_run
from orchestration.lib.config import load_settings
from orchestration.lib.raw import RawDataError
from orchestration.lib.raw.watch import decide_refresh, raw_files_state
from orchestration.lib.warehouse.lock import dead_lock_holder, lock_holder

__all__ = ["REFRESH_JOB", "new_raw_files"]

REFRESH_JOB = "refresh_all"
#: Runs of the refresh job waiting to start: a request now would only queue behind them.
_WAITING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
]
#: Daily files: five minutes of latency is nothing, and each tick lists the folder.
MINIMUM_INTERVAL_SECONDS = 300


@dg.sensor(
    name="new_raw_files",
    job_name=REFRESH_JOB,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts refresh_all when files of the raw-data contract are added, "
    "changed or removed in SMALLGROUPS_RAW_DIR (checked every 5 minutes; waits while a "
    "refresh is queued or running).",
)
def new_raw_files(context: dg.SensorEvaluationContext):
    """Request a refresh when the raw folder changed since the last requested one."""
    settings = load_settings()
    dead = dead_lock_holder(settings.duckdb_path)
    if dead is not None:
        fail_dead_holder_run(
            context.instance, dead, context.log, reported_by="the new_raw_files sensor"
        )
    if settings.import_kind:
        return dg.SkipReason(
            f"{settings.raw_dir} is rewritten by every run from {settings.import_path} "
            f"({settings.import_kind} import), so it is not watched: use daily_refresh"
        )
    try:
        state = raw_files_state(settings.raw_dir)
    except RawDataError as error:
        return dg.SkipReason(str(error))
    decision = decide_refresh(state, context.cursor, now_ns=time.time_ns())
    if not decision.refresh:
        return dg.SkipReason(decision.reason)
    waiting = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=REFRESH_JOB, statuses=_WAITING), limit=1
    )
    if waiting:
        return dg.SkipReason(
            f"{decision.reason}; run {waiting[0].run_id} of {REFRESH_JOB} is "
            f"{waiting[0].status.value.lower()}: looking again after it"
        )
    holder = lock_holder(settings.duckdb_path)
    if holder:
        return dg.SkipReason(
            f"{decision.reason}; a refresh is running ({holder}): looking again after it"
        )
    context.log.info(decision.reason)
    context.update_cursor(state.cursor())
    return dg.RunRequest(
        run_key=state.run_key,
        tags={
            "smallgroups/trigger": "new_raw_files",
            "smallgroups/raw_file_count": str(len(state.files)),
        },
    )
