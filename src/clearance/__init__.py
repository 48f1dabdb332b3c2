"""Clearance: a sanctions compliance engine.

Lists go in through :mod:`clearance.lists`, are kept version by version in :mod:`clearance.store`,
and are screened by :mod:`clearance.matching`.
"""

__version__ = "0.1.0"
