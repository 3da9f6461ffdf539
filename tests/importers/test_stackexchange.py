"""Tests of the Stack Exchange importer on a hand-written tiny dump and the real meta dump.

``tests/fixtures/stackexchange_tiny`` holds a few questions, answers, comments and votes
of 8 valid users, with one bad or partial record of every kind the importer skips (each
row says what it is). The dump is imported once per module and the output read back
the way the pipeline reads it: DuckDB over the Parquet files, and the project's raw
loader.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.importers import REPORT_FILE, SCHEMAS, cli
from orchestration.lib.importers.stackexchange import (
    import_stackexchange,
    parse_tags,
    site_language,
    strip_html,
)
from orchestration.lib.raw import register_raw_tables

PROJECT_DIR = Path(__file__).resolve().parents[2]
TINY = PROJECT_DIR / "tests" / "fixtures" / "stackexchange_tiny"
SOURCE_FILES = ("Users.xml", "Tags.xml", "Posts.xml", "Comments.xml", "Votes.xml")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("se_raw")
    summary = import_stackexchange(TINY, out)
    return summary, out


def _rows(out: Path, sql: str) -> list[tuple]:
    """Run ``sql`` with ``{out}`` replaced by the output folder."""
    con = duckdb.connect()
    try:
        return con.execute(sql.replace("{out}", str(out))).fetchall()
    finally:
        con.close()


def _events(out: Path) -> dict[str, tuple]:
    rows = _rows(
        out,
        "select event_id, user_id, event_type, occurred_at, group_id, target_user_id, "
        "content_id, properties from read_parquet('{out}/events/*.parquet')",
    )
    return {row[0]: row[1:] for row in rows}


# ------------------------------------------------------------------ helpers of the module


def test_parse_tags_reads_both_dump_formats():
    assert parse_tags("<python><pandas>") == ["python", "pandas"]
    assert parse_tags("|python|sql|") == ["python", "sql"]
    assert parse_tags("c++ c#") == ["c++", "c#"]
    assert parse_tags("") == [] and parse_tags(None) == []


def test_strip_html_removes_tags_and_decodes_entities():
    html = "<p>Use <code>a &lt; b</code> &amp; more</p>\n<ul><li>one</li><li>two</li></ul>"
    assert strip_html(html) == "Use a < b & more\none\ntwo"
    assert strip_html(None) == ""


def test_site_language():
    assert site_language("ru.stackoverflow.com") == "ru"
    assert site_language("conlang.meta.stackexchange.com") == "en"
    assert site_language(None) == "en"


# ------------------------------------------------------------------ accounting


def test_every_source_row_is_used_or_skipped_with_a_reason(imported):
    summary, out = imported
    for name in SOURCE_FILES:
        text = (TINY / name).read_text(encoding="utf-8-sig")
        assert summary.rows_read[name] == len(re.findall(r"<row\b", text)), name
        skipped = sum(summary.rows_skipped.get(name, {}).values())
        assert summary.rows_read[name] == summary.rows_used[name] + skipped, name
    assert summary.unaccounted() == {}
    assert summary.files_ignored == ["PostLinks.xml"]
    assert summary.file_errors == {}

    used, written = summary.rows_used, summary.rows_written
    assert written["users"] == used["Users.xml"] == 8
    assert written["groups"] == used["Tags.xml"] == 3
    assert written["contents"] == used["Posts.xml"] + used["Comments.xml"] == 15
    derived = summary.derived["accept_events_from_posts"]
    assert derived == 1
    assert written["events"] == used["Posts.xml"] + used["Comments.xml"] + used["Votes.xml"] + 1
    for table in ("users", "groups", "group_memberships", "contents"):
        assert pq.read_metadata(out / f"{table}.parquet").num_rows == written[table]

    report = json.loads((out / REPORT_FILE).read_text())
    expected = summary.to_dict()
    report.pop("seconds"), expected.pop("seconds")
    assert report == expected
    assert report["unaccounted"] == {}


def test_bad_and_partial_records_are_reported_per_file_and_reason(imported):
    summary, _ = imported
    assert summary.rows_skipped == {
        "Users.xml": {
            "duplicate_id": 1,
            "invalid_date": 1,
            "invalid_id": 1,
            "missing_date": 1,
            "missing_id": 1,
            "system_user": 1,
        },
        "Tags.xml": {"duplicate_name": 1, "missing_id": 1, "missing_name": 1, "unused_tag": 2},
        "Posts.xml": {
            "duplicate_id": 1,
            "invalid_date": 1,
            "missing_author": 1,
            "missing_date": 1,
            "missing_id": 1,
            "missing_parent": 1,
            "other_post_type": 1,
            "system_author": 1,
            "unknown_author": 1,
            "unknown_parent": 2,
        },
        "Comments.xml": {
            "duplicate_id": 1,
            "missing_author": 1,
            "missing_date": 1,
            "missing_post": 1,
            "other_post_type": 1,
            "unknown_author": 1,
            "unknown_post": 1,
        },
        "Votes.xml": {
            "accept_not_answer": 1,
            "anonymous_vote": 2,
            "downvote": 1,
            "invalid_date": 1,
            "invalid_user": 1,
            "invalid_vote_type": 1,
            "other_vote_type": 1,
            "system_user": 1,
            "unknown_actor": 1,
            "unknown_post": 1,
            "unknown_user": 1,
        },
    }


# ------------------------------------------------------------------ mapping rules


def test_users(imported):
    _, out = imported
    rows = _rows(out, "select * from read_parquet('{out}/users.parquet') order by user_id")
    assert [r[0] for r in rows] == [f"u{i}" for i in range(1, 9)]
    first = rows[0]
    assert first[1:] == (_at("2020-12-01T08:00:00"), None, "en", "stackexchange")
    # The first copy of a duplicated Id is kept.
    assert rows[2][1] == _at("2020-12-03T10:00:00")


def test_questions_are_posts_and_answers_are_comments_to_the_asker(imported):
    _, out = imported
    events = _events(out)
    kind = '{"source": "stackexchange", "kind": "%s"}'
    assert events["ep1"] == (
        "u1",
        "post",
        _at("2021-01-01T10:00:00"),
        "t1",
        None,
        "p1",
        kind % "question",
    )
    assert events["ep2"] == (
        "u2",
        "comment",
        _at("2021-01-01T11:00:00"),
        "t1",
        "u1",
        "p2",
        kind % "answer",
    )
    contents = {
        r[0]: r[1:] for r in _rows(out, "select * from read_parquet('{out}/contents.parquet')")
    }
    assert contents["p2"][:3] == ("u2", "t1", "p1")
    assert contents["p1"][2] is None
    assert all(r[5] == "en" for r in contents.values())
    # An answer to a question of a deleted account is kept; it has nobody to target.
    assert events["ep7"][4] is None and contents["p7"][2] == "p6"


def test_comments_reply_to_the_post_author_in_the_question_group(imported):
    _, out = imported
    events = _events(out)
    assert events["ec1"][:6] == ("u4", "comment", _at("2021-01-01T10:30:00"), "t1", "u1", "cm1")
    # On an answer: targets the answer's author, in the question's group.
    assert events["ec2"][:6] == ("u1", "comment", _at("2021-01-01T12:30:00"), "t1", "u3", "cm2")
    # On a question whose author was deleted: kept without target.
    assert events["ec8"][3:5] == (None, None)
    parents = dict(
        _rows(
            out, "select content_id, parent_content_id from read_parquet('{out}/contents.parquet')"
        )
    )
    assert parents["cm2"] == "p3" and parents["cm8"] == "p6"


def test_votes_become_reactions_only_with_a_known_actor(imported):
    _, out = imported
    events = _events(out)
    reactions = {k: v for k, v in events.items() if v[1] == "reaction"}
    assert set(reactions) == {"ev2", "ev4", "ev5", "ea16"}
    # Accept vote: the asker reacts to the answer's author, at the later of vote day and answer.
    assert reactions["ev4"][:6] == ("u1", "reaction", _at("2021-01-01T12:00:00"), "t1", "u3", "p3")
    assert '"accept"' in reactions["ev4"][6]
    # AcceptedAnswerId without an accept vote: taken from Posts at the answer's time.
    assert reactions["ea16"][:6] == (
        "u5",
        "reaction",
        _at("2021-01-05T09:00:00"),
        "t3",
        "u6",
        "p16",
    )
    # Favourite and an up vote that names its voter: the voter reacts to the post's author.
    assert reactions["ev5"][:6] == ("u4", "reaction", _at("2021-01-03T00:00:00"), "t1", "u2", "p4")
    assert reactions["ev2"][:6] == ("u5", "reaction", _at("2021-01-02T00:00:00"), "t1", "u1", "p1")


def test_tag_groups_from_both_tag_formats(imported):
    _, out = imported
    groups = _rows(out, "select * from read_parquet('{out}/groups.parquet')")
    assert groups == [
        ("t1", "python", "tag", "u1", _at("2021-01-01T10:00:00"), "public"),
        ("t2", "pandas", "tag", "u1", _at("2021-01-01T10:00:00"), "public"),
        # First used by question 4, whose tags are in the newer |a|b| format.
        ("t3", "sql", "tag", "u2", _at("2021-01-02T09:00:00"), "public"),
    ]
    content_groups = dict(
        _rows(out, "select content_id, group_id from read_parquet('{out}/contents.parquet')")
    )
    # <numpy><sql>: numpy is no tag of Tags.xml, so the first tag that is a group.
    assert content_groups["p15"] == "t3"
    assert content_groups["p18"] is None  # untagged


def test_membership_rule_asked_once_or_answered_two_questions(imported):
    _, out = imported
    rows = _rows(
        out,
        "select group_id, user_id, joined_at, left_at, role "
        "from read_parquet('{out}/group_memberships.parquet')",
    )
    assert sorted(rows) == sorted(
        [
            ("t1", "u1", _at("2021-01-01T10:00:00"), None, "owner"),
            ("t1", "u2", _at("2021-01-02T09:00:00"), None, "member"),
            # u3 answered question 1 then question 4: joins at the second answer.
            ("t1", "u3", _at("2021-01-02T15:30:00"), None, "member"),
            ("t2", "u1", _at("2021-01-01T10:00:00"), None, "owner"),
            ("t3", "u2", _at("2021-01-02T09:00:00"), None, "owner"),
            ("t3", "u5", _at("2021-01-05T08:00:00"), None, "member"),
        ]
    )


def test_html_is_stripped_from_bodies(imported):
    _, out = imported
    bodies = dict(_rows(out, "select content_id, body from read_parquet('{out}/contents.parquet')"))
    assert bodies["p1"] == 'How do I compare "frames"?\n\nUse a < b & more\nfirst item'
    assert bodies["p3"] == "Use compare()."
    assert bodies["cm2"] == "Thanks, a < b works & is fast"
    assert not any("<p>" in body for body in bodies.values())


def test_events_are_split_by_day_with_contract_types(imported):
    _, out = imported
    files = sorted(p.name for p in (out / "events").iterdir())
    assert files == [f"2021-01-0{d}.parquet" for d in (1, 2, 3, 5, 6)]
    for name in files:
        table = pq.read_table(out / "events" / name)
        assert table.schema == SCHEMAS["events"]
        days = {t.date().isoformat() for t in table.column("occurred_at").to_pylist()}
        assert days == {name.removesuffix(".parquet")}
    assert pq.read_schema(out / "users.parquet").field("signed_up_at").type == pa.timestamp(
        "us", tz="UTC"
    )


def test_output_is_accepted_by_the_raw_loader(imported):
    summary, out = imported
    con = duckdb.connect()
    try:
        report = register_raw_tables(con, out)
        ids = con.execute("select count(*), count(distinct event_id) from raw.events").fetchall()
    finally:
        con.close()
    for table in ("users", "groups", "group_memberships", "contents", "events"):
        assert report[table]["row_count"] == summary.rows_written[table], table
    assert report["events"]["kind"] == "parquet_dir"
    assert ids[0][0] == ids[0][1]


def test_two_imports_are_identical(imported, tmp_path):
    summary, out = imported
    again = import_stackexchange(TINY, tmp_path)
    files = sorted(p.relative_to(out) for p in out.rglob("*.parquet"))
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    for rel in files:
        assert (out / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
    first, second = summary.to_dict(), again.to_dict()
    first.pop("seconds"), second.pop("seconds")
    assert first == second


# ------------------------------------------------------------------ robustness


def test_file_names_match_case_insensitively_and_earlier_output_is_replaced(imported, tmp_path):
    summary, _ = imported
    dump = tmp_path / "dump"
    dump.mkdir()
    for path in TINY.iterdir():
        shutil.copy(path, dump / path.name.lower())
    out = tmp_path / "raw"
    (out / "events").mkdir(parents=True)
    (out / "events" / "1999-01-01.parquet").write_bytes(b"stale")
    (out / "users.csv").write_text("stale")
    again = import_stackexchange(dump, out, site="tiny.stackexchange.com")
    assert again.rows_read == summary.rows_read
    assert again.rows_skipped == summary.rows_skipped
    assert not (out / "events" / "1999-01-01.parquet").exists()
    assert not (out / "users.csv").exists()


def test_truncated_file_is_reported_and_rows_before_it_kept(tmp_path):
    dump = tmp_path / "dump"
    shutil.copytree(TINY, dump)
    text = (TINY / "Votes.xml").read_text(encoding="utf-8")
    cut = text.index('<row Id="6"')
    (dump / "Votes.xml").write_text(text[: cut + 20], encoding="utf-8")
    summary = import_stackexchange(dump, tmp_path / "raw")
    assert "Votes.xml" in summary.file_errors
    assert summary.rows_read["Votes.xml"] == 5
    assert summary.unaccounted() == {}


def test_missing_required_file_is_an_error(tmp_path):
    shutil.copytree(TINY, tmp_path / "dump")
    (tmp_path / "dump" / "Posts.xml").unlink()
    with pytest.raises(FileNotFoundError, match=r"Posts\.xml"):
        import_stackexchange(tmp_path / "dump", tmp_path / "raw")


def test_optional_files_may_be_absent(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in ("Users.xml", "Posts.xml"):
        shutil.copy(TINY / name, dump / name)
    summary = import_stackexchange(dump, tmp_path / "raw")
    assert set(summary.rows_read) == {"Users.xml", "Posts.xml"}
    assert summary.rows_written["groups"] == 0
    # Without Votes.xml both accepted answers come from Posts.AcceptedAnswerId.
    assert summary.derived["accept_events_from_posts"] == 2
    con = duckdb.connect()
    try:
        register_raw_tables(con, tmp_path / "raw")
    finally:
        con.close()


def test_cli_prints_the_summary(tmp_path, capsys):
    code = cli.main(["stackexchange", str(TINY), "--out", str(tmp_path / "raw")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Posts.xml" in printed and "anonymous_vote" in printed
    assert cli.main(["stackexchange", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2


# ------------------------------------------------------------------ the real meta dump


def _eval_data() -> Path:
    return Path(os.environ.get("SMALLGROUPS_EVAL_DATA") or PROJECT_DIR.parent / "shared" / "data")


def test_real_conlang_meta_dump(tmp_path):
    dump = _eval_data() / "interactions" / "stackexchange_conlang_meta"
    if not (dump / "Posts.xml").exists():
        pytest.skip(f"evaluation data not found at {dump} (set SMALLGROUPS_EVAL_DATA)")
    summary = import_stackexchange(dump, tmp_path)
    assert summary.unaccounted() == {}
    assert summary.file_errors == {}
    assert summary.rows_read == {
        "Users.xml": 272,
        "Tags.xml": 71,
        "Posts.xml": 177,
        "Comments.xml": 230,
        "Votes.xml": 1119,
    }
    # Public dumps name no up voter: every plain up vote is skipped, none invented.
    assert summary.rows_skipped["Votes.xml"]["anonymous_vote"] >= 900
    written = summary.rows_written
    assert written["users"] == 271 and written["events"] > 300 and written["groups"] > 0
    con = duckdb.connect()
    try:
        report = register_raw_tables(con, tmp_path)
        orphans = con.execute(
            "select count(*) from raw.events as e left join raw.users as u "
            "on e.user_id = u.user_id where u.user_id is null"
        ).fetchall()
    finally:
        con.close()
    assert report["events"]["row_count"] == written["events"]
    assert orphans == [(0,)]
