"""ISO 20022 customer credit transfers: pacs.008 (FI to FI) and pain.001 (customer to bank).

:func:`parse_iso20022` reads one message into a :class:`~clearance.payments.model.Payment`. It refuses,
with a :class:`~clearance.errors.ParseError` naming the element (``field``) and line at fault, anything
it cannot read completely: XML that is not well formed, a DOCTYPE or entity, a namespace other than
``urn:iso:std:iso:20022:tech:xsd:pacs.008.001.NN`` / ``pain.001.001.NN``, missing mandatory elements,
text longer than the message definition allows, malformed amounts, currencies, dates, BICs, IBANs and
LEIs, or counts and control sums that disagree with the transactions. A message that could hide a party
from the screener is never passed on half-read.

The parser is lxml with entity resolution, network access, DTD loading and huge trees all off, and a
size limit checked before parsing. Every text element it does not know is kept as free text (kind
``other``), so nothing a sender writes escapes screening.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from clearance.errors import ParseError
from clearance.payments import ids
from clearance.payments.model import (
    FreeText,
    Identifier,
    MessageKind,
    Party,
    PartyRole,
    Payment,
    TextKind,
    Transaction,
)

#: Largest message accepted, in bytes. A pacs.008 with one transaction is 2-6 KB; batches are larger.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(pacs\.008|pain\.001)\.001\.(\d{2})$")
_ROOTS = {"pacs.008": "FIToFICstmrCdtTrf", "pain.001": "CstmrCdtTrfInitn"}

#: Party elements (PartyIdentification) and the role each names.
PARTY_ELEMENTS: dict[str, PartyRole] = {
    "Dbtr": PartyRole.DEBTOR,
    "Cdtr": PartyRole.CREDITOR,
    "UltmtDbtr": PartyRole.ULTIMATE_DEBTOR,
    "UltmtCdtr": PartyRole.ULTIMATE_CREDITOR,
    "InitgPty": PartyRole.INITIATING_PARTY,
}
#: Agent elements (BranchAndFinancialInstitutionIdentification) and the role each names.
AGENT_ELEMENTS: dict[str, PartyRole] = {
    "DbtrAgt": PartyRole.DEBTOR_AGENT,
    "CdtrAgt": PartyRole.CREDITOR_AGENT,
    "IntrmyAgt1": PartyRole.INTERMEDIARY_AGENT,
    "IntrmyAgt2": PartyRole.INTERMEDIARY_AGENT,
    "IntrmyAgt3": PartyRole.INTERMEDIARY_AGENT,
    "InstgAgt": PartyRole.INSTRUCTING_AGENT,
    "InstdAgt": PartyRole.INSTRUCTED_AGENT,
    "PrvsInstgAgt1": PartyRole.PREVIOUS_INSTRUCTING_AGENT,
    "PrvsInstgAgt2": PartyRole.PREVIOUS_INSTRUCTING_AGENT,
    "PrvsInstgAgt3": PartyRole.PREVIOUS_INSTRUCTING_AGENT,
    "FwdgAgt": PartyRole.FORWARDING_AGENT,
}

#: Longest text each element may hold (the ISO 20022 MaxNNText type of the element).
MAX_LENGTHS: dict[str, int] = {
    "MsgId": 35,
    "PmtInfId": 35,
    "InstrId": 35,
    "EndToEndId": 35,
    "TxId": 35,
    "Id": 35,
    "MmbId": 35,
    "Nm": 140,
    "AdrLine": 70,
    "StrtNm": 70,
    "BldgNb": 16,
    "BldgNm": 35,
    "PstCd": 16,
    "TwnNm": 35,
    "TwnLctnNm": 35,
    "DstrctNm": 35,
    "CtrySubDvsn": 35,
    "Dept": 70,
    "SubDept": 70,
    "Ustrd": 140,
    "InstrInf": 140,
    "AddtlRmtInf": 140,
    "Prtry": 35,
    "Inf": 35,
    "UETR": 36,
}
#: Longest text of any other element: a guard against oversize fields.
DEFAULT_MAX_LENGTH = 350
MAX_ADDRESS_LINES = 7

#: Elements whose text is a code, number, date or amount: never free text.
_TECHNICAL = frozenset(
    {
        "NbOfTxs",
        "CtrlSum",
        "CreDtTm",
        "SttlmMtd",
        "ChrgBr",
        "Cd",
        "Ccy",
        "PmtMtd",
        "BtchBookg",
        "Dt",
        "DtTm",
        "IntrBkSttlmDt",
        "IntrBkSttlmAmt",
        "TtlIntrBkSttlmAmt",
        "InstdAmt",
        "Amt",
        "XchgRate",
        "ChrgsInf",
        "SttlmPrty",
        "ClrSysRef",
        "Prty",
        "InstrPrty",
        "SvcLvl",
        "LclInstrm",
        "CtgyPurp",
        "AccptncDtTm",
        "PoolgAdjstmntDt",
        "ReqdExctnDt",
        "UETR",
        "InstrId",
        "EndToEndId",
        "TxId",
        "MsgId",
        "PmtInfId",
        "RfrdDocAmt",
        "DuePyblAmt",
        "RmtdAmt",
        "CdtNoteAmt",
        "TaxAmt",
        "RltdDt",
        "BirthDt",
        "Tp",
        "ChqInstr",
        "EqvtAmt",
        "CcyOfTrf",
        "CtrySubDvsn",
        "BldgNb",
        "PstCd",
        "Flr",
        "PstBx",
        "Room",
        "CtryOfRes",
        "CtryOfBirth",
        "Ctry",
        "Issr",
        "SchmeNm",
        "ClrSysId",
        "BICFI",
        "BIC",
        "AnyBIC",
        "BICOrBEI",
        "LEI",
        "IBAN",
        "ChrgsAcct",
        "ChrgsAcctAgt",
    }
)

_AMOUNT = re.compile(r"^[0-9]{1,18}(\.[0-9]{1,5})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

_thread = threading.local()


def _parser() -> etree.XMLParser:
    """A secure parser, one per thread (lxml parsers are not thread-safe)."""
    parser: etree.XMLParser | None = getattr(_thread, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _thread.parser = parser
    return parser


def detect_iso20022(data: bytes) -> bool:
    """True when ``data`` looks like an ISO 20022 XML document (cheap sniff, no parsing)."""
    head = data[:512].lstrip()
    return head.startswith(b"<") and (b"urn:iso:std:iso:20022" in data[:4096] or b"<Document" in head)


def parse_iso20022(data: bytes, *, source: str | None = None, max_bytes: int = MAX_MESSAGE_BYTES) -> Payment:
    """Parse one pacs.008 or pain.001 message; :class:`ParseError` names the element at fault."""
    return _Reader(data, source, max_bytes).read()


@dataclass(slots=True)
class _Reader:
    data: bytes
    source: str | None
    max_bytes: int
    ns: str = ""
    _consumed: set[etree._Element] | None = None
    # each element's children by tag, built in one pass (an lxml find() per lookup cost 4-7 us, about
    # half the parsing time); the keys keep the element proxies alive, so identity holds
    _kids: dict[etree._Element, dict[str, list[etree._Element]]] | None = None
    # each indexed element's 1-based position among its parent's children of its tag, and the paths
    # and transaction numbers worked out so far (getelementpath() and a walk to find a transaction's
    # number count siblings: quadratic over a message with thousands of them)
    _position: dict[etree._Element, int] | None = None
    _paths: dict[etree._Element, str] | None = None
    _tx_numbers: dict[etree._Element, int] | None = None

    # -- errors and paths ------------------------------------------------------------------------

    def fail(self, message: str, el: etree._Element | None = None, field: str | None = None) -> ParseError:
        return ParseError(
            message,
            path=self.source,
            line=el.sourceline if el is not None else None,
            field=field if field is not None else (_path(el) if el is not None else None),
        )

    # -- entry -----------------------------------------------------------------------------------

    def read(self) -> Payment:
        if len(self.data) > self.max_bytes:
            raise self.fail(f"message is {len(self.data)} bytes, more than the limit of {self.max_bytes}")
        if not self.data.strip():
            raise self.fail("message is empty")
        if b"<!DOCTYPE" in self.data or b"<!ENTITY" in self.data:
            raise self.fail("DOCTYPE and entity declarations are not allowed in payment messages")
        try:
            root = etree.fromstring(self.data, _parser())
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if isinstance(exc.lineno, int) else None
            raise ParseError(f"not well-formed XML: {exc.msg}", path=self.source, line=line) from None
        except ValueError as exc:  # e.g. unicode strings with encoding declarations
            raise self.fail(f"not readable XML: {exc}") from None
        self._consumed = set()
        self._kids, self._position, self._paths = {}, {}, {}
        document = self._document(root)
        qname = etree.QName(document)
        m = _NAMESPACE.match(qname.namespace or "")
        if qname.localname != "Document" or m is None:
            raise self.fail(
                f"expected an ISO 20022 <Document> in namespace urn:iso:std:iso:20022:tech:xsd:"
                f"pacs.008.001.NN or pain.001.001.NN, found {{{qname.namespace or ''}}}{qname.localname}",
                document,
            )
        self.ns = qname.namespace or ""
        family, number = m.group(1), m.group(2)
        self._check(document, document.tag)
        self._walk(document)
        body = self._only(document, _ROOTS[family])
        if family == "pacs.008":
            payment = self._pacs008(body)
        else:
            payment = self._pain001(body)
        payment.version = f"{family}.001.{number}"
        payment.raw = self.data
        payment.source = self.source
        self._leftover_text(body, payment)
        return payment

    def _check(self, el: etree._Element, tag: str) -> None:
        """Refuse an element outside the message namespace, or with longer text than its type allows."""
        prefix = f"{{{self.ns}}}"
        if not tag.startswith(prefix):
            raise self.fail(f"element {tag} is not in the message namespace {self.ns}", el)
        text = (el.text or "").strip()
        limit = MAX_LENGTHS.get(tag[len(prefix) :], DEFAULT_MAX_LENGTH)
        if len(text) > limit:
            raise self.fail(f"text is {len(text)} characters, more than the {limit} allowed", el)

    def _walk(self, el: etree._Element) -> None:
        """Check every element under ``el`` in document order, indexing each one's children by tag."""
        assert self._kids is not None and self._position is not None
        kids: dict[str, list[etree._Element]] = {}
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            self._check(child, tag)
            same = kids.setdefault(tag, [])
            same.append(child)
            self._position[child] = len(same)
            if len(child):
                self._walk(child)
        self._kids[el] = kids

    def _where(self, el: etree._Element) -> str:
        """:func:`_path` of ``el``, from its parent's path and its position among same-named siblings."""
        assert self._paths is not None and self._kids is not None and self._position is not None
        path = self._paths.get(el)
        if path is None:
            parent = el.getparent()
            kids = self._kids.get(parent) if parent is not None else None
            if kids is None or parent is None:  # the Document, or an element above it
                path = _path(el)
            else:
                tag = el.tag
                step = _local(tag)
                if len(kids[tag]) > 1:
                    step += f"[{self._position[el]}]"
                path = f"{self._where(parent)}/{step}"
            self._paths[el] = path
        return path

    def _tx_number(self, el: etree._Element) -> int | None:
        """The 1-based position of the CdtTrfTxInf holding ``el`` in the message, if any (the
        transactions are numbered once per message)."""
        cur: etree._Element | None = el
        while cur is not None:
            if isinstance(cur.tag, str) and _local(cur.tag) == "CdtTrfTxInf":
                if self._tx_numbers is None:
                    every = cur.getroottree().getroot().iter(cur.tag)
                    self._tx_numbers = {tx: i for i, tx in enumerate(every, 1)}
                return self._tx_numbers[cur]
            cur = cur.getparent()
        return None

    def _document(self, root: etree._Element) -> etree._Element:
        """The Document element: the root, or a child of an envelope that also holds an AppHdr."""
        if etree.QName(root).localname == "Document":
            return root
        for child in root:
            if isinstance(child.tag, str) and etree.QName(child).localname == "Document":
                return child
        return root

    # -- element helpers -------------------------------------------------------------------------

    def _q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def _all(self, el: etree._Element, name: str) -> list[etree._Element]:
        """The children of ``el`` named ``name`` (in the message namespace), in document order."""
        assert self._kids is not None
        kids = self._kids.get(el)  # every element with children was indexed by _walk
        return kids.get(self._q(name), []) if kids is not None else []

    def _find(self, el: etree._Element, name: str) -> etree._Element | None:
        """The first child of ``el`` named ``name``, not marked as read (``el.find`` of the name)."""
        found = self._all(el, name)
        return found[0] if found else None

    def _child(self, el: etree._Element, name: str) -> etree._Element | None:
        found = self._find(el, name)
        if found is not None:
            self._mark(found)
        return found

    def _children(self, el: etree._Element, name: str) -> list[etree._Element]:
        found = list(self._all(el, name))
        for f in found:
            self._mark(f)
        return found

    def _only(self, el: etree._Element, name: str) -> etree._Element:
        found = self._child(el, name)
        if found is None:
            raise self.fail(f"mandatory element {name} is missing", el, field=f"{_path(el)}/{name}")
        return found

    def _text(self, el: etree._Element, *names: str) -> str | None:
        cur: etree._Element | None = el
        for name in names:
            if cur is None:
                return None
            cur = self._child(cur, name)
        if cur is None:
            return None
        value = (cur.text or "").strip()
        return value or None

    def _required_text(self, el: etree._Element, *names: str) -> tuple[str, etree._Element]:
        cur = el
        for name in names:
            cur = self._only(cur, name)
        value = (cur.text or "").strip()
        if not value:
            raise self.fail(f"{names[-1]} is empty", cur)
        return value, cur

    def _mark(self, el: etree._Element) -> None:
        assert self._consumed is not None
        self._consumed.add(el)  # the set keeps the proxy alive, so identity holds

    # -- values ----------------------------------------------------------------------------------

    def _amount(self, el: etree._Element) -> tuple[Decimal, str]:
        value = (el.text or "").strip()
        ccy = (el.get("Ccy") or "").strip()
        if not _AMOUNT.match(value):
            raise self.fail(f"amount {value!r} is not a decimal with at most 18 digits and 5 decimals", el)
        if not _CURRENCY.match(ccy):
            raise self.fail(f"currency {ccy!r} (attribute Ccy) is not a three-letter ISO 4217 code", el)
        try:
            amount = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern guarantees a decimal
            raise self.fail(f"amount {value!r} is not a number", el) from None
        if amount <= 0:
            raise self.fail(f"amount {value} must be positive", el)
        return amount, ccy

    def _date(self, el: etree._Element) -> date:
        value = (el.text or "").strip()
        try:
            return date.fromisoformat(value[:10]) if "T" in value else date.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{value!r} is not an ISO date (YYYY-MM-DD)", el) from None

    def _datetime(self, el: etree._Element) -> datetime:
        value = (el.text or "").strip()
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{value!r} is not an ISO date and time", el) from None

    # -- messages --------------------------------------------------------------------------------

    def _header(self, body: etree._Element) -> tuple[etree._Element, str, datetime, int]:
        header = self._only(body, "GrpHdr")
        msg_id, _ = self._required_text(header, "MsgId")
        _, created_el = self._required_text(header, "CreDtTm")
        created = self._datetime(created_el)
        count_text, count_el = self._required_text(header, "NbOfTxs")
        if not count_text.isdigit() or len(count_text) > 15:
            raise self.fail(f"NbOfTxs {count_text!r} is not a number of transactions", count_el)
        return header, msg_id, created, int(count_text)

    def _check_totals(self, container: etree._Element, count: int, transactions: list[Transaction]) -> None:
        if count != len(transactions):
            el = self._find(container, "NbOfTxs")
            raise self.fail(f"NbOfTxs says {count} but the message holds {len(transactions)}", el)
        ctrl = self._find(container, "CtrlSum")
        if ctrl is not None:
            value = (ctrl.text or "").strip()
            if not _AMOUNT.match(value):
                raise self.fail(f"CtrlSum {value!r} is not a decimal amount", ctrl)
            total = sum((t.amount for t in transactions), Decimal(0))
            if Decimal(value) != total:
                raise self.fail(f"CtrlSum {value} differs from the sum of the transactions ({total})", ctrl)

    def _pacs008(self, body: etree._Element) -> Payment:
        header, msg_id, created, count = self._header(body)
        group_date_el = self._child(header, "IntrBkSttlmDt")
        group_date = self._date(group_date_el) if group_date_el is not None else None
        payment = Payment(msg_id, MessageKind.PACS_008, Decimal(0), "", created=created)
        self._parties(header, payment, None)
        txs = self._children(body, "CdtTrfTxInf")
        if not txs:
            raise self.fail("a pacs.008 needs at least one CdtTrfTxInf", body, f"{_path(body)}/CdtTrfTxInf")
        for index, tx in enumerate(txs, 1):
            amount, ccy = self._amount(self._only(tx, "IntrBkSttlmAmt"))
            date_el = self._child(tx, "IntrBkSttlmDt")
            tx_date = self._date(date_el) if date_el is not None else group_date
            if payment.settlement_date is None:
                payment.settlement_date = tx_date
            payment.transactions.append(self._transaction(tx, index, amount, ccy))
            for required in ("Dbtr", "DbtrAgt", "CdtrAgt", "Cdtr"):
                self._only(tx, required)
            self._parties(tx, payment, index)
            self._texts(tx, payment, index)
        self._check_totals(header, count, payment.transactions)
        ttl = self._find(header, "TtlIntrBkSttlmAmt")
        if ttl is not None:
            total, ccy = self._amount(ttl)
            actual = sum((t.amount for t in payment.transactions), Decimal(0))
            if total != actual:
                raise self.fail(f"TtlIntrBkSttlmAmt {total} differs from the transactions' sum {actual}", ttl)
        _totals(payment)
        if payment.settlement_date is None:
            payment.settlement_date = created.date()
        return payment

    def _pain001(self, body: etree._Element) -> Payment:
        header, msg_id, created, count = self._header(body)
        payment = Payment(msg_id, MessageKind.PAIN_001, Decimal(0), "", created=created)
        self._only(header, "InitgPty")
        self._parties(header, payment, None)
        blocks = self._children(body, "PmtInf")
        if not blocks:
            raise self.fail("a pain.001 needs at least one PmtInf", body, f"{_path(body)}/PmtInf")
        index = 0
        for block in blocks:
            self._required_text(block, "PmtInfId")
            exec_el = self._only(block, "ReqdExctnDt")
            inner = self._child(exec_el, "Dt") if len(exec_el) else None
            inner = inner if inner is not None else self._child(exec_el, "DtTm")
            exec_date = self._date(inner if inner is not None else exec_el)
            if payment.settlement_date is None:
                payment.settlement_date = exec_date
            for required in ("Dbtr", "DbtrAcct", "DbtrAgt"):
                self._only(block, required)
            self._parties(block, payment, None)
            self._texts(block, payment, None)
            block_txs: list[Transaction] = []
            txs = self._children(block, "CdtTrfTxInf")
            if not txs:
                raise self.fail(
                    "a PmtInf needs at least one CdtTrfTxInf", block, f"{_path(block)}/CdtTrfTxInf"
                )
            for tx in txs:
                index += 1
                amt = self._only(tx, "Amt")
                instd = self._child(amt, "InstdAmt")
                if instd is None:
                    eqvt = self._only(amt, "EqvtAmt")
                    instd = self._only(eqvt, "Amt")
                amount, ccy = self._amount(instd)
                transaction = self._transaction(tx, index, amount, ccy)
                block_txs.append(transaction)
                payment.transactions.append(transaction)
                self._only(tx, "Cdtr")
                self._parties(tx, payment, index)
                self._texts(tx, payment, index)
            nb = self._find(block, "NbOfTxs")
            if nb is not None:
                self._mark(nb)
                if not (nb.text or "").strip().isdigit():
                    raise self.fail(f"NbOfTxs {(nb.text or '').strip()!r} is not a number", nb)
                self._check_totals(block, int((nb.text or "0").strip()), block_txs)
            elif self._find(block, "CtrlSum") is not None:
                self._check_totals(block, len(block_txs), block_txs)
        self._check_totals(header, count, payment.transactions)
        _totals(payment)
        return payment

    def _transaction(self, tx: etree._Element, index: int, amount: Decimal, ccy: str) -> Transaction:
        pmt_id = self._only(tx, "PmtId")
        end_to_end, _ = self._required_text(pmt_id, "EndToEndId")
        return Transaction(
            index=index,
            path=self._where(tx),
            amount=amount,
            currency=ccy,
            end_to_end_id=end_to_end,
            transaction_id=self._text(pmt_id, "TxId"),
            uetr=self._text(pmt_id, "UETR"),
        )

    # -- parties ---------------------------------------------------------------------------------

    def _parties(self, container: etree._Element, payment: Payment, tx: int | None) -> None:
        for child in container:
            if not isinstance(child.tag, str):
                continue
            name = _local(child.tag)
            if name in PARTY_ELEMENTS:
                self._mark(child)
                party = self._party(child, PARTY_ELEMENTS[name], tx)
            elif name in AGENT_ELEMENTS:
                self._mark(child)
                party = self._agent(child, AGENT_ELEMENTS[name], tx)
            else:
                continue
            account = self._find(container, f"{name}Acct")
            if account is not None:
                self._mark(account)
                self._account(account, party)
            if not (party.name or party.bic or party.iban or party.account or party.lei or party.other_ids):
                raise self.fail(f"{name} names no party: no name, BIC, account, LEI or other id", child)
            payment.parties.append(party)

    def _party(self, el: etree._Element, role: PartyRole, tx: int | None) -> Party:
        pty = self._child(el, "Pty")
        el = pty if pty is not None else el
        party = Party(role=role, path=self._where(el), transaction=tx, name=self._text(el, "Nm"))
        address = self._child(el, "PstlAdr")
        if address is not None:
            self._address(address, party)
        res = self._text(el, "CtryOfRes")
        if res:
            self._country(res, self._find(el, "CtryOfRes"))
            party.country = party.country or res
        ident = self._child(el, "Id")
        if ident is not None:
            org = self._child(ident, "OrgId")
            if org is not None:
                for tag in ("AnyBIC", "BICOrBEI"):
                    bic_el = self._child(org, tag)
                    if bic_el is not None:
                        party.bic = self._bic(bic_el)
                lei_el = self._child(org, "LEI")
                if lei_el is not None:
                    party.lei = self._lei(lei_el)
                self._others(org, party)
            prvt = self._child(ident, "PrvtId")
            if prvt is not None:
                birth = self._child(prvt, "DtAndPlcOfBirth")
                if birth is not None:
                    born = self._text(birth, "BirthDt")
                    if born:
                        party.other_ids.append(Identifier("birth_date", born))
                    city = self._text(birth, "CityOfBirth")
                    if city:
                        party.other_ids.append(Identifier("city_of_birth", city))
                    self._text(birth, "CtryOfBirth")
                self._others(prvt, party)
        return party

    def _agent(self, el: etree._Element, role: PartyRole, tx: int | None) -> Party:
        party = Party(role=role, path=self._where(el), transaction=tx)
        fin = self._only(el, "FinInstnId")
        for tag in ("BICFI", "BIC"):
            bic_el = self._child(fin, tag)
            if bic_el is not None:
                party.bic = self._bic(bic_el)
        party.name = self._text(fin, "Nm")
        lei_el = self._child(fin, "LEI")
        if lei_el is not None:
            party.lei = self._lei(lei_el)
        clr = self._child(fin, "ClrSysMmbId")
        if clr is not None:
            member = self._text(clr, "MmbId")
            scheme = self._text(clr, "ClrSysId", "Cd") or self._text(clr, "ClrSysId", "Prtry") or "clearing"
            if member:
                party.other_ids.append(Identifier(scheme, member))
        address = self._child(fin, "PstlAdr")
        if address is not None:
            self._address(address, party)
        other = self._child(fin, "Othr")
        if other is not None:
            value = self._text(other, "Id")
            if value:
                party.other_ids.append(Identifier(self._text(other, "SchmeNm", "Cd") or "other", value))
        return party

    def _others(self, el: etree._Element, party: Party) -> None:
        for other in self._children(el, "Othr"):
            value = self._text(other, "Id")
            scheme = self._text(other, "SchmeNm", "Cd") or self._text(other, "SchmeNm", "Prtry") or "other"
            if value:
                party.other_ids.append(Identifier(scheme, value))

    def _address(self, el: etree._Element, party: Party) -> None:
        lines = [(a.text or "").strip() for a in self._children(el, "AdrLine")]
        if len(lines) > MAX_ADDRESS_LINES:
            raise self.fail(f"{len(lines)} AdrLine elements, more than the {MAX_ADDRESS_LINES} allowed", el)
        street = " ".join(
            v for v in (self._text(el, "StrtNm"), self._text(el, "BldgNb"), self._text(el, "BldgNm")) if v
        )
        town = self._text(el, "TwnNm")
        place = " ".join(v for v in (self._text(el, "PstCd"), town, self._text(el, "CtrySubDvsn")) if v)
        for extra in ("Dept", "SubDept", "Flr", "PstBx", "Room", "TwnLctnNm", "DstrctNm"):
            self._text(el, extra)
        party.address_lines = [v for v in (*lines, street, place) if v]
        party.town = town
        ctry_el = self._child(el, "Ctry")
        if ctry_el is not None:
            party.country = self._country((ctry_el.text or "").strip(), ctry_el)

    def _country(self, value: str, el: etree._Element | None) -> str:
        if not _COUNTRY.match(value):
            raise self.fail(f"country {value!r} is not an ISO 3166 two-letter code", el)
        return value

    def _account(self, el: etree._Element, party: Party) -> None:
        ident = self._only(el, "Id")
        iban_el = self._child(ident, "IBAN")
        if iban_el is not None:
            value = (iban_el.text or "").strip()
            problem = ids.iban_problem(value)
            if problem:
                raise self.fail(problem, iban_el)
            party.iban = ids.compact(value)
        other = self._child(ident, "Othr")
        if other is not None:
            party.account = self._text(other, "Id")
            self._text(other, "SchmeNm", "Cd")
        for tag in ("Nm", "Ccy", "Tp"):
            self._text(el, tag)

    def _bic(self, el: etree._Element) -> str:
        value = (el.text or "").strip()
        problem = ids.bic_problem(value)
        if problem:
            raise self.fail(problem, el)
        return ids.compact(value)

    def _lei(self, el: etree._Element) -> str:
        value = (el.text or "").strip()
        problem = ids.lei_problem(value)
        if problem:
            raise self.fail(problem, el)
        return ids.compact(value)

    # -- free text -------------------------------------------------------------------------------

    def _texts(self, container: etree._Element, payment: Payment, tx: int | None) -> None:
        for rmt in self._children(container, "RmtInf"):
            for ustrd in self._children(rmt, "Ustrd"):
                self._free(payment, TextKind.REMITTANCE, ustrd, tx)
            for strd in self._children(rmt, "Strd"):
                parts = [t.strip() for t in strd.itertext() if t.strip()]
                for sub in strd.iter():
                    self._mark(sub)
                if parts:
                    payment.free_text.append(
                        FreeText(TextKind.REMITTANCE, self._where(strd), " ".join(parts), tx)
                    )
        for tag in ("InstrForCdtrAgt", "InstrForNxtAgt", "InstrForDbtrAgt"):
            for instr in self._children(container, tag):
                self._text(instr, "Cd")
                info = self._child(instr, "InstrInf")
                if info is not None:
                    self._free(payment, TextKind.INSTRUCTION_FOR_AGENT, info, tx)
        purpose = self._child(container, "Purp")
        if purpose is not None:
            prtry = self._child(purpose, "Prtry")
            if prtry is not None:
                self._free(payment, TextKind.PURPOSE, prtry, tx)
        for rptg in self._children(container, "RgltryRptg"):
            parts = [t.strip() for t in rptg.itertext() if t.strip()]
            for sub in rptg.iter():
                self._mark(sub)
            if parts:
                payment.free_text.append(
                    FreeText(TextKind.REGULATORY_REPORTING, self._where(rptg), " ".join(parts), tx)
                )

    def _free(self, payment: Payment, kind: TextKind, el: etree._Element, tx: int | None) -> None:
        self._mark(el)
        text = (el.text or "").strip()
        if text:
            payment.free_text.append(FreeText(kind, self._where(el), text, tx))

    def _leftover_text(self, body: etree._Element, payment: Payment) -> None:
        """Keep every text the parser did not read as ``other`` free text, so that none escapes screening."""
        consumed = self._consumed or set()
        for el in body.iter():
            if not isinstance(el.tag, str) or el in consumed or len(el):
                continue
            name = _local(el.tag)
            text = (el.text or "").strip()
            if not text or name in _TECHNICAL or not any(c.isalpha() for c in text):
                continue
            payment.free_text.append(FreeText(TextKind.OTHER, self._where(el), text, self._tx_number(el)))


def _totals(payment: Payment) -> None:
    """The message amount: the sum when every transaction shares a currency, else the first one's."""
    currencies = {t.currency for t in payment.transactions}
    if len(currencies) == 1:
        payment.currency = payment.transactions[0].currency
        payment.amount = sum((t.amount for t in payment.transactions), Decimal(0))
    else:
        payment.currency = payment.transactions[0].currency
        payment.amount = payment.transactions[0].amount


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


_CLARK = re.compile(r"\{[^}]*\}")


def _path(el: etree._Element | None) -> str:
    """``/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/Cdtr``: local names, positions where repeated."""
    if el is None:
        return ""
    tree = el.getroottree()
    root = tree.getroot()
    head = "/" + _local(root.tag)
    if el is root:
        return head
    return head + "/" + _CLARK.sub("", tree.getelementpath(el))
