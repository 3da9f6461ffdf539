"""Launchpad config -> library settings, the same way for every Python step.

A Dagster config class declares each launchpad option with the default of the
library's settings dataclass (``min_size: int = DetectionSettings.min_size``), so a
default is written once, in the library; :func:`settings_from_config` then builds the
dataclass from the config's fields of the same names. Settings the launchpad does not
show keep their library default. Config classes derive from :class:`LaunchpadConfig`, so
the docstring of each field is what the launchpad shows beside it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TypeVar

import dagster as dg

__all__ = ["LaunchpadConfig", "settings_from_config"]

SettingsT = TypeVar("SettingsT")


class LaunchpadConfig(dg.Config, use_attribute_docstrings=True):
    """Base of the run config classes: the docstring under each field becomes its
    description in the launchpad (pydantic ignores attribute docstrings otherwise)."""


def settings_from_config(settings_class: type[SettingsT], config: dg.Config) -> SettingsT:
    """Build ``settings_class`` from the fields of ``config`` that it declares.

    Parameters
    ----------
    settings_class : type
        A dataclass of ``orchestration.lib`` (e.g. ``DetectionSettings``).
    config : dagster.Config
        The run's config; its other fields (e.g. ``recompute_all``) are ignored.

    Returns
    -------
    settings_class
        The settings of this run.
    """
    names = [f.name for f in fields(settings_class) if f.name in type(config).model_fields]
    return settings_class(**{name: getattr(config, name) for name in names})
