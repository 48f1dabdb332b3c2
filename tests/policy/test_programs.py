"""Program tags mean different things: blocking, sectoral directives, export denial, ..."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clearance.errors import ParseError
from clearance.policy.decide import PolicyContext, decide_party
from clearance.policy.programs import Effect, load_programs
from clearance.policy.types import Outcome, ReasonCode, Subject, Transaction
from tests.policy.helpers import add_version, license_, listed, match, new_store

ET = ZoneInfo("America/New_York")
SSI_NOTE = (
    "SWIFT/BIC SABRRUMM; Executive Order 13662 Directive Determination - Subject to Directive 1;"
    " Secondary sanctions risk: Ukraine-/Russia-Related Sanctions Regulations"
)
SBER = listed("ofac-cons:17018", "SBERBANK", "UKRAINE-EO13662", notes=SSI_NOTE)
ENERGY = listed(
    "ofac-cons:17020",
    "ROSNEFT",
    "UKRAINE-EO13662",
    notes="Executive Order 13662 Directive Determination - Subject to Directive 2",
)
DPL = listed("bis-dpl:abc", "DENIED EXPORTER LTD", "BIS-DPL")
CMIC = listed("ofac-cons:30882", "CHINA TELECOM CORPORATION LIMITED", "CMIC-EO13959")


def decide(tmp_path: Path, entity, tx: Transaction, when: datetime = datetime(2021, 3, 1, tzinfo=ET), **kw):  # type: ignore[no-untyped-def]
    store = new_store(tmp_path)
    add_version(store, entity.list_name, date(2019, 1, 1), [entity])
    ctx = PolicyContext.build(store, **kw)
    return decide_party(Subject("Client"), [match(entity)], as_of=when, context=ctx, transaction=tx)


def test_same_tag_is_blocking_on_sdn_and_sectoral_on_the_non_sdn_list() -> None:
    book = load_programs()
    assert book.lookup("UKRAINE-EO13662", "ofac-sdn").effect is Effect.BLOCKING
    assert book.lookup("UKRAINE-EO13662", "ofac-cons").effect is Effect.SECTORAL
    assert book.lookup("SSI-EO13662", "ofac-cons").effect is Effect.SECTORAL


def test_unknown_tag_falls_back_to_the_list_default() -> None:
    book = load_programs()
    assert book.lookup("NEW-PROGRAM-2030", "ofac-sdn").effect is Effect.BLOCKING
    assert book.lookup("NEW-PROGRAM-2030", "custom-bank").effect is Effect.REVIEW
    assert not book.lookup("NEW-PROGRAM-2030", "ofac-sdn").defined


def test_combined_program_field_is_split() -> None:
    entity = listed("ofac-cons:1", "VTB", "UKRAINE-EO13662] [RUSSIA-EO14024")
    assert [p.tag for p in load_programs().of_entity(entity)] == ["UKRAINE-EO13662", "RUSSIA-EO14024"]


def test_ssi_long_debt_is_rejected(tmp_path: Path) -> None:
    decision = decide(tmp_path, SBER, Transaction("new-debt", tenor_days=30))
    assert decision.outcome is Outcome.REJECT
    reason = decision.reasons[0]
    assert reason.code is ReasonCode.SECTORAL and reason.details["directive"] == "1"
    assert "14-day" in reason.message


def test_ssi_short_debt_is_review(tmp_path: Path) -> None:
    decision = decide(tmp_path, SBER, Transaction("new-debt", tenor_days=14))
    assert decision.outcome is Outcome.REVIEW


def test_ssi_tenor_limit_depends_on_the_issue_date(tmp_path: Path) -> None:
    # Directive 1 allowed 30 days between 12 Sep 2014 and 28 Nov 2017
    old = decide(tmp_path, SBER, Transaction("new-debt", tenor_days=20, issued=date(2016, 5, 1)))
    assert old.outcome is Outcome.REVIEW
    new = decide(tmp_path / "b", SBER, Transaction("new-debt", tenor_days=20, issued=date(2018, 1, 1)))
    assert new.outcome is Outcome.REJECT


def test_ssi_equity_is_rejected_and_payments_are_review(tmp_path: Path) -> None:
    assert decide(tmp_path, SBER, Transaction("new-equity")).outcome is Outcome.REJECT
    assert decide(tmp_path / "b", SBER, Transaction("payment")).outcome is Outcome.REVIEW


def test_energy_directive_allows_equity_and_60_day_debt(tmp_path: Path) -> None:
    assert decide(tmp_path, ENERGY, Transaction("new-equity")).outcome is Outcome.REVIEW
    assert decide(tmp_path / "b", ENERGY, Transaction("new-debt", tenor_days=60)).outcome is Outcome.REVIEW
    assert decide(tmp_path / "c", ENERGY, Transaction("new-debt", tenor_days=61)).outcome is Outcome.REJECT


def test_ssi_debt_without_a_tenor_is_review(tmp_path: Path) -> None:
    assert decide(tmp_path, SBER, Transaction("new-debt")).outcome is Outcome.REVIEW


def test_bis_dpl_is_a_licence_requirement_not_a_block(tmp_path: Path) -> None:
    payment = decide(tmp_path, DPL, Transaction("payment"))
    assert payment.outcome is Outcome.REVIEW
    assert payment.reasons[0].code is ReasonCode.EXPORT_DENIAL
    export = decide(tmp_path / "b", DPL, Transaction("export"))
    assert export.outcome is Outcome.REJECT
    assert "licence" in export.reasons[0].message
    assert all(r.outcome is not Outcome.BLOCK for r in payment.reasons + export.reasons)


def test_bis_export_licence_authorizes_the_export(tmp_path: Path) -> None:
    lic = license_(
        id="BIS-L-1", kind="specific", issuer="BIS", entities=[DPL.id], transaction_types=["export"]
    )
    assert decide(tmp_path, DPL, Transaction("export"), licenses=[lic]).outcome is Outcome.AUTHORIZED


def test_cmic_bans_securities_only(tmp_path: Path) -> None:
    when = datetime(2021, 9, 1, tzinfo=ET)
    assert decide(tmp_path, CMIC, Transaction("securities"), when).outcome is Outcome.REJECT
    assert decide(tmp_path / "b", CMIC, Transaction("payment"), when).outcome is Outcome.REVIEW


def test_program_not_yet_in_force_is_review(tmp_path: Path) -> None:
    decision = decide(tmp_path, CMIC, Transaction("securities"), datetime(2021, 6, 1, tzinfo=ET))
    assert decision.outcome is Outcome.REVIEW
    assert decision.reasons[0].code is ReasonCode.PROGRAM_NOT_IN_FORCE


def test_every_sdn_program_seen_in_the_real_lists_is_defined() -> None:
    book = load_programs()
    seen = [
        "SDGT",
        "VENEZUELA",
        "VENEZUELA-EO13850",
        "UKRAINE-EO13661",
        "CAATSA - RUSSIA",
        "SDNTK",
        "FSE-SY",
        "NS-PLC",
    ]
    assert all(book.lookup(tag, "ofac-sdn").defined for tag in seen)


def test_bad_program_table_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("programs:\n  - {tag: X, effect: freeze}\n")
    with pytest.raises(ParseError) as err:
        load_programs(path)
    assert err.value.field == "programs[0].effect"


def test_ssi_directives_extend_to_a_majority_owned_subsidiary(tmp_path: Path) -> None:
    from clearance.policy.ownership import OwnershipLink

    store = new_store(tmp_path)
    add_version(store, "ofac-cons", date(2019, 1, 1), [SBER])
    ctx = PolicyContext.build(store, links=[OwnershipLink(SBER.id, "cust-leasing", 100)])
    at = datetime(2021, 3, 1, tzinfo=ET)
    sub = Subject("Sber Leasing", id="cust-leasing")
    debt = decide_party(sub, [], as_of=at, context=ctx, transaction=Transaction("new-debt", tenor_days=90))
    assert debt.outcome is Outcome.REJECT
    assert debt.reasons[0].code is ReasonCode.SECTORAL and debt.reasons[0].ownership_share == 100
    assert (
        decide_party(sub, [], as_of=at, context=ctx, transaction=Transaction("payment")).outcome
        is Outcome.REVIEW
    )
    # an SSI owner is not a blocked person: no BLOCK via the 50% rule
    assert all(r.code is not ReasonCode.OWNERSHIP for r in debt.reasons)
