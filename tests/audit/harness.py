"""The audit writer loop run on a thread, for tests that need a real writer at the other end of a socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clearance.audit.channel import serve_writer
from clearance.audit.log import AuditLog


@contextmanager
def writer(path: Path, workers: int) -> Iterator[tuple[list[socket.socket], threading.Thread, AuditLog]]:
    """The writer loop on a thread over ``workers`` socket pairs; yields the workers' ends."""
    pairs = [socket.socketpair() for _ in range(workers)]
    log = AuditLog(path)
    thread = threading.Thread(target=serve_writer, args=(log, [w for w, _ in pairs]), daemon=True)
    thread.start()
    try:
        yield [c for _, c in pairs], thread, log
    finally:
        for _, c in pairs:
            c.close()
        thread.join(10)
        log.close()
