from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from clearance.ledger import Ledger
from clearance.matching.types import Match, Query
from clearance.payments.screen import NameScreener, PaymentScreener, record
from clearance.policy.licenses import aware
from clearance.policy.types import MessageOutcome, Outcome
from tests.factories import make_entity

from .factories import fixture, pacs008
from .world import CEIEC, OTHER, TANKER, make_screener

SEED_DAY = datetime(2021, 1, 20, 10, 0)


@pytest.fixture()
def screener(tmp_path: Path) -> PaymentScreener:
    return make_screener(tmp_path)


@pytest.mark.parametrize("name", ["pacs008_ceiec.xml", "mt103_ceiec.txt"])
def test_payment_to_ceiec_is_blocked_on_2021_01_20(screener: PaymentScreener, name: str) -> None:
    result = screener.screen_bytes(fixture(name), source=name, as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.BLOCK
    blocking = [r for r in result.reasons if r.outcome is Outcome.BLOCK]
    assert blocking[0].entity_id == "ofac-sdn:30502"
    assert blocking[0].party in ("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/Cdtr", "4:59")
    assert "VENEZUELA" in blocking[0].programs


def test_same_payment_before_the_designation_passes(screener: PaymentScreener) -> None:
    result = screener.screen_bytes(fixture("pacs008_ceiec.xml"), as_of=datetime(2020, 11, 20, 10))
    assert result.outcome is MessageOutcome.PASS


def test_without_a_moment_a_payment_is_decided_as_at_now(screener: PaymentScreener) -> None:
    """Now, whatever time zone the machine's clock is in; not its wall-clock time read as US Eastern
    (five hours late on a machine in UTC: past midnight Eastern, a license that ends then is over)."""
    before = datetime.now(UTC)
    result = screener.screen_bytes(fixture("pacs008_ceiec.xml"))
    after = datetime.now(UTC)
    assert result.as_of.tzinfo is not None
    assert before <= aware(result.as_of) <= after
    assert result.to_dict()["as_of"] == result.as_of.isoformat()


def test_clean_messages_pass(screener: PaymentScreener) -> None:
    for name in ("pacs008_clean.xml", "pain001_clean.xml", "mt103_clean.txt"):
        assert screener.screen_bytes(fixture(name), as_of=SEED_DAY).outcome is MessageOutcome.PASS, name


def test_payment_to_iran_is_rejected_by_country(tmp_path: Path) -> None:
    screener = make_screener(tmp_path, [OTHER, CEIEC, TANKER])  # Bank Melli not listed here
    result = screener.screen_bytes(fixture("pain001_iran.xml"), as_of=datetime(2021, 3, 3, 9))
    assert result.outcome is MessageOutcome.REJECT
    assert any(r.code.value == "country" and "IRAN" in r.programs for r in result.reasons)


def test_listed_creditor_agent_turns_the_iran_payment_into_a_block(screener: PaymentScreener) -> None:
    result = screener.screen_bytes(fixture("pain001_iran.xml"), as_of=datetime(2021, 3, 3, 9))
    assert result.outcome is MessageOutcome.BLOCK
    assert result.reasons[0].entity_id == "ofac-sdn:9999"


def test_listed_bic_blocks_even_without_a_name(screener: PaymentScreener) -> None:
    data = pacs008(creditor_bic="MELIIRTH123", creditor_iban="DE89370400440532013000")
    result = screener.screen_bytes(data, as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.BLOCK
    reason = next(r for r in result.reasons if r.entity_id == "ofac-sdn:9999")
    assert reason.party is not None and reason.party.endswith("CdtrAgt")


def test_listed_name_in_remittance_holds_for_review(screener: PaymentScreener) -> None:
    data = pacs008(remittance="Freight for SEA BREEZE TANKER voyage 12")
    result = screener.screen_bytes(data, as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.HOLD
    reason = next(r for r in result.reasons if r.entity_id == "ofac-sdn:8888")
    assert reason.details["outcome_if_party"] in ("BLOCK", "REJECT")
    assert reason.party is not None and reason.party.endswith("RmtInf/Ustrd")


def test_imo_number_in_free_text_is_found_exactly(screener: PaymentScreener) -> None:
    result = screener.screen_bytes(pacs008(remittance="Bunkers IMO 9176187"), as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.HOLD
    assert any(r.entity_id == "ofac-sdn:8888" for r in result.reasons)


def test_malformed_message_is_rejected_with_the_element_never_passed(screener: PaymentScreener) -> None:
    result = screener.screen_bytes(
        pacs008(creditor_iban="DE00370400440532013000"), source="x.xml", as_of=SEED_DAY
    )
    assert result.outcome is MessageOutcome.REJECT
    assert result.malformed is not None and result.malformed.field is not None
    assert result.malformed.field.endswith("CdtrAcct/Id/IBAN")
    assert result.to_dict()["reasons"][0]["code"] == "malformed"


def test_unscreenable_party_name_is_rejected(screener: PaymentScreener) -> None:
    result = screener.screen_bytes(pacs008(creditor="..."), as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.REJECT and result.malformed is not None


def test_block_on_2020_12_15_writes_a_ledger_entry(screener: PaymentScreener, tmp_path: Path) -> None:
    data = pacs008(
        creditor="China National Electronics Import and Export Corporation",
        amount="250000.00",
        settlement="2020-12-15",
    )
    result = screener.screen_bytes(data, as_of=datetime(2020, 12, 15, 11))
    assert result.outcome is MessageOutcome.BLOCK
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        entries = record(result, ledger)
        assert len(entries) == 1
        entry = entries[0]
        assert entry.kind == "block" and entry.event_date == date(2020, 12, 15)
        assert entry.owner_entity_id == "ofac-sdn:30502" and entry.amount == Decimal("250000.00")
        assert entry.message_id == "MSG-1" and entry.programs == ("VENEZUELA",)
        assert entry.message_sha256 is not None and ledger.message(entry.message_sha256) == data


def test_rejections_and_malformed_messages_are_recorded(tmp_path: Path) -> None:
    screener = make_screener(tmp_path, [OTHER, CEIEC, TANKER])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        rejected = screener.screen_bytes(fixture("pain001_iran.xml"), as_of=datetime(2021, 3, 3, 9))
        entries = record(rejected, ledger)
        # Only the Iranian transaction (2,500.00) is rejected, not the French one.
        assert [(e.kind, e.amount) for e in entries] == [("reject", Decimal("2500.00"))]
        bad = screener.screen_bytes(fixture("malformed_truncated.xml"), source="malformed_truncated.xml")
        assert record(bad, ledger) == []
        kept = ledger.malformed_messages()
        assert (
            len(kept) == 1 and "well-formed" in kept[0].reason and kept[0].source == "malformed_truncated.xml"
        )


def test_one_word_vessel_names_are_not_looked_for_in_free_text(tmp_path: Path) -> None:
    summit = make_entity("ofac-sdn:7777", "Vessel", name="SUMMIT", program="IRAN", imoNumber="IMO 9187629")
    screener = make_screener(tmp_path, [OTHER, CEIEC, summit])
    assert screener.screen_bytes(pacs008(remittance="Invoice 7 summit parts"), as_of=SEED_DAY).outcome is (
        MessageOutcome.PASS
    )
    held = screener.screen_bytes(pacs008(remittance="Charter hire IMO 9187629"), as_of=SEED_DAY)
    assert held.outcome is MessageOutcome.HOLD


def test_name_results_are_cached_across_messages(screener: PaymentScreener) -> None:
    screener.screen_bytes(pacs008(msg_id="A"), as_of=SEED_DAY)
    before = screener._screen_name.cache_info().hits  # type: ignore[attr-defined]
    screener.screen_bytes(pacs008(msg_id="B"), as_of=SEED_DAY)
    assert screener._screen_name.cache_info().hits >= before + 2  # type: ignore[attr-defined]


class SpyScreener:
    """The real name screener, recording the names it is asked to screen."""

    def __init__(self, inner: NameScreener) -> None:
        self.inner = inner
        self.names: list[str] = []

    def screen(self, query: Query, limit: int = 10, *, explain: bool = True) -> list[Match]:
        self.names.append(query.name)
        return self.inner.screen(query, limit, explain=explain)

    def explain(self, query: Query, matches: Sequence[Match]) -> list[Match]:
        return self.inner.explain(query, matches)


def spied(tmp_path: Path) -> tuple[PaymentScreener, SpyScreener]:
    real = make_screener(tmp_path)
    spy = SpyScreener(real.screener)
    return PaymentScreener(spy, real.context, real.listed), spy


def ultimate_creditor(name: str, country: str = "DE") -> str:
    return f"<UltmtCdtr><Nm>{name}</Nm><PstlAdr><Ctry>{country}</Ctry></PstlAdr></UltmtCdtr>"


def test_another_spelling_of_a_name_in_one_message_is_screened_once(tmp_path: Path) -> None:
    screener, spy = spied(tmp_path)
    data = pacs008(
        creditor="Praezisionsmechanik Hoffmann GmbH",
        extra_tx=ultimate_creditor("PRAEZISIONSMECHANIK  HOFFMANN gmbh"),
    )
    result = screener.screen_bytes(data, as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.PASS
    assert spy.names.count("Praezisionsmechanik Hoffmann GmbH") == 1
    assert "PRAEZISIONSMECHANIK  HOFFMANN gmbh" not in spy.names
    roles = {d.subject.role for d in result.decision.parties} if result.decision else set()
    assert {"creditor", "ultimate_creditor"} <= roles


def test_another_spelling_of_a_listed_name_is_screened_as_written_and_blocks_too(tmp_path: Path) -> None:
    screener, spy = spied(tmp_path)
    listed = "China National Electronics Import and Export Corporation"
    data = pacs008(creditor=listed, extra_tx=ultimate_creditor(listed.upper()))
    result = screener.screen_bytes(data, as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.BLOCK
    assert listed in spy.names and listed.upper() in spy.names
    assert result.decision is not None
    blocked = {d.subject.role for d in result.decision.parties if d.outcome is Outcome.BLOCK}
    assert blocked == {"creditor", "ultimate_creditor"}


def test_a_name_in_another_script_is_not_taken_for_its_transliteration(tmp_path: Path) -> None:
    screener, spy = spied(tmp_path)
    data = pacs008(creditor="Bank Melli", extra_tx=ultimate_creditor("Банк Мелли"))
    screener.screen_bytes(data, as_of=SEED_DAY)
    assert {"Bank Melli", "Банк Мелли"} <= set(spy.names)


def test_the_same_free_text_twice_holds_the_message_for_each_place_it_is_written(
    screener: PaymentScreener,
) -> None:
    text = "Freight for SEA BREEZE TANKER voyage 12"
    instructions = f"<InstrForCdtrAgt><InstrInf>{text}</InstrInf></InstrForCdtrAgt>" * 2
    result = screener.screen_bytes(pacs008(remittance=text, extra_tx=instructions), as_of=SEED_DAY)
    assert result.outcome is MessageOutcome.HOLD
    places = {r.party for r in result.reasons if r.entity_id == "ofac-sdn:8888"}
    assert len(places) == 3  # the remittance and both instructions


def test_a_listed_name_after_many_common_first_words_is_found_in_free_text(
    screener: PaymentScreener,
) -> None:
    text = "al " * 40 + "acme terror front " + "al " * 5
    found = screener.listed.names_in(text)
    assert [(ref.entity_id, words) for ref, words in found] == [("ofac-sdn:100", "acme terror front")]
