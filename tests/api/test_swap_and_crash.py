"""A new list version is swapped in under load without failed requests; kill -9 loses no recorded call."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from clearance.api.server import RESPAWN_LIMIT
from clearance.audit import AuditLog, audit_path
from clearance.settings import Settings
from tests.api.harness import Server, add_version, auth, make_key, sdn_entities, seed_home
from tests.factories import make_entity

T = TypeVar("T")


class Hammer:
    """Client threads screening in a loop, keeping every response's status, version and request id."""

    def __init__(self, url: str, token: str, threads: int = 4, body: dict[str, object] | None = None) -> None:
        self.url, self.token = url, token
        self.body = body or {"name": "Viktor Petrovich Orlov", "schema": "Person"}
        self.stop = threading.Event()
        self.ok_ids: list[str] = []
        self.failures: list[str] = []
        self.seen: list[tuple[float, float, str, bool]] = []  # (time, latency, first version, found)
        self.by_thread: dict[int, list[str]] = {}  # the versions each client saw, in its own order
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(headers=auth(self.token), timeout=10) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    r = client.post(self.url + "/v1/screen", json=self.body)
                except httpx.TransportError as exc:
                    with self.lock:
                        self.failures.append(repr(exc))
                    continue
                latency = time.perf_counter() - started
                with self.lock:
                    if r.status_code != 200:
                        self.failures.append(f"{r.status_code} {r.text[:200]}")
                        continue
                    data = r.json()
                    self.ok_ids.append(data["request_id"])
                    found = any(m["entity_id"] == "ofac-sdn:3001" for m in data["results"][0]["matches"])
                    label = data["list_versions"][0]["label"]
                    self.seen.append((time.monotonic(), latency, label, found))
                    self.by_thread.setdefault(threading.get_ident(), []).append(label)

    def __enter__(self) -> Hammer:  # noqa: PYI034
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def test_new_list_version_is_swapped_in_under_load_without_failures(tmp_path: Path) -> None:
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")
    with Server(tmp_path, "--reload-interval", "0.2") as server:
        body = {"name": "Viktor Petrov Orlov", "schema": "Person"}
        with Hammer(server.url, token, body=body) as hammer:
            time.sleep(0.5)
            newer = sdn_entities([make_entity("ofac-sdn:3001", "Person", name="Viktor Petrov Orlov")])
            version = add_version(tmp_path, "ofac-sdn", newer, date(2022, 1, 1))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with hammer.lock:
                    if any(label == version.label for _, _, label, _ in hammer.seen[-5:]):
                        break
                time.sleep(0.05)
            time.sleep(0.3)
    assert hammer.failures == []
    labels = [label for _, _, label, _ in hammer.seen]
    assert labels[0] == "ofac-sdn@2021-07-07#2" and labels[-1] == version.label
    for seen in hammer.by_thread.values():  # each client's requests are sequential
        if version.label in seen:
            switch = seen.index(version.label)
            assert all(label == version.label for label in seen[switch:]), (
                "a client went back to the old version"
            )
    assert all(found == (label == version.label) for _, _, label, found in hammer.seen)
    slowest = max(latency for _, latency, _, _ in hammer.seen)
    assert slowest < 3.0, f"a request took {slowest:.2f}s during the swap"


def test_kill_9_under_load_loses_no_acknowledged_screening(tmp_path: Path) -> None:
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")
    server = Server(tmp_path, "--reload-interval", "0").start()
    assert server.proc is not None
    helpers = children(server.proc.pid)
    assert helpers, "the audit writer runs in a process of its own"
    with Hammer(server.url, token, threads=6) as hammer:
        time.sleep(1.5)
        server.kill()  # SIGKILL while requests are in flight
        time.sleep(0.2)
    acknowledged = set(hammer.ok_ids)
    assert len(acknowledged) > 20, "the load ran"
    assert wait_gone(helpers), "the server's helper processes die with it"
    with Server(tmp_path, "--reload-interval", "0") as again:  # restarts cleanly on the same files
        r = httpx.post(again.url + "/v1/screen", json={"name": "CEIEC"}, headers=auth(token))
        assert r.status_code == 200
    log = AuditLog(audit_path(Settings.load(tmp_path)))
    recorded = log.request_ids()
    assert acknowledged <= recorded, f"{len(acknowledged - recorded)} acknowledged calls are not in the log"
    assert r.json()["request_id"] in recorded
    report = log.verify()
    assert report.ok, report.problems


def test_two_workers_share_one_audit_chain(tmp_path: Path) -> None:
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")
    with Server(tmp_path, "--reload-interval", "0", "--workers", "2") as server:
        for _ in range(50):  # every worker must be ready, not just the first to answer
            server.wait_ready()
        assert server.proc is not None
        processes = children(server.proc.pid)
        assert len(processes) == 3, "two workers and one audit writer"
        with Hammer(server.url, token, threads=6) as hammer:
            time.sleep(1.5)
    assert wait_gone(processes), "a stopped server leaves no worker or writer behind"
    assert hammer.failures == [] and len(hammer.ok_ids) > 20
    log = AuditLog(audit_path(Settings.load(tmp_path)))
    assert set(hammer.ok_ids) <= log.request_ids()
    assert log.verify().ok


