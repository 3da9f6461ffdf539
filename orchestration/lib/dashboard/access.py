"""Dashboard accounts and who may see which group.

Accounts live in one JSON file (``SMALLGROUPS_DASHBOARD_USERS``, default
``$SMALLGROUPS_STATE_DIR/dashboard_users``; the state folder defaults to ``.smallgroups/``
in the project). Each account stores its role, the group it leads (leaders), an argon2
hash of its password and the SHA-256 of its API token; neither secret is ever stored.
:func:`add_user` creates an account and returns its one-time password and token.

The leader boundary is a security property, so it is decided here, by pure functions
over the published snapshot, and every route of the web application calls them:

* an ``operator`` sees every group;
* a ``leader`` created with ``--group GROUP_ID`` sees that declared group (the owner or an
  admin of it);
* a ``leader`` created with ``--user USER_ID`` sees the detected communities where that
  user is a key member in the latest snapshot (``fct_community_members``).

Groups are named by their ``dim_communities.community_id`` (``group:<group_id>`` for a
declared group, ``c...`` for a detected community); :func:`resolve_group_id` also accepts a
declared group's ``dim_groups.group_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "ROLES",
    "Account",
    "AccountError",
    "NewAccount",
    "account_for_token",
    "add_user",
    "allowed_groups",
    "authenticate",
    "can_see_group",
    "hash_token",
    "leader_view",
    "load_accounts",
    "resolve_group_id",
]

#: Roles an account may have.
ROLES = ("operator", "leader")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$")
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong
# password (no timing oracle on account names).
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A bad account request or a users file that cannot be used."""


@dataclass(frozen=True)
class Account:
    """One dashboard account as stored in the users file.

    Attributes
    ----------
    name : str
        Login name.
    role : str
        ``operator`` or ``leader``.
    group_id : str or None
        Leaders created with ``--group``: the declared group (``dim_groups.group_id``).
    user_id : str or None
        Leaders created with ``--user``: the user whose key-member communities they see.
    password_hash : str
        argon2id hash of the password.
    token_sha256 : str
        Hex SHA-256 of the API token.
    created_at : str
        ISO time the account was created (UTC).
    """

    name: str
    role: str
    group_id: str | None
    user_id: str | None
    password_hash: str
    token_sha256: str
    created_at: str


@dataclass(frozen=True)
class NewAccount:
    """What :func:`add_user` returns: the stored account and its one-time secrets.

    Attributes
    ----------
    account : Account
        The stored account.
    password : str
        The password (shown once, never stored).
    token : str
        The API token (shown once, never stored).
    """

    account: Account
    password: str
    token: str


