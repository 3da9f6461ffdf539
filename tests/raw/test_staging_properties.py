"""Property-based test of the raw step and the product staging models.

``hypothesis`` writes random raw folders (odd Unicode, emoji, right-to-left text, NUL and
control characters, very long bodies, quotes and SQL-looking ids, extreme timestamps and
amounts), each table as CSV or Parquet (the events sometimes as a folder of daily files
with odd names), registers them with the raw loader and builds the product staging
models with dbt (``dbt build --select +assert_raw_rows_accounted_for``: the base, staging
and rejects models and their data tests, the accounting test included). Every example
then checks:

(a) accounting: per table, each input row is accepted (in ``stg_product__<table>``) or
    rejected with a reason (in ``stg_product__rejected_rows``), exactly once; CSV records
    the reader cannot parse count as their ``malformed_line`` rejects;
(b) no value is interpreted as SQL: the ids of accepted rows come out byte-identical to
    the input (as staging's ``clean_text`` trims them: DuckDB's ``trim`` removes the
    Unicode space separators, category Zs, at both ends; tabs and line breaks stay), and every
    raw view, staging model and the table ``x`` that the ids try to drop still exist;
(c) accepted rows satisfy the staging contracts: dbt's data tests passed (the build
    fails otherwise), and the documented conventions hold in Python too (keys unique and
    not null, timestamps between 2000 and the run start plus the tolerance, known enums
    and currencies, amounts >= 0, accepted references, clean text bodies).

dbt runs once per example, so there are few examples of many rows: ``MAX_EXAMPLES``
generated examples, derandomized (the same inputs on every run), no shrinking, plus the
two ``EXPLICIT`` ones (every odd text, amount and timestamp of the lists, all CSV and all
Parquet). Each row carries an extra column ``probe_row`` (extra columns pass through
staging) that ties an output row to its input. The test prints the number of examples
and rows it tried.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from orchestration.lib.config import PROJECT_DIR
from orchestration.lib.raw import register_raw_tables
from orchestration.lib.raw.contract import TABLES

pytestmark = pytest.mark.e2e

#: Examples per run: each builds the staging models once (~5-10 s).
MAX_EXAMPLES = 10
WAREHOUSE_NAME = "props.duckdb"
#: The tables the examples write (the others stay absent: empty, trivially accounted).
WRITTEN = ("users", "groups", "group_memberships", "events", "contents")
_CONTRACT = {table.name: table for table in TABLES}
#: The text id columns of each written table (checked byte for byte when accepted).
IDS = {
    "users": ("user_id",),
    "groups": ("group_id", "created_by_user_id"),
    "group_memberships": ("group_id", "user_id"),
    "events": ("event_id", "user_id", "group_id", "target_user_id", "content_id"),
    "contents": ("content_id", "author_user_id", "group_id", "parent_content_id"),
}
KEYS = {"users": "user_id", "groups": "group_id", "events": "event_id", "contents": "content_id"}
TIMESTAMPS = {
    "users": ("signed_up_at",),
    "groups": ("created_at",),
    "group_memberships": ("joined_at", "left_at"),
    "events": ("occurred_at",),
    "contents": ("created_at",),
}
REQUIRED_TIMESTAMPS = {"signed_up_at", "created_at", "joined_at", "occurred_at"}


def _seed_column(seed: str, column: str) -> list[str]:
    lines = (PROJECT_DIR / "seeds" / f"{seed}.csv").read_text(encoding="utf-8").splitlines()
    return [row[column] for row in csv.DictReader(lines)]


EVENT_TYPES = _seed_column("event_types", "event_type")
CURRENCIES = _seed_column("currency_rates", "currency")

NASTY_TEXT = [
    "'; drop table x; --",
    "x'); drop table raw.users; --",
    '" or 1=1; --',
    "Robert'); DROP TABLE students;--",
    "{{ var('raw_tables') }}",
    "$1",
    "😀👍🏽",
    "👨‍👩‍👧‍👦",
    "שלום עולם",
    "مرحبا",
    "\u202eevil\u202c",
    "a\x00b",
    "\x00",
    "\x01\x07\x1b\x1f",
    "\x7f",
    "",
    " ",
    "  padded  ",
    "tab\tid",
    "new\nline",
    "cr\rid",
    '"quoted"',
    'half"quote',
    "a,b",
    "\\N",
    "NULL",
    "null",
    "\ufeffbom",
    "\uffff",
    "\ufffd",
    "𝓤𝓷𝓲𝓬𝓸𝓭𝓮",
    "0042",
    "1e5",
    "ä" * 50,
]
NASTY_TIMESTAMPS = [
    "0001-01-01 00:00:00",
    "0001-01-01",
    "9999-12-31 23:59:59",
    "9999-12-31T23:59:59.999999+14:00",
    "1969-12-31T23:59:59Z",
    "1970-01-01",
    "-1",
    "-62135596800",
    "0",
    "NaN",
    "nan",
    "NaT",
    "infinity",
    "-infinity",
    "epoch",
    "now",
    "",
    " ",
    "2026-02-30",
    "2026-13-01",
    "2026-03-01 25:00:00",
    "2026-03-01T09:00:00+08:00",
    "2026-03-01 09:00:00 America/New_York",
    "2026-03-01\x00",
    "'; drop table x; --",
    "292278994-08-17 07:12:55",
    "2025-06-01 12:00:00",
    "2025-06-01T12:00:00-11:00",
]
NASTY_AMOUNTS = [
    "NaN",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "1e308",
    "1e400",
    "-1e400",
    "-1",
    "-0",
    "0",
    "1.5",
    "  2 ",
    "1,5",
    "$3",
    "abc",
    "",
    "0x10",
    "1_000",
    "9" * 400,
    "-1e-320",
    "'; drop table x; --",
]

_CHARS = st.characters(blacklist_categories=("Cs",))
_TEXT = st.one_of(st.sampled_from(NASTY_TEXT), st.text(_CHARS, max_size=30))
_MAYBE_TEXT = st.one_of(st.none(), _TEXT)
_DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(tzinfo=UTC))
# Mostly plausible times, so that rows are accepted, and extreme ones.
_PLAUSIBLE = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2026, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)
_TS_VALUE = st.one_of(
    _PLAUSIBLE,
    _PLAUSIBLE,
    _DATETIMES,
    st.sampled_from(NASTY_TIMESTAMPS),
    st.none(),
    st.text(_CHARS, max_size=12),
)
_AMOUNT = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e6),
    st.sampled_from(NASTY_AMOUNTS),
    st.text(_CHARS, max_size=8),
)
_LONG_BODY = st.builds(
    lambda unit, repeat: unit * repeat,
    st.sampled_from(["夜景 ", "😀", "שלום ", "a\x00", "'; drop table x; -- ", "x"]),
    st.integers(1_000, 40_000),
)


def _variant(values: list[str]) -> st.SearchStrategy:
    """A valid enum value in some casing and padding."""
    return st.builds(
        lambda value, form: form(value),
        st.sampled_from(values),
        st.sampled_from([str, str.upper, " {} ".format]),
    )


def _ref(pool: list[str]) -> st.SearchStrategy:
    """One of the ids drawn before (so that the row can be accepted)."""
    return st.sampled_from(pool) if pool else _MAYBE_TEXT


#: An id: a plain one, or one of the odd texts (Unicode, quotes, SQL, controls).
_ID = st.one_of(st.builds(lambda i: f"id{i}", st.integers(0, 40)), _TEXT)
_MAYBE = st.one_of(st.none(), _TEXT)
_GOOD_AMOUNT = st.one_of(st.floats(min_value=0, max_value=1e6), st.just(0.0), st.just(1e300))


@st.composite
def raw_data(draw) -> dict:
    """One raw folder's rows (per table, a list of dicts with every contract column) and
    how each table is written.

    Each row is either plausible (every value one staging accepts, the ids odd but
    referring to rows drawn before), so that accepted rows exist to check, or wild
    (every value from the odd and extreme strategies)."""

    def row(spec: dict) -> dict:
        wild = draw(st.integers(0, 9)) >= 7
        return {column: draw(w if wild else p) for column, (p, w) in spec.items()}

    def rows(count: st.SearchStrategy, spec) -> list[dict]:
        return [row(spec()) for _ in range(draw(count))]

    ts = (_PLAUSIBLE, _TS_VALUE)
    users = rows(
        st.integers(1, 20),
        lambda: {
            "user_id": (_ID, _ID),
            "signed_up_at": ts,
            "country": (st.sampled_from(["CN", "us", " de "]), _MAYBE),
            "locale": (st.sampled_from(["zh-CN", "en_us", "he-IL", "ar"]), _MAYBE),
            "acquisition_channel": (st.sampled_from(["organic", " Ads "]), _MAYBE),
        },
    )
    user_ids = [u["user_id"] for u in users]
    groups = rows(
        st.integers(0, 8),
        lambda: {
            "group_id": (_ID, _ID),
            "name": (_TEXT, _MAYBE),
            "category": (_TEXT, _MAYBE),
            "created_by_user_id": (st.one_of(st.none(), _ref(user_ids)), _MAYBE),
            "created_at": ts,
            "visibility": (_variant(["public", "private"]), _MAYBE),
        },
    )
    group_ids = [g["group_id"] for g in groups]
    memberships = rows(
        st.integers(0, 10),
        lambda: {
            "group_id": (_ref(group_ids), _MAYBE),
            "user_id": (_ref(user_ids), _MAYBE),
            "joined_at": ts,
            "left_at": (st.one_of(st.none(), _PLAUSIBLE), _TS_VALUE),
            "role": (_variant(["owner", "admin", "member"]), _MAYBE),
        },
    )
    contents = rows(
        st.integers(0, 15),
        lambda: {
            "content_id": (_ID, _ID),
            "author_user_id": (_ref(user_ids), _MAYBE),
            "group_id": (st.one_of(st.none(), _ref(group_ids)), _MAYBE),
            "parent_content_id": (_MAYBE, _MAYBE),
            "created_at": ts,
            "body": (
                st.one_of(_TEXT, st.text(_CHARS, max_size=300), _LONG_BODY),
                st.one_of(_TEXT, _LONG_BODY, st.none()),
            ),
            "language": (st.sampled_from(["zh", "en-US", "ar", "he"]), _MAYBE),
        },
    )
    content_ids = [c["content_id"] for c in contents]

    def event() -> dict:
        purchase = draw(st.booleans())
        return {
            "event_id": (_ID, _ID),
            "user_id": (_ref(user_ids), _MAYBE),
            "event_type": (
                _variant(["purchase"] if purchase else [t for t in EVENT_TYPES if t != "purchase"]),
                _MAYBE,
            ),
            "occurred_at": ts,
            "group_id": (st.one_of(st.none(), _ref(group_ids)), _MAYBE),
            "target_user_id": (st.one_of(st.none(), _ref(user_ids)), _MAYBE),
            "content_id": (st.one_of(st.none(), _ref(content_ids)), _MAYBE),
            # The amount alone is odd on a third of the plausible purchases.
            "amount": (
                st.one_of(_GOOD_AMOUNT, _GOOD_AMOUNT, _AMOUNT) if purchase else st.none(),
                _AMOUNT,
            ),
            "currency": (_variant(CURRENCIES) if purchase else st.none(), _MAYBE),
            "properties": (
                st.one_of(st.none(), _TEXT, st.just('{"k": "v\\u0000"}')),
                _MAYBE,
            ),
        }

    events = rows(st.integers(1, 30), event)
    rows = {
        "users": users,
        "groups": groups,
        "group_memberships": memberships,
        "events": events,
        "contents": contents,
    }
    forms = {name: draw(st.sampled_from(["csv", "parquet"])) for name in WRITTEN}
    if draw(st.booleans()):
        forms["events"] = "parquet_dir"
    daily_names = draw(
        st.lists(
            st.sampled_from(["2026-01-01", "it's", "x'; drop table x; --", "夜景", "a b/c"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    return {"rows": rows, "forms": forms, "daily_names": daily_names}


def _explicit(forms: dict[str, str], daily_names: list[str]) -> dict:
    """Every odd text as a user id (and as an event id of that user), every odd amount on
    a purchase and every odd timestamp on an event of a plausible user: the cases are
    tried on every run, whatever the generation draws."""
    at = datetime(2025, 6, 1, 12, tzinfo=UTC)
    users = [
        {
            "user_id": text,
            "signed_up_at": at,
            "country": "CN",
            "locale": "zh-CN",
            "acquisition_channel": "organic",
        }
        for text in ["plain", *NASTY_TEXT]
    ]
    parquet = forms["events"] != "csv"
    amounts = (
        [float(a) for a in ("nan", "inf", "-inf", "1e308", "-1", "-0.0")]
        if parquet
        else (NASTY_AMOUNTS)
    )

    def event(event_id, user_id, occurred_at=at, event_type="post", amount=None, currency=None):
        return {
            "event_id": event_id,
            "user_id": user_id,
            "event_type": event_type,
            "occurred_at": occurred_at,
            "group_id": None,
            "target_user_id": None,
            "content_id": None,
            "amount": amount,
            "currency": currency,
            "properties": None,
        }

    events = [event(text, text) for text in NASTY_TEXT]
    events += [
        event(f"buy{i}", "plain", event_type="purchase", amount=a, currency="USD")
        for i, a in enumerate(amounts)
    ]
    stamps = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)]
    stamps += [datetime(1969, 12, 31, tzinfo=UTC)] if parquet else NASTY_TIMESTAMPS
    events += [event(f"at{i}", "plain", occurred_at=t) for i, t in enumerate(stamps)]
    contents = [
        {
            "content_id": f"c{i}",
            "author_user_id": "plain",
            "group_id": None,
            "parent_content_id": text,
            "created_at": at,
            "body": body,
            "language": "zh",
        }
        for i, (text, body) in enumerate(
            zip(NASTY_TEXT, [*NASTY_TEXT[::-1], "夜景 " * 40_000], strict=False)
        )
    ]
    rows = {"users": users, "groups": [], "group_memberships": [], "events": events}
    return {
        "rows": {**rows, "contents": contents},
        "forms": forms,
        "daily_names": daily_names,
    }


EXPLICIT = [
    _explicit(dict.fromkeys(WRITTEN, "csv"), ["2026-01-01"]),
    _explicit(
        {**dict.fromkeys(WRITTEN, "parquet"), "events": "parquet_dir"},
        ["it's", "x'; drop table x; --", "a b/c"],
    ),
]


# ----------------------------------------------------------------------------- writing


def _csv_value(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def _write_csv(path: Path, table: str, rows: list[dict]) -> None:
    columns = [*_CONTRACT[table].column_names, "probe_row"]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for probe, row in enumerate(rows):
            values = [_csv_value(row[c]) for c in columns[:-1]]
            writer.writerow(["" if v is None else v for v in values] + [str(probe)])


def _arrow_column(table: str, column: str, values: list):
    typ = dict(_CONTRACT[table].columns)[column]
    if typ == "timestamptz":
        # Parquet is typed: a timestamp column holds timestamps (text would have to
        # parse, tests/raw/test_parquet_types.py); text values become nulls here.
        return pa.array(
            [v if isinstance(v, datetime) else None for v in values], pa.timestamp("us", tz="UTC")
        )
    if typ == "double":
        return pa.array([v if isinstance(v, float) else None for v in values], pa.float64())
    return pa.array(values, pa.string())


def _arrow_table(table: str, rows: list[dict], first_probe: int = 0) -> pa.Table:
    columns = {
        c: _arrow_column(table, c, [row[c] for row in rows]) for c in _CONTRACT[table].column_names
    }
    columns["probe_row"] = pa.array([str(first_probe + i) for i in range(len(rows))], pa.string())
    return pa.table(columns)


def write_raw(raw: Path, example: dict) -> dict[str, list[dict]]:
    """Write an example's raw folder; return the rows as the loader will read them
    (Parquet drops what its types cannot hold), indexed by probe_row."""
    raw.mkdir(parents=True)
    written = {}
    for table in WRITTEN:
        rows, form = example["rows"][table], example["forms"][table]
        if form == "csv":
            _write_csv(raw / f"{table}.csv", table, rows)
            written[table] = [{c: _csv_value(v) for c, v in row.items()} for row in rows]
            continue
        if form == "parquet":
            pq.write_table(_arrow_table(table, rows), raw / f"{table}.parquet")
        else:
            folder = raw / table
            names = example["daily_names"]
            size = -(-len(rows) // len(names))
            for index, name in enumerate(names):
                part = rows[index * size : (index + 1) * size]
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(_arrow_table(table, part, index * size), folder / f"{name}.parquet")
        arrow = _arrow_table(table, rows).to_pylist()
        written[table] = [{c: v for c, v in row.items() if c != "probe_row"} for row in arrow]
    return written


# ----------------------------------------------------------------------------- checks


#: What DuckDB's trim() removes (measured over every code point): the 17 characters of
#: Unicode category Zs (space, no-break space, ideographic space...), not tabs or
#: line breaks.
_TRIMMED = "".join(chr(i) for i in range(0x3001) if unicodedata.category(chr(i)) == "Zs")


def _clean_text(value) -> str | None:
    """staging's clean_text: text trimmed of spaces (Zs) at both ends, '' as null."""
    if value is None:
        return None
    text = str(value).strip(_TRIMMED)
    return text or None


