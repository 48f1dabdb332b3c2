"""The policy tables live beside the list store in the same SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from clearance.errors import NotFound
from clearance.policy.decide import PolicyContext
from clearance.policy.goodguy import new_good_guy
from clearance.policy.licenses import bundled_licenses
from clearance.policy.ownership import OwnershipLink
from clearance.policy.storage import PolicyStore
from clearance.store.sqlite import SQLiteStore
from tests.policy.helpers import license_


def test_licenses_round_trip_and_replace(tmp_path: Path) -> None:
    db = tmp_path / "clearance.sqlite3"
    store = PolicyStore(db)
    gl38 = bundled_licenses()[0]
    assert store.put_license(gl38) is True
    assert store.license(gl38.id).to_dict() == gl38.to_dict()
    changed = license_(id=gl38.id, programs=["VENEZUELA"], title="amended")
    assert store.put_license(changed) is False
    assert [lic.title for lic in store.licenses()] == ["amended"]
    with pytest.raises(NotFound):
        store.license("nope")


def test_tables_share_the_list_database_and_migrate_once(tmp_path: Path) -> None:
    db = tmp_path / "clearance.sqlite3"
    lists = SQLiteStore(db)
    PolicyStore(db).put_license(license_(programs=["X"]))
    again = PolicyStore(db)
    assert len(again.licenses()) == 1
    assert lists.schema_version == 1 and lists.lists() == []


def test_links_are_deduplicated_on_reimport(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "db.sqlite3")
    links = [OwnershipLink("a", "b", 60, source="reg"), OwnershipLink("a", "c", 10, start=date(2020, 1, 1))]
    assert store.add_links(links) == 2
    assert store.add_links([OwnershipLink("a", "b", 70, source="reg")]) == 0
    assert sorted((lk.asset, lk.percentage) for lk in store.links()) == [("b", 70.0), ("c", 10.0)]


def test_good_guys_round_trip_and_revoke(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "db.sqlite3")
    saved = store.add_good_guy(
        new_good_guy(
            "cust-1", "ofac-sdn:1", "h", analyst="ana", note="n", expires_at=datetime(2099, 1, 1, tzinfo=UTC)
        )
    )
    assert saved.id is not None
    (loaded,) = store.good_guys()
    assert loaded.status(datetime.now(UTC), "h") == "valid"
    store.revoke_good_guy(saved.id)
    assert store.good_guys()[0].status(datetime.now(UTC), "h") == "revoked"
    with pytest.raises(NotFound):
        store.revoke_good_guy(saved.id)


def test_context_opens_from_the_database(tmp_path: Path) -> None:
    db = tmp_path / "clearance.sqlite3"
    policy = PolicyStore(db)
    policy.put_license(license_(id="SL-9", kind="specific", programs=["SDGT"]))
    policy.add_links([OwnershipLink("a", "b", 60)])
    ctx = PolicyContext.open(SQLiteStore(db), db)
    assert ctx.licenses.get("SL-9") is not None and ctx.licenses.get("OFAC-VENEZUELA-GL38") is not None
    assert len(ctx.ownership.links) == 1
