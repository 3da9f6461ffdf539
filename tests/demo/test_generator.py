"""Tests of the demo-data generator: contract shape, determinism and planted truth.

One small data set (1,500 users x 40 days) is generated once per module and checked
from its files, the way later consumers read it: DuckDB over the raw Parquet and the
truth folder, with the planted bad rows removed by (file, row_index) from
``bad_rows.parquet``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.demo import cli
from orchestration.lib.demo._common import Knobs
from orchestration.lib.demo._world import _sample_sizes
from orchestration.lib.demo.generator import TRUTH_FILES, generate
from orchestration.lib.raw.contract import TABLES

USERS, DAYS, SEED, SHARE = 1_500, 40, 42, 0.01
EVENT_TYPES = (
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
    "session_start",
)
ARROW_TYPES = {
    "varchar": pa.string(),
    "double": pa.float64(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}


def _generate(root: Path, seed: int = SEED) -> Path:
    generate(
        root / "raw", root / "truth", n_users=USERS, n_days=DAYS, seed=seed, bad_row_share=SHARE
    )
    return root


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def con(data: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB views: raw tables (r_*), valid rows only (v_*), and truth tables (t_*)."""
    con = duckdb.connect()
    raw, truth = data / "raw", data / "truth"
    for t in ("users", "groups", "group_memberships", "contents"):
        con.execute(
            f"create view r_{t} as select *, file_row_number as rn "
            f"from read_parquet('{raw}/{t}.parquet', file_row_number = true)"
        )
    con.execute(
        f"create view r_events as select * exclude (filename), "
        f"replace(filename, '{raw}/', '') as f, file_row_number as rn "
        f"from read_parquet('{raw}/events/*.parquet', filename = true, file_row_number = true)"
    )
    for name in TRUTH_FILES:
        if name.endswith(".parquet"):
            con.execute(
                f"create view t_{name[:-8]} as select * from read_parquet('{truth}/{name}')"
            )
    con.execute(
        """create view v_events as
        select e.* exclude (event_type), lower(trim(e.event_type)) as event_type,
               cast(e.occurred_at as date) as day
        from r_events e anti join t_bad_rows b
          on b."table" = 'events' and b.file = e.f and b.row_index = e.rn"""
    )
    for t in ("users", "contents", "group_memberships"):
        con.execute(
            f"""create view v_{t} as select r.* from r_{t} r anti join t_bad_rows b
            on b."table" = '{t}' and b.row_index = r.rn"""
        )
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


# --------------------------------------------------------------------------- shape


def test_every_raw_and_truth_file_is_written(data: Path) -> None:
    raw = data / "raw"
    for t in TABLES:
        if t.name == "events":
            days = sorted(p.name for p in (raw / "events").glob("*.parquet"))
            assert len(days) == DAYS
            assert days[0] == "2026-01-01.parquet"
        else:
            assert (raw / f"{t.name}.parquet").is_file(), t.name
    for name in TRUTH_FILES:
        assert (data / "truth" / name).is_file(), name


def test_contract_columns_and_types(data: Path) -> None:
    raw = data / "raw"
    for t in TABLES:
        path = (
            raw / "events" / "2026-01-10.parquet"
            if t.name == "events"
            else raw / f"{t.name}.parquet"
        )
        schema = pq.read_schema(path)
        for column, duck_type in t.columns:
            assert column in schema.names, f"{t.name}.{column} missing"
            assert schema.field(column).type == ARROW_TYPES[duck_type], f"{t.name}.{column}"


def test_ids_have_prefixes(con) -> None:
    assert (
        _one(con, "select count(*) from v_users where not regexp_full_match(user_id, 'u\\d{7}')")
        == 0
    )
    assert (
        _one(con, "select count(*) from r_groups where not regexp_full_match(group_id, 'g\\d{5}')")
        == 0
    )
    assert (
        _one(con, "select count(*) from v_events where not regexp_full_match(event_id, 'e\\d{9}')")
        == 0
    )
    assert (
        _one(
            con,
            "select count(*) from v_contents where not regexp_full_match(content_id, 'c\\d{8}')",
        )
        == 0
    )


