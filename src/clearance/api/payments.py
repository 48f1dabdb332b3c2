"""``POST /v1/payments/screen``: one payment message (pacs.008, pain.001, MT103) in, a decision out.

A thin shell over the same core as ``clearance payments screen``:
:meth:`~clearance.payments.screen.PaymentScreener.screen_bytes` reads and decides the message, and
:func:`~clearance.payments.screen.record` writes what it causes to the blocked-property ledger (a
``block`` or ``reject`` entry, or the malformed message itself with the reason it was refused). The call
is then committed to the audit log, and only then answered.

The body is the raw message (``application/xml``, ``text/xml``, ``text/plain``) or a JSON wrapper
``{"message": "...", "format": "pacs.008", "as_of": "2021-01-20", "transaction": "wind-down"}``. The
format is recognised from the message itself, as the CLI does; a ``format`` given in the wrapper must
agree with it. ``transaction`` (in the wrapper, or ``?transaction=`` for a raw body; default
``payment``) is the caller's statement of what the payment is for, which is what a license such as
Venezuela GL 38 (``wind-down``) authorizes; a line of the message that reads like one is only recorded
(``transaction.message_hint``), as :mod:`clearance.payments.screen` explains.

A :class:`~clearance.payments.screen.PaymentScreener` is built per screener snapshot (a
:class:`~clearance.api.service.Loaded`) the first time a payment needs it, so a list swap brings a new
one; the policy tables (licenses, ownership links, good-guy decisions) are re-read with each new
snapshot and at most every ``--reload-interval`` seconds otherwise. Screening and ledger writes run on a
worker thread, one message at a time per process, over the process's own store and ledger connections.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import orjson
from fastapi import APIRouter, Request
from fastapi import Query as QueryParam
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from clearance.api.auth import Caller, ScreenCaller
from clearance.api.problems import MEDIA_TYPE, Problem, problem_response
from clearance.api.screen import ListVersionOut
from clearance.api.screening import JSONBytes, check_rate, loaded_for
from clearance.api.screening import record as audit_record
from clearance.api.service import Loaded, Service
from clearance.ledger import Ledger, LedgerEntry
from clearance.payments.model import MessageKind
from clearance.payments.screen import ListedIdentifiers, PaymentDecision, PaymentScreener
from clearance.payments.screen import record as ledger_record
from clearance.policy.decide import PolicyContext
from clearance.policy.licenses import eastern_day
from clearance.policy.types import TRANSACTION_TYPES, MessageOutcome, Outcome
from clearance.store import Store, open_store

router = APIRouter(tags=["Payments"])

PATH = "/v1/payments/screen"
#: Screeners kept for ``as_of`` snapshots other than the one serving (the service keeps as many).
MAX_ALTERNATES = 4

Format = Literal["pacs.008", "pain.001", "MT103"]
assert set(get_args(Format)) == {k.value for k in MessageKind}, "keep Format in step with MessageKind"
TransactionType = Literal[
    "any",
    "payment",
    "wind-down",
    "new-debt",
    "new-equity",
    "securities",
    "correspondent-account",
    "export",
    "humanitarian",
]
assert get_args(TransactionType) == TRANSACTION_TYPES, "keep TransactionType in step with the policy layer"
_TRANSACTION_HELP = (
    "What the payment is for, as licenses read it: `payment` (default) or e.g. `wind-down` (Venezuela "
    "GL 38 authorizes wind-down dealings with CEIEC until 2021-01-14 00:01 US Eastern). Only this field "
    "states it; a purpose or remittance line in the message that reads like a type is recorded as "
    "`transaction.message_hint` and authorizes nothing."
)

XML_TYPES = ("application/xml", "text/xml")
TEXT_TYPES = ("text/plain",)


# -- the request -------------------------------------------------------------------------------------


class PaymentScreenRequest(BaseModel):
    """A payment message wrapped in JSON, for clients that cannot send the raw message."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"message": "{1:F01FNBCUS44AXXX0417000123}{2:I103BKCHCNBJX110N}{4:\n:20:REF\n...\n-}"},
                {"message": "<?xml version=...", "format": "pacs.008", "as_of": "2021-01-20"},
                {"message": "<?xml version=...", "as_of": "2020-12-15", "transaction": "wind-down"},
            ]
        },
    )

    message: str = Field(
        ...,
        min_length=1,
        description="The message as sent: ISO 20022 XML (pacs.008, pain.001) or SWIFT MT103 text. "
        "It is encoded as UTF-8 before parsing (send raw XML in another encoding as application/xml).",
    )
    format: Format | None = Field(
        None,
        description="The format you expect; the message is refused (422) when it is of another format. "
        "Without it the format is recognised from the message.",
    )
    as_of: datetime | None = Field(
        None,
        description="Decide as of this moment: a date (midnight) or date-time; without a time zone, US "
        "Eastern. Default: now. The lists in force that day are screened.",
        examples=["2021-01-20", "2021-01-20T10:00:00-05:00"],
    )
    transaction: TransactionType | None = Field(None, description=_TRANSACTION_HELP)


