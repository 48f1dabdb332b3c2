"""Small parts of the HTTP layer that need no server: limits, loopback checks, problem pointers."""

from __future__ import annotations

import asyncio
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from clearance.api.problems import Problem, field_error
from clearance.api.screening import run_queries
from clearance.api.server import READY, _hand_over, check_bind, is_loopback
from clearance.api.service import Loaded, RateLimiter, Service, ServiceConfig, process_limiter
from clearance.errors import ClearanceError
from clearance.matching.screener import Screener
from clearance.matching.types import Query
from clearance.settings import Settings
from tests.api.harness import REPO, Server, auth, make_key, sdn_entities, seed_home
from tests.audit.harness import writer


def test_rate_limiter_allows_the_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(rate=100, burst=10)
    assert limiter.take("k", 10) == 0
    wait = limiter.take("k", 5)
    assert 0.04 < wait <= 0.05
    assert limiter.take("other", 1) == 0  # per caller
    time.sleep(0.06)
    assert limiter.take("k", 5) == 0


def test_no_auth_only_binds_to_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    check_bind("127.0.0.1", auth=False)
    check_bind("0.0.0.0", auth=True)
    with pytest.raises(ClearanceError, match="loopback"):
        check_bind("0.0.0.0", auth=False)


def test_field_errors_give_a_json_pointer_and_a_dotted_name() -> None:
    assert field_error(["queries", 3, "name"], "empty") == {
        "pointer": "#/queries/3/name",
        "field": "queries[3].name",
        "in": "body",
        "detail": "empty",
    }
    assert field_error(["queries", "a/b~c", "schema"], "x")["pointer"] == "#/queries/a~1b~0c/schema"


def test_a_batch_running_past_the_timeout_is_stopped_with_503(tmp_path: object) -> None:
    service = Service(Settings.load(str(tmp_path)), ServiceConfig(timeout=0.01))
    screener = Screener.from_entities(sdn_entities(), list_version="t")
    loaded = Loaded(screener, (), "test", screener.threshold, time.time())
    queries = [Query(name=f"Ali Hassan Rahimi {i}") for i in range(5000)]
    with pytest.raises(Problem) as caught:
        asyncio.run(run_queries(service, loaded, queries, 5))
    assert caught.value.status == 503 and "fewer queries" in caught.value.detail
    assert len(asyncio.run(run_queries(service, loaded, queries[:3], 5))) == 3


def test_a_screening_on_the_event_loop_lets_requests_whose_records_are_durable_go_first(
    tmp_path: Path,
) -> None:
    """A worker that gets the audit writer's answer while it screens another name answers that request
    mid-screening (at a pause between the screening's stages), not once the screening is over."""
    screener = Screener.from_entities(sdn_entities(), list_version="t")
    loaded = Loaded(screener, (), "test", screener.threshold, time.time())
    order: list[str] = []
    with writer(tmp_path / "writer.sqlite3", 1) as ([worker_end], _, _):
        service = Service(Settings.load(str(tmp_path)), audit_socket=worker_end)
        service.start()

        async def request() -> None:
            await service.record("tester", "screen", {"query": "x"})
            order.append("recorded")  # where the request would send its answer

        async def main() -> None:
            recorded = asyncio.ensure_future(request())
            await asyncio.sleep(0)  # the record is sent
            assert select.select([worker_end], [], [], 10)[0], "the writer answered"
            await run_queries(service, loaded, [Query(name="CEIEC", schema="Organization")], 5)
            order.append("screened")
            await recorded

        try:
            asyncio.run(main())
        finally:
            service.stop()
    assert order == ["recorded", "screened"]


def test_workers_share_each_keys_rate_limit(tmp_path: Path) -> None:
    """Two workers each allow half the rate: the key gets its configured rate in all, not twice it."""
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")

    async def burst(url: str) -> tuple[list[int], float]:
        started = time.monotonic()
        # a connection per request: the workers take them in turn
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            responses = await asyncio.gather(
                *(client.post(url, json={"name": "CEIEC"}, headers=auth(token)) for _ in range(40))
            )
        return [r.status_code for r in responses], time.monotonic() - started

    with Server(tmp_path, "--workers", "2", "--rate-limit", "2", "--reload-interval", "0") as server:
        statuses, elapsed = burst_result = asyncio.run(burst(server.url + "/v1/screen"))
    allowed = statuses.count(200)
    assert set(statuses) <= {200, 429}, burst_result
    # a burst of 2 (1 a worker) plus 2 a second since; each worker on its own would allow twice that
    assert 1 <= allowed <= 2 + 2 * elapsed + 1, (allowed, elapsed)


