"""A tiny published snapshot for the dashboard tests, and accounts on it.

Two declared groups (g1, owned by u1, Chinese; g2, English) and three detected
communities (c1 ~ g1, bilingual; c2; c3 dissolved). In the latest snapshot (2026-01-11)
u1 is a key member of c1 only; in the earlier one (2026-01-04) u1 was a key member of c2,
so a leader created with ``--user u1`` must see c1 and not c2.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.dashboard.access import add_user
from orchestration.lib.dashboard.snapshot import DashboardSettings

S1, S2 = date(2026, 1, 4), date(2026, 1, 11)

TABLES: dict[str, tuple[str, list[tuple]]] = {
    "smallgroups_publication": (
        "run_id varchar, published_at timestamptz, table_name varchar, row_count bigint",
        [("run-1", datetime(2026, 1, 12, 3, 0), "dim_communities", 5)],
    ),
    "dim_communities": (
        "community_id varchar, group_kind varchar, group_id varchar, group_name varchar, "
        "first_seen_date date, last_seen_date date, count_members bigint, "
        "community_status varchar, best_declared_group_id varchar, "
        "best_declared_jaccard double, community_label varchar",
        [
            (
                "group:g1",
                "declared",
                "g1",
                "Photography circle",
                S1,
                S2,
                6,
                "active",
                None,
                None,
                "Photography circle",
            ),
            (
                "group:g2",
                "declared",
                "g2",
                "Hiking club",
                S1,
                S2,
                4,
                "active",
                None,
                None,
                "Hiking club",
            ),
            (
                "c1",
                "detected",
                None,
                None,
                S1,
                S2,
                5,
                "active",
                "g1",
                0.8,
                "摄影 · 夜景噪点 · 三脚架 ~ Photography circle",
            ),
            ("c2", "detected", None, None, S1, S2, 3, "active", None, None, "trail · boots"),
            ("c3", "detected", None, None, S1, S1, 2, "dissolved", None, None, "old · quiet"),
        ],
    ),
    "dim_groups": (
        "group_id varchar, name varchar, category varchar, visibility varchar, "
        "owner_user_id varchar, created_at timestamp, count_members_current bigint, "
        "count_admins_current bigint, count_contents bigint, last_activity_at timestamp",
        [
            (
                "g1",
                "Photography circle",
                "photo",
                "public",
                "u1",
                datetime(2025, 12, 1),
                6,
                1,
                4,
                datetime(2026, 1, 10),
            ),
            (
                "g2",
                "Hiking club",
                "outdoor",
                "public",
                "u5",
                datetime(2025, 12, 1),
                4,
                1,
                2,
                datetime(2026, 1, 10),
            ),
        ],
    ),
    "dim_users": ("user_id varchar", [(f"u{i}",) for i in range(1, 6)]),
    "fct_community_health": (
        "snapshot_date date, group_kind varchar, community_id varchar, count_members bigint, "
        "health_score double, peer_percentile double, activity_score double, "
        "cohesion_score double, growth_score double, sentiment_score double, "
        "top_raising_component varchar, top_raising_points double, "
        "top_lowering_component varchar, top_lowering_points double, "
        "count_active_members bigint, count_messages bigint, share_members_active double, "
        "member_growth_rate_4_weeks double, count_members_4_weeks_before bigint, "
        "count_key_members bigint",
        [
            (
                S1,
                "declared",
                "group:g1",
                5,
                60.0,
                50.0,
                55,
                60,
                65,
                60,
                "growth",
                5.0,
                "activity",
                2.0,
                3,
                10,
                0.6,
                0.0,
                5,
                1,
            ),
            (
                S2,
                "declared",
                "group:g1",
                6,
                70.0,
                90.0,
                65,
                70,
                75,
                70,
                "growth",
                8.0,
                "sentiment",
                1.0,
                4,
                12,
                0.66,
                0.2,
                5,
                1,
            ),
            (
                S2,
                "declared",
                "group:g2",
                4,
                40.0,
                10.0,
                40,
                40,
                40,
                40,
                "cohesion",
                1.0,
                "growth",
                6.0,
                1,
                2,
                0.25,
                -0.2,
                5,
                0,
            ),
            (
                S2,
                "detected",
                "c1",
                5,
                70.0,
                90.0,
                70,
                70,
                70,
                70,
                "activity",
                4.0,
                "growth",
                1.0,
                4,
                9,
                0.8,
                0.02,
                5,
                2,
            ),
            (
                S2,
                "detected",
                "c2",
                3,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                1,
                1,
                0.3,
                None,
                0,
                1,
            ),
        ],
    ),
    "fct_contents_enriched": (
        "content_id varchar, author_user_id varchar, group_id varchar, "
        "parent_content_id varchar, created_at timestamp, created_date date, "
        "language varchar, sentiment_label varchar, is_need_message boolean, "
        "community_id varchar, body varchar",
        [
            (
                "m1",
                "u1",
                "g1",
                None,
                datetime(2026, 1, 9, 8),
                date(2026, 1, 9),
                "zh",
                "negative",
                True,
                "c1",
                "夜景噪点太多了,三脚架也不稳",
            ),
            (
                "m2",
                "u2",
                "g1",
                "m1",
                datetime(2026, 1, 9, 9),
                date(2026, 1, 9),
                "zh",
                "neutral",
                False,
                "c1",
                "希望能加一个降噪功能",
            ),
            (
                "m3",
                "u1",
                "g1",
                None,
                datetime(2026, 1, 10, 8),
                date(2026, 1, 10),
                "zh",
                "positive",
                False,
                "c1",
                "今天的夜景很好看",
            ),
            (
                "m4",
                "u2",
                "g1",
                None,
                datetime(2026, 1, 10, 9),
                date(2026, 1, 10),
                "en",
                "negative",
                True,
                "c1",
                "Night noise is terrible, please add a fix",
            ),
            (
                "m5",
                "u5",
                "g2",
                None,
                datetime(2026, 1, 10, 10),
                date(2026, 1, 10),
                "en",
                "positive",
                False,
                "c2",
                "Great trail today, new boots held up",
            ),
            (
                "m6",
                "u3",
                "g2",
                None,
                datetime(2026, 1, 10, 11),
                date(2026, 1, 10),
                "en",
                "neutral",
                False,
                "c2",
                "SECRET-HIKING-MESSAGE",
            ),
        ],
    ),
    "fct_community_members": (
        "user_id varchar, community_id varchar, snapshot_date date, member_role varchar, "
        "is_key_member boolean, is_bridge boolean, key_member_score double, "
        "key_member_rank bigint, count_messages_4_weeks bigint, "
        "participation_coefficient double, top_other_community_id varchar",
        [
            ("u1", "c2", S1, "key_member", True, False, 0.9, 1, 3, 0.1, None),
            ("u1", "c1", S2, "key_member", True, False, 0.9, 1, 2, 0.2, "c2"),
            ("u2", "c1", S2, "bridge", False, True, 0.5, 2, 2, 0.6, "c2"),
            ("u4", "c1", S2, "peripheral", False, False, 0.1, 3, 0, 0.0, None),
            ("u3", "c2", S2, "key_member", True, False, 0.8, 1, 1, 0.0, None),
        ],
    ),
    "fct_community_topics": (
        "snapshot_date date, community_id varchar, term_rank bigint, term varchar, "
        "score double, count_messages bigint, share_of_messages double",
        [
            (S2, "c1", 1, "夜景噪点", 0.9, 2, 0.5),
            (S2, "c1", 2, "三脚架", 0.5, 1, 0.25),
            (S1, "c1", 1, "old-term", 0.9, 2, 0.5),
            (S2, "group:g2", 1, "trail", 0.9, 2, 1.0),
        ],
    ),
    "fct_community_trending_terms": (
        "snapshot_date date, community_id varchar, week_start_date date, term_rank bigint, "
        "term varchar, count_messages bigint, count_authors bigint, rise double, lift double",
        [(S2, "c1", date(2026, 1, 5), 1, "降噪", 2, 2, 0.5, 3.0)],
    ),
    "fct_community_pain_points": (
        "snapshot_date date, community_id varchar, pain_point_rank bigint, phrase varchar, "
        "language varchar, count_messages bigint, count_authors bigint, trend varchar, "
        "avg_sentiment double, share_negative double, score double, "
        "example_content_ids varchar[]",
        [
            (S2, "c1", 1, "夜景噪点", "zh", 2, 2, "rising", -0.5, 0.5, 10.0, ["m1", "m2"]),
            (S2, "c1", 2, "night noise", "en", 1, 1, "new", -0.7, 1.0, 5.0, ["m4", "gone"]),
            (S2, "group:g2", 1, "SECRET-PAIN", "en", 1, 1, "new", 0.0, 0.0, 1.0, ["m6"]),
        ],
    ),
    "fct_community_sentiment_weekly": (
        "snapshot_date date, community_id varchar, week_start_date date, "
        "count_messages_week bigint, avg_sentiment_week double, net_sentiment_week double, "
        "share_negative_week double, share_need_messages_week double",
        [
            (S1, "c1", date(2025, 12, 29), 3, 0.1, 0.2, 0.1, 0.1),
            (S2, "c1", date(2025, 12, 29), 3, 0.1, 0.3, 0.1, 0.1),
            (S2, "c1", date(2026, 1, 5), 4, -0.1, -0.25, 0.5, 0.5),
        ],
    ),
    "fct_community_lookalikes": (
        "snapshot_date date, community_id varchar, lookalike_rank bigint, "
        "lookalike_community_id varchar, similarity double, structural_similarity double, "
        "topic_similarity double",
        [(S2, "c1", 1, "c2", 0.7, 0.6, 0.8), (S2, "group:g1", 1, "group:g2", 0.5, 0.5, 0.5)],
    ),
    "fct_community_affinity": (
        "community_id_a varchar, community_id_b varchar, snapshot_date date, "
        "count_cross_edges bigint, count_members_tied_across bigint, affinity double, "
        "topic_similarity double",
        [("c1", "c2", S2, 3, 2, 0.4, 0.1), ("c1", "c2", S1, 1, 1, 0.1, 0.1)],
    ),
    "fct_community_events": (
        "event_date date, community_id varchar, event_type varchar, "
        "related_community_id varchar, size_before bigint, size_after bigint, overlap double",
        [
            (S1, "c1", "born", None, None, 4, None),
            (S2, "c1", "continued", "c1", 4, 5, 0.8),
            (S2, "c1", "grew", "c2", 4, 5, 0.3),
            (S2, "c3", "dissolved", None, 2, None, None),
        ],
    ),
    "fct_intervention_attribution": (
        "intervention_id varchar, intervention_type varchar, target_type varchar, "
        "target_id varchar, group_kind varchar, community_id varchar, started_at timestamp, "
        "ended_at timestamp, status varchar, n_donors bigint, relative_effect double, "
        "relative_ci_low double, relative_ci_high double, did_p_value double, "
        "synth_relative_effect double, has_pre_trend boolean, contribution_dau double, "
        "contribution_dau_ci_low double, contribution_dau_ci_high double",
        [
            (
                "iv1",
                "pilot",
                "group",
                "g2",
                "declared",
                "group:g2",
                datetime(2026, 1, 5, 10),
                None,
                "estimated",
                3,
                0.1,
                -0.1,
                0.3,
                0.4,
                0.12,
                False,
                1.5,
                -0.5,
                3.5,
            )
        ],
    ),
    "fct_kpi_daily": (
        "kpi_date date, count_users bigint, count_dau bigint, count_wau bigint, "
        "count_mau bigint, count_new_users bigint, count_active_groups bigint, "
        "count_active_group_members bigint, share_contents_in_groups double",
        [
            (
                date(2026, 1, 1) + timedelta(days=i),
                100 + 10 * i,
                20 + (2 * i if i < 5 else 10 + 6 * (i - 5)),
                50 + i,
                80 + i,
                10,
                2,
                8,
                0.5,
            )
            for i in range(10)
        ],
    ),
    "fct_growth_inflections": (
        "series_name varchar, inflection_date date, inflection_date_low date, "
        "inflection_date_high date, direction varchar, slope_before double, "
        "slope_after double, slope_ratio double, p_value double, confidence double, "
        "intervention_ids varchar, experiment_ids varchar, contribution_dau double, "
        "contribution_posts_per_day double",
        [
            (
                "count_dau",
                date(2026, 1, 6),
                date(2026, 1, 5),
                date(2026, 1, 7),
                "up",
                2.0,
                6.0,
                3.0,
                0.001,
                0.99,
                "iv1",
                "exp1",
                1.5,
                2.0,
            )
        ],
    ),
    "fct_experiment_results": (
        "experiment_id varchar, metric_name varchar, is_primary boolean, variant varchar, "
        "analysis_unit varchar, adjustment varchar, units bigint, mean_control double, "
        "mean_variant double, lift_relative double, lift_relative_ci_low double, "
        "lift_relative_ci_high double, p_value double, p_value_adjusted double",
        [
            (
                "exp1",
                "posts_per_member_day",
                True,
                "treatment",
                "community",
                "cuped",
                40,
                1.0,
                1.1,
                0.1,
                -0.02,
                0.22,
                0.1,
                0.2,
            )
        ],
    ),
    "fct_experiment_health": (
        "experiment_id varchar, units_per_variant varchar, srm_p_value double, "
        "has_srm boolean, has_member_srm boolean, count_problems bigint, "
        "has_unit_split_or_merge boolean, spillover_share double, has_spillover boolean, "
        "recommend_randomize_by_community boolean, experiment_name varchar, "
        "unit_type varchar, started_at timestamp, ended_at timestamp",
        [
            (
                "exp1",
                "control: 20, treatment: 20",
                0.9,
                False,
                False,
                0,
                False,
                0.3,
                True,
                True,
                "Weekly prompts",
                "group",
                datetime(2026, 1, 3, 9),
                None,
            )
        ],
    ),
    "fct_experiment_spillover": (
        "experiment_id varchar, metric_name varchar, exposure_kind varchar, "
        "exposure_level varchar, units bigint, spillover_estimate double, ci_low double, "
        "ci_high double, p_value_adjusted double, has_spillover boolean, is_material boolean",
        [
            (
                "exp1",
                "posts_per_member_day",
                "tie_share",
                "high",
                10,
                0.05,
                0.01,
                0.09,
                0.01,
                True,
                True,
            )
        ],
    ),
    "fct_experiment_power": (
        "metric_name varchar, unit_type varchar, count_units bigint, design_effect double, "
        "mde_relative double, mde_relative_cuped double, power double, alpha double",
        [("posts_per_member_day", "community", 40, 2.0, 0.2, 0.15, 0.8, 0.05)],
    ),
}


def build_snapshot(path: Path, overrides: dict[str, list[tuple]] | None = None) -> Path:
    """Write the tiny snapshot to ``path`` (rows of some tables replaced by ``overrides``)."""
    con = duckdb.connect(str(path))
    for name, (columns, rows) in TABLES.items():
        con.execute(f"create table {name} ({columns})")
        rows = (overrides or {}).get(name, rows)
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"insert into {name} values ({marks})", rows)
    con.close()
    return path


@pytest.fixture
def snapshot_path(tmp_path) -> Path:
    return build_snapshot(tmp_path / "serving.duckdb")


@pytest.fixture
def con(snapshot_path):
    connection = duckdb.connect(str(snapshot_path), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def _accounts_file(tmp_path_factory):
    """The three accounts, hashed once (argon2 is slow on purpose) and copied per test."""
    path = tmp_path_factory.mktemp("accounts") / "dashboard_users"
    accounts = {
        "op": add_user(path, "op", "operator"),
        "lead_g1": add_user(path, "lead_g1", "leader", group_id="g1"),
        "lead_u1": add_user(path, "lead_u1", "leader", user_id="u1"),
    }
    return path, accounts


@pytest.fixture
def dashboard(tmp_path, snapshot_path, _accounts_file):
    """Settings, and accounts: an operator, a leader of g1, a leader by user u1."""
    settings = DashboardSettings(
        serving_path=snapshot_path,
        users_path=tmp_path / "state" / "dashboard_users",
        secret_path=tmp_path / "state" / "dashboard_secret",
        secret=None,
        host="127.0.0.1",
        port=8050,
    )
    settings.users_path.parent.mkdir()
    shutil.copy2(_accounts_file[0], settings.users_path)
    return settings, dict(_accounts_file[1])


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
