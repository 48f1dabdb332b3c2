"""API keys: hashed at rest, a role each, revocable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clearance.audit.keys import KeyStore, role_allows
from clearance.errors import ClearanceError, NotFound


def test_created_key_authenticates_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.sqlite3")
    key, token = keys.create("ci pipeline", "screen")
    assert keys.authenticate(token) == key
    raw = sqlite3.connect(tmp_path / "keys.sqlite3").execute("SELECT * FROM api_keys").fetchall()
    secret = token.split("_", 2)[2]
    assert secret not in repr(raw)


def test_wrong_secret_malformed_or_unknown_tokens_are_refused(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.sqlite3")
    _, token = keys.create("a", "admin")
    assert keys.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert keys.authenticate("not a key") is None
    assert keys.authenticate("clr_000000000000_" + "x" * 43) is None


def test_revoked_key_is_refused_even_by_another_process_cache(tmp_path: Path) -> None:
    server_view = KeyStore(tmp_path / "keys.sqlite3")
    cli_view = KeyStore(tmp_path / "keys.sqlite3")
    key, token = cli_view.create("b", "analyst")
    assert server_view.authenticate(token) is not None
    cli_view.revoke(key.id)
    assert server_view.authenticate(token) is None
    assert [k.active for k in cli_view.list()] == [False]


def test_unknown_role_and_unknown_key_are_errors(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.sqlite3")
    with pytest.raises(ClearanceError, match="role"):
        keys.create("x", "root")
    with pytest.raises(NotFound):
        keys.revoke("abcdefabcdef")


def test_roles_include_the_lower_ones() -> None:
    assert role_allows("admin", "screen") and role_allows("analyst", "screen")
    assert not role_allows("screen", "analyst") and not role_allows("analyst", "admin")
