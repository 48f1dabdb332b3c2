import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson

from clearance.ledger import Ledger
from clearance.reports.ofac import Filer, all_reports, annual_report, to_json, to_pdf

FILER = Filer(name="First National Bank of Chicago", address="1 Bank Plaza, Chicago IL")


def seeded(tmp_path: Path) -> Ledger:
    ledger = Ledger(tmp_path / "c.sqlite3")
    ledger.block(
        owner="CEIEC",
        owner_entity_id="ofac-sdn:30502",
        programs=["VENEZUELA"],
        amount=Decimal("250000.00"),
        currency="USD",
        blocked_on=date(2020, 12, 15),
        message_id="MSG-1",
        message_kind="pacs.008",
        raw_message=b"<Document/>",
        annual_rate=Decimal("0.0100"),
        details={"originator": "Lakeshore Instruments LLC", "beneficiary": "CEIEC"},
    )
    ledger.reject(
        owner="Pars Lab Supplies",
        programs=["IRAN"],
        amount=Decimal("2500.00"),
        currency="USD",
        rejected_on=date(2021, 7, 1),
        message_id="LKSI-PAY-2021-0042",
        message_kind="pain.001",
    )
    return ledger


def test_block_on_2020_12_15_is_reported_by_2020_12_30(tmp_path: Path) -> None:
    with seeded(tmp_path) as ledger:
        reports = all_reports(ledger, FILER, today=date(2020, 12, 16))
        assert [(r.id, r.kind, r.due) for r in reports] == [("RBP-000001", "blocked", date(2020, 12, 30))]
        body = reports[0].to_dict()
        assert body["property"]["owner"] == "CEIEC" and body["property"]["amount"] == "250000.00"
        assert body["filer"]["name"] == FILER.name


def test_rejection_report_due_after_independence_day_and_annual_report_listed(tmp_path: Path) -> None:
    with seeded(tmp_path) as ledger:
        reports = {r.id: r for r in all_reports(ledger, FILER, today=date(2021, 7, 2))}
        # 1 July 2021 + 10 business days, with 5 July (Independence Day observed) skipped: 16 July.
        assert reports["RRT-000002"].due == date(2021, 7, 16)
        assert reports["ARBP-2021"].due == date(2021, 9, 30)
        assert "ARBP-2020" not in reports  # nothing was blocked on 30 June 2020


def test_annual_report_values_holdings_with_interest_net_of_releases(tmp_path: Path) -> None:
    with seeded(tmp_path) as ledger:
        ledger.release(
            1, license_id="OFAC-LIC-2021-7", released_on=date(2021, 3, 1), amount=Decimal("50000.00")
        )
        report = annual_report(ledger, 2021, FILER)
        item = report.to_dict()["holdings"][0]
        assert item["principal_outstanding"] == "200000.00"
        # 76 days on 250,000 then 121 days on 200,000 at 1%/365.
        expected = (
            Decimal(250000) * Decimal("0.01") * 76 / 365 + Decimal(200000) * Decimal("0.01") * 121 / 365
        )
        assert Decimal(item["interest_accrued"]) == expected.quantize(Decimal("0.01"))
        assert item["released_under_license"][0]["license_id"] == "OFAC-LIC-2021-7"
        assert report.to_dict()["totals"]["USD"] == item["value_as_of"]


def test_json_and_pdf_exports(tmp_path: Path) -> None:
    with seeded(tmp_path) as ledger:
        report = all_reports(ledger, FILER, today=date(2020, 12, 16))[0]
        assert orjson.loads(to_json(report))["due"] == "2020-12-30"
        pdf = to_pdf(report)
        assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
        assert b"Report of Blocked Property" in pdf and b"CEIEC" in pdf
        # every cross-reference offset points at the object it names
        start = int(re.search(rb"startxref\n(\d+)", pdf).group(1))  # type: ignore[union-attr]
        assert pdf[start:].startswith(b"xref")
        offsets = re.findall(rb"(\d{10}) 00000 n", pdf)
        for number, offset in enumerate(offsets, 1):
            assert pdf[int(offset) :].startswith(b"%d 0 obj" % number)
