"""The Dagster home of the test runs of the real pipeline, kept in memory while they run.

A ``smallgroups run`` of the fixture writes about 2,000 Dagster events (every dbt model,
test and output is one) into the SQLite files of its ``DAGSTER_HOME``, each in its own
committed transaction, and a commit on the machine's disk waits for an fsync (about
20 ms on a busy shared disk against 0.2 ms in memory): seconds to minutes of every run
that are not the pipeline's work. :func:`dagster_home_in_memory` keeps a test's Dagster
home on a memory file system (``/dev/shm``) while its runs write it, and puts the files
back where the test expects them afterwards. Nothing a test checks depends on the
fsync: a process killed with ``SIGKILL`` loses nothing the kernel already holds, on
either file system, and the run history is the same files either way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_MEMORY_FS = Path("/dev/shm")


def _memory_fs_usable() -> bool:
    return _MEMORY_FS.is_dir() and os.access(_MEMORY_FS, os.W_OK | os.X_OK)


@contextlib.contextmanager
def dagster_home_in_memory(home: Path) -> Iterator[Path]:
    """Keep the Dagster home ``home`` on the memory file system while the block runs.

    ``home`` becomes a symbolic link to a new folder under ``/dev/shm`` (its files, when
    it held some, are moved there first); on leaving, the files move back into a real
    folder at ``home`` and the memory folder is removed, so the test folder holds the
    whole run history as before. Without a writable ``/dev/shm`` ``home`` is only
    created.

    Parameters
    ----------
    home : Path
        The ``DAGSTER_HOME`` folder the runs are given.

    Yields
    ------
    Path
        ``home``.
    """
    home = Path(home)
    if not _memory_fs_usable():
        home.mkdir(parents=True, exist_ok=True)
        yield home
        return
    memory = Path(tempfile.mkdtemp(prefix="smallgroups-dagster-home-", dir=_MEMORY_FS))
    try:
        if home.is_dir():
            shutil.copytree(home, memory, dirs_exist_ok=True, symlinks=True)
            shutil.rmtree(home)
        home.parent.mkdir(parents=True, exist_ok=True)
        home.symlink_to(memory, target_is_directory=True)
        try:
            yield home
        finally:
            home.unlink()
            shutil.copytree(memory, home, symlinks=True)
    finally:
        shutil.rmtree(memory, ignore_errors=True)
