"""Evaluation code, kept apart from the product library: the pipeline never imports it.

What measures the product rather than makes it: agreement between a detected and a
true partition (`partitions`: NMI, ARI, purity, coverage), planted communities matched
to detected ones (`matching`), the text marts scored against the demo's planted truth
(`text`), reference implementations kept only to check the product (`topics_reference`
restates the SQL topics and trending terms in pandas, `inflection_reference` searches
every knot placement of the growth inflections), and `edges` reading a whole edge
table for the detection benchmark. The benchmarks (``bench/``) and the tests use these
modules; they may read the demo generator's truth, which the analytics libraries
(``text``, ``communities``, ``kpi``, ...) must not (``tests/test_layering.py``).
Import the submodules themselves: this package imports none of them.
"""

__all__ = [
    "edges",
    "inflection_reference",
    "matching",
    "partitions",
    "text",
    "topics_reference",
]