def test_event_volume_and_mix(con) -> None:
    per_user_day = _one(con, "select count(*) from v_events") / (USERS * DAYS)
    assert 0.4 < per_user_day < 1.5
    counts = dict(con.execute("select event_type, count(*) from v_events group by 1").fetchall())
    assert set(counts) == set(EVENT_TYPES)
    assert max(counts, key=counts.get) == "session_start"


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files_and_overwrites(data: Path, tmp_path: Path) -> None:
    again = _generate(tmp_path / "again")
    stale = again / "raw" / "events" / "2030-01-01.parquet"
    stale.write_bytes(b"stale")
    _generate(again)  # regenerate into the same folders
    assert not stale.exists()
    assert _digests(again) == _digests(data)


def test_other_seed_gives_other_data(data: Path, tmp_path: Path) -> None:
    other = _digests(_generate(tmp_path / "other", seed=SEED + 1))
    mine = _digests(data)
    assert other.keys() == mine.keys()
    for name in ("raw/users.parquet", "raw/events/2026-01-05.parquet", "raw/contents.parquet"):
        assert other[name] != mine[name]


# --------------------------------------------------------------------------- integrity


def test_valid_events_reference_known_users_groups_and_contents(con) -> None:
    assert (
        _one(
            con, "select count(*) from v_events where user_id not in (select user_id from v_users)"
        )
        == 0
    )
    assert (
        _one(
            con,
            "select count(*) from v_events where target_user_id is not null "
            "and target_user_id not in (select user_id from v_users)",
        )
        == 0
    )
    assert (
        _one(
            con,
            "select count(*) from v_events where group_id is not null "
            "and group_id not in (select group_id from r_groups)",
        )
        == 0
    )
    assert _one(con, f"select count(*) from v_events where event_type not in {EVENT_TYPES}") == 0
    assert (
        _one(
            con,
            "select count(*) from v_events e join v_users u using (user_id) "
            "where e.occurred_at < u.signed_up_at",
        )
        == 0
    )


def test_contents_match_their_events(con) -> None:
    # post/comment events point at the content they created ...
    assert (
        _one(
            con,
            """select count(*) from v_events e left join v_contents c using (content_id)
            where e.event_type in ('post', 'comment')
              and (c.content_id is null or c.author_user_id != e.user_id
                   or c.created_at != e.occurred_at or c.group_id is distinct from e.group_id)""",
        )
        == 0
    )
    # ... comments reply to an earlier content of their target, posts have no parent ...
    assert (
        _one(
            con,
            """select count(*) from v_events e join v_contents c using (content_id)
            left join v_contents p on p.content_id = c.parent_content_id
            where (e.event_type = 'comment' and (p.content_id is null
                   or p.author_user_id != e.target_user_id or p.created_at >= c.created_at))
               or (e.event_type = 'post' and c.parent_content_id is not null)""",
        )
        == 0
    )
    # ... and reactions/shares act on an earlier content whose author is the target.
    assert (
        _one(
            con,
            """select count(*) from v_events e left join v_contents c using (content_id)
            where e.event_type in ('reaction', 'share')
              and (c.content_id is null or c.author_user_id != e.target_user_id
                   or c.created_at >= e.occurred_at)""",
        )
        == 0
    )


def test_group_events_match_memberships(con) -> None:
    assert (
        _one(
            con,
            """select count(*) from v_events e where e.event_type = 'group_joined'
            and not exists (select 1 from v_group_memberships m where m.group_id = e.group_id
                            and m.user_id = e.user_id and m.joined_at = e.occurred_at)""",
        )
        == 0
    )
    assert (
        _one(
            con,
            """select count(*) from v_events e join r_groups g using (group_id)
            where e.event_type = 'group_created'
              and (e.user_id != g.created_by_user_id or e.occurred_at != g.created_at)""",
        )
        == 0
    )
    assert _one(con, "select count(*) from v_group_memberships where left_at < joined_at") == 0
    assert (
        _one(
            con,
            "select count(*) - count(distinct (group_id, user_id, joined_at)) "
            "from v_group_memberships",
        )
        == 0
    )
    # Someone who left and came back has two rows.
    assert (
        _one(
            con,
            "select count(*) from (select group_id, user_id from v_group_memberships "
            "group by all having count(*) > 1)",
        )
        > 0
    )


