"""Report on a real community: import it, run the whole pipeline, print what was found.

For a Stack Exchange dump (``--stackexchange DIR``) or the SNAP CollegeMsg file
(``--collegemsg FILE``): the pipeline is run on it (its own warehouse under
``data/real/``), then this prints the detected communities and their sizes - both the
pipeline's latest weekly snapshot and a detection on the whole history (small, slow
sites have too few interactions in any 4-week window) - how well communities line up
with tags (purity and NMI against each member's most used tag), each large community's
top terms next to its top tags, and the KPIs. Figures only.

    python bench/report_real.py                      # the conlang meta dump and CollegeMsg
    python bench/report_real.py --stackexchange /path/to/unpacked/site.stackexchange.com
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.lib.communities import detect_communities  # noqa: E402
from orchestration.lib.communities.metrics import normalized_mutual_info, purity  # noqa: E402

EVAL = Path(os.environ.get("SMALLGROUPS_EVAL_DATA", PROJECT_DIR.parent / "shared" / "data"))
_WORD = re.compile(r"[a-z][a-z'\-]{2,}")
_STOP_WORDS = """the and for that this with you are not but have was can what there they would
    about from which when will one all your has been how more other also any just
    some like only into their them then than its it's were should could because does
    don't use using used get make way think know want need see see also very such
    these those here where why who may might much many most well even each both same
    still over"""
_STOP = frozenset(_STOP_WORDS.split())


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


def _top_terms(texts: list[str], background: collections.Counter, n: int = 8) -> list[str]:
    counts = collections.Counter(
        word for text in texts for word in _WORD.findall(text.lower()) if word not in _STOP
    )
    total_bg = sum(background.values()) or 1
    total = sum(counts.values()) or 1
    scored = {
        w: (c / total) * math.log(1 + total_bg / (1 + background[w]))
        for w, c in counts.items()
        if c >= 2
    }
    return [w for w, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


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
            f"where snapshot_date = '{r.snapshot_date.date()}'"
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
    background = collections.Counter(
        w for t in contents["body"] for w in _WORD.findall(t.lower()) if w not in _STOP
    )
    with_text = contents.merge(assigned, on="user_id").merge(group_names, on="group_id", how="left")
    print("  largest communities: top terms (c-TF-IDF against all text) | top tags")
    for label in assigned["community_label"].value_counts().index[:6]:
        rows = with_text[with_text["community_label"] == label]
        size = int((assigned["community_label"] == label).sum())
        terms = ", ".join(_top_terms(rows["body"].tolist(), background)) or "-"
        top_tags = ", ".join(rows["name"].dropna().value_counts().index[:4]) or "-"
        print(f"    #{label} ({size} members): {terms} | {top_tags}")
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
    args = parser.parse_args()
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
