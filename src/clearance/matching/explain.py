"""Explanations: which query name met which listed name, which tokens aligned, which features counted.

The one place explanations are built: :meth:`~clearance.matching.screener.Screener.screen` (for the
matches it returns) and :meth:`~clearance.matching.screener.Screener.explain` (for matches screened
earlier without explanations) both call :func:`explain`; :func:`bare` is what a match carries when it
was screened with ``explain=False``.
"""

from __future__ import annotations

from collections.abc import Sequence

from clearance.matching.features import EVIDENCE_FEATURES, NAME_FEATURES, Feature, QueryEvidence
from clearance.matching.index import EntityRecord, MatchIndex
from clearance.matching.scorer import NameComparison
from clearance.matching.types import Explanation, FeatureScore


def explain(
    cmp: NameComparison,
    index: MatchIndex,
    name_values: Sequence[float],
    evidence: QueryEvidence,
    record: EntityRecord,
) -> Explanation:
    """The explanation of one match: aligned tokens in query order, then every name feature with its
    value (``name_values``, in :data:`NAME_FEATURES` order) and the evidence features that counted."""
    features: list[tuple[Feature, float]] = list(zip(NAME_FEATURES, name_values))
    if evidence.any:
        for f in EVIDENCE_FEATURES:
            value = f.fn(evidence, record)
            if value:
                features.append((f, value))
    forms = index.name_forms[cmp.name_id]
    aligned = [
        (
            " ".join(cmp.query.forms[i] for i in a.query),
            " ".join(forms[j] for j in a.listed),
            a.sim,
        )
        for a in sorted(cmp.aligned, key=lambda a: a.query[0])
    ]
    return Explanation(
        query_name=cmp.query.text,
        matched_name=index.name_text[cmp.name_id],
        aligned=aligned,
        features=[FeatureScore(f.name, value, f.weight, f.description) for f, value in features],
    )


def bare(query_name: str, name_id: int, index: MatchIndex) -> Explanation:
    """Which names met (the query's, listed name ``name_id``), without the token alignment and
    features: what a match screened without explanations carries."""
    return Explanation(query_name, index.name_text[name_id], [], [])
