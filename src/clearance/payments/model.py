"""A payment message as the screener sees it: parties, agents, free text, amounts and dates.

Parsers (:mod:`clearance.payments.iso20022`, :mod:`clearance.payments.mt103`) fill a :class:`Payment`;
the screener (:mod:`clearance.payments.screen`) reads every :class:`Party` and :class:`FreeText` from it,
and the ledger and reports keep its message id, amount and the raw bytes for the record.

Every party and text item carries ``path``: the element path (ISO 20022, e.g.
``/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/Cdtr``) or the field tag (MT103, e.g. ``4:59``) it was read
from, so a decision can say exactly which element it is about.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class MessageKind(enum.StrEnum):
    PACS_008 = "pacs.008"
    PAIN_001 = "pain.001"
    MT103 = "MT103"


class PartyRole(enum.StrEnum):
    """Who a party is in the payment. Agents (banks) end in ``_agent`` or are MT103 institutions."""

    DEBTOR = "debtor"
    CREDITOR = "creditor"
    ULTIMATE_DEBTOR = "ultimate_debtor"
    ULTIMATE_CREDITOR = "ultimate_creditor"
    INITIATING_PARTY = "initiating_party"
    DEBTOR_AGENT = "debtor_agent"
    CREDITOR_AGENT = "creditor_agent"
    INTERMEDIARY_AGENT = "intermediary_agent"
    INSTRUCTING_AGENT = "instructing_agent"
    INSTRUCTED_AGENT = "instructed_agent"
    PREVIOUS_INSTRUCTING_AGENT = "previous_instructing_agent"
    FORWARDING_AGENT = "forwarding_agent"
    # MT103 names (fields 50a, 59a, 52a, 53a, 54a, 55a, 56a, 57a and the header BICs)
    ORDERING_CUSTOMER = "ordering_customer"
    BENEFICIARY = "beneficiary"
    ORDERING_INSTITUTION = "ordering_institution"
    SENDERS_CORRESPONDENT = "senders_correspondent"
    RECEIVERS_CORRESPONDENT = "receivers_correspondent"
    THIRD_REIMBURSEMENT_INSTITUTION = "third_reimbursement_institution"
    ACCOUNT_WITH_INSTITUTION = "account_with_institution"
    SENDER = "sender"
    RECEIVER = "receiver"

    @property
    def is_agent(self) -> bool:
        """True for banks (agents, institutions), False for customers (natural or legal persons)."""
        return self not in _CUSTOMER_ROLES

    @property
    def receives_funds(self) -> bool:
        """True for the side the money goes to: a blocked party here means funds to a blocked account."""
        return self in _BENEFICIARY_ROLES


_CUSTOMER_ROLES = frozenset(
    {
        PartyRole.DEBTOR,
        PartyRole.CREDITOR,
        PartyRole.ULTIMATE_DEBTOR,
        PartyRole.ULTIMATE_CREDITOR,
        PartyRole.INITIATING_PARTY,
        PartyRole.ORDERING_CUSTOMER,
        PartyRole.BENEFICIARY,
    }
)
_BENEFICIARY_ROLES = frozenset(
    {
        PartyRole.CREDITOR,
        PartyRole.ULTIMATE_CREDITOR,
        PartyRole.BENEFICIARY,
        PartyRole.CREDITOR_AGENT,
        PartyRole.ACCOUNT_WITH_INSTITUTION,
    }
)


class TextKind(enum.StrEnum):
    REMITTANCE = "remittance_information"
    INSTRUCTION_FOR_AGENT = "instruction_for_agent"
    PURPOSE = "purpose"
    REGULATORY_REPORTING = "regulatory_reporting"
    MT103_70 = "mt103_70_remittance"
    MT103_72 = "mt103_72_sender_to_receiver"
    OTHER = "other"


@dataclass(slots=True, frozen=True)
class Identifier:
    """An identifier of a party other than BIC, IBAN and LEI: ``scheme`` as the message names it."""

    scheme: str
    value: str


@dataclass(slots=True)
class Party:
    """One party or agent of a payment, as the message states it (nothing normalised away)."""

    role: PartyRole
    path: str
    name: str | None = None
    address_lines: list[str] = field(default_factory=list)
    town: str | None = None
    country: str | None = None  # ISO 3166 alpha-2 as stated in the postal address / country of residence
    bic: str | None = None
    iban: str | None = None
    account: str | None = None  # a non-IBAN account number (MT103 /ACCOUNT lines, Othr/Id)
    lei: str | None = None
    other_ids: list[Identifier] = field(default_factory=list)
    transaction: int | None = None  # 1-based index of the transaction it belongs to; None: message level

    @property
    def is_agent(self) -> bool:
        return self.role.is_agent

    @property
    def countries(self) -> list[str]:
        """Every country the party points to: its address, its BIC (letters 5-6), its IBAN (1-2)."""
        out: list[str] = []
        for value in (
            self.country,
            self.bic[4:6] if self.bic and len(self.bic) >= 6 else None,
            self.iban[:2] if self.iban and len(self.iban) >= 2 else None,
        ):
            if value and value.isalpha():
                code = value.upper()
                if code not in out:
                    out.append(code)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "path": self.path,
            "name": self.name,
            "address_lines": list(self.address_lines),
            "town": self.town,
            "country": self.country,
            "countries": self.countries,
            "bic": self.bic,
            "iban": self.iban,
            "account": self.account,
            "lei": self.lei,
            "other_ids": [{"scheme": i.scheme, "value": i.value} for i in self.other_ids],
            "transaction": self.transaction,
        }


@dataclass(slots=True)
class FreeText:
    """A free-text item (remittance information, instructions, MT103 fields 70 and 72) and where it was."""

    kind: TextKind
    path: str
    text: str
    transaction: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "path": self.path,
            "text": self.text,
            "transaction": self.transaction,
        }


@dataclass(slots=True)
class Transaction:
    """One credit transfer inside a message (pacs.008 CdtTrfTxInf, pain.001 CdtTrfTxInf; MT103 has one)."""

    index: int  # 1-based, as ``Party.transaction``
    path: str
    amount: Decimal
    currency: str
    end_to_end_id: str | None = None
    transaction_id: str | None = None
    uetr: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "path": self.path,
            "amount": str(self.amount),
            "currency": self.currency,
            "end_to_end_id": self.end_to_end_id,
            "transaction_id": self.transaction_id,
            "uetr": self.uetr,
        }


@dataclass(slots=True)
class Payment:
    """One payment message.

    ``amount`` and ``currency`` are the message's total when all transactions share one currency (the
    first transaction's otherwise; see ``transactions`` for each). ``settlement_date`` is the interbank
    settlement date (pacs.008), the requested execution date (pain.001) or the value date (MT103 32A).
    """

    message_id: str
    kind: MessageKind
    amount: Decimal
    currency: str
    created: datetime | None = None
    settlement_date: date | None = None
    parties: list[Party] = field(default_factory=list)
    free_text: list[FreeText] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    raw: bytes = b""
    source: str | None = None  # file name or channel it came from
    version: str | None = None  # message definition, e.g. "pacs.008.001.08"

    def parties_in(self, role: PartyRole) -> list[Party]:
        return [p for p in self.parties if p.role is role]

    def to_dict(self, *, raw: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "kind": self.kind.value,
            "version": self.version,
            "amount": str(self.amount),
            "currency": self.currency,
            "created": self.created.isoformat() if self.created else None,
            "settlement_date": self.settlement_date.isoformat() if self.settlement_date else None,
            "parties": [p.to_dict() for p in self.parties],
            "free_text": [t.to_dict() for t in self.free_text],
            "transactions": [t.to_dict() for t in self.transactions],
            "source": self.source,
        }
        if raw:
            data["raw"] = self.raw.decode("utf-8", "replace")
        return data