# -- the answer (documentation of what :meth:`PaymentDecision.to_dict` and the ledger produce) ---------


class ConditionOut(BaseModel):
    code: str
    text: str


class OwnershipStepOut(BaseModel):
    owner: str
    asset: str
    percentage: float
    source: str | None


class ReasonOut(BaseModel):
    """One fact the decision rests on, with the outcome that fact alone implies."""

    code: str = Field(..., description="listed, ownership, country, sectoral, license_not_applicable, ...")
    party: str | None = Field(
        ..., description="The element path (ISO 20022) or field tag (MT103) it is about"
    )
    outcome: Outcome
    message: str
    entity_id: str | None = Field(..., description="The matched listed entity")
    entity_name: str | None
    programs: list[str]
    list_version: str | None = Field(..., description="The list version the fact comes from")
    license_id: str | None = Field(..., description="The license that authorizes (AUTHORIZED) or was checked")
    conditions: list[ConditionOut]
    ownership_paths: list[list[OwnershipStepOut]]
    ownership_share: float | None
    score: float | None
    details: dict[str, Any] | None = None


class PartyDecisionOut(BaseModel):
    """The decision on one party, agent or free-text item of the message."""

    subject: dict[str, Any]
    outcome: Outcome
    as_of: str
    transaction: dict[str, Any]
    reasons: list[ReasonOut]
    conditions: list[ConditionOut]
    list_versions: list[str]


class LedgerEntryOut(BaseModel):
    """An entry appended to the blocked-property ledger (``block`` or ``reject``)."""

    seq: int
    kind: Literal["block", "release", "reject"]
    ref: int | None
    event_date: str
    recorded_at: str
    owner: str
    owner_entity_id: str | None
    programs: list[str]
    amount: str
    currency: str
    annual_rate: str | None
    license_id: str | None
    message_id: str | None
    message_kind: str | None
    message_sha256: str | None
    details: dict[str, Any]
    hash: str


class ConditionConsequenceOut(ConditionOut):
    consequence: Literal["blocked_account"] | None = Field(
        ...,
        description="What recording the payment does about it: `blocked_account` appends a `block` ledger "
        "entry naming the license (the funds go to a blocked account; a Report of Blocked Property falls "
        "due). Null: shown, left to the bank.",
    )


class AuthorizationOut(BaseModel):
    """A license an AUTHORIZED decision rests on."""

    license_id: str
    title: str
    window: str = Field(..., description="Valid from (inclusive) to (exclusive), in the license's time zone")
    valid_from: str | None
    valid_until: str | None
    conditions: list[ConditionConsequenceOut]
    parties: list[str] = Field(..., description="The parties (element paths / MT103 tags) it authorizes")
    entities: list[str]


