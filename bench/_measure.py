"""Run a command as a child process and report wall time and its peak memory."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

__all__ = ["Measured", "measure"]


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    returncode: int


def measure(
    cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None, quiet: bool = True
) -> Measured:
    """Run ``cmd``; return its wall-clock seconds and peak resident memory (MiB).

    ``os.wait4`` gives the rusage of this child alone (plus its own waited children),
    so the figure is the command's, not the benchmark script's.
    """
    started = time.perf_counter()
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr.decode()[-4000:]}"
        )
    return Measured(seconds, usage.ru_maxrss / 1024, proc.returncode)
