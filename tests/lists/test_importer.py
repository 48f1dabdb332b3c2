from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clearance.errors import ClearanceError, ParseError
from clearance.lists.importer import content_hash, import_list
from clearance.policy.licenses import eastern_day
from clearance.store.sqlite import SQLiteStore
from tests.conftest import shared_path

HEADER = "id,name,schema,aliases,country\n"


def _write(folder: Path, body: str, name: str = "list.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "home" / "db.sqlite3")


def test_import_creates_a_version_with_given_publication_date(store: SQLiteStore, tmp_path: Path) -> None:
    path = _write(tmp_path / "v1", "1,CEIEC,Company,China National Electronics Import & Export Corp,cn\n")
    result = import_list(store, "custom-bank", [path], published=date(2020, 11, 30))
    assert result.created
    version = result.version
    assert (version.list, version.format, version.published, version.published_from) == (
        "custom-bank",
        "custom-csv",
        date(2020, 11, 30),
        "given",
    )
    assert version.entity_count == 1 and version.files == ("list.csv",)
    entity = store.entity("custom-bank:1", version.id)
    assert entity is not None and "China National Electronics Import & Export Corp" in entity.names


def test_without_a_date_the_import_time_is_the_publication_date(store: SQLiteStore, tmp_path: Path) -> None:
    path = _write(tmp_path, "1,A,Person,,\n")
    version = import_list(store, "custom-bank", [path]).version
    assert version.published_from == "import"
    assert version.published == eastern_day(version.imported_at)


def test_reimporting_the_same_content_changes_nothing(store: SQLiteStore, tmp_path: Path) -> None:
    first = _write(tmp_path / "a", "1,A,Person,,\n")
    copy = _write(tmp_path / "b", "1,A,Person,,\n")
    a = import_list(store, "custom-bank", [first], published=date(2020, 1, 1))
    b = import_list(store, "custom-bank", [copy.parent], published=date(2021, 1, 1))
    assert a.created and not b.created
    assert b.version == a.version
    assert len(store.versions("custom-bank")) == 1


def test_a_broken_file_imports_nothing_and_keeps_the_active_version(store: SQLiteStore, tmp_path: Path) -> None:
    good = import_list(store, "custom-bank", [_write(tmp_path / "a", "1,A,Person,,\n")]).version
    broken = _write(tmp_path / "b", "1,A,Person,,\n2,,Person,,\n")
    with pytest.raises(ParseError) as info:
        import_list(store, "custom-bank", [broken])
    assert info.value.line == 3 and info.value.field == "name" and str(broken) in str(info.value)
    assert store.versions("custom-bank") == [good]
    assert store.active_version("custom-bank") == good


def test_content_hash_ignores_the_order_files_are_given_in(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x")
    b.write_text("y")
    assert content_hash([a, b]) == content_hash([b, a])
    before = content_hash([a, b])
    a.write_text("x2")
    assert content_hash([a, b]) != before


def test_bad_list_name_and_missing_path_are_clear_errors(store: SQLiteStore, tmp_path: Path) -> None:
    with pytest.raises(ClearanceError, match="list name 'Bad Name' is not valid"):
        import_list(store, "Bad Name", [tmp_path])
    with pytest.raises(ClearanceError, match="no such file or directory"):
        import_list(store, "custom-bank", [tmp_path / "missing.csv"])


@pytest.mark.shared
def test_real_sdn_snapshots_diff_shows_ceiec_added(store: SQLiteStore) -> None:
    old_dir = shared_path("data", "lists", "ofac-sdn", "2019-01-15")
    new_dir = shared_path("data", "lists", "ofac-sdn", "2021-07-07")
    old = import_list(store, "ofac-sdn", [old_dir], published=date(2019, 1, 15)).version
    new = import_list(store, "ofac-sdn", [new_dir], published=date(2021, 7, 7)).version
    entries = [e for e in store.entities(new.id) if e.id.split(":")[1].isdigit()]
    assert len(entries) == 8976  # one a row of sdn.csv; links, IDs and wallets are entities of their own
    assert new.entity_count > len(entries)
    diff = store.diff(old, new)
    assert "ofac-sdn:30502" in diff.added
    assert diff.removed and diff.changed
    assert all(change.changed for change in diff.changed)
    assert store.active_version("ofac-sdn", date(2020, 11, 29)) == old
    history = store.entity_history("ofac-sdn:30502")
    assert history.first_seen == new and [e.event for e in history.changes] == ["added"]
