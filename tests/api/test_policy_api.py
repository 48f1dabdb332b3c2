"""/v1/licenses and /v1/goodguys end to end: the real server on 127.0.0.1, the policy tables beside the
list store, the decide functions reading what the API stored, and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from clearance.audit import AuditLog, audit_path
from clearance.model import Entity
from clearance.policy.decide import PolicyContext, decide_party
from clearance.policy.licenses import eastern_today
from clearance.policy.types import Outcome, PartyDecision, ReasonCode, Subject
from clearance.settings import Settings
from clearance.store import open_store
from tests.api.harness import Server, add_version, auth, make_key, sdn_entities, seed_home
from tests.factories import make_entity
from tests.policy.helpers import match

CEIEC = "ofac-sdn:30502"


def extra_entities(changed: bool = False) -> list[Entity]:
    """Listed parties of this test's own (a third and fourth ofac-sdn version add them)."""
    ctg = make_entity(
        "ofac-sdn:3001", "Organization", name="China Electronics Technology Group", program="VENEZUELA"
    )
    ctg_alias = "CETC Export" if not changed else "CETC International Export"
    return [
        ctg,
        make_entity(
            "ofac-sdn:3002", "Organization", name="CETC Trading", alias=ctg_alias, program="VENEZUELA"
        ),
    ]


@dataclass
class Served:
    server: Server
    keys: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str, role: str = "analyst", **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, headers=auth(self.keys[role]), timeout=30)

    def post(self, path: str, body: Any = None, role: str = "analyst", **kw: Any) -> httpx.Response:
        if body is not None:
            kw["json"] = body
        return httpx.post(
            self.url + path, headers={**auth(self.keys[role]), **kw.pop("headers", {})}, timeout=30, **kw
        )

    def audit(self, request_id: str) -> Any:
        log = AuditLog(audit_path(Settings.load(self.server.home)))
        try:
            record = log.get(request_id)
        finally:
            log.close()
        assert record is not None, f"no audit record {request_id}"
        return record


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("home")
    seed_home(home)
    add_version(home, "ofac-sdn", sdn_entities(extra_entities()), date(2022, 1, 10))
    keys = {role: make_key(home, role) for role in ("screen", "analyst", "admin")}
    with Server(home, "--reload-interval", "0") as server:
        yield Served(server, keys)


def decide(home: Path, customer: str | None, entity_id: str, as_of: datetime | None = None) -> PartyDecision:
    """What the policy layer decides now (or ``as_of``) on a match of ``customer`` with ``entity_id``."""
    store = open_store(Settings.load(home))
    try:
        moment = as_of or datetime.now(UTC)
        version = store.active_version(entity_id.split(":")[0], moment.date())
        assert version is not None
        entity = store.entity(entity_id, version.id)
        assert entity is not None
        context = PolicyContext.open(store, Settings.load(home).database_path)
        subject = Subject(name="Shenzhen CE Retail", id=customer)
        return decide_party(subject, [match(entity)], as_of=moment, context=context)
    finally:
        store.close()


def good_guy(customer: str, entity_id: str, expires: str | None = None) -> dict[str, str]:
    expires = expires or (eastern_today() + timedelta(days=90)).isoformat()
    return {
        "customer_id": customer,
        "entity_id": entity_id,
        "note": "a Shenzhen retailer",
        "expires_at": expires,
    }


def codes(decision: PartyDecision) -> set[ReasonCode]:
    return {r.code for r in decision.reasons}


# -- licenses ----------------------------------------------------------------------------------------

SL = {
    "id": "SL-2021-7",
    "kind": "specific",
    "title": "Release of funds blocked for customer C-9",
    "entities": ["ofac-sdn:1001"],
    "transaction_types": ["payment"],
    "parties": ["C-9"],
    "valid_from": "2021-02-01T00:00",
    "valid_until": "2021-03-01T00:00",
    "conditions": [{"code": "report", "text": "Report within 10 business days"}],
}


def test_licenses_are_listed_with_their_validity_at_a_moment(served: Served) -> None:
    during = served.get("/v1/licenses", at="2020-12-15T10:00")
    assert during.status_code == 200
    gl38 = {lic["id"]: lic for lic in during.json()["licenses"]}["OFAC-VENEZUELA-GL38"]
    assert (
        gl38["valid"] is True and gl38["origin"] == "bundled" and gl38["transaction_types"] == ["wind-down"]
    )
    # the window ends at 00:01 Eastern on 14 January 2021, in Eastern time whatever the caller's zone
    assert served.get("/v1/licenses/OFAC-VENEZUELA-GL38", at="2021-01-14T00:00:30").json()["valid"] is True
    assert served.get("/v1/licenses/OFAC-VENEZUELA-GL38", at="2021-01-14T05:01:00Z").json()["valid"] is False
    assert served.get("/v1/licenses/NO-SUCH").status_code == 404


