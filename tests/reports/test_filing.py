"""Filing OFAC reports: status (due / overdue / filed) across federal holidays, append-only records, CLI."""

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from clearance.cli import cli
from clearance.ledger import Ledger
from clearance.reports.filings import FilingError, FilingStore, report_statuses
from clearance.reports.ofac import Filer, all_reports, find_report

FILER = Filer(name="First National Bank of Chicago")


def db(tmp_path: Path) -> Path:
    return tmp_path / "clearance.sqlite3"


def block(ledger: Ledger, day: date, amount: str = "250000.00", owner: str = "CEIEC") -> int:
    return ledger.block(
        owner=owner,
        owner_entity_id="ofac-sdn:30502",
        programs=["VENEZUELA-EO13692"],
        amount=Decimal(amount),
        currency="USD",
        blocked_on=day,
    ).seq


def status_on(tmp_path: Path, report_id: str, today: date):  # type: ignore[no-untyped-def]
    with Ledger(db(tmp_path)) as ledger, FilingStore(db(tmp_path)) as filings:
        report = find_report(ledger, FILER, report_id, today=today)
        [status] = report_statuses([report], filings, today=today)
        return status


def file(tmp_path: Path, report_id: str, filed_on: date, today: date, **kw: object):  # type: ignore[no-untyped-def]
    with Ledger(db(tmp_path)) as ledger, FilingStore(db(tmp_path)) as filings:
        report = find_report(ledger, FILER, report_id, today=today)
        return filings.file(report, filed_on=filed_on, filed_by="alice", today=today, **kw)  # type: ignore[arg-type]


# -- due and overdue across federal holidays ------------------------------------------------------


def test_block_before_christmas_is_due_and_not_overdue_until_after_2020_12_30(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
    first = status_on(tmp_path, "RBP-000001", date(2020, 12, 16))
    assert first.state == "due" and first.report.due == date(2020, 12, 30)
    # 14 calendar days, of which 10 are business days (25 December is not)
    assert (first.days_left, first.business_days_left) == (14, 9)
    christmas_eve = status_on(tmp_path, "RBP-000001", date(2020, 12, 24))
    assert christmas_eve.business_days_left == 3  # 28, 29, 30 December; not the 25th
    assert status_on(tmp_path, "RBP-000001", date(2020, 12, 30)).summary() == "due today"
    late = status_on(tmp_path, "RBP-000001", date(2020, 12, 31))
    assert late.state == "overdue" and late.days_late == 1 and late.summary() == "OVERDUE by 1 day"


def test_thanksgiving_moves_the_due_date_so_the_tenth_weekday_is_not_overdue(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 11, 20))
    # Ten weekdays after Friday 20 November end on 4 December; Thanksgiving (26th) pushes it to the 7th.
    assert status_on(tmp_path, "RBP-000001", date(2020, 12, 7)).state == "due"
    assert status_on(tmp_path, "RBP-000001", date(2020, 12, 8)).state == "overdue"


