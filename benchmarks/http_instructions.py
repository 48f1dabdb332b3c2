"""Instructions one server worker executes per ``POST /v1/screen`` request, counted by callgrind.

    python benchmarks/http_instructions.py [--data sdn|small] [--warm 300] [--requests 600] [--repo PATH] [--keep FILE]

Wall-clock CPU on a shared virtual machine moves by +-25% between identical runs; instruction counts do
not. This runs the real ``clearance serve`` (one worker, API keys on, the audit writer process beside it)
under ``valgrind --tool=callgrind``, sends ``--warm`` distinct names one at a time, zeroes the counters,
sends ``--requests`` more and dumps them, then prints the worker's instructions per request and the part
inside the matcher (``Screener.screen``, or the steps of ``Screener.screen_in_steps``); the rest is HTTP,
validation, answers, metrics and the audit round trip. ``--repo`` runs another checkout's build (its own
``.venv``) against the same home, to compare two commits. Needs valgrind (Debian package ``valgrind``); takes a few minutes a run. The server starts
slowly under valgrind, so the run waits (``--settle``, 90 s) for the background loading of the
FollowTheMoney model to finish before it counts anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from load_http import CONTENT_LENGTH, distinct_queries, request_bytes, setup_home, start_server


def _exchange(conn: socket.socket, request: bytes) -> None:
    conn.sendall(request)
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        buffer += conn.recv(65536)
    head, rest = buffer.split(b"\r\n\r\n", 1)
    match = CONTENT_LENGTH.search(head)
    length = int(match.group(1)) if match else 0
    while len(rest) < length:
        rest += conn.recv(65536)
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"the server answered {head[:40]!r}")


#: Where the server enters the matcher: ``Screener.screen`` before f0dc3bd; since, ``screen_in_steps``
#: (which makes the generator) and the generator's body, run a step at a time by the API.
MATCHER_ENTRIES = (
    "CPyDef_screener___Screener___screen",
    "CPyDef_screener___Screener___screen_in_steps",
    "CPyDef_screener____steps_Screener_gen_____mypyc_generator_helper__",
)


def _inclusive(dump: Path, symbol: str) -> int:
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        if line.rstrip().endswith("]") and f":{symbol} [" in line:
            return int(line.split()[0].replace(",", ""))
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=["sdn", "small"], default="sdn")
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose build serves")
    parser.add_argument("--settle", type=float, default=90.0)
    parser.add_argument("--keep", type=Path, help="copy the callgrind dump here, for callgrind_annotate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        described = setup_home(home, args.data)
        from tests.api.harness import make_key

        token = make_key(home, "screen", "instruction count")
        proc, _ = start_server(home)  # builds and saves the index, so valgrind's run only loads it
        proc.terminate()
        proc.wait()
        port_file = home / "port"
        port_file.unlink(missing_ok=True)
        out = home / "callgrind"
        cmd = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p",
            str(args.repo / ".venv" / "bin" / "python"), "-m", "clearance", "--home", str(home), "serve",
            "--port", "0", "--port-file", str(port_file), "--log-level", "warning", "--reload-interval", "0",
            "--rate-limit", "1000000",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(args.repo / "src")}
        server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        try:
            while not port_file.exists():
                if server.poll() is not None:
                    raise SystemExit("the server did not start under valgrind")
                time.sleep(0.5)
            port = int(port_file.read_text())
            queries = distinct_queries(args.warm + args.requests)
            requests = [request_bytes("/v1/screen", orjson.dumps(q), token) for q in queries]
            ready = request_bytes("/readyz", None, token)
            while True:
                with socket.create_connection(("127.0.0.1", port)) as probe:
                    probe.sendall(ready)
                    if probe.recv(100).startswith(b"HTTP/1.1 200"):
                        break
                time.sleep(1)
            time.sleep(args.settle)
            with socket.create_connection(("127.0.0.1", port)) as conn:
                for request in requests[: args.warm]:
                    _exchange(conn, request)
                subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True, capture_output=True)
                for request in requests[args.warm :]:
                    _exchange(conn, request)
                subprocess.run(
                    ["callgrind_control", "-d", "measured", str(server.pid)], check=True, capture_output=True
                )
        finally:
            server.terminate()
            server.wait()
        dump = Path(f"{out}.{server.pid}.1")
        if args.keep is not None:
            shutil.copyfile(dump, args.keep)
        n = len(requests) - args.warm
        total = _inclusive(dump, "uv_run")
        matcher = sum(_inclusive(dump, symbol) for symbol in MATCHER_ENTRIES)
        print(f"{described}; {n} requests after {args.warm}; build {args.repo}")
        print(
            f"worker instructions a request: {total / n / 1e6:.3f} M "
            f"(matcher {matcher / n / 1e6:.3f} M, the rest {(total - matcher) / n / 1e6:.3f} M)"
        )


if __name__ == "__main__":
    main()
