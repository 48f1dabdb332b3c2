"""The audit writer process's protocol: workers' records over Unix sockets, one writer, one chain."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
from pathlib import Path

import pytest

from clearance.audit.channel import AuditChannel, AuditWriteError, serve_writer
from clearance.audit.log import AuditLog, AuditRecord
from clearance.errors import StoreError
from tests.audit.harness import writer


def record(request_id: str, size: int = 10) -> AuditRecord:
    return AuditRecord(request_id, "tester", "screen", {"query": {"name": "x" * size}})


def test_records_of_several_workers_make_one_chain_and_share_commits(tmp_path: Path) -> None:
    batches: list[int] = []
    with writer(tmp_path / "audit.sqlite3", 2) as (ends, thread, _):
        channels = [AuditChannel(end) for end in ends]
        for channel in channels:
            channel.on_batch = lambda n, _seconds: batches.append(n)

        async def main() -> list[int]:
            return await asyncio.gather(*(channels[i % 2].write(record(f"r-{i}")) for i in range(300)))

        seqs = asyncio.run(main())
        for channel in channels:
            channel.stop()
        thread.join(10)
        assert not thread.is_alive(), "the writer stops once every worker has closed its socket"
    assert sorted(seqs) == list(range(1, 301))
    log = AuditLog(tmp_path / "audit.sqlite3")
    assert log.count() == 300 and log.verify().ok
    assert {r.request_id for r in log.records()} == {f"r-{i}" for i in range(300)}
    assert max(batches) > 1, "records sent together are committed together"


def test_a_refused_record_fails_alone_and_names_why(tmp_path: Path) -> None:
    with writer(tmp_path / "audit.sqlite3", 1) as (ends, _, _):
        channel = AuditChannel(ends[0])

        async def main() -> list[int | BaseException]:
            await channel.write(record("dup"))
            return await asyncio.gather(
                channel.write(record("a")),
                channel.write(record("dup")),  # request ids are unique in the log
                channel.write(record("b")),
                return_exceptions=True,
            )

        a, dup, b = asyncio.run(main())
        channel.stop()
    assert a == 2 and b == 3
    assert isinstance(dup, AuditWriteError) and "IntegrityError" in str(dup)
    assert AuditLog(tmp_path / "audit.sqlite3").verify().ok


def test_answers_waiting_are_taken_while_the_event_loop_is_busy(tmp_path: Path) -> None:
    """A worker busy on its event loop (screening) takes the writer's waiting answers between two steps
    of its work: the request they belong to goes on at the loop's next turn, not after the work."""
    with writer(tmp_path / "audit.sqlite3", 1) as (ends, _, _):
        channel = AuditChannel(ends[0])

        async def main() -> tuple[int, int, int, bool]:
            nothing_owed = channel.take_answers()
            task = asyncio.ensure_future(channel.write(record("a")))
            await asyncio.sleep(0)  # the record is sent; its task waits for the answer
            # busy, as in a screening: the loop does not poll the socket until this coroutine yields
            assert select.select([ends[0]], [], [], 10)[0], "the writer answered"
            settled = channel.take_answers()
            after = channel.take_answers()
            await asyncio.sleep(0)
            return nothing_owed, settled, after, task.done() and task.result() == 1

        nothing_owed, settled, after, answered = asyncio.run(main())
        channel.stop()
    assert (nothing_owed, settled, after) == (0, 1, 0)
    assert answered, "the request went on at the loop's next turn"


def test_large_records_cross_the_socket_whole(tmp_path: Path) -> None:
    with writer(tmp_path / "audit.sqlite3", 1) as (ends, _, _):
        channel = AuditChannel(ends[0])

        async def main() -> list[int]:
            return await asyncio.gather(*(channel.write(record(f"big-{i}", 3_000_000)) for i in range(3)))

        assert sorted(asyncio.run(main())) == [1, 2, 3]
        channel.stop()
    stored = list(AuditLog(tmp_path / "audit.sqlite3").records())
    assert [len(r.payload["query"]["name"]) for r in stored] == [3_000_000] * 3