def test_filing_on_or_before_the_due_date_is_on_time_and_after_it_is_late(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
        block(ledger, date(2020, 12, 15), owner="CEIEC subsidiary")
    on_time = file(tmp_path, "RBP-000001", date(2020, 12, 30), date(2021, 1, 10), reference="OFAC-2020-77")
    late = file(tmp_path, "RBP-000002", date(2020, 12, 31), date(2021, 1, 10))
    assert not on_time.late and late.late
    first = status_on(tmp_path, "RBP-000001", date(2021, 1, 10))
    second = status_on(tmp_path, "RBP-000002", date(2021, 1, 10))
    assert first.state == second.state == "filed"
    assert first.summary() == "filed 2020-12-30 (on time, ref OFAC-2020-77)"
    assert second.days_late == 1 and "late by 1 day" in second.summary()


# -- append-only records: corrections, retractions ------------------------------------------------


def test_a_filed_report_is_filed_again_only_as_a_correction_that_then_stands(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
    first = file(tmp_path, "RBP-000001", date(2020, 12, 29), date(2021, 1, 10))
    with pytest.raises(FilingError, match="already filed on 2020-12-29.*--corrects 1"):
        file(tmp_path, "RBP-000001", date(2020, 12, 31), date(2021, 1, 10))
    fixed = file(tmp_path, "RBP-000001", date(2020, 12, 31), date(2021, 1, 10), corrects=first.seq)
    with pytest.raises(FilingError, match="not the current record"):
        file(tmp_path, "RBP-000001", date(2020, 12, 30), date(2021, 1, 10), corrects=first.seq)
    status = status_on(tmp_path, "RBP-000001", date(2021, 1, 10))
    assert status.filing is not None and status.filing.seq == fixed.seq and status.filing.late
    with FilingStore(db(tmp_path)) as filings:
        assert [(f.seq, f.filed_on) for f in filings.history("RBP-000001")] == [
            (1, date(2020, 12, 29)),
            (2, date(2020, 12, 31)),
        ]


def test_retracting_a_filing_makes_the_report_outstanding_and_overdue_again(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
    first = file(tmp_path, "RBP-000001", date(2020, 12, 29), date(2021, 1, 10))
    with Ledger(db(tmp_path)) as ledger, FilingStore(db(tmp_path)) as filings:
        report = find_report(ledger, FILER, "RBP-000001", today=date(2021, 1, 10))
        filings.retract(report, corrects=first.seq, filed_by="bob", note="entered against the wrong report")
        with pytest.raises(FilingError, match="retraction"):
            filings.retract(report, corrects=2, filed_by="bob")
        assert (
            report_statuses([report], filings, today=date(2021, 1, 10), outstanding=True)[0].state
            == "overdue"
        )
        assert filings.verify() == 2


def test_filing_dates_before_the_event_or_in_the_future_are_refused(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
    with pytest.raises(FilingError, match="before the report's event date"):
        file(tmp_path, "RBP-000001", date(2020, 12, 14), date(2021, 1, 10))
    with pytest.raises(FilingError, match="in the future"):
        file(tmp_path, "RBP-000001", date(2021, 1, 11), date(2021, 1, 10))


def test_filing_records_refuse_update_and_delete_in_the_database(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
    file(tmp_path, "RBP-000001", date(2020, 12, 29), date(2021, 1, 10))
    raw = sqlite3.connect(db(tmp_path))
    for sql in ("UPDATE report_filings SET filed_on = '2020-12-20'", "DELETE FROM report_filings"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute(sql)
    raw.close()


def test_editing_a_filing_behind_the_triggers_breaks_the_hash_chain(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
    file(tmp_path, "RBP-000001", date(2020, 12, 31), date(2021, 1, 10))
    raw = sqlite3.connect(db(tmp_path), isolation_level=None)
    raw.execute("DROP TRIGGER report_filings_no_update")
    raw.execute("UPDATE report_filings SET filed_on = '2020-12-29'")  # pretend it was on time
    raw.close()
    with FilingStore(db(tmp_path)) as filings, pytest.raises(FilingError, match="record 1"):
        filings.verify()


def test_the_filing_keeps_the_report_exactly_as_filed(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15), amount="1234.56")
    record = file(tmp_path, "RBP-000001", date(2020, 12, 29), date(2021, 1, 10))
    with FilingStore(db(tmp_path)) as filings:
        snapshot = filings.snapshot(record.seq)
    assert snapshot is not None
    assert orjson.loads(snapshot)["property"]["amount"] == "1234.56"


# -- the annual report ----------------------------------------------------------------------------


def test_annual_report_is_listed_due_30_september_and_can_be_filed(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2021, 2, 1))
        ids = [r.id for r in all_reports(ledger, FILER, today=date(2021, 6, 29))]
        assert "ARBP-2021" not in ids  # 30 June has not come yet
    status = status_on(tmp_path, "ARBP-2021", date(2021, 7, 1))
    assert status.report.due == date(2021, 9, 30) and status.state == "due"
    file(tmp_path, "ARBP-2021", date(2021, 9, 15), date(2021, 9, 20))
    assert status_on(tmp_path, "ARBP-2021", date(2021, 10, 1)).state == "filed"
    assert status_on(tmp_path, "RBP-000001", date(2021, 10, 1)).state == "overdue"


# -- CLI ------------------------------------------------------------------------------------------


def run(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def test_cli_due_fails_on_overdue_until_the_report_is_filed(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
        ledger.reject(
            owner="Pars Lab Supplies", programs=["IRAN"], amount=Decimal(2500), currency="USD",
            rejected_on=date(2021, 1, 4),
        )  # fmt: skip
    today = ["--today", "2021-01-05"]
    due = run(tmp_path, "reports", "due", "--outstanding", "--fail-on-overdue", *today)
    assert due.exit_code == 1, due.output
    assert "RBP-000001" in due.output and "OVERDUE by 6 days" in due.output
    assert "RRT-000002" in due.output and "due in 14 days (9 business)" in due.output  # MLK Day 18 Jan

    filed = run(
        tmp_path, "reports", "file", "RBP-000001", "--filed-on", "2021-01-04", "--by", "alice", *today
    )
    assert filed.exit_code == 0, filed.output
    assert "filed 2021-01-04 (LATE, due 2020-12-30)" in filed.output

    again = run(tmp_path, "reports", "due", "--outstanding", "--fail-on-overdue", "--json", *today)
    assert again.exit_code == 0, again.output
    assert [(r["id"], r["state"]) for r in orjson.loads(again.output)] == [("RRT-000002", "due")]
    everything = orjson.loads(run(tmp_path, "reports", "due", "--json", *today).output)
    filed_row = next(r for r in everything if r["id"] == "RBP-000001")
    assert filed_row["state"] == "filed" and filed_row["filing"]["filed_by"] == "alice"
    assert filed_row["filing"]["late"] is True and filed_row["days_late"] == 5


def test_cli_refuses_a_second_filing_and_shows_the_history_with_corrections(tmp_path: Path) -> None:
    with Ledger(db(tmp_path)) as ledger:
        block(ledger, date(2020, 12, 15))
    today = ["--today", "2021-01-05", "--by", "alice"]
    assert run(tmp_path, "reports", "file", "RBP-000001", "--filed-on", "2020-12-28", *today).exit_code == 0
    again = run(tmp_path, "reports", "file", "RBP-000001", "--filed-on", "2020-12-29", *today)
    assert again.exit_code != 0 and "already filed" in str(again.exception or again.output)
    fixed = run(
        tmp_path, "reports", "file", "RBP-000001", "--filed-on", "2020-12-29", "--corrects", "1",
        "--reference", "OFAC-CASE-9", *today,
    )  # fmt: skip
    assert fixed.exit_code == 0, fixed.output
    shown = orjson.loads(
        run(tmp_path, "reports", "show", "RBP-000001", "--today", "2021-01-05", "--json").output
    )
    assert shown["state"] == "filed" and shown["filing"]["reference"] == "OFAC-CASE-9"
    assert [(f["seq"], f["corrects"]) for f in shown["filings"]] == [(1, None), (2, 1)]
    unknown = run(tmp_path, "reports", "file", "RBP-000099", "--filed-on", "2020-12-29", *today)
    assert unknown.exit_code != 0 and "no report 'RBP-000099'" in str(unknown.exception)