def test_an_admin_adds_licenses_as_json_or_yaml(served: Served) -> None:
    added = served.post("/v1/licenses", SL, role="admin")
    assert added.status_code == 201, added.text
    assert added.json()["added"] == ["SL-2021-7"] and added.json()["licenses"][0]["origin"] == "stored"
    shown = served.get("/v1/licenses/SL-2021-7", at="2021-02-15T12:00").json()
    assert shown["valid"] is True and shown["conditions"] == [
        {"code": "report", "text": SL["conditions"][0]["text"]}
    ]
    assert served.get("/v1/licenses/SL-2021-7", at="2021-03-01T00:00").json()["valid"] is False

    yaml_body = (
        "- id: SL-2021-7\n  kind: specific\n  title: Release, extended\n  entities: [ofac-sdn:1001]\n"
        "  transaction_types: [payment]\n  valid_from: 2021-02-01\n  valid_until: 2021-06-01\n"
        "- id: GL-TEST-2\n  kind: general\n  title: Telecoms\n  programs: [IRAN]\n  transaction_types: ['*']\n"
    )
    headers = {"Content-Type": "application/yaml"}
    replaced = served.post("/v1/licenses", role="admin", content=yaml_body.encode(), headers=headers)
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["replaced"] == ["SL-2021-7"] and replaced.json()["added"] == ["GL-TEST-2"]
    assert served.get("/v1/licenses/SL-2021-7", at="2021-04-01T00:00").json()["valid"] is True
    ids = [lic["id"] for lic in served.get("/v1/licenses").json()["licenses"]]
    assert {"OFAC-VENEZUELA-GL38", "SL-2021-7", "GL-TEST-2"} <= set(ids)

    record = served.audit(replaced.json()["request_id"])
    assert record.action == "license.add" and "tests-admin" in record.actor
    assert [lic["id"] for lic in record.payload["licenses"]] == ["SL-2021-7", "GL-TEST-2"]
    assert record.payload["replaces"] == ["SL-2021-7"]


def test_only_admins_add_licenses_and_analysts_read_them(served: Served) -> None:
    lic = {**SL, "id": "SL-ROLE"}
    for role in ("screen", "analyst"):
        r = served.post("/v1/licenses", lic, role=role)
        assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert served.get("/v1/licenses", role="screen").status_code == 403
    assert httpx.get(served.url + "/v1/licenses").status_code == 401
    assert served.get("/v1/licenses/SL-ROLE").status_code == 404


