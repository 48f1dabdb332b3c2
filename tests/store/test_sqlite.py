from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clearance.errors import NotFound, StoreError
from clearance.model import Entity
from clearance.store.sqlite import SQLiteStore
from tests.factories import make_entity


def _add(store: SQLiteStore, published: date, entities: list[Entity], digest: str | None = None):
    return store.add_version(
        list_name="test",
        format="custom-csv",
        files=["list.csv"],
        content_hash=digest or f"hash-{published}-{len(entities)}-{[e.content_hash() for e in entities]}",
        published=published,
        published_from="given",
        entities=entities,
    )


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "db.sqlite3")


def test_version_round_trips_its_entities(store: SQLiteStore) -> None:
    ceiec = make_entity("test:1", name="CEIEC", alias=["CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION"])
    ceiec.raw = {"row": ["1", "CEIEC"]}
    version, created = _add(store, date(2020, 11, 30), [ceiec])
    assert created and version.entity_count == 1
    loaded = store.entity("test:1", version.id)
    assert loaded == ceiec
    assert list(store.entities(version.id)) == [ceiec]


def test_same_content_imported_twice_changes_nothing(store: SQLiteStore) -> None:
    entities = [make_entity("test:1", name="A")]
    first, created = _add(store, date(2020, 1, 1), entities, digest="same")
    again, created_again = _add(store, date(2021, 1, 1), entities, digest="same")
    assert created and not created_again
    assert again == first
    assert len(store.versions("test")) == 1


def test_active_version_is_the_last_published_on_or_before_the_day(store: SQLiteStore) -> None:
    old, _ = _add(store, date(2019, 1, 15), [make_entity("test:1", name="A")])
    new, _ = _add(store, date(2020, 11, 30), [make_entity("test:1", name="A"), make_entity("test:2", name="B")])
    assert store.active_version("test") == new
    assert store.active_version("test", date(2020, 11, 29)) == old
    assert store.active_version("test", date(2020, 11, 30)) == new
    assert store.active_version("test", date(2019, 1, 14)) is None


def test_importing_an_older_snapshot_later_does_not_make_it_active(store: SQLiteStore) -> None:
    new, _ = _add(store, date(2021, 7, 7), [make_entity("test:1", name="A")])
    _add(store, date(2019, 1, 15), [make_entity("test:2", name="B")])
    assert store.active_version("test") == new


def test_diff_reports_added_removed_and_changed_properties(store: SQLiteStore) -> None:
    old, _ = _add(
        store,
        date(2020, 1, 1),
        [make_entity("test:1", name="A", country="ve"), make_entity("test:2", name="B")],
    )
    new, _ = _add(
        store,
        date(2021, 1, 1),
        [make_entity("test:1", name="A", country=["ve", "cn"]), make_entity("test:3", name="C")],
    )
    diff = store.diff(old, new)
    assert diff.added == ["test:3"]
    assert diff.removed == ["test:2"]
    assert [(c.entity_id, c.changed) for c in diff.changed] == [("test:1", {"country": (["ve"], ["ve", "cn"])})]


def test_entity_history_tracks_first_seen_changes_and_removal(store: SQLiteStore) -> None:
    v1, _ = _add(store, date(2019, 1, 1), [make_entity("test:9", name="X")])
    v2, _ = _add(store, date(2020, 1, 1), [make_entity("test:1", name="A"), make_entity("test:9", name="X")])
    v3, _ = _add(store, date(2021, 1, 1), [make_entity("test:1", name="A2"), make_entity("test:9", name="X")])
    v4, _ = _add(store, date(2022, 1, 1), [make_entity("test:9", name="X")])
    history = store.entity_history("test:1")
    assert [(e.version.id, e.event) for e in history.events] == [
        (v2.id, "added"),
        (v3.id, "changed"),
        (v4.id, "removed"),
    ]
    assert history.first_seen == v2 and history.last_seen == v3
    assert store.entity_history("test:9").first_seen == v1


def test_failed_import_leaves_previous_version_active_and_intact(store: SQLiteStore) -> None:
    good, _ = _add(store, date(2020, 1, 1), [make_entity("test:1", name="A")])
    duplicate_ids = [make_entity("test:5", name="B"), make_entity("test:5", name="C")]
    with pytest.raises(StoreError, match="same entity id twice"):
        _add(store, date(2021, 1, 1), duplicate_ids)
    assert store.versions("test") == [good]
    assert store.active_version("test") == good
    assert [e.id for e in store.entities(good.id)] == ["test:1"]


def test_store_reopens_with_migrations_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = SQLiteStore(path)
    version, _ = _add(first, date(2020, 1, 1), [make_entity("test:1", name="A")])
    first.close()
    again = SQLiteStore(path)
    assert again.schema_version == 1
    assert again.versions("test") == [version]


def test_unknown_version_is_not_found(store: SQLiteStore) -> None:
    with pytest.raises(NotFound, match="no list version with id 42"):
        store.version(42)


def test_corrupt_database_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the database"):
        SQLiteStore(path)
