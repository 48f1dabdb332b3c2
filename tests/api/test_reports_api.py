"""/v1/reports and /v1/ledger end to end: the real server on 127.0.0.1, the real ledger and audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from clearance.audit import AuditLog, audit_path
from clearance.ledger import Ledger
from clearance.ledger.release import release_under_license
from clearance.policy.licenses import License
from clearance.settings import Settings
from tests.api.harness import Server, auth, make_key, seed_home

Served = tuple[Server, dict[str, str]]


def seed_ledger(home: Path) -> None:
    """Two blocks before Christmas 2020 (one later released under a license) and a rejection."""
    unblock = License(
        id="OFAC-SL-2021-7",
        kind="specific",
        title="Release of funds",
        programs=["VENEZUELA"],
        transaction_types=["release"],
    )
    with Ledger(Settings.load(home).database_path) as ledger:
        for amount in ("250000.00", "1000.00"):
            ledger.block(
                owner="CEIEC",
                owner_entity_id="ofac-sdn:30502",
                programs=["VENEZUELA-EO13692"],
                amount=Decimal(amount),
                currency="USD",
                blocked_on=date(2020, 12, 15),
                message_id="FNBC-1",
                message_kind="pacs.008",
            )
        ledger.reject(
            owner="Pars Lab Supplies",
            programs=["IRAN"],
            amount=Decimal("2500.00"),
            currency="USD",
            rejected_on=date(2021, 1, 4),
        )
        release_under_license(
            ledger, 2, license_id=unblock.id, licenses=[unblock], released_on=date(2021, 3, 1)
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("home")
    seed_home(home)
    seed_ledger(home)
    keys = {role: make_key(home, role) for role in ("screen", "analyst")}
    with Server(home, "--reload-interval", "0") as server:
        yield server, keys


def get(served: Served, path: str, role: str = "analyst", **params: str) -> httpx.Response:
    server, keys = served
    return httpx.get(server.url + path, headers=auth(keys[role]), params=params, timeout=30)


def post(served: Served, path: str, body: object) -> httpx.Response:
    server, keys = served
    return httpx.post(server.url + path, json=body, headers=auth(keys["analyst"]), timeout=30)


def test_reports_need_an_analyst_key(served: Served) -> None:
    server, _ = served
    assert httpx.get(server.url + "/v1/reports").status_code == 401
    r = get(served, "/v1/reports", role="screen")
    assert r.status_code == 403 and "analyst" in r.json()["detail"]
    assert get(served, "/v1/ledger", role="screen").status_code == 403


def test_due_and_overdue_are_counted_in_business_days_across_christmas(served: Served) -> None:
    before = get(served, "/v1/reports", today="2020-12-24")
    assert before.status_code == 200, before.text
    first, second = before.json()["reports"]
    assert (first["id"], first["due"], first["state"]) == ("RBP-000001", "2020-12-30", "due")
    assert (second["id"], second["state"]) == ("RBP-000002", "due")
    assert first["business_days_left"] == 3 and first["days_left"] == 6  # 25 December does not count
    after = get(served, "/v1/reports", today="2020-12-31").json()
    assert after["counts"] == {"due": 0, "overdue": 2, "filed": 0}
    assert {r["id"]: r["days_late"] for r in after["reports"]} == {"RBP-000001": 1, "RBP-000002": 1}


def test_annual_report_leaves_out_property_released_before_30_june(served: Served) -> None:
    listed = get(served, "/v1/reports", today="2021-07-01", outstanding="true").json()["reports"]
    assert {r["id"]: r["due"] for r in listed}["ARBP-2021"] == "2021-09-30"
    annual = get(served, "/v1/reports/ARBP-2021", today="2021-07-01").json()
    assert [h["amount"] for h in annual["report"]["holdings"]] == ["250000.00"]  # #2 released in March
    assert annual["report"]["ledger_entries"] == [1]


def test_one_report_as_json_and_as_pdf(served: Served) -> None:
    r = get(served, "/v1/reports/RBP-000001")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report"]["property"]["owner"] == "CEIEC" and body["report"]["due"] == "2020-12-30"
    assert body["status"]["id"] == "RBP-000001" and isinstance(body["filings"], list)
    for pdf in (
        get(served, "/v1/reports/RBP-000001.pdf"),
        get(served, "/v1/reports/RBP-000001", format="pdf"),
    ):
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-1.4") and b"CEIEC" in pdf.content
    missing = get(served, "/v1/reports/RBP-000404")
    assert missing.status_code == 404 and "RBP-000404" in missing.json()["detail"]
    assert get(served, "/v1/reports/DROP TABLE").status_code == 422


def test_a_filing_is_recorded_audited_and_changes_the_status(served: Served) -> None:
    server, _ = served
    r = post(served, "/v1/reports/RRT-000003/filings", {"filed_on": "2021-01-19", "reference": "OFAC-77"})
    assert r.status_code == 201, r.text
    filing = r.json()
    assert filing["action"] == "filed" and filing["late"] is False and filing["filed_by"].startswith("key:")
    record = AuditLog(audit_path(Settings.load(server.home))).get(filing["request_id"])
    assert record is not None and record.action == "report-filing" and record.seq == filing["audit_seq"]
    assert record.payload["filing"]["seq"] == filing["seq"]
    row = next(
        x for x in get(served, "/v1/reports", today="2021-02-01").json()["reports"] if x["id"] == "RRT-000003"
    )
    assert row["state"] == "filed" and row["filing"]["reference"] == "OFAC-77"

    again = post(served, "/v1/reports/RRT-000003/filings", {"filed_on": "2021-01-20"})
    assert again.status_code == 400 and "already filed" in again.json()["detail"]
    fixed = post(
        served, "/v1/reports/RRT-000003/filings", {"filed_on": "2021-01-20", "corrects": filing["seq"]}
    )
    assert fixed.status_code == 201 and fixed.json()["late"] is True  # due 19 January (MLK Day skipped)
    history = get(served, "/v1/reports/RRT-000003").json()["filings"]
    assert [(f["filed_on"], f["corrects"]) for f in history] == [
        ("2021-01-19", None),
        ("2021-01-20", filing["seq"]),
    ]


def test_filing_input_is_checked(served: Served) -> None:
    for body, status in (
        ({}, 422),
        ({"filed_on": "2020-12-01"}, 400),  # before the blocking
        ({"filed_on": "2020-12-20", "extra": 1}, 422),
        ({"retract": True}, 422),
    ):
        r = post(served, "/v1/reports/RBP-000001/filings", body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert post(served, "/v1/reports/RBP-000404/filings", {"filed_on": "2021-01-04"}).status_code == 404


def test_ledger_entries_filter_by_status(served: Served) -> None:
    everything = get(served, "/v1/ledger", as_of="2021-04-01")
    assert everything.status_code == 200, everything.text
    assert [(e["seq"], e["status"]) for e in everything.json()["entries"]] == [
        (1, "held"),
        (2, "released"),
        (3, "rejected"),
        (4, "release"),
    ]
    held = get(served, "/v1/ledger", status="held", as_of="2021-04-01").json()["entries"]
    assert [e["seq"] for e in held] == [1] and Decimal(held[0]["holding"]["interest"]) > 0
    before_release = get(served, "/v1/ledger", status="held", as_of="2021-02-01").json()["entries"]
    assert [e["seq"] for e in before_release] == [1, 2]
    assert get(served, "/v1/ledger", status="frozen").status_code == 422
