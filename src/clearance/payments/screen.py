"""Screen a payment message: every party, agent, identifier, country and free-text item, then decide.

:class:`PaymentScreener` is the core the CLI (``clearance payments screen``) and the HTTP endpoint call:

1. :func:`parse_message` reads pacs.008, pain.001 or MT103 bytes; a message it cannot read completely
   is *rejected* (outcome REJECT, ``malformed``) with the reason and the element at fault, never passed.
2. Each :class:`~clearance.payments.model.Party` is screened by name with the matcher
   (:class:`~clearance.matching.screener.Screener`; agents as organisations) and by identifier
   *exactly*: a BIC against listed SWIFT/BIC codes (a listed 8-character BIC covers every branch), an
   IBAN, LEI or IMO number against the same identifiers on listed entities.
3. Each free-text item (remittance information, instructions for agents, MT103 fields 70/72/77B,
   unknown elements) is scanned for listed names written out in full (normalised token sequences) and
   for identifiers (valid IBAN, BIC, IMO) written inside it.
4. The policy layer (:func:`clearance.policy.decide.decide_party`) judges each party with its matches
   and its countries (address, BIC and IBAN countries), for the caller's transaction type, and
   :func:`~clearance.policy.decide.combine` folds the parties into the message decision: BLOCK (a
   blocked person has an interest), REJECT (prohibited, no blocked interest), HOLD (review), AUTHORIZED
   (a license applies) or PASS.

The transaction type (``payment`` by default; ``wind-down`` and the other
:data:`~clearance.policy.types.TRANSACTION_TYPES`) is what licenses authorize, so only the *caller*
states it: the bank's payment operations know a payment winds down a contract, a message cannot vouch
for it. ISO 20022 has no purpose or category-purpose code for wind-down, and a proprietary purpose,
an instruction or remittance line saying "wind down" is typed by whoever sent the message. Such a line
is recorded as a hint (:func:`transaction_hint`, shown in the decision as ``transaction.message_hint``)
and never changes the outcome. Which licenses a type meets, and when, is the policy layer's business
alone (:mod:`clearance.policy.licenses`).

A listed name or identifier found only in *free text* shows that a listed person is mentioned, not that
it has an interest in the funds: such a hit HOLDs the message for an analyst (its reasons say what the
party outcome would have been) rather than blocking it outright.

:func:`record` writes the consequences to the :class:`~clearance.ledger.Ledger`: one ``block`` entry per
blocked transaction, one ``reject`` entry per rejected one, and malformed messages with their reason.
An AUTHORIZED payment is recorded when a condition of its license says so
(``data/license_conditions.yaml``): GL 38's funds for a blocked party's benefit go to a blocked account,
a ``block`` entry naming the license, so the Report of Blocked Property falls due as for any block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import yaml

from clearance.errors import ParseError, QueryError
from clearance.ledger import Ledger, LedgerEntry
from clearance.matching.screener import MAX_NAME_LENGTH
from clearance.matching.types import Explanation, FeatureScore, Match, Query
from clearance.model import Entity
from clearance.payments import ids
from clearance.payments.iso20022 import detect_iso20022, parse_iso20022
from clearance.payments.model import FreeText, Party, Payment, TextKind
from clearance.payments.mt103 import detect_mt103, parse_mt103
from clearance.policy.decide import PolicyContext, combine, decide_party
from clearance.policy.licenses import EASTERN
from clearance.policy.types import (
    TRANSACTION_TYPES,
    Condition,
    MessageDecision,
    MessageOutcome,
    Outcome,
    PartyDecision,
    Reason,
    Subject,
)
from clearance.policy.types import Transaction as PolicyTransaction
from clearance.store.base import Store
from clearance.text.normalise import normalise_name

#: Properties of listed entities holding identifiers matched exactly, and the kind each holds.
IDENTIFIER_PROPERTIES: dict[str, str] = {
    "swiftBic": "bic",
    "leiCode": "lei",
    "imoNumber": "imo",
    "iban": "iban",
    "idNumber": "any",
    "registrationNumber": "any",
}
#: Listed names of a single token shorter than this are not looked for in free text (too ambiguous).
MIN_SINGLE_TOKEN_NAME = 4
#: Schemata whose one-word names are ordinary words ("SUMMIT", "HERO"): not looked for in free text
#: (their IMO numbers are, exactly).
WORDLIKE = frozenset({"Vessel", "Aircraft", "Airplane"})
#: Matches asked of the name screener per party.
MATCH_LIMIT = 5
#: Name screening results kept per screener (names, agents above all, repeat across messages).
NAME_CACHE_SIZE = 65536
#: The transaction type a message is judged as unless the caller states another.
DEFAULT_TRANSACTION = "payment"
#: What a free-text line must say to *hint* at a transaction type. Recorded with the decision, never
#: acted on: the caller's flag is what a license reads (see the module docstring).
HINT_PATTERNS: dict[str, re.Pattern[str]] = {
    "wind-down": re.compile(r"\bwind(?:ing)?[\s_-]*down\b|\bwinddown\b", re.IGNORECASE),
}
#: Free-text kinds a hint is read from: purpose (proprietary), instructions, remittance, MT103 70/72.
HINT_KINDS = frozenset(
    {
        TextKind.PURPOSE,
        TextKind.INSTRUCTION_FOR_AGENT,
        TextKind.REMITTANCE,
        TextKind.MT103_70,
        TextKind.MT103_72,
    }
)
#: What payment screening can do about a license condition (``data/license_conditions.yaml``).
CONSEQUENCES = ("blocked_account",)


def transaction_type(value: str | None) -> str:
    """``value`` checked against the policy layer's transaction types (``None``: the default)."""
    if value is None:
        return DEFAULT_TRANSACTION
    if value not in TRANSACTION_TYPES:
        raise QueryError(f"unknown transaction type {value!r}: one of {', '.join(TRANSACTION_TYPES)}")
    return value