def _fetch(con, query: str) -> list[dict]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def check_example(con: duckdb.DuckDBPyConnection, inputs: dict, run_started: datetime) -> dict:
    """Properties (a), (b) and (c) on a built warehouse; returns counts per table."""
    counts = {}
    accepted_by_table = {}
    for table in [t.name for t in TABLES]:
        rows = inputs.get(table, [])
        accepted = _fetch(con, f"select * from stg_product__{table}")
        rejected = _fetch(
            con,
            "select rejection_reason, raw_record from stg_product__rejected_rows "
            f"where source_table = '{table}'",
        )
        malformed = [r for r in rejected if r["rejection_reason"] == "malformed_line"]
        rejected_probes = [
            json.loads(r["raw_record"]).get("probe_row")
            for r in rejected
            if r["rejection_reason"] != "malformed_line"
        ]
        accepted_probes = [r["probe_row"] for r in accepted] if rows else []
        # (a) each input row once: accepted, rejected with a reason, or malformed.
        assert all(r["rejection_reason"] for r in rejected), table
        seen = [int(p) for p in accepted_probes + rejected_probes]
        assert len(seen) == len(set(seen)), f"{table}: a row both accepted and rejected"
        assert set(seen) <= set(range(len(rows))), table
        assert len(rows) == len(accepted) + len(rejected), (
            f"{table}: {len(rows)} input rows, {len(accepted)} accepted + {len(rejected)} "
            f"rejected ({len(malformed)} malformed_line)"
        )
        # (b) accepted ids are the input's, byte for byte (trimmed as clean_text trims).
        for row in accepted:
            source = rows[int(row["probe_row"])]
            for column in IDS.get(table, ()):
                got, want = row[column], _clean_text(source[column])
                assert (got or "").encode() == (want or "").encode() and (got is None) == (
                    want is None
                ), f"{table}.{column}: {want!r} came out as {got!r}"
        accepted_by_table[table] = accepted
        counts[table] = {
            "rows": len(rows),
            "accepted": len(accepted),
            "rejected": len(rejected),
            "malformed": len(malformed),
        }
    _check_contracts(accepted_by_table, run_started)
    # (b) nothing was dropped or replaced by a value.
    assert con.execute("select count(*) from x").fetchone() == (1,)
    present = {
        (schema, name)
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() union all "
            "select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
    }
    expected = {("raw", t.name) for t in TABLES} | {("raw", "_malformed_lines"), ("main", "x")}
    expected |= {("main", f"stg_product__{t.name}") for t in TABLES}
    expected |= {("main", f"base_product__{t.name}") for t in TABLES}
    assert expected <= present, expected - present
    return counts


