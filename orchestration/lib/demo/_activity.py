"""Day-by-day simulation of sessions, posts, interactions and purchases.

:class:`DaySimulator` turns a :class:`~._world.World` into one day of valid events and
contents at a time, so the generator can stream files out and keep memory flat. Each
day draws from its own seeded generator, so a day's output depends only on the seed,
the world and the contents written on earlier days (replies and reactions pick a
recent content of the person they target from a small per-user ring buffer).

The planted signals live here: interaction partners come from the actor's community
with probability ``1 - mixing`` (weighted towards key members), bridges split their
actions between their two communities, treated groups post more, pilot groups'
members act more, group members buy more, treated users buy more and control users post
more the more of their community peers are treated (the user experiment's spillover).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import (
    CURRENCIES,
    DAY_US,
    EV_COMMENT,
    EV_GROUP_CREATED,
    EV_GROUP_JOINED,
    EV_GROUP_LEFT,
    EV_INVITE_ACCEPTED,
    EV_INVITE_SENT,
    EV_MENTION,
    EV_POST,
    EV_PURCHASE,
    EV_REACTION,
    EV_SESSION,
    EV_SHARE,
    HOUR_WEIGHTS,
    INTERACTION_KINDS,
    PropertyTemplates,
)
from ._world import World

__all__ = ["DayOutput", "DaySimulator", "SENTIMENTS"]

SENTIMENTS = ("positive", "neutral", "negative")
_BUFFER = 4
_MINUTE = 60_000_000
_HOUR = 60 * _MINUTE
_OPEN = np.iinfo(np.int64).max // 4


@dataclass
class DayOutput:
    """One simulated day: event columns (sorted by time) and the contents written.

    Integer columns use -1 for "none"; ``content`` holds content numbers (0-based),
    ``amount`` is NaN outside purchases, ``currency`` is an index into
    :attr:`DaySimulator.currencies` (-1 for none).
    """

    ev_user: np.ndarray
    ev_type: np.ndarray
    ev_us: np.ndarray
    ev_group: np.ndarray
    ev_target: np.ndarray
    ev_content: np.ndarray
    ev_amount: np.ndarray
    ev_currency: np.ndarray
    ev_prop: np.ndarray
    ct_number: np.ndarray
    ct_author: np.ndarray
    ct_group: np.ndarray
    ct_parent: np.ndarray
    ct_us: np.ndarray
    ct_topic: np.ndarray
    ct_lang: np.ndarray  # 0 zh, 1 en
    ct_lang_null: np.ndarray
    ct_sentiment: np.ndarray
    ct_pain: np.ndarray
    ct_community: np.ndarray
    ct_body: list[str]


class DaySimulator:
    """Simulate the world one day at a time.

    Parameters
    ----------
    world : World
        The static world.
    topics : tuple of Topic
        ``text.TOPICS``.
    render_bodies : callable
        ``text.render_bodies``.
    seed : int
        Root seed.
    """

    def __init__(self, world: World, topics: tuple, render_bodies, seed: int) -> None:
        self.w = world
        self.topics = topics
        self.render_bodies = render_bodies
        self.seed = seed
        k = world.knobs
        n = world.n_users
        self.props = PropertyTemplates()
        self.currencies = sorted({v[0] for v in CURRENCIES.values()})
        cur_index = {c: i for i, c in enumerate(self.currencies)}
        self.user_currency = np.array([cur_index[CURRENCIES[c][0]] for c in world.country])
        self.user_fx = np.array([CURRENCIES[c][1] for c in world.country])
        self.user_offset_us = world.utc_offset * _HOUR

        act = world.activity
        self.p_sess_member = np.clip(k.p_session_member * act**0.35, 0.05, 0.97)
        self.p_sess_bg = np.clip(k.p_session_background * act**0.35, 0.03, 0.95)
        key = world.key_mult > 1
        self.p_sess_member[key] = 0.97
        self.p_sess_bg[key] = 0.95
        # Key members: key_mult times a typical member's activity per alive day, so the
        # near-certain daily session is compensated in the per-session rates.
        self.rate_scale = np.where(key, world.key_mult * k.p_session_member / 0.97, act)

        n_comm = world.n_communities
        self.pain_idx = np.full((n_comm, 2), -1, dtype=np.int64)
        self.pain_cum = np.zeros((n_comm, 2))
        for c in range(n_comm):
            idx, p = world.comm_pain[c], world.comm_pain_p[c]
            self.pain_idx[c, : len(idx)] = idx
            self.pain_cum[c] = np.cumsum(np.pad(p, (0, 2 - len(p))))
        total = self.pain_cum[:, 1]
        self.sent_pos = 0.45 / (1 - total)
        self.sent_neg = np.maximum(0.20 - total, 0) / (1 - total)
        self.n_pain_topic = np.array([len(t.pain_points) for t in topics])
        self.max_pain = int(self.n_pain_topic.max())

        n_groups = world.n_groups
        self.n_groups = n_groups
        rel_join = np.floor_divide(world.gm_join_us - world.start_us, DAY_US)
        self.gm_from = rel_join + 1
        rel_left = np.floor_divide(world.gm_left_us - world.start_us, DAY_US)
        self.gm_to = np.where(world.gm_left_us >= 0, rel_left, _OPEN)
        self.group_effect_day = (
            np.floor_divide(world.group_assigned_us - world.start_us, DAY_US) + 1
        )
        self.user_effect_day = np.where(
            world.user_assigned_us >= 0,
            np.floor_divide(world.user_assigned_us - world.start_us, DAY_US) + 1,
            _OPEN,
        )
        self.is_pilot = np.zeros(n_groups, dtype=bool)

        self.buf = np.full((n, _BUFFER), -1, dtype=np.int64)
        self.buf_n = np.zeros(n, dtype=np.int64)
        self.next_content = 0
        # Accumulators for the truth / summary.
        self.mix_total = 0
        self.mix_outside = 0
        self.user_inter_total = np.zeros(n, dtype=np.int64)
        self.user_inter_outside = np.zeros(n, dtype=np.int64)
        self.pain_count = np.zeros((n_comm, self.max_pain), dtype=np.int64)
        self.comm_content = np.zeros(n_comm, dtype=np.int64)
        self.cross_interactions = 0
        self.cross_candidates = 0
        self.spill_user_share = np.zeros(n, dtype=np.float64)
        self.spill_user_days = np.zeros(n, dtype=np.int64)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _draw(
        cum0: np.ndarray, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Weighted draw of one position in [lo, hi) per row, from a prefix sum."""
        x = cum0[lo] + rng.random(lo.size) * (cum0[hi] - cum0[lo])
        pos = np.searchsorted(cum0, x, side="right") - 1
        return np.clip(pos, lo, hi - 1)

    @staticmethod
    def _draw_excluding(
        cum0: np.ndarray,
        pool_key: np.ndarray,
        bounds: np.ndarray,
        comm: np.ndarray,
        actor: np.ndarray,
        n_users: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Weighted draw from each row's community pool, never the actor itself.

        The actor's own weight (when it is in the pool) is cut out of the interval
        before drawing. Returns pool positions, -1 where nobody else has weight.
        """
        lo, hi = bounds[comm], bounds[comm + 1]
        key = comm * n_users + actor
        me = np.minimum(np.searchsorted(pool_key, key), max(pool_key.size - 1, 0))
        inside = (pool_key.size > 0) & (pool_key[me] == key)
        w_self = np.where(inside, cum0[me + 1] - cum0[me], 0.0)
        total = cum0[hi] - cum0[lo] - w_self
        x = cum0[lo] + rng.random(comm.size) * total
        x = np.where(inside & (x >= cum0[me]), x + w_self, x)
        pos = np.clip(np.searchsorted(cum0, x, side="right") - 1, lo, np.maximum(hi - 1, lo))
        return np.where(total > 0, pos, -1)

    def _times(self, base: np.ndarray, mean_gap_us: float, day_end: int, rng) -> np.ndarray:
        """Instants after ``base`` (exponential gap), wrapped to stay inside the day."""
        t = base + rng.exponential(mean_gap_us, base.size).astype(np.int64) + 1_000_000
        room = np.maximum(day_end - base, 2)
        return np.where(t < day_end, t, base + (t - base) % room)

    # ------------------------------------------------------------------ one day

    def simulate_day(self, d: int) -> DayOutput:
        """Simulate day ``d`` (0-based) and return its events and contents."""
        w, k = self.w, self.w.knobs
        rng = np.random.default_rng([self.seed, 11, d])
        n = w.n_users
        day_us = w.start_us + d * DAY_US
        day_end = day_us + DAY_US
        weekend = (w.start.toordinal() + d) % 7 in (5, 6)  # Saturday, Sunday
        week = 1.06 if weekend else 1.0

        alive = (w.signup_day <= d) & (d < w.churn_day)
        # Active community memberships (rows are sorted by community, then user).
        m_act = (w.mem_from <= d) & (d < w.mem_to) & alive[w.mem_user]
        a_comm = w.mem_comm[m_act]
        a_user = w.mem_user[m_act]
        c1 = np.full(n, -1, dtype=np.int64)
        c2 = np.full(n, -1, dtype=np.int64)
        order = np.argsort(a_user, kind="stable")
        su, sc = a_user[order], a_comm[order]
        first = np.ones(su.size, dtype=bool)
        first[1:] = su[1:] != su[:-1]
        c1[su[first]] = sc[first]
        c2[su[~first]] = sc[~first]
        # People who sign up later today are not targeted by anyone yet (weight 0).
        seen = w.signup_day < d
        cum_c = np.concatenate([[0.0], np.cumsum(w.target_weight[a_user] * seen[a_user])])
        bounds = np.searchsorted(a_comm, np.arange(w.n_communities + 1))
        pool_key = a_comm * n + a_user  # sorted: memberships are sorted by (community, user)
        # Members who can be targeted today (signed up before today).
        pool_size = np.diff(np.concatenate([[0], np.cumsum(seen[a_user])])[bounds])
        alive_idx = np.flatnonzero(alive)
        cum_all = np.concatenate([[0.0], np.cumsum(w.target_weight[alive_idx] * seen[alive_idx])])

        # Declared-group memberships active today.
        g_act = (self.gm_from <= d) & (d < self.gm_to) & alive[w.gm_user]
        ag_user, ag_group = w.gm_user[g_act], w.gm_group[g_act]
        g_keys = np.unique(ag_user * self.n_groups + ag_group)
        in_comm_group = np.zeros(n, dtype=bool)
        backed = w.grp_comm[ag_group] >= 0
        in_comm_group[ag_user[backed]] = True
        loose_of = np.full(n, -1, dtype=np.int64)
        loose_of[ag_user[~backed]] = ag_group[~backed]
        boost = np.ones(n)
        pilot_on = (w.pilot_start_day <= d) & (d < w.pilot_end_day)
        if pilot_on.any():
            # Each running intervention's planted effect on its group's members (the
            # largest when a member is in several).
            group_boost = np.ones(self.n_groups)
            np.maximum.at(group_boost, w.pilot_group[pilot_on], 1.0 + w.pilot_effect[pilot_on])
            hit = group_boost[ag_group] > 1.0
            np.maximum.at(boost, ag_user[hit], group_boost[ag_group[hit]])

        def member_of(users: np.ndarray, groups: np.ndarray) -> np.ndarray:
            if g_keys.size == 0:
                return np.zeros(users.size, dtype=bool)
            key = users * self.n_groups + np.maximum(groups, 0)
            pos = np.minimum(np.searchsorted(g_keys, key), max(g_keys.size - 1, 0))
            return (groups >= 0) & (g_keys.size > 0) & (g_keys[pos] == key)

        # Sessions.
        member_today = c1[alive_idx] >= 0
        p = np.where(member_today, self.p_sess_member[alive_idx], self.p_sess_bg[alive_idx]) * week
        new_today = w.signup_day[alive_idx] == d
        sess = (rng.random(alive_idx.size) < p) | new_today
        s_user = alive_idx[sess]
        s_new = new_today[sess]
        hour = rng.choice(24, size=s_user.size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
        local = hour * _HOUR + rng.integers(0, _HOUR, s_user.size)
        t0 = day_us + (local - self.user_offset_us[s_user]) % DAY_US
        signup = w.signup_us[s_user]
        t0 = np.where(
            s_new,
            signup
            + 1_000_000
            + (
                rng.random(s_user.size) * np.clip(day_end - signup - 2_000_000, 0, 30 * _MINUTE)
            ).astype(np.int64),
            t0,
        )
        t0 = np.minimum(t0, day_end - 1)
        t0_of = np.zeros(n, dtype=np.int64)
        t0_of[s_user] = t0
        n_extra = rng.poisson(np.where(w.key_mult[s_user] > 1, 0.8, 0.25))
        x_user = np.repeat(s_user, n_extra)
        x_base = np.repeat(t0, n_extra)
        x_us = x_base + (rng.random(x_user.size) * (day_end - x_base)).astype(np.int64)

        # Posts and interactions.
        member_s = c1[s_user] >= 0
        scale = self.rate_scale[s_user] * boost[s_user] * week
        lam_post = k.posts_per_session_day * scale * np.where(member_s, 1.0, 0.6)
        lam_int = scale * np.where(
            member_s,
            k.interactions_per_session_day_member,
            k.interactions_per_session_day_background,
        )
        p_user = np.repeat(s_user, rng.poisson(lam_post))
        i_user = np.repeat(s_user, rng.poisson(lam_int))
        kinds = np.array([kk for kk, _ in INTERACTION_KINDS])
        shares = np.array([s for _, s in INTERACTION_KINDS])
        i_kind = kinds[rng.choice(len(kinds), size=i_user.size, p=shares / shares.sum())]

        actor = np.concatenate([p_user, i_user])
        kind = np.concatenate([np.full(p_user.size, EV_POST), i_kind])
        n_act = actor.size
        comm = c1[actor].copy()
        swap = (c2[actor] >= 0) & (rng.random(n_act) < 0.5)
        comm[swap] = c2[actor[swap]]
        is_int = kind != EV_POST

        # Partners: own community with probability 1 - mixing, else anyone alive.
        partner = np.full(n_act, -1, dtype=np.int64)
        safe_comm = np.maximum(comm, 0)
        inside = (
            is_int & (comm >= 0) & (pool_size[safe_comm] >= 2) & (rng.random(n_act) >= k.mixing)
        )
        cross_a, cross_b, cross_day = w.cross
        crossing = np.zeros(n_act, dtype=bool)
        if cross_a >= 0 and d >= cross_day and pool_size[cross_a] > 0 and pool_size[cross_b] > 0:
            in_pair = is_int & ((comm == cross_a) | (comm == cross_b))
            self.cross_candidates += int(in_pair.sum())
            crossing = in_pair & (rng.random(n_act) < k.cross_connection_share)
            inside &= ~crossing
        for mask, target_comm in (
            (inside, comm),
            (crossing, np.where(comm == cross_a, cross_b, cross_a)),
        ):
            idx = np.flatnonzero(mask)
            if idx.size == 0:
                continue
            tc = target_comm[idx]
            pos = self._draw_excluding(cum_c, pool_key, bounds, tc, actor[idx], n, rng)
            ok = (pos >= 0) & (a_user[np.maximum(pos, 0)] != actor[idx])
            ok &= seen[a_user[np.maximum(pos, 0)]]
            partner[idx[ok]] = a_user[pos[ok]]
            inside[idx[~ok]] = False
            crossing[idx[~ok]] = False
        rest = np.flatnonzero(is_int & (partner < 0))
        if rest.size:
            zeros = np.zeros(rest.size, dtype=np.int64)
            tops = np.full(rest.size, alive_idx.size, dtype=np.int64)
            pos = self._draw(cum_all, zeros, tops, rng)
            clash = alive_idx[pos] == actor[rest]
            pos[clash] = self._draw(cum_all, zeros[clash], tops[clash], rng)
            picked = alive_idx[pos]
            partner[rest] = np.where(seen[picked], picked, actor[rest])
        self_hit = (partner == actor) & is_int
        is_int &= ~self_hit
        kind[self_hit] = -1

        # Acted-on content from the partner's recent contents (earlier days only).
        acted = np.full(n_act, -1, dtype=np.int64)
        needs = np.isin(kind, (EV_COMMENT, EV_REACTION, EV_SHARE))
        safe_partner = np.maximum(partner, 0)
        cnt = np.minimum(self.buf_n[safe_partner], _BUFFER)
        has = needs & (cnt > 0)
        slot = (rng.random(n_act) * np.maximum(cnt, 1)).astype(np.int64)
        acted[has] = self.buf[safe_partner[has], slot[has]]
        kind[needs & ~has] = EV_MENTION

        # Where it happened: the community's declared group for posts and inside ties.
        partner_in = (
            is_int & ((c1[safe_partner] == comm) | (c2[safe_partner] == comm)) & (comm >= 0)
        )
        g = np.where(comm >= 0, self.w.comm_group[safe_comm], -1)
        tag = ((kind == EV_POST) | partner_in) & member_of(actor, g) & (rng.random(n_act) < 0.92)
        group = np.where(tag, g, -1)
        loose_post = (
            (kind == EV_POST) & (group < 0) & (loose_of[actor] >= 0) & (rng.random(n_act) < 0.2)
        )
        group[loose_post] = loose_of[actor[loose_post]]

        # Mixing accounting (members acting in a community).
        counted = is_int & (comm >= 0) & (kind >= 0)
        outside = counted & ~partner_in
        self.mix_total += int(counted.sum())
        self.mix_outside += int(outside.sum())
        np.add.at(self.user_inter_total, actor[counted], 1)
        np.add.at(self.user_inter_outside, actor[outside], 1)
        self.cross_interactions += int(crossing.sum())

        # Group experiment: treated groups post more once assigned.
        gi = np.maximum(group, 0)
        extra = (
            (kind == EV_POST)
            & (group >= 0)
            & self.w.group_treat[gi]
            & (d >= self.group_effect_day[gi])
            & (rng.random(n_act) < k.group_experiment_effect)
        )
        dup = np.flatnonzero(extra)
        keep = kind >= 0
        sel = np.concatenate([np.flatnonzero(keep), dup])
        actor, kind, comm, partner = actor[sel], kind[sel], comm[sel], partner[sel]
        acted, group = acted[sel], group[sel]

        # Spillover of the user experiment: control users post more the larger the
        # treated share of their community peers (extra posts outside declared groups).
        s_post, s_comm = self._spillover_posts(d, s_user, lam_post, c1, c2, a_comm, a_user)
        if s_post.size:
            none = np.full(s_post.size, -1, dtype=np.int64)
            actor = np.concatenate([actor, s_post])
            kind = np.concatenate([kind, np.full(s_post.size, EV_POST)])
            comm = np.concatenate([comm, s_comm])
            partner, acted = np.concatenate([partner, none]), np.concatenate([acted, none])
            group = np.concatenate([group, none])
        n_act = actor.size
        a_us = self._times(t0_of[actor], 12 * _MINUTE, day_end, rng)

        # Content attributes for posts and comments.
        is_content = (kind == EV_POST) | (kind == EV_COMMENT)
        ci = np.flatnonzero(is_content)
        c_comm = comm[ci]
        c_actor = actor[ci]
        safe = np.maximum(c_comm, 0)
        bg_choice = np.where(
            rng.random(ci.size) < 0.7,
            w.bg_topic[c_actor],
            rng.integers(0, len(self.topics), ci.size),
        )
        topic = np.where(c_comm >= 0, w.comm_topic[safe], bg_choice)
        u = rng.random(ci.size)
        pain = np.where(
            c_comm >= 0,
            np.where(
                u < self.pain_cum[safe, 0],
                self.pain_idx[safe, 0],
                np.where(u < self.pain_cum[safe, 1], self.pain_idx[safe, 1], -1),
            ),
            np.where(
                u < k.background_pain_share,
                (rng.random(ci.size) * self.n_pain_topic[topic]).astype(np.int64),
                -1,
            ),
        )
        pos_p = np.where(c_comm >= 0, self.sent_pos[safe], 0.45 / (1 - k.background_pain_share))
        neg_p = np.where(
            c_comm >= 0,
            self.sent_neg[safe],
            (0.20 - k.background_pain_share) / (1 - k.background_pain_share),
        )
        v = rng.random(ci.size)
        sentiment = np.where(v < pos_p, 0, np.where(v < 1 - neg_p, 1, 2))
        sentiment[pain >= 0] = 2
        attr = np.full(n_act, -1, dtype=np.int64)
        attr[ci] = np.arange(ci.size)

        # Purchases.
        pp = k.purchase_base * week * np.where(in_comm_group[s_user], k.purchase_group_uplift, 1.0)
        treat = (
            w.user_treat[s_user] & (d >= self.user_effect_day[s_user]) & (d < w.user_exp_end_day)
        )
        pp = pp * np.where(treat, 1.0 + k.user_experiment_effect, 1.0)
        b_user = s_user[rng.random(s_user.size) < pp]
        b_us = self._times(t0_of[b_user], 20 * _MINUTE, day_end, rng)
        b_amount = np.round(rng.lognormal(2.7, 0.6, b_user.size) * self.user_fx[b_user], 2)
        b_amount = np.maximum(b_amount, 0.5)

        # Scheduled events (groups, invites).
        lo_i, hi_i = np.searchsorted(w.sch_us, [day_us, day_end])
        s_sl = slice(lo_i, hi_i)

        # Assemble.
        n_s, n_x, n_b, n_sc = s_user.size, x_user.size, b_user.size, hi_i - lo_i
        ev_user = np.concatenate([s_user, x_user, actor, b_user, w.sch_user[s_sl]])
        ev_type = np.concatenate(
            [np.full(n_s + n_x, EV_SESSION), kind, np.full(n_b, EV_PURCHASE), w.sch_type[s_sl]]
        )
        ev_us = np.concatenate([t0, x_us, a_us, b_us, w.sch_us[s_sl]])
        ev_group = np.concatenate(
            [np.full(n_s + n_x, -1), group, np.full(n_b, -1), w.sch_group[s_sl]]
        )
        target = np.where(kind == EV_POST, -1, partner)
        ev_target = np.concatenate(
            [np.full(n_s + n_x, -1), target, np.full(n_b, -1), w.sch_target[s_sl]]
        )
        ev_acted = np.concatenate([np.full(n_s + n_x, -1), acted, np.full(n_b + n_sc, -1)])
        ev_attr = np.concatenate([np.full(n_s + n_x, -1), attr, np.full(n_b + n_sc, -1)])
        ev_amount = np.concatenate(
            [np.full(n_s + n_x + n_act, np.nan), b_amount, np.full(n_sc, np.nan)]
        )
        ev_currency = np.concatenate(
            [np.full(n_s + n_x + n_act, -1), self.user_currency[b_user], np.full(n_sc, -1)]
        )
        # Edge-but-valid instants: a few sessions exactly at midnight or the last microsecond.
        m = ev_us.size
        edge = (
            (ev_type == EV_SESSION)
            & (w.signup_day[ev_user] < d)
            & (rng.random(m) < k.edge_timestamp_share)
        )
        ev_us = np.where(edge, np.where(rng.random(m) < 0.5, day_us, day_end - 1), ev_us)

        order = np.lexsort((ev_user, ev_type, ev_us))
        ev_user, ev_type, ev_us, ev_group = (
            ev_user[order],
            ev_type[order],
            ev_us[order],
            ev_group[order],
        )
        ev_target, ev_acted, ev_attr = ev_target[order], ev_acted[order], ev_attr[order]
        ev_amount, ev_currency = ev_amount[order], ev_currency[order]

        # Content numbers in time order; events point at what they wrote or acted on.
        c_rows = np.flatnonzero(ev_attr >= 0)
        numbers = self.next_content + np.arange(c_rows.size)
        self.next_content += c_rows.size
        ev_content = ev_acted.copy()
        ev_content[c_rows] = numbers
        a = ev_attr[c_rows]
        ct_author = ev_user[c_rows]
        ct_comm = c_comm[a]
        ct_pain = pain[a]
        ct_topic = topic[a]
        ct_sent = sentiment[a]
        ct_parent = np.where(ev_type[c_rows] == EV_COMMENT, ev_acted[c_rows], -1)
        ct_lang = w.lang[ct_author]
        body_seed = int(np.random.SeedSequence([self.seed, 13, d]).generate_state(1)[0])
        bodies = self.render_bodies(
            ct_topic.astype(np.int64),
            np.where(ct_lang == 0, "zh", "en"),
            np.array(SENTIMENTS)[ct_sent],
            ct_pain.astype(np.int64),
            body_seed,
        )
        ct_lang_null = rng.random(c_rows.size) < k.content_language_null_share

        # Properties.
        ev_prop = self._properties(ev_type, ev_user, d, rng)

        # Book-keeping for the truth and the next days.
        self._push(ct_author, numbers)
        member = ct_comm >= 0
        np.add.at(self.comm_content, ct_comm[member], 1)
        hit = member & (ct_pain >= 0)
        np.add.at(self.pain_count, (ct_comm[hit], ct_pain[hit]), 1)
        return DayOutput(
            ev_user=ev_user,
            ev_type=ev_type,
            ev_us=ev_us,
            ev_group=ev_group,
            ev_target=ev_target,
            ev_content=ev_content,
            ev_amount=ev_amount,
            ev_currency=ev_currency,
            ev_prop=ev_prop,
            ct_number=numbers,
            ct_author=ct_author,
            ct_group=ev_group[c_rows],
            ct_parent=ct_parent,
            ct_us=ev_us[c_rows],
            ct_topic=ct_topic,
            ct_lang=ct_lang,
            ct_lang_null=ct_lang_null,
            ct_sentiment=ct_sent,
            ct_pain=ct_pain,
            ct_community=ct_comm,
            ct_body=bodies,
        )

    def _spillover_posts(
        self,
        d: int,
        s_user: np.ndarray,
        lam_post: np.ndarray,
        c1: np.ndarray,
        c2: np.ndarray,
        a_comm: np.ndarray,
        a_user: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Extra posts of today's control users from the user experiment's spillover.

        A control user of the user-randomised experiment, inside its window (from the
        first full day after assignment to the experiment's end), posts at
        ``posts_per_session_day x (1 + spillover_effect x share)``, ``share`` the
        treated share of the other units (users in the experiment window) among the
        members of its community or communities today (pooled over both for a bridge;
        0 outside communities). The extra posts are drawn as
        ``Poisson(lam_post x spillover_effect x share)`` from their own seeded generator
        (so the other draws of the day keep their sizes up to here); returned are
        the posts' actors and communities (a bridge's post goes to either at random).
        """
        w, k = self.w, self.w.knobs
        if k.spillover_effect == 0 or d >= w.user_exp_end_day:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        in_exp = self.user_effect_day <= d
        n_comm = w.n_communities
        units = np.bincount(a_comm[in_exp[a_user]], minlength=n_comm)
        treated = np.bincount(a_comm[in_exp[a_user] & w.user_treat[a_user]], minlength=n_comm)
        ctrl = in_exp[s_user] & ~w.user_treat[s_user] & (c1[s_user] >= 0)
        u, lam = s_user[ctrl], lam_post[ctrl]
        peers = units[c1[u]] - 1.0
        hits = treated[c1[u]].astype(float)
        two = c2[u] >= 0
        peers[two] += units[c2[u[two]]] - 1.0
        hits[two] += treated[c2[u[two]]]
        share = np.where(peers > 0, hits / np.maximum(peers, 1.0), 0.0)
        np.add.at(self.spill_user_share, u, share)
        np.add.at(self.spill_user_days, u, 1)
        srng = np.random.default_rng([self.seed, 17, d])
        posts = np.repeat(u, srng.poisson(lam * k.spillover_effect * share))
        comm = c1[posts].copy()
        swap = (c2[posts] >= 0) & (srng.random(posts.size) < 0.5)
        comm[swap] = c2[posts[swap]]
        return posts, comm

    def _properties(self, ev_type: np.ndarray, ev_user: np.ndarray, d: int, rng) -> np.ndarray:
        off = self.props.offset
        m = ev_type.size
        platform = self.w.platform[ev_user]
        version = np.clip((d * 4) // max(self.w.n_days, 1) + (rng.random(m) < 0.3) - 1, 0, 3)
        r = rng.random(m)
        prop = np.full(m, off["empty"], dtype=np.int64)
        prop = np.where(ev_type == EV_SESSION, off["session"] + platform * 4 + version, prop)
        prop = np.where(
            (ev_type == EV_POST) | (ev_type == EV_COMMENT), off["client"] + platform, prop
        )
        prop = np.where(
            ev_type == EV_REACTION,
            off["reaction"] + np.searchsorted([0.55, 0.75, 0.87, 0.95], r),
            prop,
        )
        prop = np.where(ev_type == EV_SHARE, off["share"] + (r * 4).astype(np.int64), prop)
        invite = (ev_type == EV_INVITE_SENT) | (ev_type == EV_INVITE_ACCEPTED)
        prop = np.where(invite, off["invite"] + (r * 3).astype(np.int64), prop)
        grp = np.isin(ev_type, (EV_GROUP_CREATED, EV_GROUP_JOINED, EV_GROUP_LEFT))
        prop = np.where(grp, off["group"] + (r * 3).astype(np.int64), prop)
        sku = np.searchsorted([0.5, 0.65, 0.9], r)
        prop = np.where(ev_type == EV_PURCHASE, off["purchase"] + sku * 3 + platform, prop)
        return prop

    def _push(self, authors: np.ndarray, numbers: np.ndarray) -> None:
        """Add today's contents to the authors' ring buffers (last ``_BUFFER`` kept)."""
        if authors.size == 0:
            return
        order = np.argsort(authors, kind="stable")
        a, c = authors[order], numbers[order]
        run_start = np.searchsorted(a, a, side="left")
        run_end = np.searchsorted(a, a, side="right")
        rank = np.arange(a.size) - run_start
        keep = (run_end - np.arange(a.size)) <= _BUFFER
        slot = (self.buf_n[a] + rank) % _BUFFER
        self.buf[a[keep], slot[keep]] = c[keep]
        uniq, counts = np.unique(a, return_counts=True)
        self.buf_n[uniq] += counts