def test_connections_opened_together_are_spread_evenly_over_the_workers(tmp_path: Path) -> None:
    """The supervisor hands connections to the workers in turn: sixteen clients connecting at once get
    eight per worker. (On one shared socket the first worker to wake accepted them all; on a socket of
    its own per worker, SO_REUSEPORT, the kernel's hash split them 11/5 or 12/4 as often as not.)"""
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")

    async def one_request_per_connection(url: str) -> list[str]:
        clients = [httpx.AsyncClient(timeout=60) for _ in range(16)]
        try:
            responses = await asyncio.gather(
                *(c.post(url, json={"name": "CEIEC"}, headers=auth(token)) for c in clients)
            )
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        return [r.headers["x-request-id"] for r in responses]

    with Server(tmp_path, "--workers", "2", "--reload-interval", "0") as server:
        request_ids = asyncio.run(one_request_per_connection(server.url + "/v1/screen"))
    # a request id starts with its process's 20-digit prefix: which worker answered
    per_worker = Counter(rid[:20] for rid in request_ids)
    assert sorted(per_worker.values()) == [8, 8], per_worker


def _handed(worker_ends: list[socket.socket], expected: int) -> list[int]:
    """How many connections the supervisor hands to each worker's end, until ``expected`` in all."""
    counts = [0] * len(worker_ends)
    deadline = time.monotonic() + 30
    while sum(counts) < expected and time.monotonic() < deadline:
        for i, end in enumerate(worker_ends):
            if select.select([end], [], [], 0.01)[0]:
                _, fds, _, _ = socket.recv_fds(end, 64, 64)
                for fd in fds:
                    os.close(fd)
                counts[i] += len(fds)
    return counts


def test_connections_go_only_to_workers_that_are_ready_once_one_is() -> None:
    """While a worker is still loading its screener (it would answer 503), the supervisor hands the
    connections to the workers that have said they are ready; before any has, to all in turn; a worker
    that has exited is passed over."""
    listening = socket.create_server(("127.0.0.1", 0))
    pairs = [socket.socketpair() for _ in range(2)]
    stop = threading.Event()
    joining: queue.SimpleQueue[socket.socket] = queue.SimpleQueue()
    for ours, _ in pairs:
        joining.put(ours)
    hand_over = threading.Thread(target=_hand_over, args=(listening, joining, stop))
    hand_over.start()
    clients: list[socket.socket] = []
    try:
        workers = [theirs for _, theirs in pairs]

        def connect(n: int) -> list[int]:
            clients.extend(socket.create_connection(listening.getsockname()) for _ in range(n))
            return _handed(workers, n)

        assert connect(4) == [2, 2]  # nobody ready yet: in turn
        workers[1].send(READY)
        assert connect(6) == [0, 6]
        workers[0].send(READY)
        assert connect(6) == [3, 3]
        workers[1].close()  # that worker exits: the other takes every connection
        clients.extend(socket.create_connection(listening.getsockname()) for _ in range(4))
        assert _handed(workers[:1], 4) == [4]
        assert hand_over.is_alive()
    finally:
        stop.set()
        hand_over.join()
        for sock in [listening, *clients, *(s for pair in pairs for s in pair)]:
            sock.close()


def test_a_second_server_on_a_port_in_use_refuses_to_start(tmp_path: Path) -> None:
    """A second server on the port of a running one fails, saying why, instead of sharing the port."""
    first, second = tmp_path / "first", tmp_path / "second"
    for home in (first, second):
        home.mkdir()
        seed_home(home)
    with Server(first, "--workers", "2", "--reload-interval", "0") as server:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        cmd = [sys.executable, "-m", "clearance", "--home", str(second), "serve", "--port", str(server.port)]
        cmd += ["--workers", "2"]
        result = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr


def test_each_worker_takes_its_share_of_the_rate_and_burst() -> None:
    one = process_limiter(ServiceConfig(rate_limit=100, workers=1))
    four = process_limiter(ServiceConfig(rate_limit=100, rate_burst=40, workers=4))
    assert (one.rate, one.burst) == (100, 100)
    assert (four.rate, four.burst) == (25, 10)
