"""Payments carry their transaction type: the caller's flag is what a license such as Venezuela GL 38
(wind-down dealings with CEIEC until 2021-01-14 00:01 US Eastern) reads; a message's own wording is
only recorded."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from clearance.cli import cli
from clearance.errors import QueryError
from clearance.ledger import Ledger
from clearance.payments.screen import PaymentScreener, condition_consequences, parse_message, record
from clearance.policy.licenses import bundled_licenses
from clearance.policy.types import MessageOutcome, Outcome, ReasonCode
from clearance.reports.ofac import Filer, blocked_report

from .factories import FIXTURES, fixture, pacs008
from .test_cli import home_with_lists
from .world import make_screener

GL38 = "OFAC-VENEZUELA-GL38"
WIND_DOWN_DAY = datetime(2020, 12, 15, 11)  # CEIEC listed on 2020-11-30; GL 38 in force
AFTER_GL38 = datetime(2021, 1, 20, 10)


@pytest.fixture()
def screener(tmp_path: Path) -> PaymentScreener:
    return make_screener(tmp_path)


def to_ceiec(remittance: str = "Invoice 7", **kw: str) -> bytes:
    return pacs008(
        creditor="China Electronics Import-Export Co.",
        creditor_country="CN",
        creditor_bic="BKCHCNBJ110",
        amount="1200000.00",
        settlement="2020-12-15",
        remittance=remittance,
        **kw,
    )


def test_wind_down_payment_during_gl38_is_authorized_naming_license_window_and_conditions(
    screener: PaymentScreener,
) -> None:
    result = screener.screen_bytes(to_ceiec(), as_of=WIND_DOWN_DAY, transaction="wind-down")
    assert result.outcome is MessageOutcome.AUTHORIZED
    reason = result.reasons[0]
    assert (reason.outcome, reason.entity_id, reason.license_id) == (
        Outcome.AUTHORIZED,
        "ofac-sdn:30502",
        GL38,
    )
    assert reason.details["prohibited"] == "BLOCK"
    [auth] = result.authorizations
    assert auth.license_id == GL38 and auth.parties == [reason.party]
    assert auth.valid_until == "2021-01-14T00:01:00-05:00"
    data = result.to_dict()
    assert data["transaction"] == {"type": "wind-down", "message_hint": None}
    conditions = {c["code"]: c["consequence"] for c in data["authorizations"][0]["conditions"]}
    assert conditions["no-debit-of-blocked-account"] == "blocked_account"
    assert "report-and-keep-records" in conditions
    assert data["authorizations"][0]["window"].startswith("2020-11-30 00:00 EST to 2021-01-14 00:01 EST")


@pytest.mark.parametrize("transaction", [None, "payment", "any"])
def test_the_same_payment_not_flagged_wind_down_is_blocked(
    screener: PaymentScreener, transaction: str | None
) -> None:
    result = screener.screen_bytes(to_ceiec(), as_of=WIND_DOWN_DAY, transaction=transaction)
    assert result.outcome is MessageOutcome.BLOCK
    assert result.transaction == (transaction or "payment") and result.authorizations == []
    creditor = next(d for d in result.decision.parties if d.outcome is Outcome.BLOCK)  # type: ignore[union-attr]
    misses = [r for r in creditor.reasons if r.code is ReasonCode.LICENSE_NOT_APPLICABLE]
    assert misses and misses[0].license_id == GL38 and "wind-down" in misses[0].message


def test_wind_down_after_gl38_expired_is_blocked(screener: PaymentScreener) -> None:
    data = to_ceiec().replace(b"2020-12-15", b"2021-01-20")
    result = screener.screen_bytes(data, as_of=AFTER_GL38, transaction="wind-down")
    assert result.outcome is MessageOutcome.BLOCK and result.authorizations == []
    creditor = next(d for d in result.decision.parties if d.outcome is Outcome.BLOCK)  # type: ignore[union-attr]
    miss = next(r for r in creditor.reasons if r.code is ReasonCode.LICENSE_NOT_APPLICABLE)
    assert "is not valid at 2021-01-20" in miss.message


def test_gl38_window_ends_at_one_minute_past_midnight_eastern(screener: PaymentScreener) -> None:
    payment = parse_message(to_ceiec())
    last = screener.screen(payment, as_of=datetime(2021, 1, 14, 0, 0, 59), transaction="wind-down")
    ended = screener.screen(payment, as_of=datetime(2021, 1, 14, 0, 1), transaction="wind-down")
    assert (last.outcome, ended.outcome) == (MessageOutcome.AUTHORIZED, MessageOutcome.BLOCK)


def test_mt103_wind_down_is_authorized_too(screener: PaymentScreener) -> None:
    result = screener.screen_bytes(fixture("mt103_ceiec.txt"), as_of=WIND_DOWN_DAY, transaction="wind-down")
    assert result.outcome is MessageOutcome.AUTHORIZED
    assert result.authorizations[0].parties == ["4:59"]


@pytest.mark.parametrize(
    "remittance",
    ["Wind-down of contract CE-20-8841", "WIND DOWN PAYMENT", "winding down per GL 38"],
)
def test_a_message_saying_wind_down_is_recorded_but_authorizes_nothing(
    screener: PaymentScreener, remittance: str
) -> None:
    result = screener.screen_bytes(to_ceiec(remittance), as_of=WIND_DOWN_DAY)
    assert result.outcome is MessageOutcome.BLOCK
    hint = result.to_dict()["transaction"]["message_hint"]
    assert hint["type"] == "wind-down" and hint["authorizes"] is False
    assert hint["path"].endswith("RmtInf/Ustrd") and hint["text"] == remittance
    assert result.to_dict()["transaction"]["type"] == "payment"


def test_a_proprietary_purpose_saying_wind_down_is_a_hint_too(screener: PaymentScreener) -> None:
    data = to_ceiec(extra_tx="<Purp><Prtry>WIND DOWN</Prtry></Purp>")
    result = screener.screen_bytes(data, as_of=WIND_DOWN_DAY)
    assert result.outcome is MessageOutcome.BLOCK
    assert result.hint is not None and result.hint.path.endswith("Purp/Prtry")


def test_ordinary_text_is_no_hint(screener: PaymentScreener) -> None:
    for text in ("Invoice 7", "downpayment for windows", "shutdown costs"):
        assert screener.screen_bytes(to_ceiec(text), as_of=WIND_DOWN_DAY).hint is None, text


def test_authorized_wind_down_credits_a_blocked_account_and_a_report_falls_due(
    screener: PaymentScreener, tmp_path: Path
) -> None:
    result = screener.screen_bytes(to_ceiec(), as_of=WIND_DOWN_DAY, transaction="wind-down")
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        [entry] = record(result, ledger)
    assert (entry.kind, entry.amount, entry.event_date) == (
        "block",
        Decimal("1200000.00"),
        date(2020, 12, 15),
    )
    assert entry.owner_entity_id == "ofac-sdn:30502" and entry.programs == ("VENEZUELA",)
    assert entry.details["authorized_by"] == [GL38] and entry.details["transaction_type"] == "wind-down"
    assert [c["code"] for c in entry.details["blocked_account_conditions"]] == ["no-debit-of-blocked-account"]
    assert blocked_report(entry, Filer()).due == date(2020, 12, 30)  # 10 business days, Christmas excluded


def test_authorized_wind_down_paid_by_ceiec_records_nothing(
    screener: PaymentScreener, tmp_path: Path
) -> None:
    """GL 38 sends funds *for the benefit of* CEIEC to a blocked account; CEIEC paying is not that."""
    data = pacs008(debtor="China National Electronics Import and Export Corporation", settlement="2020-12-15")
    result = screener.screen_bytes(data, as_of=WIND_DOWN_DAY, transaction="wind-down")
    assert result.outcome is MessageOutcome.AUTHORIZED
    assert result.authorizations[0].parties[0].endswith("/Dbtr")
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert record(result, ledger) == []


def test_an_unknown_transaction_type_is_refused_before_reading(screener: PaymentScreener) -> None:
    with pytest.raises(QueryError, match="wind_down"):
        screener.screen_bytes(to_ceiec(), as_of=WIND_DOWN_DAY, transaction="wind_down")
    with pytest.raises(QueryError):
        screener.screen(parse_message(to_ceiec()), as_of=WIND_DOWN_DAY, transaction="")


def test_a_malformed_message_keeps_the_type_it_was_sent_as(screener: PaymentScreener) -> None:
    result = screener.screen_bytes(fixture("malformed_truncated.xml"), transaction="wind-down")
    assert result.outcome is MessageOutcome.REJECT
    assert result.to_dict()["transaction"]["type"] == "wind-down"


def test_condition_consequences_name_conditions_of_shipped_licenses() -> None:
    codes = {c.code for lic in bundled_licenses() for c in lic.conditions}
    assert condition_consequences() and set(condition_consequences()) <= codes


def test_cli_screens_as_wind_down_and_refuses_unknown_types(tmp_path: Path) -> None:
    home = home_with_lists(tmp_path)
    runner = CliRunner()
    base = ["--home", str(home), "payments", "screen", str(FIXTURES / "pacs008_ceiec.xml")]
    out = runner.invoke(cli, [*base, "--as-of", "2020-12-15", "--transaction", "wind-down", "--json"])
    assert out.exit_code == 0, out.output
    [row] = orjson.loads(out.output)
    assert row["outcome"] == "AUTHORIZED" and row["authorizations"][0]["license_id"] == GL38
    assert row["ledger_entries"] == [1]
    text = runner.invoke(cli, [*base, "--as-of", "2020-12-15", "--transaction", "wind-down", "--no-record"])
    assert text.output.startswith("AUTHORIZED")
    assert f"license    {GL38}, valid 2020-11-30" in text.output
    assert "condition  no-debit-of-blocked-account:" in text.output
    blocked = runner.invoke(cli, [*base, "--as-of", "2020-12-15", "--no-record"])
    assert blocked.output.startswith("BLOCK")
    bad = runner.invoke(cli, [*base, "--transaction", "wind_down"])
    assert bad.exit_code == 2 and "wind-down" in bad.output
