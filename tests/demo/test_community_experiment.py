"""The planted community experiment's extra posts (pure function; the two-phase run on a
built demo is in tests/e2e/test_demo_pipeline.py)."""

import json

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.demo.community_experiment import extra_posts

START = pd.Timestamp("2026-02-05", tz="UTC")


def _posts(n_users=40, per_user=50, seed=0):
    rng = np.random.default_rng(seed)
    users = np.repeat([f"u{i:03d}" for i in range(n_users)], per_user)
    offsets = rng.integers(-10 * 86_400, 10 * 86_400, users.size)
    return pd.DataFrame(
        {
            "event_id": [f"e{i:06d}" for i in range(users.size)],
            "user_id": users,
            "occurred_at": START + pd.to_timedelta(offsets, unit="s"),
        }
    )


def test_only_treated_members_posts_after_the_start_are_copied_at_their_instant():
    posts = _posts()
    treated = [f"u{i:03d}" for i in range(0, 40, 2)]
    extra = extra_posts(posts, treated, start=START, effect=0.5, seed=1)
    assert len(extra) > 0
    assert set(extra["user_id"]) <= set(treated)
    assert (extra["occurred_at"] >= START).all()
    original = posts.set_index("event_id")
    source = extra["event_id"].str.removeprefix("exp003_")
    assert (original.loc[source, "user_id"].to_numpy() == extra["user_id"].to_numpy()).all()
    assert (original.loc[source, "occurred_at"].to_numpy() == extra["occurred_at"].to_numpy()).all()
    assert (extra["event_type"] == "post").all()
    assert extra[["group_id", "target_user_id", "content_id"]].isna().all().all()
    assert json.loads(extra["properties"].iloc[0]) == {"planted": "exp003"}
    assert not extra["event_id"].duplicated().any()


def test_the_copy_rate_is_the_effect():
    posts = _posts(n_users=200, per_user=100)
    users = sorted(posts["user_id"].unique())
    eligible = (posts["occurred_at"] >= START).sum()
    extra = extra_posts(posts, users, start=START, effect=0.3, seed=2)
    rate = len(extra) / eligible
    # Binomial: standard error sqrt(0.3 * 0.7 / ~10,000) = 0.0046.
    assert abs(rate - 0.3) < 0.02, rate
    assert len(extra_posts(posts, users, start=START, effect=0.0, seed=2)) == 0
    assert len(extra_posts(posts, users, start=START, effect=1.0, seed=2)) == eligible


def test_deterministic_with_the_seed_and_independent_of_input_order():
    posts = _posts()
    users = sorted(posts["user_id"].unique())[:10]
    a = extra_posts(posts, users, start=START, effect=0.4, seed=5)
    b = extra_posts(posts.sample(frac=1, random_state=3), users, start=START, effect=0.4, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = extra_posts(posts, users, start=START, effect=0.4, seed=6)
    assert not a["event_id"].equals(c["event_id"])


def test_an_effect_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="must be in"):
        extra_posts(_posts(), ["u000"], start=START, effect=1.5, seed=0)
