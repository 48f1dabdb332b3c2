"""Keys and roles, limits, and hostile input: always a 4xx problem document, never a 500 or a crash."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.api.harness import REPO, Server, auth, make_key, seed_home

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    home = tmp_path_factory.mktemp("home")
    seed_home(home)
    keys = {role: make_key(home, role) for role in ("screen", "analyst", "admin")}
    keys["limited"] = make_key(home, "screen", "rate-limited client")
    args = ("--reload-interval", "0", "--rate-limit", "30", "--max-batch", "20", "--max-body", "65536")
    with Server(home, *args) as server:
        yield server, keys


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "clearance", "--home", str(server.home), *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=60)


def screen(server: Server, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(server.url + "/v1/screen", json=body, headers=headers or {}, timeout=30)


def test_no_key_and_unknown_key_are_401(served: tuple[Server, dict[str, str]]) -> None:
    server, _ = served
    for headers in ({}, auth("clr_0123456789ab_" + "x" * 43), {"Authorization": "Bearer nonsense"}):
        r = screen(server, {"name": "CEIEC"}, headers)
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
        assert "www-authenticate" in r.headers


def test_roles_allow_their_endpoints_and_forbid_the_others(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    entity = server.url + "/v1/entities/ofac-sdn:1001"
    update = server.url + "/v1/lists/update"
    assert screen(server, {"name": "CEIEC"}, {"X-API-Key": keys["screen"]}).status_code == 200
    r = httpx.get(entity, headers=auth(keys["screen"]))
    assert r.status_code == 403 and "analyst" in r.json()["detail"]
    assert httpx.get(entity, headers={"Authorization": f"Bearer {keys['analyst']}"}).status_code == 200
    assert httpx.post(update, json={"download": False}, headers=auth(keys["analyst"])).status_code == 403
    r = httpx.post(update, json={"download": False}, headers=auth(keys["admin"]), timeout=30)
    assert r.status_code == 200 and r.json()["swapped"] is False


def test_keys_made_and_revoked_with_the_cli_take_effect_at_once(
    served: tuple[Server, dict[str, str]],
) -> None:
    server, _ = served
    made = cli(server, "keys", "create", "partner bank", "--role", "analyst")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert screen(server, {"name": "CEIEC"}, auth(token)).status_code == 200
    listed = orjson.loads(cli(server, "keys", "list", "--json").stdout)
    [row] = [k for k in listed if k["name"] == "partner bank"]
    assert row["role"] == "analyst" and row["revoked_at"] is None and token not in str(listed)
    assert cli(server, "keys", "revoke", row["id"]).returncode == 0
    assert screen(server, {"name": "CEIEC"}, auth(token)).status_code == 401


def test_no_auth_is_refused_on_a_public_address(served: tuple[Server, dict[str, str]]) -> None:
    server, _ = served
    r = cli(server, "serve", "--no-auth", "--host", "0.0.0.0", "--port", "0")
    assert r.returncode != 0 and "loopback" in r.stderr


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 422, "name"),
        ({"name": 42}, 422, "name"),
        ({"name": "x" * 600}, 422, "name"),
        ({"name": "CEIEC", "schema": "Spaceship"}, 422, "schema"),
        ({"name": "CEIEC", "birth_date": "17/05/1970"}, 422, "birth_date"),
        ({"name": "CEIEC", "birthdate": "1970"}, 422, "birthdate"),
        ({"name": "CEIEC", "id_numbers": "123"}, 422, "id_numbers"),
        ({"queries": [{"name": "a"}, {"name": None}]}, 422, "queries[1].name"),
        ({"queries": [{"name": "a"}, {"name": "!!!"}]}, 422, "queries[1].name"),
        ({"queries": [{"name": "---"}]}, 422, "queries[0].name"),
        ({"name": "\u200b"}, 422, "name"),
        ({"queries": [{"name": "a"}], "name": "b"}, 422, ""),
        ({"queries": []}, 422, "queries"),
        ({"queries": [{"name": "a"}] * 21}, 413, "queries"),
        ({"queries": [{"name": "a"}] * 1001}, 422, "queries"),
        ({}, 422, ""),
        ([{"name": "CEIEC"}], 422, ""),
        ("CEIEC", 422, ""),
    ],
)
def test_invalid_screening_requests_name_the_field(
    served: tuple[Server, dict[str, str]], body: object, status: int, field: str
) -> None:
    server, keys = served
    r = screen(server, body, auth(keys["admin"]))
    assert r.status_code == status, r.text
    problem = r.json()
    assert r.headers["content-type"] == PROBLEM and problem["status"] == status and problem["detail"]
    if field:
        assert problem["errors"][0]["field"] == field


def raw_post(server: Server, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Send ``data`` as is and read the one answer by its Content-Length.

    The connection is kept alive: a server that answers before reading a refused body to its end and
    then closes leaves unread bytes behind, and the kernel resets such a connection, which can discard
    the answer before the client reads it.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + data)
        response = b""

        def more() -> bytes:
            chunk = sock.recv(65536)
            assert chunk, f"the server closed the connection mid-answer: {response!r}"
            return chunk

        while b"\r\n\r\n" not in response:
            response += more()
        top, body = response.split(b"\r\n\r\n", 1)
        length = re.search(rb"(?im)^content-length: *(\d+)", top)
        assert length, top
        while len(body) < int(length.group(1)):
            body += more()
    return int(top.split(b" ", 2)[1]), body


def test_malformed_huge_and_hostile_bodies_get_4xx(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    h = {**auth(keys["admin"]), "Content-Type": "application/json"}
    cases: list[tuple[bytes, dict[str, str], int]] = [
        (b'{"name": "CEIEC",', {}, 400),
        (b"\xff\xfe not json", {}, 400),
        (b"[" * 50_000 + b"]" * 50_000, {}, 413),
        (b"[" * 20_000 + b"]" * 20_000, {}, 400),
        (b'{"name": "' + b"A" * 70_000 + b'"}', {}, 413),
        (b'{"name": "CEIEC"}', {"Content-Type": "text/plain"}, 415),
        (b'{"name": "\\ud800"}', {}, 400),  # a lone surrogate is no text: malformed JSON
    ]
    for data, extra, status in cases:
        got, body = raw_post(server, "/v1/screen", data, {**h, "Content-Length": str(len(data)), **extra})
        assert got == status, (data[:40], got, body[:300])
        assert orjson.loads(body)["status"] == status
    # a body streamed in chunks, without Content-Length, is cut off at the limit too
    chunked = b"".join(b"%x\r\n%s\r\n" % (8192, b"A" * 8192) for _ in range(10)) + b"0\r\n\r\n"
    got, _ = raw_post(server, "/v1/screen", chunked, {**h, "Transfer-Encoding": "chunked"})
    assert got == 413
    bad_yente = {"queries": {"q": {"schema": "Person", "properties": {"name": [{"nested": 1}]}}}}
    r = httpx.post(server.url + "/match/default", json=bad_yente, headers=auth(keys["admin"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("queries.q.properties.name")
    # the server is still up, and answered none of this with a 500
    assert httpx.get(server.url + "/healthz").status_code == 200
    assert 'status="500"' not in httpx.get(server.url + "/metrics").text


def test_rate_limit_answers_429_with_retry_after(served: tuple[Server, dict[str, str]]) -> None:
    server, keys = served
    batch = {"queries": [{"name": f"Name {i}"} for i in range(20)]}  # 20 of the key's 30 a second
    responses = [screen(server, batch, auth(keys["limited"])) for _ in range(6)]
    assert responses[0].status_code == 200
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert int(limited[0].headers["retry-after"]) >= 1 and "rate limit" in limited[0].json()["detail"]
    assert screen(server, {"name": "CEIEC"}, auth(keys["screen"])).status_code == 200  # per key