def _check_contracts(accepted: dict[str, list[dict]], run_started: datetime) -> None:
    """(c): the documented conventions of the staging models, on the accepted rows."""
    latest = run_started.replace(tzinfo=None) + timedelta(hours=24)
    for table, key in KEYS.items():
        keys = [row[key] for row in accepted[table]]
        assert None not in keys and len(keys) == len(set(keys)), f"{table}.{key}"
    for table, columns in TIMESTAMPS.items():
        for row in accepted[table]:
            for column in columns:
                value = row[column]
                if value is None:
                    assert column not in REQUIRED_TIMESTAMPS, f"{table}.{column} is null"
                    continue
                assert datetime(2000, 1, 1) <= value <= latest, f"{table}.{column}: {value}"
    users = {row["user_id"] for row in accepted["users"]}
    groups = {row["group_id"] for row in accepted["groups"]}
    for row in accepted["users"]:
        assert row["country"] is None or row["country"] == row["country"].upper()
    for row in accepted["groups"]:
        assert row["visibility"] in ("public", "private")
        assert row["created_by_user_id"] is None or row["created_by_user_id"] in users
    for row in accepted["group_memberships"]:
        assert row["role"] in ("owner", "admin", "member")
        assert row["group_id"] in groups and row["user_id"] in users
    for row in accepted["events"]:
        assert row["event_type"] in EVENT_TYPES and row["user_id"] in users
        assert row["target_user_id"] is None or row["target_user_id"] in users
        assert row["group_id"] is None or row["group_id"] in groups
        assert row["currency"] is None or row["currency"] in CURRENCIES
        amount = row["amount"]
        # NaN and infinity are rejected (invalid_amount): NaN orders above every number.
        assert amount is None or (math.isfinite(amount) and amount >= 0), amount
        assert row["event_type"] != "purchase" or amount is not None
    for row in accepted["contents"]:
        assert row["author_user_id"] in users
        assert row["group_id"] is None or row["group_id"] in groups
        body = row["body"]
        if body is not None:
            assert body == body.strip(_TRIMMED) and "\ufffd" not in body
            assert not any(ord(c) < 32 and c not in "\t\n\r" for c in body), repr(body[:80])