class TransactionHintOut(BaseModel):
    type: str
    kind: str
    path: str
    text: str
    authorizes: Literal[False]


class TransactionOut(BaseModel):
    type: TransactionType = Field(..., description="The type the message was judged as (the caller's)")
    message_hint: TransactionHintOut | None = Field(
        ..., description="A purpose, instruction or remittance line that reads like a type; recorded only"
    )


class PaymentScreenResponse(BaseModel):
    request_id: str = Field(..., description="Names this call's record in the audit log")
    audit_seq: int
    outcome: MessageOutcome = Field(..., description="PASS, HOLD, BLOCK, REJECT or AUTHORIZED")
    as_of: str = Field(..., description="The moment the message was decided as of")
    message_id: str | None
    kind: Format | None
    source: str | None
    amount: str
    currency: str
    transaction: TransactionOut
    reasons: list[ReasonOut] = Field(..., description="The reasons that set the outcome, strongest first")
    authorizations: list[AuthorizationOut] = Field(
        ..., description="The licenses AUTHORIZED reasons rest on: window, conditions and their consequences"
    )
    parties: list[PartyDecisionOut]
    payment: dict[str, Any] = Field(
        ..., description="The message as parsed: parties, free text, transactions"
    )
    ledger_entries: list[LedgerEntryOut] = Field(..., description="Entries this message added to the ledger")
    message_sha256: str
    list_versions: list[ListVersionOut]
    matcher_version: str


class MalformedProblem(BaseModel):
    """A problem document. For a malformed message it also says what was kept for the record."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        None,
        description="`field` names the element (ISO 20022 path) or MT103 field tag at fault; `line` its line",
    )
    request_id: str | None = Field(None, description="The audit record of a malformed message")
    audit_seq: int | None = None
    outcome: Literal["REJECT"] | None = None
    malformed: dict[str, Any] | None = Field(None, description="reason, field, line, source")
    message_sha256: str | None = Field(None, description="The kept message (the ledger's rejected messages)")


def _problem(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": schema or {"type": "object"}}}}


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed JSON wrapper"),
    401: _problem("No or unknown API key"),
    403: _problem("The key's role does not allow this"),
    413: _problem("Body larger than the server's --max-body"),
    415: _problem("The body is neither XML, text nor JSON"),
    422: _problem(
        "The message is malformed (refused, kept for the record; `errors` names the element or field and "
        "line at fault), or a field of the JSON wrapper is invalid",
        MalformedProblem.model_json_schema(),
    ),
    429: _problem("Rate limit exceeded; see Retry-After"),
    503: _problem("Not ready, or the ledger or audit log is unavailable"),
}

_EXAMPLE_PACS008 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2021-01-20T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs>
<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>
<CdtTrfTxInf><PmtId><EndToEndId>E2E-1</EndToEndId></PmtId>
<IntrBkSttlmAmt Ccy="USD">1000.00</IntrBkSttlmAmt><IntrBkSttlmDt>2021-01-20</IntrBkSttlmDt>
<ChrgBr>SHAR</ChrgBr><Dbtr><Nm>Lakeshore Instruments LLC</Nm><PstlAdr><Ctry>US</Ctry></PstlAdr></Dbtr>
<DbtrAgt><FinInstnId><BICFI>FNBCUS44XXX</BICFI></FinInstnId></DbtrAgt>
<CdtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></CdtrAgt>
<Cdtr><Nm>Praezisionsmechanik Hoffmann GmbH</Nm><PstlAdr><Ctry>DE</Ctry></PstlAdr></Cdtr>
<CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>
<RmtInf><Ustrd>Invoice 1</Ustrd></RmtInf></CdtTrfTxInf></FIToFICstmrCdtTrf></Document>
"""
_EXAMPLE_MT103 = (
    "{1:F01FNBCUS44AXXX0101000456}{2:I103COBADEFFXXXXN}{4:\n:20:FNBC20201215101\n:23B:CRED\n"
    ":32A:201215EUR10000,\n:50K:/4410038291\nLAKESHORE INSTRUMENTS LLC\n:57A:COBADEFFXXX\n"
    ":59:/DE89370400440532013000\nPRAEZISIONSMECHANIK HOFFMANN GMBH\n:71A:SHA\n-}"
)
_MESSAGE_SCHEMA = {"type": "string", "minLength": 1}
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "One payment message, raw, or wrapped in JSON.",
    "content": {
        "application/xml": {"schema": _MESSAGE_SCHEMA, "example": _EXAMPLE_PACS008},
        "text/xml": {"schema": _MESSAGE_SCHEMA, "example": _EXAMPLE_PACS008},
        "text/plain": {"schema": _MESSAGE_SCHEMA, "example": _EXAMPLE_MT103},
        "application/json": {"schema": PaymentScreenRequest.model_json_schema()},
    },
}