@lru_cache(maxsize=1)
def condition_consequences() -> dict[str, str]:
    """License condition code -> what recording an AUTHORIZED payment does about it."""
    path = Path(str(resources.files("clearance") / "data" / "license_conditions.yaml"))
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ParseError("expected a mapping of condition code to consequence", path=path)
    for code, consequence in raw.items():
        if consequence not in CONSEQUENCES:
            raise ParseError(
                f"unknown consequence {consequence!r}: one of {', '.join(CONSEQUENCES)}",
                path=path,
                field=str(code),
            )
    return {str(k): str(v) for k, v in raw.items()}


@dataclass(slots=True, frozen=True)
class TransactionHint:
    """A free-text line of the message that reads like a transaction type. Recorded, not acted on."""

    type: str
    kind: str
    path: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "kind": self.kind,
            "path": self.path,
            "text": self.text,
            "authorizes": False,
        }


def transaction_hint(payment: Payment) -> TransactionHint | None:
    """The first purpose, instruction or remittance line that names a transaction type, if any."""
    for item in payment.free_text:
        if item.kind not in HINT_KINDS:
            continue
        for type_, pattern in HINT_PATTERNS.items():
            if pattern.search(item.text):
                return TransactionHint(type_, item.kind.value, item.path, item.text[:140])
    return None


class NameScreener(Protocol):
    """What payment screening needs of the matcher (``clearance.matching.screener.Screener``)."""

    def screen(self, query: Query, limit: int = ..., *, explain: bool = ...) -> list[Match]: ...

    def explain(self, query: Query, matches: Sequence[Match]) -> list[Match]: ...


@dataclass(slots=True, frozen=True)
class ListedRef:
    entity_id: str
    caption: str
    schema: str
    list_version: str
    prop: str
    value: str


