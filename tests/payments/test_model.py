from decimal import Decimal

from clearance.payments.model import MessageKind, Party, PartyRole, Payment


def test_party_countries_include_bic_and_iban_countries() -> None:
    party = Party(PartyRole.CREDITOR, "/x", name="A", country="US", bic="BKCHCNBJXXX", iban="IR0000")
    assert party.countries == ["US", "CN", "IR"]


def test_agent_and_beneficiary_roles() -> None:
    assert PartyRole.CREDITOR_AGENT.is_agent and PartyRole.CREDITOR_AGENT.receives_funds
    assert not PartyRole.DEBTOR.is_agent and not PartyRole.DEBTOR.receives_funds
    assert not PartyRole.BENEFICIARY.is_agent and PartyRole.BENEFICIARY.receives_funds


def test_payment_to_dict_keeps_amount_exact() -> None:
    p = Payment("M1", MessageKind.PACS_008, Decimal("1000.10"), "USD")
    assert p.to_dict()["amount"] == "1000.10"
