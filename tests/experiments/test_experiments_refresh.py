"""The readout step on a DuckDB connection: inputs read, three tables rewritten whole."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.experiments import store
from orchestration.lib.experiments.refresh import ExperimentSettings, refresh_experiments


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        """
        create table main.stg_product__experiments as
        select * from (values ('e1', 'user', 'posts_per_user', null::varchar),
                              ('e2', 'group', 'posts_per_member_day', null))
            t(experiment_id, unit_type, primary_metric, traffic_split);
        create table main.int_experiment_metric_sums_aggregated as
        select 'e1' as experiment_id, 'posts_per_user' as metric_name, v as variant,
               100 as units, m as m_sum, m * 3.0 as m_sum_squares, 100.0 as d_sum,
               100.0 as d_sum_squares, m as m_d_sum_products, 150.0 as pre_sum,
               400.0 as pre_sum_squares, m * 1.8 as post_pre_sum_products
        from (values ('control', 200.0), ('treatment', 260.0)) t(v, m);
        """
    )
    yield con
    con.close()


def test_refresh_writes_every_table_and_rewrites_them(con):
    stats = refresh_experiments(con)
    assert stats["count_experiments"] == 2
    assert stats["count_results"] == 3  # control + none + cuped
    assert stats["count_without_units"] == 1
    for _ in range(2):  # a second refresh replaces, never appends
        refresh_experiments(con)
        counts = {
            name: con.execute(f"select count(*) from {store.SCHEMA}.{name}").fetchone()[0]
            for name in store.TABLES
        }
        assert counts == {"experiment_results": 3, "experiment_health": 1,
                          "experiment_problems": 1}  # fmt: skip
    problem = con.execute(f"select experiment_id, problem from {store.SCHEMA}.experiment_problems")
    assert problem.fetchall() == [("e2", "no_units")]


def test_wrong_settings_are_clear_errors():
    with pytest.raises(ValueError, match="'holm' or 'bh'"):
        ExperimentSettings(adjustment_method="bonferroni")
    with pytest.raises(ValueError, match="between 0 and 1"):
        ExperimentSettings(alpha=1.5)
