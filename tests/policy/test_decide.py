"""decide_party / combine on explicit matches against a small versioned store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clearance.policy.decide import PolicyContext, combine, decide_party
from clearance.policy.goodguy import new_good_guy
from clearance.policy.ownership import OwnershipLink
from clearance.policy.types import MessageOutcome, Outcome, ReasonCode, Subject, Transaction
from clearance.store.sqlite import SQLiteStore
from tests.policy.helpers import add_version, license_, listed, match, new_store

ET = ZoneInfo("America/New_York")
CEIEC = listed(
    "ofac-sdn:30502", "CEIEC", "VENEZUELA", alias="CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION"
)
OTHER = listed("ofac-sdn:100", "ACME TERROR FRONT", "SDGT")


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteStore:
    store = new_store(tmp_path)
    add_version(store, "ofac-sdn", date(2019, 1, 15), [OTHER])
    add_version(store, "ofac-sdn", date(2020, 11, 30), [OTHER, CEIEC])
    return store


def customer(name: str = "China Electronics Import-Export Co.", **kw: object) -> Subject:
    return Subject(name=name, id=kw.pop("id", "cust-1"), **kw)  # type: ignore[arg-type]


def test_match_against_entity_not_yet_listed_is_clear(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    decision = decide_party(
        customer(), [match(CEIEC)], as_of=datetime(2020, 11, 20, 12, tzinfo=ET), context=ctx
    )
    assert decision.outcome is Outcome.CLEAR
    assert decision.reasons[0].code is ReasonCode.NOT_LISTED_AS_OF
    assert "ofac-sdn@2019-01-15" in (decision.reasons[0].list_version or "")


def test_wind_down_under_general_license_is_authorized_with_conditions(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    decision = decide_party(
        customer(),
        [match(CEIEC)],
        as_of=datetime(2020, 12, 15, 10, tzinfo=ET),
        context=ctx,
        transaction=Transaction("wind-down"),
    )
    assert decision.outcome is Outcome.AUTHORIZED
    reason = decision.reasons[0]
    assert reason.license_id == "OFAC-VENEZUELA-GL38"
    assert reason.entity_id == "ofac-sdn:30502" and reason.programs == ["VENEZUELA"]
    assert reason.details["prohibited"] == "BLOCK"
    assert reason.list_version and reason.list_version.startswith("ofac-sdn@2020-11-30")
    assert "no-debit-of-blocked-account" in {c.code for c in decision.conditions}


def test_other_dealings_the_same_day_are_blocked(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    decision = decide_party(
        customer(), [match(CEIEC)], as_of=datetime(2020, 12, 15, 10, tzinfo=ET), context=ctx
    )
    assert decision.outcome is Outcome.BLOCK
    notes = [r for r in decision.reasons if r.code is ReasonCode.LICENSE_NOT_APPLICABLE]
    assert notes and "wind-down" in notes[0].message
    assert decision.conditions == []


def test_wind_down_after_the_license_expired_is_blocked(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    decision = decide_party(
        customer(),
        [match(CEIEC)],
        as_of=datetime(2021, 1, 20, tzinfo=ET),
        context=ctx,
        transaction=Transaction("wind-down"),
    )
    assert decision.outcome is Outcome.BLOCK
    assert any(
        r.code is ReasonCode.LICENSE_NOT_APPLICABLE and "not valid" in r.message for r in decision.reasons
    )


def test_unmatched_subsidiary_owned_60_percent_is_blocked_with_its_path(store: SQLiteStore) -> None:
    link = OwnershipLink("ofac-sdn:30502", "cust-sub", 60.0, source="registry")
    ctx = PolicyContext.build(store, links=[link])
    decision = decide_party(
        Subject("CEIEC Shenzhen Trading Ltd", id="cust-sub"),
        [],
        as_of=datetime(2021, 1, 20, tzinfo=ET),
        context=ctx,
    )
    assert decision.outcome is Outcome.BLOCK
    reason = decision.reasons[0]
    assert reason.code is ReasonCode.OWNERSHIP
    assert reason.ownership_share == 60.0
    assert [(s.owner, s.asset, s.percentage) for s in reason.ownership_paths[0]] == [
        ("ofac-sdn:30502", "cust-sub", 60.0)
    ]
    assert reason.programs == ["VENEZUELA"]


def test_subsidiary_wind_down_is_covered_because_the_license_includes_owned_entities(
    store: SQLiteStore,
) -> None:
    link = OwnershipLink("ofac-sdn:30502", "cust-sub", 60.0)
    ctx = PolicyContext.build(store, links=[link])
    decision = decide_party(
        Subject("Sub", id="cust-sub"),
        [],
        as_of=datetime(2020, 12, 1, tzinfo=ET),
        context=ctx,
        transaction=Transaction("wind-down"),
    )
    assert decision.outcome is Outcome.AUTHORIZED


def test_ownership_before_the_designation_does_not_block(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store, links=[OwnershipLink("ofac-sdn:30502", "cust-sub", 60.0)])
    decision = decide_party(
        Subject("Sub", id="cust-sub"), [], as_of=datetime(2020, 11, 1, tzinfo=ET), context=ctx
    )
    assert decision.outcome is Outcome.CLEAR


def test_linked_to_remark_is_not_ownership(store: SQLiteStore) -> None:
    linked = listed("ofac-sdn:200", "FRIEND OF CEIEC", "BIS-DPL", notes="Linked To: CEIEC.")
    ctx = PolicyContext.build(store)
    decision = decide_party(
        Subject("Friend", id="friend"), [], as_of=datetime(2021, 2, 1, tzinfo=ET), context=ctx
    )
    assert decision.outcome is Outcome.CLEAR and linked.id not in decision.entity_ids


def test_match_below_the_screener_verdict_is_ignored(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    decision = decide_party(
        customer(),
        [match(CEIEC, score=0.4, verdict=False)],
        as_of=datetime(2021, 2, 1, tzinfo=ET),
        context=ctx,
    )
    assert decision.outcome is Outcome.CLEAR and decision.reasons == []


def test_weak_match_goes_to_review_when_policy_sets_a_block_score(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store, min_block_score=0.9)
    decision = decide_party(
        customer(), [match(CEIEC, score=0.8)], as_of=datetime(2021, 2, 1, tzinfo=ET), context=ctx
    )
    assert decision.outcome is Outcome.REVIEW
    assert decision.reasons[0].code is ReasonCode.WEAK_MATCH


def test_license_for_one_program_does_not_lift_another(tmp_path: Path) -> None:
    both = listed("ofac-sdn:300", "DUAL CO", ["VENEZUELA", "SDGT"])
    store = new_store(tmp_path)
    add_version(store, "ofac-sdn", date(2020, 1, 1), [both])
    lic = license_(id="GL-V", programs=["VENEZUELA"], transaction_types=["wind-down"])
    ctx = PolicyContext.build(store, licenses=[lic], bundled=False)
    decision = decide_party(
        Subject("Dual"),
        [match(both)],
        as_of=datetime(2020, 6, 1, tzinfo=ET),
        context=ctx,
        transaction=Transaction("wind-down"),
    )
    assert decision.outcome is Outcome.BLOCK
    outcomes = {r.programs[0]: r.outcome for r in decision.reasons if r.code is ReasonCode.LISTED}
    assert outcomes == {"VENEZUELA": Outcome.AUTHORIZED, "SDGT": Outcome.BLOCK}


def test_specific_license_applies_only_to_its_party(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    add_version(store, "ofac-sdn", date(2020, 1, 1), [OTHER])
    lic = license_(id="SL-1", kind="specific", entities=[OTHER.id], parties=["cust-9"])
    ctx = PolicyContext.build(store, licenses=[lic], bundled=False)
    at = datetime(2020, 6, 1, tzinfo=ET)
    assert (
        decide_party(Subject("X", id="cust-9"), [match(OTHER)], as_of=at, context=ctx).outcome
        is Outcome.AUTHORIZED
    )
    assert (
        decide_party(Subject("X", id="cust-8"), [match(OTHER)], as_of=at, context=ctx).outcome
        is Outcome.BLOCK
    )


def test_government_of_venezuela_is_blocked_from_eo_13884(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    pdvsa = Subject("Some State Company", government_of="VE")
    before = decide_party(pdvsa, [], as_of=datetime(2019, 8, 1, tzinfo=ET), context=ctx)
    after = decide_party(pdvsa, [], as_of=datetime(2019, 8, 6, tzinfo=ET), context=ctx)
    assert before.outcome is Outcome.CLEAR
    assert after.outcome is Outcome.BLOCK
    assert after.reasons[0].code is ReasonCode.COUNTRY and after.reasons[0].programs == ["VENEZUELA-EO13884"]


def test_party_in_an_embargoed_region_is_rejected(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    decision = decide_party(
        Subject("Shop", countries=["UA-43"]), [], as_of=datetime(2020, 1, 1, tzinfo=ET), context=ctx
    )
    assert decision.outcome is Outcome.REJECT


def test_good_guy_clears_only_its_pair_until_expiry(store: SQLiteStore) -> None:
    good = new_good_guy(
        "cust-1",
        CEIEC.id,
        CEIEC.content_hash(),
        analyst="ana",
        note="customer is a Shenzhen retailer, not CEIEC",
        created_at=datetime(2021, 1, 1, tzinfo=UTC),
        expires_at=datetime(2021, 6, 30, tzinfo=UTC),
    )
    ctx = PolicyContext.build(store, good_guys=[good])
    at = datetime(2021, 2, 1, tzinfo=ET)
    cleared = decide_party(customer(), [match(CEIEC)], as_of=at, context=ctx)
    assert cleared.outcome is Outcome.CLEAR and cleared.reasons[0].code is ReasonCode.GOOD_GUY
    # a new listed entity still alerts for the same party
    both = decide_party(customer(), [match(CEIEC), match(OTHER)], as_of=at, context=ctx)
    assert both.outcome is Outcome.BLOCK and OTHER.id in both.entity_ids
    # another party with the same name is not covered
    other_party = decide_party(customer(id="cust-2"), [match(CEIEC)], as_of=at, context=ctx)
    assert other_party.outcome is Outcome.BLOCK
    expired = decide_party(customer(), [match(CEIEC)], as_of=datetime(2021, 7, 1, tzinfo=ET), context=ctx)
    assert expired.outcome is Outcome.BLOCK
    assert any(
        r.code is ReasonCode.GOOD_GUY_INVALIDATED and r.details["status"] == "expired"
        for r in expired.reasons
    )


def test_good_guy_stops_when_the_listed_entity_changes(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    add_version(store, "ofac-sdn", date(2020, 11, 30), [CEIEC])
    changed = listed(
        CEIEC.id,
        "CEIEC",
        "VENEZUELA",
        alias=[
            "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
            "CHINA ELECTRONICS IMPORT-EXPORT CO",
        ],
    )
    add_version(store, "ofac-sdn", date(2021, 3, 1), [changed])
    good = new_good_guy(
        "cust-1",
        CEIEC.id,
        CEIEC.content_hash(),
        analyst="ana",
        note="n",
        created_at=datetime(2021, 1, 1, tzinfo=UTC),
        expires_at=datetime(2022, 1, 1, tzinfo=UTC),
    )
    ctx = PolicyContext.build(store, good_guys=[good])
    assert (
        decide_party(customer(), [match(CEIEC)], as_of=datetime(2021, 2, 1, tzinfo=ET), context=ctx).outcome
        is Outcome.CLEAR
    )
    after = decide_party(customer(), [match(CEIEC)], as_of=datetime(2021, 3, 2, tzinfo=ET), context=ctx)
    assert after.outcome is Outcome.BLOCK
    assert any(
        r.code is ReasonCode.GOOD_GUY_INVALIDATED and r.details["status"] == "entity-changed"
        for r in after.reasons
    )


def test_combine_follows_precedence_and_names_parties(store: SQLiteStore) -> None:
    ctx = PolicyContext.build(store)
    at = datetime(2020, 12, 15, tzinfo=ET)
    clear = decide_party(Subject("Nobody", path="/Dbtr"), [], as_of=at, context=ctx)
    authorized = decide_party(
        Subject("CEIEC", path="/Cdtr"),
        [match(CEIEC)],
        as_of=at,
        context=ctx,
        transaction=Transaction("wind-down"),
    )
    blocked = decide_party(Subject("Front", path="/UltmtCdtr"), [match(OTHER)], as_of=at, context=ctx)
    assert combine([clear]).outcome is MessageOutcome.PASS
    assert combine([clear, authorized]).outcome is MessageOutcome.AUTHORIZED
    message = combine([clear, authorized, blocked])
    assert message.outcome is MessageOutcome.BLOCK
    assert message.reasons[0].party == "/UltmtCdtr" and message.reasons[0].outcome is Outcome.BLOCK
    assert {r.party for r in message.reasons} == {"/Cdtr", "/UltmtCdtr"}
    assert message.to_dict()["outcome"] == "BLOCK"


def test_good_guy_for_records_the_entity_hash_in_force(store: SQLiteStore) -> None:
    from clearance.errors import NotFound
    from clearance.policy.goodguy import good_guy_for

    at = datetime(2021, 1, 5, tzinfo=ET)
    good = good_guy_for(
        store,
        "cust-1",
        CEIEC.id,
        analyst="ana",
        note="different firm",
        expires_at=datetime(2021, 6, 1),
        at=at,
    )
    assert good.entity_hash == CEIEC.content_hash() and good.created_at == at
    with pytest.raises(NotFound):
        good_guy_for(
            store,
            "cust-1",
            CEIEC.id,
            analyst="ana",
            note="n",
            expires_at=datetime(2021, 6, 1),
            at=datetime(2020, 1, 1),
        )
