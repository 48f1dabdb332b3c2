from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.payments.iso20022 import parse_iso20022
from clearance.payments.model import MessageKind, PartyRole, TextKind

from .factories import fixture, pacs008


def test_pacs008_reads_every_party_agent_and_text_with_its_path() -> None:
    payment = parse_iso20022(fixture("pacs008_ceiec.xml"), source="pacs008_ceiec.xml")
    assert payment.kind is MessageKind.PACS_008 and payment.version == "pacs.008.001.08"
    assert payment.message_id == "FNBC20210120-000417"
    assert payment.amount == Decimal("184250.00") and payment.currency == "USD"
    assert payment.settlement_date == date(2021, 1, 20)
    creditor = payment.parties_in(PartyRole.CREDITOR)[0]
    assert creditor.name == "China Electronics Import-Export Co."
    assert creditor.country == "CN" and creditor.account == "778812349920015"
    assert creditor.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/Cdtr"
    agent = payment.parties_in(PartyRole.CREDITOR_AGENT)[0]
    assert agent.bic == "BKCHCNBJ110" and agent.countries == ["CN"]
    roles = {p.role for p in payment.parties}
    assert {PartyRole.INTERMEDIARY_AGENT, PartyRole.INSTRUCTING_AGENT, PartyRole.DEBTOR_AGENT} <= roles
    kinds = {t.kind: t for t in payment.free_text}
    assert "surveillance camera" in kinds[TextKind.REMITTANCE].text
    assert kinds[TextKind.INSTRUCTION_FOR_AGENT].path.endswith("InstrForCdtrAgt/InstrInf")
    assert payment.raw.startswith(b"<?xml")


def test_pacs008_batch_sums_transactions_and_keeps_group_agents_at_message_level() -> None:
    payment = parse_iso20022(fixture("pacs008_clean.xml"))
    assert [t.amount for t in payment.transactions] == [Decimal("10000.00"), Decimal("2500.50")]
    assert payment.amount == Decimal("12500.50") and payment.currency == "EUR"
    assert payment.parties_in(PartyRole.INSTRUCTING_AGENT)[0].transaction is None
    assert payment.parties_in(PartyRole.ULTIMATE_CREDITOR)[0].transaction == 2
    assert payment.parties_in(PartyRole.DEBTOR)[0].lei == "5493001KJTIIGC8Y1R12"
    assert payment.parties_in(PartyRole.CREDITOR)[1].path.endswith("CdtTrfTxInf[2]/Cdtr")


def test_pain001_reads_initiating_and_ultimate_parties_and_iban_country() -> None:
    payment = parse_iso20022(fixture("pain001_iran.xml"))
    assert payment.kind is MessageKind.PAIN_001 and payment.version == "pain.001.001.09"
    assert payment.settlement_date == date(2021, 3, 3)
    assert payment.amount == Decimal("7300.00")
    assert payment.parties_in(PartyRole.INITIATING_PARTY)[0].lei == "5493000IBP32UQZ0KL24"
    assert payment.parties_in(PartyRole.ULTIMATE_DEBTOR)[0].name == "Lakeshore Instruments Export Division"
    iranian = payment.parties_in(PartyRole.CREDITOR)[1]
    assert iranian.iban == "IR050170000000123456789012" and iranian.countries == ["IR"]
    assert payment.parties_in(PartyRole.CREDITOR_AGENT)[1].name == "Bank Melli Iran"


@pytest.mark.parametrize(
    ("name", "field_part", "reason_part"),
    [
        ("malformed_truncated.xml", None, "not well-formed"),
        ("malformed_namespace.xml", "/Document", "namespace"),
    ],
)
def test_malformed_fixtures_are_rejected_naming_the_fault(
    name: str, field_part: str | None, reason_part: str
) -> None:
    with pytest.raises(ParseError) as err:
        parse_iso20022(fixture(name), source=name)
    assert reason_part in str(err.value)
    assert err.value.line is not None
    if field_part:
        assert err.value.field == field_part