class ListedIdentifiers:
    """Exact lookups over listed entities: identifiers (BIC, IBAN, LEI, IMO) and full names in text."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], list[ListedRef]] = {}
        # listed names by first token, in the order added; and, to look a phrase up without walking
        # the bucket (2,000 names start with "al"), bucket positions by first token, length and phrase
        self.phrases: dict[str, list[tuple[tuple[str, ...], ListedRef]]] = {}
        self._phrase_at: dict[str, dict[int, dict[tuple[str, ...], list[int]]]] = {}
        self.max_phrase = 0

    @classmethod
    def from_entities(cls, pairs: Iterable[tuple[Entity, str]]) -> ListedIdentifiers:
        """From ``(entity, list version label)`` pairs."""
        out = cls()
        for entity, label in pairs:
            out.add(entity, label)
        return out

    @classmethod
    def from_store(cls, store: Store, lists: Sequence[str] | None = None) -> ListedIdentifiers:
        """Over every version of ``lists`` (all lists): the policy layer decides which was in force."""
        pairs = (
            (entity, version.label)
            for name in (lists if lists is not None else store.lists())
            for version in store.versions(name)
            for entity in store.entities(version.id)
        )
        return cls.from_entities(pairs)

    def add(self, entity: Entity, label: str) -> None:
        for prop, kind in IDENTIFIER_PROPERTIES.items():
            for value in entity.get(prop):
                for key in _identifier_keys(kind, value):
                    ref = ListedRef(entity.id, entity.caption, entity.schema, label, prop, value)
                    refs = self.ids.setdefault(key, [])
                    if all(r.entity_id != ref.entity_id for r in refs):
                        refs.append(ref)
        for prop in ("name", "alias", "previousName", "weakAlias"):
            for name in entity.get(prop):
                tokens = tuple(normalise_name(name).split())
                if not tokens:
                    continue
                if len(tokens) == 1 and (
                    prop == "weakAlias" or len(tokens[0]) < MIN_SINGLE_TOKEN_NAME or entity.schema in WORDLIKE
                ):
                    continue
                ref = ListedRef(entity.id, entity.caption, entity.schema, label, prop, name)
                bucket = self.phrases.setdefault(tokens[0], [])
                at = (
                    self._phrase_at.setdefault(tokens[0], {})
                    .setdefault(len(tokens), {})
                    .setdefault(tokens, [])
                )
                if not any(bucket[k][1].entity_id == ref.entity_id for k in at):
                    at.append(len(bucket))
                    bucket.append((tokens, ref))
                self.max_phrase = max(self.max_phrase, len(tokens))

    def by_identifier(self, kind: str, value: str) -> list[tuple[ListedRef, str]]:
        """Listed entities holding ``value`` (of ``kind``: bic, iban, lei, imo), with how it matched."""
        out: list[tuple[ListedRef, str]] = []
        code = ids.compact(value)
        keys: list[tuple[tuple[str, str], str]] = []
        if kind == "bic":
            keys.append((("bic", code), f"BIC {code} is listed"))
            if len(code) == 11:
                keys.append((("bic", code[:8]), f"BIC {code} is a branch of the listed BIC {code[:8]}"))
        elif kind == "imo":
            keys.append((("imo", ids.imo_compact(value)), f"IMO {value} is listed"))
        else:
            keys.append(((kind, code), f"{kind.upper()} {code} is listed"))
        seen: set[str] = set()
        for key, how in keys:
            for ref in self.ids.get(key, []):
                if ref.entity_id not in seen:
                    seen.add(ref.entity_id)
                    out.append((ref, how))
        return out

    def names_in(self, text: str) -> list[tuple[ListedRef, str]]:
        """Listed names written out in ``text`` (whole normalised tokens), with the words found."""
        tokens = normalise_name(text).split()
        out: list[tuple[ListedRef, str]] = []
        seen: set[str] = set()
        for i, token in enumerate(tokens):
            lengths = self._phrase_at.get(token)
            if not lengths:
                continue
            found: list[int] = []
            for size, at in lengths.items():
                if i + size <= len(tokens) and (hits := at.get(tuple(tokens[i : i + size]))):
                    found.extend(hits)
            bucket = self.phrases[token]
            for k in sorted(found):  # in the order the names were added, as a walk of the bucket finds them
                phrase, ref = bucket[k]
                if ref.entity_id not in seen:
                    seen.add(ref.entity_id)
                    out.append((ref, " ".join(phrase)))
        return out


def _identifier_keys(kind: str, value: str) -> list[tuple[str, str]]:
    """The lookup keys a listed identifier value is filed under (only well-formed ones)."""
    code = ids.compact(value)
    keys: list[tuple[str, str]] = []
    # an id number of another kind is taken for a BIC only when it has a BIC's location digits or XXX
    bic_like = kind == "bic" or any(c.isdigit() for c in code[6:]) or code.endswith("XXX")
    if kind in ("bic", "any") and bic_like and ids.bic_problem(code) is None:
        keys.append(("bic", code[:8] if code.endswith("XXX") and len(code) == 11 else code))
    if kind in ("iban", "any") and ids.iban_problem(code) is None:
        keys.append(("iban", code))
    if kind in ("lei", "any") and len(code) == 20 and ids.lei_problem(code) is None:
        keys.append(("lei", code))
    if kind in ("imo", "any") and ids.imo_problem(value) is None:
        keys.append(("imo", ids.imo_compact(value)))
    return keys


def _certain_match(ref: ListedRef, explanation: Explanation) -> Match:
    """``ref``'s entity as a certain match (score 1), for an exact identifier or a listed name in text."""
    return Match(
        entity_id=ref.entity_id,
        score=1.0,
        match=True,
        name=ref.caption,
        schema=ref.schema,
        list_version=ref.list_version,
        explanation=explanation,
    )


