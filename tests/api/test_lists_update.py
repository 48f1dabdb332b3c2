"""``POST /v1/lists/update`` downloads from a mirror on 127.0.0.1, imports, and swaps the screener in.

The server reads its sources from ``$CLEARANCE_SOURCES`` (the shipped sources.yaml with ``base_url``
pointing at the mirror); the mirror is a plain HTTP file server over a folder the test changes.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from clearance.audit import AuditLog, audit_path
from clearance.settings import Settings
from tests.api.harness import Server, auth, make_key, seed_home
from tests.conftest import FIXTURES

MIRRORED = {"SDN.CSV": "sdn.csv", "ADD.CSV": "add.csv", "ALT.CSV": "alt.csv"}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "mirror"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    httpd.shutdown()
    httpd.server_close()


def publish(root: Path, extra_row: str = "") -> None:
    """Put the fixture SDN files on the mirror under OFAC's names, optionally with one more entry."""
    source = FIXTURES / "download" / "ofac-sdn"
    for remote, local in MIRRORED.items():
        shutil.copyfile(source / local, root / remote)
    if extra_row:  # before OFAC's end-of-file mark (0x1a), as OFAC would add it
        sdn = root / "SDN.CSV"
        data = sdn.read_bytes()
        mark = b"\x1a" if data.endswith(b"\x1a") else b""
        sdn.write_bytes(data.removesuffix(mark) + extra_row.encode("cp1252") + b"\r\n" + mark)


def sources_file(tmp_path: Path, base_url: str) -> Path:
    shipped = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "src/clearance/data/sources.yaml").read_text()
    )
    sdn = shipped["lists"]["ofac-sdn"]
    sdn["base_url"] = base_url
    sdn["files"] = [f for f in sdn["files"] if f["path"] in MIRRORED]
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"lists": {"ofac-sdn": sdn}}))
    return path


def test_update_downloads_imports_and_swaps_without_a_restart(
    tmp_path: Path, mirror: tuple[str, Path]
) -> None:
    base_url, root = mirror
    home = tmp_path / "home"
    home.mkdir()
    seed_home(home)
    admin, screener_key = make_key(home, "admin"), make_key(home, "screen")
    env = {"CLEARANCE_SOURCES": str(sources_file(tmp_path, base_url))}
    publish(root)
    with Server(home, "--reload-interval", "0", env=env) as server:

        def update() -> dict[str, object]:
            r = httpx.post(
                server.url + "/v1/lists/update",
                json={"lists": ["ofac-sdn"]},
                headers=auth(admin),
                timeout=120,
            )
            assert r.status_code == 200, r.text
            return dict(r.json())

        def best(name: str) -> str | None:
            r = httpx.post(
                server.url + "/v1/screen", json={"name": name}, headers=auth(screener_key), timeout=30
            )
            matches = [m for m in r.json()["results"][0]["matches"] if m["match"]]
            return matches[0]["entity_id"] if matches else None

        assert best("Aerocaribbean Airlines") is None  # not in the seeded versions
        first = update()
        (entry,) = first["updates"]  # type: ignore[misc]
        assert entry["list"] == "ofac-sdn" and entry["status"] == "updated", entry
        assert entry["version"]["entity_count"] > 0
        assert first["swapped"] is True
        assert any(v["id"] == entry["version"]["id"] for v in first["serving"])  # type: ignore[attr-defined]
        assert best("Aerocaribbean Airlines") == "ofac-sdn:36"

        # the same files again: nothing new, nothing swapped
        again = update()
        assert again["swapped"] is False
        assert again["updates"][0]["status"] == "unchanged"  # type: ignore[index]

        # a new designation on the mirror is served after the next update
        publish(root, '99777,"NOVEL TRADING HOUSE LLC",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ')
        assert best("Novel Trading House") is None
        third = update()
        assert third["swapped"] is True, third["updates"]
        assert best("Novel Trading House LLC") == "ofac-sdn:99777"

        # the mirror failing leaves the served version in place and says why
        for remote in MIRRORED:
            (root / remote).unlink()
        failed = update()
        assert failed["swapped"] is False
        assert failed["updates"][0]["status"] == "failed"  # type: ignore[index]
        assert "SDN.CSV" in failed["updates"][0]["message"]  # type: ignore[index]
        assert best("Novel Trading House LLC") == "ofac-sdn:99777"

    # who updated what is in the audit log
    log = AuditLog(audit_path(Settings.load(home)))
    actions = [r.action for r in log.records()]
    assert actions.count("lists.update") == 4
