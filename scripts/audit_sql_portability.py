"""List every DuckDB-only SQL construct in models/, macros/ and data-tests/, with the decision.

The models were written for DuckDB; the spark target (docs/spark.md) builds the ones of
the ``spark_portable`` selector (selectors.yml) on Spark too. This audit scans the SQL
text (Jinja tags and comments blanked out, so what a macro call renders is not counted:
the dispatched macros of macros/portability.sql hold the engine-specific SQL) for
constructs that DuckDB accepts and Spark SQL does not, or accepts with another meaning,
and prints for each the decision (a dbt cross-database macro, a dispatched project macro
``default__x`` / ``spark__x``, or plain SQL both engines accept) and where it occurs,
split into the files of the Spark scope and the others.

``--check`` exits 1 when a construct occurs in a file of the Spark scope (a model of the
selector, or a macro file that such a model calls), so the scope stays portable:
tests/dbt/test_sql_portability.py runs it. ``--markdown`` prints the table that
docs/spark.md carries.

The bodies of ``default__`` / ``duckdb__`` macros are the DuckDB side of a dispatched macro
and are not counted; neither are macros that only run on DuckDB (their guard is listed in
``DUCKDB_ONLY_MACROS``).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCANNED = ("models", "macros", "data-tests")


@dataclass(frozen=True)
class Construct:
    """One DuckDB-only construct.

    Attributes
    ----------
    key : str
        Short name.
    pattern : str
        Regular expression over the Jinja-free, comment-free SQL (case-insensitive).
    what : str
        What DuckDB does that Spark does not.
    decision : str
        How a model says it portably.
    in_jinja : bool
        Match the text with its Jinja kept (model configs), not the SQL outside it.
    """

    key: str
    pattern: str
    what: str
    decision: str
    in_jinja: bool = False


CONSTRUCTS: tuple[Construct, ...] = (
    Construct(
        "trailing_comma",
        r",\s*(\bfrom\b|\))",
        "a comma after the last select item (sqlfluff CV03 is off for it)",
        "plain SQL: no comma after the last item (Spark's parser reads `, from` as a column)",
    ),
    Construct(
        "star_exclude",
        r"\*\s*exclude\s*\(",
        "`select * exclude (a, b)`",
        "project macro star_except([...], alias) (dispatched; Spark: a backquoted regex "
        "column name, spark.sql.parser.quotedRegexColumnNames in the spark profile)",
    ),
    Construct(
        "star_replace",
        r"\*\s*replace\s*\(",
        "`select * replace (expr as a)`",
        "plain SQL: list the columns",
    ),
    Construct(
        "row_to_json",
        r"\bto_json\s*\(\s*\w+\s*\)",
        "`to_json(alias)` of a whole row",
        "project macro row_to_json(alias) (Spark: to_json(struct(alias.*)) keeping nulls)",
    ),
    Construct(
        "json_object",
        r"\bjson_object\s*\(",
        "`json_object(k, v, ...)`",
        "project macro json_object_of([(k, expr)]) (Spark: to_json(named_struct(...)))",
    ),
    Construct(
        "json_extract",
        r"\bjson_extract(_string)?\s*\(|->>",
        "JSON path extraction",
        "project macro (dispatched; Spark: get_json_object)",
    ),
    Construct(
        "timestamptz",
        r"\btimestamptz\b|\bat\s+time\s+zone\b",
        "timestamp with time zone, `at time zone`",
        "project macro try_to_utc_timestamp (Spark: try_cast(x as timestamp) in a UTC "
        "session, spark.sql.session.timeZone in the spark profile)",
    ),
    Construct(
        "varchar_type",
        r"\bas\s+varchar\b|::\s*varchar|\bvarchar\s*\[\]",
        "the type name varchar without a length (Spark needs varchar(n))",
        "plain SQL: `string` (DuckDB's alias of varchar, Spark's text type); seeds "
        "column_types too",
    ),
    Construct(
        "json_type",
        r"\bas\s+json\b|\bjson\s*,|\bcolumn\s+\w+\s+json\b",
        "the JSON type",
        "plain SQL: string (both keep the JSON text)",
    ),
    Construct(
        "duckdb_types",
        r"\b(hugeint|ubigint|uinteger|usmallint|utinyint|timestamp_ns|timestamp_ms)\b",
        "DuckDB-only numeric and timestamp types",
        "plain SQL: bigint / decimal(38, 0) / timestamp",
    ),
    Construct(
        "double_colon_cast",
        r"::\s*\w+",
        "`x::type` casts",
        "plain SQL: cast(x as type)",
    ),
    Construct(
        "regexp_matches",
        r"\bregexp_matches\s*\(",
        "`regexp_matches(x, re)` (RE2, anywhere in x)",
        "project macro regexp_contains (Spark: x rlike re, backslashes doubled for its "
        "string literals; \\x{FFFD} means the same in RE2 and Java)",
    ),
    Construct(
        "regexp_full_match",
        r"\bregexp_full_match\s*\(",
        "`regexp_full_match(x, re)`",
        "project macro regexp_full_match (Spark: x rlike '^(?:re)$')",
    ),
    Construct(
        "regexp_replace_backref",
        r"\bregexp_replace\s*\([^;]*\\\d",
        "regexp_replace with \\1 back-references (Spark writes $1)",
        "project macro (dispatched) when ported",
    ),
    Construct(
        "isfinite",
        r"\bisfinite\s*\(|\bisinf\s*\(",
        "`isfinite(x)`",
        "project macro is_finite (Spark: not isnan(x) and abs(x) != double('infinity'))",
    ),
    Construct(
        "generate_series",
        r"\b(generate_series|range)\s*\(",
        "generate_series / range as a table or list",
        "project macro cross_join_days (Spark: lateral view explode(sequence(...)))",
    ),
    Construct(
        "unnest",
        r"\bunnest\s*\(",
        "unnest of a list",
        "project macro (dispatched; Spark: explode / lateral view) when ported",
    ),
    Construct(
        "list_functions",
        r"\b(list|array_agg|list_\w+|array_\w+|struct_pack|string_split|str_split)\s*\(",
        "lists, list functions and struct literals",
        "project macro (dispatched; Spark: collect_list + array_sort, named_struct, "
        "split with a regex) when ported",
    ),
    Construct(
        "semi_anti_join",
        r"(?<!left\s)\b(semi|anti)\s+join\b",
        "`semi join` / `anti join`",
        "project macro semi_join() (Spark: left semi join); anti: left anti join when ported",
    ),
    Construct(
        "interval_functions",
        r"\bto_(hours|days|minutes|seconds|weeks|months)\s*\(|\binterval\s*\(",
        "to_hours(n) / to_days(n) / interval (expr) unit",
        "project macro add_hours (Spark: make_interval); days: dbt.dateadd or plain "
        "`date + n` (Spark date_add) when ported",
    ),
    Construct(
        "date_diff",
        r"\b(date_diff|datediff|date_sub)\s*\(",
        "date_diff(part, a, b) counts boundaries crossed",
        "dbt.datediff, checked: for hours Spark's rounds differently (docs/spark.md)",
    ),
    Construct(
        "strftime",
        r"\bstrftime\s*\(|\bstrptime\s*\(",
        "strftime / strptime formats (%Y)",
        "project macro format_timestamp_iso (Spark: date_format with Java patterns)",
    ),
    Construct(
        "epoch",
        r"\bepoch(_ms|_us)?\s*\(|\bextract\s*\(\s*epoch",
        "epoch seconds",
        "project macro (dispatched; Spark: unix_timestamp / unix_micros) when ported",
    ),
    Construct(
        "dow",
        r"\b(isodow|dayofweek|dayname|isoyear)\b",
        "day-of-week numbering (DuckDB isodow 1 = Monday, Spark dayofweek 1 = Sunday)",
        "project macro (dispatched) when ported",
    ),
    Construct(
        "arg_max",
        r"\barg_(max|min)\s*\(",
        "arg_max / arg_min",
        "plain SQL: max_by / min_by (both engines)",
    ),
    Construct(
        "string_agg",
        r"\bstring_agg\s*\(|\bgroup_concat\s*\(",
        "string_agg(x, sep order by y)",
        "dbt.listagg (cross-database macro) when ported",
    ),
    Construct(
        "quantile",
        r"\b(quantile_cont|quantile_disc|quantile|median)\s*\(",
        "quantile_cont / median",
        "plain SQL: percentile_cont(p) within group (order by x) (both engines)",
    ),
    Construct(
        "asof_join",
        r"\basof\b",
        "`asof join` (the latest row at or before a key)",
        "plain SQL: the max key at or before it in a grouped join, then an equi-join",
    ),
    Construct(
        "lateral_join",
        r"\bjoin\s+lateral\b",
        "a correlated lateral subquery (Spark does not decorrelate one with a range predicate)",
        "plain SQL: a range join, grouped",
    ),
    Construct(
        "caret_power",
        r"\^",
        "`x ^ y` is a power in DuckDB, a bitwise XOR in Spark",
        "plain SQL: power(x, y)",
    ),
    Construct(
        "values_column_names",
        r"\.col[0-9]\b",
        "the columns of a VALUES list as col0.. (Spark: col1..)",
        "plain SQL: name them, `(values ...) as t (a, b)`",
    ),
    Construct(
        "qualify",
        r"\bqualify\b",
        "QUALIFY",
        "plain SQL: filter a window in a wrapping select",
    ),
    Construct(
        "order_by_all",
        r"\border\s+by\s+all\b",
        "ORDER BY ALL (Spark 4 only)",
        "plain SQL: name the columns",
    ),
    Construct(
        "union_by_name",
        r"\bunion\s+(all\s+)?by\s+name\b",
        "UNION BY NAME",
        "plain SQL: list the columns in the same order",
    ),
    Construct(
        "log",
        r"\blog\s*\(",
        "log(x) is base 10 in DuckDB, natural in Spark",
        "plain SQL: ln(x) or log10(x)",
    ),
    Construct(
        "integer_division",
        r"(?<![/-])//(?![/])",
        "`a // b` integer division",
        "plain SQL: floor(a / b) or div",
    ),
    Construct(
        "hash_format",
        r"\b(hash|md5_number|printf|format)\s*\(",
        "hash() / printf() / format()",
        "project macro (dispatched; Spark: xxhash64 / format_string) when ported",
    ),
    Construct(
        "error_fn",
        r"\berror\s*\(",
        "error(message) inside a query",
        "project macro (dispatched; Spark: raise_error) when ported",
    ),
    Construct(
        "starts_ends_with",
        r"\b(starts_with|ends_with)\s*\(",
        "starts_with / ends_with",
        "plain SQL: like 'prefix%' / left(x, n) = prefix (Spark: startswith)",
    ),
    Construct(
        "dml",
        r"\b(update\s+\{\{|update\s+\w+\s+set|delete\s+from|alter\s+table\s+\S+\s+add)\b",
        "UPDATE / DELETE / ALTER in hooks (Spark needs Delta or Iceberg)",
        "hooks guarded by target.type == 'duckdb' (legacy DuckDB migrations) or a "
        "materialization without them on Spark (table, append, insert_overwrite)",
    ),
    Construct(
        "delete_insert",
        r"incremental_strategy\s*=\s*['\"](delete\+insert|merge)['\"]",
        "incremental_strategy delete+insert / merge (Spark: only with Delta or Iceberg)",
        "insert_overwrite of date partitions or append on Spark (config by target.type)",
        in_jinja=True,
    ),
    Construct(
        "double_quoted_identifier",
        r'(?<![\w\'])"[a-z_][a-z0-9_]*"',
        'identifiers in double quotes (Spark reads "x" as a string)',
        "plain SQL: unquoted names (or adapter.quote)",
    ),
)

#: Macros that run only on DuckDB: their body is not counted (the guard is named).
DUCKDB_ONLY_MACROS = {
    "backfill_raw_records": "target.type == 'duckdb'",
    "relativize_source_files": "target.type == 'duckdb'",
    # The models that call it are materialized as tables on Spark (never incremental).
    "forget_changed_source_files": "base_product__contents is a table on Spark",
}

#: Parents of the selector's KPI model files that are not selector parts themselves.
_KPI_PARENTS = (
    "models/intermediate/kpi/int_kpi_days.sql",
    "models/intermediate/kpi/int_group_membership_spells.sql",
)

_MACRO_RE = re.compile(
    r"{%-?\s*macro\s+(\w+)\s*\(.*?%}(.*?){%-?\s*endmacro\s*-?%}", re.DOTALL | re.IGNORECASE
)


def _blank(match: re.Match[str]) -> str:
    """Spaces for a match, newlines kept (line numbers stay right)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def strip_sql(text: str) -> str:
    """The SQL text with Jinja tags, Jinja comments, SQL comments and string literals
    blanked out, a Jinja expression reduced to one letter (line numbers kept)."""
    text = re.sub(r"{#.*?#}", _blank, text, flags=re.DOTALL)
    # A multi-line config block holds Jinja strings with {{ }} of their own.
    text = re.sub(r"{{-?\s*config\(.*?\n\)\s*-?}}", _blank, text, flags=re.DOTALL)
    text = re.sub(r"{%.*?%}", _blank, text, flags=re.DOTALL)
    # An expression stays a token (so `f(a, {{ b }})` is no trailing comma).
    text = re.sub(r"{{.*?}}", lambda m: "J" + _blank(m)[1:], text, flags=re.DOTALL)
    text = re.sub(r"--[^\n]*", _blank, text)
    text = re.sub(r"'(?:[^']|'')*'", lambda m: "'" + _blank(m)[1:-1] + "'", text)
    return text