def _id_match(ref: ListedRef, query_value: str, how: str) -> Match:
    feature = FeatureScore("identifier_exact", 1.0, 1.0, how)
    return _certain_match(ref, Explanation(query_value, ref.value, [], [feature]))


def _text_match(ref: ListedRef, text: str, words: str) -> Match:
    feature = FeatureScore(
        "name_in_free_text", 1.0, 1.0, f"the listed {ref.prop} {ref.value!r} is written in the text"
    )
    return _certain_match(ref, Explanation(text, ref.value, [(words, words, 1.0)], [feature]))


# -- results -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Rejection:
    """Why a message was refused unread: the reason and the element (``field``) and line at fault."""

    reason: str
    field: str | None = None
    line: int | None = None
    source: str | None = None

    @classmethod
    def of(cls, error: ParseError) -> Rejection:
        return cls(reason=error.reason, field=error.field, line=error.line, source=error.path)

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "field": self.field, "line": self.line, "source": self.source}


@dataclass(slots=True)
class Authorization:
    """A license an AUTHORIZED party decision rests on: its window, its conditions and what they cause."""

    license_id: str
    title: str
    window: str
    valid_from: str | None
    valid_until: str | None
    conditions: list[Condition]
    parties: list[str] = field(default_factory=list)  # reason.party of each party it authorizes
    entities: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        table = condition_consequences()
        return {
            "license_id": self.license_id,
            "title": self.title,
            "window": self.window,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "conditions": [{**c.to_dict(), "consequence": table.get(c.code)} for c in self.conditions],
            "parties": list(self.parties),
            "entities": list(self.entities),
        }


