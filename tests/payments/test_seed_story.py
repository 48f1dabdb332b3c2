"""The CEIEC seed story through payment screening, on the real SDN snapshots.

As tests/policy/test_seed_story.py: the 2019-01-15 snapshot as published that day and the 2021-07-07
snapshot as published 2020-11-30 (the day CEIEC was designated), the shipped Venezuela General License
38 (wind-down dealings with CEIEC until 12:01 a.m. Eastern on 14 January 2021). Here the customer
"China Electronics Import-Export Co." is the creditor of a USD 1,200,000 pacs.008, screened with the
list versions in force each day, and every consequence goes to a real blocked-property ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from clearance.ledger import Ledger, LedgerEntry
from clearance.payments.screen import ListedIdentifiers, PaymentDecision, PaymentScreener, record
from clearance.policy.decide import PolicyContext
from clearance.policy.ownership import OwnershipLink
from clearance.policy.storage import PolicyStore
from clearance.policy.types import MessageOutcome, Outcome
from clearance.reports.ofac import Filer, all_reports
from clearance.settings import Settings
from clearance.store.sqlite import SQLiteStore
from tests.conftest import shared_path

from .factories import pacs008

pytestmark = pytest.mark.shared

GL38 = "OFAC-VENEZUELA-GL38"
CEIEC = "ofac-sdn:30502"
SUBSIDIARY = "Shenzhen Bright Future Trading Ltd"  # 60% owned by CEIEC (a payment party is keyed by name)


def payment(day: str, msg_id: str, creditor: str = "China Electronics Import-Export Co.") -> bytes:
    return pacs008(
        msg_id=msg_id,
        creditor=creditor,
        creditor_country="CN",
        creditor_bic="BKCHCNBJ110",
        amount="1200000.00",
        settlement=day,
        remittance="Contract CE-2019-0412 final instalment",
    )


@dataclass
class Bank:
    store: SQLiteStore
    settings: Settings
    ledger: Ledger
    screeners: dict[date, PaymentScreener] = field(default_factory=dict)

    def screen(self, data: bytes, when: datetime, transaction: str | None = None) -> PaymentDecision:
        """As a bank updating daily: the lists in force that day, the policy tables, the ledger."""
        from clearance.matching.screener import Screener

        day = when.date()
        if day not in self.screeners:
            self.screeners[day] = PaymentScreener(
                Screener.from_store(self.store, self.settings, ["ofac-sdn"], day),
                PolicyContext.open(self.store, self.settings.database_path),
                ListedIdentifiers.from_store(self.store, ["ofac-sdn"]),
            )
        return self.screeners[day].screen_bytes(data, as_of=when, transaction=transaction)

    def record(self, result: PaymentDecision) -> list[LedgerEntry]:
        return record(result, self.ledger)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    pytest.importorskip("clearance.matching.screener", reason="the matcher has not landed")
    from clearance.lists.importer import import_list

    old = shared_path("data", "lists", "ofac-sdn", "2019-01-15")
    new = shared_path("data", "lists", "ofac-sdn", "2021-07-07")
    home = tmp_path_factory.mktemp("home")
    settings = Settings.load(home)
    store = SQLiteStore(settings.database_path)
    import_list(store, "ofac-sdn", [old], published=date(2019, 1, 15))
    import_list(store, "ofac-sdn", [new], published=date(2020, 11, 30))
    policy = PolicyStore(settings.database_path)
    policy.add_links([OwnershipLink(CEIEC, "name:" + SUBSIDIARY.casefold(), 60.0, source="test: registry")])
    policy.close()
    with Ledger(Path(home) / "ledger.sqlite3") as ledger:
        yield Bank(store, settings, ledger)
    store.close()


def rbp_due(bank: Bank, entry: LedgerEntry) -> date:
    reports = all_reports(bank.ledger, Filer(), today=date(2021, 2, 1))
    return next(r.due for r in reports if r.kind == "blocked" and r.entries == [entry.seq])


def test_2020_11_20_the_payment_passes_on_the_2019_list(bank: Bank) -> None:
    result = bank.screen(payment("2020-11-20", "SEED-1120"), datetime(2020, 11, 20, 10))
    assert result.outcome is MessageOutcome.PASS
    assert bank.record(result) == []
    versions = {v.split("#")[0] for d in result.decision.parties for v in d.list_versions}  # type: ignore[union-attr]
    assert versions == {"ofac-sdn@2019-01-15"}


def test_2020_12_15_wind_down_is_authorized_under_gl38_with_its_conditions_applied(bank: Bank) -> None:
    result = bank.screen(payment("2020-12-15", "SEED-1215-WD"), datetime(2020, 12, 15, 10), "wind-down")
    assert result.outcome is MessageOutcome.AUTHORIZED
    reason = result.reasons[0]
    assert (reason.outcome, reason.entity_id, reason.license_id) == (Outcome.AUTHORIZED, CEIEC, GL38)
    assert reason.programs == ["VENEZUELA"] and reason.party is not None and reason.party.endswith("/Cdtr")
    assert reason.list_version is not None and reason.list_version.startswith("ofac-sdn@2020-11-30")
    [auth] = result.to_dict()["authorizations"]
    assert auth["license_id"] == GL38 and auth["valid_until"] == "2021-01-14T00:01:00-05:00"
    codes = {c["code"]: c["consequence"] for c in auth["conditions"]}
    assert codes["no-debit-of-blocked-account"] == "blocked_account" and "report-and-keep-records" in codes
    # the conditions applied: the funds are credited to a blocked account, and reported
    [entry] = bank.record(result)
    assert (entry.kind, entry.amount, entry.owner_entity_id) == ("block", Decimal("1200000.00"), CEIEC)
    assert entry.details["authorized_by"] == [GL38] and entry.details["transaction_type"] == "wind-down"
    assert rbp_due(bank, entry) == date(2020, 12, 30)


def test_2020_12_15_not_wind_down_is_blocked_with_a_ledger_entry_and_a_report_due(bank: Bank) -> None:
    result = bank.screen(payment("2020-12-15", "SEED-1215"), datetime(2020, 12, 15, 10))
    assert result.outcome is MessageOutcome.BLOCK and result.authorizations == []
    reason = result.reasons[0]
    assert (reason.outcome, reason.entity_id, reason.programs) == (Outcome.BLOCK, CEIEC, ["VENEZUELA"])
    [entry] = bank.record(result)
    assert (entry.kind, entry.amount, entry.event_date) == (
        "block",
        Decimal("1200000.00"),
        date(2020, 12, 15),
    )
    assert entry.message_id == "SEED-1215" and "authorized_by" not in entry.details
    assert rbp_due(bank, entry) == date(2020, 12, 30)  # 10 business days, Christmas excluded


def test_2021_01_20_wind_down_is_blocked_gl38_having_expired(bank: Bank) -> None:
    result = bank.screen(payment("2021-01-20", "SEED-0120-WD"), datetime(2021, 1, 20, 10), "wind-down")
    assert result.outcome is MessageOutcome.BLOCK and result.authorizations == []
    assert result.reasons[0].entity_id == CEIEC
    creditor = next(d for d in result.decision.parties if d.outcome is Outcome.BLOCK)  # type: ignore[union-attr]
    assert any(r.license_id == GL38 and "is not valid at" in r.message for r in creditor.reasons)
    [entry] = bank.record(result)
    assert entry.event_date == date(2021, 1, 20)


def test_2020_12_15_wind_down_with_a_company_60_percent_owned_by_ceiec_is_authorized(bank: Bank) -> None:
    """GL 38 also covers entities CEIEC owns 50% or more of; a payment not wind-down is blocked."""
    data = payment("2020-12-15", "SEED-1215-SUB", creditor=SUBSIDIARY)
    wind_down = bank.screen(data, datetime(2020, 12, 15, 10), "wind-down")
    assert wind_down.outcome is MessageOutcome.AUTHORIZED
    assert wind_down.reasons[0].code.value == "ownership" and wind_down.reasons[0].license_id == GL38
    blocked = bank.screen(data, datetime(2020, 12, 15, 10))
    assert blocked.outcome is MessageOutcome.BLOCK
    assert [s.owner for s in blocked.reasons[0].ownership_paths[0]] == [CEIEC]
