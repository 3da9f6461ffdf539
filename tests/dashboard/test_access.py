"""Accounts and the leader boundary, as pure functions (no server)."""

import json
import stat

import pytest

from orchestration.lib.dashboard import access, queries
from orchestration.lib.dashboard.access import AccountError


def test_users_file_holds_only_hashes(dashboard):
    settings, accounts = dashboard
    text = settings.users_path.read_text()
    for created in accounts.values():
        assert created.password not in text and created.token not in text
        assert access.hash_token(created.token) in text
    assert stat.S_IMODE(settings.users_path.stat().st_mode) == 0o600
    stored = json.loads(text)["accounts"]
    assert [a["name"] for a in stored] == ["op", "lead_g1", "lead_u1"]
    assert all(a["password_hash"].startswith("$argon2id$") for a in stored)


def test_password_and_token_checks(dashboard):
    settings, accounts = dashboard
    loaded = access.load_accounts(settings.users_path)
    op = accounts["op"]
    assert access.authenticate(loaded, "op", op.password).name == "op"
    assert access.authenticate(loaded, "op", op.password + "x") is None
    assert access.authenticate(loaded, "op", accounts["lead_g1"].password) is None
    assert access.authenticate(loaded, "nobody", op.password) is None
    assert access.account_for_token(loaded, accounts["lead_g1"].token).name == "lead_g1"
    assert access.account_for_token(loaded, op.token[:-1]) is None
    assert access.account_for_token(loaded, "") is None


def test_recreating_an_account_revokes_its_old_secrets(dashboard):
    settings, accounts = dashboard
    again = access.add_user(settings.users_path, "op", "operator")
    loaded = access.load_accounts(settings.users_path)
    assert list(loaded) == ["op", "lead_g1", "lead_u1"]
    assert access.account_for_token(loaded, accounts["op"].token) is None
    assert access.authenticate(loaded, "op", accounts["op"].password) is None
    assert access.account_for_token(loaded, again.token).name == "op"


@pytest.mark.parametrize(
    ("name", "role", "group_id", "user_id", "message"),
    [
        ("x", "admin", None, None, "role 'admin'"),
        ("x", "leader", None, None, "exactly one of"),
        ("x", "leader", "g1", "u1", "exactly one of"),
        ("x", "operator", "g1", None, "operator sees every group"),
        ("bad name", "operator", None, None, "account name"),
        ("x", "leader", "g1' or '1'='1", None, "not a valid id"),
    ],
)
def test_bad_accounts_are_refused(tmp_path, name, role, group_id, user_id, message):
    path = tmp_path / "users"
    with pytest.raises(AccountError, match=message):
        access.add_user(path, name, role, group_id=group_id, user_id=user_id)
    assert not path.exists()


def test_missing_or_broken_users_file_is_a_clear_error(tmp_path):
    with pytest.raises(AccountError, match="add-user"):
        access.load_accounts(tmp_path / "none")
    broken = tmp_path / "broken"
    broken.write_text('{"accounts": [{"name": "x"}]}')
    with pytest.raises(AccountError, match="not valid"):
        access.load_accounts(broken)


def test_allowed_groups(con, dashboard):
    _, accounts = dashboard
    assert access.allowed_groups(con, accounts["op"].account) is None
    assert access.allowed_groups(con, accounts["lead_g1"].account) == {"group:g1"}
    # u1 was a key member of c2 in the earlier snapshot only: the latest one decides.
    assert access.allowed_groups(con, accounts["lead_u1"].account) == {"c1"}
    nobody = access.Account("n", "leader", None, "u404", "h", "t", "now")
    assert access.allowed_groups(con, nobody) == frozenset()
    unknown_group = access.Account("n", "leader", "g404", None, "h", "t", "now")
    assert access.allowed_groups(con, unknown_group) == frozenset()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("g1", "group:g1"),
        ("group:g1", "group:g1"),
        ("c1", "c1"),
        ("G1", None),
        ("g1' or '1'='1", None),
        ("c1; drop table dim_communities; --", None),
        ("", None),
    ],
)
def test_resolve_group_id(con, raw, expected):
    assert access.resolve_group_id(con, raw) == expected
    assert con.execute("select count(*) from dim_communities").fetchone()[0] == 5


def test_can_see_group():
    assert access.can_see_group(None, "c2")
    assert not access.can_see_group(None, None)
    assert access.can_see_group(frozenset({"c1"}), "c1")
    assert not access.can_see_group(frozenset({"c1"}), "c2")
    assert not access.can_see_group(frozenset(), "c1")


def test_leader_view_drops_other_groups(con):
    detail = queries.group_detail(con, "c1")
    assert detail["lookalikes"] and detail["affinity"]
    assert any(e["related_community_id"] == "c2" for e in detail["events"])
    view = access.leader_view(detail)
    assert not set(access.OTHER_GROUPS_PARTS) & set(view)
    text = repr(view)
    assert "'c2'" not in text and "trail · boots" not in text
    assert [e["event_type"] for e in view["events"]] == [e["event_type"] for e in detail["events"]]
    assert view["pain_points"] == detail["pain_points"]