@dataclass(slots=True)
class PaymentDecision:
    """The decision on one message: its outcome, the parsed payment and the policy's reasons.

    ``malformed`` is set (and ``payment`` is ``None``) when the message was refused unread.
    ``transaction`` is the type the message was judged as (the caller's); ``hint`` a line of the message
    that reads like one (recorded only); ``authorizations`` the licenses AUTHORIZED reasons rest on.
    """

    outcome: MessageOutcome
    as_of: datetime
    payment: Payment | None = None
    decision: MessageDecision | None = None
    malformed: Rejection | None = None
    raw: bytes = b""
    party_of: dict[int, Party] = field(default_factory=dict)  # id(PartyDecision) -> party screened
    transaction: str = DEFAULT_TRANSACTION
    hint: TransactionHint | None = None
    authorizations: list[Authorization] = field(default_factory=list)

    @property
    def reasons(self) -> list[Reason]:
        return self.decision.reasons if self.decision else []

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "outcome": self.outcome.value,
            "as_of": self.as_of.isoformat(),
            "message_id": self.payment.message_id if self.payment else None,
            "kind": self.payment.kind.value if self.payment else None,
            "source": self.payment.source
            if self.payment
            else (self.malformed.source if self.malformed else None),
            "transaction": {
                "type": self.transaction,
                "message_hint": self.hint.to_dict() if self.hint else None,
            },
        }
        if self.malformed is not None:
            data["malformed"] = self.malformed.to_dict()
            data["reasons"] = [
                {
                    "code": "malformed",
                    "outcome": "REJECT",
                    "message": self.malformed.reason,
                    "party": self.malformed.field,
                }
            ]
            return data
        assert self.payment is not None and self.decision is not None
        data["amount"] = str(self.payment.amount)
        data["currency"] = self.payment.currency
        data["reasons"] = [r.to_dict() for r in self.decision.reasons]
        data["authorizations"] = [a.to_dict() for a in self.authorizations]
        data["parties"] = [d.to_dict() for d in self.decision.parties]
        data["payment"] = self.payment.to_dict()
        return data


# -- parsing -----------------------------------------------------------------------------------------


def parse_message(data: bytes, *, source: str | None = None) -> Payment:
    """pacs.008 / pain.001 XML or MT103, recognised from the first bytes."""
    if detect_mt103(data):
        return parse_mt103(data, source=source)
    if detect_iso20022(data):
        return parse_iso20022(data, source=source)
    raise ParseError(
        "not a payment message: expected ISO 20022 XML (pacs.008, pain.001) or an MT103 starting '{1:'",
        path=source,
    )


# -- screening ---------------------------------------------------------------------------------------


