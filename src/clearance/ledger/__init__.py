"""The blocked-property ledger (append-only, hash-chained): see :mod:`clearance.ledger.ledger`."""

from clearance.ledger.ledger import (
    DEFAULT_ANNUAL_RATE,
    Holding,
    Ledger,
    LedgerEntry,
    LedgerError,
    MalformedMessage,
    accrued_interest,
    open_ledger,
)

__all__ = [
    "DEFAULT_ANNUAL_RATE",
    "Holding",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "MalformedMessage",
    "accrued_interest",
    "open_ledger",
]
