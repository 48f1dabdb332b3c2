"""Screening: candidates from an on-disk index, feature scores, explanations.

``Screener`` (clearance.matching.screener) is the entry point; ``MATCHER_VERSION`` names the scoring
logic in audit records and index files.
"""

from clearance.matching.index import MATCHER_VERSION

__all__ = ["MATCHER_VERSION"]
