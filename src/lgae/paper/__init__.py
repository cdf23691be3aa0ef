"""The paper's outputs: evaluation (:mod:`lgae.paper.evaluation`), plots (:mod:`lgae.paper.plots`), the
figures built from them (:mod:`~lgae.paper.figures`), the tables (:mod:`~lgae.paper.tables`), the claims
checked (:mod:`~lgae.paper.claims`), the runs' metrics read back (:mod:`~lgae.paper.results`) and the
paper's own numbers (:mod:`~lgae.paper.published`).

Its public names are exported lazily (:func:`lgae.lazy_exports`): matplotlib, pandas and scikit-learn
load with the module that needs them, not with ``import lgae.paper``.
"""

from __future__ import annotations

from lgae import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".claims": [
            "HOLDS",
            "NOT_HOLDS",
            "NOT_MEASURABLE",
            "PAPER_PROTOCOL",
            "PRE_REGISTERED",
            "Claim",
            "check_claims",
            "claims_markdown",
        ],
        ".figures": ["BUILDERS", "builder"],
        ".published": ["BELOW_RESOLUTION", "numbers", "paper_row", "paper_value"],
        ".results": [
            "METRIC_SCHEMAS",
            "RunMetrics",
            "SeedSummary",
            "anomaly_score_name",
            "check_metrics",
            "over_seeds",
            "paper_protocol_best",
            "runs_of",
        ],
        ".tables": ["Table", "build_table"],
    },
)