def _macro_bodies_to_skip(text: str) -> str:
    """Blank the bodies of DuckDB-side and DuckDB-only macros."""

    def skip(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith(("default__", "duckdb__")) or name in DUCKDB_ONLY_MACROS:
            return _blank(match)
        return match.group(0)

    return _MACRO_RE.sub(skip, text)


def spark_scope_paths(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The model folders and files of the ``spark_portable`` selector (selectors.yml),
    through the selectors it unites (the three phases of the Spark flow), in order."""
    selectors = yaml.safe_load((project_dir / "selectors.yml").read_text())
    by_name = {selector["name"]: selector for selector in selectors["selectors"]}

    def paths(name: str) -> list[str]:
        if name not in by_name:
            raise LookupError(f"selectors.yml has no selector {name}")
        found = []
        for part in by_name[name]["definition"]["union"]:
            if part.get("method") == "path":
                found.append(part["value"].rstrip("/"))
            elif part.get("method") == "selector":
                found += paths(part["value"])
        return found

    return paths("spark_portable")


def _spark_scope_files(project_dir: Path) -> set[Path]:
    """The SQL files the Spark build reads: the models of the scope folders and their
    ancestors' folders (staging/product, intermediate/core and graph), and the macro
    files whose macros those models (or their yml tests) call."""
    scope_dirs = spark_scope_paths(project_dir)
    # The selector takes the parents of the marts: the intermediates they read.
    scope_dirs += ["models/intermediate/core", "models/intermediate/graph"]
    # A selector part is a folder or one model file (and its parents: a file of the
    # selector's KPI models reads only models of these folders or other such files).
    scope_files = [d for d in scope_dirs if d.endswith(".sql")]
    scope_dirs = [d for d in scope_dirs if not d.endswith(".sql")]
    models = {p for d in scope_dirs for p in (project_dir / d).rglob("*.sql")}
    models |= {project_dir / f for f in scope_files}
    models |= {project_dir / f for f in _KPI_PARENTS if scope_files}
    # Singular data tests of the scope's models (data-tests/<layer>/<domain>/), and
    # those beside a scope file that read it.
    for folder in scope_dirs:
        tests = project_dir / "data-tests" / Path(folder).relative_to("models")
        models |= set(tests.rglob("*.sql")) if tests.is_dir() else set()
    for file in scope_files:
        tests = project_dir / "data-tests" / Path(file).parent.relative_to("models")
        reads = re.compile(rf"ref\(\s*['\"]{re.escape(Path(file).stem)}['\"]\s*\)")
        models |= {p for p in tests.glob("*.sql") if reads.search(p.read_text())}
    ymls = [p for d in scope_dirs for p in (project_dir / d).rglob("*.yml")]
    ymls += sorted(
        {(project_dir / f).parent / f"_{Path(f).parent.name}__models.yml" for f in scope_files}
    )
    calling_text = "\n".join(p.read_text() for p in [*models, *ymls])
    macro_files = set()
    for path in (project_dir / "macros").rglob("*.sql"):
        names = _MACRO_RE.findall(path.read_text())
        if any(
            re.search(rf"\b{re.escape(name)}\b", calling_text)
            for name, _ in names
            if name not in DUCKDB_ONLY_MACROS
        ):
            macro_files.add(path)
    # Generic tests (`{% test x %}`) of the scope's yml files.
    for path in (project_dir / "macros").rglob("*.sql"):
        for name in re.findall(r"{%-?\s*test\s+(\w+)\s*\(", path.read_text()):
            if re.search(rf"\b{name}\b", calling_text):
                macro_files.add(path)
    return models | macro_files


def audit(project_dir: Path = PROJECT_DIR) -> list[dict[str, object]]:
    """Every occurrence of every construct.

    Returns
    -------
    list of dict
        ``construct``, ``file`` (relative), ``line``, ``in_spark_scope``, ``text``
        (the line), sorted by construct, file and line.
    """
    scope = _spark_scope_files(project_dir)
    found = []
    for folder in SCANNED:
        for path in sorted((project_dir / folder).rglob("*.sql")):
            raw = path.read_text()
            skipped = _macro_bodies_to_skip(raw)
            text = strip_sql(skipped)
            with_jinja = re.sub(r"--[^\n]*|{#.*?#}", _blank, skipped, flags=re.DOTALL)
            lines = raw.splitlines()
            for construct in CONSTRUCTS:
                scanned = with_jinja if construct.in_jinja else text
                for match in re.finditer(construct.pattern, scanned, flags=re.IGNORECASE):
                    line = scanned.count("\n", 0, match.start()) + 1
                    found.append(
                        {
                            "construct": construct.key,
                            "file": str(path.relative_to(project_dir)),
                            "line": line,
                            "in_spark_scope": path in scope,
                            "text": lines[line - 1].strip() if line <= len(lines) else "",
                        }
                    )
    order = {c.key: i for i, c in enumerate(CONSTRUCTS)}
    found.sort(key=lambda f: (order[f["construct"]], f["file"], f["line"]))
    return found


def markdown_table(found: list[dict[str, object]]) -> str:
    """One row per construct: what, decision, occurrences in and out of the Spark scope."""
    rows = [
        "| construct | DuckDB-only | decision | in Spark scope | elsewhere (files) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for construct in CONSTRUCTS:
        hits = [f for f in found if f["construct"] == construct.key]
        inside = sum(1 for f in hits if f["in_spark_scope"])
        outside = [f for f in hits if not f["in_spark_scope"]]
        files = len({f["file"] for f in outside})
        what = construct.what.replace("|", "\\|")
        decision = construct.decision.replace("|", "\\|")
        rows.append(
            f"| {construct.key} | {what} | {decision} | {inside} | {len(outside)} ({files}) |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the audit; with ``--check`` exit 1 on a construct inside the Spark scope."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on the Spark scope")
    parser.add_argument("--markdown", action="store_true", help="the docs/spark.md table")
    parser.add_argument("--list", action="store_true", help="every occurrence, one a line")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    args = parser.parse_args(argv)
    found = audit(args.project_dir)
    if args.markdown:
        print(markdown_table(found))
    if args.list or not (args.markdown or args.check):
        for f in found:
            scope = "SPARK" if f["in_spark_scope"] else "duckdb"
            print(f"{scope}\t{f['construct']}\t{f['file']}:{f['line']}\t{f['text']}")
    if args.check:
        inside = [f for f in found if f["in_spark_scope"]]
        for f in inside:
            print(f"{f['file']}:{f['line']}: {f['construct']}: {f['text']}", file=sys.stderr)
        print(
            f"{len(inside)} DuckDB-only construct(s) in the Spark scope, "
            f"{len(found) - len(inside)} elsewhere",
            file=sys.stderr,
        )
        return 1 if inside else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
