"""Import a Stack Exchange site dump (``Posts.xml``, ``Comments.xml``, ...) as a raw folder.

Every site dump has the same layout: one XML file per table, one ``<row .../>`` element
per record (file names are matched case-insensitively). The files are read with a
streaming parser that discards each row once it is copied into a scratch DuckDB database
on disk, and all the joining, checking and ordering happens there, so a dump larger than
memory imports in bounded memory (DuckDB spills to the scratch folder). ``Users.xml``
and ``Posts.xml`` are required; ``Tags.xml``, ``Comments.xml`` and ``Votes.xml`` are
optional; other files (``Badges.xml``, ``PostHistory.xml``, ``PostLinks.xml``, ...) are
listed as not imported: they hold no user-to-user interaction with a known actor.

Mapping (ids keep the site's numbers behind a prefix per kind, so they never collide):

* **users** ``u<Id>``: every ``Users.xml`` row, ``signed_up_at`` = CreationDate,
  ``country`` null (``Location`` is free text), ``locale`` = the site's language
  (``en`` unless the site is ``ru``/``es``/``pt``/``ja`` Stack Overflow),
  ``acquisition_channel`` = ``stackexchange``. The Community user and any other
  negative Id (site bots) is skipped as ``system_user``, and so is what it authored.
* **groups** ``t<TagId>``: one declared interest group per ``Tags.xml`` tag that an
  imported question uses; ``name`` = TagName, ``category`` = ``tag``, ``visibility`` =
  ``public``, ``created_at`` / ``created_by_user_id`` = the first imported question
  carrying the tag and its asker (on Stack Exchange, whoever first uses a tag creates
  it). Tags no imported question uses are skipped as ``unused_tag``.
* **group_memberships**: a user is a member of a tag's group once they have asked a
  question carrying the tag or answered two different questions carrying it (the tag
  anywhere in the question's list); ``joined_at`` = the moment the rule was first met
  (the question, or the answer to the second question), ``left_at`` null, ``role`` =
  ``owner`` for the group's creator, ``member`` otherwise.
* **contents**: questions and answers ``p<Id>``, comments ``cm<Id>``;
  ``author_user_id`` = OwnerUserId / UserId, ``group_id`` = the group of the question's
  first tag that is a group (answers and comments take their question's),
  ``parent_content_id`` = the question for an answer and the post for a comment,
  ``body`` = Title + Body for questions, Body for answers, with HTML tags removed and
  entities decoded, the comment Text as is; ``language`` as ``locale``.
* **events** (ids ``ep<PostId>``, ``ec<CommentId>``, ``ev<VoteId>``, ``ea<AnswerId>``;
  ``properties`` = ``{"source": "stackexchange", "kind": ...}``):
  a question is a ``post``; an answer and a comment are a ``comment`` whose
  ``target_user_id`` is the author of the post replied to; an up vote (VoteTypeId 2)
  or a favourite (5) is a ``reaction`` by the voter to the post's author, but public
  dumps do not say who voted (only favourites carry a UserId), and a voter is never
  invented: anonymous votes are skipped as ``anonymous_vote``; an accepted answer
  (VoteTypeId 1) is a ``reaction`` by the question's asker to the answer's author.
  When ``Votes.xml`` has no accept vote for a question's ``AcceptedAnswerId``, the
  accept is taken from Posts at the answer's creation time (counted under ``derived``).
  Vote dates are days: a vote's time is the later of its day and the post's creation.
  Down votes are skipped (``downvote``), other vote types (close, bounty, spam, ...)
  too (``other_vote_type``). A ``target_user_id`` that is not an imported user is left
  null (deleted accounts). Events are written ordered, one file per UTC day.

Rows that cannot be imported are not dropped silently: each source row is either used
(it produced output) or skipped with one reason, counted per file in the
:class:`~orchestration.lib.importers._common.ImportSummary` and ``_import_report.json``. Reasons:
``missing_id``/``invalid_id``/``duplicate_id`` (the first copy is kept),
``missing_date``/``invalid_date``, ``other_post_type`` (wikis, ...),
``invalid_post_type``, ``missing_parent``/``unknown_parent`` (answer without a question
in the dump), ``missing_post``/``unknown_post`` (comment or vote on a post not in the
dump), ``missing_author`` (deleted account), ``invalid_author``, ``system_author``,
``unknown_author`` (not an imported user), ``missing_name``/``duplicate_name``/
``unused_tag`` (tags), ``anonymous_vote``, ``downvote``, ``other_vote_type``,
``invalid_vote_type``, ``accept_not_answer``, ``unknown_actor`` (accept on a question
whose asker is not imported), ``invalid_user``/``system_user``/``unknown_user`` (voter).
"""

