"""Generate the demo data set once per set of parameters.

The raw asset calls :func:`ensure_demo_data` when no raw folder is configured. A stamp
file (hidden, so the raw loader ignores it) records the parameters of the data on
disk; the generator runs again only when they change or the stamp is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["ensure_demo_data"]

_STAMP = ".smallgroups_demo.json"


def ensure_demo_data(
    raw_dir: Path, truth_dir: Path, *, n_users: int, n_days: int, seed: int
) -> dict[str, object]:
    """Make sure ``raw_dir`` holds the demo data set generated with these parameters.

    Parameters
    ----------
    raw_dir, truth_dir : Path
        Where the raw tables and the planted truth go.
    n_users, n_days, seed : int
        Generator parameters.

    Returns
    -------
    dict
        ``generated`` (bool: whether the generator ran) and the parameters.
    """
    params = {"n_users": n_users, "n_days": n_days, "seed": seed}
    stamp = raw_dir / _STAMP
    if stamp.exists() and (truth_dir / "summary.json").exists():
        try:
            if json.loads(stamp.read_text()) == params:
                return {"generated": False, **params}
        except json.JSONDecodeError:
            pass
    from orchestration.lib.demo.generator import generate  # heavy import, only when needed

    generate(raw_dir, truth_dir, n_users=n_users, n_days=n_days, seed=seed)
    stamp.write_text(json.dumps(params))
    return {"generated": True, **params}