# -- one PaymentScreener per screener snapshot -------------------------------------------------------


@dataclass(slots=True)
class _Built:
    loaded: Loaded  # kept alive with its PaymentScreener, so ``id(loaded)`` cannot be reused meanwhile
    screener: PaymentScreener
    policy_read: float  # time.monotonic() when the policy tables were read
    serving: bool  # built for the snapshot the service was serving (not an ``as_of`` alternate)


class PaymentDesk:
    """One process's payment screening: the PaymentScreener per snapshot, its store and its ledger.

    Everything here runs under :attr:`lock` on a worker thread: the store and ledger connections and
    the policy context's caches are used by one thread at a time.
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.lock = threading.Lock()
        self._built: OrderedDict[int, _Built] = OrderedDict()
        self._listed: tuple[tuple[int, ...], ListedIdentifiers] | None = None
        self._store: Store | None = None
        self._ledger: Ledger | None = None

    @classmethod
    def of(cls, request: Request) -> PaymentDesk:
        state = request.app.state
        desk: PaymentDesk | None = getattr(state, "payment_desk", None)
        if desk is None:
            desk = state.payment_desk = cls(request.app.state.service)
        return desk

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.service.settings)
        return self._store

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.service.settings.database_path)
        return self._ledger

    def _listed_identifiers(self) -> ListedIdentifiers:
        """Exact identifier and free-text lookups over every version of the served lists (rebuilt only
        when a version was added or removed)."""
        lists = self.service.config.lists
        names = list(lists) if lists else self.store.lists()
        key = tuple(v.id for name in names for v in self.store.versions(name))
        if self._listed is None or self._listed[0] != key:
            self._listed = (key, ListedIdentifiers.from_store(self.store, names))
        return self._listed[1]

    def screener_for(self, loaded: Loaded) -> PaymentScreener:
        """The PaymentScreener over ``loaded`` (built on first use; policy re-read when stale)."""
        current = self.service.current
        for key, old in list(self._built.items()):
            if old.serving and old.loaded is not current and old.loaded is not loaded:
                del self._built[key]  # swapped out: let its index go
        found = self._built.get(id(loaded))
        now = time.monotonic()
        interval = self.service.config.reload_interval
        if (
            found is None
            or found.loaded is not loaded
            or (interval > 0 and now - found.policy_read > interval)
        ):
            context = PolicyContext.open(self.store, self.service.settings.database_path)
            screener = PaymentScreener(loaded.screener, context, self._listed_identifiers())
            found = _Built(loaded, screener, now, serving=loaded is current)
            self._built[id(loaded)] = found
        self._built.move_to_end(id(loaded))
        alternates = [k for k, b in self._built.items() if not b.serving]
        for key in alternates[: max(0, len(alternates) - MAX_ALTERNATES)]:
            del self._built[key]
        return found.screener

    def screen(
        self,
        loaded: Loaded,
        data: bytes,
        source: str,
        as_of: datetime | None,
        expected: str | None = None,
        transaction: str | None = None,
    ) -> tuple[PaymentDecision, list[LedgerEntry]]:
        """Decide the message as a ``transaction`` of that type and write its consequences to the ledger,
        as the CLI does. A message of another format than ``expected`` is refused before anything is
        written."""
        with self.lock:
            screener = self.screener_for(loaded)
            result = screener.screen_bytes(data, source=source, as_of=as_of, transaction=transaction)
            found = result.payment.kind.value if result.payment is not None else None
            if expected is not None and found is not None and found != expected:
                raise Problem(
                    422,
                    f"format: the message is {found}, not {expected}",
                    errors=[
                        {"pointer": "#/format", "field": "format", "in": "body", "detail": f"is {found}"}
                    ],
                )
            try:
                entries = ledger_record(result, self.ledger)
            except Exception as exc:
                raise Problem(
                    503,
                    f"the blocked-property ledger could not record this message ({type(exc).__name__}); "
                    "nothing was decided, retry later",
                    slug="ledger-unavailable",
                ) from exc
        return result, entries


# -- the endpoint ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Message:
    data: bytes
    content_type: str
    format: str | None
    as_of: datetime | None
    pointer: str  # where the message is in the body, for problem documents
    transaction: str | None = None


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _given_twice(name: str) -> Problem:
    return Problem(
        422,
        f"{name}: give it in the body or as a query parameter, not both",
        errors=[{"pointer": f"#/{name}", "field": name, "in": "body", "detail": "also given in the query"}],
    )


async def _read_message(request: Request, as_of: datetime | None, transaction: str | None) -> _Message:
    content_type = _content_type(request)
    body = await request.body()
    if content_type in XML_TYPES or content_type.endswith("+xml") or content_type in TEXT_TYPES:
        return _Message(body, content_type, None, as_of, "#", transaction)
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            wrapper = PaymentScreenRequest.model_validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            ) from None
        if wrapper.as_of is not None and as_of is not None:
            raise _given_twice("as_of")
        if wrapper.transaction is not None and transaction is not None:
            raise _given_twice("transaction")
        return _Message(
            wrapper.message.encode("utf-8"),
            content_type,
            wrapper.format,
            wrapper.as_of or as_of,
            "#/message",
            wrapper.transaction or transaction,
        )
    raise Problem(
        415,
        f"send the message as application/xml, text/xml or text/plain (MT103), or wrapped in JSON as "
        f"application/json, not {content_type or 'without a Content-Type'}",
        slug="unsupported-media-type",
    )


def _message_text(data: bytes) -> dict[str, str]:
    """The message as the audit record keeps it (text when it is UTF-8, else base64)."""
    try:
        return {"message": data.decode("utf-8"), "message_encoding": "utf-8"}
    except UnicodeDecodeError:
        return {"message": base64.b64encode(data).decode("ascii"), "message_encoding": "base64"}


@router.post(
    PATH,
    response_model=PaymentScreenResponse,
    responses=RESPONSES,
    summary="Screen a payment message",
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def screen_payment(
    request: Request,
    caller: ScreenCaller,
    as_of: Annotated[
        datetime | None,
        QueryParam(
            description="Decide as of this moment (a date or date-time; US Eastern without a time zone); "
            "or `as_of` in the JSON wrapper. Default: now.",
        ),
    ] = None,
    transaction: Annotated[
        TransactionType | None,
        QueryParam(description=_TRANSACTION_HELP + " Or `transaction` in the JSON wrapper."),
    ] = None,
) -> Response:
    """Screen one pacs.008, pain.001 or MT103 message: every party and agent (names, BIC, IBAN, LEI),
    countries and free text; decide PASS, HOLD, BLOCK, REJECT or AUTHORIZED with the reasons, each naming
    the matched entity, program, license, ownership path and list version it rests on.

    A BLOCK or REJECT appends to the blocked-property ledger (the entries are in the answer). A message
    that cannot be read completely is refused with a 422 naming the element or field and line at fault,
    and kept in the ledger's rejected messages. Every call is recorded in the audit log (`request_id`)
    before it is answered. `transaction` (default `payment`; e.g. `wind-down`) says what the payment is
    for, as `clearance payments screen --transaction` does: an AUTHORIZED answer names the license, its
    window and conditions (`authorizations`), and a condition sending the funds to a blocked account
    appends a `block` ledger entry naming the license.
    """
    service: Service = request.app.state.service
    with service.screening():
        return await _screen(service, request, caller, as_of, transaction)


async def _screen(
    service: Service, request: Request, caller: Caller, as_of: datetime | None, transaction: str | None
) -> Response:
    message = await _read_message(request, as_of, transaction)
    check_rate(service, caller, 1)
    when = message.as_of
    loaded = await loaded_for(service, eastern_day(when) if when is not None else None, None)
    client_request_id = request.headers.get("x-request-id")
    source = f"{PATH} by {caller.actor}" + (
        f" (X-Request-Id {client_request_id})" if client_request_id else ""
    )
    desk = PaymentDesk.of(request)
    result, entries = await asyncio.to_thread(
        desk.screen, loaded, message.data, source, when, message.format, message.transaction
    )
    decision = result.to_dict()
    sha256 = hashlib.sha256(message.data).hexdigest()
    payload: dict[str, Any] = {
        "endpoint": PATH,
        "client_request_id": client_request_id,
        "content_type": message.content_type,
        "format": message.format,
        "as_of": when.isoformat() if when is not None else None,
        "transaction": result.transaction,
        "message_sha256": sha256,
        **_message_text(message.data),
        "list_versions": loaded.versions_json,
        "matcher_version": loaded.matcher_version,
        "decision": {k: v for k, v in decision.items() if k != "payment"},
        "ledger_entries": [e.seq for e in entries],
    }
    request_id, seq = await audit_record(service, caller, "payments.screen", payload)
    headers = {"X-Request-Id": request_id}
    if result.malformed is not None:
        return _malformed(request, result, message, request_id, seq, sha256, headers)
    return JSONBytes(
        {
            "request_id": request_id,
            "audit_seq": seq,
            **decision,
            "ledger_entries": [e.to_dict() for e in entries],
            "message_sha256": sha256,
            "list_versions": loaded.versions_json,
            "matcher_version": loaded.matcher_version,
        },
        headers=headers,
    )


def _malformed(
    request: Request,
    result: PaymentDecision,
    message: _Message,
    request_id: str,
    seq: int,
    sha256: str,
    headers: dict[str, str],
) -> Response:
    bad = result.malformed
    assert bad is not None
    where = bad.field or (f"line {bad.line}" if bad.line is not None else None)
    detail = f"malformed message{f' at {where}' if where else ''}"
    if bad.field and bad.line is not None:
        detail += f" (line {bad.line})"
    detail += f": {bad.reason}; refused (REJECT) and kept for the record"
    error = {
        "pointer": message.pointer,
        "field": bad.field or "",
        "line": bad.line,
        "in": "body",
        "detail": bad.reason,
    }
    response = problem_response(
        422, detail, instance=request.url.path, slug="malformed-message", errors=[error], headers=headers
    )
    document = orjson.loads(bytes(response.body))
    document.update(
        request_id=request_id,
        audit_seq=seq,
        outcome=MessageOutcome.REJECT.value,
        malformed=bad.to_dict(),
        message_sha256=sha256,
    )
    return Response(orjson.dumps(document), status_code=422, media_type=MEDIA_TYPE, headers=headers)


__all__ = ["PaymentDesk", "PaymentScreenRequest", "PaymentScreenResponse", "router"]
