"""The raw tables are listed once: the raw contract; every other list must agree with it.

``orchestration/lib/raw/contract.py`` is the one list of raw tables. The demo generator
derives its list from it; dbt cannot import Python, so dbt's copy is the var
``raw_tables`` (the rejects model and the raw-rows accounting test loop over it), and
the ``product`` source, the accepted values of ``stg_product__rejected_rows.source_table``
and the table sections of ``docs/raw_contract.md`` name them too. These tests fail when
one of them drifts from the contract.
"""

import re
from pathlib import Path

import yaml

from orchestration.lib.demo.generator import RAW_TABLES
from orchestration.lib.raw.contract import TABLES

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_TABLES = [table.name for table in TABLES]


def _yaml(relative_path: str) -> dict:
    return yaml.safe_load((ROOT / relative_path).read_text())


def test_dbt_var_lists_the_contract_tables_in_order() -> None:
    """var('raw_tables') is the contract's list (the rejects union follows its order)."""
    assert _yaml("dbt_project.yml")["vars"]["raw_tables"] == CONTRACT_TABLES


def test_generator_writes_the_contract_tables() -> None:
    """The demo generator writes every contract table and no other."""
    assert list(RAW_TABLES) == CONTRACT_TABLES


def test_product_source_declares_the_contract_tables() -> None:
    """The dbt source `product` has one table per contract table, plus the raw step's
    table of malformed CSV lines."""
    sources = _yaml("models/staging/product/_product__sources.yml")["sources"]
    product = next(source for source in sources if source["name"] == "product")
    assert sorted(table["name"] for table in product["tables"]) == sorted(
        [*CONTRACT_TABLES, "malformed_lines"]
    )


def test_rejects_accept_the_contract_tables() -> None:
    """stg_product__rejected_rows.source_table accepts exactly the contract tables."""
    models = _yaml("models/staging/product/_product__models.yml")["models"]
    rejects = next(model for model in models if model["name"] == "stg_product__rejected_rows")
    column = next(c for c in rejects["columns"] if c["name"] == "source_table")
    accepted = next(t["accepted_values"] for t in column["data_tests"] if "accepted_values" in t)
    assert sorted(accepted["arguments"]["values"]) == sorted(CONTRACT_TABLES)


def test_contract_document_describes_the_contract_tables() -> None:
    """docs/raw_contract.md has one section per contract table, in contract order."""
    text = (ROOT / "docs" / "raw_contract.md").read_text()
    assert re.findall(r"^### (\w+)", text, re.MULTILINE) == CONTRACT_TABLES
