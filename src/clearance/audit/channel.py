"""One process writes the audit log for all of a server's workers; the workers send it their records.

``clearance serve`` starts a writer process (:func:`serve_writer`) beside its workers and gives each
worker one end of a Unix socket pair to it; a worker started later (one replacing a worker that died)
gets a pair whose other end the supervisor passes to the writer over a control socket. A worker sends
each record over its socket (:class:`AuditChannel`) and answers the request only when the writer has
committed the record and sent back its sequence number, so an acknowledged screening is on disk, as
with :class:`AuditWriter`.

Why a process of its own rather than a writer thread in each worker:

* one writer holds the SQLite file: workers no longer take its write lock in turn, each retrying while
  another commits;
* one commit (one ``fsync``) acknowledges the records of every worker that sent some meanwhile: the
  records that arrive while a commit is on disk make up the next batch, without waiting on purpose;
* the worker's event loop does not share its interpreter lock with a writer thread, nor wake one per
  request.

On the socket, each message is framed by its length (``>I``) in both directions. Worker to writer, one
record: the header's length (``>I``), the header as JSON ``[tag, request_id, recorded_at, actor,
action]`` (the tag numbers the worker's records) and the body, the record's canonical JSON. Writer to
worker: JSON ``{"seqs": [[tag, seq], ...], "errors": [[tag, message], ...], "batch": [records, seconds]}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import selectors
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from clearance.audit.log import AuditLog, AuditRecord, EncodedRecord, write_batch
from clearance.errors import StoreError

_LENGTH = struct.Struct(">I")
_READ_SIZE = 1 << 16


class AuditWriteError(StoreError):
    """The writer process could not append a record; the message says why (as it was raised there)."""


class AuditChannel:
    """A worker's end of the socket to the writer process, driven by the worker's event loop.

    :meth:`write` is called on the event loop (the first call attaches the channel to it); answers are
    read by a reader callback on the same loop, so the worker runs no thread for its records.
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._fd = sock.fileno()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tags = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[int]] = {}
        self._out = bytearray()
        self._in = bytearray()
        self._broken: str | None = None  # why records can no longer be written
        self.on_batch: Callable[[int, float], None] | None = None
        #: Called (on the event loop) with the reason when the writer process is gone: no record can be
        #: written any more, so the worker should stop rather than fail every screening.
        self.on_lost: Callable[[str], None] | None = None

    async def write(self, record: AuditRecord) -> int:
        """Send ``record`` to the writer and wait until it is durable; its sequence number."""
        if self._broken is not None:
            raise StoreError(self._broken)
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            loop.add_reader(self._fd, self._readable)
        elif self._loop is not loop:
            raise RuntimeError("an audit channel serves the event loop that first wrote to it")
        encoded = record.encoded()
        tag = next(self._tags)
        head = orjson.dumps([tag, encoded.request_id, encoded.recorded_at, encoded.actor, encoded.action])
        future: asyncio.Future[int] = loop.create_future()
        self._waiting[tag] = future
        self._send(_frame(_LENGTH.pack(len(head)) + head + encoded.body))
        return await future

    def take_answers(self) -> int:
        """Read the writer's answers already waiting on the socket, without waiting for more, and settle
        the futures of their records; how many were settled.

        The answers are otherwise read when the event loop next polls the socket. A worker that is in
        the middle of a long computation on the loop (a screening) calls this between its stages and,
        when it settled any, yields once, so the requests whose records are durable are answered
        before the computation ends rather than after it.
        """
        if not self._waiting or self._loop is None or self._broken is not None:
            return 0  # nothing is owed to this worker: no need to ask the socket
        before = len(self._waiting)
        self._readable()
        return before - len(self._waiting)

    def stop(self) -> None:
        """Close the socket (the writer stops when every worker has); records still unanswered fail."""
        self._break("the audit channel is closed")

    # -- the event loop's side ---------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if not self._out:
            try:
                sent = self._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._lost(f"cannot send to the audit writer process: {exc}")
                return
            if sent == len(data):
                return
            data = data[sent:]
            assert self._loop is not None
            self._loop.add_writer(self._fd, self._writable)
        self._out += data

    def _writable(self) -> None:
        try:
            sent = self._sock.send(self._out)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lost(f"cannot send to the audit writer process: {exc}")
            return
        del self._out[:sent]
        if not self._out and self._loop is not None:
            self._loop.remove_writer(self._fd)

    def _readable(self) -> None:
        try:
            data = self._sock.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lost(f"the audit writer process has exited ({exc.strerror or exc})")
            return
        if not data:
            self._lost("the audit writer process has exited")
            return
        self._in += data
        for message in _messages(self._in):
            self._answer(orjson.loads(message))

    def _answer(self, message: dict[str, Any]) -> None:
        for tag, seq in message.get("seqs", ()):
            future = self._waiting.pop(tag, None)
            if future is not None and not future.done():
                future.set_result(seq)
        for tag, why in message.get("errors", ()):
            future = self._waiting.pop(tag, None)
            if future is not None and not future.done():
                future.set_exception(AuditWriteError(why))
        batch = message.get("batch")
        if batch and self.on_batch is not None:
            self.on_batch(int(batch[0]), float(batch[1]))

    def _lost(self, why: str) -> None:
        first = self._broken is None
        self._break(why)
        if first and self.on_lost is not None:
            self.on_lost(why)

    def _break(self, why: str) -> None:
        if self._broken is None:
            self._broken = why
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
        with contextlib.suppress(OSError):
            self._sock.close()
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(StoreError(why))