# ----------------------------------------------------------------------------- dbt


@pytest.fixture(scope="module")
def dbt(tmp_path_factory):
    """A dbt runner of the project with the manifest parsed once (each build skips the
    parse), writing into its own target folder."""
    from dbt.cli.main import dbtRunner

    target = tmp_path_factory.mktemp("dbt_target")
    base = [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target),
        "--quiet",
    ]
    os.environ.setdefault("DO_NOT_TRACK", "1")
    previous = os.environ.get("SMALLGROUPS_DUCKDB_PATH")

    def point_to(warehouse: Path | None) -> None:
        # The manifest names the database by the file's stem: every example's file has
        # the same name (WAREHOUSE_NAME), in its own folder.
        if warehouse is not None:
            os.environ["SMALLGROUPS_DUCKDB_PATH"] = str(warehouse)
        elif previous is None:
            os.environ.pop("SMALLGROUPS_DUCKDB_PATH", None)
        else:
            os.environ["SMALLGROUPS_DUCKDB_PATH"] = previous

    point_to(target / WAREHOUSE_NAME)
    try:
        parsed = dbtRunner().invoke(["parse", *base])
    finally:
        point_to(None)
    assert parsed.success, parsed.exception
    runner = dbtRunner(manifest=parsed.result)

    def build(warehouse: Path) -> None:
        assert warehouse.name == WAREHOUSE_NAME
        point_to(warehouse)
        try:
            result = runner.invoke(
                [
                    "build",
                    "--select",
                    "+assert_raw_rows_accounted_for",
                    "--indirect-selection",
                    "cautious",
                    *base,
                ]
            )
        finally:
            point_to(None)
        failed = [
            f"{r.node.name}: {r.status} {r.message}"
            for r in (result.result or [])
            if str(r.status) not in ("success", "pass")
        ]
        assert result.success and not failed, failed or result.exception

    return build