def test_invites_and_purchases(con) -> None:
    assert (
        _one(
            con,
            """select count(*) from v_events e join v_users u using (user_id)
            where e.event_type = 'invite_accepted'
              and (lower(trim(u.acquisition_channel)) != 'invite' or e.target_user_id is null)""",
        )
        == 0
    )
    assert (
        _one(
            con,
            "select count(*) from v_events where event_type = 'purchase' "
            "and (amount is null or amount <= 0 or currency is null)",
        )
        == 0
    )


def test_enum_noise_on_valid_rows_normalises(con) -> None:
    odd = _one(con, "select count(*) from r_events where event_type != lower(trim(event_type))")
    assert odd > 0
    assert _one(con, "select count(*) from v_events where event_type like '% %'") == 0
    roles = {
        r
        for (r,) in con.execute(
            "select distinct lower(trim(role)) from v_group_memberships"
        ).fetchall()
    }
    assert roles == {"owner", "admin", "member"}


# --------------------------------------------------------------------------- bad rows


def test_bad_rows_follow_the_share_and_every_reason_appears(con) -> None:
    per_table = dict(con.execute('select "table", count(*) from t_bad_rows group by 1').fetchall())
    for table in ("events", "users", "contents", "group_memberships"):
        valid = _one(con, f"select count(*) from v_{table}")
        assert 0.5 * SHARE <= per_table[table] / valid <= 1.5 * SHARE, table
    reasons = {
        (t, r) for t, r in con.execute('select distinct "table", reason from t_bad_rows').fetchall()
    }
    expected = {
        ("events", r)
        for r in (
            "duplicate_key",
            "missing_key",
            "missing_user_id",
            "unknown_event_type",
            "timestamp_in_future",
            "timestamp_before_2000",
            "negative_amount",
            "unknown_user",
            "unknown_group",
        )
    }
    expected |= {("users", "duplicate_key"), ("users", "missing_key")}
    expected |= {("contents", r) for r in ("broken_encoding", "duplicate_key", "missing_key")}
    expected |= {("group_memberships", "unknown_group"), ("group_memberships", "unknown_user")}
    assert reasons == expected
    for table in ("experiments", "experiment_assignments", "interventions", "groups"):
        assert table not in per_table


def test_bad_rows_really_have_their_problem(con) -> None:
    rows = con.execute(
        """select b.reason, e.event_id, e.user_id, e.event_type, e.occurred_at, e.amount,
                  e.group_id, b.key
        from t_bad_rows b join r_events e on b.file = e.f and b.row_index = e.rn
        where b."table" = 'events'"""
    ).fetchall()
    assert len(rows) == _one(con, "select count(*) from t_bad_rows where \"table\" = 'events'")
    users = {u for (u,) in con.execute("select user_id from v_users").fetchall()}
    groups = {g for (g,) in con.execute("select group_id from r_groups").fetchall()}
    first_copy = dict(
        con.execute(
            "select event_id, min(f || ':' || lpad(cast(rn as varchar), 9, '0')) "
            "from r_events group by 1"
        ).fetchall()
    )
    for reason, event_id, user_id, event_type, occurred_at, amount, group_id, key in rows:
        assert key == event_id
        if reason == "duplicate_key":
            assert first_copy[event_id] is not None
        elif reason == "missing_key":
            assert event_id is None
        elif reason == "missing_user_id":
            assert user_id is None
        elif reason == "unknown_event_type":
            assert event_type.strip().lower() not in EVENT_TYPES
        elif reason == "timestamp_in_future":
            assert occurred_at.year == 2099
        elif reason == "timestamp_before_2000":
            assert occurred_at.year < 2000
        elif reason == "negative_amount":
            assert event_type == "purchase" and amount < 0
        elif reason == "unknown_user":
            assert user_id not in users
        elif reason == "unknown_group":
            assert group_id not in groups
    # Duplicates are exact copies that come after their original in file order.
    assert (
        _one(
            con,
            """select count(*) from t_bad_rows b join r_events d
                 on b.file = d.f and b.row_index = d.rn
            where b.reason = 'duplicate_key' and not exists (
                select 1 from r_events o where o.event_id = d.event_id and o.f = d.f
                and o.rn < d.rn and o.occurred_at = d.occurred_at and o.user_id = d.user_id)""",
        )
        == 0
    )
    broken = con.execute(
        """select c.body from t_bad_rows b join r_contents c on b.row_index = c.rn
        where b."table" = 'contents' and b.reason = 'broken_encoding'"""
    ).fetchall()
    assert broken
    assert all(
        "\ufffd" in body or any("\u00c2" <= ch <= "\u00ef" for ch in body) for (body,) in broken
    )
    assert _one(con, "select count(*) from v_contents where body like '%\ufffd%'") == 0


