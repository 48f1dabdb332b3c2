"""``POST /v1/payments/screen`` end to end: the real server on 127.0.0.1 over a small versioned SDN
(tests/payments/world.py), the real matcher, policy layer, blocked-property ledger and audit log."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearance.api.payments import PaymentScreenResponse
from clearance.audit import AuditLog, audit_path
from clearance.ledger import Ledger
from clearance.settings import Settings
from tests.api.harness import Server, add_version, auth, make_key
from tests.conftest import shared_path
from tests.payments.factories import fixture, pacs008
from tests.payments.world import ENTITIES, OTHER

PATH = "/v1/payments/screen"
SEED_DAY = "2021-01-20T10:00:00"  # US Eastern: CEIEC listed, GL 38's wind-down window over
XML = {"Content-Type": "application/xml"}
MT103 = {"Content-Type": "text/plain"}


@dataclass
class Served:
    server: Server
    keys: dict[str, str]

    @property
    def settings(self) -> Settings:
        return Settings.load(self.server.home)

    def post(
        self, body: bytes | None = None, *, headers: dict[str, str], role: str = "screen", **kw: Any
    ) -> httpx.Response:
        return httpx.post(
            self.server.url + PATH,
            content=body,
            headers={**auth(self.keys[role]), **headers},
            timeout=60,
            **kw,
        )

    def post_json(self, body: object, role: str = "screen", **params: Any) -> httpx.Response:
        return httpx.post(
            self.server.url + PATH, json=body, headers=auth(self.keys[role]), params=params, timeout=60
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """SDN before CEIEC's designation (2019-01-15) and as published the day it was added (2020-11-30)."""
    home = tmp_path_factory.mktemp("home")
    add_version(home, "ofac-sdn", [OTHER], date(2019, 1, 15))
    add_version(home, "ofac-sdn", ENTITIES, date(2020, 11, 30))
    keys = {role: make_key(home, role) for role in ("screen", "analyst", "admin")}
    with Server(home, "--reload-interval", "0") as server:
        yield Served(server, keys)


