"""The ``POST /v1/screen`` fast lane answers exactly as the declared FastAPI route does.

The real server (which answers the route in the fast lane) and the FastAPI app alone (in process,
through httpx's ASGI transport, no fast lane) get the same requests, valid and invalid; the status,
the problem documents and the screening results must agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clearance.api.app import create_app
from clearance.api.service import Service, ServiceConfig
from clearance.settings import Settings
from tests.api.harness import Server, auth, make_key, seed_home

VOLATILE = ("request_id", "audit_seq")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    seed_home(home)
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    with Server(home, "--reload-interval", "0", "--max-batch", "20") as server:
        yield server


CASES: list[tuple[str, dict[str, Any]]] = [
    ("one name", {"json": {"id": "c1", "name": "CEIEC", "schema": "Organization"}}),
    ("batch", {"json": {"queries": [{"name": "Ali Hassan Rahimi", "birth_date": "1970"}, {"name": "Jane Roe"}]}}),
    ("limit", {"json": {"name": "Petro Global Trading"}, "params": {"limit": "1"}}),
    ("as_of", {"json": {"name": "Viktor Petrovich Orlov"}, "params": {"as_of": "2021-01-01"}}),
    ("no version then", {"json": {"name": "CEIEC"}, "params": {"as_of": "1999-01-01"}}),
    ("bad limit", {"json": {"name": "CEIEC"}, "params": {"limit": "0"}}),
    ("limit not a number", {"json": {"name": "CEIEC"}, "params": {"limit": "many", "as_of": "soon"}}),
    ("unknown field", {"json": {"name": "CEIEC", "nmae": "x"}}),
    ("wrong type", {"json": {"queries": [{"name": 7}]}}),
    ("unknown schema", {"json": {"name": "CEIEC", "schema": "Spaceship"}}),
    ("both shapes", {"json": {"name": "CEIEC", "queries": [{"name": "x"}]}}),
    ("empty", {"json": {}}),
    ("too many", {"json": {"queries": [{"name": "a"}] * 21}}),
    ("malformed", {"content": b'{"name": "CEIEC",', "headers": {"content-type": "application/json"}}),
    ("not json", {"content": b'{"name": "CEIEC"}', "headers": {"content-type": "text/plain"}}),
    ("no key", {"json": {"name": "CEIEC"}, "key": None}),
    ("bad key", {"json": {"name": "CEIEC"}, "key": "nope"}),
]


def _comparable(response: httpx.Response) -> tuple[int, str, Any]:
    body = response.json()
    for key in VOLATILE:
        body.pop(key, None)
    # the JSON parsers word their complaint differently (the lane's names line and column)
    for problem in (body, *body.get("errors", ())):
        if "malformed JSON" in problem.get("detail", ""):
            problem["detail"] = "malformed JSON"
    return response.status_code, response.headers["content-type"], body


def _request(case: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    key = case.get("key", "screen")
    headers = dict(case.get("headers", {}))
    if key is not None:
        headers.update(auth(keys.get(key, key)))
    kwargs = {k: v for k, v in case.items() if k in ("json", "content", "params")}
    return {**kwargs, "headers": headers}


def test_fast_lane_and_declared_route_answer_alike(home: Path, server: Server) -> None:
    keys = {"screen": make_key(home, "screen")}
    fast = {
        name: _comparable(httpx.post(server.url + "/v1/screen", timeout=30, **_request(case, keys)))
        for name, case in CASES
    }
    slow = asyncio.run(_through_the_route(home, keys))
    assert fast.keys() == slow.keys()
    for name, answer in fast.items():
        assert answer == slow[name], name
    statuses = {name: got[0] for name, got in fast.items()}
    # the cases cover what they claim: answers, and each kind of refusal
    assert statuses["one name"] == statuses["batch"] == statuses["as_of"] == 200
    assert {statuses[n] for n in ("bad limit", "unknown field", "wrong type", "unknown schema")} == {422}
    assert (statuses["malformed"], statuses["not json"], statuses["too many"]) == (400, 415, 413)
    assert (statuses["no key"], statuses["bad key"]) == (401, 401)
    assert fast["one name"][2]["results"][0]["matches"][0]["entity_id"] == "ofac-sdn:30502"


async def _through_the_route(home: Path, keys: dict[str, str]) -> dict[str, tuple[int, str, Any]]:
    service = Service(Settings.load(home), ServiceConfig(max_batch=20, reload_interval=0))
    service.start()
    try:
        while service.current is None:  # the first load runs on the reloader thread
            await asyncio.sleep(0.02)
        app = create_app(service)
        transport = httpx.ASGITransport(app=app)
        out = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://route") as client:
            for name, case in CASES:
                out[name] = _comparable(await client.post("/v1/screen", **_request(case, keys)))
        return out
    finally:
        service.stop()
