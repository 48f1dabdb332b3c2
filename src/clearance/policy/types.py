"""The decision contract: what the policy layer is asked about and what it answers.

A screening :class:`~clearance.matching.types.Match` says "this name resembles a listed entity". The
policy layer turns the matches of one :class:`Subject` (a customer, a payment party) into a
:class:`PartyDecision`: one :class:`Outcome` plus the :class:`Reason` list it rests on (matched entity,
program, license, ownership path, list version). :func:`clearance.policy.decide.combine` folds the
decisions of a payment's parties into one :class:`MessageDecision`.

This module holds data only; it imports nothing from the rest of the policy layer, so shells and the
payments code can depend on it freely.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class Outcome(enum.StrEnum):
    """What to do with a party. Precedence (strongest first): BLOCK, REJECT, REVIEW, AUTHORIZED, CLEAR."""

    CLEAR = "CLEAR"  # nothing stands in the way
    AUTHORIZED = "AUTHORIZED"  # prohibited, but a valid license authorizes it (mind its conditions)
    REVIEW = "REVIEW"  # an analyst must look (possible match, minority ownership, sectoral list...)
    REJECT = "REJECT"  # prohibited, not blocked: refuse the transaction, report the rejection
    BLOCK = "BLOCK"  # blocked property: freeze the funds into a blocked account, report

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    Outcome.CLEAR: 0,
    Outcome.AUTHORIZED: 1,
    Outcome.REVIEW: 2,
    Outcome.REJECT: 3,
    Outcome.BLOCK: 4,
}


class MessageOutcome(enum.StrEnum):
    """What to do with a payment message: BLOCK > REJECT > HOLD > AUTHORIZED > PASS."""

    PASS = "PASS"
    AUTHORIZED = "AUTHORIZED"
    HOLD = "HOLD"
    REJECT = "REJECT"
    BLOCK = "BLOCK"

    @classmethod
    def of(cls, outcome: Outcome) -> MessageOutcome:
        return _MESSAGE_OF[outcome]

    @property
    def rank(self) -> int:
        return _RANK[_PARTY_OF[self]]


_MESSAGE_OF = {
    Outcome.CLEAR: MessageOutcome.PASS,
    Outcome.AUTHORIZED: MessageOutcome.AUTHORIZED,
    Outcome.REVIEW: MessageOutcome.HOLD,
    Outcome.REJECT: MessageOutcome.REJECT,
    Outcome.BLOCK: MessageOutcome.BLOCK,
}
_PARTY_OF = {v: k for k, v in _MESSAGE_OF.items()}


def strongest(outcomes: list[Outcome]) -> Outcome:
    """The outcome that wins under the precedence rule (CLEAR for an empty list)."""
    return max(outcomes, key=lambda o: o.rank, default=Outcome.CLEAR)


class ReasonCode(enum.StrEnum):
    """Why an outcome was reached; one code per kind of fact."""

    LISTED = "listed"  # the matched entity is listed under a program with this effect
    OWNERSHIP = "ownership"  # blocked persons own >= 50% (BLOCK) or 25-49% (REVIEW) of the party
    LICENSE_NOT_APPLICABLE = "license_not_applicable"  # a license exists for this target but not now/this
    SECTORAL = "sectoral"  # a sectoral directive prohibits (REJECT) or restricts (REVIEW) the dealing
    CORRESPONDENT = "correspondent_account"  # correspondent / payable-through account restriction
    EXPORT_DENIAL = "export_denial"  # export-denial list: an export license is required, not blocking
    INVESTMENT_BAN = "investment_ban"  # securities purchase / sale prohibited
    COUNTRY = "country"  # a country or region embargo, or a government program, applies
    WEAK_MATCH = "weak_match"  # a match the screener accepted but below the policy's block score
    NOT_LISTED_AS_OF = "not_listed_as_of"  # the matched entity is not in the list version in force
    PROGRAM_NOT_IN_FORCE = "program_not_in_force"  # the program's effective date is after as_of
    GOOD_GUY = "good_guy"  # an analyst cleared this (party, listed entity) pair; still valid
    GOOD_GUY_INVALIDATED = "good_guy_invalidated"  # a clearance exists but expired or the entity changed
    UNKNOWN_PROGRAM = "unknown_program"  # a program tag the program table does not define


@dataclass(slots=True, frozen=True)
class OwnershipStep:
    """One link of an ownership path: ``owner`` holds ``percentage`` % of ``asset``."""

    owner: str
    asset: str
    percentage: float
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "asset": self.asset,
            "percentage": self.percentage,
            "source": self.source,
        }


@dataclass(slots=True, frozen=True)
class Condition:
    """A condition a license attaches to what it authorizes (``code`` is machine-readable)."""

    code: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text}


@dataclass(slots=True)
class Reason:
    """One fact a decision rests on, with the outcome that fact alone implies.

    ``ownership_paths`` holds, for an ownership reason, one path per blocked owner: each a list of
    steps from a listed (blocked) person down to the party.
    """

    code: ReasonCode
    outcome: Outcome
    message: str
    entity_id: str | None = None
    entity_name: str | None = None
    programs: list[str] = field(default_factory=list)
    list_version: str | None = None  # label of the list version the fact comes from
    license_id: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    ownership_paths: list[list[OwnershipStep]] = field(default_factory=list)
    ownership_share: float | None = None  # aggregate % held by blocked persons
    score: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    party: str | None = None  # which party of a message the reason is about (its path, role or key)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code.value,
            "party": self.party,
            "outcome": self.outcome.value,
            "message": self.message,
            "entity_id": self.entity_id,
            "entity_name": self.entity_name,
            "programs": list(self.programs),
            "list_version": self.list_version,
            "license_id": self.license_id,
            "conditions": [c.to_dict() for c in self.conditions],
            "ownership_paths": [[s.to_dict() for s in path] for path in self.ownership_paths],
            "ownership_share": self.ownership_share,
            "score": self.score,
        }
        if self.details:
            data["details"] = dict(self.details)
        return data


@dataclass(slots=True)
class Subject:
    """The party a decision is about.

    ``id`` is the bank's own identifier for the party (customer number, or any stable key); ownership
    links and good-guy decisions are keyed on it (falling back to the normalised name when absent).
    ``countries`` are ISO alpha-2 codes the party is located in; ``government_of`` is set when the party
    is (or is owned or controlled by) the government of that country.
    """

    name: str
    id: str | None = None
    countries: list[str] = field(default_factory=list)
    government_of: str | None = None
    role: str | None = None  # e.g. a payment role ("creditor"); informational
    path: str | None = None  # where in a message the party was read from; informational

    @property
    def key(self) -> str:
        """The key good-guy decisions and ownership links use for this party."""
        return self.id if self.id else "name:" + " ".join(self.name.casefold().split())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "countries": list(self.countries),
            "government_of": self.government_of,
            "role": self.role,
            "path": self.path,
        }


#: Transaction types licenses and directives speak of. Free strings are allowed; these are the known ones.
TRANSACTION_TYPES = (
    "any",  # unspecified: judged as an ordinary dealing
    "payment",
    "wind-down",  # ordinarily incident and necessary to winding down pre-existing business
    "new-debt",
    "new-equity",
    "securities",  # purchase or sale of publicly traded securities
    "correspondent-account",  # opening/maintaining a correspondent or payable-through account
    "export",  # export / re-export / transfer of items subject to the EAR
    "humanitarian",
)


@dataclass(slots=True, frozen=True)
class Transaction:
    """What the party is being dealt with for. ``tenor_days`` applies to ``new-debt``."""

    type: str = "any"
    tenor_days: int | None = None
    issued: date | None = None  # issue date of the debt / equity (defaults to the decision time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "tenor_days": self.tenor_days,
            "issued": self.issued.isoformat() if self.issued else None,
        }


@dataclass(slots=True)
class PartyDecision:
    """The decision on one party at one moment, with every reason it rests on (strongest first)."""

    subject: Subject
    outcome: Outcome
    as_of: datetime
    transaction: Transaction
    reasons: list[Reason] = field(default_factory=list)
    list_versions: list[str] = field(
        default_factory=list
    )  # labels of the list versions screened and relied on

    @property
    def conditions(self) -> list[Condition]:
        """Conditions of the licenses the decision relies on (non-empty only when AUTHORIZED)."""
        out: list[Condition] = []
        for reason in self.reasons:
            if reason.license_id and reason.outcome is Outcome.AUTHORIZED:
                out.extend(c for c in reason.conditions if c not in out)
        return out

    @property
    def entity_ids(self) -> list[str]:
        out: list[str] = []
        for reason in self.reasons:
            if reason.entity_id and reason.entity_id not in out:
                out.append(reason.entity_id)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject.to_dict(),
            "outcome": self.outcome.value,
            "as_of": self.as_of.isoformat(),
            "transaction": self.transaction.to_dict(),
            "reasons": [r.to_dict() for r in self.reasons],
            "conditions": [c.to_dict() for c in self.conditions],
            "list_versions": list(self.list_versions),
        }


@dataclass(slots=True)
class MessageDecision:
    """A payment message's decision: the strongest party outcome, and every party's decision."""

    outcome: MessageOutcome
    parties: list[PartyDecision]
    reasons: list[Reason]  # the reasons of the parties that set the outcome, strongest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "parties": [p.to_dict() for p in self.parties],
        }
