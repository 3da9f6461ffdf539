"""Importers that turn public interaction data sets into a raw folder of the contract.

Each importer reads one kind of source (a Stack Exchange site dump, the SNAP CollegeMsg
message log) and writes the raw tables of ``docs/raw_contract.md`` as Parquet into an
output folder: ``users.parquet``, ``groups.parquet``, ``group_memberships.parquet``,
``contents.parquet`` and ``events/<YYYY-MM-DD>.parquet`` (one file per UTC day), with
ids as text and timestamps as ``timestamp('us', tz='UTC')``, plus
``_import_report.json``: for every source file the rows read, the rows that produced
output and the rows skipped per reason, so that ``read = used + skipped`` holds for
every file and nothing disappears unnoticed. The importers live in :mod:`.stackexchange`
and :mod:`.collegemsg`, the parts they share (:class:`ImportSummary`, the Arrow schemas,
the writers) in :mod:`._common`, and the command line in :mod:`.cli`; this module only
re-exports the public names.
"""

from __future__ import annotations

from orchestration.lib.importers import _common
from orchestration.lib.importers._common import (
    DAY_US as DAY_US,
    REPORT_FILE as REPORT_FILE,
    SCHEMAS as SCHEMAS,
    TS_TYPE as TS_TYPE,
    ImportSummary as ImportSummary,
    clear_outputs as clear_outputs,
    format_us as format_us,
    write_events_by_day as write_events_by_day,
    write_table as write_table,
)
from orchestration.lib.importers.collegemsg import import_collegemsg
from orchestration.lib.importers.stackexchange import import_stackexchange

# ``X as X`` marks a re-export (PEP 484); the shared names are listed once, in _common
__all__ = [*_common.__all__, "import_collegemsg", "import_stackexchange"]