def hash_token(token: str) -> str:
    """Hex SHA-256 of an API token (tokens are random, so a fast hash is enough).

    Parameters
    ----------
    token : str
        The token as the client sends it.

    Returns
    -------
    str
        64 hex digits.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_accounts(path: Path) -> dict[str, Account]:
    """Read the users file.

    Parameters
    ----------
    path : Path
        The users file.

    Returns
    -------
    dict
        Account name to :class:`Account`, in file order.

    Raises
    ------
    AccountError
        The file is missing, is not the JSON this module writes, or holds an account
        with an unknown role or a leader without a group.
    """
    if not path.is_file():
        raise AccountError(
            f"no dashboard users file at {path}: create an account with "
            "`smallgroups dashboard add-user NAME --role operator|leader` "
            "(or point SMALLGROUPS_DASHBOARD_USERS at the file)"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        rows = document["accounts"]
        accounts = [Account(**row) for row in rows]
    except (ValueError, KeyError, TypeError) as error:
        raise AccountError(f"dashboard users file {path} is not valid: {error}") from None
    for account in accounts:
        _check(account.name, account.role, account.group_id, account.user_id)
    return {account.name: account for account in accounts}


def _check(name: str, role: str, group_id: str | None, user_id: str | None) -> None:
    if not _NAME.match(name or ""):
        raise AccountError(f"account name {name!r}: use 1-64 letters, digits, . _ @ -")
    if role not in ROLES:
        raise AccountError(f"account {name!r}: role {role!r} is not one of {', '.join(ROLES)}")
    if role == "operator" and (group_id or user_id):
        raise AccountError(f"account {name!r}: an operator sees every group (no --group/--user)")
    if role == "leader" and bool(group_id) == bool(user_id):
        raise AccountError(f"account {name!r}: a leader needs exactly one of --group and --user")
    for value in (group_id, user_id):
        if value is not None and not _ID.match(value):
            raise AccountError(f"account {name!r}: {value!r} is not a valid id")


def add_user(
    path: Path,
    name: str,
    role: str,
    *,
    group_id: str | None = None,
    user_id: str | None = None,
    now: datetime | None = None,
) -> NewAccount:
    """Create an account (or replace the one of that name) and return its secrets.

    Parameters
    ----------
    path : Path
        The users file; created (with its folder) when missing, mode 0600.
    name : str
        Login name.
    role : str
        ``operator`` or ``leader``.
    group_id : str, optional
        Leader of this declared group (``dim_groups.group_id``).
    user_id : str, optional
        Leader of the communities where this user is a key member.
    now : datetime, optional
        Creation time (tests pass one).

    Returns
    -------
    NewAccount
        The account with its one-time password and API token.

    Raises
    ------
    AccountError
        Invalid name, role or group arguments, or an unreadable users file.
    """
    _check(name, role, group_id, user_id)
    accounts = load_accounts(path) if path.exists() else {}
    password = secrets.token_urlsafe(12)
    token = secrets.token_urlsafe(32)
    account = Account(
        name=name,
        role=role,
        group_id=group_id,
        user_id=user_id,
        password_hash=_HASHER.hash(password),
        token_sha256=hash_token(token),
        created_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
    )
    accounts[name] = account
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    text = json.dumps({"accounts": [asdict(a) for a in accounts.values()]}, indent=2) + "\n"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
    return NewAccount(account=account, password=password, token=token)


def authenticate(accounts: dict[str, Account], name: str, password: str) -> Account | None:
    """The account whose name and password match, else None.

    Parameters
    ----------
    accounts : dict
        From :func:`load_accounts`.
    name, password : str
        What the login form sent.

    Returns
    -------
    Account or None
        None for an unknown name or a wrong password (both take an argon2 verification).
    """
    account = accounts.get(name)
    try:
        _HASHER.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return account


def account_for_token(accounts: dict[str, Account], token: str) -> Account | None:
    """The account whose API token this is, else None.

    Parameters
    ----------
    accounts : dict
        From :func:`load_accounts`.
    token : str
        The bearer token.

    Returns
    -------
    Account or None
        Compared in constant time against every stored hash.
    """
    digest = hash_token(token)
    found = None
    for account in accounts.values():
        if hmac.compare_digest(account.token_sha256, digest):
            found = account
    return found


def resolve_group_id(con: duckdb.DuckDBPyConnection, group_id: str) -> str | None:
    """The ``dim_communities.community_id`` a URL or API id names, else None.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.
    group_id : str
        A ``dim_communities.community_id`` or a declared group's ``dim_groups.group_id``.

    Returns
    -------
    str or None
        None when no group has that id (bound as a parameter: any text is safe).
    """
    row = con.execute(
        """
        select community_id from dim_communities
        where community_id = $id or (group_kind = 'declared' and group_id = $id)
        order by community_id = $id desc
        limit 1
        """,
        {"id": group_id},
    ).fetchone()
    return row[0] if row else None


def allowed_groups(con: duckdb.DuckDBPyConnection, account: Account) -> frozenset[str] | None:
    """The groups an account may see.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to the published snapshot.
    account : Account
        The caller.

    Returns
    -------
    frozenset of str or None
        None for an operator (every group); for a leader the ``community_id`` values of
        their declared group or of the communities where their user is a key member in
        the latest snapshot (possibly empty).
    """
    if account.role == "operator":
        return None
    if account.role != "leader":
        return frozenset()
    if account.group_id:
        rows = con.execute(
            "select community_id from dim_communities "
            "where group_kind = 'declared' and group_id = $id",
            {"id": account.group_id},
        ).fetchall()
    else:
        rows = con.execute(
            """
            select distinct community_id from fct_community_members
            where user_id = $id and is_key_member
                and snapshot_date = (select max(snapshot_date) from fct_community_members)
            """,
            {"id": account.user_id},
        ).fetchall()
    return frozenset(row[0] for row in rows)


def can_see_group(allowed: frozenset[str] | None, community_id: str | None) -> bool:
    """Whether the caller may open this group.

    Parameters
    ----------
    allowed : frozenset of str or None
        From :func:`allowed_groups` (None: every group).
    community_id : str or None
        From :func:`resolve_group_id` (None: no such group).

    Returns
    -------
    bool
        False for an unknown group, whoever asks.
    """
    if community_id is None:
        return False
    return allowed is None or community_id in allowed


#: Parts of a group page that describe other groups: a leader does not get them.
OTHER_GROUPS_PARTS = ("lookalikes", "affinity", "interventions")


def leader_view(detail: dict) -> dict:
    """A group page as a leader may see it: nothing about other groups.

    Parameters
    ----------
    detail : dict
        From :func:`orchestration.lib.dashboard.queries.group_detail`.

    Returns
    -------
    dict
        A copy without :data:`OTHER_GROUPS_PARTS`, lifecycle events without the label
        and id of the related community, and members without their other community.
    """
    view = {key: value for key, value in detail.items() if key not in OTHER_GROUPS_PARTS}
    view["events"] = [
        {**event, "related_community_id": None, "community_label": None}
        for event in detail["events"]
    ]
    view["members"] = [
        {key: value for key, value in member.items() if key != "top_other_community_id"}
        for member in detail["members"]
    ]
    return view