def test_a_worker_that_dies_is_replaced_and_the_server_serves_on(tmp_path: Path) -> None:
    """A killed worker's place is taken by a new one, which gets connections once it is ready; the
    server never stops, and every acknowledged screening is in the log."""
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")
    with Server(tmp_path, "--reload-interval", "0", "--workers", "2") as server:
        for _ in range(20):
            server.wait_ready()
        assert server.proc is not None
        before = children(server.proc.pid)
        writers = {pid for pid in before if _ignores_sigterm(pid)}
        victim = min(before - writers)
        descriptors = _open_descriptors(server.proc.pid)
        with Hammer(server.url, token, threads=4) as hammer:
            time.sleep(1.0)
            os.kill(victim, signal.SIGKILL)
            replacement = _wait_for(lambda: children(server.proc.pid) - before if server.proc else set())
            time.sleep(1.5)  # the new worker loads its screener and takes connections
        assert server.proc.poll() is None, server.log()
        assert f"worker process {victim} was killed by SIGKILL: starting worker" in server.log()
        assert len(replacement) == 1 and victim not in children(server.proc.pid)
        # the dead worker's sockets are closed, not kept: a server replacing workers for months must
        # not run out of file descriptors
        assert _open_descriptors(server.proc.pid) == descriptors
        # once the new worker is ready, fresh connections are spread over it and the survivor
        answered: list[httpx.Response] = []
        deadline = time.monotonic() + 30
        while len({r.json()["request_id"][:20] for r in answered[-8:]}) < 2 and time.monotonic() < deadline:
            for _ in range(8):
                with httpx.Client(timeout=30) as client:  # a connection of its own
                    answered.append(client.post(server.url + "/v1/screen", json={"name": "CEIEC"}, headers=auth(token)))
    assert all(r.status_code == 200 for r in answered)
    assert len({r.json()["request_id"][:20] for r in answered[-8:]}) == 2, "two workers answer"
    acknowledged = set(hammer.ok_ids) | {r.json()["request_id"] for r in answered}
    assert len(hammer.ok_ids) > 10, "the load ran"
    log = AuditLog(audit_path(Settings.load(tmp_path)))
    assert acknowledged <= log.request_ids()
    assert log.verify().ok


def test_workers_dying_again_and_again_stop_the_server_with_an_error(tmp_path: Path) -> None:
    """A worker that cannot stay up (dying at start, or a request that kills any worker) is not
    replaced for ever: after RESPAWN_LIMIT replacements within a minute the server stops, saying why."""
    seed_home(tmp_path)
    server = Server(tmp_path, "--reload-interval", "0", "--workers", "2").start()
    assert server.proc is not None
    try:
        pid = server.proc.pid
        for _ in range(RESPAWN_LIMIT + 1):
            if server.proc.poll() is not None:
                break
            victim = min(p for p in children(pid) if not _ignores_sigterm(p))
            os.kill(victim, signal.SIGKILL)
            _wait_for(lambda v=victim: server.proc.poll() is not None or v not in children(pid))
            time.sleep(0.3)
        server.proc.wait(30)
    finally:
        server.stop()
    assert server.proc.returncode != 0
    assert f"the {RESPAWN_LIMIT + 1}th worker to die within" in server.log(), server.log()


@pytest.mark.parametrize("workers", [2, 1])
def test_the_audit_writer_dying_stops_the_whole_server_with_an_error(tmp_path: Path, workers: int) -> None:
    """With the writer gone every screening would fail: the server stops (the workers finish what they
    have), exiting non-zero and saying why, for systemd or the like to start it again; nothing
    acknowledged is lost."""
    seed_home(tmp_path)
    token = make_key(tmp_path, "screen")
    args = ("--reload-interval", "0", "--workers", str(workers))
    server = Server(tmp_path, *args).start()
    for _ in range(20):
        server.wait_ready()
    assert server.proc is not None
    processes = children(server.proc.pid)
    writers = {pid for pid in processes if _ignores_sigterm(pid)}
    assert len(writers) == 1 and len(processes) == 1 + (workers if workers > 1 else 0)
    (target,) = writers
    with Hammer(server.url, token, threads=4) as hammer:
        time.sleep(1.0)
        os.kill(target, signal.SIGKILL)
        server.proc.wait(30)
    assert server.proc.returncode != 0
    said = "the audit writer process has exited" if workers == 1 else f"process {target} was killed by SIGKILL"
    assert said in server.log() and "stopped" in server.log(), server.log()
    assert wait_gone(processes), "no worker or writer is left behind"
    acknowledged = set(hammer.ok_ids)
    assert len(acknowledged) > 10, "the load ran"
    with Server(tmp_path, *args) as again:  # starts cleanly again
        assert httpx.post(again.url + "/v1/screen", json={"name": "CEIEC"}, headers=auth(token)).status_code == 200
    log = AuditLog(audit_path(Settings.load(tmp_path)))
    assert acknowledged <= log.request_ids()
    assert log.verify().ok


def _wait_for(condition: Callable[[], T], timeout: float = 30.0) -> T:
    """``condition()`` once it is true (polled), or its last value after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def _open_descriptors(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _ignores_sigterm(pid: int) -> bool:
    """Whether ``pid`` ignores SIGTERM, as the audit writer does (its workers' shutdown ends it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.add(int(stat.parent.name))
    return found


def wait_gone(pids: set[int], timeout: float = 10.0) -> bool:
    """Whether every process of ``pids`` has ended (or is a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.add(pid)
        if not alive:
            return True
        time.sleep(0.05)
    return False
