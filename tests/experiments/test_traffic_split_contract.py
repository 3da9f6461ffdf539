"""The optional traffic_split column: in the contract, in its document, read by the stats."""

from __future__ import annotations

import re
from pathlib import Path

from orchestration.lib.experiments.stats import parse_traffic_split
from orchestration.lib.raw.contract import TABLES

ROOT = Path(__file__).resolve().parents[2]


def test_optional_columns_are_documented_and_read_by_staging():
    doc = (ROOT / "docs" / "raw_contract.md").read_text()
    for table in TABLES:
        for name, _ in table.optional_columns:
            assert re.search(rf"^\| {name} \| text \| optional", doc, re.MULTILINE), name
            base = ROOT / "models" / "staging" / "product" / "base"
            assert name in (base / f"base_product__{table.name}.sql").read_text()
    experiments = next(t for t in TABLES if t.name == "experiments")
    assert experiments.optional_columns == (("traffic_split", "varchar"),)


def test_splits_staging_accepts_parse_to_shares():
    # Staging accepts '[0-9]+(.[0-9]+)?(/...)+' after removing spaces.
    assert parse_traffic_split("10/45/45", 3) == [0.1, 0.45, 0.45]
    assert parse_traffic_split("1.5/1.5", 2) == [0.5, 0.5]
