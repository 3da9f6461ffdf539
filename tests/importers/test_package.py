"""Tests of the importers package's shape: one public API, no import cycle inside it."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import orchestration.lib.importers as importers

PACKAGE = "orchestration.lib.importers"
PACKAGE_DIR = Path(importers.__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parents[2]


def _module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def _package_imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports at any level (absolute or relative)."""
    here = _module_name(path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = PACKAGE if node.level == 1 else PACKAGE.rsplit(".", node.level - 1)[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target == PACKAGE:
                # ``from package import name`` may name a submodule or an attribute
                for alias in node.names:
                    sub = PACKAGE_DIR / f"{alias.name}.py"
                    found.add(f"{PACKAGE}.{alias.name}" if sub.exists() else PACKAGE)
            elif target.startswith(f"{PACKAGE}."):
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PACKAGE))
    found.discard(here)
    return found


def test_the_package_import_graph_has_no_cycle():
    graph = {_module_name(path): _package_imports(path) for path in PACKAGE_DIR.glob("*.py")}
    assert graph[f"{PACKAGE}._common"] == set()
    # a submodule importing the package itself is how the old cycle looked
    assert all(PACKAGE not in deps for name, deps in graph.items() if name != PACKAGE)
    # raises graphlib.CycleError on any cycle
    order = list(graphlib.TopologicalSorter(graph).static_order())
    assert order.index(f"{PACKAGE}._common") < order.index(f"{PACKAGE}.collegemsg")


def test_common_loads_without_the_importers():
    """Run ``_common.py`` alone in a fresh interpreter: it must not pull in the package
    or an importer (the shared code used to sit in ``__init__`` and import them back)."""
    script = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("_common_alone", {str(PACKAGE_DIR / "_common.py")!r})
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module  # dataclasses look their module up there
spec.loader.exec_module(module)
assert module.SCHEMAS["events"].names[0] == "event_id", module.SCHEMAS["events"].names
loaded = sorted(name for name in sys.modules if name.startswith({PACKAGE!r}))
print(loaded)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_every_public_name_is_importable_from_the_package():
    from orchestration.lib.importers import _common, collegemsg, stackexchange

    assert set(importers.__all__) == set(_common.__all__) | {
        "import_collegemsg",
        "import_stackexchange",
    }
    for name in _common.__all__:
        assert getattr(importers, name) is getattr(_common, name)
    assert importers.import_collegemsg is collegemsg.import_collegemsg
    assert importers.import_stackexchange is stackexchange.import_stackexchange