def _reject(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as err:
        parse_iso20022(data)
    return err.value


def test_bad_iban_checksum_is_rejected_at_the_iban_element() -> None:
    err = _reject(pacs008(creditor_iban="DE89370400440532013001"))
    assert err.field is not None and err.field.endswith("CdtrAcct/Id/IBAN")
    assert "checksum" in str(err)


def test_bad_bic_shape_is_rejected_at_the_bic_element() -> None:
    err = _reject(pacs008(creditor_bic="BKCH-CN"))
    assert err.field is not None and err.field.endswith("CdtrAgt/FinInstnId/BICFI")


def test_oversize_name_is_rejected() -> None:
    err = _reject(pacs008(creditor="A" * 141))
    assert err.field is not None and err.field.endswith("Cdtr/Nm") and "140" in str(err)


def test_missing_creditor_is_rejected() -> None:
    data = pacs008().replace(b"<Cdtr><Nm>", b"<X><Nm>").replace(b"</Cdtr>", b"</X>")
    err = _reject(data)
    assert "Cdtr" in str(err)


def test_transaction_count_must_agree() -> None:
    err = _reject(pacs008().replace(b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>2</NbOfTxs>"))
    assert err.field is not None and err.field.endswith("NbOfTxs")


def test_negative_or_malformed_amounts_and_currencies_are_rejected() -> None:
    assert "amount" in str(_reject(pacs008(amount="-5.00")))
    assert "amount" in str(_reject(pacs008(amount="1,000.00")))
    assert "currency" in str(_reject(pacs008(currency="US")))
    assert "positive" in str(_reject(pacs008(amount="0.00")))


def test_entities_and_doctype_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b"<Document>&lol2;</Document>"
    )
    assert "DOCTYPE" in str(_reject(bomb))


def test_element_from_a_foreign_namespace_is_refused() -> None:
    data = pacs008(extra_tx='<x:Note xmlns:x="urn:other">pay CEIEC</x:Note>')
    assert "not in the message namespace" in str(_reject(data))


def test_unknown_element_text_is_kept_as_free_text_for_screening() -> None:
    payment = parse_iso20022(pacs008(extra_tx="<Futr>Route via China Electronics Import-Export</Futr>"))
    other = [t for t in payment.free_text if t.kind is TextKind.OTHER]
    assert [t.text for t in other] == ["Route via China Electronics Import-Export"]
    assert other[0].path.endswith("CdtTrfTxInf/Futr")


def test_oversize_message_is_refused_before_parsing() -> None:
    assert "limit" in str(_reject(pacs008(remittance="x" * 100) + b" " * 5_000_000))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    try:
        parse_iso20022(data)
    except ParseError:
        pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0), pos=st.integers(min_value=0), char=st.characters())
def test_truncated_or_mutated_messages_parse_fully_or_are_rejected(cut: int, pos: int, char: str) -> None:
    data = fixture("pacs008_ceiec.xml")
    cut %= len(data)
    pos %= len(data)
    for variant in (data[:cut], data[:pos] + char.encode("utf-8", "replace") + data[pos + 1 :]):
        try:
            payment = parse_iso20022(variant)
        except ParseError as err:
            assert str(err)
            continue
        # What parses must still name a creditor and an amount: nothing is half-read.
        assert payment.parties_in(PartyRole.CREDITOR) and payment.amount > 0


def test_repeated_elements_and_unknown_text_in_a_later_transaction_keep_their_place() -> None:
    data = fixture("pacs008_clean.xml").replace(
        b"</CdtTrfTxInf>\n", b"<Futr>Note one</Futr><Futr>Note two</Futr></CdtTrfTxInf>\n"
    )
    assert data.count(b"<Futr>") == 4  # two notes in each of the two transactions
    payment = parse_iso20022(data)
    other = [
        (t.path.rsplit("/", 2)[-2:], t.transaction) for t in payment.free_text if t.kind is TextKind.OTHER
    ]
    assert other == [
        (["CdtTrfTxInf[1]", "Futr[1]"], 1),
        (["CdtTrfTxInf[1]", "Futr[2]"], 1),
        (["CdtTrfTxInf[2]", "Futr[1]"], 2),
        (["CdtTrfTxInf[2]", "Futr[2]"], 2),
    ]


def test_many_remittance_lines_each_keep_their_own_path() -> None:
    lines = "".join(f"<Ustrd>Invoice {i}</Ustrd>" for i in range(1, 1001))
    payment = parse_iso20022(pacs008(remittance="x").replace(b"<Ustrd>x</Ustrd>", lines.encode()))
    remittance = [t for t in payment.free_text if t.kind is TextKind.REMITTANCE]
    assert len(remittance) == 1000
    assert remittance[0].path.endswith("RmtInf/Ustrd[1]") and remittance[-1].path.endswith(
        "RmtInf/Ustrd[1000]"
    )
    assert remittance[999].text == "Invoice 1000"
