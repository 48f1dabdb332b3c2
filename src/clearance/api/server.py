"""Run the service: uvicorn with httptools and uvloop, on a socket we bind (so port 0 works); with several
workers, this process accepts the connections and hands them to the workers in turn."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import queue
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clearance.errors import ClearanceError
from clearance.settings import Settings

log = logging.getLogger(__name__)

#: What a worker sends the supervisor on its hand-over socket once it has a screener to serve with.
READY = b"r"


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
    # before any listening socket exists, so the writer process holds none
    writer_pid, audit_sockets, writer_control = _start_audit_writer(settings, workers)
    sock = _socket(host, port)
    sock.listen(2048)
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

    if workers == 1:
        writer_control.close()  # no worker will join later
        announce()
        _serve(settings, service_config, log_level, audit_sockets[0], listening=sock)
        audit_sockets[0].close()  # the service closed it if it started; else the writer waits for this
        _reap(writer_pid)
        return
    writer = (writer_pid, writer_control)
    died = _serve_forked(settings, service_config, sock, log_level, audit_sockets, writer, announce)
    if died:
        raise ClearanceError(
            f"{died}, so the server stopped (its other processes too): start it again "
            "(a supervisor such as systemd with Restart=on-failure does that)"
        )


def _start_audit_writer(
    settings: Settings, workers: int
) -> tuple[int, list[socket.socket], socket.socket]:
    """Fork the process that writes the audit log for every worker (:mod:`clearance.audit.channel`);
    its pid, one socket to it per worker, and a socket on which to send it the socket of a worker
    started later (``serve_writer``'s ``control``).

    It stops once every worker has closed its socket and the control socket is closed (so records
    sent during a graceful shutdown are still written), ignores the signals that stop the workers, and
    dies with this process.
    """
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    control, writers_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            _die_with_parent()
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            control.close()
            for _, worker_end in pairs:
                worker_end.close()
            from clearance.audit import AuditLog, audit_path
            from clearance.audit.channel import serve_writer

            log = AuditLog(audit_path(settings))
            serve_writer(log, [writer_end for writer_end, _ in pairs], control=writers_control)
            log.close()
            status = 0
        except BaseException:  # reported, then the process ends
            logging.getLogger("clearance.audit").exception("the audit writer process failed")
        finally:
            os._exit(status)
    writers_control.close()
    for writer_end, _ in pairs:
        writer_end.close()
    return pid, [worker_end for _, worker_end in pairs], control


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _exit_cause(status: int) -> str:
    """How a child process ended, from its ``wait`` status."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return f"was killed by {signal.Signals(signum).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise ClearanceError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def _serve(
    settings: Settings,
    config: object,
    log_level: str,
    audit_socket: socket.socket,
    *,
    listening: socket.socket | None = None,
    handed: socket.socket | None = None,
) -> None:
    """One worker: a Service (screener, audit channel) and uvicorn, accepting on ``listening`` or
    serving the connections the supervisor hands over on ``handed`` (:func:`_take_handed`)."""
    import uvicorn

    from clearance.api.app import create_server_app
    from clearance.api.service import Service, ServiceConfig

    assert isinstance(config, ServiceConfig)
    service = Service(settings, config, audit_socket=audit_socket)
    app = create_server_app(service)
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
    lost: list[str] = []  # why the audit writer went away, if it did

    def audit_lost(why: str) -> None:
        log.error("%s: this worker stops, as it can record no screening", why)
        lost.append(why)
        server.should_exit = True

    service.on_audit_lost = audit_lost
    if handed is None:
        assert listening is not None
        server = uvicorn.Server(uv_config)
        server.run(sockets=[listening])
        if lost:
            raise ClearanceError(f"{lost[0]}, so the server stopped: start it again")
        return
    channel = handed  # narrowed, for the method below
    service.on_swap.append(_say_ready_once(channel))

    class HandedServer(uvicorn.Server):
        """uvicorn without a listening socket: it serves the connections handed over on ``handed``."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=[])
            if not self.should_exit:
                _take_handed(self, channel)

    server = HandedServer(uv_config)
    server.run()
    if lost:
        raise ClearanceError(lost[0])
    if not server.started:  # the app's startup failed (logged by uvicorn): the supervisor must know
        raise ClearanceError("the worker could not start")


def _say_ready_once(channel: socket.socket) -> Callable[[object], None]:
    """A swap callback telling the supervisor, once, that this worker has a screener (``READY``)."""
    said = threading.Event()

    def say(_loaded: object) -> None:
        if not said.is_set():
            said.set()
            with contextlib.suppress(OSError):  # the supervisor is gone: nobody to tell
                channel.send(READY)

    return say


def _take_handed(server: Any, channel: socket.socket) -> None:
    """Serve, on the running loop, each connection whose file descriptor arrives on ``channel`` (a Unix
    socket from the supervisor), as uvicorn's own listening server serves those it accepts."""
    loop = asyncio.get_running_loop()
    config = server.config

    def protocol() -> asyncio.Protocol:
        # what uvicorn's own listening server makes for each connection it accepts
        made: asyncio.Protocol = config.http_protocol_class(
            config=config, server_state=server.server_state, app_state=server.lifespan.state
        )
        return made

    def take() -> None:
        try:
            data, fds, _, _ = socket.recv_fds(channel, 64, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        if not data:  # the supervisor is gone: accept nothing more
            loop.remove_reader(channel.fileno())
        for fd in fds:
            conn = socket.socket(fileno=fd)
            if server.should_exit:
                conn.close()
                continue
            loop.create_task(loop.connect_accepted_socket(protocol, conn))

    channel.setblocking(False)
    loop.add_reader(channel.fileno(), take)


#: Workers that may die and be replaced within :data:`RESPAWN_WINDOW` seconds before the server gives up.
RESPAWN_LIMIT = 3
RESPAWN_WINDOW = 60.0


def _serve_forked(
    settings: Settings,
    config: object,
    listening: socket.socket,
    log_level: str,
    audit_sockets: list[socket.socket],
    writer: tuple[int, socket.socket],
    ready: Callable[[], None],
) -> str | None:
    """A worker (process) per socket of ``audit_sockets``, each sending its audit records on its own of
    them to the writer process; this process accepts the connections on ``listening`` and hands them to
    the workers in turn; ``ready()`` once every worker runs. ``writer`` is the writer's pid and a socket
    on which to send it the audit socket of a worker started later. Returns ``None`` after a graceful
    shutdown, or, when the server had to stop, which process died and how.

    Screening is CPU-bound Python, so one process uses one core; workers use the others. Each worker
    has its own screener; one writer process appends the records of all of them to the audit log.
    Why this process accepts, as Node's cluster module does: clients keep their connections open, so a
    worker's load is its share of the connections. Workers accepting for themselves got them unevenly:
    on one shared socket the worker that woke first took every connection waiting, and on sockets of
    their own (SO_REUSEPORT) the kernel's hash of the client's port gave ten connections 7 and 3, or 8
    and 2, as often as 5 and 5, and one worker then took 70-80% of the requests. Handed over in turn,
    connections are spread evenly, one file descriptor message per connection (not per request).
    Workers die with the supervisor (PR_SET_PDEATHSIG), and SIGTERM/SIGINT are passed on to them.

    A worker that dies while serving (killed, out of memory) is replaced by a new one, which takes
    connections once it has loaded its screener; the connections the dead one held are lost (their
    clients reconnect). More than :data:`RESPAWN_LIMIT` deaths within :data:`RESPAWN_WINDOW` seconds (a
    worker failing at startup, a request that kills any worker), or the audit writer dying, stop the
    whole server: the rest are asked to finish (SIGTERM: answers in flight are sent and recorded) and
    the supervisor exits with an error, for its own supervisor to start it again.
    """
    writer_pid, writer_control = writer
    stop = threading.Event()
    joining: queue.SimpleQueue[socket.socket] = queue.SimpleQueue()  # channels of new workers
    channels: dict[int, socket.socket] = {}  # this process's end of each worker's hand-over socket
    running: set[int] = set()

    def spawn(audit: socket.socket) -> int:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            # not the supervisor's handlers (which forward signals to its other workers): stopped
            # before uvicorn installs its own, a new worker just ends
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _die_with_parent()
            try:
                # only the supervisor accepts; a worker holding another's audit socket would keep the
                # writer from seeing that one close
                for other in [listening, writer_control, *audit_sockets, *channels.values(), ours]:
                    if other is not audit:
                        other.close()
                _serve(settings, config, log_level, audit, handed=theirs)
                status = 0
            except BaseException:
                log.exception("worker %d failed", os.getpid())
                status = 1
            finally:
                os._exit(status)
        theirs.close()
        audit.close()
        channels[pid] = ours
        joining.put(ours)
        running.add(pid)
        return pid

    for audit in audit_sockets:
        spawn(audit)
    audit_sockets = []
    dispatcher = threading.Thread(
        target=_hand_over, args=(listening, joining, stop), name="hand-over", daemon=True
    )
    dispatcher.start()
    ready()

    def forward(signum: int, _frame: object) -> None:
        stop.set()  # no new connections during a graceful shutdown
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    died: str | None = None
    deaths: list[float] = []  # when workers died, for the respawn limit
    writer_running = True

    def give_up(why: str) -> None:
        nonlocal died
        died = why
        log.error("%s: stopping the server", why)
        forward(signal.SIGTERM, None)

    def writer_ended(status: int) -> None:
        nonlocal writer_running
        writer_running = False
        # it ends well (status 0) only once every worker has closed its socket to it
        if os.waitstatus_to_exitcode(status) != 0 and died is None:
            give_up(f"the audit writer process {writer_pid} {_exit_cause(status)}")

    while running or writer_running:
        if not running:
            writer_control.close()  # no worker will join: the writer ends once the last has closed
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == writer_pid:
            writer_ended(status)
            continue
        running.discard(pid)
        # closed here, the hand-over thread drops it at its next connection
        with contextlib.suppress(KeyError):
            channels.pop(pid).close()
        if stop.is_set() or died is not None:
            continue
        if writer_running:  # workers stop when the writer dies: name the cause, not the worker
            with contextlib.suppress(ChildProcessError):
                found, writer_status = os.waitpid(writer_pid, os.WNOHANG)
                if found == writer_pid:
                    writer_ended(writer_status)
                    continue
        cause = f"worker process {pid} {_exit_cause(status)}"
        now = time.monotonic()
        deaths = [t for t in deaths if now - t < RESPAWN_WINDOW] + [now]
        if len(deaths) > RESPAWN_LIMIT:
            give_up(f"{cause}, the {len(deaths)}th worker to die within {RESPAWN_WINDOW:g} s")
            continue
        audit, writers_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(writer_control, [b"w"], [writers_end.fileno()])
        except OSError as exc:
            audit.close()
            give_up(f"{cause}, and the audit writer cannot take another ({exc})")
            continue
        finally:
            writers_end.close()
        log.warning("%s: starting worker %d in its place", cause, spawn(audit))
    stop.set()
    dispatcher.join()
    listening.close()
    for channel in channels.values():
        channel.close()
    return died


def _hand_over(
    listening: socket.socket, joining: queue.SimpleQueue[socket.socket], stop: threading.Event
) -> None:
    """Accept connections on ``listening`` and send each to the next worker's channel in turn, until
    ``stop`` is set; ``joining`` brings the channel of each worker started. Only workers that have said
    they are ready (a screener loaded) take connections, unless none is yet, as a lone server answers
    503 until it has loaded; a worker that has exited, or cannot take one within a second, is passed
    over."""
    listening.settimeout(0.2)  # to see ``stop`` while no client connects
    live: list[socket.socket] = []
    ready: set[socket.socket] = set()
    turn = 0
    while not stop.is_set():
        try:
            conn, _ = listening.accept()
        except TimeoutError:
            continue
        except OSError:
            if stop.is_set():
                return
            log.exception("accepting a connection failed")
            time.sleep(0.01)  # out of file descriptors, say: let connections close before the next try
            continue
        with conn:
            # the answer's head and body go out in two writes: without this, Nagle's algorithm holds
            # the body until the client acknowledges the head (40 ms with delayed ACKs)
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not joining.empty():
                channel = joining.get()
                channel.settimeout(1.0)
                live.append(channel)
            live[:] = [c for c in live if c.fileno() != -1]  # the supervisor closes those of dead workers
            ready &= set(live)
            if len(ready) < len(live):
                _hear_ready(live, ready)
            takers = [c for c in live if c in ready] or list(live)
            for _ in range(len(takers)):
                if not takers:
                    break  # every worker has exited: the connection closes unanswered
                channel = takers[turn % len(takers)]
                try:
                    socket.send_fds(channel, [b"c"], [conn.fileno()])
                except TimeoutError:
                    turn += 1  # busy: the next worker
                    continue
                except OSError:  # that worker has exited
                    takers.remove(channel)
                    live.remove(channel)
                    ready.discard(channel)
                    continue
                turn += 1
                break
            # the worker holds its own descriptor now; closing ours leaves the connection open


def _hear_ready(live: list[socket.socket], ready: set[socket.socket]) -> None:
    """Add to ``ready`` the workers of ``live`` that have said so since; drop from ``live`` those gone."""
    waiting = [c for c in live if c not in ready]
    try:
        readable, _, _ = select.select(waiting, [], [], 0)  # the others are still loading
    except (OSError, ValueError):
        return  # one was closed meanwhile (its worker died): dropped at the next connection
    for channel in readable:
        try:
            said = channel.recv(16)
        except OSError:
            said = b""
        if said:
            ready.add(channel)
        else:
            live.remove(channel)  # the worker has exited


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