def _frame(message: bytes) -> bytes:
    return _LENGTH.pack(len(message)) + message


def _messages(buffer: bytearray) -> Iterator[bytes]:
    """The complete messages at the start of ``buffer``, taken out of it."""
    while len(buffer) >= _LENGTH.size:
        (length,) = _LENGTH.unpack_from(buffer)
        end = _LENGTH.size + length
        if len(buffer) < end:
            return
        message = bytes(buffer[_LENGTH.size : end])
        del buffer[:end]
        yield message


class _Worker:
    """The writer's side of one worker's socket: what it has sent so far and what is owed to it."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.open = True  # until the worker closes its end
        self.registered = True  # with the writer's selector

    def receive(self) -> list[tuple[int, EncodedRecord]]:
        """The records that have arrived complete; ``open`` turns False at the end of the stream."""
        while True:
            try:
                data = self.sock.recv(_READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self.open = False
                break
            self.inbox += data
            if len(data) < _READ_SIZE:
                break
        records = []
        for message in _messages(self.inbox):
            (head_end,) = _LENGTH.unpack_from(message)
            head_end += _LENGTH.size
            tag, request_id, recorded_at, actor, action = orjson.loads(message[_LENGTH.size : head_end])
            records.append(
                (int(tag), EncodedRecord(request_id, recorded_at, actor, action, message[head_end:]))
            )
        return records

    def send(self, message: bytes) -> None:
        self.outbox += _frame(message)
        self.flush()

    def flush(self) -> None:
        try:
            sent = self.sock.send(self.outbox)
        except BlockingIOError:
            return
        except OSError:  # the worker is gone; its records are written all the same
            self.outbox.clear()
            return
        del self.outbox[:sent]


def _joined(control: socket.socket, selector: selectors.BaseSelector) -> list[_Worker]:
    """The workers whose sockets have arrived on ``control``; unregisters and closes it at its end."""
    try:
        data, fds, _, _ = socket.recv_fds(control, 64, 16)
    except (BlockingIOError, InterruptedError):
        return []
    except OSError:
        data, fds = b"", []
    if not data:
        selector.unregister(control)
        control.close()
    return [_Worker(socket.socket(fileno=fd)) for fd in fds]


def serve_writer(
    log: AuditLog, sockets: Sequence[socket.socket], control: socket.socket | None = None
) -> None:
    """Append the records the workers send on ``sockets``, answering each with its sequence number once
    committed, until every worker has closed its socket and ``control`` is closed. On ``control``
    (optional) arrive the sockets of workers started later, as file descriptors (``socket.send_fds``)."""
    selector = selectors.DefaultSelector()
    workers = [_Worker(sock) for sock in sockets]
    for worker in workers:
        selector.register(worker.sock, selectors.EVENT_READ, worker)
    if control is not None:
        selector.register(control, selectors.EVENT_READ, None)
    while selector.get_map():
        received: list[tuple[_Worker, int, EncodedRecord]] = []
        for key, events in selector.select():
            worker = key.data
            if worker is None:  # the control socket: a new worker's socket, or the end of them
                assert control is not None
                for joined in _joined(control, selector):
                    workers.append(joined)
                    selector.register(joined.sock, selectors.EVENT_READ, joined)
                continue
            if events & selectors.EVENT_WRITE:
                worker.flush()
            if events & selectors.EVENT_READ:
                received += [(worker, tag, rec) for tag, rec in worker.receive()]
        if received:
            started = time.perf_counter()
            results = write_batch(log, [rec for _, _, rec in received])
            batch = [len(received), time.perf_counter() - started]
            answers: dict[_Worker, dict[str, list[Any]]] = {}
            for (worker, tag, _), result in zip(received, results, strict=True):
                answer = answers.setdefault(worker, {"seqs": [], "errors": [], "batch": batch})
                if isinstance(result, BaseException):
                    answer["errors"].append([tag, f"{type(result).__name__}: {result}"])
                else:
                    answer["seqs"].append([tag, result])
            for worker, answer in answers.items():
                worker.send(orjson.dumps(answer))
        for worker in workers:
            if worker.registered and not worker.open:
                selector.unregister(worker.sock)
                worker.sock.close()
                worker.registered = False
            elif worker.registered:
                events = selectors.EVENT_READ | (selectors.EVENT_WRITE if worker.outbox else 0)
                if selector.get_key(worker.sock).events != events:
                    selector.modify(worker.sock, events, worker)
        workers = [w for w in workers if w.registered]  # the workers that ended are forgotten
    selector.close()