class PaymentScreener:
    """Screens payments with a name screener, exact identifier lookups and the policy layer."""

    def __init__(self, screener: NameScreener, context: PolicyContext, listed: ListedIdentifiers) -> None:
        self.screener = screener
        self.context = context
        self.listed = listed
        # The results depend only on the (immutable) index behind ``screener``: a new index means a new
        # PaymentScreener, so the cache never outlives the lists it was computed from.
        self._screen_name = lru_cache(maxsize=NAME_CACHE_SIZE)(self._screen_name_uncached)

    def _screen_name_uncached(self, name: str, schema: str, country: str | None) -> tuple[Match, ...]:
        """The name's best matches; only those at or above the screener's threshold (the ones the policy
        judges, :func:`~clearance.policy.decide.decide_party` reads ``match``) are explained. Near misses
        come back unexplained: they name the list versions screened and nothing else."""
        query = Query(name=name, schema=schema, country=country)
        found = self.screener.screen(query, MATCH_LIMIT, explain=False)
        hits = [i for i, m in enumerate(found) if m.match]
        if hits:
            for i, explained in zip(hits, self.screener.explain(query, [found[i] for i in hits])):
                found[i] = explained
        return tuple(found)

    @classmethod
    def from_store(cls, store: Store, settings: Any) -> PaymentScreener:
        """Over every list in ``store`` with the policy tables in ``settings.database_path``."""
        from clearance.matching.screener import Screener

        return cls(
            Screener.from_store(store, settings),
            PolicyContext.open(store, settings.database_path),
            ListedIdentifiers.from_store(store),
        )

    def screen_bytes(
        self,
        data: bytes,
        *,
        source: str | None = None,
        as_of: datetime | None = None,
        transaction: str | None = None,
    ) -> PaymentDecision:
        """Parse and screen one message; a malformed one comes back REJECT with the element at fault.

        ``transaction`` is the caller's statement of what the payment is for (default ``payment``); an
        unknown type raises :class:`~clearance.errors.QueryError` before the message is read.
        """
        at = as_of or datetime.now(EASTERN)
        tx_type = transaction_type(transaction)
        try:
            payment = parse_message(data, source=source)
            return self.screen(payment, as_of=at, transaction=tx_type)
        except ParseError as exc:
            return PaymentDecision(
                outcome=MessageOutcome.REJECT,
                as_of=at,
                malformed=Rejection.of(exc),
                raw=data,
                transaction=tx_type,
            )

    def screen(
        self, payment: Payment, *, as_of: datetime | None = None, transaction: str | None = None
    ) -> PaymentDecision:
        """Decide ``payment`` at ``as_of`` (default: now; naive times are US Eastern) as a ``transaction``
        of the given type (default ``payment``; ``wind-down`` is what a wind-down license authorizes).
        Only this argument sets the type: what the message itself says is recorded as a hint."""
        at = as_of or datetime.now(EASTERN)
        tx_type = transaction_type(transaction)
        tx = PolicyTransaction(type=tx_type)
        decisions: list[PartyDecision] = []
        party_of: dict[int, Party] = {}
        names: dict[tuple[str, str, str | None], tuple[Match, ...]] = {}
        for party in payment.parties:
            matches = self._party_matches(party, names)
            subject = Subject(
                name=party.name or party.bic or party.iban or party.account or party.lei or party.path,
                countries=party.countries,
                role=party.role.value,
                path=party.path,
            )
            decision = decide_party(subject, matches, as_of=at, context=self.context, transaction=tx)
            decisions.append(decision)
            party_of[id(decision)] = party
        texts: dict[str, list[Match]] = {}
        for item in payment.free_text:
            found = texts.get(item.text)
            matches = found if found is not None else texts.setdefault(item.text, self._text_matches(item))
            if not matches:
                continue
            subject = Subject(name=item.text[:140], role=f"free_text:{item.kind.value}", path=item.path)
            decision = decide_party(subject, matches, as_of=at, context=self.context, transaction=tx)
            _cap_free_text(decision, item)
            decisions.append(decision)
        combined = combine(decisions)
        return PaymentDecision(
            outcome=combined.outcome,
            as_of=at,
            payment=payment,
            decision=combined,
            raw=payment.raw,
            party_of=party_of,
            transaction=tx_type,
            hint=transaction_hint(payment),
            authorizations=self._authorizations(combined),
        )

    def _authorizations(self, decision: MessageDecision) -> list[Authorization]:
        """The licenses the AUTHORIZED reasons rest on, as the policy layer's license book states them."""
        out: dict[str, Authorization] = {}
        for reason in decision.reasons:
            if reason.outcome is not Outcome.AUTHORIZED or not reason.license_id:
                continue
            found = out.get(reason.license_id)
            if found is None:
                lic = self.context.licenses.get(reason.license_id)
                found = out[reason.license_id] = Authorization(
                    license_id=reason.license_id,
                    title=lic.title if lic else reason.license_id,
                    window=lic.window_text() if lic else str(reason.details.get("license_window", "")),
                    valid_from=lic.starts.isoformat() if lic and lic.starts else None,
                    valid_until=lic.ends.isoformat() if lic and lic.ends else None,
                    conditions=list(lic.conditions if lic else reason.conditions),
                )
            if reason.party and reason.party not in found.parties:
                found.parties.append(reason.party)
            if reason.entity_id and reason.entity_id not in found.entities:
                found.entities.append(reason.entity_id)
        return list(out.values())

    def _party_matches(
        self, party: Party, names: dict[tuple[str, str, str | None], tuple[Match, ...]]
    ) -> list[Match]:
        """Identifier and name matches of one party; ``names`` holds the message's names screened so far."""
        matches: list[Match] = []
        seen: set[str] = set()
        for kind, value in (("bic", party.bic), ("iban", party.iban), ("lei", party.lei)):
            if value:
                for ref, how in self.listed.by_identifier(kind, value):
                    if ref.entity_id not in seen:
                        seen.add(ref.entity_id)
                        matches.append(_id_match(ref, value, how))
        for ident in party.other_ids:
            if ident.scheme.upper() in ("IMO", "IMO_NUMBER") and ids.imo_problem(ident.value) is None:
                for ref, how in self.listed.by_identifier("imo", ident.value):
                    if ref.entity_id not in seen:
                        seen.add(ref.entity_id)
                        matches.append(_id_match(ref, ident.value, how))
        if party.name:
            schema = "Organization" if party.is_agent else "Thing"
            try:
                found = self._name_matches(party.name, schema, party.country, names)
            except QueryError as exc:
                raise ParseError(
                    f"the name {party.name!r} cannot be screened: {exc}", field=party.path
                ) from None
            matches.extend(m for m in found if m.entity_id not in seen)
        return matches

    def _name_matches(
        self,
        name: str,
        schema: str,
        country: str | None,
        names: dict[tuple[str, str, str | None], tuple[Match, ...]],
    ) -> tuple[Match, ...]:
        """The name's matches; another spelling of a name already screened in this message (see
        :func:`_spelling_key`) reuses its results unless they hold a match, which is screened as written
        so that its explanation quotes this party's own spelling."""
        spelling = _spelling_key(name)
        key = (spelling, schema, country) if spelling is not None else None
        before = names.get(key) if key is not None else None
        if before is not None and not any(m.match for m in before):
            if before and before[0].explanation.query_name != name:
                return tuple(replace(m, explanation=replace(m.explanation, query_name=name)) for m in before)
            return before
        found = self._screen_name(name, schema, country)
        if key is not None:
            names.setdefault(key, found)
        return found

    def _text_matches(self, item: FreeText) -> list[Match]:
        matches: list[Match] = []
        seen: set[str] = set()
        for ref, words in self.listed.names_in(item.text):
            seen.add(ref.entity_id)
            matches.append(_text_match(ref, item.text, words))
        for kind, value in ids.ids_in_text(item.text):
            for ref, how in self.listed.by_identifier(kind, value):
                if ref.entity_id not in seen:
                    seen.add(ref.entity_id)
                    matches.append(_id_match(ref, value, f"{how} (written in the text)"))
        return matches


