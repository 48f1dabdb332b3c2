"""The CEIEC story end to end on the real SDN snapshots: screen with the real Screener, then decide.

2019-01-15 snapshot (published 2019-01-15) and 2021-07-07 snapshot imported as published 2020-11-30,
the day CEIEC was designated; the shipped Venezuela General License 38 authorizes wind-down dealings
until 12:01 a.m. Eastern on 14 January 2021.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from clearance.matching.types import Query
from clearance.policy.decide import PolicyContext, decide_party
from clearance.policy.ownership import OwnershipLink
from clearance.policy.storage import PolicyStore
from clearance.policy.types import Outcome, PartyDecision, ReasonCode, Subject, Transaction
from clearance.settings import Settings
from clearance.store.sqlite import SQLiteStore
from tests.conftest import shared_path

pytestmark = pytest.mark.shared
ET = ZoneInfo("America/New_York")
CUSTOMER = Subject("China Electronics Import-Export Co.", id="cust-ceiec-like")


@dataclass
class World:
    store: SQLiteStore
    settings: Settings

    def decide(self, subject: Subject, when: datetime, tx: Transaction | None = None) -> PartyDecision:
        from clearance.matching.screener import Screener

        screener = Screener.from_store(self.store, self.settings, ["ofac-sdn"], when.date())
        matches = screener.screen(Query(name=subject.name, schema="Organization"))
        context = PolicyContext.open(self.store, self.settings.database_path)
        return decide_party(subject, matches, as_of=when, context=context, transaction=tx)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    pytest.importorskip("clearance.matching.screener", reason="the matcher has not landed")
    from clearance.lists.importer import import_list

    old = shared_path("data", "lists", "ofac-sdn", "2019-01-15")
    new = shared_path("data", "lists", "ofac-sdn", "2021-07-07")
    settings = Settings.load(tmp_path_factory.mktemp("home"))
    store = SQLiteStore(settings.database_path)
    import_list(store, "ofac-sdn", [old], published=date(2019, 1, 15))
    import_list(store, "ofac-sdn", [new], published=date(2020, 11, 30))
    PolicyStore(settings.database_path).add_links(
        [OwnershipLink("ofac-sdn:30502", "cust-ceiec-sub", 60.0, source="test: corporate registry extract")]
    )
    return World(store, settings)


def test_before_the_designation_the_customer_is_clear(world: World) -> None:
    decision = world.decide(CUSTOMER, datetime(2020, 11, 20, 10, tzinfo=ET))
    assert decision.outcome is Outcome.CLEAR
    assert "ofac-sdn:30502" not in decision.entity_ids
    assert [v.split("#")[0] for v in decision.list_versions] == ["ofac-sdn@2019-01-15"]


def test_wind_down_during_gl38_is_authorized_with_conditions(world: World) -> None:
    decision = world.decide(CUSTOMER, datetime(2020, 12, 15, 10, tzinfo=ET), Transaction("wind-down"))
    assert decision.outcome is Outcome.AUTHORIZED
    reason = decision.reasons[0]
    assert (reason.entity_id, reason.license_id, reason.programs) == (
        "ofac-sdn:30502",
        "OFAC-VENEZUELA-GL38",
        ["VENEZUELA"],
    )
    assert reason.list_version and reason.list_version.startswith("ofac-sdn@2020-11-30")
    assert {c.code for c in decision.conditions} >= {"no-debit-of-blocked-account"}


def test_other_dealings_the_same_day_are_blocked(world: World) -> None:
    decision = world.decide(CUSTOMER, datetime(2020, 12, 15, 10, tzinfo=ET), Transaction("payment"))
    assert decision.outcome is Outcome.BLOCK
    assert decision.reasons[0].entity_id == "ofac-sdn:30502"


def test_after_gl38_expired_everything_is_blocked(world: World) -> None:
    for tx in (Transaction("wind-down"), Transaction("any")):
        decision = world.decide(CUSTOMER, datetime(2021, 1, 20, 10, tzinfo=ET), tx)
        assert decision.outcome is Outcome.BLOCK
    assert any(r.code is ReasonCode.LICENSE_NOT_APPLICABLE for r in decision.reasons)


def test_company_60_percent_owned_by_ceiec_is_blocked_via_the_path(world: World) -> None:
    subsidiary = Subject("Shenzhen Bright Future Trading Ltd", id="cust-ceiec-sub")
    decision = world.decide(subsidiary, datetime(2021, 1, 20, 10, tzinfo=ET))
    assert decision.outcome is Outcome.BLOCK
    reason = decision.reasons[0]
    assert reason.code is ReasonCode.OWNERSHIP and reason.ownership_share == 60.0
    assert [(s.owner, s.asset) for s in reason.ownership_paths[0]] == [("ofac-sdn:30502", "cust-ceiec-sub")]
    assert reason.list_version and reason.list_version.startswith("ofac-sdn@2020-11-30")