def test_when_the_writer_is_gone_records_fail_instead_of_waiting(tmp_path: Path) -> None:
    worker_end, writer_end = socket.socketpair()
    channel = AuditChannel(worker_end)

    async def main() -> None:
        waiting = asyncio.ensure_future(channel.write(record("r-1")))
        await asyncio.sleep(0.05)
        writer_end.close()  # the writer process died before answering
        with pytest.raises(StoreError, match="audit writer process has exited"):
            await asyncio.wait_for(waiting, 5)
        with pytest.raises(StoreError, match="audit writer process has exited"):
            await channel.write(record("r-2"))

    asyncio.run(main())


def test_a_writer_gone_mid_computation_fails_the_waiting_records_at_the_next_take(tmp_path: Path) -> None:
    """Taking answers between two steps of a screening also notices the writer is gone: the records it
    owed fail then (their requests get an error at once), and the worker is told, once."""
    worker_end, writer_end = socket.socketpair()
    channel = AuditChannel(worker_end)
    lost: list[str] = []
    channel.on_lost = lost.append

    async def main() -> tuple[int, int, bool]:
        waiting = asyncio.ensure_future(channel.write(record("r-1")))
        await asyncio.sleep(0)  # the record is sent
        writer_end.close()  # the writer process dies before answering
        settled = channel.take_answers()
        again = channel.take_answers()
        await asyncio.sleep(0)
        failed = waiting.done() and isinstance(waiting.exception(), StoreError)
        return settled, again, failed

    settled, again, failed = asyncio.run(main())
    assert (settled, again, failed) == (1, 0, True)
    assert len(lost) == 1 and "exited" in lost[0]


def test_a_worker_started_later_joins_over_the_control_socket(tmp_path: Path) -> None:
    """A replacement worker's socket reaches the writer as a file descriptor on the control socket; its
    records join the one chain, and the writer ends only once the control socket is closed too."""
    first, first_writer_end = socket.socketpair()
    control, writer_control = socket.socketpair()
    log = AuditLog(tmp_path / "audit.sqlite3")
    thread = threading.Thread(
        target=serve_writer, args=(log, [first_writer_end]), kwargs={"control": writer_control}, daemon=True
    )
    thread.start()
    try:
        asyncio.run(_write(AuditChannel(first), "first"))  # then the first worker is gone
        later, later_writer_end = socket.socketpair()
        socket.send_fds(control, [b"w"], [later_writer_end.fileno()])
        later_writer_end.close()
        assert asyncio.run(_write(AuditChannel(later), "later")) == 2
        thread.join(0.3)
        assert thread.is_alive(), "more workers may join while the control socket is open"
        control.close()
        thread.join(10)
        assert not thread.is_alive(), "every worker and the control socket closed: the writer ends"
    finally:
        control.close()
        log.close()
    log = AuditLog(tmp_path / "audit.sqlite3")
    assert [r.request_id for r in log.records()] == ["first", "later"] and log.verify().ok


async def _write(channel: AuditChannel, request_id: str) -> int:
    try:
        return await asyncio.wait_for(channel.write(record(request_id)), 10)
    finally:
        channel.stop()


def test_the_writer_going_away_is_reported_once_to_on_lost(tmp_path: Path) -> None:
    """A worker learns that its writer is gone (to stop rather than fail every screening), once; its
    own ``stop`` is no such news."""
    worker_end, writer_end = socket.socketpair()
    channel = AuditChannel(worker_end)
    lost: list[str] = []
    channel.on_lost = lost.append

    async def main() -> None:
        waiting = asyncio.ensure_future(channel.write(record("r-1")))
        await asyncio.sleep(0.05)
        writer_end.close()
        with pytest.raises(StoreError):
            await asyncio.wait_for(waiting, 5)
        with pytest.raises(StoreError):
            await channel.write(record("r-2"))
        channel.stop()

    asyncio.run(main())
    assert len(lost) == 1 and lost[0].startswith("the audit writer process has exited"), lost
    ours, theirs = socket.socketpair()
    stopped = AuditChannel(ours)
    stopped.on_lost = lost.append
    stopped.stop()
    theirs.close()
    assert len(lost) == 1
