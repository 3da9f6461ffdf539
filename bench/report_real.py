"""Report on a real community: import it, run the whole pipeline, print what was found.

For a Stack Exchange dump (``--stackexchange DIR``) or the SNAP CollegeMsg file
(``--collegemsg FILE``): the pipeline is run on it (its own warehouse under
``data/real/``), then this prints the detected communities and their sizes - both the
pipeline's latest weekly snapshot and a detection on the whole history (small, slow
sites have too few interactions in any 4-week window) - how well communities line up
with tags (purity and NMI against each member's most used tag), each large community's
top terms next to its top tags, what the text marts say at the latest full week
(topics, top pain point, net sentiment), and the KPIs. Figures only.

    python bench/report_real.py                      # the conlang meta dump and CollegeMsg
    python bench/report_real.py --stackexchange /path/to/unpacked/site.stackexchange.com
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.communities import detect_communities  # noqa: E402
from orchestration.lib.config import dbt_project_var  # noqa: E402
from orchestration.lib.evaluation.partitions import normalized_mutual_info, purity  # noqa: E402
from orchestration.lib.evaluation.topics_reference import community_terms  # noqa: E402
from orchestration.lib.text import tokenize_many  # noqa: E402
from orchestration.lib.text.clean import clean_text, is_markup_term  # noqa: E402
from orchestration.lib.text.tokenize import segments, stopwords  # noqa: E402

EVAL = Path(os.environ.get("SMALLGROUPS_EVAL_DATA", PROJECT_DIR.parent / "shared" / "data"))


def _run_pipeline(env_name: str, source: Path, name: str) -> Path:
    work = PROJECT_DIR / "data" / "real" / name
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        env_name: str(source),
        "SMALLGROUPS_RAW_DIR": str(work / "raw"),
        "SMALLGROUPS_DUCKDB_PATH": str(work / "warehouse.duckdb"),
    }
    env.setdefault("DAGSTER_HOME", str(PROJECT_DIR / ".dagster_home"))
    print(f"running the pipeline on {source} ...", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--log-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-4000:])
        raise SystemExit(f"pipeline failed on {source}")
    return work / "warehouse.duckdb"


def _sizes(labels: pd.Series) -> str:
    sizes = labels.value_counts()
    if sizes.empty:
        return "none"
    return (
        f"{len(sizes)} communities, sizes min {sizes.min()} / median {int(sizes.median())} / "
        f"max {sizes.max()} (total {sizes.sum():,} members)"
    )


def _around(body: str, phrase: str, width: int = 160) -> str:
    """The cleaned message, cut to `width` characters around the phrase's first word."""
    text = " ".join(clean_text(str(body)).split())
    at = max(text.lower().find(phrase.split()[0][:8].lower()), 0)
    start = max(at - width // 3, 0)
    return ("..." if start else "") + text[start : start + width]


def _words(phrase: str) -> int:
    """Words in a pain-point phrase (jieba's for Chinese, stop words counted)."""
    return sum(len(run) for run in segments(phrase))


def _noise(term: str, stop: frozenset[str]) -> bool:
    """Markup (any word a LaTeX / HTML / URL name) or only stop words."""
    return is_markup_term(term) or all(w in stop for w in term.split())


def _report_text_marts(q) -> dict:
    """The text marts over every full weekly snapshot, and per large group, for the
    detected communities and for the declared groups (a Stack Exchange tag)."""
    enriched = q(
        "select language, sentiment_label, count(*) as n from fct_contents_enriched group by all"
    )
    if enriched.empty:
        return {}
    total = enriched["n"].sum()
    langs = enriched.groupby("language")["n"].sum() / total
    labels = enriched.groupby("sentiment_label", dropna=False)["n"].sum() / total
    print(
        f"  text: {total:,} messages enriched; "
        + ", ".join(f"{k} {v:.1%}" for k, v in langs.items())
        + "; sentiment "
        + ", ".join(f"{k} {v:.1%}" for k, v in labels.items())
    )
    stop = frozenset().union(*(stopwords(code) for code in langs.index))
    return {kind: _report_groups(q, kind, stop) for kind in ("detected", "declared")}


def _member_tags_sql(kind: str, day, community_id: str) -> str:
    """The four tags its members post in most: members at the snapshot (detected), or
    the authors in the group over the window (declared)."""
    if kind == "detected":
        members = (
            "select user_id from communities.community_assignments "
            f"where snapshot_date = '{day}' and community_id = '{community_id}'"
        )
    else:
        days = int(dbt_project_var("text_window_days"))
        members = (
            "select distinct author_user_id from stg_product__contents "
            f"where 'group:' || group_id = '{community_id}' and created_at < "
            f"date '{day}' + 1 and created_at >= date '{day}' - {days - 1}"
        )
    return f"""
        select groups.name as tag, count(*) as n
        from stg_product__contents as contents
        inner join stg_product__groups as groups using (group_id)
        where contents.author_user_id in ({members})
        group by all order by n desc, tag limit 4
    """


def _report_groups(q, kind: str, stop: frozenset[str]) -> dict:
    """Figures of one group kind: share of the top-10 topic terms that are markup or
    stop words, share of the top pain points of two or more words (every full weekly
    snapshot), and the largest groups' topics, member tags and pain points."""
    full = "select snapshot_date from communities.community_snapshot_runs where not is_provisional"
    topics = q(
        f"select snapshot_date, community_id, term_rank, term from fct_community_topics "
        f"where group_kind = '{kind}' and term_rank <= 10 and snapshot_date in ({full})"
    )
    pains = q(
        f"select snapshot_date, community_id, pain_point_rank, phrase, count_authors, "
        f"count_messages, example_content_ids from fct_community_pain_points "
        f"where group_kind = '{kind}' and snapshot_date in ({full})"
    )
    if topics.empty:
        print(f"  {kind} groups: no full weekly snapshot with topics")
        return {}
    topics["noise"] = [_noise(t, stop) for t in topics["term"]]
    pains["words"] = [_words(p) for p in pains["phrase"]]
    first = pains[pains["pain_point_rank"] == 1]
    figures = {
        "group_snapshots_with_topics": int(
            topics[["snapshot_date", "community_id"]].drop_duplicates().shape[0]
        ),
        "share_topic_terms_markup_or_stop": float(topics["noise"].mean()),
        "group_snapshots_with_pain_points": len(first),
        "share_top_pain_points_multiword": float((first["words"] >= 2).mean())
        if len(first)
        else float("nan"),
        "share_all_pain_points_multiword": float((pains["words"] >= 2).mean())
        if len(pains)
        else float("nan"),
    }
    print(
        f"  {kind} groups over every full weekly snapshot: "
        f"{figures['group_snapshots_with_topics']} group-snapshots with topics, top-10 "
        "terms markup or stop words "
        f"{figures['share_topic_terms_markup_or_stop']:.1%}; "
        f"{figures['group_snapshots_with_pain_points']} with pain points, top pain point of "
        f"2+ words {figures['share_top_pain_points_multiword']:.1%} (all ranks "
        f"{figures['share_all_pain_points_multiword']:.1%}, {len(pains)} rows)"
    )
    sizes = q(
        f"""
        select snapshot_date, community_id, any_value(count_messages_window) as messages,
            any_value(net_sentiment_window) as net_sentiment
        from fct_community_sentiment_weekly
        where group_kind = '{kind}' and snapshot_date in ({full})
        group by all
        """
    )
    # Each community at the snapshot where its window held the most messages.
    largest = (
        sizes.sort_values(["messages", "snapshot_date"], ascending=[False, True])
        .drop_duplicates("community_id")
        .head(6)
    )
    print(
        f"  largest {kind} groups (each at its busiest snapshot): top-10 topics "
        "[markup or stop words] | member tags | top pain points (authors) | net sentiment"
    )
    for r in largest.itertuples(index=False):
        day = pd.Timestamp(r.snapshot_date).date()
        at = (topics["snapshot_date"] == r.snapshot_date) & (
            topics["community_id"] == r.community_id
        )
        terms = topics[at].sort_values("term_rank")
        noise = terms.loc[terms["noise"], "term"].tolist()
        share = len(noise) / len(terms) if len(terms) else float("nan")
        tags = q(_member_tags_sql(kind, day, r.community_id))["tag"]
        top = pains[
            (pains["snapshot_date"] == r.snapshot_date) & (pains["community_id"] == r.community_id)
        ].sort_values("pain_point_rank")
        print(
            f"    {r.community_id} at {day} ({r.messages} messages): "
            f"{', '.join(terms['term'])} [{share:.0%}: {', '.join(noise) or 'none'}] | "
            f"tags: {', '.join(tags) or '-'} | "
            + ("; ".join(f"{p.phrase} ({p.count_authors})" for p in top.itertuples()) or "-")
            + " | "
            + (f"{r.net_sentiment:+.2f}" if pd.notna(r.net_sentiment) else "-")
        )
        if len(top):
            example = top.iloc[0]["example_content_ids"][0]
            body = q(f"select body from stg_product__contents where content_id = '{example}'")[
                "body"
            ]
            if len(body):
                phrase = top.iloc[0]["phrase"]
                print(f"      e.g. for '{phrase}': {_around(body.iloc[0], phrase)}")
    return figures


def _report(db: Path, *, has_tags: bool) -> None:
    con = duckdb.connect(str(db), read_only=True)
    q = lambda sql: con.execute(sql).df()  # noqa: E731
    run = q("select * from communities.community_snapshot_runs order by snapshot_date desc limit 1")
    users = q("select user_id from dim_users")["user_id"]
    edges = q("select user_id_a, user_id_b, edge_weight from fct_user_edges")
    print(f"\n  users {len(users):,}, pairs in the all-time graph {len(edges):,}")
    if not run.empty:
        r = run.iloc[0]
        latest = q(
            "select community_id from communities.community_assignments "
            f"where snapshot_date = '{r.snapshot_date.date()}' and membership_status = 'member'"
        )["community_id"]
        print(
            f"  pipeline, latest weekly snapshot {r.snapshot_date.date()}: {_sizes(latest)}; "
            f"modularity {r.modularity:.3f}"
        )
    whole = detect_communities(edges, user_ids=users) if len(edges) else None
    if whole is None:
        return
    membership = whole.membership
    assigned = membership[membership["community_label"] >= 0]
    print(
        f"  whole history (same method): {_sizes(assigned['community_label'])}; "
        f"modularity {whole.quality['modularity']:.3f}, "
        f"{len(assigned) / max(len(membership), 1):.1%} of users assigned"
    )
    if has_tags:
        tags = q(
            """
            with counted as (
                select c.author_user_id as user_id, g.name as tag, count(*) as n
                from stg_product__contents c join stg_product__groups g using (group_id)
                group by all
            )
            select user_id, tag from counted
            qualify row_number() over (partition by user_id order by n desc, tag) = 1
            """
        )
        joined = assigned.merge(tags, on="user_id")
        if len(joined):
            print(
                f"  alignment with each member's most used tag ({len(joined)} users with both): "
                f"purity {purity(joined['tag'], joined['community_label']):.3f}, "
                f"NMI {normalized_mutual_info(joined['tag'], joined['community_label']):.3f}"
            )
    contents = q(
        "select author_user_id as user_id, body, group_id from stg_product__contents "
        "where body is not null"
    )
    group_names = q("select group_id, name from stg_product__groups")
    with_text = contents.merge(assigned, on="user_id").merge(group_names, on="group_id", how="left")
    with_text["tokens"] = tokenize_many(with_text["body"])
    terms = community_terms(
        with_text.rename(columns={"community_label": "community_id"}), top_n=8, min_df=2
    )
    print("  largest communities: top terms (the library's c-TF-IDF) | top tags")
    for label in assigned["community_label"].value_counts().index[:6]:
        rows = with_text[with_text["community_label"] == label]
        size = int((assigned["community_label"] == label).sum())
        top = ", ".join(terms.loc[terms["community_id"] == label, "term"]) or "-"
        top_tags = ", ".join(rows["name"].dropna().value_counts().index[:4]) or "-"
        print(f"    #{label} ({size} members): {top} | {top_tags}")
    _report_text_marts(q)
    kpis = q("select * from fct_kpi_daily order by kpi_date")
    if not kpis.empty:
        last = kpis.iloc[-1]
        print(
            f"  KPIs: {kpis.kpi_date.min().date()} .. {kpis.kpi_date.max().date()}, "
            f"mean DAU {kpis.count_dau.mean():.1f}, last WAU {last.count_wau}, "
            f"last MAU {last.count_mau}, content by group members "
            f"{kpis.count_contents_by_group_members.sum() / max(kpis.count_contents.sum(), 1):.1%}"
            ", inside groups "
            f"{kpis.count_contents_in_groups.sum() / max(kpis.count_contents.sum(), 1):.1%}"
        )
        retention = q(
            "select membership_segment, sum(count_retained_users) / sum(count_cohort_users) as r, "
            "sum(count_cohort_users) as n from fct_retention_cohorts "
            "where retention_period = 'week_4' and is_complete group by 1 order by 1"
        )
        text = "; ".join(
            f"{row.membership_segment} {row.r:.1%} (n={row.n})" for row in retention.itertuples()
        )
        print(f"  week-4 retention: {text or 'no complete cohort'}")
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stackexchange", type=Path, help="unpacked Stack Exchange dump folder")
    parser.add_argument("--collegemsg", type=Path, help="SNAP CollegeMsg.txt")
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="report on this already built warehouse of a Stack Exchange dump (no run), "
        "e.g. one built by another checkout, to compare two versions on the same data",
    )
    args = parser.parse_args()
    if args.warehouse is not None:
        _report(args.warehouse, has_tags=True)
        return 0
    se = args.stackexchange
    cm = args.collegemsg
    if se is None and cm is None:
        se = EVAL / "interactions" / "stackexchange_conlang_meta"
        cm = EVAL / "interactions" / "collegemsg" / "CollegeMsg.txt"
    for kind, path, env_name in (
        ("stackexchange", se, "SMALLGROUPS_STACKEXCHANGE_DUMP"),
        ("collegemsg", cm, "SMALLGROUPS_COLLEGEMSG_FILE"),
    ):
        if path is None:
            continue
        if not path.exists():
            print(f"{kind}: {path} not found (set SMALLGROUPS_EVAL_DATA); skipped")
            continue
        print(f"\n== {kind}: {path}")
        db = _run_pipeline(env_name, path, path.stem.lower())
        _report(db, has_tags=kind == "stackexchange")
    return 0


if __name__ == "__main__":
    sys.exit(main())
