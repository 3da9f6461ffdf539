"""The static part of the demo world: who exists, who belongs where, and what is planted.

:func:`build_world` draws everything that does not depend on day-by-day activity:
users and their sign-up curve (with the planted inflection), the hidden communities
(sizes, topics, languages, pain points, key members, bridges and lifecycles, turned
into membership intervals), declared groups and their memberships, the experiments,
the interventions and the scheduled events that follow from them (group created /
joined / left, invites). The result is a :class:`World` of integer-indexed numpy
arrays that :mod:`._activity` simulates and :mod:`.generator` writes out.

Day numbers are offsets from the start date (day 0); users who signed up before the
start have negative sign-up days. Interval ends (``*_to``, ``end``) are exclusive and
equal ``n_days`` when open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ._common import (
    CURRENCIES,
    DAY_US,
    EV_GROUP_CREATED,
    EV_GROUP_JOINED,
    EV_GROUP_LEFT,
    EV_INVITE_ACCEPTED,
    EV_INVITE_SENT,
    LOCALES,
    Knobs,
    ts_from_date,
)

__all__ = ["World", "build_world"]

_HOUR = 3_600_000_000
_MINUTE = 60_000_000
ROLE_OWNER, ROLE_ADMIN, ROLE_MEMBER = 0, 1, 2
_OPEN = np.iinfo(np.int64).max // 4

LOOSE_GROUP_NAMES = (
    ("general", "新人报到", "Newcomers"),
    ("announcements", "官方公告", "Official Announcements"),
    ("marketplace", "二手市集", "Marketplace"),
    ("events", "同城活动", "Local Events"),
    ("general", "闲聊广场", "Town Square"),
    ("help", "使用帮助", "Help Desk"),
)
GROUP_SUFFIXES = (
    ("同好会", "Circle"),
    ("交流群", "Club"),
    ("小分队", "Crew"),
    ("研习社", "Society"),
    ("俱乐部", "Collective"),
)


@dataclass
class World:
    """Everything drawn before the day-by-day simulation.

    Attributes hold numpy arrays indexed by user, community, group or membership
    row; the grouping comments below name the index of each block.
    """

    n_users: int
    n_days: int
    start: date
    start_us: int
    end_us: int
    knobs: Knobs
    # users (index = user number - 1, sorted by sign-up time)
    signup_us: np.ndarray = field(repr=False)
    signup_day: np.ndarray = field(repr=False)
    country: np.ndarray = field(repr=False)
    locale: np.ndarray = field(repr=False)
    channel: np.ndarray = field(repr=False)
    lang: np.ndarray = field(repr=False)  # 0 zh, 1 en
    utc_offset: np.ndarray = field(repr=False)
    churn_day: np.ndarray = field(repr=False)
    activity: np.ndarray = field(repr=False)
    key_mult: np.ndarray = field(repr=False)
    target_weight: np.ndarray = field(repr=False)
    bg_topic: np.ndarray = field(repr=False)
    platform: np.ndarray = field(repr=False)
    inviter: np.ndarray = field(repr=False)
    is_member: np.ndarray = field(repr=False)
    # communities
    comm_topic: np.ndarray = field(repr=False)
    comm_lang: np.ndarray = field(repr=False)
    comm_born: np.ndarray = field(repr=False)
    comm_end: np.ndarray = field(repr=False)
    comm_lifecycle: np.ndarray = field(repr=False)
    comm_parent: np.ndarray = field(repr=False)
    comm_pain: list[np.ndarray] = field(repr=False)
    comm_pain_p: list[np.ndarray] = field(repr=False)
    comm_group: np.ndarray = field(repr=False)
    comm_events: list[tuple[int, str, int, int]] = field(repr=False)
    photo_community: int = -1
    # memberships (truth intervals, also drive the simulation)
    mem_comm: np.ndarray = field(default=None, repr=False)
    mem_user: np.ndarray = field(default=None, repr=False)
    mem_from: np.ndarray = field(default=None, repr=False)
    mem_to: np.ndarray = field(default=None, repr=False)
    mem_key: np.ndarray = field(default=None, repr=False)
    mem_bridge: np.ndarray = field(default=None, repr=False)
    bridges: np.ndarray = field(default=None, repr=False)  # (n, 3): user, first, second community
    # groups
    grp_name: list[str] = field(default_factory=list, repr=False)
    grp_category: list[str] = field(default_factory=list, repr=False)
    grp_owner: np.ndarray = field(default=None, repr=False)
    grp_created_us: np.ndarray = field(default=None, repr=False)
    grp_private: np.ndarray = field(default=None, repr=False)
    grp_comm: np.ndarray = field(default=None, repr=False)
    gm_group: np.ndarray = field(default=None, repr=False)
    gm_user: np.ndarray = field(default=None, repr=False)
    gm_join_us: np.ndarray = field(default=None, repr=False)
    gm_left_us: np.ndarray = field(default=None, repr=False)  # -1 = still a member
    gm_role: np.ndarray = field(default=None, repr=False)
    # experiments and interventions
    group_treat: np.ndarray = field(default=None, repr=False)
    group_assigned_us: np.ndarray = field(default=None, repr=False)
    group_exp_day: int = 0
    user_treat: np.ndarray = field(default=None, repr=False)
    user_assigned_us: np.ndarray = field(default=None, repr=False)  # -1 = not a unit
    user_exp_day: int = 0
    user_exp_end_day: int = 0
    pilot_group: np.ndarray = field(default=None, repr=False)
    pilot_start_day: np.ndarray = field(default=None, repr=False)
    pilot_end_day: np.ndarray = field(default=None, repr=False)
    pilot_type: list[str] = field(default_factory=list, repr=False)
    pilot_effect: np.ndarray = field(default=None, repr=False)  # planted relative effect
    pilot_features: dict = field(default_factory=dict, repr=False)  # name -> array per pilot
    pilot_form: list[str] = field(default_factory=list, repr=False)
    cross: tuple[int, int, int] = (-1, -1, -1)  # community a, community b, start day
    cross_groups: tuple[int, int] = (-1, -1)
    # scheduled events (sorted by time)
    sch_us: np.ndarray = field(default=None, repr=False)
    sch_user: np.ndarray = field(default=None, repr=False)
    sch_type: np.ndarray = field(default=None, repr=False)
    sch_group: np.ndarray = field(default=None, repr=False)
    sch_target: np.ndarray = field(default=None, repr=False)
    growth: dict = field(default_factory=dict, repr=False)

    @property
    def n_communities(self) -> int:
        """Number of communities, split-offs included."""
        return len(self.comm_topic)

    @property
    def n_groups(self) -> int:
        """Number of declared groups."""
        return len(self.grp_name)

    @property
    def churn_us(self) -> np.ndarray:
        """First instant each user is gone (start of the churn day)."""
        return self.start_us + np.minimum(self.churn_day, self.n_days + 1) * DAY_US


def build_world(
    n_users: int,
    n_days: int,
    seed: int,
    start: date,
    topics: tuple,
    knobs: Knobs,
    staggered_interventions: int = 0,
) -> World:
    """Draw the static demo world.

    Parameters
    ----------
    n_users, n_days : int
        Size of the data set.
    seed : int
        Root seed; every step draws from its own child generator.
    start : date
        Day 0.
    topics : tuple of Topic
        ``text.TOPICS``; communities pick their topic and pain points from it.
    knobs : Knobs
        Planted constants.
    staggered_interventions : int, default 0
        0: the 5-10 pilots with the constant ``knobs.pilot_effect``. N > 0: N staggered
        interventions with heterogeneous planted effects instead
        (:func:`_staggered_interventions`), drawn from their own child generator so
        the rest of the world is the same.

    Returns
    -------
    World
    """
    rngs = [np.random.default_rng([seed, 7, i]) for i in range(12)]
    start_us = ts_from_date(start)
    end_us = start_us + n_days * DAY_US
    signup_us, growth = _draw_signups(rngs[0], n_users, n_days, start_us, knobs)
    signup_day = np.floor_divide(signup_us - start_us, DAY_US)
    growth["inflection_date"] = date.fromordinal(start.toordinal() + growth["inflection_day"])

    comm = _draw_communities(rngs[1], n_users, n_days, topics, knobs)
    slots = _allocate_members(rngs[2], comm, signup_day, n_users, n_days, knobs)
    mem = _membership_rows(rngs[3], comm, slots, signup_day, n_days)

    world = World(
        n_users=n_users,
        n_days=n_days,
        start=start,
        start_us=start_us,
        end_us=end_us,
        knobs=knobs,
        signup_us=signup_us,
        signup_day=signup_day,
        country=None,
        locale=None,
        channel=None,
        lang=None,
        utc_offset=None,
        churn_day=None,
        activity=None,
        key_mult=None,
        target_weight=None,
        bg_topic=None,
        platform=None,
        inviter=None,
        is_member=None,
        comm_topic=comm["topic"],
        comm_lang=comm["lang"],
        comm_born=comm["born"],
        comm_end=comm["end"],
        comm_lifecycle=comm["lifecycle"],
        comm_parent=comm["parent"],
        comm_pain=comm["pain"],
        comm_pain_p=comm["pain_p"],
        comm_group=np.full(len(comm["topic"]), -1, dtype=np.int64),
        comm_events=comm["events"],
        photo_community=comm["photo"],
        **mem,
    )
    world.growth = growth
    _user_attributes(rngs[4], world, slots, len(topics), knobs)
    _channels_and_inviters(rngs[5], world, slots, growth["inflection_day"])
    _churn(rngs[6], world, knobs)
    _groups(rngs[7], world, slots, topics, knobs)
    _experiments(rngs[8], world)
    _interventions(rngs[9], world)
    if staggered_interventions > 0:
        _staggered_interventions(
            np.random.default_rng([seed, 7, 12]), world, staggered_interventions
        )
    _schedule(rngs[10], world)
    return world


# --------------------------------------------------------------------------- users


def _draw_signups(
    rng: np.random.Generator, n: int, n_days: int, start_us: int, knobs: Knobs
) -> tuple[np.ndarray, dict]:
    """Sign-up instants, sorted, with a flat-then-accelerating daily rate."""
    n_pre = round(knobs.pre_start_share * n)
    n_in = n - n_pre
    inflection = max(1, round(knobs.inflection_frac * n_days))
    days = np.arange(n_days)
    after = max(1, n_days - 1 - inflection)
    growth_rate = np.log(knobs.growth_end_factor) / after
    shape = np.where(days < inflection, 1.0, np.exp(growth_rate * (days - inflection)))
    weekly = 1.0 + 0.08 * ((days + 3) % 7 >= 5)
    weights = shape * weekly
    counts = rng.multinomial(n_in, weights / weights.sum())
    rate_before = n_in / weights.sum() * weekly.mean()
    in_us = np.repeat(start_us + days * DAY_US, counts) + rng.integers(0, DAY_US, n_in)
    pre_days = max(14, round(n_pre / max(rate_before, 1e-9)))
    pre_us = start_us - rng.integers(1, pre_days * DAY_US, n_pre)
    signup_us = np.sort(np.concatenate([pre_us, in_us]))
    growth = {
        "inflection_day": int(inflection),
        "planted_rate_before_per_day": float(rate_before),
        "planted_rate_at_end_per_day": float(rate_before * knobs.growth_end_factor),
        "planted_daily_growth_after": float(growth_rate),
        "observed_mean_before_per_day": float(counts[:inflection].mean()),
        "observed_mean_after_per_day": float(counts[inflection:].mean()),
        "users_before_start": int(n_pre),
        "pre_start_span_days": int(pre_days),
    }
    return signup_us, growth


# --------------------------------------------------------------------------- communities


def _sample_sizes(rng: np.random.Generator, total: int, knobs: Knobs) -> np.ndarray:
    """Truncated power-law sizes on [size_min, size_max] adding up to ``total``.

    The last community is trimmed so the sizes sum to ``total`` exactly (or dropped
    when the remainder is below ``size_min``), which keeps the member share on target
    at small user counts.
    """
    lo, hi, a = knobs.size_min, knobs.size_max, knobs.size_alpha
    out: list[int] = []
    acc = 0
    while acc < total:
        u = rng.random(max(64, total // 15))
        x = (lo ** (1 - a) + u * (hi ** (1 - a) - lo ** (1 - a))) ** (1 / (1 - a))
        for size in np.clip(np.floor(x).astype(np.int64), lo, hi).tolist():
            size = min(size, total - acc)
            if size < lo:
                acc = total
                break
            out.append(size)
            acc += size
            if acc >= total:
                break
    return np.array(out, dtype=np.int64)


def _draw_communities(
    rng: np.random.Generator, n_users: int, n_days: int, topics: tuple, knobs: Knobs
) -> dict:
    """Sizes, topics, languages, pain points and lifecycles of the communities."""
    n_members = round(knobs.community_share * n_users)
    n_bridges = round(knobs.bridge_share * n_members)
    sizes = _sample_sizes(rng, n_members + n_bridges, knobs)
    k = len(sizes)
    topic = rng.integers(0, len(topics), k)
    lang = (rng.random(k) < 0.5).astype(np.int8)
    photo_topic = next(i for i, t in enumerate(topics) if t.key == "photography")
    photo = int(np.argmax(sizes))
    topic[photo] = photo_topic
    lang[photo] = 0

    lifecycle = np.full(k, "stable", dtype=object)
    born = np.zeros(k, dtype=np.int64)
    end = np.full(k, n_days, dtype=np.int64)
    events: list[tuple[int, str, int, int]] = []
    free = [int(i) for i in rng.permutation(k) if i != photo]

    def take(count: int, ok) -> list[int]:
        chosen = [i for i in free if ok(i)][:count]
        for i in chosen:
            free.remove(i)
        return chosen

    def day(lo: float, hi: float) -> int:
        return int(rng.integers(max(1, round(lo * n_days)), max(2, round(hi * n_days))))

    splits = take(max(1, round(0.06 * k)), lambda i: sizes[i] >= 40)
    merged = take(max(1, round(0.04 * k)), lambda i: sizes[i] <= 150)
    merge_pairs = []
    for b in merged:
        targets = take(1, lambda i, b=b: sizes[i] + sizes[b] <= knobs.size_max)
        if not targets:
            free.append(b)
            continue
        merge_pairs.append((b, targets[0]))
    for i in take(max(1, round(0.06 * k)), lambda i: True):
        lifecycle[i] = "dissolved"
        end[i] = day(0.40, 0.80)
        events.append((i, "dissolved", int(end[i]), -1))
    for i in take(max(1, round(0.10 * k)), lambda i: True):
        lifecycle[i] = "born"
        born[i] = day(0.15, 0.55)
        events.append((i, "born", int(born[i]), -1))
    for i in take(max(1, round(0.12 * k)), lambda i: True):
        lifecycle[i] = "growing"
        events.append((i, "grew", max(1, round(0.05 * n_days)), -1))
    for b, a in merge_pairs:
        lifecycle[b] = "merged"
        lifecycle[a] = "merge_target"
        end[b] = day(0.45, 0.75)
        events.append((b, "merged", int(end[b]), a))
        events.append((a, "merged", int(end[b]), b))

    parent = np.full(k, -1, dtype=np.int64)
    split_day = {}
    child_of = {}
    extra_topic, extra_lang, extra_born = [], [], []
    for j, p in enumerate(splits):
        lifecycle[p] = "split"
        s = day(0.35, 0.70)
        split_day[p] = s
        child = k + j
        child_of[p] = child
        extra_topic.append(topic[p])
        extra_lang.append(lang[p])
        extra_born.append(s)
        events.append((p, "split", s, child))
        events.append((child, "born", s, p))

    n_child = len(splits)
    topic = np.concatenate([topic, np.array(extra_topic, dtype=topic.dtype)])
    lang = np.concatenate([lang, np.array(extra_lang, dtype=np.int8)])
    born = np.concatenate([born, np.array(extra_born, dtype=np.int64)])
    end = np.concatenate([end, np.full(n_child, n_days, dtype=np.int64)])
    lifecycle = np.concatenate([lifecycle, np.full(n_child, "split_off", dtype=object)])
    parent = np.concatenate([parent, np.array(splits, dtype=np.int64)])

    pain, pain_p = [], []
    for c in range(len(topic)):
        n_pp = len(topics[topic[c]].pain_points)
        share = rng.uniform(0.08, 0.15)
        if c == photo:
            keys = [p.key for p in topics[topic[c]].pain_points]
            night = keys.index("night_noise") if "night_noise" in keys else 0
            others = [i for i in range(n_pp) if i != night]
            chosen = np.array([night, int(rng.choice(others))] if others else [night])
            share = 0.15
        else:
            chosen = rng.choice(n_pp, size=min(n_pp, int(rng.integers(1, 3))), replace=False)
        split = np.array([1.0]) if len(chosen) == 1 else np.array([0.65, 0.35])
        pain.append(chosen.astype(np.int64))
        pain_p.append(share * split)
    return {
        "sizes": sizes,
        "n_original": k,
        "topic": topic.astype(np.int64),
        "lang": lang,
        "born": born,
        "end": end,
        "lifecycle": lifecycle,
        "parent": parent,
        "pain": pain,
        "pain_p": pain_p,
        "events": sorted(events, key=lambda e: (e[2], e[0], e[1])),
        "photo": photo,
        "split_day": split_day,
        "child_of": child_of,
        "merge_into": {b: a for b, a in merge_pairs},
        "n_members": n_members,
        "n_bridges": n_bridges,
    }


def _allocate_members(
    rng: np.random.Generator,
    comm: dict,
    signup_day: np.ndarray,
    n_users: int,
    n_days: int,
    knobs: Knobs,
) -> dict:
    """Fill the community slots with users: primaries, bridges and key members."""
    sizes = comm["sizes"]
    k = comm["n_original"]
    slot_comm = np.repeat(np.arange(k), sizes)
    n_slots = len(slot_comm)
    ending = comm["end"][:k] < n_days
    # Bridge slots only in open-ended communities, so a bridge never needs a late joiner.
    open_slots = np.flatnonzero(~ending[slot_comm])
    n_bridges = min(comm["n_bridges"], len(open_slots) // 4)
    bridge_slots = rng.choice(open_slots, size=n_bridges, replace=False)
    is_primary = np.ones(n_slots, dtype=bool)
    is_primary[bridge_slots] = False
    prim_slots = np.flatnonzero(is_primary)
    prim_comm = slot_comm[prim_slots]
    n_prim = min(len(prim_slots), n_users)
    prim_slots, prim_comm = prim_slots[:n_prim], prim_comm[:n_prim]
    prim_user = rng.choice(n_users, size=n_prim, replace=False)

    # Members of communities that end must have signed up a week before the end.
    limit = np.where(ending[prim_comm], comm["end"][prim_comm] - 7, _OPEN)
    viol = np.flatnonzero(signup_day[prim_user] >= limit)
    if viol.size:
        cand = np.flatnonzero(limit == _OPEN)
        cand = cand[np.argsort(signup_day[prim_user[cand]], kind="stable")]
        cand_days = signup_day[prim_user[cand]]
        used = np.zeros(len(prim_user), dtype=bool)
        for i in viol:
            top = int(np.searchsorted(cand_days, limit[i]))
            for _ in range(30):
                if top == 0:
                    break
                j = cand[int(rng.integers(0, top))]
                if not used[j]:
                    prim_user[i], prim_user[j] = prim_user[j], prim_user[i]
                    used[i] = used[j] = True
                    break

    primary_of = np.full(n_users, -1, dtype=np.int64)
    primary_of[prim_user] = prim_comm

    # Key members: 1-3 per community among its earliest sign-ups.
    key_of = {}
    order = np.lexsort((signup_day[prim_user], prim_comm))
    bounds = np.searchsorted(prim_comm[order], np.arange(k + 1))
    is_key = np.zeros(n_users, dtype=bool)
    for c in range(k):
        members = prim_user[order[bounds[c] : bounds[c + 1]]]
        if members.size == 0:
            key_of[c] = np.array([], dtype=np.int64)
            continue
        n_key = 1 + int(sizes[c] >= 40) + int(sizes[c] >= 120)
        pool = members[: max(n_key, len(members) // 2)]
        keys = rng.choice(pool, size=min(n_key, len(pool)), replace=False)
        key_of[c] = np.sort(keys)
        is_key[keys] = True

    # Bridges: a second, open-ended community for some non-key primaries.
    merge_into = comm["merge_into"]
    bridge_user = np.full(n_bridges, -1, dtype=np.int64)
    taken = is_key.copy()
    for i, slot in enumerate(bridge_slots):
        c = slot_comm[slot]
        for _ in range(40):
            u = prim_user[int(rng.integers(0, n_prim))]
            pc = primary_of[u]
            if taken[u] or pc == c or merge_into.get(int(pc)) == c:
                continue
            bridge_user[i] = u
            taken[u] = True
            break
    ok = bridge_user >= 0
    return {
        "prim_user": prim_user,
        "prim_comm": prim_comm,
        "bridge_user": bridge_user[ok],
        "bridge_comm": slot_comm[bridge_slots][ok],
        "primary_of": primary_of,
        "key_of": key_of,
        "is_key": is_key,
        "comm": comm,
    }


def _membership_rows(
    rng: np.random.Generator, comm: dict, slots: dict, signup_day: np.ndarray, n_days: int
) -> dict:
    """Turn slots and lifecycles into membership intervals [from, to)."""
    users = np.concatenate([slots["prim_user"], slots["bridge_user"]])
    comms = np.concatenate([slots["prim_comm"], slots["bridge_comm"]])
    bridge_users = np.zeros(len(signup_day), dtype=bool)
    bridge_users[slots["bridge_user"]] = True
    key = slots["is_key"][users] & np.concatenate(
        [np.ones(len(slots["prim_user"]), bool), np.zeros(len(slots["bridge_user"]), bool)]
    )
    life = comm["lifecycle"]
    start = np.maximum(comm["born"][comms], np.maximum(signup_day[users], 0))
    growing = life[comms] == "growing"
    late = growing & (rng.random(len(users)) < 0.65) & ~key
    join = rng.integers(max(1, round(0.05 * n_days)), max(2, round(0.9 * n_days)), len(users))
    start = np.where(late, np.maximum(start, join), start)
    end = comm["end"][comms].copy()

    out_c, out_u, out_f, out_t, out_k = [comms], [users], [start], [end], [key]
    # Splits: about 40-50% of the parent (with one of its key members) moves to the child.
    for p, s in comm["split_day"].items():
        idx = np.flatnonzero(comms == p)
        keys_here = idx[key[idx]]
        non_keys = idx[~key[idx]]
        share = rng.uniform(0.40, 0.50)
        n_move = max(8, round(share * len(idx)) - 1)
        moved = np.concatenate(
            [keys_here[-1:], rng.choice(non_keys, size=min(n_move, len(non_keys)), replace=False)]
        )
        child = comm["child_of"][p]
        out_c.append(np.full(len(moved), child))
        out_u.append(users[moved])
        out_f.append(np.maximum(start[moved], s))
        out_t.append(np.full(len(moved), n_days))
        out_k.append(key[moved])
        end[moved] = s
    # Merges: members of b continue in a from the merge day.
    for b, a in comm["merge_into"].items():
        idx = np.flatnonzero(comms == b)
        m = comm["end"][b]
        out_c.append(np.full(len(idx), a))
        out_u.append(users[idx])
        out_f.append(np.maximum(start[idx], m))
        out_t.append(np.full(len(idx), n_days))
        out_k.append(key[idx])
    out_t[0] = end
    c = np.concatenate(out_c).astype(np.int64)
    u = np.concatenate(out_u).astype(np.int64)
    f = np.concatenate(out_f).astype(np.int64)
    t = np.concatenate(out_t).astype(np.int64)
    k = np.concatenate(out_k)
    keep = f < t
    order = np.lexsort((u[keep], c[keep]))
    c, u, f, t, k = (x[keep][order] for x in (c, u, f, t, k))
    return {
        "mem_comm": c,
        "mem_user": u,
        "mem_from": f,
        "mem_to": t,
        "mem_key": k,
        "mem_bridge": bridge_users[u],
        "bridges": np.stack(
            [slots["bridge_user"], slots["primary_of"][slots["bridge_user"]], slots["bridge_comm"]],
            axis=1,
        ),
    }


def _user_attributes(
    rng: np.random.Generator, world: World, slots: dict, n_topics: int, knobs: Knobs
) -> None:
    n = world.n_users
    primary = slots["primary_of"]
    member = primary >= 0
    lang = (rng.random(n) < 0.5).astype(np.int8)
    follow = member & (rng.random(n) < 0.92)
    lang[follow] = world.comm_lang[primary[follow]]
    flip = member & ~follow
    lang[flip] = 1 - world.comm_lang[primary[flip]]
    locale = np.empty(n, dtype=object)
    country = np.empty(n, dtype=object)
    for code, options in enumerate(LOCALES):
        idx = np.flatnonzero(lang == code)
        weights = np.array([w for _, _, w in options])
        pick = rng.choice(len(options), size=idx.size, p=weights / weights.sum())
        locale[idx] = np.array([o[0] for o in options], dtype=object)[pick]
        country[idx] = np.array([o[1] for o in options], dtype=object)[pick]
    world.lang = lang
    world.locale = locale
    world.country = country
    world.utc_offset = np.array([CURRENCIES[c][2] for c in country], dtype=np.int64)
    world.activity = rng.lognormal(-0.18, 0.6, n)
    key = slots["is_key"]
    world.key_mult = np.where(key, rng.uniform(*knobs.key_activity, n), 1.0)
    world.target_weight = np.where(
        key, rng.uniform(*knobs.key_target_weight, n), rng.lognormal(-0.125, 0.5, n)
    )
    world.bg_topic = rng.integers(0, n_topics, n)
    world.platform = rng.choice(3, size=n, p=[0.45, 0.45, 0.10])
    world.is_member = np.zeros(n, dtype=bool)
    world.is_member[world.mem_user] = True


def _channels_and_inviters(
    rng: np.random.Generator, world: World, slots: dict, inflection: int
) -> None:
    """Acquisition channels; invitees get an earlier-signed-up inviter."""
    n = world.n_users
    names = np.array(["organic", "invite", "ads", "social"], dtype=object)
    day = world.signup_day
    probs = np.where(
        (day < 0)[:, None],
        np.array([0.55, 0.0, 0.30, 0.15]),
        np.where(
            (day < inflection)[:, None],
            np.array([0.45, 0.15, 0.25, 0.15]),
            np.array([0.35, 0.25, 0.20, 0.20]),
        ),
    )
    pick = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    channel = names[np.minimum(pick, 3)]
    inviter = np.full(n, -1, dtype=np.int64)
    invitees = np.flatnonzero(channel == "invite")
    primary = slots["primary_of"]
    # Members are sorted by (community, user); user index order is sign-up order.
    mem_users = np.flatnonzero(primary >= 0)
    order = np.lexsort((mem_users, primary[mem_users]))
    sorted_users = mem_users[order]
    sorted_comm = primary[sorted_users]
    pos_of = np.full(n, -1, dtype=np.int64)
    pos_of[sorted_users] = np.arange(len(sorted_users))
    comm_start = np.searchsorted(sorted_comm, np.arange(world.n_communities))
    for u in invitees:
        c = primary[u]
        if c >= 0:
            rank = pos_of[u] - comm_start[c]
            if rank > 0:
                inviter[u] = sorted_users[comm_start[c] + int(rng.integers(0, rank))]
                continue
        if u > 0:
            inviter[u] = int(rng.integers(0, u))
        else:
            channel[u] = "organic"
    world.channel = channel
    world.inviter = inviter


def _churn(rng: np.random.Generator, world: World, knobs: Knobs) -> None:
    """Churn day per user: members' hazard is a fraction of non-members'."""
    n = world.n_users
    hazard = np.where(world.is_member, knobs.hazard_member, knobs.hazard_nonmember)
    hazard = np.where(world.key_mult > 1, hazard * knobs.hazard_key_factor, hazard)
    first = np.maximum(world.signup_day, 0)
    churn = first + rng.geometric(hazard, n)
    # Inviters stay long enough to send the invite.
    invitees = np.flatnonzero(world.inviter >= 0)
    np.maximum.at(churn, world.inviter[invitees], world.signup_day[invitees] + 1)
    world.churn_day = np.where(churn >= world.n_days, _OPEN, churn).astype(np.int64)


# --------------------------------------------------------------------------- groups


def _groups(
    rng: np.random.Generator, world: World, slots: dict, topics: tuple, knobs: Knobs
) -> None:
    """Declared groups for ~40% of communities plus loose large groups."""
    start_us, end_us = world.start_us, world.end_us
    churn_us = world.churn_us
    signup = world.signup_us
    comm = slots["comm"]
    k_orig = comm["n_original"]
    n_comm = world.n_communities
    key_members = {c: slots["key_of"].get(c, np.array([], np.int64)) for c in range(k_orig)}
    for child in comm["child_of"].values():
        rows = (world.mem_comm == child) & world.mem_key
        key_members[child] = np.unique(world.mem_user[rows])

    chosen = set(rng.permutation(k_orig)[: round(knobs.declared_group_share * k_orig)].tolist())
    chosen.add(world.photo_community)
    chosen |= {c for c in range(k_orig, n_comm) if rng.random() < 0.5}

    g_name, g_cat, g_owner, g_created, g_private, g_comm = [], [], [], [], [], []
    gm: list[tuple[np.ndarray, ...]] = []
    mem_start = np.searchsorted(world.mem_comm, np.arange(n_comm + 1))
    for c in sorted(chosen):
        keys = key_members.get(c, np.array([], np.int64))
        if keys.size == 0:
            continue
        owner = int(keys[np.argmin(signup[keys])])
        born_us = start_us + int(world.comm_born[c]) * DAY_US
        if world.comm_born[c] > 0:
            created = max(born_us + int(rng.integers(0, 6 * _HOUR)), signup[owner] + _HOUR)
        elif signup[owner] < start_us - 2 * _HOUR:
            lo = max(signup[owner] + _HOUR, start_us - 300 * DAY_US)
            created = int(rng.integers(lo, start_us - _HOUR))
        else:
            created = signup[owner] + int(rng.integers(_HOUR, 2 * DAY_US))
        if created >= min(end_us - DAY_US, churn_us[owner]):
            continue
        g = len(g_name)
        topic = topics[world.comm_topic[c]]
        zh_suffix, en_suffix = GROUP_SUFFIXES[int(rng.integers(0, len(GROUP_SUFFIXES)))]
        name = (
            topic.name_zh + zh_suffix if world.comm_lang[c] == 0 else f"{topic.name_en} {en_suffix}"
        )
        g_name.append(name)
        g_cat.append(topic.key)
        g_owner.append(owner)
        g_created.append(created)
        g_private.append(rng.random() < 0.6)
        g_comm.append(c)
        world.comm_group[c] = g

        rows = np.arange(mem_start[c], mem_start[c + 1])
        users = world.mem_user[rows]
        frm = world.mem_from[rows]
        to = world.mem_to[rows]
        include = (rng.random(len(rows)) < rng.uniform(0.80, 0.95)) | (users == owner)
        users, frm, to = users[include], frm[include], to[include]
        m = len(users)
        base = np.maximum(signup[users], created) + rng.integers(5 * _MINUTE, DAY_US, m)
        before = (frm == 0) & (world.comm_born[c] == 0)
        span = np.maximum(start_us - np.maximum(signup[users], created), 0)
        joined_before = np.maximum(signup[users], created) + (rng.random(m) * span).astype(np.int64)
        joined_from = start_us + frm * DAY_US + rng.integers(0, 20 * _HOUR, m)
        joined = np.where(before & (span > _HOUR), joined_before, np.maximum(base, joined_from))
        joined = np.maximum(joined, created + _MINUTE)
        joined[users == owner] = created
        left = np.full(m, -1, dtype=np.int64)
        ends = (to < world.n_days) & (rng.random(m) < 0.7)
        left_at = start_us + to * DAY_US + rng.integers(0, 3 * DAY_US, m)
        leave_cap = np.minimum(churn_us[users], end_us)
        left = np.where(ends & (left_at < leave_cap) & (left_at > joined + _HOUR), left_at, left)
        random_leave = (left < 0) & (rng.random(m) < 0.04) & (users != owner)
        lo = joined + DAY_US
        r_left = lo + (rng.random(m) * np.maximum(leave_cap - lo, 0)).astype(np.int64)
        left = np.where(random_leave & (leave_cap > lo), r_left, left)
        role = np.full(m, ROLE_MEMBER, dtype=np.int8)
        role[np.isin(users, keys)] = ROLE_ADMIN
        if m > 3:
            role[int(rng.integers(0, m))] = ROLE_ADMIN
        role[users == owner] = ROLE_OWNER
        alive = joined < leave_cap
        gm.append((np.full(alive.sum(), g), users[alive], joined[alive], left[alive], role[alive]))

        # A few outsiders.
        members_c = set(world.mem_user[mem_start[c] : mem_start[c + 1]].tolist())
        n_out = int(rng.integers(1, 6))
        outs = [u for u in rng.choice(world.n_users, size=n_out * 3).tolist() if u not in members_c]
        outs = np.unique(np.array(outs[:n_out], dtype=np.int64))
        lo = np.maximum(signup[outs], created) + _HOUR
        cap = np.minimum(churn_us[outs], end_us)
        o_join = lo + (rng.random(outs.size) * np.maximum(cap - lo, 0)).astype(np.int64)
        ok = cap > lo
        gm.append(
            (
                np.full(ok.sum(), g),
                outs[ok],
                o_join[ok],
                np.full(ok.sum(), -1, dtype=np.int64),
                np.full(ok.sum(), ROLE_MEMBER, dtype=np.int8),
            )
        )

    # Loose large groups: many random members, little interaction.
    n_loose = max(1, round(world.n_users / 500))
    pre_users = np.flatnonzero(world.signup_day < -2)
    for j in range(n_loose):
        category, zh_name, en_name = LOOSE_GROUP_NAMES[j % len(LOOSE_GROUP_NAMES)]
        creator_pool = pre_users if pre_users.size else np.arange(world.n_users)
        creator = int(rng.choice(creator_pool))
        if rng.random() < 0.7 and signup[creator] < start_us - 2 * _HOUR:
            lo = max(signup[creator] + _HOUR, start_us - 300 * DAY_US)
            created = int(rng.integers(lo, start_us - _HOUR))
        else:
            lo = max(start_us, signup[creator] + _HOUR)
            created = int(rng.integers(lo, max(lo + 1, start_us + world.n_days * DAY_US // 2)))
        world.churn_day[creator] = max(world.churn_day[creator], (created - start_us) // DAY_US + 1)
        g = len(g_name)
        name = zh_name if rng.random() < 0.5 else en_name
        g_name.append(
            name if j < len(LOOSE_GROUP_NAMES) else f"{name} {j // len(LOOSE_GROUP_NAMES) + 1}"
        )
        g_cat.append(category)
        g_owner.append(creator)
        g_created.append(created)
        g_private.append(False)
        g_comm.append(-1)
        size = min(int(rng.integers(200, 2001)), world.n_users // 2)
        users = rng.choice(world.n_users, size=size, replace=False)
        users = users[users != creator]
        lo = np.maximum(signup[users], created) + 10 * _MINUTE
        horizon = end_us + (end_us - lo) * 3 // 10
        joined = lo + (rng.random(users.size) * np.maximum(horizon - lo, 1)).astype(np.int64)
        cap = np.minimum(churn_us[users], end_us)
        ok = joined < cap
        users, joined, cap = users[ok], joined[ok], cap[ok]
        m = users.size
        left = np.full(m, -1, dtype=np.int64)
        leave = (rng.random(m) < 0.08) & (cap > joined + DAY_US)
        left_at = (
            joined
            + DAY_US
            + (rng.random(m) * np.maximum(cap - joined - DAY_US, 0)).astype(np.int64)
        )
        left[leave] = left_at[leave]
        role = np.full(m, ROLE_MEMBER, dtype=np.int8)
        role[rng.choice(m, size=min(2, m), replace=False)] = ROLE_ADMIN
        gm.append(
            (
                np.full(m + 1, g),
                np.concatenate([[creator], users]),
                np.concatenate([[created], joined]),
                np.concatenate([[-1], left]),
                np.concatenate([np.array([ROLE_OWNER], np.int8), role]),
            )
        )
        # Some leavers come back: a second row with a later joined_at.
        back = np.flatnonzero(leave & (rng.random(m) < 0.25))
        re_lo = left_at[back] + DAY_US
        re_join = re_lo + (rng.random(back.size) * np.maximum(cap[back] - re_lo, 0)).astype(
            np.int64
        )
        ok = cap[back] > re_lo
        gm.append(
            (
                np.full(ok.sum(), g),
                users[back][ok],
                re_join[ok],
                np.full(ok.sum(), -1, dtype=np.int64),
                np.full(ok.sum(), ROLE_MEMBER, dtype=np.int8),
            )
        )

    # Owners must be around when they create their group.
    g_owner_arr = np.array(g_owner, dtype=np.int64)
    g_created_arr = np.array(g_created, dtype=np.int64)
    created_day = (g_created_arr - start_us) // DAY_US
    np.maximum.at(world.churn_day, g_owner_arr, created_day + 1)

    # Number groups by creation time.
    order = np.argsort(g_created_arr, kind="stable")
    new_index = np.empty_like(order)
    new_index[order] = np.arange(len(order))
    world.grp_name = [g_name[i] for i in order]
    world.grp_category = [g_cat[i] for i in order]
    world.grp_owner = g_owner_arr[order]
    world.grp_created_us = g_created_arr[order]
    world.grp_private = np.array(g_private, dtype=bool)[order]
    world.grp_comm = np.array(g_comm, dtype=np.int64)[order]
    world.comm_group = np.where(
        world.comm_group >= 0, new_index[np.maximum(world.comm_group, 0)], -1
    )
    gg = new_index[np.concatenate([x[0] for x in gm]).astype(np.int64)]
    gu = np.concatenate([x[1] for x in gm]).astype(np.int64)
    gj = np.concatenate([x[2] for x in gm]).astype(np.int64)
    gl = np.concatenate([x[3] for x in gm]).astype(np.int64)
    gr = np.concatenate([x[4] for x in gm]).astype(np.int8)
    order = np.lexsort((gj, gu, gg))
    world.gm_group, world.gm_user, world.gm_join_us = gg[order], gu[order], gj[order]
    world.gm_left_us, world.gm_role = gl[order], gr[order]


# --------------------------------------------------------------------------- experiments


def _experiments(rng: np.random.Generator, world: World) -> None:
    """A group-randomised posting experiment and a user-randomised purchase one."""
    n_groups = world.n_groups
    world.group_exp_day = max(1, round(0.40 * world.n_days))
    started = world.start_us + world.group_exp_day * DAY_US + 9 * _HOUR
    treat = np.zeros(n_groups, dtype=bool)
    treat[rng.permutation(n_groups)[: n_groups // 2]] = True
    world.group_treat = treat
    world.group_assigned_us = np.maximum(started, world.grp_created_us + _MINUTE)

    world.user_exp_day = max(1, round(0.35 * world.n_days))
    world.user_exp_end_day = max(world.user_exp_day + 1, round(0.85 * world.n_days))
    u_started = world.start_us + world.user_exp_day * DAY_US + 9 * _HOUR
    u_ended = world.start_us + world.user_exp_end_day * DAY_US + 9 * _HOUR
    unit = (world.signup_us < u_ended - _HOUR) & (world.churn_day > world.user_exp_day)
    world.user_assigned_us = np.where(
        unit, np.maximum(u_started, world.signup_us + _MINUTE), -1
    ).astype(np.int64)
    world.user_treat = unit & (rng.random(world.n_users) < 0.5)


def _interventions(rng: np.random.Generator, world: World) -> None:
    """Pilot groups with a planted activity boost, and one cross-group connection."""
    n_days = world.n_days
    pilot_day = max(1, round(0.50 * n_days))
    cross_day = max(1, round(0.45 * n_days))
    comm_of_group = world.grp_comm
    ok_comm = (comm_of_group >= 0) & (world.grp_created_us < world.start_us + cross_day * DAY_US)
    life = world.comm_lifecycle[np.maximum(comm_of_group, 0)]
    ok = ok_comm & np.isin(life, ["stable", "growing", "merge_target", "split", "born"])
    eligible = np.flatnonzero(ok)
    eligible = eligible[rng.permutation(eligible.size)]
    # Cross connection: the first two eligible groups with the same language, if any.
    cross_pair = None
    for i in range(min(len(eligible), 40)):
        for j in range(i + 1, min(len(eligible), 40)):
            ca, cb = comm_of_group[eligible[i]], comm_of_group[eligible[j]]
            if world.comm_lang[ca] == world.comm_lang[cb]:
                cross_pair = (eligible[i], eligible[j])
                break
        if cross_pair:
            break
    if cross_pair is None and len(eligible) >= 2:
        cross_pair = (eligible[0], eligible[1])
    if cross_pair is not None:
        world.cross = (
            int(comm_of_group[cross_pair[0]]),
            int(comm_of_group[cross_pair[1]]),
            cross_day,
        )
        world.cross_groups = (int(cross_pair[0]), int(cross_pair[1]))
        eligible = eligible[~np.isin(eligible, cross_pair)]
    else:
        world.cross_groups = (-1, -1)
    n_pilot = min(len(eligible), int(np.clip(round(0.1 * len(eligible)), 5, 10)))
    treated = eligible[world.group_treat[eligible]]
    control = eligible[~world.group_treat[eligible]]
    half = n_pilot // 2
    pick = np.concatenate([treated[:half], control[: n_pilot - half]])
    if pick.size < n_pilot:
        rest = eligible[~np.isin(eligible, pick)]
        pick = np.concatenate([pick, rest[: n_pilot - pick.size]])
    pick = np.sort(pick)
    starts = pilot_day + rng.integers(0, 4, pick.size)
    kinds = ["resource_boost" if i % 2 == 0 else "pilot" for i in range(pick.size)]
    ends = np.array(
        [
            min(s + 28, n_days - 1) if k == "pilot" else _OPEN
            for s, k in zip(starts, kinds, strict=True)
        ],
        dtype=np.int64,
    )
    world.pilot_group = pick.astype(np.int64)
    world.pilot_start_day = starts.astype(np.int64)
    world.pilot_end_day = ends
    world.pilot_type = kinds
    world.pilot_effect = np.full(pick.size, world.knobs.pilot_effect)
    world.pilot_form = ["constant"] * pick.size
    world.pilot_features = _group_features(world, world.pilot_group, world.pilot_start_day)


#: Staggered intervention types (raw contract types), their share of the draws and the
#: planted effect form (relative increase of posts and interactions per member
#: session-day) on the group features of :func:`_group_features`, each clipped to
#: [0, 1]: ``key`` = share of key members / 0.25, ``small`` = (log 40 - log members) /
#: log 10 (1 at 4 members or fewer, 0 at 40 or more: small groups are the cohesive
#: ones), ``grow`` = member growth over the last 28 days / 0.5. Activities work better in
#: cohesive groups with key members, resource boosts in growing groups; ``pilot``
#: (moderator pilots, which help larger groups) is the form a forecast fitted on the
#: other two never sees (bench/bench_forecast.py holds it out).
STAGGERED_TYPES = {
    "activity": (0.4, "0.05 + 0.50 key + 0.30 small"),
    "resource_boost": (0.4, "0.05 + 0.60 grow"),
    "pilot": (0.2, "0.05 + 0.45 (1 - small)"),
}
_STAGGERED_PRE_DAYS = 28
_STAGGERED_DAYS = 21


def _group_features(world: World, groups: np.ndarray, days: np.ndarray) -> dict:
    """The truth features of each (group, day): members, growth, key-member share."""
    members, before, key_share = [], [], []
    join, left = world.gm_join_us, np.where(world.gm_left_us < 0, _OPEN, world.gm_left_us)
    for g, d in zip(groups, days, strict=True):
        at = world.start_us + int(d) * DAY_US
        rows = world.gm_group == g
        now = rows & (join <= at) & (left > at)
        then_at = at - 28 * DAY_US
        then = rows & (join <= then_at) & (left > then_at)
        n_now = int(now.sum())
        members.append(n_now)
        before.append(int(then.sum()))
        users = world.gm_user[now]
        key_share.append(float((world.key_mult[users] > 1).mean()) if n_now else 0.0)
    members, before = np.array(members, dtype=np.int64), np.array(before, dtype=np.int64)
    growth = np.where(before > 0, members / np.maximum(before, 1) - 1.0, 0.0)
    return {
        "members_at_start": members,
        "member_growth_4_weeks": growth,
        "key_member_share": np.array(key_share, dtype=float),
    }


def staggered_effect(kind: str, features: dict) -> np.ndarray:
    """The planted relative effect of ``kind`` (a :data:`STAGGERED_TYPES` key) on groups.

    Parameters
    ----------
    kind : str
        Intervention type.
    features : dict
        ``members_at_start``, ``member_growth_4_weeks``, ``key_member_share`` arrays.

    Returns
    -------
    numpy.ndarray
        The effect per group, by the form of :data:`STAGGERED_TYPES`.
    """
    members = np.maximum(np.asarray(features["members_at_start"], dtype=float), 1.0)
    key = np.clip(np.asarray(features["key_member_share"], dtype=float) / 0.25, 0, 1)
    small = np.clip((np.log(40.0) - np.log(members)) / np.log(10.0), 0, 1)
    grow = np.clip(np.asarray(features["member_growth_4_weeks"], dtype=float) / 0.5, 0, 1)
    if kind == "activity":
        return 0.05 + 0.50 * key + 0.30 * small
    if kind == "resource_boost":
        return 0.05 + 0.60 * grow
    if kind == "pilot":
        return 0.05 + 0.45 * (1.0 - small)
    raise ValueError(f"unknown staggered intervention type {kind!r}")


def _staggered_interventions(rng: np.random.Generator, world: World, n: int) -> None:
    """Replace the pilots by ``n`` staggered interventions with feature-dependent effects.

    Start days are spread evenly (with jitter) from day 28 + 7 to the last day with 21
    days left; each intervention lasts 21 days. Its group is drawn among the
    community-backed groups created 28 days before the start, of a living community,
    not the cross connection's, and not in another intervention's window (28 days
    before to the end) so the windows of one group never overlap. Types are drawn by
    the :data:`STAGGERED_TYPES` shares; the planted effect is :func:`staggered_effect`
    on the group's features at the start day.
    """
    n_days = world.n_days
    first = _STAGGERED_PRE_DAYS + 7
    last = n_days - _STAGGERED_DAYS - 1
    if last <= first:
        raise ValueError(f"staggered interventions need at least {first + 22} days")
    starts = np.sort(np.linspace(first, last, n).round().astype(np.int64))
    life = world.comm_lifecycle[np.maximum(world.grp_comm, 0)]
    backed = (world.grp_comm >= 0) & np.isin(
        life, ["stable", "growing", "merge_target", "split", "born"]
    )
    backed[[g for g in world.cross_groups if g >= 0]] = False
    busy_until = np.full(world.n_groups, -(10**9), dtype=np.int64)
    names = list(STAGGERED_TYPES)
    shares = np.array([STAGGERED_TYPES[k][0] for k in names])
    groups, days, kinds = [], [], []
    for s in starts:
        created_by = world.start_us + (int(s) - _STAGGERED_PRE_DAYS) * DAY_US
        free = backed & (world.grp_created_us < created_by) & (busy_until < s - _STAGGERED_PRE_DAYS)
        pool = np.flatnonzero(free)
        if pool.size == 0:
            continue
        g = int(pool[rng.integers(pool.size)])
        busy_until[g] = s + _STAGGERED_DAYS
        groups.append(g)
        days.append(int(s))
        kinds.append(names[int(rng.choice(len(names), p=shares / shares.sum()))])
    groups_a, days_a = np.array(groups, dtype=np.int64), np.array(days, dtype=np.int64)
    features = _group_features(world, groups_a, days_a)
    effect = np.zeros(groups_a.size)
    for kind in names:
        mine = np.array([k == kind for k in kinds], dtype=bool)
        if mine.any():
            effect[mine] = staggered_effect(kind, {f: v[mine] for f, v in features.items()})
    world.pilot_group = groups_a
    world.pilot_start_day = days_a
    world.pilot_end_day = days_a + _STAGGERED_DAYS
    world.pilot_type = kinds
    world.pilot_effect = effect
    world.pilot_form = [STAGGERED_TYPES[k][1] for k in kinds]
    world.pilot_features = features


def _schedule(rng: np.random.Generator, world: World) -> None:
    """Events implied by the static world: group and invite events, sorted by time."""
    lo, hi = world.start_us, world.end_us
    parts = []
    created = world.grp_created_us
    inside = (created >= lo) & (created < hi)
    g = np.flatnonzero(inside)
    parts.append((created[g], world.grp_owner[g], EV_GROUP_CREATED, g, -1))
    owner_row = (world.gm_role == ROLE_OWNER) & (world.gm_join_us == created[world.gm_group])
    join = world.gm_join_us
    sel = np.flatnonzero((join >= lo) & (join < hi) & ~owner_row)
    parts.append((join[sel], world.gm_user[sel], EV_GROUP_JOINED, world.gm_group[sel], -1))
    left = world.gm_left_us
    sel = np.flatnonzero((left >= lo) & (left < hi))
    parts.append((left[sel], world.gm_user[sel], EV_GROUP_LEFT, world.gm_group[sel], -1))
    invitees = np.flatnonzero((world.inviter >= 0) & (world.signup_us >= lo))
    inviters = world.inviter[invitees]
    accepted = world.signup_us[invitees]
    first = np.maximum(np.maximum(world.signup_us[inviters] + _MINUTE, accepted - 3 * DAY_US), lo)
    sent = first + (rng.random(invitees.size) * np.maximum(accepted - first, 0)).astype(np.int64)
    sent = np.minimum(sent, accepted)
    parts.append((sent, inviters, EV_INVITE_SENT, -1, invitees))
    parts.append((accepted, invitees, EV_INVITE_ACCEPTED, -1, inviters))

    def col(i: int, dtype) -> np.ndarray:
        return np.concatenate(
            [np.broadcast_to(np.asarray(p[i], dtype=dtype), p[0].shape) for p in parts]
        )

    us, user, etype = col(0, np.int64), col(1, np.int64), col(2, np.int64)
    group, target = col(3, np.int64), col(4, np.int64)
    order = np.lexsort((user, etype, us))
    world.sch_us, world.sch_user, world.sch_type = us[order], user[order], etype[order]
    world.sch_group, world.sch_target = group[order], target[order]
