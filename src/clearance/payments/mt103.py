"""SWIFT MT103 single customer credit transfers: ``{1:...}{2:...}{3:{...}}{4:\\r\\n:20:...\\r\\n-}{5:...}``.

:func:`parse_mt103` reads the basic header (block 1), the application header (block 2, input ``I103``
or output ``O103``), the user header's UETR (block 3, field 121) and the text block (block 4) into a
:class:`~clearance.payments.model.Payment`. Parties come from fields 50a (ordering customer), 52a
(ordering institution), 53a/54a/55a (correspondents), 56a (intermediary), 57a (account with
institution), 59a (beneficiary) and the header BICs (sender, receiver); free text from 70 (remittance),
72 (sender to receiver) and 77B (regulatory reporting).

Anything it cannot read completely is refused with a :class:`~clearance.errors.ParseError` whose
``field`` is the block or tag at fault (``4:32A``): missing mandatory fields (20, 23B, 32A, 50a, 59a,
71A), a field repeated that may not be, lines longer than 35 characters or more lines than the field
allows, characters outside the SWIFT X set, malformed dates, currencies, amounts and BICs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

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

Fail = Callable[[str, str | None], ParseError]

MAX_MESSAGE_BYTES = 64 * 1024  # an MT103 is at most 10,000 characters of text block; allow headroom

#: Field tag (without option letter) -> (role, most lines the field may hold).
PARTY_FIELDS: dict[str, tuple[PartyRole, int]] = {
    "50": (PartyRole.ORDERING_CUSTOMER, 5),
    "52": (PartyRole.ORDERING_INSTITUTION, 5),
    "53": (PartyRole.SENDERS_CORRESPONDENT, 5),
    "54": (PartyRole.RECEIVERS_CORRESPONDENT, 5),
    "55": (PartyRole.THIRD_REIMBURSEMENT_INSTITUTION, 5),
    "56": (PartyRole.INTERMEDIARY_AGENT, 5),
    "57": (PartyRole.ACCOUNT_WITH_INSTITUTION, 5),
    "59": (PartyRole.BENEFICIARY, 5),
}
TEXT_FIELDS: dict[str, tuple[TextKind, int]] = {
    "70": (TextKind.MT103_70, 4),
    "72": (TextKind.MT103_72, 6),
    "77B": (TextKind.REGULATORY_REPORTING, 3),
}
#: Other fields an MT103 may carry, with their most lines (no screening value but checked for size).
OTHER_FIELDS: dict[str, int] = {
    "20": 1,
    "13C": 1,
    "23B": 1,
    "23E": 1,
    "26T": 1,
    "32A": 1,
    "33B": 1,
    "36": 1,
    "71A": 1,
    "71F": 1,
    "71G": 1,
    "77T": 1,
}
MANDATORY = ("20", "23B", "32A", "50", "59", "71A")
REPEATABLE = frozenset({"13C", "23E", "71F"})
LINE_LENGTH = 35

# SWIFT X character set: a-z A-Z 0-9 / - ? : ( ) . , ' + space, CR, LF.
_X_CHARS = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]*$")
_BLOCK = re.compile(r"\{([1-5]):")
_FIELD = re.compile(r"^:([0-9]{2}[A-Z]?):", re.MULTILINE)
_AMOUNT = re.compile(r"^[0-9]{1,14},[0-9]{0,14}$")
_32A = re.compile(r"^([0-9]{6})([A-Z]{3})([0-9,]{2,15})$")


def detect_mt103(data: bytes) -> bool:
    return data.lstrip()[:3] in (b"{1:", b"{2:", b"{4:")


def parse_mt103(data: bytes, *, source: str | None = None, max_bytes: int = MAX_MESSAGE_BYTES) -> Payment:
    """Parse one MT103; :class:`ParseError` names the block or field at fault."""

    def fail(message: str, field: str | None = None) -> ParseError:
        return ParseError(message, path=source, field=field)

    return _parse(data, source, max_bytes, fail)


def _parse(data: bytes, source: str | None, max_bytes: int, fail: Fail) -> Payment:
    if len(data) > max_bytes:
        raise fail(f"message is {len(data)} bytes, more than the limit of {max_bytes}", None)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise fail(
            f"byte {exc.start} is not ASCII; MT messages use the SWIFT X character set", None
        ) from None
    blocks = _blocks(text.strip(), fail)
    if "4" not in blocks:
        raise fail("no text block {4:...-}", "4")
    sender = receiver = None
    if "1" in blocks:
        b1 = blocks["1"]
        if not re.match(r"^F01[A-Z0-9]{12}[0-9]{4}[0-9]{6}$", b1):
            raise fail(f"basic header {b1!r} is not F01 + 12-character address + session + sequence", "1")
        sender = b1[3:11] + b1[12:15]
    if "2" in blocks:
        b2 = blocks["2"]
        if b2.startswith("I"):
            if not re.match(r"^I103[A-Z0-9]{12}[SUN]?[0-9]?[0-9]{0,3}$", b2):
                raise fail(f"application header {b2!r} is not I103 + 12-character receiver address", "2")
            receiver = b2[4:12] + b2[13:16]
        elif b2.startswith("O"):
            if not re.match(r"^O103[0-9]{4}[0-9]{6}[A-Z0-9]{12}[0-9]{10}[0-9]{6}[0-9]{4}[SUN]?$", b2):
                raise fail(f"application header {b2!r} is not a valid O103 output header", "2")
            # Output: block 1 is the receiver, the MIR in block 2 names the sender.
            receiver, sender = sender, b2[14:22] + b2[23:26]
        else:
            raise fail(f"application header {b2!r} must start with I103 or O103", "2")
        if b2[1:4] != "103":
            raise fail(f"message type {b2[1:4]} is not 103", "2")
    uetr = None
    if "3" in blocks:
        m = re.search(r"\{121:([0-9a-f\-]{36})\}", blocks["3"])
        uetr = m.group(1) if m else None

    fields = _fields(blocks["4"], fail)
    seen: dict[str, int] = {}
    for tag, _ in fields:
        base = _base(tag)
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1 and base not in REPEATABLE:
            raise fail(f"field :{tag}: appears more than once", f"4:{tag}")
    for tag in MANDATORY:
        if tag not in seen:
            raise fail(f"mandatory field :{tag}{'a' if tag in ('50', '59') else ''}: is missing", f"4:{tag}")

    values = dict(fields)
    reference = values["20"].strip()
    if not reference or len(reference) > 16 or reference.startswith("/") or "//" in reference:
        raise fail(
            f"reference {reference!r} must be 1-16 characters, not starting with / or holding //", "4:20"
        )
    value_date, currency, amount = _value_date_amount(values["32A"], fail)

    payment = Payment(
        message_id=reference,
        kind=MessageKind.MT103,
        amount=amount,
        currency=currency,
        created=datetime(value_date.year, value_date.month, value_date.day),
        settlement_date=value_date,
        raw=data,
        source=source,
        version="MT103",
    )
    payment.transactions.append(Transaction(1, "4", amount, currency, end_to_end_id=reference, uetr=uetr))
    if sender:
        _check_bic(sender, "1", fail)
        payment.parties.append(Party(PartyRole.SENDER, "1", bic=sender, transaction=1))
    if receiver:
        _check_bic(receiver, "2", fail)
        payment.parties.append(Party(PartyRole.RECEIVER, "2", bic=receiver, transaction=1))
    for tag, value in fields:
        base = _base(tag)
        if base in PARTY_FIELDS:
            role, _ = PARTY_FIELDS[base]
            payment.parties.append(_party(tag, role, value, fail))
        elif tag in TEXT_FIELDS:
            kind, _ = TEXT_FIELDS[tag]
            flat = " ".join(line.strip() for line in value.splitlines() if line.strip())
            if flat:
                payment.free_text.append(FreeText(kind, f"4:{tag}", flat, 1))
    return payment


def _base(tag: str) -> str:
    return tag[:2] if tag[:2] in PARTY_FIELDS else tag


def _blocks(text: str, fail: Fail) -> dict[str, str]:
    """Blocks 1-5 by number. Blocks 3 and 5 nest ``{tag:value}``; block 4 ends with ``-}``."""
    out: dict[str, str] = {}
    pos = 0
    n = len(text)
    while pos < n:
        m = _BLOCK.match(text, pos)
        if m is None:
            raise fail(f"expected a block '{{N:' at character {pos}, found {text[pos : pos + 10]!r}", None)
        number = m.group(1)
        if number in out:
            raise fail(f"block {number} appears twice", number)
        start = m.end()
        if number == "4":
            end = text.find("\n-}", start)
            if end == -1:
                raise fail("text block 4 is not closed by a line '-}' (truncated message?)", "4")
            out["4"] = text[start : end + 1]
            pos = end + 3
        else:
            depth, i = 1, start
            while i < n and depth:
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                i += 1
            if depth:
                raise fail(f"block {number} is not closed (truncated message?)", number)
            out[number] = text[start : i - 1]
            pos = i
        while pos < n and text[pos] in "\r\n":
            pos += 1
    return out


def _fields(block: str, fail: Fail) -> list[tuple[str, str]]:
    """``(tag, value)`` pairs of the text block, checking line length, line count and character set."""
    body = block.replace("\r\n", "\n")
    if not body.startswith("\n:"):
        raise fail("text block must start with a new line and a field tag ':20:'", "4")
    matches = list(_FIELD.finditer(body))
    if not matches or matches[0].start() != 1:
        raise fail("text block holds no field ':NN:'", "4")
    out: list[tuple[str, str]] = []
    for i, m in enumerate(matches):
        tag = m.group(1)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        value = body[m.end() : end].rstrip("\n")
        base = _base(tag)
        if base in PARTY_FIELDS:
            max_lines = PARTY_FIELDS[base][1]
        elif tag in TEXT_FIELDS:
            max_lines = TEXT_FIELDS[tag][1]
        elif tag in OTHER_FIELDS:
            max_lines = OTHER_FIELDS[tag]
        else:
            raise fail(f"field :{tag}: is not an MT103 field", f"4:{tag}")
        lines = value.split("\n")
        if len(lines) > max_lines:
            raise fail(f"{len(lines)} lines, more than the {max_lines} allowed", f"4:{tag}")
        for line in lines:
            if len(line) > LINE_LENGTH:
                raise fail(f"line of {len(line)} characters, more than {LINE_LENGTH}", f"4:{tag}")
            if not _X_CHARS.match(line):
                bad = next(c for c in line if not _X_CHARS.match(c))
                raise fail(f"character {bad!r} is outside the SWIFT X character set", f"4:{tag}")
        if not value.strip():
            raise fail("field is empty", f"4:{tag}")
        out.append((tag, value))
    return out


def _value_date_amount(value: str, fail: Fail) -> tuple[date, str, Decimal]:
    m = _32A.match(value.strip())
    if m is None:
        raise fail(f"{value!r} is not YYMMDD + currency + amount", "4:32A")
    raw_date, currency, raw_amount = m.groups()
    try:
        value_date = datetime.strptime(raw_date, "%y%m%d").date()
    except ValueError:
        raise fail(f"{raw_date!r} is not a date YYMMDD", "4:32A") from None
    if not _AMOUNT.match(raw_amount):
        raise fail(f"amount {raw_amount!r} must be digits with a decimal comma", "4:32A")
    amount = Decimal(raw_amount.replace(",", ".").rstrip("."))
    if amount <= 0:
        raise fail(f"amount {raw_amount} must be positive", "4:32A")
    return value_date, currency, amount


def _check_bic(value: str, field: str, fail: Fail) -> str:
    problem = ids.bic_problem(value)
    if problem:
        raise fail(problem, field)
    return ids.compact(value)


def _party(tag: str, role: PartyRole, value: str, fail: Fail) -> Party:
    """A party field in any option: A (BIC), B (location), C (account), D (name and address), F, K."""
    path = f"4:{tag}"
    party = Party(role, path, transaction=1)
    lines = [line.strip() for line in value.split("\n")]
    option = tag[2:] if len(tag) > 2 else ""
    if lines and lines[0].startswith("/") and option in ("", "A", "B", "C", "D", "F", "K"):
        _set_account(party, lines[0][1:].lstrip("/"), option)
        lines = lines[1:]
    elif option in ("F",) and lines and "/" in lines[0] and not lines[0][:1].isdigit():
        party.other_ids.append(_identifier(lines[0]))  # 50F party identifier: CODE/CC/ID
        lines = lines[1:]
    if option == "A":
        if not lines:
            raise fail("option A needs a BIC line", path)
        party.bic = _check_bic(lines[0], path, fail)
        lines = lines[1:]
    elif option == "C":
        if lines:
            _set_account(party, lines[0].lstrip("/"), option)
        lines = []
    elif option == "B":
        party.address_lines = [line for line in lines if line]
        lines = []
    if option == "F":
        _structured(party, lines, path, fail)
    elif lines:
        party.name = lines[0] or None
        party.address_lines = [line for line in lines[1:] if line]
        if party.address_lines:
            last = party.address_lines[-1].split()
            if last and len(last[-1]) == 2 and last[-1].isalpha() and last[-1].isupper():
                party.country = last[-1]  # "BEIJING 100036 CN": a trailing ISO country code
    if not (party.name or party.bic or party.account or party.iban or party.address_lines or party.other_ids):
        raise fail("party field names nobody", path)
    return party


def _set_account(party: Party, account: str, option: str) -> None:
    account = account.strip()
    if not account:
        return
    if ids.iban_problem(account) is None:
        party.iban = ids.compact(account)
    else:
        party.account = account


def _identifier(line: str) -> Identifier:
    code, _, rest = line.partition("/")
    return Identifier(code, rest)


def _structured(party: Party, lines: list[str], path: str, fail: Fail) -> None:
    """50F / 59F numbered lines: 1/name, 2/address, 3/country/town, 4/birth date, 5/birth place, ..."""
    names: list[str] = []
    for line in lines:
        number, sep, rest = line.partition("/")
        if not sep or not number.isdigit():
            raise fail(f"line {line!r} of option F must start with a line number and '/'", path)
        if number == "1":
            names.append(rest)
        elif number == "2":
            party.address_lines.append(rest)
        elif number == "3":
            country, _, town = rest.partition("/")
            if not re.match(r"^[A-Z]{2}$", country):
                raise fail(f"'3/' line must start with a two-letter country code: {line!r}", path)
            party.country = country
            party.town = town or None
            if town:
                party.address_lines.append(town)
        elif number in ("4", "5", "6", "7", "8"):
            scheme = {
                "4": "birth_date",
                "5": "place_of_birth",
                "6": "customer_id",
                "7": "national_id",
                "8": "additional",
            }[number]
            party.other_ids.append(Identifier(scheme, rest))
        else:
            raise fail(f"line number {number} is not defined for option F", path)
    party.name = " ".join(names) or None
