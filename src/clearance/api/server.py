"""Run the service: uvicorn with httptools and uvloop, on a socket we bind (so port 0 works)."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
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
    import uvicorn

    from clearance.api.app import create_app
    from clearance.api.service import Service, ServiceConfig

    service_config = config if isinstance(config, ServiceConfig) else ServiceConfig()
    check_bind(host, service_config.auth)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise ClearanceError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(2048)
    actual = sock.getsockname()[1]
    service = Service(settings, service_config)
    app = create_app(service)
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
    server = uvicorn.Server(uv_config)
    mode = "" if service_config.auth else " WITHOUT AUTHENTICATION (--no-auth)"
    print(
        f"clearance serving on http://{host}:{actual}{mode} (home {settings.home})",
        file=sys.stderr,
        flush=True,
    )
    if port_file is not None:
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(actual))
        tmp.replace(port_file)
    server.run(sockets=[sock])
