from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.payments.model import MessageKind, PartyRole, TextKind
from clearance.payments.mt103 import parse_mt103

from .factories import fixture

CEIEC = fixture("mt103_ceiec.txt")


def test_mt103_reads_headers_parties_and_fields_70_72() -> None:
    payment = parse_mt103(CEIEC, source="mt103_ceiec.txt")
    assert payment.kind is MessageKind.MT103 and payment.message_id == "FNBC20210120417"
    assert payment.amount == Decimal("184250.00") and payment.currency == "USD"
    assert payment.settlement_date == date(2021, 1, 20)
    assert payment.transactions[0].uetr == "5d1e6a2c-8f3b-4f0e-9c2a-71b04c1d2e9a"
    assert payment.parties_in(PartyRole.SENDER)[0].bic == "FNBCUS44XXX"
    assert payment.parties_in(PartyRole.RECEIVER)[0].bic == "BKCHCNBJ110"
    beneficiary = payment.parties_in(PartyRole.BENEFICIARY)[0]
    assert beneficiary.name == "CHINA ELECTRONICS IMPORT-EXPORT CO."
    assert beneficiary.account == "778812349920015" and beneficiary.country == "CN"
    assert beneficiary.path == "4:59"
    assert payment.parties_in(PartyRole.ACCOUNT_WITH_INSTITUTION)[0].bic == "BKCHCNBJ110"
    texts = {t.kind: t.text for t in payment.free_text}
    assert texts[TextKind.MT103_70] == "/INV/CE-20-8841 CAMERA MODULES"
    assert texts[TextKind.MT103_72].startswith("/ACC/")


def test_mt103_option_f_structured_parties_and_iban() -> None:
    payment = parse_mt103(fixture("mt103_clean.txt"))
    ordering = payment.parties_in(PartyRole.ORDERING_CUSTOMER)[0]
    assert ordering.name == "LAKESHORE INSTRUMENTS LLC" and ordering.country == "US"
    assert ordering.town == "CHICAGO IL 60606"
    beneficiary = payment.parties_in(PartyRole.BENEFICIARY)[0]
    assert beneficiary.iban == "DE89370400440532013000" and beneficiary.countries == ["DE"]
    assert payment.amount == Decimal(10000)


def _reject(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as err:
        parse_mt103(data)
    return err.value


def test_missing_beneficiary_is_rejected_naming_the_field() -> None:
    start = CEIEC.index(b":59:")
    end = CEIEC.index(b":70:")
    assert _reject(CEIEC[:start] + CEIEC[end:]).field == "4:59"


def test_truncated_text_block_is_rejected() -> None:
    err = _reject(CEIEC[: CEIEC.index(b":70:")])
    assert err.field == "4" and "truncated" in str(err)


def test_long_lines_bad_characters_and_bad_dates_are_rejected() -> None:
    long_line = CEIEC.replace(b"/INV/CE-20-8841 CAMERA MODULES", b"/INV/" + b"X" * 40)
    assert _reject(long_line).field == "4:70"
    assert "character set" in str(_reject(CEIEC.replace(b"CAMERA MODULES", b"CAMERA_MODULES")))
    assert _reject(CEIEC.replace(b":32A:210120", b":32A:211320")).field == "4:32A"
    assert _reject(CEIEC.replace(b":57A:BKCHCNBJ110", b":57A:BK1")).field == "4:57A"


def test_repeated_field_and_unknown_field_are_rejected() -> None:
    assert "more than once" in str(_reject(CEIEC.replace(b":71A:SHA", b":71A:SHA\r\n:71A:OUR")))
    assert _reject(CEIEC.replace(b":71A:SHA", b":71A:SHA\r\n:99Z:X")).field == "4:99Z"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0), pos=st.integers(min_value=0), char=st.characters())
def test_truncated_or_mutated_mt103_parse_fully_or_are_rejected(cut: int, pos: int, char: str) -> None:
    cut %= len(CEIEC)
    pos %= len(CEIEC)
    for variant in (CEIEC[:cut], CEIEC[:pos] + char.encode("utf-8", "replace") + CEIEC[pos + 1 :]):
        try:
            payment = parse_mt103(variant)
        except ParseError as err:
            assert str(err)
            continue
        assert payment.parties_in(PartyRole.BENEFICIARY) and payment.amount > 0


@settings(max_examples=200)
@given(st.binary(max_size=1000))
def test_arbitrary_bytes_never_crash_the_mt103_parser(data: bytes) -> None:
    try:
        parse_mt103(data)
    except ParseError:
        pass
