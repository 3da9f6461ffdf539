"""Synthetic demo data for smallgroups: raw product tables plus the planted ground truth.

:func:`generate` writes a complete raw data set that follows ``docs/raw_contract.md``
(``users``, ``groups``, ``group_memberships``, ``contents``, ``experiments``,
``experiment_assignments``, ``interventions`` as Parquet files and ``events/`` as one
Parquet file per day) and, in a separate folder the pipeline never reads, the truth
that was planted in it: hidden communities of 8-300 members with topics, languages,
pain points, key members, bridges and lifecycles (born, grew, split, merged,
dissolved), a sign-up curve with an inflection date, member vs non-member churn,
a purchase uplift for group members, two randomised experiments with known effects
(and a spillover of the user experiment onto control users' posting),
pilot interventions, and every bad row with its reason.

The static world is drawn by :mod:`._world`, activity is simulated one day at a time
by :mod:`._activity` (so files stream out and memory stays flat) and bad rows are
planted by :mod:`._corrupt`. Message bodies come from :mod:`.text`. Everything is
driven by one explicit seed: the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.raw.contract import TABLES as RAW_CONTRACT_TABLES

from ._activity import SENTIMENTS, DayOutput, DaySimulator
from ._common import (
    DAY_US,
    EVENT_TYPES,
    TS_TYPE,
    Knobs,
    day_to_date,
    format_ids,
    index_to_ids,
    stochastic_round,
    to_timestamp_array,
)
from ._corrupt import BadRowLog, enum_variants, plant_bad_rows
from ._world import World, build_world
from .text import TOPICS, render_bodies

__all__ = ["RAW_TABLES", "TRUTH_FILES", "GenerationSummary", "generate"]

#: Raw tables written (``events`` is a folder of daily files): every table of the raw
#: contract, which is the one list of raw tables.
RAW_TABLES = tuple(table.name for table in RAW_CONTRACT_TABLES)
#: Files written to the truth folder.
TRUTH_FILES = (
    "communities.parquet",
    "community_memberships.parquet",
    "community_events.parquet",
    "key_members.parquet",
    "bridges.parquet",
    "content_labels.parquet",
    "community_pain_points.parquet",
    "experiments.parquet",
    "spillover.parquet",
    "spillover_exposure.parquet",
    "interventions.parquet",
    "growth.parquet",
    "bad_rows.parquet",
    "users.parquet",
    "summary.json",
)

_PARQUET = {"compression": "zstd"}
_HOUR = 3_600_000_000
_CONTENT_FLUSH_ROWS = 250_000
_OPEN_DAY = np.iinfo(np.int64).max // 8

EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("user_id", pa.string()),
        ("event_type", pa.string()),
        ("occurred_at", TS_TYPE),
        ("group_id", pa.string()),
        ("target_user_id", pa.string()),
        ("content_id", pa.string()),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("properties", pa.string()),
    ]
)
CONTENTS_SCHEMA = pa.schema(
    [
        ("content_id", pa.string()),
        ("author_user_id", pa.string()),
        ("group_id", pa.string()),
        ("parent_content_id", pa.string()),
        ("created_at", TS_TYPE),
        ("body", pa.string()),
        ("language", pa.string()),
    ]
)
LABELS_SCHEMA = pa.schema(
    [
        ("content_id", pa.string()),
        ("community_id", pa.string()),
        ("topic_key", pa.string()),
        ("language", pa.string()),
        ("sentiment", pa.string()),
        ("pain_point_key", pa.string()),
    ]
)


@dataclass
class GenerationSummary:
    """What :func:`generate` wrote.

    Attributes
    ----------
    raw_dir, truth_dir : Path
        Output folders.
    n_users, n_days, seed : int
        The arguments.
    rows : dict of str to int
        Rows written per raw table, bad rows included.
    bad_rows : dict of str to int
        Planted bad rows per reason.
    bad_rows_by_table : dict of str to int
        Planted bad rows per table.
    seconds : float
        Wall-clock time.
    """

    raw_dir: Path
    truth_dir: Path
    n_users: int
    n_days: int
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    bad_rows: dict[str, int] = field(default_factory=dict)
    bad_rows_by_table: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def format(self) -> str:
        """Human-readable multi-line report."""
        lines = [
            f"demo data: {self.n_users:,} users x {self.n_days} days, seed {self.seed}",
            f"raw:   {self.raw_dir}",
            f"truth: {self.truth_dir}",
            "rows per table (bad rows included):",
        ]
        lines += [f"  {name:<24}{count:>12,}" for name, count in self.rows.items()]
        lines.append("bad rows per reason:")
        lines += [f"  {name:<24}{count:>12,}" for name, count in sorted(self.bad_rows.items())]
        lines.append(f"took {self.seconds:.1f} s")
        return "\n".join(lines)


def generate(
    raw_dir: str | Path,
    truth_dir: str | Path,
    *,
    n_users: int = 10_000,
    n_days: int = 120,
    seed: int = 42,
    bad_row_share: float = 0.01,
    start_date: str | date = "2026-01-01",
    progress: Callable[[str], None] | None = None,
    staggered_interventions: int = 0,
    declared_group_share: float | None = None,
) -> GenerationSummary:
    """Generate the demo raw data set and its ground truth.

    Parameters
    ----------
    raw_dir : str or Path
        Folder for the raw tables; the files this function writes are replaced.
    truth_dir : str or Path
        Folder for the planted truth (never read by the pipeline).
    n_users : int, default 10_000
        Users in ``users`` (valid rows), at least 300.
    n_days : int, default 120
        Days of activity from ``start_date``, at least 14.
    seed : int, default 42
        Root seed; equal arguments give identical files.
    bad_row_share : float, default 0.01
        Bad rows added per table (events, users, contents, group_memberships) as a
        share of its valid rows; 0 disables them.
    start_date : str or date, default "2026-01-01"
        Day 0, UTC.
    progress : callable, optional
        Called with short progress messages.
    staggered_interventions : int, default 0
        0 keeps the 5-10 pilots with the constant planted effect. N > 0 plants N
        staggered 21-day interventions (types ``activity``, ``resource_boost``,
        ``pilot``) whose effect depends on the group's features at the start
        (``_world.STAGGERED_TYPES``); the truth's ``interventions.parquet`` records each
        one's effect, form and features. The rest of the world is unchanged.
    declared_group_share : float, optional
        Share of communities with a declared group (default the knob's 0.40); more
        groups leave staggered interventions more donors.

    Returns
    -------
    GenerationSummary
    """
    began = time.perf_counter()
    if n_users < 300:
        raise ValueError("n_users must be at least 300")
    if n_days < 14:
        raise ValueError("n_days must be at least 14")
    if not 0 <= bad_row_share < 0.5:
        raise ValueError("bad_row_share must be in [0, 0.5)")
    if n_users >= 9_000_000:
        raise ValueError("n_users must be below 9,000,000 (id width)")
    start = date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
    raw_dir, truth_dir = Path(raw_dir), Path(truth_dir)
    say = progress or (lambda _msg: None)
    _clear(raw_dir, truth_dir)

    if staggered_interventions < 0:
        raise ValueError("staggered_interventions must be >= 0")
    if declared_group_share is not None and not 0 < declared_group_share <= 1:
        raise ValueError("declared_group_share must be in (0, 1]")
    knobs = (
        Knobs()
        if declared_group_share is None
        else Knobs(declared_group_share=declared_group_share)
    )
    say(f"drawing the world: {n_users:,} users, {n_days} days")
    world = build_world(
        n_users, n_days, seed, start, TOPICS, knobs, staggered_interventions=staggered_interventions
    )
    writer = _Writer(world, raw_dir, truth_dir, seed, bad_row_share)
    writer.write_static()
    sim = DaySimulator(world, TOPICS, render_bodies, seed)
    say(
        f"{world.n_communities} communities, {world.n_groups} groups, "
        f"{len(world.mem_user):,} community memberships"
    )
    for d in range(n_days):
        out = sim.simulate_day(d)
        writer.write_day(d, out, sim)
        if (d + 1) % max(1, n_days // 10) == 0 or d == n_days - 1:
            say(f"day {d + 1}/{n_days}: {writer.rows['events']:,} events so far")
    writer.close()
    seconds = time.perf_counter() - began
    summary = GenerationSummary(
        raw_dir=raw_dir,
        truth_dir=truth_dir,
        n_users=n_users,
        n_days=n_days,
        seed=seed,
        rows=dict(writer.rows),
        bad_rows=writer.bad.counts(),
        bad_rows_by_table=writer.bad.counts_by_table(),
        seconds=seconds,
    )
    writer.write_truth(sim, summary, bad_row_share, start)
    return summary


def _clear(raw_dir: Path, truth_dir: Path) -> None:
    raw_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(raw_dir / "events", ignore_errors=True)
    for name in RAW_TABLES:
        (raw_dir / f"{name}.parquet").unlink(missing_ok=True)
    for name in TRUTH_FILES:
        (truth_dir / name).unlink(missing_ok=True)


class _Writer:
    """Turns world and daily output into Arrow tables, plants bad rows, writes files."""

    def __init__(self, world: World, raw_dir: Path, truth_dir: Path, seed: int, share: float):
        self.w = world
        self.raw_dir = raw_dir
        self.truth_dir = truth_dir
        self.seed = seed
        self.share = share
        self.rng = np.random.default_rng([seed, 23])
        self.bad = BadRowLog()
        self.rows: dict[str, int] = {name: 0 for name in RAW_TABLES}
        self.user_ids = format_ids("u", np.arange(1, world.n_users + 1), 7)
        self.group_ids = format_ids("g", np.arange(1, world.n_groups + 1), 5)
        self.comm_ids = format_ids("cm", np.arange(1, world.n_communities + 1), 4)
        self.event_number = 1
        self.reason_offset = {"events": 0, "contents": 0}
        variants = []
        for name in EVENT_TYPES:
            title = name.title()
            variants += [name, name.upper(), f" {title} ", title, f"  {name}"]
        self.type_variants = pa.array(variants, pa.string())
        (raw_dir / "events").mkdir(parents=True, exist_ok=True)
        self.contents_writer = pq.ParquetWriter(
            raw_dir / "contents.parquet", CONTENTS_SCHEMA, **_PARQUET
        )
        self.labels_writer = pq.ParquetWriter(
            truth_dir / "content_labels.parquet", LABELS_SCHEMA, **_PARQUET
        )
        self.content_buffer: list[pa.Table] = []
        self.content_rows_written = 0
        self.valid_contents = 0

    # ------------------------------------------------------------------ helpers

    def _bad_count(self, n_valid: int) -> int:
        return stochastic_round(self.share * n_valid, self.rng) if self.share > 0 else 0

    def _unknown_users(self, k: int) -> list[str]:
        return format_ids("u", 9_000_000 + self.rng.integers(0, 999_999, k), 7).to_pylist()

    def _unknown_groups(self, k: int) -> list[str]:
        return format_ids("g", 90_000 + self.rng.integers(0, 9_999, k), 5).to_pylist()

    def _write(self, table: pa.Table, name: str) -> None:
        pq.write_table(table, self.raw_dir / f"{name}.parquet", **_PARQUET)
        self.rows[name] = table.num_rows

    # ------------------------------------------------------------------ static tables

    def write_static(self) -> None:
        """Write users, groups, memberships, experiments and interventions."""
        w, rng = self.w, self.rng
        share = w.knobs.enum_variant_share
        signup = w.signup_us.copy()
        # A few pre-start sign-ups exactly at midnight (valid edge values).
        old = np.flatnonzero(w.signup_day < -1)
        if old.size:
            pick = rng.choice(old, size=max(1, old.size // 500), replace=False)
            signup[pick] = signup[pick] - signup[pick] % DAY_US
        locale = w.locale.copy()
        odd = np.flatnonzero(rng.random(w.n_users) < share)
        locale[odd] = [v.replace("-", "_").lower() for v in locale[odd]]
        country = w.country.copy()
        odd = np.flatnonzero(rng.random(w.n_users) < share)
        country[odd] = [v.lower() for v in country[odd]]
        users = pa.table(
            {
                "user_id": self.user_ids,
                "signed_up_at": to_timestamp_array(signup),
                "country": pa.array(country, pa.string()),
                "locale": pa.array(locale, pa.string()),
                "acquisition_channel": pa.array(enum_variants(w.channel, share, rng), pa.string()),
            }
        )
        users = self._plant("users", users, "users.parquet", key_col="user_id")
        self._write(users, "users")

        groups = pa.table(
            {
                "group_id": self.group_ids,
                "name": pa.array(w.grp_name, pa.string()),
                "category": pa.array(
                    enum_variants(np.array(w.grp_category, dtype=object), 0.05, rng), pa.string()
                ),
                "created_by_user_id": index_to_ids(self.user_ids, w.grp_owner),
                "created_at": to_timestamp_array(w.grp_created_us),
                "visibility": pa.array(
                    enum_variants(
                        np.where(w.grp_private, "private", "public").astype(object), 0.05, rng
                    ),
                    pa.string(),
                ),
            }
        )
        self._write(groups, "groups")

        roles = np.array(["owner", "admin", "member"], dtype=object)[w.gm_role]
        left = w.gm_left_us
        memberships = pa.table(
            {
                "group_id": index_to_ids(self.group_ids, w.gm_group),
                "user_id": index_to_ids(self.user_ids, w.gm_user),
                "joined_at": to_timestamp_array(w.gm_join_us),
                "left_at": to_timestamp_array(np.maximum(left, 0), null_mask=left < 0),
                "role": pa.array(enum_variants(roles, share * 2, rng), pa.string()),
            }
        )
        memberships = self._plant("group_memberships", memberships, "group_memberships.parquet")
        self._write(memberships, "group_memberships")

        self._write_experiments()
        self._write_interventions()

    def _plant(self, name: str, table: pa.Table, file: str, key_col: str | None = None) -> pa.Table:
        n_bad = self._bad_count(table.num_rows)
        if name == "group_memberships":

            def key_of(row: dict) -> str:
                return f"{row['group_id']}/{row['user_id']}/{row['joined_at']:%Y-%m-%dT%H:%M:%S}"

        else:

            def key_of(row: dict) -> str | None:
                return row[key_col]

        table, keys, reasons, positions = plant_bad_rows(
            name,
            table,
            n_bad,
            0,
            self.rng,
            key_of=key_of,
            unknown_user_ids=self._unknown_users(n_bad),
            unknown_group_ids=self._unknown_groups(n_bad),
        )
        self.bad.add(name, keys, reasons, file, positions)
        return table

    def _write_experiments(self) -> None:
        w = self.w
        start_us = w.start_us
        g_started = start_us + w.group_exp_day * DAY_US + 9 * _HOUR
        u_started = start_us + w.user_exp_day * DAY_US + 9 * _HOUR
        u_ended = start_us + w.user_exp_end_day * DAY_US + 9 * _HOUR
        experiments = pa.table(
            {
                "experiment_id": ["exp001", "exp002"],
                "name": ["Weekly group prompts", "Checkout reminder"],
                "unit_type": ["group", "user"],
                "started_at": to_timestamp_array(np.array([g_started, u_started])),
                "ended_at": to_timestamp_array(
                    np.array([0, u_ended]), null_mask=np.array([True, False])
                ),
                "primary_metric": ["posts_per_member_day", "purchase_conversion"],
                "hypothesis": [
                    "A weekly prompt from the group owner makes members post more often.",
                    "A reminder after a session raises the share of users who buy.",
                ],
            }
        )
        self._write(experiments, "experiments")
        units = np.flatnonzero(w.user_assigned_us >= 0)
        variant = np.array(["control", "treatment"], dtype=object)
        assignments = pa.table(
            {
                "experiment_id": pa.array(
                    ["exp001"] * w.n_groups + ["exp002"] * units.size, pa.string()
                ),
                "unit_id": pa.concat_arrays([self.group_ids, index_to_ids(self.user_ids, units)]),
                "variant": pa.array(
                    np.concatenate(
                        [
                            variant[w.group_treat.astype(int)],
                            variant[w.user_treat[units].astype(int)],
                        ]
                    ),
                    pa.string(),
                ),
                "assigned_at": to_timestamp_array(
                    np.concatenate([w.group_assigned_us, w.user_assigned_us[units]])
                ),
            }
        )
        self._write(assignments, "experiment_assignments")

    def _intervention_rows(self) -> list[dict]:
        w = self.w
        rows = []
        features = w.pilot_features
        for i, (g, s, e, kind) in enumerate(
            zip(w.pilot_group, w.pilot_start_day, w.pilot_end_day, w.pilot_type, strict=True)
        ):
            rows.append(
                {
                    "target_id": int(g),
                    "type": kind,
                    "start": int(s),
                    "end": int(e) if e < w.n_days else None,
                    "community": int(w.grp_comm[g]),
                    "related_group": None,
                    "related_community": None,
                    "effect": float(w.pilot_effect[i]),
                    "definition": "relative increase of posts and interactions per member "
                    "session-day while the intervention runs",
                    "form": w.pilot_form[i],
                    **{name: values[i].item() for name, values in features.items()},
                }
            )
        ga, gb = w.cross_groups
        if ga >= 0:
            rows.append(
                {
                    "target_id": ga,
                    "type": "cross_group_connection",
                    "start": w.cross[2],
                    "end": None,
                    "community": w.cross[0],
                    "related_group": gb,
                    "related_community": w.cross[1],
                    "effect": w.knobs.cross_connection_share,
                    "definition": "share of the two communities' members' interactions redirected "
                    "to the other community from the start day",
                    "form": "constant",
                    "members_at_start": None,
                    "member_growth_4_weeks": None,
                    "key_member_share": None,
                }
            )
        rows.sort(key=lambda r: (r["start"], r["target_id"]))
        for i, row in enumerate(rows):
            row["id"] = f"iv{i + 1:03d}"
        return rows

    def _write_interventions(self) -> None:
        w = self.w
        rows = self._intervention_rows()
        gid = self.group_ids.to_pylist()
        started = np.array(
            [w.start_us + r["start"] * DAY_US + 10 * _HOUR for r in rows], dtype=np.int64
        )
        ended = np.array(
            [w.start_us + (r["end"] or 0) * DAY_US + 10 * _HOUR for r in rows], dtype=np.int64
        )
        descriptions = []
        for r in rows:
            name = w.grp_name[r["target_id"]]
            if r["type"] == "cross_group_connection":
                other = r["related_group"]
                descriptions.append(
                    f"Joint events connecting {name} ({gid[r['target_id']]}) with "
                    f"{w.grp_name[other]} ({gid[other]})."
                )
            elif r["type"] == "pilot" and r["form"] != "constant":
                descriptions.append(f"Three-week moderator pilot in {name}.")
            elif r["type"] == "pilot":
                descriptions.append(f"Four-week moderator pilot in {name}.")
            elif r["type"] == "activity":
                descriptions.append(f"Three-week activity tailored to {name}'s interests.")
            else:
                descriptions.append(f"Extra featured slots and storage for {name}.")
        table = pa.table(
            {
                "intervention_id": [r["id"] for r in rows],
                "target_type": ["group"] * len(rows),
                "target_id": [gid[r["target_id"]] for r in rows],
                "intervention_type": [r["type"] for r in rows],
                "started_at": to_timestamp_array(started),
                "ended_at": to_timestamp_array(
                    ended, null_mask=np.array([r["end"] is None for r in rows])
                ),
                "description": descriptions,
                # The optional contract column: a connection's partner group.
                "related_target_id": [
                    None if r["related_group"] is None else gid[r["related_group"]] for r in rows
                ],
            },
            schema=pa.schema(
                [
                    ("intervention_id", pa.string()),
                    ("target_type", pa.string()),
                    ("target_id", pa.string()),
                    ("intervention_type", pa.string()),
                    ("started_at", TS_TYPE),
                    ("ended_at", TS_TYPE),
                    ("description", pa.string()),
                    ("related_target_id", pa.string()),
                ]
            ),
        )
        self._write(table, "interventions")

    # ------------------------------------------------------------------ daily files

    def write_day(self, d: int, out: DayOutput, sim: DaySimulator) -> None:
        """Write one day's events file and append its contents."""
        w, rng = self.w, self.rng
        m = out.ev_user.size
        numbers = self.event_number + np.arange(m)
        self.event_number += m
        variant = np.where(rng.random(m) < w.knobs.enum_variant_share, rng.integers(1, 5, m), 0)
        content = out.ev_content
        has_content = content >= 0
        content_ids = format_ids("c", content[has_content] + 1, 8)
        content_pos = np.full(m, -1, dtype=np.int64)
        content_pos[has_content] = np.arange(len(content_ids))
        currency = np.array(sim.currencies, dtype=object)
        cur = np.where(out.ev_currency >= 0, currency[np.maximum(out.ev_currency, 0)], None)
        odd = (out.ev_currency >= 0) & (rng.random(m) < w.knobs.enum_variant_share * 4)
        cur[odd] = [c.lower() for c in cur[odd]]
        events = pa.table(
            {
                "event_id": format_ids("e", numbers, 9),
                "user_id": index_to_ids(self.user_ids, out.ev_user),
                "event_type": self.type_variants.take(pa.array(out.ev_type * 5 + variant)),
                "occurred_at": to_timestamp_array(out.ev_us),
                "group_id": index_to_ids(self.group_ids, out.ev_group),
                "target_user_id": index_to_ids(self.user_ids, out.ev_target),
                "content_id": index_to_ids(content_ids, content_pos),
                "amount": pa.array(out.ev_amount, pa.float64(), from_pandas=True),
                "currency": pa.array(cur, pa.string()),
                "properties": sim.props.array.take(pa.array(out.ev_prop)),
            },
            schema=EVENTS_SCHEMA,
        )
        file = f"events/{day_to_date(w.start, d).isoformat()}.parquet"
        n_bad = self._bad_count(m)
        fresh = format_ids("e", self.event_number + np.arange(n_bad), 9).to_pylist()
        self.event_number += n_bad
        events, keys, reasons, positions = plant_bad_rows(
            "events",
            events,
            n_bad,
            self.reason_offset["events"],
            rng,
            fresh_ids=fresh,
            key_of=lambda row: row["event_id"],
            unknown_user_ids=self._unknown_users(n_bad),
            unknown_group_ids=self._unknown_groups(n_bad),
        )
        self.reason_offset["events"] += n_bad
        self.bad.add("events", keys, reasons, file, positions)
        pq.write_table(events, self.raw_dir / file, **_PARQUET)
        self.rows["events"] += events.num_rows
        self._write_contents(out, sim)

    def _write_contents(self, out: DayOutput, sim: DaySimulator) -> None:
        w, rng = self.w, self.rng
        n = out.ct_number.size
        self.valid_contents += n
        ids = format_ids("c", out.ct_number + 1, 8)
        parent_has = out.ct_parent >= 0
        parent_ids = format_ids("c", out.ct_parent[parent_has] + 1, 8)
        parent_pos = np.full(n, -1, dtype=np.int64)
        parent_pos[parent_has] = np.arange(len(parent_ids))
        lang = np.where(out.ct_lang == 0, "zh", "en").astype(object)
        declared = lang.copy()
        odd = rng.random(n) < w.knobs.enum_variant_share * 2
        declared[odd] = [("zh-Hans" if v == "zh" else "EN") for v in declared[odd]]
        declared[out.ct_lang_null] = None
        table = pa.table(
            {
                "content_id": ids,
                "author_user_id": index_to_ids(self.user_ids, out.ct_author),
                "group_id": index_to_ids(self.group_ids, out.ct_group),
                "parent_content_id": index_to_ids(parent_ids, parent_pos),
                "created_at": to_timestamp_array(out.ct_us),
                "body": pa.array(out.ct_body, pa.string()),
                "language": pa.array(declared, pa.string()),
            },
            schema=CONTENTS_SCHEMA,
        )
        n_bad = self._bad_count(n)
        fresh = format_ids("c", sim.next_content + 1 + np.arange(n_bad), 8).to_pylist()
        sim.next_content += n_bad
        table, keys, reasons, positions = plant_bad_rows(
            "contents",
            table,
            n_bad,
            self.reason_offset["contents"],
            rng,
            fresh_ids=fresh,
            key_of=lambda row: row["content_id"],
        )
        self.reason_offset["contents"] += n_bad
        buffered = sum(t.num_rows for t in self.content_buffer)
        self.bad.add(
            "contents",
            keys,
            reasons,
            "contents.parquet",
            positions + self.content_rows_written + buffered,
        )
        self.content_buffer.append(table)
        self.rows["contents"] += table.num_rows
        if buffered + table.num_rows >= _CONTENT_FLUSH_ROWS:
            self._flush_contents()

        topic_keys = pa.array([t.key for t in TOPICS], pa.string())
        pain_keys = [np.array([p.key for p in t.pain_points], dtype=object) for t in TOPICS]
        pain = np.full(n, None, dtype=object)
        hit = np.flatnonzero(out.ct_pain >= 0)
        pain[hit] = [
            pain_keys[t][p] for t, p in zip(out.ct_topic[hit], out.ct_pain[hit], strict=True)
        ]
        labels = pa.table(
            {
                "content_id": ids,
                "community_id": index_to_ids(self.comm_ids, out.ct_community),
                "topic_key": topic_keys.take(pa.array(out.ct_topic)),
                "language": pa.array(lang, pa.string()),
                "sentiment": pa.array(
                    np.array(SENTIMENTS, dtype=object)[out.ct_sentiment], pa.string()
                ),
                "pain_point_key": pa.array(pain, pa.string()),
            },
            schema=LABELS_SCHEMA,
        )
        self.labels_writer.write_table(labels)

    def _flush_contents(self) -> None:
        if self.content_buffer:
            table = pa.concat_tables(self.content_buffer)
            self.contents_writer.write_table(table, row_group_size=_CONTENT_FLUSH_ROWS * 2)
            self.content_rows_written += table.num_rows
            self.content_buffer = []

    def close(self) -> None:
        """Finish the streamed files."""
        self._flush_contents()
        self.contents_writer.close()
        self.labels_writer.close()

    # ------------------------------------------------------------------ truth

    def _dates(self, days: np.ndarray, open_mask: np.ndarray | None = None) -> pa.Array:
        days = np.asarray(days, dtype=np.int64)
        mask = open_mask if open_mask is not None else np.zeros(days.size, dtype=bool)
        values = day_to_date(self.w.start, np.where(mask, 0, days))
        return pa.array(values, pa.date32(), mask=mask)

    def write_truth(
        self, sim: DaySimulator, summary: GenerationSummary, share: float, start: date
    ) -> None:
        """Write every truth file and ``summary.json``."""
        w = self.w
        t = self.truth_dir
        n_comm = w.n_communities
        cid = self.comm_ids
        topic_keys = np.array([tp.key for tp in TOPICS], dtype=object)
        size = np.bincount(w.mem_comm, minlength=n_comm)
        n_key = np.bincount(w.mem_comm[w.mem_key], minlength=n_comm)
        gid = self.group_ids
        pq.write_table(
            pa.table(
                {
                    "community_id": cid,
                    "topic_key": pa.array(topic_keys[w.comm_topic], pa.string()),
                    "language": pa.array(np.where(w.comm_lang == 0, "zh", "en"), pa.string()),
                    "size": pa.array(size, pa.int64()),
                    "born_day": self._dates(w.comm_born),
                    "end_day": self._dates(w.comm_end, w.comm_end >= w.n_days),
                    "lifecycle": pa.array(w.comm_lifecycle, pa.string()),
                    "parent_community_id": index_to_ids(cid, w.comm_parent),
                    "declared_group_id": index_to_ids(gid, w.comm_group),
                    "n_key_members": pa.array(n_key, pa.int64()),
                    "n_contents": pa.array(sim.comm_content, pa.int64()),
                }
            ),
            t / "communities.parquet",
            **_PARQUET,
        )
        churn = w.churn_day[w.mem_user]
        pq.write_table(
            pa.table(
                {
                    "community_id": index_to_ids(cid, w.mem_comm),
                    "user_id": index_to_ids(self.user_ids, w.mem_user),
                    "valid_from": self._dates(w.mem_from),
                    "valid_to": self._dates(w.mem_to, w.mem_to >= w.n_days),
                    "is_key_member": pa.array(w.mem_key),
                    "is_bridge": pa.array(w.mem_bridge),
                    "churned_on": self._dates(churn, churn >= w.n_days),
                }
            ),
            t / "community_memberships.parquet",
            **_PARQUET,
        )
        ev = w.comm_events
        pq.write_table(
            pa.table(
                {
                    "community_id": index_to_ids(cid, np.array([e[0] for e in ev], dtype=np.int64)),
                    "event_type": pa.array([e[1] for e in ev], pa.string()),
                    "day": self._dates(np.array([e[2] for e in ev], dtype=np.int64)),
                    "related_community_id": index_to_ids(
                        cid, np.array([e[3] for e in ev], dtype=np.int64)
                    ),
                }
            ),
            t / "community_events.parquet",
            **_PARQUET,
        )
        key_rows = np.flatnonzero(w.mem_key)
        pq.write_table(
            pa.table(
                {
                    "community_id": index_to_ids(cid, w.mem_comm[key_rows]),
                    "user_id": index_to_ids(self.user_ids, w.mem_user[key_rows]),
                    "activity_multiplier": pa.array(w.key_mult[w.mem_user[key_rows]]),
                    "target_weight": pa.array(w.target_weight[w.mem_user[key_rows]]),
                }
            ),
            t / "key_members.parquet",
            **_PARQUET,
        )
        b_user, b_first, b_comm = w.bridges[:, 0], w.bridges[:, 1], w.bridges[:, 2]
        pq.write_table(
            pa.table(
                {
                    "user_id": index_to_ids(self.user_ids, b_user),
                    "community_id": index_to_ids(cid, b_first),
                    "other_community_id": index_to_ids(cid, b_comm),
                }
            ),
            t / "bridges.parquet",
            **_PARQUET,
        )
        self._write_pain_points(sim, topic_keys)
        self._write_experiment_truth()
        self._write_spillover_truth(sim)
        rows = self._intervention_rows()
        pq.write_table(
            pa.table(
                {
                    "intervention_id": [r["id"] for r in rows],
                    "target_type": ["group"] * len(rows),
                    "target_id": [gid[r["target_id"]].as_py() for r in rows],
                    "intervention_type": [r["type"] for r in rows],
                    "community_id": [cid[r["community"]].as_py() for r in rows],
                    "related_group_id": pa.array(
                        [
                            None if r["related_group"] is None else gid[r["related_group"]].as_py()
                            for r in rows
                        ],
                        pa.string(),
                    ),
                    "related_community_id": pa.array(
                        [
                            None
                            if r["related_community"] is None
                            else cid[r["related_community"]].as_py()
                            for r in rows
                        ],
                        pa.string(),
                    ),
                    "planted_effect": pa.array([r["effect"] for r in rows], pa.float64()),
                    "effect_definition": [r["definition"] for r in rows],
                    # The form of the planted effect on the group's features at the
                    # start ("constant" for the default pilots) and those features.
                    "effect_form": [r["form"] for r in rows],
                    "members_at_start": pa.array([r["members_at_start"] for r in rows], pa.int64()),
                    "member_growth_4_weeks": pa.array(
                        [r["member_growth_4_weeks"] for r in rows], pa.float64()
                    ),
                    "key_member_share": pa.array(
                        [r["key_member_share"] for r in rows], pa.float64()
                    ),
                    "start_date": self._dates(np.array([r["start"] for r in rows], dtype=np.int64)),
                    "end_date": self._dates(
                        np.array([r["end"] or 0 for r in rows], dtype=np.int64),
                        np.array([r["end"] is None for r in rows]),
                    ),
                }
            ),
            t / "interventions.parquet",
            **_PARQUET,
        )
        growth = dict(w.growth)
        pq.write_table(
            pa.table(
                {
                    "inflection_date": pa.array([growth["inflection_date"]], pa.date32()),
                    **{k: [v] for k, v in growth.items() if k != "inflection_date"},
                }
            ),
            t / "growth.parquet",
            **_PARQUET,
        )
        pq.write_table(self.bad.to_table(), t / "bad_rows.parquet", **_PARQUET)
        user_churn = w.churn_day
        pq.write_table(
            pa.table(
                {
                    "user_id": self.user_ids,
                    "is_community_member": pa.array(w.is_member),
                    "is_key_member": pa.array(w.key_mult > 1),
                    "language": pa.array(np.where(w.lang == 0, "zh", "en"), pa.string()),
                    "activity": pa.array(w.activity),
                    "churned_on": self._dates(user_churn, user_churn >= w.n_days),
                    "user_experiment_variant": pa.array(
                        np.where(
                            w.user_assigned_us < 0,
                            None,
                            np.where(w.user_treat, "treatment", "control"),
                        ),
                        pa.string(),
                    ),
                }
            ),
            t / "users.parquet",
            **_PARQUET,
        )
        self._write_summary(sim, summary, share, start)

    def _write_pain_points(self, sim: DaySimulator, topic_keys: np.ndarray) -> None:
        w = self.w
        rows: dict[str, list] = {
            k: []
            for k in (
                "community_id",
                "topic_key",
                "language",
                "pain_point_key",
                "phrase_zh",
                "phrase_en",
                "rank",
                "planted_share",
                "n_messages",
                "n_community_messages",
            )
        }
        cid = self.comm_ids.to_pylist()
        for c in range(w.n_communities):
            topic = TOPICS[w.comm_topic[c]]
            for rank, (p, share) in enumerate(
                zip(w.comm_pain[c], w.comm_pain_p[c], strict=True), start=1
            ):
                pp = topic.pain_points[p]
                rows["community_id"].append(cid[c])
                rows["topic_key"].append(topic.key)
                rows["language"].append("zh" if w.comm_lang[c] == 0 else "en")
                rows["pain_point_key"].append(pp.key)
                rows["phrase_zh"].append(pp.phrase_zh)
                rows["phrase_en"].append(pp.phrase_en)
                rows["rank"].append(rank)
                rows["planted_share"].append(float(share))
                rows["n_messages"].append(int(sim.pain_count[c, p]))
                rows["n_community_messages"].append(int(sim.comm_content[c]))
        pq.write_table(pa.table(rows), self.truth_dir / "community_pain_points.parquet", **_PARQUET)

    def _write_spillover_truth(self, sim: DaySimulator) -> None:
        k = self.w.knobs
        table = pa.table(
            {
                "experiment_id": ["exp002"],
                "metric": ["posts_per_user"],
                "exposure": ["treated share of the community peers"],
                "planted_effect": [k.spillover_effect],
                "effect_definition": [
                    "a control user's posting rate is multiplied by 1 + planted_effect x the "
                    "treated share of the other experiment units among its community's "
                    "members that day (pooled over a bridge's two communities; 0 outside "
                    "communities), from the first full day after its assignment until the "
                    "experiment ends; the extra posts are made outside declared groups"
                ],
                "mean_treated_share": [
                    float(sim.spill_user_share.sum()) / max(int(sim.spill_user_days.sum()), 1)
                ],
                "count_control_session_days": [int(sim.spill_user_days.sum())],
            }
        )
        pq.write_table(table, self.truth_dir / "spillover.parquet", **_PARQUET)
        # Per control user: its planted exposure, the mean treated share over the session
        # days the spillover applied to it (in a community, inside the window).
        users = np.flatnonzero(sim.spill_user_days > 0)
        days = sim.spill_user_days[users]
        exposure = pa.table(
            {
                "experiment_id": pa.array(["exp002"] * users.size, pa.string()),
                "user_id": index_to_ids(self.user_ids, users),
                "count_session_days": pa.array(days, pa.int64()),
                "mean_planted_share": pa.array(sim.spill_user_share[users] / days, pa.float64()),
            }
        )
        pq.write_table(exposure, self.truth_dir / "spillover_exposure.parquet", **_PARQUET)

    def _write_experiment_truth(self) -> None:
        w, k = self.w, self.w.knobs
        units = w.user_assigned_us >= 0
        table = pa.table(
            {
                "experiment_id": ["exp001", "exp002"],
                "unit_type": ["group", "user"],
                "metric": ["posts_per_member_day", "purchase_conversion"],
                "planted_effect": [k.group_experiment_effect, k.user_experiment_effect],
                "effect_definition": [
                    "relative increase of posts made in a treated group, from the first full "
                    "day after its assignment",
                    "relative increase of the per-session-day purchase probability of treated "
                    "users, from the first full day after assignment until the experiment ends",
                ],
                "start_date": self._dates(np.array([w.group_exp_day, w.user_exp_day])),
                "end_date": self._dates(np.array([0, w.user_exp_end_day]), np.array([True, False])),
                "n_treatment": [int(w.group_treat.sum()), int(w.user_treat[units].sum())],
                "n_control": [int((~w.group_treat).sum()), int((~w.user_treat[units]).sum())],
            }
        )
        pq.write_table(table, self.truth_dir / "experiments.parquet", **_PARQUET)

    def _write_summary(
        self, sim: DaySimulator, summary: GenerationSummary, share: float, start: date
    ) -> None:
        w, k = self.w, self.w.knobs
        total = sim.user_inter_total
        active = total >= 5
        per_member = sim.user_inter_outside[active] / total[active]
        growth = {key: (v.isoformat() if isinstance(v, date) else v) for key, v in w.growth.items()}
        doc = {
            "generator": "orchestration.lib.demo.generator",
            "seed": self.seed,
            "parameters": {
                "n_users": w.n_users,
                "n_days": w.n_days,
                "start_date": start.isoformat(),
                "bad_row_share": share,
            },
            "rows": summary.rows,
            "bad_rows": summary.bad_rows,
            "bad_rows_by_table": summary.bad_rows_by_table,
            "counts": {
                "communities": w.n_communities,
                "community_memberships": int(len(w.mem_user)),
                "community_members": int(w.is_member.sum()),
                "community_member_share": float(w.is_member.mean()),
                "bridges": int(len(w.bridges)),
                "key_members": int(w.mem_key.sum()),
                "groups": w.n_groups,
                "community_groups": int((w.grp_comm >= 0).sum()),
                "valid_contents": self.valid_contents,
                "valid_events": summary.rows["events"] - summary.bad_rows_by_table.get("events", 0),
            },
            "planted": {
                "knobs": asdict(k),
                "mixing_target": k.mixing,
                "mixing_measured_pooled": sim.mix_outside / max(sim.mix_total, 1),
                "mixing_measured_member_mean": float(per_member.mean())
                if per_member.size
                else None,
                "retention_hazard_ratio_member_vs_nonmember": k.hazard_member / k.hazard_nonmember,
                "daily_hazard_member": k.hazard_member,
                "daily_hazard_nonmember": k.hazard_nonmember,
                "purchase_uplift_community_group_members": k.purchase_group_uplift,
                "group_experiment_effect": k.group_experiment_effect,
                "user_experiment_effect": k.user_experiment_effect,
                "pilot_effect": k.pilot_effect,
                "spillover_effect": k.spillover_effect,
                "cross_connection_share": k.cross_connection_share,
                "growth": growth,
                "photography_zh_community": self.comm_ids[w.photo_community].as_py(),
            },
            "notes": {
                "dates": "valid_from, born_day and day are the first day in effect; valid_to and "
                "end_day are exclusive (first day no longer in effect), null when still in "
                "effect at the end of the period.",
                "mixing": "share of a community member's interaction partners (comment, reaction, "
                "share, mention, invite_sent) who are not in the community they acted in.",
                "retention": "users churn with a constant daily hazard from sign-up (or the start "
                "date); community members have the lower hazard; key members a quarter of it.",
                "purchases": "per session-day purchase probability; members of a community-backed "
                "declared group get the uplift factor.",
            },
        }
        with open(self.truth_dir / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False, default=_json_default)
            fh.write("\n")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")
