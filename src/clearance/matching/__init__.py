"""Screening: candidates from an on-disk index, feature scores, explanations."""