def test_a_bad_license_is_a_422_naming_the_field_and_nothing_is_stored(served: Served) -> None:
    missing = {k: v for k, v in SL.items() if k != "transaction_types"} | {"id": "SL-BAD-1"}
    r = served.post("/v1/licenses", missing, role="admin")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["transaction_types"]

    good = {**SL, "id": "SL-BAD-OK"}
    backwards = {**SL, "id": "SL-BAD-2", "valid_until": "2021-01-01T00:00"}
    offset = {**SL, "id": "SL-BAD-3", "valid_from": "2021-02-01T00:00:00+00:00"}
    r = served.post("/v1/licenses", [good, backwards, offset], role="admin")
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == ["#/1/valid_until", "#/2/valid_from"]
    assert served.get("/v1/licenses/SL-BAD-OK").status_code == 404  # all or nothing

    r = served.post(
        "/v1/licenses", role="admin", content=b"id: [unclosed", headers={"Content-Type": "application/yaml"}
    )
    assert r.status_code == 400 and "YAML" in r.json()["detail"]
    r = served.post("/v1/licenses", role="admin", content=b"id: X", headers={"Content-Type": "text/csv"})
    assert r.status_code == 415
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nid: *b\n"
    r = served.post("/v1/licenses", role="admin", content=bomb, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 400 and "alias" in r.json()["detail"]


# -- good-guy decisions ------------------------------------------------------------------------------


def test_good_guy_clears_that_match_until_revoked(served: Served) -> None:
    home = served.server.home
    assert decide(home, "C-1001", CEIEC).outcome is Outcome.BLOCK

    added = served.post("/v1/goodguys", good_guy("C-1001", CEIEC))
    assert added.status_code == 201, added.text
    decision = added.json()["good_guy"]
    assert decision["status"] == "valid" and "tests-analyst" in decision["analyst"]
    cleared = decide(home, "C-1001", CEIEC)
    assert cleared.outcome is Outcome.CLEAR and ReasonCode.GOOD_GUY in codes(cleared)
    # it never hides another listed entity, nor the same entity for another customer
    assert decide(home, "C-1001", "ofac-sdn:3001").outcome is Outcome.BLOCK
    assert decide(home, "C-2002", CEIEC).outcome is Outcome.BLOCK
    listed = [g["id"] for g in served.get("/v1/goodguys").json()["good_guys"]]
    assert decision["id"] in listed

    revoked = served.post(f"/v1/goodguys/{decision['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["good_guy"]["status"] == "revoked"
    assert "tests-analyst" in revoked.json()["good_guy"]["revoked_by"]
    again = decide(home, "C-1001", CEIEC)
    assert again.outcome is Outcome.BLOCK and ReasonCode.GOOD_GUY_INVALIDATED in codes(again)
    assert decision["id"] not in [g["id"] for g in served.get("/v1/goodguys").json()["good_guys"]]
    kept = {g["id"]: g for g in served.get("/v1/goodguys", all="true").json()["good_guys"]}
    assert kept[decision["id"]]["status"] == "revoked"  # revocation is recorded, the decision kept
    assert served.post(f"/v1/goodguys/{decision['id']}/revoke").status_code == 409
    assert served.post("/v1/goodguys/999999/revoke").status_code == 404

    add_record = served.audit(added.json()["request_id"])
    assert add_record.action == "goodguy.add" and add_record.payload["good_guy"]["entity_id"] == CEIEC
    revoke_record = served.audit(revoked.json()["request_id"])
    assert (
        revoke_record.action == "goodguy.revoke" and revoke_record.payload["good_guy"]["id"] == decision["id"]
    )
    assert "tests-analyst" in revoke_record.actor


def test_good_guy_stops_at_its_expiry(served: Served) -> None:
    home = served.server.home
    last_day = eastern_today() + timedelta(days=3)
    added = served.post("/v1/goodguys", good_guy("C-3003", CEIEC, last_day.isoformat())).json()["good_guy"]
    # through the end of the last day, US Eastern
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=ZoneInfo("America/New_York"))
    assert datetime.fromisoformat(added["expires_at"]) == end
    assert decide(home, "C-3003", CEIEC).outcome is Outcome.CLEAR
    later = datetime.now(UTC) + timedelta(days=10)
    expired = decide(home, "C-3003", CEIEC, later)
    assert expired.outcome is Outcome.BLOCK
    assert any(r.details.get("status") == "expired" for r in expired.reasons)
    at_later = later.replace(tzinfo=None).isoformat()
    statuses = {
        g["id"]: g["status"] for g in served.get("/v1/goodguys", all="true", at=at_later).json()["good_guys"]
    }
    assert statuses[added["id"]] == "expired"


def test_good_guy_ends_when_the_listed_entity_changes(served: Served) -> None:
    home = served.server.home
    added = served.post("/v1/goodguys", good_guy("C-4004", "ofac-sdn:3002")).json()["good_guy"]
    assert decide(home, "C-4004", "ofac-sdn:3002").outcome is Outcome.CLEAR
    # a new version of the list, in force from today, changes the listed entity (a new alias)
    add_version(home, "ofac-sdn", sdn_entities(extra_entities(changed=True)), eastern_today())
    changed = decide(home, "C-4004", "ofac-sdn:3002")
    assert changed.outcome is Outcome.BLOCK
    assert any(r.details.get("status") == "entity-changed" for r in changed.reasons)
    rows = {g["id"]: g for g in served.get("/v1/goodguys", all="true").json()["good_guys"]}
    assert rows[added["id"]]["status"] == "entity-changed"
    assert added["id"] not in [g["id"] for g in served.get("/v1/goodguys").json()["good_guys"]]


def test_good_guy_errors_name_the_field(served: Served) -> None:
    def field_of(body: dict[str, Any]) -> list[str]:
        r = served.post("/v1/goodguys", body)
        assert r.status_code == 422, r.text
        return [e["field"] for e in r.json()["errors"]]

    assert field_of(good_guy("C-5", "ofac-sdn:no-such")) == ["entity_id"]
    yesterday = (eastern_today() - timedelta(days=1)).isoformat()
    assert field_of(good_guy("C-5", CEIEC, yesterday)) == ["expires_at"]
    assert field_of(good_guy("C-5", CEIEC, "next tuesday")) == ["expires_at"]
    assert field_of({**good_guy("C-5", CEIEC), "customer_name": "Shenzhen CE Retail"}) == ["customer_id"]
    assert field_of({**good_guy("C-5", CEIEC), "note": "   "}) == ["note"]
    assert field_of({k: v for k, v in good_guy("C-5", CEIEC).items() if k != "note"}) == ["note"]
    assert served.post("/v1/goodguys", good_guy("C-5", CEIEC), role="screen").status_code == 403
    assert served.get("/v1/goodguys", at="0001-01-01T00:00").status_code == 422


def test_good_guy_for_a_customer_screened_by_name(served: Served) -> None:
    body = {**good_guy("x", CEIEC), "customer_name": "  Shenzhen   CE Retail "}
    del body["customer_id"]
    added = served.post("/v1/goodguys", body)
    assert added.status_code == 201, added.text
    assert added.json()["good_guy"]["party_key"] == Subject(name="Shenzhen CE Retail").key
    cleared = decide(served.server.home, None, CEIEC)  # screened without an id: keyed on the name
    assert cleared.outcome is Outcome.CLEAR and ReasonCode.GOOD_GUY in codes(cleared)
