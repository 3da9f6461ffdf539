"""dbt-project-evaluator's rules, checked over the parsed manifest.

The dbt package hub is unreachable here, so the rules of dbt-labs/dbt-project-evaluator
are written again in Python over ``manifest.json`` (the package computes the same
tables with SQL over the graph). Each rule returns the offending resources as short
strings; a test fails when a rule finds one that is not an allowed exception. The
exceptions are listed once, in ``EXCEPTIONS``, each with its reason, and
``docs/dbt_rules.md`` shows the same list (a test checks that the two agree and that
no exception is stale). The project's own ``unique_combination_of_columns`` test counts
as a primary-key test, as dbt-utils' does in the evaluator.

Run ``python tests/dbt/test_project_rules.py [path/to/manifest.json]`` to print the
count per rule (before exceptions) without pytest.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestration.lib.dbt_project import parse_dbt_project

__all__ = ["EXCEPTIONS", "RULES", "Graph", "count_violations", "parse_manifest"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RULES_DOC = PROJECT_ROOT / "docs" / "dbt_rules.md"

# The evaluator's defaults (its dbt_project.yml vars).
MODELS_FANOUT_THRESHOLD = 3
TOO_MANY_JOINS_THRESHOLD = 7
CHAINED_VIEWS_THRESHOLD = 4
# Model types by name prefix, then by the folder closest to the file.
PREFIXES = {
    "base_": "base",
    "stg_": "staging",
    "int_": "intermediate",
    "fct_": "marts",
    "dim_": "marts",
    "rpt_": "other",
}
FOLDERS = {
    "base": "base",
    "staging": "staging",
    "intermediate": "intermediate",
    "marts": "marts",
    "other": "other",
}
# Tests that prove a grain: unique + not_null on one column, or a unique combination
# (dbt-utils' or the project's macro of the same name).
UNIQUE_COMBINATION_TESTS = {"unique_combination_of_columns"}

# rule -> {resource: reason}. Each entry is a decision, documented in docs/dbt_rules.md.
EXCEPTIONS: dict[str, dict[str, str]] = {
    "direct_join_to_source": {
        base: (
            "A base model decides each raw row's fate once, in one CASE (the first failing "
            "check wins, in the order the rejects report): its reference checks (unknown "
            "user, group or experiment) read the accepted rows of the staging models they "
            "point at, beside the source. Splitting each into a typed and a checked model "
            "would add five models to move the same join one step down."
        )
        for base in (
            "base_product__contents",
            "base_product__events",
            "base_product__experiment_assignments",
            "base_product__group_memberships",
            "base_product__groups",
        )
    },
    "too_many_joins": {
        "stg_product__rejected_rows": (
            "A union, not a join: one branch per raw table (var raw_tables), each reading "
            "the rejected rows of its base model."
        ),
    },
    "model_fanout": {
        "stg_communities__snapshot_runs": (
            "The calendar of weekly community snapshots (a few rows): marts of the "
            "communities and text domains each need to know which snapshots exist; an "
            "intermediate in between would only rename it."
        ),
    },
    "rejoining_of_upstream_concepts": {
        "dim_communities via fct_declared_group_overlap": (
            "fct_declared_group_overlap is a contracted mart in its own right (every "
            "declared group / community pair at the latest snapshot); dim_communities "
            "takes each community's best match from it, and reads the snapshot calendar "
            "and the members for its other columns."
        ),
        "dim_groups via fct_group_members_daily": (
            "fct_group_members_daily is a contracted mart in its own right (each declared "
            "group's size per day); dim_groups takes the peak and the earlier size from it, "
            "and reads groups, memberships and events for owner, members and activity."
        ),
        "fct_user_edges via int_co_memberships_paired": (
            "Groups larger than var co_membership_full_pairs_max_size only strengthen pairs "
            "that also interact, so the co-membership pairs read the interactions; the "
            "edge mart then joins interactions and co-memberships by pair into one weighted "
            "edge."
        ),
    },
    "root_models": {
        "metricflow_time_spine": (
            "MetricFlow's time spine generates its days from a series; it has no parent "
            "by design (the evaluator's naming rule exempts it too)."
        ),
    },
    "sources_without_freshness": {
        "product.*": (
            "The raw tables are views the raw step registers over delivered files on every "
            "run; files can be of any age (the demo, imports of 2004-2010 StackExchange and "
            "CollegeMsg data), so a freshness threshold on their timestamps would always "
            "fail, and their columns are untyped text until the base models type them."
        ),
        "communities.*": (
            "Written by the community_snapshots Dagster asset in the same run, just before "
            "dbt reads them: Dagster's asset graph orders the two, so they cannot be stale."
        ),
        "kpi.*": (
            "Written by the growth_inflections Dagster asset in the same run (see communities.*)."
        ),
        "text.*": "Written by the text Dagster assets in the same run (see communities.*).",
        "experiments.*": (
            "Written by the experiment_readout Dagster asset in the same run (see communities.*)."
        ),
        "attribution.*": (
            "Written by the intervention_attribution Dagster asset in the same run (see "
            "communities.*)."
        ),
        "planning.*": (
            "Written by the potential_score Dagster asset in the same run (see communities.*)."
        ),
    },
    "model_directories": {
        "rpt_high_potential_communities": (
            "A report (rpt_, the evaluator's 'other' type) on the community manager "
            "dashboard: a public, contracted mart kept beside the community marts it "
            "ranks. Moving it to an other/ folder would move its Dagster asset group and "
            "folder config; renaming it would break its contract."
        ),
        "rpt_high_potential_key_members": (
            "The companion report of rpt_high_potential_communities (its key members to "
            "contact, group by group): kept beside it and the community marts it reads, "
            "for the same reasons."
        ),
        "rpt_pilot_replication": (
            "A report (rpt_) of the planning marts (issue 17): kept beside "
            "fct_potential_score_* in marts/planning, the folder of its Dagster asset group; "
            "renaming it would break its contract (smallgroups plan reads it)."
        ),
    },
}


@dataclass
class Graph:
    """The resources of a manifest and their direct edges.

    Attributes
    ----------
    manifest : dict
        The parsed ``manifest.json``.
    parents : dict[str, list[str]]
        Unique id -> unique ids of its direct parents (models, seeds, snapshots,
        sources; tests and unit tests are left out, as in the evaluator's DAG).
    children : dict[str, list[str]]
        The reverse of ``parents``; exposures appear as children.
    """

    manifest: dict
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def from_manifest(cls, manifest: dict) -> Graph:
        """Build the graph of the project's own resources."""
        graph = cls(manifest)
        for unique_id, node in {**manifest["nodes"], **manifest["exposures"]}.items():
            if node["resource_type"] not in {"model", "seed", "snapshot", "exposure"}:
                continue
            direct = sorted(set(node.get("depends_on", {}).get("nodes", [])))
            graph.parents[unique_id] = direct
            for parent in direct:
                graph.children[parent].append(unique_id)
        return graph

    def resource(self, unique_id: str) -> dict:
        """The manifest entry of a node, source or exposure."""
        for section in ("nodes", "sources", "exposures"):
            if unique_id in self.manifest[section]:
                return self.manifest[section][unique_id]
        raise KeyError(unique_id)

    def name(self, unique_id: str) -> str:
        """A readable name: ``source_name.table`` for sources, else the node name."""
        resource = self.resource(unique_id)
        if resource["resource_type"] == "source":
            return f"{resource['source_name']}.{resource['name']}"
        return resource["name"]

    def kind(self, unique_id: str) -> str:
        """The resource type (model, seed, source, exposure...)."""
        return self.resource(unique_id)["resource_type"]

    @property
    def models(self) -> list[str]:
        """Unique ids of the project's models."""
        return sorted(
            uid
            for uid, node in self.manifest["nodes"].items()
            if node["resource_type"] == "model" and node["package_name"] == self.project
        )

    @property
    def sources(self) -> list[str]:
        """Unique ids of the project's sources."""
        return sorted(self.manifest["sources"])

    @property
    def exposures(self) -> list[str]:
        """Unique ids of the exposures."""
        return sorted(self.manifest["exposures"])

    @property
    def project(self) -> str:
        """The root project's name."""
        return self.manifest["metadata"]["project_name"]

    def model_type(self, unique_id: str) -> str:
        """The evaluator's model type: by prefix, else by the closest folder, else other."""
        node = self.resource(unique_id)
        prefix = node["name"].split("_")[0] + "_"
        return PREFIXES.get(prefix) or self.folder_type(unique_id) or "other"

    def folder_type(self, unique_id: str) -> str | None:
        """The model type of the known folder closest to the file (None if none)."""
        folders = Path(self.resource(unique_id)["original_file_path"]).parent.parts
        for folder in reversed(folders):
            if folder in FOLDERS:
                return FOLDERS[folder]
        return None

    def tests_of(self, unique_id: str) -> list[dict]:
        """Data tests whose primary (attached) node is this resource."""
        return [
            node
            for node in self.manifest["nodes"].values()
            if node["resource_type"] == "test" and _attached_node(node) == unique_id
        ]


def _attached_node(test: dict) -> str | None:
    """The resource a test belongs to: dbt's attached node, else its only parent."""
    if test.get("attached_node"):
        return test["attached_node"]
    parents = test.get("depends_on", {}).get("nodes", [])
    return parents[0] if len(parents) == 1 else None


def _is_view(graph: Graph, unique_id: str) -> bool:
    if graph.kind(unique_id) != "model":
        return False
    return graph.resource(unique_id)["config"]["materialized"] in {"view", "ephemeral"}


# ------------------------------------------------------------------------ modeling


def direct_join_to_source(graph: Graph) -> list[str]:
    """Parent/child pairs of models that read both a source and another model."""
    found = []
    for child in graph.models:
        kinds = {graph.kind(parent) for parent in graph.parents[child]}
        if {"source", "model"} <= kinds:
            found += [f"{graph.name(child)}: reads {graph.name(p)}" for p in graph.parents[child]]
    return found


def _layer_of(graph: Graph, uid: str) -> str:
    # A source is its own layer; a model's layer is its model type.
    return "source" if graph.kind(uid) == "source" else graph.model_type(uid)


def _reads(graph: Graph, child_layers: set[str], parent_layers: set[str]) -> list[str]:
    # "child: reads parent" for each model of child_layers reading one of parent_layers.
    return [
        f"{graph.name(child)}: reads {graph.name(parent)}"
        for child in graph.models
        if graph.model_type(child) in child_layers
        for parent in graph.parents[child]
        if graph.kind(parent) in {"source", "model"} and _layer_of(graph, parent) in parent_layers
    ]


def marts_or_intermediate_dependent_on_source(graph: Graph) -> list[str]:
    """Intermediate or mart models that read a source directly."""
    return _reads(graph, {"intermediate", "marts"}, {"source"})


def model_fanout(graph: Graph) -> list[str]:
    """Models with at least three direct children that are models read by no model.

    A model read only by exposures counts as a leaf (as measured in issue 10).
    """
    found = []
    for parent in graph.models:
        leaves = [
            child
            for child in graph.children[parent]
            if graph.kind(child) == "model"
            and not any(graph.kind(c) == "model" for c in graph.children[child])
        ]
        if len(leaves) >= MODELS_FANOUT_THRESHOLD:
            found.append(f"{graph.name(parent)}: {', '.join(sorted(map(graph.name, leaves)))}")
    return found


def _with_several(graph: Graph, resources: list[str], kind: str, edges: dict) -> list[str]:
    # "resource: a, b" for each resource with more than one neighbour of this kind.
    found = []
    for uid in resources:
        neighbours = sorted(graph.name(n) for n in edges[uid] if graph.kind(n) == kind)
        if len(neighbours) > 1:
            found.append(f"{graph.name(uid)}: {', '.join(neighbours)}")
    return found


def multiple_sources_joined(graph: Graph) -> list[str]:
    """Models that read more than one source."""
    return _with_several(graph, graph.models, "source", graph.parents)


def rejoining_of_upstream_concepts(graph: Graph) -> list[str]:
    """A reads B and C, B reads C, and B has no other child: B's logic belongs in A."""
    found = []
    for child in graph.models:
        direct = set(graph.parents[child])
        for middle in direct:
            if graph.kind(middle) != "model":
                continue
            middle_children = [c for c in graph.children[middle] if graph.kind(c) != "exposure"]
            if middle_children != [child]:
                continue
            for upstream in set(graph.parents[middle]) & direct:
                found.append(
                    f"{graph.name(child)} via {graph.name(middle)}: reads "
                    f"{graph.name(upstream)} directly and through the middle model, "
                    "which feeds only this one"
                )
    return found


def root_models(graph: Graph) -> list[str]:
    """Models with no parent at all."""
    return [graph.name(uid) for uid in graph.models if not graph.parents[uid]]


def source_fanout(graph: Graph) -> list[str]:
    """Sources read by more than one model."""
    return _with_several(graph, graph.sources, "model", graph.children)


def staging_dependent_on_staging(graph: Graph) -> list[str]:
    """Staging models that read other staging models (base models are their own type)."""
    return _reads(graph, {"staging"}, {"staging"})


def staging_dependent_on_downstream_models(graph: Graph) -> list[str]:
    """Staging or base models that read intermediate or mart models."""
    return _reads(graph, {"staging", "base"}, {"intermediate", "marts"})


def unused_sources(graph: Graph) -> list[str]:
    """Sources that no model reads."""
    return [
        graph.name(source)
        for source in graph.sources
        if not any(graph.kind(c) == "model" for c in graph.children[source])
    ]


def too_many_joins(graph: Graph) -> list[str]:
    """Models with seven or more direct parents."""
    return [
        f"{graph.name(uid)}: {len(graph.parents[uid])} parents"
        for uid in graph.models
        if len(graph.parents[uid]) >= TOO_MANY_JOINS_THRESHOLD
    ]


def duplicate_sources(graph: Graph) -> list[str]:
    """Two source entries naming the same relation."""
    seen = defaultdict(list)
    for uid in graph.sources:
        source = graph.resource(uid)
        relation = (source["database"], source["schema"], source["identifier"])
        seen[relation].append(graph.name(uid))
    return [", ".join(names) for names in seen.values() if len(names) > 1]


# ------------------------------------------------------------------------- testing


def missing_primary_key_tests(graph: Graph) -> list[str]:
    """Models without a grain test (unique + not_null on a column, or a combination)."""
    found = []
    for uid in graph.models:
        node = graph.resource(uid)
        unique, not_null = set(), set()
        combination = False
        for test in graph.tests_of(uid):
            name = (test.get("test_metadata") or {}).get("name")
            column = test.get("column_name")
            if name == "unique":
                unique.add(column)
            elif name == "not_null":
                not_null.add(column)
            elif name in UNIQUE_COMBINATION_TESTS:
                combination = True
        for column in node["columns"].values():
            if any(c["type"] == "not_null" for c in column.get("constraints", [])):
                not_null.add(column["name"])
        if not combination and not (unique & not_null):
            found.append(node["name"])
    return found


def untested_models(graph: Graph) -> list[str]:
    """Models with no data test at all (the evaluator's test coverage, target 100%)."""
    return [graph.name(uid) for uid in graph.models if not graph.tests_of(uid)]


def sources_without_freshness(graph: Graph) -> list[str]:
    """Source tables with no freshness threshold or no loaded_at_field to measure it."""
    found = []
    for uid in graph.sources:
        source = graph.resource(uid)
        freshness = source.get("freshness") or {}
        has_threshold = any(
            (freshness.get(level) or {}).get("count") for level in ("warn_after", "error_after")
        )
        if not (has_threshold and source.get("loaded_at_field")):
            found.append(graph.name(uid))
    return found


# ------------------------------------------------------------------- documentation


def undocumented_models(graph: Graph) -> list[str]:
    """Models without a description."""
    return [
        graph.name(uid) for uid in graph.models if not graph.resource(uid)["description"].strip()
    ]


def undocumented_columns(graph: Graph) -> list[str]:
    """Declared model columns without a description."""
    return [
        f"{graph.name(uid)}.{column['name']}"
        for uid in graph.models
        for column in graph.resource(uid)["columns"].values()
        if not column["description"].strip()
    ]


def undocumented_sources(graph: Graph) -> list[str]:
    """Sources (the source entry) without a description."""
    names = {
        graph.resource(uid)["source_name"]
        for uid in graph.sources
        if not graph.resource(uid)["source_description"].strip()
    }
    return sorted(names)


def undocumented_source_tables(graph: Graph) -> list[str]:
    """Source tables without a description."""
    return [
        graph.name(uid) for uid in graph.sources if not graph.resource(uid)["description"].strip()
    ]


def undocumented_macros(graph: Graph) -> list[str]:
    """The project's macros without a description in macros/_macros.yml (the project's rule)."""
    return sorted(
        macro["name"]
        for macro in graph.manifest["macros"].values()
        if macro["package_name"] == graph.project and not macro["description"].strip()
    )


# ----------------------------------------------------------------------- structure


def model_naming_conventions(graph: Graph) -> list[str]:
    """Models whose name has none of the known prefixes (the time spine is exempt)."""
    return [
        graph.name(uid)
        for uid in graph.models
        if graph.name(uid) != "metricflow_time_spine"
        and graph.name(uid).split("_")[0] + "_" not in PREFIXES
    ]


def model_directories(graph: Graph) -> list[str]:
    """Staging models outside staging/<source>/; other models outside their type's folder."""
    found = []
    for uid in graph.models:
        node = graph.resource(uid)
        folders = Path(node["original_file_path"]).parent.parts
        model_type = graph.model_type(uid)
        if model_type == "staging":
            for parent in graph.parents[uid]:
                if graph.kind(parent) == "source":
                    source_name = graph.resource(parent)["source_name"]
                    if source_name not in folders:
                        found.append(f"{node['name']}: not under staging/{source_name}/")
                        break
        else:
            folder_type = graph.folder_type(uid)
            if folder_type is not None and folder_type != model_type:
                found.append(f"{node['name']}: a {model_type} model in a {folder_type} folder")
    return found


def source_directories(graph: Graph) -> list[str]:
    """Source tables not declared in models/staging/<source_name>/."""
    found = []
    for uid in graph.sources:
        source = graph.resource(uid)
        expected = Path("models", "staging", source["source_name"])
        if Path(source["original_file_path"]).parent != expected:
            found.append(f"{graph.name(uid)}: declared in {source['original_file_path']}")
    return found


def _data_tests(graph: Graph, generic: bool) -> list[dict]:
    # Generic tests carry test_metadata (the macro and its arguments); singular ones do not.
    return [
        node
        for node in graph.manifest["nodes"].values()
        if node["resource_type"] == "test" and bool(node.get("test_metadata")) == generic
    ]


def _folder(node: dict, root: str = ".") -> Path:
    return Path(node["original_file_path"]).parent.relative_to(root)


def generic_test_directories(graph: Graph) -> list[str]:
    """Generic tests declared in another folder than their model's file."""
    return [
        f"{test['name']}: in {test['original_file_path']}"
        for test in _data_tests(graph, generic=True)
        if _attached_node(test) in graph.manifest["nodes"]
        and _folder(test) != _folder(graph.resource(_attached_node(test)))
    ]


def singular_test_directories(graph: Graph) -> list[str]:
    """Singular tests not in data-tests/<folder of a model they test, under models/>."""
    return [
        f"{test['name']}: in {test['original_file_path']}"
        for test in _data_tests(graph, generic=False)
        if _folder(test, "data-tests")
        not in {
            _folder(graph.resource(parent), "models")
            for parent in test["depends_on"]["nodes"]
            if parent.startswith("model.")
        }
    ]


# ---------------------------------------------------------------------- governance


def public_models_without_contract(graph: Graph) -> list[str]:
    """Public models whose contract is not enforced."""
    return [
        graph.name(uid)
        for uid in graph.models
        if graph.resource(uid)["access"] == "public"
        and not graph.resource(uid)["contract"]["enforced"]
    ]


def undocumented_public_models(graph: Graph) -> list[str]:
    """Public models without a description or with an undescribed column."""
    found = []
    for uid in graph.models:
        node = graph.resource(uid)
        if node["access"] != "public":
            continue
        columns = node["columns"].values()
        undescribed = [c for c in columns if not c["description"].strip()]
        if not node["description"].strip() or not columns or undescribed:
            found.append(node["name"])
    return found


def _exposure_parents(graph: Graph, is_wrong: Callable[[str], bool]) -> list[str]:
    # "parent: read by exposure" for each exposure parent that breaks a rule.
    return [
        f"{graph.name(parent)}: read by {graph.name(exposure)}"
        for exposure in graph.exposures
        for parent in graph.parents[exposure]
        if is_wrong(parent)
    ]


def exposures_dependent_on_private_models(graph: Graph) -> list[str]:
    """Exposure parents that are not public models."""
    return _exposure_parents(
        graph,
        lambda uid: not (graph.kind(uid) == "model" and graph.resource(uid)["access"] == "public"),
    )


# --------------------------------------------------------------------- performance


def chained_views(graph: Graph) -> list[str]:
    """Models at the end of a chain of more than four views (or ephemeral models)."""
    depth: dict[str, int] = {}

    def view_chain(uid: str) -> int:
        # Longest run of consecutive views ending at uid (0 when uid is not a view).
        if uid not in depth:
            depth[uid] = (
                1 + max((view_chain(p) for p in graph.parents.get(uid, [])), default=0)
                if _is_view(graph, uid)
                else 0
            )
        return depth[uid]

    found = []
    for uid in graph.models:
        chain = max((view_chain(p) for p in graph.parents[uid]), default=0)
        if chain > CHAINED_VIEWS_THRESHOLD:
            found.append(f"{graph.name(uid)}: {chain} views upstream")
    return found


def exposure_parents_materializations(graph: Graph) -> list[str]:
    """Exposures fed by a source or by a view instead of a table."""
    return _exposure_parents(graph, lambda uid: graph.kind(uid) == "source" or _is_view(graph, uid))


RULES: dict[str, Callable[[Graph], list[str]]] = {
    rule.__name__: rule
    for rule in (
        direct_join_to_source,
        marts_or_intermediate_dependent_on_source,
        model_fanout,
        multiple_sources_joined,
        rejoining_of_upstream_concepts,
        root_models,
        source_fanout,
        staging_dependent_on_staging,
        staging_dependent_on_downstream_models,
        unused_sources,
        too_many_joins,
        duplicate_sources,
        missing_primary_key_tests,
        untested_models,
        sources_without_freshness,
        undocumented_models,
        undocumented_columns,
        undocumented_sources,
        undocumented_source_tables,
        undocumented_macros,
        model_naming_conventions,
        model_directories,
        source_directories,
        generic_test_directories,
        singular_test_directories,
        public_models_without_contract,
        undocumented_public_models,
        exposures_dependent_on_private_models,
        chained_views,
        exposure_parents_materializations,
    )
}


def _is_excepted(rule: str, finding: str) -> str | None:
    # An exception names the resource a finding is about (the text before ": "), or a
    # pattern of them such as "product.*"; returns the exception that allows it.
    resource = finding.split(": ")[0]
    for allowed in EXCEPTIONS.get(rule, {}):
        if fnmatch.fnmatchcase(resource, allowed):
            return allowed
    return None


def count_violations(manifest: dict) -> dict[str, list[str]]:
    """Run every rule over a manifest.

    Parameters
    ----------
    manifest : dict
        A parsed ``manifest.json``.

    Returns
    -------
    dict[str, list[str]]
        Rule name -> findings, before exceptions are taken out.
    """
    graph = Graph.from_manifest(manifest)
    return {name: rule(graph) for name, rule in RULES.items()}


def parse_manifest(target_path: Path) -> dict:
    """Run ``dbt parse`` into ``target_path`` (the project's one parse helper) and load it."""
    return json.loads(parse_dbt_project(target_path).read_text())


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every rule's findings on the project as parsed now."""
    return count_violations(parse_manifest(tmp_path_factory.mktemp("dbt_rules")))


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_has_no_violation_but_named_exceptions(
    rule: str, findings: dict[str, list[str]]
) -> None:
    """A rule finds nothing beyond its named exceptions, and every exception is used."""
    used = {_is_excepted(rule, finding) for finding in findings[rule]}
    assert [f for f in findings[rule] if _is_excepted(rule, f) is None] == []
    assert sorted(set(EXCEPTIONS.get(rule, {})) - used) == [], "stale exception: remove it"


def _documented_exceptions() -> dict[str, dict[str, str]]:
    # The "| `rule` | `resource` | reason |" rows of the section "dbt project rules".
    section = RULES_DOC.read_text().split("## dbt project rules", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, dict[str, str]] = defaultdict(dict)
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \| (.+) \|$", section, re.MULTILINE)
    for rule, resource, reason in rows:
        documented[rule][resource] = reason
    return dict(documented)


def test_exceptions_are_documented() -> None:
    """docs/dbt_rules.md lists exactly the exceptions of this test, with the same reasons."""
    assert _documented_exceptions() == EXCEPTIONS


def test_rules_are_documented() -> None:
    """Every rule checked here is named in docs/dbt_rules.md."""
    text = RULES_DOC.read_text()
    assert [rule for rule in RULES if f"`{rule}`" not in text] == []


def test_rules_find_what_they_should() -> None:
    """The rules flag a small hand-made graph that breaks them."""
    model = {
        "resource_type": "model",
        "package_name": "demo",
        "description": "",
        "columns": {},
        "access": "protected",
        "contract": {"enforced": False},
        "config": {"materialized": "view"},
    }
    manifest = {
        "metadata": {"project_name": "demo"},
        "macros": {
            "macro.demo.clean": {"name": "clean", "package_name": "demo", "description": ""}
        },
        "sources": {
            "source.demo.raw.a": {
                "resource_type": "source",
                "source_name": "raw",
                "name": "a",
                "original_file_path": "models/_sources.yml",
                "description": "",
                "source_description": "",
                "freshness": None,
                "loaded_at_field": None,
                "database": "db",
                "schema": "raw",
                "identifier": "a",
            }
        },
        "nodes": {
            "model.demo.stg_raw__a": {
                **model,
                "name": "stg_raw__a",
                "original_file_path": "models/staging/elsewhere/stg_raw__a.sql",
                "depends_on": {"nodes": ["source.demo.raw.a"]},
            },
            "model.demo.fct_a": {
                **model,
                "name": "fct_a",
                "original_file_path": "models/marts/fct_a.sql",
                "depends_on": {"nodes": ["source.demo.raw.a", "model.demo.stg_raw__a"]},
            },
        },
        "exposures": {
            "exposure.demo.board": {
                "resource_type": "exposure",
                "name": "board",
                "depends_on": {"nodes": ["model.demo.fct_a"]},
            }
        },
    }
    found = count_violations(manifest)
    assert found["direct_join_to_source"] == ["fct_a: reads stg_raw__a", "fct_a: reads raw.a"]
    assert found["marts_or_intermediate_dependent_on_source"] == ["fct_a: reads raw.a"]
    assert found["source_fanout"] == ["raw.a: fct_a, stg_raw__a"]
    assert [f.split(": ")[0] for f in found["rejoining_of_upstream_concepts"]] == [
        "fct_a via stg_raw__a"
    ]
    assert found["missing_primary_key_tests"] == ["fct_a", "stg_raw__a"]
    assert found["sources_without_freshness"] == ["raw.a"]
    assert found["undocumented_models"] == ["fct_a", "stg_raw__a"]
    assert found["model_directories"] == ["stg_raw__a: not under staging/raw/"]
    assert found["source_directories"] == ["raw.a: declared in models/_sources.yml"]
    assert found["undocumented_macros"] == ["clean"]
    assert found["exposures_dependent_on_private_models"] == ["fct_a: read by board"]
    assert found["exposure_parents_materializations"] == ["fct_a: read by board"]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _manifest = json.loads(Path(sys.argv[1]).read_text())
    else:
        _manifest = parse_manifest(Path(tempfile.mkdtemp(prefix="dbt_rules_")))
    _total = 0
    for _rule, _found in count_violations(_manifest).items():
        _total += len(_found)
        print(f"{len(_found):4d}  {_rule}")
        for _finding in _found:
            print(f"        {_finding}")
    print(f"{_total:4d}  total (before exceptions)")