def screened(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    PaymentScreenResponse.model_validate(data)  # the documented shape is the served one
    assert data["request_id"] == r.headers["x-request-id"]
    return data


def audit_payload(served: Served, request_id: str) -> dict[str, Any]:
    log = AuditLog(audit_path(served.settings))
    try:
        record = log.get(request_id)
        assert record is not None, f"no audit record {request_id}"
        assert record.action == "payments.screen"
        assert log.verify().ok
        return record.payload
    finally:
        log.close()


def test_unrelated_payment_passes_and_writes_nothing_to_the_ledger(served: Served) -> None:
    data = screened(served.post(fixture("pacs008_clean.xml"), headers=XML, params={"as_of": SEED_DAY}))
    assert data["outcome"] == "PASS" and data["reasons"] == []
    assert data["kind"] == "pacs.008" and data["message_id"] == "FNBC20201215-000101"
    assert data["ledger_entries"] == []
    assert [p["subject"]["role"] for p in data["parties"]][:2] == ["instructing_agent", "instructed_agent"]
    assert [v["label"] for v in data["list_versions"]] == ["ofac-sdn@2020-11-30#2"]
    payload = audit_payload(served, data["request_id"])
    assert payload["decision"]["outcome"] == "PASS" and payload["ledger_entries"] == []
    assert payload["message"].encode() == fixture("pacs008_clean.xml")


def test_payment_to_a_listed_entity_is_blocked_with_a_ledger_entry(served: Served) -> None:
    sent = fixture("pacs008_ceiec.xml")
    data = screened(served.post(sent, headers=XML, params={"as_of": SEED_DAY}))
    assert data["outcome"] == "BLOCK"
    reason = data["reasons"][0]
    assert (reason["outcome"], reason["code"], reason["entity_id"]) == ("BLOCK", "listed", "ofac-sdn:30502")
    assert reason["programs"] == ["VENEZUELA"] and reason["list_version"].startswith("ofac-sdn@2020-11-30")
    assert reason["party"].endswith("CdtTrfTxInf/Cdtr")
    [entry] = data["ledger_entries"]
    assert entry["kind"] == "block" and entry["owner_entity_id"] == "ofac-sdn:30502"
    assert entry["event_date"] == "2021-01-20" and entry["programs"] == ["VENEZUELA"]
    assert entry["message_sha256"] == hashlib.sha256(sent).hexdigest() == data["message_sha256"]
    with Ledger(served.settings.database_path) as ledger:
        stored = ledger.entry(entry["seq"])
        assert stored.hash == entry["hash"] and str(stored.amount) == entry["amount"]
        assert ledger.message(entry["message_sha256"]) == sent
    payload = audit_payload(served, data["request_id"])
    assert payload["decision"]["outcome"] == "BLOCK" and payload["ledger_entries"] == [entry["seq"]]
    assert payload["as_of"] == SEED_DAY


def test_mt103_sent_as_text_is_blocked_too(served: Served) -> None:
    data = screened(served.post(fixture("mt103_ceiec.txt"), headers=MT103, params={"as_of": SEED_DAY}))
    assert data["outcome"] == "BLOCK" and data["kind"] == "MT103"
    assert data["reasons"][0]["entity_id"] == "ofac-sdn:30502" and data["reasons"][0]["party"] == "4:59"
    assert [e["kind"] for e in data["ledger_entries"]] == ["block"]


def test_json_wrapper_decides_as_of_the_payment_date_on_the_lists_then(served: Served) -> None:
    message = fixture("pacs008_ceiec.xml").decode()
    before = screened(served.post_json({"message": message, "format": "pacs.008", "as_of": "2020-11-20"}))
    assert before["outcome"] == "PASS" and before["ledger_entries"] == []
    assert [v["label"] for v in before["list_versions"]] == ["ofac-sdn@2019-01-15#1"]
    after = screened(served.post_json({"message": message, "as_of": SEED_DAY}))
    assert after["outcome"] == "BLOCK" and after["as_of"].startswith("2021-01-20T10:00:00")


def test_payment_into_a_sanctioned_country_is_rejected_and_recorded(served: Served) -> None:
    sent = pacs008(
        msg_id="IR-1",
        creditor="Kish Trading Company",
        creditor_country="IR",
        creditor_iban="IR820540102680020817909002",
        creditor_bic="BKMTIRTH",
        amount="2500.00",
    )
    data = screened(served.post(sent, headers=XML, params={"as_of": SEED_DAY}))
    assert data["outcome"] == "REJECT"
    assert any(r["code"] == "country" and "IRAN" in r["programs"] for r in data["reasons"])
    assert [(e["kind"], e["amount"], e["message_id"]) for e in data["ledger_entries"]] == [
        ("reject", "2500.00", "IR-1")
    ]


def test_listed_name_in_remittance_holds_for_review(served: Served) -> None:
    sent = pacs008(msg_id="HOLD-1", remittance="Freight for SEA BREEZE TANKER voyage 12")
    data = screened(served.post(sent, headers=XML, params={"as_of": SEED_DAY}))
    assert data["outcome"] == "HOLD" and data["ledger_entries"] == []
    reason = next(r for r in data["reasons"] if r["entity_id"] == "ofac-sdn:8888")
    assert reason["party"].endswith("RmtInf/Ustrd") and reason["details"]["outcome_if_party"] in (
        "BLOCK",
        "REJECT",
    )


def assert_malformed_and_kept(served: Served, r: httpx.Response, sent: bytes) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = r.json()
    assert problem["type"].endswith("/malformed-message") and problem["outcome"] == "REJECT"
    assert problem["request_id"] == r.headers["x-request-id"]
    assert problem["message_sha256"] == hashlib.sha256(sent).hexdigest()
    with Ledger(served.settings.database_path) as ledger:
        kept = [m for m in ledger.malformed_messages() if m.sha256 == problem["message_sha256"]]
    assert kept and kept[-1].raw == sent and kept[-1].reason == problem["malformed"]["reason"]
    assert (kept[-1].field, kept[-1].line) == (problem["malformed"]["field"], problem["malformed"]["line"])
    payload = audit_payload(served, problem["request_id"])
    assert (
        payload["decision"]["outcome"] == "REJECT"
        and payload["decision"]["malformed"] == problem["malformed"]
    )
    return problem


def test_truncated_xml_is_refused_naming_the_line_and_kept(served: Served) -> None:
    sent = fixture("malformed_truncated.xml")
    problem = assert_malformed_and_kept(served, served.post(sent, headers=XML), sent)
    assert "well-formed" in problem["detail"] and problem["malformed"]["line"] is not None
    assert problem["errors"][0]["line"] == problem["malformed"]["line"]


def test_wrong_namespace_is_refused_naming_the_element(served: Served) -> None:
    sent = fixture("malformed_namespace.xml")
    problem = assert_malformed_and_kept(served, served.post(sent, headers={"Content-Type": "text/xml"}), sent)
    assert problem["malformed"]["field"] == "/Document" and problem["errors"][0]["field"] == "/Document"
    assert "urn:example:not-iso:pacs.008" in problem["detail"]


def test_malformed_mt103_is_refused_naming_the_field(served: Served) -> None:
    sent = fixture("mt103_ceiec.txt").replace(b":32A:210120", b":32A:211320")  # month 13
    problem = assert_malformed_and_kept(served, served.post(sent, headers=MT103), sent)
    assert problem["malformed"]["field"] == "4:32A" and "at 4:32A" in problem["detail"]


def test_malformed_message_in_the_json_wrapper_points_at_message(served: Served) -> None:
    sent = fixture("pacs008_clean.xml")[:300]
    problem = assert_malformed_and_kept(served, served.post_json({"message": sent.decode()}), sent)
    assert problem["errors"][0]["pointer"] == "#/message"


def test_wrapper_format_must_agree_with_the_message(served: Served) -> None:
    message = fixture("pacs008_clean.xml").decode()
    r = served.post_json({"message": message, "format": "MT103", "as_of": SEED_DAY})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "format"
    assert "pacs.008, not MT103" in r.json()["detail"]


def test_invalid_wrapper_and_unknown_content_types_are_refused(served: Served) -> None:
    r = served.post_json({"message": "x", "flags": ["wind_down"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "flags"
    r = served.post_json({"message": "x", "transaction": "wind_down"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "transaction"
    r = served.post(fixture("pacs008_clean.xml"), headers=XML, params={"transaction": "winddown"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "transaction"
    assert r.json()["errors"][0]["in"] == "query"
    r = served.post_json({"message": "x", "transaction": "wind-down"}, transaction="wind-down")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "transaction"
    r = served.post_json({"format": "pacs.008"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "message"
    r = served.post(b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = served.post(fixture("pacs008_clean.xml"), headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 415 and "application/xml" in r.json()["detail"]
    r = served.post_json({"message": "x", "as_of": SEED_DAY}, as_of=SEED_DAY)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "as_of"


def test_oversize_body_is_refused_before_screening(served: Served) -> None:
    r = served.post(b"<" + b"x" * (5 * 1024 * 1024), headers=XML)
    assert r.status_code == 413


def test_a_key_is_required_and_every_role_may_screen(served: Served) -> None:
    url = served.server.url + PATH
    assert httpx.post(url, content=fixture("pacs008_clean.xml"), headers=XML).status_code == 401
    bad = {**XML, "Authorization": "ApiKey clr_000000000000_notakeynotakeynotakey"}
    r = httpx.post(url, content=fixture("pacs008_clean.xml"), headers=bad)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    # ``screen`` is the lowest role (screen < analyst < admin), so no key gets a 403 here
    for role in ("screen", "analyst", "admin"):
        data = screened(served.post(fixture("pacs008_clean.xml"), headers=XML, role=role))
        record = AuditLog(audit_path(served.settings))
        try:
            stored = record.get(data["request_id"])
            assert stored is not None and stored.actor.endswith(f":tests-{role}")
        finally:
            record.close()


def test_a_new_list_version_brings_a_new_payment_screener(tmp_path: Path) -> None:
    add_version(tmp_path, "ofac-sdn", [OTHER], date(2019, 1, 15))
    key = make_key(tmp_path, "screen")
    sent = fixture("pacs008_ceiec.xml")
    with Server(tmp_path, "--reload-interval", "0.2") as server:
        first = httpx.post(server.url + PATH, content=sent, headers={**XML, **auth(key)}, timeout=60)
        assert first.status_code == 200 and first.json()["outcome"] == "PASS"
        add_version(tmp_path, "ofac-sdn", ENTITIES, date(2020, 11, 30))
        deadline = time.monotonic() + 30
        labels: list[str] = []
        while time.monotonic() < deadline and "ofac-sdn@2020-11-30#2" not in labels:
            time.sleep(0.2)
            r = httpx.post(
                server.url + PATH, content=fixture("pacs008_clean.xml"), headers={**XML, **auth(key)}
            )
            labels = [v["label"] for v in r.json()["list_versions"]]
        assert labels == ["ofac-sdn@2020-11-30#2"], "the new version was not swapped in"
        again = httpx.post(server.url + PATH, content=sent, headers={**XML, **auth(key)}, timeout=60)
        assert again.status_code == 200 and again.json()["outcome"] == "BLOCK", again.text


def test_ownership_links_added_while_serving_apply_after_the_reload_interval(tmp_path: Path) -> None:
    from clearance.policy.ownership import OwnershipLink
    from clearance.policy.storage import PolicyStore

    add_version(tmp_path, "ofac-sdn", ENTITIES, date(2020, 11, 30))
    key = make_key(tmp_path, "screen")
    subsidiary = "Shenzhen Bright Future Trading Ltd"
    sent = pacs008(msg_id="SUB-1", creditor=subsidiary, creditor_country="CN")
    headers = {**XML, **auth(key)}
    with Server(tmp_path, "--reload-interval", "0.2") as server:
        first = httpx.post(server.url + PATH, content=sent, headers=headers, params={"as_of": SEED_DAY})
        assert first.status_code == 200 and first.json()["outcome"] == "PASS", first.text
        policy = PolicyStore(Settings.load(tmp_path).database_path)
        policy.add_links([OwnershipLink("ofac-sdn:30502", "name:" + subsidiary.casefold(), 60.0, source="t")])
        policy.close()
        deadline = time.monotonic() + 30
        outcome = "PASS"
        while outcome == "PASS" and time.monotonic() < deadline:
            time.sleep(0.3)
            r = httpx.post(server.url + PATH, content=sent, headers=headers, params={"as_of": SEED_DAY})
            outcome = r.json()["outcome"]
        assert outcome == "BLOCK"
        reason = r.json()["reasons"][0]
        assert reason["code"] == "ownership" and reason["ownership_share"] == 60.0


def test_openapi_documents_the_endpoint(served: Served) -> None:
    spec = httpx.get(served.server.url + "/openapi.json").json()
    operation = spec["paths"][PATH]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/xml", "text/xml", "text/plain", "application/json"}
    assert set(content["application/json"]["schema"]["properties"]) == {
        "message",
        "format",
        "as_of",
        "transaction",
    }
    params = {p["name"]: p for p in operation["parameters"]}
    assert "wind-down" in params["transaction"]["schema"]["anyOf"][0]["enum"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/PaymentScreenResponse")
    assert "application/problem+json" in operation["responses"]["422"]["content"]
    assert operation["security"], "the endpoint is documented as needing a key"


@pytest.mark.shared
def test_seed_story_ceiec_payment_on_2021_01_20_is_blocked_over_http(tmp_path: Path) -> None:
    """The real SDN snapshots as a bank updating daily held them (tests/policy/test_seed_story.py)."""
    from clearance.lists.importer import import_list
    from clearance.policy.ownership import OwnershipLink
    from clearance.policy.storage import PolicyStore
    from clearance.store.sqlite import SQLiteStore

    old = shared_path("data", "lists", "ofac-sdn", "2019-01-15")
    new = shared_path("data", "lists", "ofac-sdn", "2021-07-07")
    settings = Settings.load(tmp_path)
    store = SQLiteStore(settings.database_path)
    import_list(store, "ofac-sdn", [old], published=date(2019, 1, 15))
    import_list(store, "ofac-sdn", [new], published=date(2020, 11, 30))
    store.close()
    subsidiary = "Shenzhen Bright Future Trading Ltd"  # a payment party is keyed by its name
    policy = PolicyStore(settings.database_path)
    policy.add_links([OwnershipLink("ofac-sdn:30502", "name:" + subsidiary.casefold(), 60.0, source="test")])
    policy.close()
    key = make_key(tmp_path, "screen")
    ceiec = pacs008(
        msg_id="SEED-1",
        creditor="China Electronics Import-Export Co.",
        creditor_country="CN",
        creditor_bic="BKCHCNBJ110",
        amount="1200000.00",
    )
    with Server(tmp_path, "--reload-interval", "0") as server:

        def screen(message: bytes, as_of: str) -> dict[str, Any]:
            r = httpx.post(
                server.url + PATH,
                content=message,
                headers={**XML, **auth(key)},
                params={"as_of": as_of},
                timeout=120,
            )
            assert r.status_code == 200, r.text
            data: dict[str, Any] = r.json()
            return data

        before = screen(ceiec, "2020-11-20T10:00:00")
        assert before["outcome"] == "PASS"
        assert [v["label"].split("#")[0] for v in before["list_versions"]] == ["ofac-sdn@2019-01-15"]
        blocked = screen(ceiec, SEED_DAY)
        assert blocked["outcome"] == "BLOCK"
        reason = blocked["reasons"][0]
        assert reason["entity_id"] == "ofac-sdn:30502" and "VENEZUELA" in reason["programs"]
        assert reason["list_version"].startswith("ofac-sdn@2020-11-30")
        assert [(e["kind"], e["amount"]) for e in blocked["ledger_entries"]] == [("block", "1200000.00")]
        owned = screen(pacs008(msg_id="SEED-2", creditor=subsidiary, creditor_country="CN"), SEED_DAY)
        assert owned["outcome"] == "BLOCK"
        reason = owned["reasons"][0]
        assert reason["code"] == "ownership" and reason["ownership_share"] == 60.0
        assert [s["owner"] for s in reason["ownership_paths"][0]] == ["ofac-sdn:30502"]


def test_wind_down_payment_during_gl38_is_authorized_and_credited_to_a_blocked_account(
    served: Served,
) -> None:
    """Venezuela GL 38 authorizes wind-down dealings with CEIEC until 2021-01-14 00:01 US Eastern; its
    condition sends the funds to a blocked account, so the answer carries a block entry naming it."""
    sent = pacs008(
        msg_id="WD-1",
        creditor="China Electronics Import-Export Co.",
        creditor_country="CN",
        creditor_bic="BKCHCNBJ110",
        amount="1200000.00",
        settlement="2020-12-15",
        remittance="wind down of contract CE-2019-0412",
    )
    body = {"message": sent.decode(), "as_of": "2020-12-15T10:00:00", "transaction": "wind-down"}
    data = screened(served.post_json(body))
    assert data["outcome"] == "AUTHORIZED" and data["transaction"]["type"] == "wind-down"
    reason = data["reasons"][0]
    assert (reason["entity_id"], reason["license_id"]) == ("ofac-sdn:30502", "OFAC-VENEZUELA-GL38")
    [auth] = data["authorizations"]
    assert auth["valid_until"] == "2021-01-14T00:01:00-05:00" and auth["parties"] == [reason["party"]]
    assert {c["code"]: c["consequence"] for c in auth["conditions"]}["no-debit-of-blocked-account"] == (
        "blocked_account"
    )
    [entry] = data["ledger_entries"]
    assert (entry["kind"], entry["amount"], entry["event_date"]) == ("block", "1200000.00", "2020-12-15")
    assert entry["details"]["authorized_by"] == ["OFAC-VENEZUELA-GL38"]
    payload = audit_payload(served, data["request_id"])
    assert payload["transaction"] == "wind-down" and payload["decision"]["outcome"] == "AUTHORIZED"
    # the same raw message: the remittance line saying "wind down" authorizes nothing; the flag does
    plain = screened(served.post(sent, headers=XML, params={"as_of": "2020-12-15T10:00:00"}))
    assert plain["outcome"] == "BLOCK" and plain["transaction"]["type"] == "payment"
    assert plain["transaction"]["message_hint"]["type"] == "wind-down"
    flagged = served.post(
        sent, headers=XML, params={"as_of": "2020-12-15T10:00:00", "transaction": "wind-down"}
    )
    assert screened(flagged)["outcome"] == "AUTHORIZED"
    late = served.post(sent, headers=XML, params={"as_of": SEED_DAY, "transaction": "wind-down"})
    assert screened(late)["outcome"] == "BLOCK"
