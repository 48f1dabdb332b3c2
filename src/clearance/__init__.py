"""Clearance: a sanctions compliance engine.

Lists go in through :mod:`clearance.lists`, are kept version by version in :mod:`clearance.store`,
and are screened by :mod:`clearance.matching`.
"""

__version__ = "0.1.0"

from clearance.compiled import check as _check_compiled

# compiled matcher modules older than their source would run silently: refuse (see clearance.compiled)
_check_compiled()