# --------------------------------------------------------------------------- planted truth


def test_communities_are_small_heavy_tailed_and_cover_most_users(con) -> None:
    sizes = [s for (s,) in con.execute("select size from t_communities order by size").fetchall()]
    assert min(sizes) >= 8 and max(sizes) <= 300
    # Right-skewed even in a small sample (the tail itself is tested on the sampler).
    median = sizes[len(sizes) // 2]
    assert sum(sizes) / len(sizes) > median
    assert max(sizes) >= 2.5 * median
    members = _one(con, "select count(distinct user_id) from t_community_memberships")
    assert 0.60 <= members / USERS <= 0.80
    lifecycles = {
        x for (x,) in con.execute("select distinct lifecycle from t_communities").fetchall()
    }
    assert {"stable", "born", "growing", "split", "split_off", "merged", "dissolved"} <= lifecycles
    kinds = {
        x for (x,) in con.execute("select distinct event_type from t_community_events").fetchall()
    }
    assert kinds == {"born", "grew", "split", "merged", "dissolved"}


def test_size_distribution_is_heavy_tailed() -> None:
    sizes = np.sort(_sample_sizes(np.random.default_rng(0), 100_000, Knobs()))
    assert 100_000 - 8 < sizes.sum() <= 100_000
    assert sizes.min() >= 8 and sizes.max() <= 300
    median = np.median(sizes)
    assert median <= 20
    assert sizes.mean() >= 1.6 * median
    # The largest tenth holds ~40% of all members (a uniform 8-300 gives ~17%).
    top = sizes[-len(sizes) // 10 :]
    assert top.sum() / sizes.sum() >= 0.3
    assert (sizes >= 200).sum() >= 10


def test_lifecycle_intervals_are_consistent(con) -> None:
    # Nobody is in a community before it is born or after it ends.
    assert (
        _one(
            con,
            """select count(*) from t_community_memberships m
            join t_communities c using (community_id)
            where m.valid_from < c.born_day or (c.end_day is not null
                  and (m.valid_to is null or m.valid_to > c.end_day))""",
        )
        == 0
    )
    # Split-offs and merge targets take over members on the event day.
    moved = _one(
        con,
        """select count(*) from t_community_events e
        join t_community_memberships m on m.community_id = e.related_community_id
        where e.event_type = 'split' and m.valid_from = e.day""",
    )
    assert moved >= 8


def test_measured_mixing_is_in_range(con) -> None:
    mixing = _one(
        con,
        """with it as (
            select event_id, user_id, target_user_id, day from v_events
            where event_type in ('comment', 'reaction', 'share', 'mention', 'invite_sent')
        ),
        actor as (
            select it.event_id, it.target_user_id, it.day, m.community_id
            from it join t_community_memberships m
              on m.user_id = it.user_id and it.day >= m.valid_from
             and (m.valid_to is null or it.day < m.valid_to)
        ),
        labelled as (
            select event_id, bool_or(exists (
                select 1 from t_community_memberships t
                where t.user_id = actor.target_user_id and t.community_id = actor.community_id
                  and actor.day >= t.valid_from and (t.valid_to is null or actor.day < t.valid_to)
            )) as inside
            from actor group by 1
        )
        select avg(case when inside then 0.0 else 1.0 end) from labelled""",
    )
    assert 0.15 <= mixing <= 0.35


def test_key_members_are_much_more_active(con) -> None:
    medians = dict(
        con.execute(
            """with k as (select user_id, bool_or(is_key_member) as key
                          from t_community_memberships group by 1),
            a as (select user_id, count(*) as n from v_events
                  where event_type != 'session_start' group by 1)
            select k.key, median(coalesce(a.n, 0)) from k left join a using (user_id) group by 1"""
        ).fetchall()
    )
    assert medians[True] >= 3 * medians[False]
    per_community = con.execute(
        "select count(*) from t_key_members group by community_id"
    ).fetchall()
    assert all(1 <= n <= 3 for (n,) in per_community)


def test_bridges_exist_in_two_communities(con) -> None:
    n = _one(con, "select count(*) from t_bridges")
    members = _one(con, "select count(distinct user_id) from t_community_memberships")
    assert 0.02 <= n / members <= 0.06
    assert (
        _one(
            con,
            """select count(*) from t_bridges b where (select count(distinct community_id)
               from t_community_memberships m where m.user_id = b.user_id) < 2""",
        )
        == 0
    )


def test_photography_zh_community_complains_about_night_noise(con) -> None:
    found = con.execute(
        """select p.community_id, p.n_messages from t_community_pain_points p
        where p.topic_key = 'photography' and p.language = 'zh' and p.rank = 1
          and p.pain_point_key = 'night_noise' order by p.n_messages desc limit 1"""
    ).fetchall()
    assert found, "no zh photography community with night_noise as its top pain point"
    top = found[0]
    assert top[1] >= 30
    labelled = _one(
        con,
        f"""select count(*) from t_content_labels where community_id = '{top[0]}'
        and pain_point_key = 'night_noise' and sentiment = 'negative'""",
    )
    assert labelled == top[1]
    zh_bodies = _one(
        con,
        f"""select count(*) from t_content_labels l join v_contents c using (content_id)
        where l.community_id = '{top[0]}' and l.pain_point_key = 'night_noise'
          and l.language = 'zh' and c.body like '%夜景%'""",
    )
    assert zh_bodies > 0


def test_sentiment_and_language_mix(con) -> None:
    shares = dict(
        con.execute(
            "select sentiment, count(*) / sum(count(*)) over () from t_content_labels group by 1"
        ).fetchall()
    )
    assert abs(shares["positive"] - 0.45) < 0.05
    assert abs(shares["neutral"] - 0.35) < 0.05
    assert abs(shares["negative"] - 0.20) < 0.05
    null_share = _one(
        con, "select avg(case when language is null then 1.0 else 0 end) from v_contents"
    )
    assert 0.02 < null_share < 0.08


def test_signups_accelerate_after_the_inflection(con) -> None:
    before, after = con.execute(
        """with s as (select cast(signed_up_at as date) as d, count(*) as n from v_users
                      where signed_up_at >= '2026-01-01' group by 1)
        select avg(n) filter (where d < g.inflection_date),
               avg(n) filter (where d >= g.inflection_date)
        from s, t_growth g"""
    ).fetchall()[0]
    assert after >= 1.4 * before
    assert _one(con, "select count(*) from v_users where signed_up_at < '2026-01-01'") > 0.2 * USERS


def test_members_are_retained_better(con) -> None:
    retained = dict(
        con.execute(
            """with last_week as (select distinct user_id from v_events
                                  where day >= date '2026-01-01' + interval 33 day),
            members as (select distinct user_id from t_community_memberships)
            select u.user_id in (select user_id from members),
                   avg(case when u.user_id in (select user_id from last_week) then 1.0 else 0 end)
            from v_users u where u.signed_up_at < '2026-01-01' group by 1"""
        ).fetchall()
    )
    assert retained[True] > retained[False] + 0.1


def test_experiments_and_interventions(con, data: Path) -> None:
    arms = dict(
        con.execute(
            """select e.unit_type, count(distinct a.variant)
            from read_parquet('{raw}/experiments.parquet') e
            join read_parquet('{raw}/experiment_assignments.parquet') a using (experiment_id)
            group by 1""".format(raw=data / "raw")
        ).fetchall()
    )
    assert arms == {"group": 2, "user": 2}
    truth = dict(con.execute("select unit_type, planted_effect from t_experiments").fetchall())
    assert truth["group"] > 0 and truth["user"] > 0
    kinds = [k for (k,) in con.execute("select intervention_type from t_interventions").fetchall()]
    assert 5 <= sum(k in ("pilot", "resource_boost") for k in kinds) <= 10
    assert kinds.count("cross_group_connection") == 1
    # The connection names its partner in the optional related_target_id column: a
    # real group other than the target, which its description names too; the other
    # interventions have none.
    rows = con.execute(
        """select i.intervention_type, i.target_id, i.related_target_id, i.description,
                  g.group_id is not null as is_known_group
        from read_parquet('{raw}/interventions.parquet') i
        left join read_parquet('{raw}/groups.parquet') g on g.group_id = i.related_target_id
        """.format(raw=data / "raw")
    ).fetchall()
    for kind, target, related, description, is_known_group in rows:
        if kind == "cross_group_connection":
            assert related != target and is_known_group and f"({related})" in description
        else:
            assert related is None


def test_spillover_exposure_truth_is_per_control_user(con, data: Path) -> None:
    """truth/spillover_exposure: one row per control user of exp002 the spillover touched,
    shares in [0, 1], and its session-day-weighted mean is the summary's planted mean."""
    rows = con.execute(
        """select x.user_id, x.count_session_days, x.mean_planted_share, a.variant
        from t_spillover_exposure x
        left join read_parquet('{raw}/experiment_assignments.parquet') a
          on a.experiment_id = x.experiment_id and a.unit_id = x.user_id""".format(raw=data / "raw")
    ).df()
    assert len(rows) > 100 and rows["user_id"].is_unique
    assert set(rows["variant"]) == {"control"}
    assert ((rows["mean_planted_share"] >= 0) & (rows["mean_planted_share"] <= 1)).all()
    assert rows["mean_planted_share"].std() > 0.05
    mean, days = con.execute(
        "select mean_treated_share, count_control_session_days from t_spillover"
    ).fetchone()
    assert rows["count_session_days"].sum() == days
    weighted = (rows["mean_planted_share"] * rows["count_session_days"]).sum() / days
    assert abs(weighted - mean) < 1e-9


def test_summary_json(data: Path) -> None:
    summary = json.loads((data / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == SEED
    assert summary["parameters"]["n_users"] == USERS
    assert 0.15 <= summary["planted"]["mixing_measured_pooled"] <= 0.35


# --------------------------------------------------------------------------- CLI / API


def test_cli_prints_progress_and_summary(tmp_path: Path, capsys) -> None:
    code = cli.main(
        [
            "--users",
            "400",
            "--days",
            "14",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "r"),
            "--truth",
            str(tmp_path / "t"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "day 14/14" in out and "events" in out and "bad rows per reason" in out
    assert len(list((tmp_path / "r" / "events").glob("*.parquet"))) == 14


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "r", tmp_path / "t", n_users=10)
    with pytest.raises(ValueError):
        generate(tmp_path / "r", tmp_path / "t", n_days=3)
    assert (
        cli.main(["--users", "10", "--out", str(tmp_path / "r"), "--truth", str(tmp_path / "t")])
        == 2
    )