TRIED = {"examples": 0, "rows": 0, "per_table": {}, "build_seconds": []}


def test_random_raw_rows_are_accounted_for_and_never_sql(dbt):
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(data_set=raw_data())
    @example(data_set=EXPLICIT[0])
    @example(data_set=EXPLICIT[1])
    def run(data_set):
        folder = Path(tempfile.mkdtemp(prefix="staging_props_"))
        try:
            inputs = write_raw(folder / "raw", data_set)
            warehouse = folder / WAREHOUSE_NAME
            with duckdb.connect(str(warehouse)) as con:
                con.execute("create table x as select 1 as kept")
                register_raw_tables(con, folder / "raw")
            started = time.perf_counter()
            dbt(warehouse)
            TRIED["build_seconds"].append(time.perf_counter() - started)
            # dbt's run_started_at is earlier: a sound upper bound for "the future".
            run_started = datetime.now(UTC)
            # Not read-only: dbt-duckdb keeps its (read-write) connection to the file open.
            with duckdb.connect(str(warehouse)) as con:
                counts = check_example(con, inputs, run_started)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        TRIED["examples"] += 1
        for table, count in counts.items():
            total = TRIED["per_table"].setdefault(table, dict.fromkeys(count, 0))
            for name, value in count.items():
                total[name] += value
            TRIED["rows"] += count["rows"]

    run()
    seconds = TRIED["build_seconds"]
    print(
        f"\nstaging properties: {TRIED['examples']} examples ({len(EXPLICIT)} explicit), "
        f"{TRIED['rows']} raw rows;",
        {t: c for t, c in TRIED["per_table"].items() if c["rows"]},
        f"; dbt build {sum(seconds):.1f} s ({max(seconds):.1f} s at most)",
    )
    assert TRIED["examples"] == MAX_EXAMPLES + len(EXPLICIT)
    accepted = sum(c["accepted"] for c in TRIED["per_table"].values())
    rejected = sum(c["rejected"] for c in TRIED["per_table"].values())
    assert accepted > 20 and rejected > 20, "the examples exercise both outcomes"
