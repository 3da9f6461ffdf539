"""The library's layers, checked on the source: the product never imports the demo
generator or the evaluation code, and nothing under ``orchestration/lib`` imports
Dagster.

Every module is parsed with ``ast`` (nothing is imported, so a violation cannot hide
behind an import error), relative imports are resolved against the module's package,
and ``import_module("...")`` calls with a literal name count as imports too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
LIB = PROJECT_DIR / "orchestration" / "lib"

#: Packages of ``orchestration/lib`` that are not the product: the demo generator and
#: the evaluation code may import anything of the library (evaluation reads the demo's
#: truth); every other package, present or future, is product.
NOT_PRODUCT = {"demo", "evaluation"}

#: The product packages named in the layering rule: the test fails if one disappears,
#: so that a rename cannot leave it checking nothing.
EXPECTED_PRODUCT = {"communities", "importers", "kpi", "raw", "text", "warehouse"}

#: The one product module allowed to import the demo generator: the raw step's demo mode.
DEMO_ALLOWED = {"orchestration.lib.raw.demo_cache"}

FORBIDDEN = ("orchestration.lib.demo", "orchestration.lib.evaluation")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module a source file imports (absolute names), as written in its code.

    Parameters
    ----------
    source : str
        The file's text.
    module : str
        Its dotted name, to resolve relative imports.
    is_package : bool, default False
        Whether it is a package's ``__init__`` (relative imports start from itself).

    Returns
    -------
    set of str
        ``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` and ``a.b`` (``b``
        may be a submodule); ``import_module("a.b")`` gives ``a.b``.
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def _imports(path: Path) -> set[str]:
    return imported_modules(
        path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py"
    )


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _product_modules() -> list[Path]:
    files = sorted(LIB.glob("*.py"))
    for package in sorted(p for p in LIB.iterdir() if p.is_dir() and p.name not in NOT_PRODUCT):
        files.extend(sorted(package.rglob("*.py")))
    return files


def test_the_rule_covers_the_product_packages():
    packages = {p.name for p in LIB.iterdir() if (p / "__init__.py").exists()}
    assert packages - NOT_PRODUCT >= EXPECTED_PRODUCT
    assert all((LIB / name).is_dir() for name in NOT_PRODUCT)


@pytest.mark.parametrize("path", _product_modules(), ids=lambda p: str(p.relative_to(LIB)))
def test_product_does_not_import_demo_or_evaluation(path):
    module = _module_name(path)
    bad = {
        name
        for name in _imports(path)
        for prefix in FORBIDDEN
        if _within(name, prefix)
        and not (module in DEMO_ALLOWED and prefix == "orchestration.lib.demo")
    }
    assert not bad, f"{module} imports {sorted(bad)}: the product must not"


def test_no_library_module_imports_dagster():
    bad = {
        _module_name(path): sorted(n for n in _imports(path) if _within(n, "dagster"))
        for path in sorted(LIB.rglob("*.py"))
    }
    assert not {k: v for k, v in bad.items() if v}, "orchestration/lib must stay Dagster-free"


def test_the_demo_mode_is_the_one_exception_and_still_needs_it():
    # If the raw step stops importing the demo, the exception should go too.
    (allowed,) = DEMO_ALLOWED
    path = PROJECT_DIR / Path(*allowed.split(".")).with_suffix(".py")
    assert any(_within(n, "orchestration.lib.demo") for n in _imports(path))


def test_imported_modules_sees_every_form_of_import():
    source = """
import dagster
import orchestration.lib.demo.text as demo_text
from ..demo import generator
from . import store
from orchestration.lib import evaluation


def later():
    from importlib import import_module

    return import_module("orchestration.lib.evaluation.partitions")
"""
    found = imported_modules(source, "orchestration.lib.text.refresh")
    assert {
        "dagster",
        "orchestration.lib.demo.text",
        "orchestration.lib.demo.generator",
        "orchestration.lib.text.store",
        "orchestration.lib.evaluation",
        "orchestration.lib.evaluation.partitions",
    } <= found
    in_package = imported_modules("from .detection import x", "orchestration.lib.communities", True)
    assert "orchestration.lib.communities.detection" in in_package
