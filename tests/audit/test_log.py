"""The audit log: durable, append-only, hash-chained, with tampering detected."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest

from clearance.audit.log import AuditLog, AuditRecord, AuditWriter


def make_record(n: int, actor: str = "key:abc:tests") -> AuditRecord:
    return AuditRecord(
        request_id=f"req-{n}",
        actor=actor,
        action="screen",
        payload={
            "query": {"name": f"Name {n}"},
            "list_versions": [{"id": 1}],
            "threshold": 0.7,
            "result": [],
        },
    )


def make_log(tmp_path: Path, n: int) -> AuditLog:
    log = AuditLog(tmp_path / "audit.sqlite3")
    log.append([make_record(i) for i in range(n)])
    return log


def test_records_are_numbered_and_chained_and_verify(tmp_path: Path) -> None:
    log = make_log(tmp_path, 5)
    stored = list(log.records())
    assert [r.seq for r in stored] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(stored))
    report = log.verify()
    assert report.ok and report.records == 5 and report.head_seq == 5
    assert log.get("req-3") is not None and log.get("req-3").payload["query"] == {"name": "Name 3"}  # type: ignore[union-attr]


def test_database_refuses_update_and_delete(tmp_path: Path) -> None:
    make_log(tmp_path, 2).close()
    db = sqlite3.connect(tmp_path / "audit.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit_records SET actor = 'someone else' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit_records WHERE seq = 2")


def _tamper(path: Path, sql: str, *args: object) -> None:
    """What an attacker with file access does: drop the guard triggers, then rewrite."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER audit_records_no_update")
    db.execute("DROP TRIGGER audit_records_no_delete")
    db.execute(sql, args)
    db.commit()
    db.close()


def test_verify_detects_an_altered_body(tmp_path: Path) -> None:
    make_log(tmp_path, 4).close()
    _tamper(tmp_path / "audit.sqlite3", "UPDATE audit_records SET body = ? WHERE seq = 2", b'{"result":[]}')
    report = AuditLog(tmp_path / "audit.sqlite3").verify()
    assert not report.ok and "record 2" in report.problems[0]


def test_verify_detects_an_altered_actor_even_with_rehashed_record(tmp_path: Path) -> None:
    from clearance.audit.log import record_hash

    log = make_log(tmp_path, 4)
    r = next(r for r in log.records() if r.seq == 2)
    log.close()
    forged = record_hash(r.prev_hash, 2, r.request_id, r.recorded_at, "key:evil:x", r.action, r.body)
    _tamper(
        tmp_path / "audit.sqlite3",
        "UPDATE audit_records SET actor = 'key:evil:x', hash = ? WHERE seq = 2",
        forged,
    )
    report = AuditLog(tmp_path / "audit.sqlite3").verify()
    assert not report.ok and "record 3" in report.problems[0]  # the next link no longer fits


def test_verify_detects_a_removed_record(tmp_path: Path) -> None:
    make_log(tmp_path, 4).close()
    _tamper(tmp_path / "audit.sqlite3", "DELETE FROM audit_records WHERE seq = 2")
    report = AuditLog(tmp_path / "audit.sqlite3").verify()
    assert not report.ok and "record 2" in report.problems[0]


def test_verify_detects_truncation_against_an_anchored_head(tmp_path: Path) -> None:
    log = make_log(tmp_path, 4)
    head = log.head()
    log.close()
    _tamper(tmp_path / "audit.sqlite3", "DELETE FROM audit_records WHERE seq = 4")
    log = AuditLog(tmp_path / "audit.sqlite3")
    assert log.verify().ok  # the chain alone cannot see a cut-off tail
    report = log.verify(expected_head=head)
    assert not report.ok and "missing" in report.problems[0]


def test_two_logs_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    a, b = AuditLog(tmp_path / "audit.sqlite3"), AuditLog(tmp_path / "audit.sqlite3")
    for i in range(10):
        (a if i % 2 else b).append([make_record(i)])
    assert a.verify().ok and a.count() == 10


def test_writer_batches_concurrent_records_and_reports_each_sequence_number(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    writer = AuditWriter(log)
    writer.start()
    results: dict[str, int | None] = {}
    done = threading.Event()
    lock = threading.Lock()

    def submit(i: int) -> None:
        def callback(seq: int | None, exc: BaseException | None) -> None:
            with lock:
                results[f"req-{i}"] = seq
                if len(results) == 200:
                    done.set()

        writer.submit(make_record(i), callback)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    assert done.wait(10)
    writer.stop()
    assert sorted(v for v in results.values() if v is not None) == list(range(1, 201))
    assert writer.batches <= 200 and writer.written == 200
    assert log.verify().ok


def test_writer_hands_a_failure_to_the_waiting_callers(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite3")
    log.append([make_record(1)])
    writer = AuditWriter(log)
    writer.start()
    got: list[tuple[int | None, BaseException | None]] = []
    event = threading.Event()
    writer.submit(make_record(1), lambda seq, exc: (got.append((seq, exc)), event.set()))  # duplicate id
    assert event.wait(5)
    writer.stop()
    assert got[0][0] is None and isinstance(got[0][1], sqlite3.IntegrityError)
    assert log.count() == 1 and log.verify().ok
