"""Explanations: which query name met which listed name, which tokens aligned, which features counted."""

from __future__ import annotations

from clearance.matching.features import Feature
from clearance.matching.index import MatchIndex
from clearance.matching.scorer import NameComparison
from clearance.matching.types import Explanation, FeatureScore


def explain(cmp: NameComparison, index: MatchIndex, features: list[tuple[Feature, float]]) -> Explanation:
    """The explanation of one match: aligned tokens in query order, then every feature with its value."""
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
