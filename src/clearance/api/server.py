"""Run the service: uvicorn with httptools and uvloop, on a socket we bind (so port 0 works)."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.settings import Settings


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def check_bind(host: str, auth: bool) -> None:
    if not auth and not is_loopback(host):
        raise ClearanceError(
            f"--no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost), not {host!r}: "
            "create keys with `clearance keys create` instead"
        )


def run(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    port_file: Path | None = None,
    log_level: str = "info",
    config: object | None = None,
) -> None:
    from clearance.api.service import ServiceConfig

    service_config = config if isinstance(config, ServiceConfig) else ServiceConfig()
    check_bind(host, service_config.auth)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    workers = max(1, service_config.workers)
    spread = workers > 1 and hasattr(socket, "SO_REUSEPORT")
    # several workers each listen on a socket of their own on the port (SO_REUSEPORT), so the kernel
    # spreads the connections over them; on one shared socket the worker that wakes first accepts
    # every connection waiting (ten clients connecting at once all went to one of two workers)
    if spread:
        # SO_REUSEPORT would let a second server on this port share its connections without a word:
        # a plain bind first fails, as it always did, when anything already listens there
        probe = _socket(host, port, reuse_port=False)
        port = probe.getsockname()[1]
        probe.close()
    # before any listening socket exists, so the writer process holds none
    writer_pid, audit_sockets = _start_audit_writer(settings, workers)
    sock = _socket(host, port, reuse_port=spread)
    actual = sock.getsockname()[1]
    mode = "" if service_config.auth else " WITHOUT AUTHENTICATION (--no-auth)"

    def announce() -> None:
        print(
            f"clearance serving on http://{host}:{actual}{mode} (home {settings.home}, {workers} worker(s))",
            file=sys.stderr,
            flush=True,
        )
        if port_file is not None:
            tmp = port_file.with_suffix(".tmp")
            tmp.write_text(str(actual))
            tmp.replace(port_file)

    if not spread:
        sock.listen(2048)
        announce()
        if workers == 1:
            _serve(settings, service_config, sock, log_level, audit_sockets[0])
            audit_sockets[0].close()  # the service closed it if it started; else the writer waits for this
        else:
            _serve_forked(settings, service_config, lambda: sock, log_level, audit_sockets, announce)
        _reap(writer_pid)
        return

    def listening() -> socket.socket:
        own = _socket(host, actual, reuse_port=True)
        own.listen(2048)
        return own

    # the parent's socket stays bound, not listening, holding the port for the workers' sockets
    _serve_forked(settings, service_config, listening, log_level, audit_sockets, announce)
    _reap(writer_pid)


def _start_audit_writer(settings: Settings, workers: int) -> tuple[int, list[socket.socket]]:
    """Fork the process that writes the audit log for every worker (:mod:`clearance.audit.channel`);
    its pid and one socket to it per worker.

    It stops once every worker has closed its socket (so records sent during a graceful shutdown are
    still written), ignores the signals that stop the workers, and dies with this process.
    """
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            _die_with_parent()
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for _, worker_end in pairs:
                worker_end.close()
            from clearance.audit import AuditLog, audit_path
            from clearance.audit.channel import serve_writer

            log = AuditLog(audit_path(settings))
            serve_writer(log, [writer_end for writer_end, _ in pairs])
            log.close()
            status = 0
        except BaseException:  # reported, then the process ends
            logging.getLogger("clearance.audit").exception("the audit writer process failed")
        finally:
            os._exit(status)
    for writer_end, _ in pairs:
        writer_end.close()
    return pid, [worker_end for _, worker_end in pairs]


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise ClearanceError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def _serve(
    settings: Settings, config: object, sock: socket.socket, log_level: str, audit_socket: socket.socket
) -> None:
    """One worker: a Service (screener, audit channel) and uvicorn accepting on ``sock``."""
    import uvicorn

    from clearance.api.app import create_server_app
    from clearance.api.service import Service, ServiceConfig

    assert isinstance(config, ServiceConfig)
    app = create_server_app(Service(settings, config, audit_socket=audit_socket))
    uv_config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=log_level,
        timeout_keep_alive=30,
        server_header=False,
        limit_concurrency=2000,
    )
    uvicorn.Server(uv_config).run(sockets=[sock])


def _serve_forked(
    settings: Settings,
    config: object,
    listening: Callable[[], socket.socket],
    log_level: str,
    audit_sockets: list[socket.socket],
    ready: Callable[[], None],
) -> None:
    """A worker (process) per socket of ``audit_sockets``, each accepting on the socket ``listening()``
    gives it in the worker and sending its audit records on its own of ``audit_sockets``; ``ready()``
    once every worker listens.

    Screening is CPU-bound Python, so one process uses one core; workers use the others. Each worker
    has its own screener; one writer process appends the records of all of them to the audit log.
    Workers die with the supervisor (PR_SET_PDEATHSIG), and SIGTERM/SIGINT are passed on to them.
    """
    workers = len(audit_sockets)
    children: list[int] = []
    read_end, write_end = os.pipe()
    for mine in audit_sockets:
        pid = os.fork()
        if pid == 0:
            _die_with_parent()
            try:
                os.close(read_end)
                for other in audit_sockets:
                    if other is not mine:
                        other.close()  # else the writer would not see that worker close its end
                sock = listening()
                os.write(write_end, b"L")
                os.close(write_end)
                _serve(settings, config, sock, log_level, mine)
            finally:
                os._exit(0)
        children.append(pid)
    for sock in audit_sockets:
        sock.close()
    os.close(write_end)
    listening_workers = 0
    while listening_workers < workers:
        got = os.read(read_end, workers)
        if not got:  # every worker's end closed: one died before it listened
            raise ClearanceError("a server worker failed to start; see its error above")
        listening_workers += len(got)
    os.close(read_end)
    ready()

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(child, 0)


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