from __future__ import annotations

import html
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.importers._common import (
    ImportSummary,
    clear_outputs,
    format_us,
    write_events_by_day,
    write_table,
)

__all__ = ["FILES", "import_stackexchange", "parse_tags", "site_language", "strip_html"]

_BATCH_ROWS = 20_000
_READ_BATCH = 50_000
_EPOCH = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)
_INT_RE = re.compile(r"-?[0-9]{1,18}")
_LANG_RE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
#: Localised Stack Overflow sites and their language; every other site is English.
_SITE_LANGUAGES = {
    "ru.stackoverflow": "ru",
    "es.stackoverflow": "es",
    "pt.stackoverflow": "pt",
    "ja.stackoverflow": "ja",
}

# ------------------------------------------------------------------ text helpers

_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|pre|blockquote|table|tr|td|th)\b[^>]*>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{2,}")
_ANGLE_TAG = re.compile(r"<([^<>]*)>")


def strip_html(text: str | None) -> str:
    """Plain text of a post body: tags removed, entities decoded, whitespace tidied.

    Block elements (paragraphs, list items, code blocks, ...) become line breaks,
    inline ones disappear; runs of spaces shrink to one and blank lines disappear, so
    every paragraph or list item is one line.

    Parameters
    ----------
    text : str or None
        HTML as stored in the dump's ``Body`` attribute (already XML-unescaped).

    Returns
    -------
    str
        The text ("" for None).
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BLOCK_TAG.sub("\n", text)
    text = _ANY_TAG.sub("", text)
    text = html.unescape(text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n", "\n".join(lines)).strip()


def parse_tags(value: str | None) -> list[str]:
    """Tag names of a question, in order, from either dump format.

    Parameters
    ----------
    value : str or None
        ``<tag1><tag2>`` (older dumps) or ``|tag1|tag2|`` (newer dumps); a bare
        space-separated list is accepted too.

    Returns
    -------
    list of str
    """
    if not value or not value.strip():
        return []
    value = value.strip()
    if value.startswith("<"):
        names = _ANGLE_TAG.findall(value)
    elif "|" in value:
        names = value.split("|")
    else:
        names = value.split()
    return [name.strip() for name in names if name.strip()]


def site_language(site: str | None) -> str:
    """Language of a site's posts: ``ru``/``es``/``pt``/``ja`` Stack Overflow, else ``en``."""
    key = (site or "").lower()
    for prefix, language in _SITE_LANGUAGES.items():
        if key.startswith(prefix):
            return language
    return "en"


def _parse_int(raw: str | None) -> tuple[int | None, bool]:
    """``(value, bad)``: value None and bad False when absent or empty."""
    if raw is None or not raw.strip():
        return None, False
    raw = raw.strip()
    if _INT_RE.fullmatch(raw):
        return int(raw), False
    return None, True


def _parse_time(raw: str | None) -> tuple[int | None, bool]:
    """ISO time (UTC when without offset) as ``(microseconds, bad)``."""
    if raw is None or not raw.strip():
        return None, False
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None, True
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return (parsed - _EPOCH) // _ONE_US, False


