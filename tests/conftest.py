"""Shared test helpers: where the real data lives, and small entity factories."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying why when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present: the real list files in ../shared are unavailable")
    return path


# Hypothesis: no per-example deadline. Timing is measured by benchmarks, not asserted in tests, and a
# loaded CI machine must not turn a slow example into a failure.
settings.register_profile("clearance", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("clearance")