def _spelling_key(name: str) -> str | None:
    """What spellings of a name the matcher cannot tell apart share: an ASCII name in lower case with
    its spaces collapsed (the matcher folds case and collapses spaces before anything else). Names in
    other scripts are transliterated by rules that read them as written: ``None``, no sharing."""
    if not name.isascii() or len(name) > MAX_NAME_LENGTH:
        return None
    return " ".join(name.lower().split())


def _cap_free_text(decision: PartyDecision, item: FreeText) -> None:
    """A listed person named in free text HOLDs the message for review; it does not block by itself."""
    if decision.outcome.rank <= Outcome.REVIEW.rank and decision.outcome is not Outcome.AUTHORIZED:
        return
    for reason in decision.reasons:
        if reason.outcome is not Outcome.CLEAR and reason.outcome.rank != Outcome.REVIEW.rank:
            reason.details["outcome_if_party"] = reason.outcome.value
            reason.outcome = Outcome.REVIEW
            reason.message += (
                f" — named in {item.kind.value} ({item.path}): an analyst decides whether a listed person"
                " has an interest in the funds"
            )
    decision.outcome = Outcome.REVIEW


# -- consequences ------------------------------------------------------------------------------------


def record(result: PaymentDecision, ledger: Ledger) -> list[LedgerEntry]:
    """Write a decision's consequences to the ledger: blocked funds, rejected transactions, bad input.

    One ``block`` (or ``reject``) entry per transaction affected: the transaction a blocking party
    belongs to, or every transaction when the party is at message level. Other blocked interests in the
    same transaction are listed in the entry's details, not counted twice.

    An AUTHORIZED message gets a ``block`` entry for each transaction whose funds go to a party the
    license covers (a party on the receiving side) when a condition of that license sends them to a
    blocked account (``data/license_conditions.yaml``, e.g. GL 38); the entry names the license and the
    condition, and its Report of Blocked Property falls due as for any block.
    """
    if result.malformed is not None:
        m = result.malformed
        ledger.record_malformed(result.raw, reason=m.reason, source=m.source, field=m.field, line=m.line)
        return []
    if result.payment is None or result.decision is None:
        return []
    if result.outcome is MessageOutcome.AUTHORIZED:
        wanted = Outcome.AUTHORIZED
    elif result.outcome in (MessageOutcome.BLOCK, MessageOutcome.REJECT):
        wanted = Outcome.BLOCK if result.outcome is MessageOutcome.BLOCK else Outcome.REJECT
    else:
        return []
    payment = result.payment
    per_tx: dict[int, list[tuple[Reason, Party | None, PartyDecision]]] = {}
    for decision in result.decision.parties:
        if decision.outcome is not wanted:
            continue
        party = result.party_of.get(id(decision))
        if wanted is Outcome.AUTHORIZED and (party is None or not party.role.receives_funds):
            continue
        tx_indexes = (
            [party.transaction]
            if party is not None and party.transaction is not None
            else [t.index for t in payment.transactions]
        )
        for reason in decision.reasons:
            if reason.outcome is not wanted:
                continue
            if wanted is Outcome.AUTHORIZED and not _blocked_account_conditions(reason):
                continue
            for index in tx_indexes:
                per_tx.setdefault(index, []).append((reason, party, decision))
    entries: list[LedgerEntry] = []
    for tx in payment.transactions:
        found = per_tx.get(tx.index)
        if not found:
            continue
        reason, party, decision = found[0]
        programs = sorted({p for r, _, _ in found for p in r.programs})
        details: dict[str, Any] = {
            "transaction": tx.to_dict(),
            "transaction_type": result.transaction,
            "party": party.to_dict() if party else decision.subject.to_dict(),
            "reasons": [r.to_dict() for r, _, _ in found],
            "interests": sorted({r.entity_id or r.message for r, _, _ in found}),
            "originator": _first_name(payment, ("debtor", "ordering_customer")),
            "beneficiary": _first_name(payment, ("creditor", "beneficiary")),
            "value_date": payment.settlement_date.isoformat() if payment.settlement_date else None,
        }
        if wanted is Outcome.AUTHORIZED:
            details["authorized_by"] = sorted({r.license_id for r, _, _ in found if r.license_id})
            details["blocked_account_conditions"] = [c.to_dict() for c in _blocked_account_conditions(reason)]
        common: dict[str, Any] = {
            "owner": reason.entity_name or decision.subject.name,
            "owner_entity_id": reason.entity_id,
            "programs": programs,
            "amount": tx.amount,
            "currency": tx.currency,
            "message_id": payment.message_id,
            "message_kind": payment.kind.value,
            "raw_message": payment.raw or None,
            "details": details,
        }
        day = result.as_of.date()
        if wanted is Outcome.REJECT:
            entries.append(ledger.reject(rejected_on=day, **common))
        else:
            entries.append(ledger.block(blocked_on=day, **common))
    return entries


def _blocked_account_conditions(reason: Reason) -> list[Condition]:
    """The conditions of the license behind ``reason`` that send the funds to a blocked account."""
    table = condition_consequences()
    return [c for c in reason.conditions if table.get(c.code) == "blocked_account"]


def _first_name(payment: Payment, roles: Sequence[str]) -> str | None:
    for party in payment.parties:
        if party.role.value in roles and party.name:
            return party.name
    return None


__all__ = [
    "DEFAULT_TRANSACTION",
    "Authorization",
    "ListedIdentifiers",
    "NameScreener",
    "PaymentDecision",
    "PaymentScreener",
    "Rejection",
    "TransactionHint",
    "parse_message",
    "record",
    "transaction_hint",
    "transaction_type",
]
