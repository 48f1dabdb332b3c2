"""Run the real server (``python -m clearance serve``) in a subprocess on an ephemeral port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import httpx

from clearance.audit import KeyStore, keys_path
from clearance.model import Entity
from clearance.settings import Settings
from clearance.store import ListVersion, open_store
from tests.factories import make_entity

REPO = Path(__file__).resolve().parents[2]


def sdn_entities(extra: Sequence[Entity] = ()) -> list[Entity]:
    """A few listed parties, enough to tell a match from a miss."""
    return [
        make_entity(
            "ofac-sdn:30502",
            "Organization",
            name="China National Electronics Import and Export Corporation",
            alias=["CEIEC", "China Electronics Import-Export Company"],
            country="cn",
            program="VENEZUELA-EO13692",
        ),
        make_entity(
            "ofac-sdn:1001", "Person", name="Ali Hassan Rahimi", birthDate="1970-05-17", nationality="ir"
        ),
        make_entity("ofac-sdn:1002", "Vessel", name="Hoshikaze Maru No. 8", imoNumber="9123456"),
        make_entity("ofac-sdn:1003", "Company", name="Petro Global Trading FZE", country="ae"),
        *extra,
    ]


def add_version(home: Path, list_name: str, entities: Sequence[Entity], published: date) -> ListVersion:
    store = open_store(Settings.load(home))
    try:
        version, _ = store.add_version(
            list_name=list_name,
            format="test",
            files=[f"{list_name}-{published}.json"],
            content_hash=f"{list_name}-{published}-{len(entities)}-{sorted(e.id for e in entities)}",
            published=published,
            published_from="given",
            entities=entities,
        )
    finally:
        store.close()
    return version


def seed_home(home: Path) -> list[ListVersion]:
    """Two versions of ofac-sdn (the second adds a party and changes one) and one UN version."""
    v1 = add_version(home, "ofac-sdn", sdn_entities(), date(2020, 11, 30))
    changed = sdn_entities([make_entity("ofac-sdn:2001", "Person", name="Viktor Petrovich Orlov")])
    changed[3].add("alias", "PGT FZE")
    v2 = add_version(home, "ofac-sdn", changed, date(2021, 7, 7))
    un = add_version(
        home, "un-sc", [make_entity("un-sc:QDi.1", "Person", name="Abu Bakr al Baghdadi")], date(2026, 2, 27)
    )
    return [v1, v2, un]


def make_key(home: Path, role: str, name: str | None = None) -> str:
    keys = KeyStore(keys_path(Settings.load(home)))
    try:
        return keys.create(name or f"tests-{role}", role)[1]
    finally:
        keys.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"ApiKey {token}"}


class Server:
    """``clearance serve`` in a subprocess. Use as a context manager, or call start/stop/kill."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.args = list(args)
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = home / f"server-{time.monotonic_ns()}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready: bool = True, timeout: float = 60) -> Server:
        port_file = self.home / "port"
        port_file.unlink(missing_ok=True)
        env = {**os.environ, "PYTHONPATH": str(REPO / "src"), **(self.env or {})}
        cmd = [sys.executable, "-m", "clearance", "--home", str(self.home), "serve", "--port", "0"]
        cmd += ["--port-file", str(port_file), "--log-level", "warning", *self.args]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while not port_file.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.log()}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())
        if ready:
            self.wait_ready(deadline - time.monotonic())
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def __enter__(self) -> Server:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