def _text(raw: str | None) -> str | None:
    if raw is None:
        return None
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def _name(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    return raw.strip()


# ------------------------------------------------------------------ source files


@dataclass(frozen=True)
class _Source:
    """One dump file and the attributes copied from it into table ``src_<key>``."""

    file: str
    key: str
    fields: tuple[tuple[str, str, str], ...]  # (attribute, column, kind: int/time/text/name)
    required: bool = False

    @property
    def schema(self) -> pa.Schema:
        cols: list[tuple[str, pa.DataType]] = [("rn", pa.int64())]
        for _, column, kind in self.fields:
            if kind in ("int", "time"):
                cols += [(column, pa.int64()), (f"{column}_bad", pa.bool_())]
            else:
                cols.append((column, pa.string()))
        if self.key == "posts":
            cols.append(("body", pa.string()))
        return pa.schema(cols)


#: The dump files imported, in reading order.
FILES: tuple[_Source, ...] = (
    _Source("Users.xml", "users", (("Id", "id", "int"), ("CreationDate", "ts", "time")), True),
    _Source("Tags.xml", "tags", (("Id", "id", "int"), ("TagName", "name", "name"))),
    _Source(
        "Posts.xml",
        "posts",
        (
            ("Id", "id", "int"),
            ("PostTypeId", "post_type", "int"),
            ("ParentId", "parent_id", "int"),
            ("AcceptedAnswerId", "accepted_id", "int"),
            ("CreationDate", "ts", "time"),
            ("OwnerUserId", "owner", "int"),
        ),
        True,
    ),
    _Source(
        "Comments.xml",
        "comments",
        (
            ("Id", "id", "int"),
            ("PostId", "post_id", "int"),
            ("UserId", "user_id", "int"),
            ("CreationDate", "ts", "time"),
            ("Text", "body", "text"),
        ),
    ),
    _Source(
        "Votes.xml",
        "votes",
        (
            ("Id", "id", "int"),
            ("PostId", "post_id", "int"),
            ("VoteTypeId", "vote_type", "int"),
            ("UserId", "user_id", "int"),
            ("CreationDate", "ts", "time"),
        ),
    ),
)
_POST_TAGS_SCHEMA = pa.schema([("rn", pa.int64()), ("pos", pa.int32()), ("name", pa.string())])
_PARSERS: dict[str, Callable[[str | None], object]] = {"text": _text, "name": _name}


def _iter_rows(path: Path, errors: dict[str, str], name: str) -> Iterator[dict[str, str]]:
    """Attributes of each ``<row>`` of an XML file, streamed; a parse error ends the file
    and is recorded in ``errors``."""
    try:
        context = ET.iterparse(path, events=("start", "end"))
        _, root = next(context)
        for event, elem in context:
            if event == "end" and elem.tag == "row":
                yield dict(elem.attrib)
                root.clear()
    except (ET.ParseError, StopIteration) as exc:
        errors[name] = str(exc) or "empty file"


def _row_values(source: _Source, attrib: dict[str, str]) -> list[object]:
    values: list[object] = []
    for attribute, _, kind in source.fields:
        raw = attrib.get(attribute)
        if kind == "int":
            values += _parse_int(raw)
        elif kind == "time":
            values += _parse_time(raw)
        else:
            values.append(_PARSERS[kind](raw))
    return values


def _insert(con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, rows: list) -> None:
    if not rows:
        return
    batch = pa.Table.from_arrays(
        [
            pa.array(col, type=f.type)
            for col, f in zip(zip(*rows, strict=True), schema, strict=True)
        ],
        schema=schema,
    )
    con.register("_batch", batch)
    con.execute(f"insert into {table} select * from _batch")
    con.unregister("_batch")


def _load_source(
    con: duckdb.DuckDBPyConnection, source: _Source, path: Path | None, summary: ImportSummary
) -> None:
    """Copy one dump file into ``src_<key>`` (and ``src_post_tags`` for posts)."""
    table = f"src_{source.key}"
    schema = source.schema
    con.register("_empty", schema.empty_table())
    con.execute(f"create table {table} as select * from _empty")
    con.unregister("_empty")
    if source.key == "posts":
        con.register("_empty", _POST_TAGS_SCHEMA.empty_table())
        con.execute("create table src_post_tags as select * from _empty")
        con.unregister("_empty")
    if path is None:
        return
    rows: list[list[object]] = []
    tags: list[tuple[int, int, str]] = []
    n = 0
    for n, attrib in enumerate(_iter_rows(path, summary.file_errors, source.file), start=1):
        values = [n - 1, *_row_values(source, attrib)]
        if source.key == "posts":
            post_type = values[3]
            body = None
            if post_type in (1, 2):
                body = strip_html(attrib.get("Body"))
                title = html.unescape(attrib.get("Title") or "").strip()
                if post_type == 1 and title:
                    body = f"{title}\n\n{body}" if body else title
            values.append(body)
            if post_type == 1:
                tags += [
                    (n - 1, pos, tag) for pos, tag in enumerate(parse_tags(attrib.get("Tags")))
                ]
        rows.append(values)
        if len(rows) >= _BATCH_ROWS:
            _insert(con, table, schema, rows)
            rows = []
        if len(tags) >= _BATCH_ROWS:
            _insert(con, "src_post_tags", _POST_TAGS_SCHEMA, tags)
            tags = []
    _insert(con, table, schema, rows)
    _insert(con, "src_post_tags", _POST_TAGS_SCHEMA, tags)
    summary.rows_read[source.file] = n


def _find_files(dump_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Dump files by canonical name (matched case-insensitively) and the other entries."""
    wanted = {source.file.lower(): source.file for source in FILES}
    found: dict[str, Path] = {}
    others: list[str] = []
    for entry in sorted(dump_dir.iterdir()):
        canonical = wanted.get(entry.name.lower())
        if canonical and entry.is_file() and canonical not in found:
            found[canonical] = entry
        elif not entry.name.startswith("."):
            others.append(entry.name)
    return found, others


# ------------------------------------------------------------------ the mapping in SQL

_ID_REASONS = """
        when {t}.id is null and not {t}.id_bad then 'missing_id'
        when {t}.id is null then 'invalid_id'
        when row_number() over (partition by {t}.id order by {t}.rn) > 1 then 'duplicate_id'"""
_TS_REASONS = """
        when {t}.ts is null and not {t}.ts_bad then 'missing_date'
        when {t}.ts is null then 'invalid_date'"""


def _ids(alias: str) -> str:
    return _ID_REASONS.format(t=alias)


def _ts(alias: str) -> str:
    return _TS_REASONS.format(t=alias)


_CHECKS = [
    "create macro sid(prefix, x) as prefix || cast(x as varchar)",
    f"""
create table users_chk as
select u.rn, u.id, u.ts,
    case {_ids("u")}
        when u.id < 0 then 'system_user' {_ts("u")}
    end as reason
from src_users as u
""",
    "create table users_ok as select id, ts from users_chk where reason is null",
    """
create table posts_idx as
select rn, id, post_type, parent_id, owner, ts
from src_posts
where id is not null
qualify row_number() over (partition by id order by rn) = 1
""",
    """
create table question_tags as
select q.id as question_id, t.pos, lower(trim(t.name)) as tag_key
from posts_idx as q
inner join src_post_tags as t on q.rn = t.rn
where q.post_type = 1 and trim(t.name) <> ''
""",
    f"""
create table posts_chk as
select p.rn, p.id, p.post_type, p.parent_id, p.accepted_id, p.owner, p.ts, p.body,
    case {_ids("p")}
        when p.post_type is null then 'invalid_post_type'
        when p.post_type not in (1, 2) then 'other_post_type' {_ts("p")}
        when p.post_type = 2 and p.parent_id is null then 'missing_parent'
        when p.post_type = 2 and parent.id is null then 'unknown_parent'
        when p.owner is null and not p.owner_bad then 'missing_author'
        when p.owner is null then 'invalid_author'
        when p.owner < 0 then 'system_author'
        when author.id is null then 'unknown_author'
    end as reason
from src_posts as p
left join posts_idx as parent
    on p.post_type = 2 and p.parent_id = parent.id and parent.post_type = 1
left join users_ok as author on p.owner = author.id
""",
    f"""
create table tags_chk as
with by_id as (
    select t.rn, t.id, t.name,
        case {_ids("t")}
            when t.name is null then 'missing_name'
        end as reason
    from src_tags as t
)
select rn, id, name, lower(name) as tag_key,
    coalesce(
        reason,
        case when row_number() over (
            partition by reason is null, lower(name) order by rn
        ) > 1 then 'duplicate_name' end
    ) as reason
from by_id
""",
    """
create table groups_out as
select t.id as tag_id, t.name, t.tag_key, first_use.owner as created_by,
    first_use.ts as created_at
from tags_chk as t
inner join (
    select qt.tag_key, p.owner, p.ts
    from question_tags as qt
    inner join posts_chk as p on qt.question_id = p.id and p.reason is null
    qualify row_number() over (partition by qt.tag_key order by p.ts, p.id) = 1
) as first_use on t.tag_key = first_use.tag_key
where t.reason is null
""",
    """
create table question_group as
select qt.question_id, arg_min(g.tag_id, qt.pos) as tag_id
from question_tags as qt
inner join groups_out as g on qt.tag_key = g.tag_key
group by qt.question_id
""",
    """
create table post_info as
select p.id, p.post_type, p.parent_id, p.ts,
    case when author.id is not null then p.owner end as author,
    case when p.post_type = 1 then qg.tag_id when p.post_type = 2 then ag.tag_id end as tag_id
from posts_idx as p
left join users_ok as author on p.owner = author.id
left join question_group as qg on p.id = qg.question_id
left join question_group as ag on p.parent_id = ag.question_id
""",
    """
create table posts_ok as
select p.id, p.post_type, p.parent_id, p.owner, p.ts, p.body, info.tag_id,
    parent.author as parent_author
from posts_chk as p
inner join post_info as info on p.id = info.id
left join post_info as parent on p.post_type = 2 and p.parent_id = parent.id
where p.reason is null
""",
    f"""
create table comments_chk as
select c.rn, c.id, c.post_id, c.user_id, c.ts, c.body, post.tag_id,
    post.author as parent_author,
    case {_ids("c")} {_ts("c")}
        when c.post_id is null then 'missing_post'
        when post.id is null then 'unknown_post'
        when coalesce(post.post_type, 0) not in (1, 2) then 'other_post_type'
        when c.user_id is null and not c.user_id_bad then 'missing_author'
        when c.user_id is null then 'invalid_author'
        when c.user_id < 0 then 'system_author'
        when author.id is null then 'unknown_author'
    end as reason
from src_comments as c
left join post_info as post on c.post_id = post.id
left join users_ok as author on c.user_id = author.id
""",
    f"""
create table votes_chk as
select v.rn, v.id, v.post_id, v.vote_type, greatest(v.ts, post.ts) as ts, post.tag_id,
    post.author as target,
    case when v.vote_type = 1 then question.author else v.user_id end as actor,
    case {_ids("v")}
        when v.vote_type is null then 'invalid_vote_type'
        when v.vote_type = 3 then 'downvote'
        when v.vote_type not in (1, 2, 5) then 'other_vote_type' {_ts("v")}
        when v.post_id is null then 'missing_post'
        when post.id is null then 'unknown_post'
        when coalesce(post.post_type, 0) not in (1, 2) then 'other_post_type'
        when v.vote_type = 1 and post.post_type <> 2 then 'accept_not_answer'
        when v.vote_type = 1 and question.author is null then 'unknown_actor'
        when v.vote_type = 1 then null
        when v.user_id is null and not v.user_id_bad then 'anonymous_vote'
        when v.user_id is null then 'invalid_user'
        when v.user_id < 0 then 'system_user'
        when voter.id is null then 'unknown_user'
    end as reason
from src_votes as v
left join post_info as post on v.post_id = post.id
left join post_info as question
    on v.vote_type = 1 and post.parent_id = question.id and question.post_type = 1
left join users_ok as voter on v.user_id = voter.id
""",
    """
create table accepts_from_posts as
select a.id as answer_id, q.owner as actor, a.author as target, a.ts, a.tag_id
from posts_ok as q
inner join post_info as a
    on q.id = a.parent_id and a.post_type = 2
inner join posts_chk as qc on q.id = qc.id and qc.reason is null
where q.post_type = 1 and qc.accepted_id = a.id and a.ts is not null
    and not exists (
        select 1 from src_votes as v where v.vote_type = 1 and v.post_id = a.id
    )
""",
]

_KIND = """'{{"source": "stackexchange", "kind": "{kind}"}}'"""

_USERS_SQL = """
select sid('u', id) as user_id, ts as signed_up_at, null::varchar as country,
    {lang} as locale, 'stackexchange' as acquisition_channel
from users_ok
order by id
"""
_GROUPS_SQL = """
select sid('t', tag_id) as group_id, name, 'tag' as category,
    sid('u', created_by) as created_by_user_id, created_at, 'public' as visibility
from groups_out
order by tag_id
"""
_MEMBERSHIPS_SQL = """
with

tagged as (
    select distinct qt.question_id, g.tag_id
    from question_tags as qt
    inner join groups_out as g on qt.tag_key = g.tag_key
),

asked as (
    select tagged.tag_id, p.owner as user_id, min(p.ts) as qualified_at
    from posts_ok as p
    inner join tagged on p.id = tagged.question_id
    where p.post_type = 1
    group by all
),

answered as (
    select tagged.tag_id, a.owner as user_id, a.parent_id as question_id,
        min(a.ts) as answered_at
    from posts_ok as a
    inner join tagged on a.parent_id = tagged.question_id
    where a.post_type = 2
    group by all
),

answered_twice as (
    select tag_id, user_id, answered_at as qualified_at
    from answered
    qualify row_number() over (
        partition by tag_id, user_id order by answered_at, question_id
    ) = 2
),

joined as (
    select tag_id, user_id, min(qualified_at) as joined_at
    from (select * from asked union all select * from answered_twice)
    group by all
)

select sid('t', joined.tag_id) as group_id, sid('u', joined.user_id) as user_id,
    joined.joined_at, null::bigint as left_at,
    case when joined.user_id = g.created_by then 'owner' else 'member' end as role
from joined
inner join groups_out as g on joined.tag_id = g.tag_id
order by joined.tag_id, joined.joined_at, joined.user_id
"""
_CONTENTS_SQL = """
select content_id, author_user_id, group_id, parent_content_id, created_at, body,
    {lang} as language
from (
    select sid('p', id) as content_id, sid('u', owner) as author_user_id,
        sid('t', tag_id) as group_id,
        case when post_type = 2 then sid('p', parent_id) end as parent_content_id,
        ts as created_at, body
    from posts_ok
    union all
    select sid('cm', id), sid('u', user_id), sid('t', tag_id), sid('p', post_id), ts, body
    from comments_chk
    where reason is null
)
order by created_at, content_id
"""
_EVENTS_SQL = f"""
select * from (
    select sid('ep', id) as event_id, sid('u', owner) as user_id,
        case when post_type = 1 then 'post' else 'comment' end as event_type,
        ts as occurred_at, sid('t', tag_id) as group_id,
        sid('u', parent_author) as target_user_id, sid('p', id) as content_id,
        case when post_type = 1 then {_KIND.format(kind="question")}
            else {_KIND.format(kind="answer")} end as properties
    from posts_ok
    union all
    select sid('ec', id), sid('u', user_id), 'comment', ts, sid('t', tag_id),
        sid('u', parent_author), sid('cm', id), {_KIND.format(kind="comment")}
    from comments_chk
    where reason is null
    union all
    select sid('ev', id), sid('u', actor), 'reaction', ts, sid('t', tag_id), sid('u', target),
        sid('p', post_id),
        case vote_type when 1 then {_KIND.format(kind="accept")}
            when 2 then {_KIND.format(kind="upvote")}
            else {_KIND.format(kind="favorite")} end
    from votes_chk
    where reason is null
    union all
    select sid('ea', answer_id), sid('u', actor), 'reaction', ts, sid('t', tag_id),
        sid('u', target), sid('p', answer_id), {_KIND.format(kind="accept")}
    from accepts_from_posts
)
order by occurred_at, event_id
"""
_ACCOUNTING_SQL = """
select 'Users.xml' as file, reason from users_chk
union all
select 'Tags.xml', coalesce(
    t.reason, case when g.tag_id is null then 'unused_tag' end
)
from tags_chk as t
left join groups_out as g on t.reason is null and t.id = g.tag_id
union all
select 'Posts.xml', reason from posts_chk
union all
select 'Comments.xml', reason from comments_chk
union all
select 'Votes.xml', reason from votes_chk
"""


def _stream(con: duckdb.DuckDBPyConnection, sql: str) -> pa.RecordBatchReader:
    return con.sql(sql).to_arrow_reader(_READ_BATCH)


def import_stackexchange(
    dump_dir: str | Path,
    out_dir: str | Path,
    *,
    site: str | None = None,
    language: str | None = None,
    memory_limit: str = "3GB",
) -> ImportSummary:
    """Convert an unpacked Stack Exchange site dump into a raw folder of the contract.

    See the module docstring for the mapping and the skip reasons. Earlier copies of the
    tables written (and of ``_import_report.json``) in ``out_dir`` are replaced.

    Parameters
    ----------
    dump_dir : str or Path
        Folder with the site's XML files (``Users.xml`` and ``Posts.xml`` required).
    out_dir : str or Path
        Raw folder to write.
    site : str, optional
        Site name for the report and the default language (default: the folder name).
    language : str, optional
        Language tag for ``users.locale`` and ``contents.language``
        (default: :func:`site_language` of ``site``).
    memory_limit : str
        DuckDB memory limit of the scratch database (it spills to disk beyond it).

    Returns
    -------
    ImportSummary
        Also written to ``out_dir/_import_report.json``.

    Raises
    ------
    FileNotFoundError
        ``dump_dir`` is not a folder or lacks ``Users.xml`` or ``Posts.xml``.
    ValueError
        ``language`` is not a language tag.
    """
    started = time.perf_counter()
    dump_dir, out_dir = Path(dump_dir), Path(out_dir)
    if not dump_dir.is_dir():
        raise FileNotFoundError(f"{dump_dir}: not a folder")
    site = site or dump_dir.resolve().name
    language = language or site_language(site)
    if not _LANG_RE.fullmatch(language):
        raise ValueError(f"language {language!r} is not a language tag such as 'en'")
    found, others = _find_files(dump_dir)
    missing = [s.file for s in FILES if s.required and s.file not in found]
    if missing:
        raise FileNotFoundError(f"{dump_dir}: missing {', '.join(missing)} (not a site dump?)")

    summary = ImportSummary("stackexchange", dump_dir, out_dir, site=site, files_ignored=others)
    clear_outputs(out_dir)
    with tempfile.TemporaryDirectory(prefix="smallgroups-se-") as scratch:
        con = duckdb.connect(str(Path(scratch) / "scratch.duckdb"))
        try:
            con.execute(f"set temp_directory = '{Path(scratch) / 'spill'}'")
            con.execute(f"set memory_limit = '{memory_limit.replace(chr(39), '')}'")
            for source in FILES:
                _load_source(con, source, found.get(source.file), summary)
            for statement in _CHECKS:
                con.execute(statement)
            _write_outputs(con, out_dir, language, summary)
        finally:
            con.close()
    summary.seconds = time.perf_counter() - started
    summary.write_report()
    return summary


def _write_outputs(
    con: duckdb.DuckDBPyConnection, out_dir: Path, language: str, summary: ImportSummary
) -> None:
    lang = f"'{language}'"
    written = summary.rows_written
    written["users"] = write_table(
        _stream(con, _USERS_SQL.format(lang=lang)), out_dir / "users.parquet", "users"
    )
    written["groups"] = write_table(_stream(con, _GROUPS_SQL), out_dir / "groups.parquet", "groups")
    written["group_memberships"] = write_table(
        _stream(con, _MEMBERSHIPS_SQL), out_dir / "group_memberships.parquet", "group_memberships"
    )
    written["contents"] = write_table(
        _stream(con, _CONTENTS_SQL.format(lang=lang)), out_dir / "contents.parquet", "contents"
    )
    rows, files, first_us, last_us = write_events_by_day(_stream(con, _EVENTS_SQL), out_dir)
    written["events"] = rows
    summary.event_files = files
    summary.first_event_at, summary.last_event_at = format_us(first_us), format_us(last_us)
    ((accepts,),) = con.execute("select count(*) from accepts_from_posts").fetchall()
    summary.derived["accept_events_from_posts"] = int(accepts)

    counts = con.execute(
        f"select file, reason, count(*) from ({_ACCOUNTING_SQL}) group by all order by all"
    ).fetchall()
    for file, reason, count in counts:
        if file not in summary.rows_read:
            continue
        if reason is None:
            summary.rows_used[file] = int(count)
        else:
            summary.rows_skipped.setdefault(file, {})[reason] = int(count)
    for file in summary.rows_read:
        summary.rows_used.setdefault(file, 0)
