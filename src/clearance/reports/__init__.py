"""OFAC reports from the blocked-property ledger: see :mod:`clearance.reports.ofac`."""
