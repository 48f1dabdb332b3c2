import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from clearance.ledger import Ledger, LedgerError, accrued_interest


def make_ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "clearance.sqlite3")


def block(ledger: Ledger, amount: str = "184250.00", rate: str = "0.0365", day: date = date(2020, 12, 15)):  # type: ignore[no-untyped-def]
    return ledger.block(
        owner="CEIEC",
        owner_entity_id="ofac-sdn:30502",
        programs=["VENEZUELA-EO13692"],
        amount=Decimal(amount),
        currency="USD",
        blocked_on=day,
        message_id="FNBC-1",
        message_kind="pacs.008",
        raw_message=b"<Document/>",
        annual_rate=Decimal(rate),
    )


def test_block_entry_keeps_owner_program_amount_and_message(tmp_path: Path) -> None:
    with make_ledger(tmp_path) as ledger:
        entry = block(ledger)
        assert entry.seq == 1 and entry.kind == "block"
        assert entry.amount == Decimal("184250.00") and entry.programs == ("VENEZUELA-EO13692",)
        assert entry.message_sha256 is not None
        assert ledger.message(entry.message_sha256) == b"<Document/>"


def test_update_and_delete_are_refused_by_the_database(tmp_path: Path) -> None:
    with make_ledger(tmp_path) as ledger:
        block(ledger)
        ledger.record_malformed(b"<bad", reason="truncated")
    db = sqlite3.connect(tmp_path / "clearance.sqlite3")
    for sql in (
        "UPDATE ledger_entries SET amount = '1'",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_messages SET raw = x'00'",
        "DELETE FROM rejected_messages",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)


def test_tampering_behind_the_triggers_breaks_the_hash_chain(tmp_path: Path) -> None:
    with make_ledger(tmp_path) as ledger:
        block(ledger)
        block(ledger, amount="10.00")
        assert ledger.verify() == 2
    db = sqlite3.connect(tmp_path / "clearance.sqlite3", isolation_level=None)
    db.execute("DROP TRIGGER ledger_entries_no_update")
    db.execute("UPDATE ledger_entries SET amount = '1.00' WHERE seq = 1")
    db.close()
    with make_ledger(tmp_path) as ledger, pytest.raises(LedgerError, match="entry 1"):
        ledger.verify()


def test_release_needs_a_license_and_cannot_exceed_what_is_blocked(tmp_path: Path) -> None:
    with make_ledger(tmp_path) as ledger:
        entry = block(ledger, amount="100.00")
        with pytest.raises(LedgerError, match="license"):
            ledger.release(entry.seq, license_id=" ", released_on=date(2021, 1, 5))
        with pytest.raises(LedgerError, match="outstanding"):
            ledger.release(
                entry.seq, license_id="OFAC-2021-123", released_on=date(2021, 1, 5), amount=Decimal(101)
            )
        release = ledger.release(
            entry.seq, license_id="OFAC-2021-123", released_on=date(2021, 1, 5), amount=Decimal(40)
        )
        assert release.ref == entry.seq and release.license_id == "OFAC-2021-123"
        rest = ledger.release(entry.seq, license_id="OFAC-2021-124", released_on=date(2021, 2, 1))
        assert rest.amount == Decimal(60)
        assert ledger.holdings(date(2021, 3, 1)) == []
        assert len(ledger.holdings(date(2021, 3, 1), include_released=True)) == 1
        assert ledger.entry(entry.seq).amount == Decimal("100.00")  # the block entry itself is unchanged


def test_interest_is_simple_daily_on_outstanding_principal(tmp_path: Path) -> None:
    # 3.65% a year is 0.01% a day: 1,000,000 earns 100.00 a day.
    with make_ledger(tmp_path) as ledger:
        entry = block(ledger, amount="1000000.00", rate="0.0365", day=date(2021, 1, 1))
        assert ledger.holding(entry, date(2021, 1, 1)).interest == 0
        assert ledger.holding(entry, date(2021, 1, 11)).interest_rounded == Decimal("1000.00")
        ledger.release(entry.seq, license_id="L-1", released_on=date(2021, 1, 11), amount=Decimal(500000))
        held = ledger.holding(entry, date(2021, 1, 21))
        assert held.principal == Decimal("500000.00")
        assert held.interest_rounded == Decimal("1500.00")  # 10 days at 100 + 10 days at 50
        assert held.balance == Decimal("501500.00")


def test_accrued_interest_is_zero_before_the_next_day() -> None:
    assert accrued_interest(Decimal(100), Decimal("0.05"), date(2021, 1, 2), date(2021, 1, 1)) == 0


def test_malformed_messages_are_kept_with_their_reason(tmp_path: Path) -> None:
    with make_ledger(tmp_path) as ledger:
        kept = ledger.record_malformed(
            b"{4:\r\n:20:X", reason="block 4 not closed", field="4", source="a.txt"
        )
        assert ledger.malformed_messages()[0].reason == "block 4 not closed"
        assert ledger.malformed_messages()[0].raw == b"{4:\r\n:20:X" and kept.field == "4"
        assert ledger.verify() == 1


def test_chain_survives_reopening(tmp_path: Path) -> None:
    with make_ledger(tmp_path) as ledger:
        block(ledger)
    with make_ledger(tmp_path) as ledger:
        second = block(ledger)
        assert second.seq == 2 and second.prev_hash == ledger.entry(1).hash
        assert ledger.verify() == 2
