"""The HTTP service end to end: the real server on 127.0.0.1, real store, real screener, real audit log."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from clearance.audit import AuditLog, audit_path
from clearance.audit.replay import replay
from clearance.compiled import matcher_compiled
from clearance.settings import Settings
from clearance.store import open_store
from tests.api.harness import Server, auth, make_key, seed_home


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    home = tmp_path_factory.mktemp("home")
    seed_home(home)
    keys = {role: make_key(home, role) for role in ("screen", "analyst", "admin")}
    with Server(home, "--reload-interval", "0") as server:
        yield server, keys


def post(server: Server, path: str, body: object, token: str, **params: object) -> httpx.Response:
    return httpx.post(server.url + path, json=body, headers=auth(token), params=params, timeout=30)


def test_screen_one_name_returns_scored_explained_matches_and_versions(
    served: tuple[Server, dict[str, str]],
) -> None:
    server, keys = served
    r = post(server, "/v1/screen", {"id": "c1", "name": "CEIEC", "schema": "Organization"}, keys["screen"])
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["request_id"] == r.headers["x-request-id"]
    assert [v["label"] for v in data["list_versions"]] == ["ofac-sdn@2021-07-07#2", "un-sc@2026-02-27#3"]
    assert data["threshold"] == pytest.approx(0.8)
    [result] = data["results"]
    assert result["id"] == "c1"
    best = result["matches"][0]
    assert best["entity_id"] == "ofac-sdn:30502" and best["match"] is True and 0 <= best["score"] <= 1
    assert best["explanation"]["features"], "every match carries its features"


def test_screen_batch_keeps_order_and_reports_misses(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    queries = [
        {"id": "a", "name": "Ali Hassan Rahimi", "schema": "Person", "birth_date": "1970"},
        {"id": "b", "name": "Zebulon Quartermaine-Fitzwilliam", "schema": "Person"},
        {"id": "c", "name": "Hoshikaze Maru No 8", "schema": "Vessel"},
    ]
    r = post(server, "/v1/screen", {"queries": queries}, keys["screen"], limit=3)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["id"] for x in results] == ["a", "b", "c"]
    assert results[0]["matches"][0]["entity_id"] == "ofac-sdn:1001" and results[0]["matches"][0]["match"]
    assert not any(m["match"] for m in results[1]["matches"])
    assert results[2]["matches"][0]["entity_id"] == "ofac-sdn:1002"
    assert all(len(x["matches"]) <= 3 for x in results)


def test_screen_as_of_uses_the_versions_in_force_that_day(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    body = {"name": "Viktor Petrovich Orlov", "schema": "Person"}
    now = post(server, "/v1/screen", body, keys["screen"]).json()
    then = post(server, "/v1/screen", body, keys["screen"], as_of="2021-01-01").json()
    assert now["results"][0]["matches"][0]["entity_id"] == "ofac-sdn:2001"
    assert [v["label"] for v in then["list_versions"]] == ["ofac-sdn@2020-11-30#1"]
    assert not any(m["entity_id"] == "ofac-sdn:2001" for m in then["results"][0]["matches"])
    r = post(server, "/v1/screen", body, keys["screen"], as_of="1999-01-01")
    assert r.status_code == 400 and "no list version" in r.json()["detail"]


def test_every_screening_is_in_the_audit_log_and_reproducible(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    r = post(server, "/v1/screen", {"name": "Petro Global Trading", "schema": "Company"}, keys["screen"])
    request_id = r.json()["request_id"]
    log = AuditLog(audit_path(Settings.load(server.home)))
    record = log.get(request_id)
    assert record is not None and record.action == "screen" and record.actor.endswith(":tests-screen")
    payload = record.payload
    assert payload["queries"][0]["name"] == "Petro Global Trading"
    assert payload["matcher_version"] and payload["threshold"] == pytest.approx(0.8)
    answered = r.json()["results"]
    recorded = payload["results"]
    assert [[m["entity_id"] for m in q["matches"]] for q in recorded] == [
        [m["entity_id"] for m in q["matches"]] for q in answered
    ]
    for got, kept in zip(answered[0]["matches"], recorded[0]["matches"], strict=True):
        assert (kept["score"], kept["match"], kept["list_version"]) == (
            got["score"],
            got["match"],
            got["list_version"],
        )
        # the record explains the alerts; the rest replay from the versions it names
        assert ("explanation" in kept) == got["match"]
        if got["match"]:
            assert kept["explanation"] == got["explanation"]
    assert any(m["match"] for m in recorded[0]["matches"]), "the fixture query should alert"
    assert log.verify().ok
    # reproduce: rebuild a screener from the recorded versions alone and screen the recorded query
    settings = Settings.load(server.home)
    report = replay(record, open_store(settings), settings)
    assert report.same and report.queries == 1, report.differences


def test_replay_reports_a_record_that_no_longer_agrees(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    r = post(server, "/v1/screen", {"name": "Petro Global Trading", "schema": "Company"}, keys["screen"])
    record = AuditLog(audit_path(Settings.load(server.home))).get(r.json()["request_id"])
    assert record is not None
    store = open_store(Settings.load(server.home))
    # the same record with its best candidate's score changed: replay must notice
    payload = record.payload
    payload["results"][0]["matches"][0]["score"] = 0.5
    altered = dataclasses.replace(record, body=orjson.dumps(payload))
    report = replay(altered, store, Settings.load(server.home))
    assert not report.same
    assert payload["results"][0]["matches"][0]["entity_id"] in report.differences[0]


def test_yente_match_api_shape(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    # exactly as yente's documentation shows a batch
    body = {
        "queries": {
            "entity1": {
                "schema": "Person",
                "properties": {
                    "name": ["Ali Hasan Rahimi"],
                    "birthDate": ["1970-05-17"],
                    "nationality": ["ir"],
                },
            },
            "entity2": {
                "schema": "Company",
                "properties": {"name": ["Brilliant Amazing Limited"], "jurisdiction": ["hk"]},
            },
        }
    }
    r = httpx.post(
        server.url + "/match/default", json=body, headers={"Authorization": f"ApiKey {keys['screen']}"}
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert set(data["responses"]) == {"entity1", "entity2"}
    one = data["responses"]["entity1"]
    assert one["status"] == 200 and one["total"]["relation"] == "eq"
    assert one["query"]["schema"] == "Person" and one["query"]["properties"]["name"] == ["Ali Hasan Rahimi"]
    top = one["results"][0]
    assert top["id"] == "ofac-sdn:1001" and top["caption"] == "Ali Hassan Rahimi" and top["match"] is True
    assert top["schema"] == "Person" and top["properties"]["birthDate"] == ["1970-05-17"]
    assert top["datasets"] == ["ofac-sdn"] and isinstance(top["features"], dict)
    assert not any(x["match"] for x in data["responses"]["entity2"]["results"])
    assert len(one["results"]) <= 5 and data["limit"] == 5
    assert set(data["matcher"]) >= set(top["features"])
    # listed in the first version (2020-11-30), unchanged in the second (2021-07-07) which is served
    assert (top["first_seen"], top["last_seen"], top["last_change"]) == (
        "2020-11-30T00:00:00",
        "2021-07-07T00:00:00",
        "2020-11-30T00:00:00",
    )


def test_yente_match_dates_follow_the_entity_history(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    body = {"queries": {"q": {"schema": "Company", "properties": {"name": ["Petro Global Trading FZE"]}}}}
    now = post(server, "/match/default", body, keys["screen"]).json()["responses"]["q"]["results"][0]
    assert now["id"] == "ofac-sdn:1003"
    # the second version gave it an alias: its last change is that version's day
    assert (now["first_seen"], now["last_change"]) == ("2020-11-30T00:00:00", "2021-07-07T00:00:00")


def test_yente_match_dataset_threshold_and_errors(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    body = {"queries": {"q": {"schema": "Person", "properties": {"name": "Abu Bakr al Baghdadi"}}}}
    only_sdn = post(server, "/match/ofac-sdn", body, keys["screen"]).json()
    assert all(x["id"].startswith("ofac-sdn:") for x in only_sdn["responses"]["q"]["results"])
    un = post(server, "/match/un-sc", body, keys["screen"], threshold=0.99).json()
    assert un["responses"]["q"]["results"][0]["id"] == "un-sc:QDi.1"
    assert un["threshold"] == 0.99
    r = post(server, "/match/nosuch", body, keys["screen"])
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    bad = {"queries": {"q": {"schema": "Persn", "properties": {"name": ["x"]}}}}
    r = post(server, "/match/default", bad, keys["screen"])
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/queries/q/schema"
    bad = {"queries": {"q": {"schema": "Person", "properties": {"tonnage": ["x"], "name": ["y"]}}}}
    r = post(server, "/match/default", bad, keys["screen"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "queries.q.properties.tonnage"
    r = post(server, "/match/default", {"queries": {}}, keys["screen"])
    assert r.status_code == 400
    unusable = {"queries": {"q": {"schema": "Person", "properties": {"name": ["!!!"]}}}}
    r = post(server, "/match/default", unusable, keys["screen"])
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/queries/q/properties/name"


def test_entity_with_history(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    r = httpx.get(server.url + "/v1/entities/ofac-sdn:1003", headers=auth(keys["analyst"]))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["listed"] and data["entity"]["properties"]["alias"] == ["PGT FZE"]
    assert [e["event"] for e in data["history"]] == ["added", "changed"]
    old = httpx.get(
        server.url + "/v1/entities/ofac-sdn:1003",
        params={"as_of": "2021-01-01"},
        headers=auth(keys["analyst"]),
    )
    assert "alias" not in old.json()["entity"]["properties"]
    missing = httpx.get(server.url + "/v1/entities/ofac-sdn:404", headers=auth(keys["analyst"]))
    assert missing.status_code == 404 and "ofac-sdn:404" in missing.json()["detail"]


def test_lists_and_changes(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    data = httpx.get(server.url + "/v1/lists", headers=auth(keys["screen"])).json()
    by_list = {row["list"]: row for row in data["lists"]}
    assert by_list["ofac-sdn"]["versions"] == 2 and by_list["ofac-sdn"]["served"]
    assert by_list["ofac-sdn"]["active"]["entity_count"] == 5
    assert data["newest_data_age_days"] == by_list["un-sc"]["age_days"]
    r = httpx.get(
        server.url + "/v1/lists/ofac-sdn/changes",
        params={"since": "2021-01-01"},
        headers=auth(keys["analyst"]),
    )
    changes = r.json()
    assert changes["added"] == ["ofac-sdn:2001"] and changes["removed"] == []
    assert changes["changed"] == [
        {"entity_id": "ofac-sdn:1003", "properties": {"alias": {"old": [], "new": ["PGT FZE"]}}}
    ]
    by_id = httpx.get(
        server.url + "/v1/lists/ofac-sdn/changes", params={"since": "1"}, headers=auth(keys["analyst"])
    )
    assert by_id.json() == changes
    bad = httpx.get(
        server.url + "/v1/lists/ofac-sdn/changes", params={"since": "soon"}, headers=auth(keys["analyst"])
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"


def test_ops_endpoints(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz").json()
    assert ready["status"] == "ready" and "ofac-sdn@2021-07-07#2" in ready["lists"]
    post(server, "/v1/screen", {"name": "CEIEC"}, keys["screen"])
    text = httpx.get(server.url + "/metrics").text
    assert 'clearance_http_requests_total{method="POST",route="/v1/screen",status="200"}' in text
    assert 'clearance_http_request_duration_seconds_bucket{le="0.01",route="/v1/screen"}' in text
    assert 'clearance_list_age_seconds{list="ofac-sdn"}' in text
    assert 'clearance_screening_alerts_total{endpoint="screen"}' in text
    assert "clearance_audit_commit_records_count" in text
    assert f"clearance_matcher_compiled {float(matcher_compiled())}" in text
    spec = httpx.get(server.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/match/{dataset}" in spec["paths"]
    assert httpx.get(server.url + "/docs").status_code == 200


def _cache_counts(server: Server) -> tuple[float, float]:
    counts = {}
    for line in httpx.get(server.url + "/metrics").text.splitlines():
        for kind in ("hits", "misses"):
            if line.startswith(f"clearance_answer_cache_{kind}_total "):
                counts[kind] = float(line.split()[-1])
    return counts["hits"], counts["misses"]


def test_a_repeated_query_is_answered_from_the_cache_and_still_audited(
    served: tuple[Server, dict[str, str]],
) -> None:
    server, keys = served
    body = {"name": "Hoshikaze Maru No 8", "schema": "Vessel", "country": "jp"}
    hits, misses = _cache_counts(server)
    first = post(server, "/v1/screen", body, keys["screen"]).json()
    second = post(server, "/v1/screen", body, keys["screen"]).json()
    other = post(server, "/v1/screen", {**body, "country": "kp"}, keys["screen"]).json()
    assert _cache_counts(server) == (hits + 1, misses + 2)  # other evidence is another query
    assert second["results"] == first["results"] and second["request_id"] != first["request_id"]
    assert other["results"][0]["matches"][0]["entity_id"] == "ofac-sdn:1002"
    log = AuditLog(audit_path(Settings.load(server.home)))
    kept = [log.get(r["request_id"]) for r in (first, second)]
    assert kept[0] is not None and kept[1] is not None
    assert kept[0].payload["results"] == kept[1].payload["results"]
    assert kept[1].payload["results"][0]["matches"][0]["entity_id"] == "ofac-sdn:1002"


def test_without_the_answer_cache_every_query_is_screened(tmp_path: Path) -> None:
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")
    with Server(tmp_path, "--reload-interval", "0", "--answer-cache", "0") as server:
        for _ in range(3):
            r = post(server, "/v1/screen", {"name": "CEIEC"}, token)
            assert r.json()["results"][0]["matches"][0]["entity_id"] == "ofac-sdn:30502"
        assert _cache_counts(server) == (0, 0)


def test_audit_show_and_replay_from_the_cli(served: tuple[Server, dict[str, str]]) -> None:
    from click.testing import CliRunner

    from clearance.cli import cli

    server, keys = served
    r = post(server, "/v1/screen", {"name": "CEIEC", "schema": "Organization"}, keys["screen"])
    request_id = r.json()["request_id"]
    runner = CliRunner()
    shown = runner.invoke(cli, ["--home", str(server.home), "audit", "show", request_id])
    assert shown.exit_code == 0, shown.output
    assert orjson.loads(shown.output)["payload"]["queries"][0]["name"] == "CEIEC"
    replayed = runner.invoke(cli, ["--home", str(server.home), "audit", "replay", request_id])
    assert replayed.exit_code == 0 and "same result" in replayed.output, replayed.output
    missing = runner.invoke(cli, ["--home", str(server.home), "audit", "replay", "nope"])
    assert missing.exit_code != 0 and "no audit record" in missing.output
