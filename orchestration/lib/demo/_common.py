"""Constants and small vectorised helpers shared by the demo-data generator modules.

The generator keeps every entity as an integer index in numpy arrays while it
simulates and only turns indices into the contract's prefixed text ids
(``u0000001``, ``g00001``, ``e000000001``, ``c00000001``) when a table is written.
This module holds those conversions, the time helpers (microseconds since the Unix
epoch, UTC), the planted constants in :class:`Knobs` and the enum vocabularies of
the raw-data contract (``docs/raw_contract.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa

__all__ = [
    "CURRENCIES",
    "DAY_US",
    "EVENT_TYPES",
    "HOUR_WEIGHTS",
    "INTERACTION_KINDS",
    "LOCALES",
    "TS_TYPE",
    "Knobs",
    "PropertyTemplates",
    "day_to_date",
    "format_ids",
    "index_to_ids",
    "stochastic_round",
    "to_timestamp_array",
    "ts_from_date",
]

#: Microseconds in one day.
DAY_US = 86_400 * 1_000_000

#: Arrow type of every ``*_at`` column.
TS_TYPE = pa.timestamp("us", tz="UTC")

#: Event types of the contract, in code order (the code is the index).
EVENT_TYPES: tuple[str, ...] = (
    "session_start",
    "post",
    "comment",
    "reaction",
    "share",
    "mention",
    "invite_sent",
    "invite_accepted",
    "group_created",
    "group_joined",
    "group_left",
    "purchase",
)
(
    EV_SESSION,
    EV_POST,
    EV_COMMENT,
    EV_REACTION,
    EV_SHARE,
    EV_MENTION,
    EV_INVITE_SENT,
    EV_INVITE_ACCEPTED,
    EV_GROUP_CREATED,
    EV_GROUP_JOINED,
    EV_GROUP_LEFT,
    EV_PURCHASE,
) = range(len(EVENT_TYPES))

#: Interaction kinds drawn for a user's non-post actions, with their shares.
INTERACTION_KINDS: tuple[tuple[int, float], ...] = (
    (EV_COMMENT, 0.36),
    (EV_REACTION, 0.44),
    (EV_SHARE, 0.06),
    (EV_MENTION, 0.10),
    (EV_INVITE_SENT, 0.04),
)

#: (locale, country, weight) per language; index 0 = zh, 1 = en.
LOCALES: tuple[tuple[tuple[str, str, float], ...], ...] = (
    (
        ("zh-CN", "CN", 0.55),
        ("zh-TW", "TW", 0.25),
        ("zh-HK", "HK", 0.08),
        ("zh-SG", "SG", 0.07),
        ("zh-CN", "MY", 0.05),
    ),
    (
        ("en-US", "US", 0.45),
        ("en-GB", "GB", 0.20),
        ("en-SG", "SG", 0.10),
        ("en-AU", "AU", 0.10),
        ("en-CA", "CA", 0.08),
        ("en-US", "CN", 0.04),
        ("en-GB", "HK", 0.03),
    ),
)

#: Per country: (currency, units per USD, UTC offset in hours used for the day rhythm).
CURRENCIES: dict[str, tuple[str, float, int]] = {
    "CN": ("CNY", 7.1, 8),
    "TW": ("TWD", 31.0, 8),
    "HK": ("HKD", 7.8, 8),
    "SG": ("SGD", 1.34, 8),
    "MY": ("MYR", 4.5, 8),
    "US": ("USD", 1.0, -6),
    "GB": ("GBP", 0.79, 0),
    "AU": ("AUD", 1.5, 10),
    "CA": ("CAD", 1.36, -5),
}

#: Relative activity per local hour of day (0-23).
HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 7, 8, 7, 6, 6, 7, 8, 10, 12, 13, 12, 9, 5], dtype=float
)


@dataclass(frozen=True)
class Knobs:
    """The planted constants of the demo world (what the ground truth records).

    Attributes are plain numbers; see the generator module docstring for their
    meaning. They are fixed (not user options) so that every data set of a given
    size tells the same story and the truth files stay comparable.
    """

    community_share: float = 0.70
    bridge_share: float = 0.04
    size_min: int = 8
    size_max: int = 300
    size_alpha: float = 2.0
    mixing: float = 0.25
    key_activity: tuple[float, float] = (5.0, 10.0)
    key_target_weight: tuple[float, float] = (5.0, 10.0)
    pre_start_share: float = 0.40
    inflection_frac: float = 0.55
    growth_end_factor: float = 3.0
    hazard_member: float = 0.003
    hazard_nonmember: float = 0.010
    hazard_group_only: float = 0.008
    hazard_key_factor: float = 0.25
    p_session_member: float = 0.50
    p_session_background: float = 0.32
    posts_per_session_day: float = 0.14
    interactions_per_session_day_member: float = 0.85
    interactions_per_session_day_background: float = 0.35
    purchase_base: float = 0.010
    purchase_group_uplift: float = 1.6
    user_experiment_effect: float = 0.30
    group_experiment_effect: float = 0.20
    pilot_effect: float = 0.40
    spillover_effect: float = 1.0
    cross_connection_share: float = 0.15
    declared_group_share: float = 0.40
    content_language_null_share: float = 0.05
    background_pain_share: float = 0.03
    enum_variant_share: float = 0.005
    edge_timestamp_share: float = 0.001


def day_to_date(start: date, day: int | np.ndarray) -> date | np.ndarray:
    """Return the calendar date(s) ``day`` days after ``start``.

    Parameters
    ----------
    start : date
        Day 0.
    day : int or ndarray of int
        Offsets in days.

    Returns
    -------
    date or ndarray of datetime64[D]
    """
    if isinstance(day, np.ndarray):
        return np.datetime64(start, "D") + day.astype("timedelta64[D]")
    return date.fromordinal(start.toordinal() + int(day))


def ts_from_date(value: date) -> int:
    """Return midnight UTC of ``value`` as microseconds since the epoch."""
    moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000


def to_timestamp_array(us: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """Wrap int64 microseconds as an Arrow ``timestamp('us', tz='UTC')`` array."""
    return pa.array(np.asarray(us, dtype=np.int64), type=TS_TYPE, mask=null_mask)


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Format non-negative integers as fixed-width prefixed ids, vectorised.

    Parameters
    ----------
    prefix : str
        ASCII prefix, e.g. ``"e"``.
    numbers : ndarray of int
        Values to format; each must fit in ``width`` digits.
    width : int
        Number of zero-padded digits.

    Returns
    -------
    pyarrow.Array
        ``string`` array such as ``e000000001``.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(f"id number out of range for width {width}")
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    buf = np.empty((numbers.size, head.size + width), dtype=np.uint8)
    buf[:, : head.size] = head
    rest = numbers.copy()
    for pos in range(head.size + width - 1, head.size - 1, -1):
        buf[:, pos] = 48 + rest % 10
        rest //= 10
    raw = buf.reshape(-1).view(f"S{head.size + width}") if numbers.size else np.array([], "S1")
    return pa.array(raw, type=pa.binary()).cast(pa.string())


def index_to_ids(dictionary: pa.Array, index: np.ndarray) -> pa.Array:
    """Look up ids by integer index; negative indices become nulls."""
    index = np.asarray(index, dtype=np.int64)
    mask = index < 0
    return dictionary.take(pa.array(np.where(mask, 0, index), mask=mask))


def stochastic_round(value: float, rng: np.random.Generator) -> int:
    """Round ``value`` up with probability equal to its fractional part."""
    base = int(np.floor(value))
    return base + int(rng.random() < value - base)


class PropertyTemplates:
    """Pre-rendered ``properties`` JSON strings, picked by index per event.

    Rendering a JSON object per row would dominate the run time at ten million
    events; a few hundred distinct objects rendered once and taken by index give
    realistic variety at numpy speed.
    """

    PLATFORMS = ("ios", "android", "web")
    VERSIONS = ("5.1.0", "5.2.0", "5.2.1", "5.3.0")
    REACTIONS = ("like", "love", "haha", "wow", "sad")
    SHARE_CHANNELS = ("link", "wechat", "whatsapp", "x")
    SKUS = ("pro_monthly", "pro_yearly", "sticker_pack", "storage_plus")

    def __init__(self) -> None:
        texts: list[str] = []
        self.offset: dict[str, int] = {}

        def add(kind: str, objects: list[dict]) -> None:
            self.offset[kind] = len(texts)
            texts.extend(json.dumps(o, ensure_ascii=False, sort_keys=True) for o in objects)

        add(
            "session",
            [{"platform": p, "app_version": v} for p in self.PLATFORMS for v in self.VERSIONS],
        )
        add("client", [{"client": p} for p in self.PLATFORMS])
        add("reaction", [{"kind": k} for k in self.REACTIONS])
        add("share", [{"channel": c} for c in self.SHARE_CHANNELS])
        add("invite", [{"channel": c} for c in ("link", "qr_code", "contacts")])
        add("group", [{"source": s} for s in ("app", "web", "invite_link")])
        add("purchase", [{"sku": s, "store": p} for s in self.SKUS for p in self.PLATFORMS])
        add("empty", [{}])
        self.array = pa.array(texts, type=pa.string())
