"""Turn screening matches into decisions: CLEAR, REVIEW, BLOCK, REJECT or AUTHORIZED, with reasons.

:func:`decide_party` judges one party (customer, counterparty, payment party) at one moment:

1. each accepted match is re-read from the list version in force on that day (US Eastern), so a match
   against an entity not yet listed (or no longer listed) counts for nothing, and the version is named;
2. a valid good-guy decision for the (party, entity) pair suppresses that match alone;
3. every program the entity is listed under says what the listing means for the transaction
   (:meth:`~clearance.policy.programs.Program.judge`);
4. the 50% rule runs over the imported ownership links, for the party and the matched entities;
5. country and government programs apply by the party's location and government ownership;
6. a license valid at that moment (in its own time zone) for the target, program and transaction type
   turns a BLOCK or REJECT into AUTHORIZED, with the license's conditions.

The strongest outcome wins (BLOCK > REJECT > REVIEW > AUTHORIZED > CLEAR). :func:`combine` folds the
decisions on a message's parties into one :class:`~clearance.policy.types.MessageDecision`
(BLOCK > REJECT > HOLD > AUTHORIZED > PASS).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from clearance.matching.types import Match
from clearance.model import Entity
from clearance.policy.goodguy import GoodGuy, GoodGuyBook
from clearance.policy.licenses import License, LicenseBook, aware, bundled_licenses, eastern_day
from clearance.policy.ownership import OwnershipGraph, OwnershipLink, OwnershipResult
from clearance.policy.programs import Effect, Program, ProgramBook, load_programs
from clearance.policy.types import (
    MessageDecision,
    MessageOutcome,
    Outcome,
    PartyDecision,
    Reason,
    ReasonCode,
    Subject,
    Transaction,
    strongest,
)
from clearance.store.base import ListVersion, Store

__all__ = ["PolicyContext", "combine", "decide_message", "decide_party", "ownership_of"]


@dataclass(slots=True)
class PolicyContext:
    """Everything a decision reads: the list store, programs, licenses, ownership and good guys.

    ``min_block_score``: matches the screener accepted with a score below it are routed to REVIEW
    instead of BLOCK / REJECT (0 keeps the screener's verdict decisive).
    """

    store: Store
    programs: ProgramBook = field(default_factory=load_programs)
    licenses: LicenseBook = field(default_factory=lambda: LicenseBook(bundled_licenses()))
    ownership: OwnershipGraph = field(default_factory=OwnershipGraph)
    good_guys: GoodGuyBook = field(default_factory=GoodGuyBook)
    min_block_score: float = 0.0
    _versions: dict[tuple[str, date], ListVersion | None] = field(default_factory=dict, repr=False)
    _entities: dict[tuple[str, int], Entity | None] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        store: Store,
        *,
        licenses: Iterable[License] = (),
        links: Iterable[OwnershipLink] = (),
        good_guys: Iterable[GoodGuy] = (),
        bundled: bool = True,
        programs: ProgramBook | None = None,
        min_block_score: float = 0.0,
    ) -> PolicyContext:
        """A context over ``store`` with the bundled licenses (unless ``bundled=False``) plus those given."""
        book = LicenseBook([*(bundled_licenses() if bundled else ()), *licenses])
        return cls(
            store=store,
            programs=programs or load_programs(),
            licenses=book,
            ownership=OwnershipGraph(links),
            good_guys=GoodGuyBook(good_guys),
            min_block_score=min_block_score,
        )

    @classmethod
    def open(cls, store: Store, database_path: str | Path, *, min_block_score: float = 0.0) -> PolicyContext:
        """A context reading licenses, ownership links and good guys from the policy tables."""
        from clearance.policy.storage import PolicyStore

        policy = PolicyStore(database_path)
        try:
            return cls.build(
                store,
                licenses=policy.licenses(),
                links=policy.links(),
                good_guys=policy.good_guys(),
                min_block_score=min_block_score,
            )
        finally:
            policy.close()

    def version(self, list_name: str, day: date) -> ListVersion | None:
        key = (list_name, day)
        if key not in self._versions:
            self._versions[key] = self.store.active_version(list_name, day)
        return self._versions[key]

    def listed(self, entity_id: str, day: date) -> tuple[Entity, ListVersion] | None:
        """The entity as the version of its list in force on ``day`` states it (None: not listed then)."""
        if ":" not in entity_id:
            return None
        version = self.version(entity_id.split(":", 1)[0], day)
        if version is None:
            return None
        key = (entity_id, version.id)
        if key not in self._entities:
            self._entities[key] = self.store.entity(entity_id, version.id)
        entity = self._entities[key]
        return (entity, version) if entity is not None else None

    def blocking_programs(self, entity_id: str, day: date) -> list[Program]:
        """The blocking programs in force on ``day`` the entity is listed under (empty: not blocked)."""
        found = self.listed(entity_id, day)
        if found is None:
            return []
        return [p for p in self.programs.of_entity(found[0]) if p.blocking and p.in_force(day)]


# -- one party ---------------------------------------------------------------------------------------


def decide_party(
    subject: Subject,
    matches: Sequence[Match],
    *,
    as_of: datetime,
    context: PolicyContext,
    transaction: Transaction | None = None,
) -> PartyDecision:
    """The decision on ``subject`` at ``as_of`` (naive: US Eastern) given its screening ``matches``.

    Only matches with ``match=True`` count; ``transaction`` (default: an unspecified dealing) decides
    what sectoral directives and licenses make of a listing.
    """
    at = aware(as_of)
    day = eastern_day(at)
    tx = transaction or Transaction()
    reasons: list[Reason] = []
    versions: list[str] = []
    matched: list[str] = []

    for match in matches:
        if match.list_version and match.list_version not in versions:
            versions.append(match.list_version)  # what the screener screened against
        if not match.match:
            continue
        found = context.listed(match.entity_id, day)
        if found is None:
            version = context.version(match.entity_id.split(":", 1)[0], day)
            reasons.append(
                Reason(
                    ReasonCode.NOT_LISTED_AS_OF,
                    Outcome.CLEAR,
                    f"{match.entity_id} ({match.name}) is not in the list version in force on {day}"
                    + (f" ({version.label})" if version else " (no version of its list was in force)"),
                    entity_id=match.entity_id,
                    entity_name=match.name,
                    list_version=version.label if version else None,
                    score=match.score,
                    details={"matched_version": match.list_version},
                )
            )
            continue
        entity, version = found
        _note_version(versions, version)
        cleared, notes = _good_guy(subject, entity, version, at, context)
        reasons.extend(notes)
        if cleared:
            continue
        matched.append(entity.id)
        for program in context.programs.of_entity(entity):
            reasons.extend(_listing_reasons(subject, match, entity, version, program, tx, at, day, context))

    # the 50% rule, for the party itself and for every listed entity it matched
    directly_blocked = {
        r.entity_id for r in reasons if r.code is ReasonCode.LISTED and r.details.get("blocking")
    }
    for key in [subject.key, *matched]:
        if key in directly_blocked:
            continue
        reasons.extend(_ownership_reasons(subject, key, tx, at, day, context))

    for entry in context.programs.for_location(subject.countries, subject.government_of, day):
        target = f"country:{entry.program}"
        reason = Reason(
            ReasonCode.COUNTRY,
            entry.outcome(),
            f"{entry.name} ({entry.program}, {entry.basis}) applies to a party "
            + (
                "owned or controlled by that government"
                if entry.applies_to == "government"
                else "located there"
            ),
            programs=[entry.program],
            details={"countries": sorted(entry.codes), "applies_to": entry.applies_to},
        )
        reasons.append(reason)
        if reason.outcome in (Outcome.BLOCK, Outcome.REJECT):
            reasons.extend(
                _apply_licenses(reason, [(target, [entry.program])], False, subject, tx, at, context)
            )

    for reason in reasons:
        reason.party = reason.party or subject.path or subject.role or subject.key
    reasons.sort(key=lambda r: -r.outcome.rank)
    return PartyDecision(
        subject=subject,
        outcome=strongest([r.outcome for r in reasons]),
        as_of=at,
        transaction=tx,
        reasons=reasons,
        list_versions=versions,
    )


def _note_version(versions: list[str], version: ListVersion) -> None:
    if version.label not in versions:
        versions.append(version.label)


def _good_guy(
    subject: Subject, entity: Entity, version: ListVersion, at: datetime, context: PolicyContext
) -> tuple[bool, list[Reason]]:
    """Whether a valid good-guy decision clears this match, and the reason(s) to record either way."""
    decisions = context.good_guys.find(subject.key, entity.id)
    if not decisions:
        return False, []
    current = entity.content_hash()
    for decision in decisions:
        status = decision.status(at, current)
        if status == "valid":
            return True, [
                Reason(
                    ReasonCode.GOOD_GUY,
                    Outcome.CLEAR,
                    f"{decision.analyst} cleared {subject.key} as not {entity.id} ({entity.caption})"
                    f" until {decision.expires_at:%Y-%m-%d %H:%M %Z}: {decision.note}",
                    entity_id=entity.id,
                    entity_name=entity.caption,
                    list_version=version.label,
                    details={"good_guy_id": decision.id, "expires_at": decision.expires_at.isoformat()},
                )
            ]
    newest = decisions[0]
    status = newest.status(at, current)
    return False, [
        Reason(
            ReasonCode.GOOD_GUY_INVALIDATED,
            Outcome.CLEAR,
            f"the good-guy decision #{newest.id} for {entity.id} no longer applies ({status});"
            " the match is judged afresh",
            entity_id=entity.id,
            entity_name=entity.caption,
            list_version=version.label,
            details={"good_guy_id": newest.id, "status": status},
        )
    ]


def _listing_reasons(
    subject: Subject,
    match: Match,
    entity: Entity,
    version: ListVersion,
    program: Program,
    tx: Transaction,
    at: datetime,
    day: date,
    context: PolicyContext,
) -> list[Reason]:
    if not program.in_force(day):
        return [
            Reason(
                ReasonCode.PROGRAM_NOT_IN_FORCE,
                Outcome.REVIEW,
                f"listed under {program.tag}, whose measures take effect on {program.effective}",
                entity_id=entity.id,
                entity_name=entity.caption,
                programs=[program.tag],
                list_version=version.label,
                score=match.score,
            )
        ]
    judgement = program.judge(tx, day, entity)
    code = judgement.code if program.defined else ReasonCode.UNKNOWN_PROGRAM
    reason = Reason(
        code,
        judgement.outcome,
        f"{entity.caption} ({entity.id}): {judgement.message}",
        entity_id=entity.id,
        entity_name=entity.caption,
        programs=[program.tag],
        list_version=version.label,
        score=match.score,
        details={"effect": program.effect.value, "blocking": program.blocking, "matched_name": match.name},
    )
    if judgement.directive:
        reason.details["directive"] = judgement.directive
    if reason.outcome in (Outcome.BLOCK, Outcome.REJECT) and match.score < context.min_block_score:
        reason.details["prohibited"] = reason.outcome.value
        reason.code, reason.outcome = ReasonCode.WEAK_MATCH, Outcome.REVIEW
        reason.message += f"; match score {match.score:.2f} is below {context.min_block_score:.2f}: review"
        return [reason]
    if reason.outcome in (Outcome.BLOCK, Outcome.REJECT):
        return [
            reason,
            *_apply_licenses(reason, [(entity.id, [program.tag])], False, subject, tx, at, context),
        ]
    return [reason]


def ownership_of(entity_id: str, day: date, context: PolicyContext) -> OwnershipResult:
    """The 50% rule for ``entity_id`` on ``day``: blocked persons are those the list versions in force
    that day list under a blocking program in force."""
    cache: dict[str, bool] = {}

    def is_blocked(node: str) -> bool:
        if node not in cache:
            cache[node] = bool(context.blocking_programs(node, day))
        return cache[node]

    return context.ownership.evaluate(entity_id, day, is_blocked)


def _ownership_reasons(
    subject: Subject, key: str, tx: Transaction, at: datetime, day: date, context: PolicyContext
) -> list[Reason]:
    out = _sectoral_ownership_reasons(subject, key, tx, at, day, context)
    result = ownership_of(key, day, context)
    if not (result.blocked or result.review):
        return out
    roots = [(root, [p.tag for p in context.blocking_programs(root, day)]) for root in result.roots]
    versions = []
    for root, _ in roots:
        found = context.listed(root, day)
        if found is not None and found[1].label not in versions:
            versions.append(found[1].label)
    who = key if key == subject.key else f"{key}, which the party matched,"
    chain = "; ".join(
        " -> ".join(f"{s.owner} {s.percentage:g}% of {s.asset}" for s in path) for path in result.paths
    )
    reason = Reason(
        ReasonCode.OWNERSHIP,
        Outcome.BLOCK if result.blocked else Outcome.REVIEW,
        (
            f"{who} is {result.share:g}% owned, directly or indirectly, by blocked persons"
            + (
                " (50% rule: blocked though not listed)"
                if result.blocked
                else " (25-49%: review for control)"
            )
            + f": {chain}"
        ),
        entity_id=key if key != subject.key else (result.roots[0] if result.roots else None),
        programs=sorted({tag for _, tags in roots for tag in tags}),
        list_version=", ".join(versions) or None,
        ownership_paths=result.paths,
        ownership_share=result.share,
        details={"owned_entity": key, "roots": result.roots},
    )
    if result.blocked:
        return [reason, *_apply_licenses(reason, roots, True, subject, tx, at, context), *out]
    return [reason, *out]


def _sectoral_ownership_reasons(
    subject: Subject, key: str, tx: Transaction, at: datetime, day: date, context: PolicyContext
) -> list[Reason]:
    """The 50% rule for sectoral directives: an entity 50% or more owned, in aggregate, by persons
    subject to a directive program is subject to the same directives (judged on the owners' ones)."""
    members: dict[str, tuple[Program, dict[str, Entity]]] = {}
    for node in context.ownership.ancestors(key, day) - {key}:
        found = context.listed(node, day)
        if found is None:
            continue
        for program in context.programs.of_entity(found[0]):
            if program.effect is Effect.SECTORAL and program.in_force(day):
                members.setdefault(program.tag, (program, {}))[1][node] = found[0]
    out: list[Reason] = []
    for tag, (program, entities) in sorted(members.items()):
        result = context.ownership.evaluate(key, day, entities.__contains__)
        if not result.blocked:
            continue
        root = entities[result.roots[0]]
        judgement = program.judge(tx, day, root)
        reason = Reason(
            ReasonCode.SECTORAL,
            judgement.outcome,
            f"{key} is {result.share:g}% owned by entities subject to {tag} directives, so they apply"
            f" to it too (50% rule): {judgement.message}",
            entity_id=root.id,
            entity_name=root.caption,
            programs=[tag],
            ownership_paths=result.paths,
            ownership_share=result.share,
            details={"owned_entity": key, "roots": result.roots, "directive": judgement.directive},
        )
        out.append(reason)
        if reason.outcome is Outcome.REJECT:
            targets = [(r, [tag]) for r in result.roots]
            out.extend(_apply_licenses(reason, targets, True, subject, tx, at, context))
    return out


def _apply_licenses(
    reason: Reason,
    targets: list[tuple[str, list[str]]],
    via_ownership: bool,
    subject: Subject,
    tx: Transaction,
    at: datetime,
    context: PolicyContext,
) -> list[Reason]:
    """Turn ``reason`` AUTHORIZED when valid licenses cover every target; else explain near misses.

    Returns informational (CLEAR) reasons naming the licenses that reach the target but not this
    moment or this transaction type, so a BLOCK after a wind-down license expired says so.
    """
    used: list[License] = []
    misses: list[tuple[License, str]] = []
    for target, programs in targets:
        relevant = [
            lic
            for lic in context.licenses.relevant(target, programs, via_ownership=via_ownership)
            if lic.issued_for(subject.key)
        ]
        fitting = [lic for lic in relevant if lic.valid_at(at) and lic.authorizes_type(tx.type)]
        if not fitting:
            for lic in relevant:
                if not lic.valid_at(at):
                    why = f"is not valid at {at.isoformat()} (valid {lic.window_text()})"
                else:
                    why = f"authorizes only {', '.join(lic.transaction_types)}, not {tx.type!r}"
                misses.append((lic, why))
            used = []
            break
        if fitting[0] not in used:
            used.append(fitting[0])
    if used:
        lic = used[0]
        reason.details["prohibited"] = reason.outcome.value
        reason.details["licenses"] = [x.id for x in used]
        reason.details["license_window"] = lic.window_text()
        reason.outcome = Outcome.AUTHORIZED
        reason.license_id = lic.id
        reason.conditions = [c for x in used for c in x.conditions]
        reason.message += f"; authorized by {lic.id} ({lic.title}), valid {lic.window_text()}"
        return []
    return [
        Reason(
            ReasonCode.LICENSE_NOT_APPLICABLE,
            Outcome.CLEAR,
            f"{lic.id} ({lic.title}) {why}",
            entity_id=reason.entity_id,
            programs=list(reason.programs),
            license_id=lic.id,
            list_version=reason.list_version,
            details={
                "valid_from": lic.starts.isoformat() if lic.starts else None,
                "valid_until": lic.ends.isoformat() if lic.ends else None,
            },
        )
        for lic, why in misses
    ]


# -- messages ----------------------------------------------------------------------------------------


def combine(decisions: Sequence[PartyDecision]) -> MessageDecision:
    """One decision for a message from its parties' decisions: BLOCK > REJECT > HOLD > AUTHORIZED > PASS.

    ``reasons`` lists every reason that is not CLEAR, strongest first, each naming its party.
    """
    outcome = strongest([d.outcome for d in decisions])
    reasons = [r for d in decisions for r in d.reasons if r.outcome is not Outcome.CLEAR]
    reasons.sort(key=lambda r: -r.outcome.rank)
    return MessageDecision(outcome=MessageOutcome.of(outcome), parties=list(decisions), reasons=reasons)


def decide_message(
    parties: Iterable[tuple[Subject, Sequence[Match]]],
    *,
    as_of: datetime,
    context: PolicyContext,
    transaction: Transaction | None = None,
) -> MessageDecision:
    """Decide every (party, matches) pair of a message at ``as_of`` and :func:`combine` them."""
    return combine(
        [decide_party(s, m, as_of=as_of, context=context, transaction=transaction) for s, m in parties]
    )
