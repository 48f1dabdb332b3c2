"""Load benchmark of the HTTP service: throughput and p50/p99 latency at 1, 10 and 50 concurrent clients.

    python benchmarks/load_http.py                     # real OFAC SDN 2021-07-07 from ../shared, else tiny
    python benchmarks/load_http.py --data small        # a 5-entity list: the service's own overhead
    python benchmarks/load_http.py --endpoint healthz  # HTTP alone: no screening, no audit record
    python benchmarks/load_http.py --workers 2 --clients 10 --rate 1000 --seconds 15 --repeat 10 --goal 2,10
                                                       # the service's latency goal, ten runs in a row

The server is the real ``python -m clearance serve`` (uvicorn, httptools, uvloop) in its own process, with
API keys on and every call durably recorded in the audit log. The client is this process: HTTP/1.1
keep-alive connections (an asyncio protocol on uvloop, one connection per simulated client, each sending
its next request when the previous answer arrived, or on a schedule with ``--rate``), so the client costs
as little CPU as possible on the same machine. Each request screens one name. ``--names distinct`` (the
default) sends every name once per run: the labelled dev queries (listed names' variants and unlisted
names, from ../shared/eval) followed by synthetic names (benchmarks/generate_names.py), so the server's
answer cache never helps and every request is screened. ``--names repeated`` cycles through 20 names, as
traffic that screens the same counterparties again and again, and shows the answer cache at work.

Each line also says how much of the machine the run had: "steal", the share of CPU time the hypervisor
gave to other guests (/proc/stat), and "calibration", how long a fixed piece of pure-Python work took
just before and after the run. On a shared virtual machine both move with the neighbours' load, and so
does every other figure of the line (docs/benchmarks.md has the same build at 1,000 req/s giving p50
1.1 ms in one quarter of an hour and 3-5 ms in the next). Compare runs only at similar calibrations; the
server's CPU time a request, for requests that are the same in every run, tells the spells apart best.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import uvloop

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

NAMES = [
    "China National Electronics Import and Export Corporation",
    "CEIEC",
    "Banco Nacional de Cuba",
    "Ali Hassan Rahimi",
    "Hoshikaze Maru No 8",
    "Petro Global Trading FZE",
    "Viktor Petrovich Orlov",
    "Kim Jong Un",
    "Islamic Revolutionary Guard Corps",
    "Aeroflot",
    "John Smith",
    "Maria Garcia Lopez",
    "Acme Widgets Limited",
    "Hamid Reza Karimi",
    "Rosneft Trading SA",
    "Zhang Wei",
    "Mohammed Al Rashid",
    "Global Shipping Holdings Inc",
    "Tanaka Hiroshi",
    "Olga Ivanova",
]


def setup_home(home: Path, data: str) -> str:
    from clearance.settings import Settings
    from clearance.store import open_store

    store = open_store(Settings.load(home))
    sdn = SHARED / "data" / "lists" / "ofac-sdn" / "2021-07-07"
    if data == "sdn" and sdn.exists():
        from clearance.lists.importer import import_list

        result = import_list(store, "ofac-sdn", [sdn])
        described = f"real OFAC SDN 2021-07-07 ({result.version.entity_count} entities)"
    else:
        from tests.api.harness import sdn_entities

        store.add_version(
            list_name="ofac-sdn",
            format="test",
            files=["bench"],
            content_hash="bench",
            published=date(2021, 7, 7),
            published_from="given",
            entities=sdn_entities(),
        )
        described = "a 5-entity list (service overhead: HTTP, validation, audit log)"
    store.close()
    return described


def start_server(
    home: Path, workers: int = 1, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], int]:
    port_file = home / "port"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [
        sys.executable,
        "-m",
        "clearance",
        "--home",
        str(home),
        "serve",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--log-level",
        "warning",
        "--reload-interval",
        "0",
        "--rate-limit",
        "1000000",
        "--workers",
        str(workers),
        *extra,
    ]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    while not port_file.exists():
        if proc.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    port = int(port_file.read_text())
    import httpx

    ready = 0
    while True:
        try:
            ready = ready + 1 if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200 else 0
            if ready >= 20 * workers:  # each worker loads its own screener
                return proc, port
            continue
        except httpx.TransportError:
            pass
        time.sleep(0.1)


def request_bytes(path: str, body: bytes | None, token: str) -> bytes:
    method = "POST" if body is not None else "GET"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ApiKey {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body or b'')}\r\n\r\n"
    )
    return head.encode() + (body or b"")


CONTENT_LENGTH = re.compile(rb"content-length: *(\d+)", re.IGNORECASE)


def distinct_queries(n: int) -> list[dict[str, str]]:
    """``n`` different queries: the dev set's, then synthetic names (needs Faker: the bench extra)."""
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    dev = SHARED / "eval" / "dev" / "queries.jsonl"
    if dev.exists():
        for line in dev.read_text(encoding="utf-8").splitlines():
            row = orjson.loads(line)
            out.append({"name": row["name"], "schema": row.get("schema") or "Thing"})
    from generate_names import entities

    for row in entities(n, seed=7):
        out.append({"name": row["name"], "schema": row["schema"]})
        if len(out) >= n:
            break
    unique = []
    for q in out:
        if (q["name"], q["schema"]) not in seen:
            seen.add((q["name"], q["schema"]))
            unique.append(q)
    return unique[:n]


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: :meth:`request` writes a request and waits for the whole
    response (framed by its Content-Length). A protocol rather than asyncio streams, on uvloop, so the
    client, which shares the machine's cores with the server, spends as little CPU as it can."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.end = -1  # where the response being read ends in ``buffer``, once its head has arrived
        self.status = 0
        self.sent_at = 0.0  # when the last request was written
        self.answered_at = 0.0  # when its whole response had arrived

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.end < 0:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end])
            match = CONTENT_LENGTH.search(head)
            self.status = int(head[9:12])
            self.end = head_end + 4 + (int(match.group(1)) if match else 0)
        if len(self.buffer) >= self.end and self.waiter is not None:
            self.answered_at = time.perf_counter()
            del self.buffer[: self.end]
            self.end = -1
            waiter, self.waiter = self.waiter, None
            waiter.set_result(self.status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("the server closed the connection"))

    async def request(self, data: bytes) -> int:
        """Send ``data`` (one request) and wait for the whole response; its status code."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.sent_at = time.perf_counter()
        self.transport.write(data)
        return await self.waiter


async def client(
    port: int,
    requests: list[bytes],
    counter: Iterator[int],
    stop_at: float,
    start_at: float,
    latencies: list[float],
    errors: list[int],
    late: list[float],
    interval: float = 0.0,
    arrivals: str = "fixed",
) -> None:
    """One keep-alive connection. ``interval`` 0: send as soon as the last answer arrived (closed loop);
    else send on a schedule, ``interval`` seconds apart on average, and time each request from its
    scheduled moment (open loop, no coordinated omission): every ``interval`` from a random start
    (``arrivals`` "fixed") or at random moments ("poisson", exponential gaps). A request is timed to the
    moment its whole answer has arrived, from its scheduled moment or from its write if that came first;
    ``late`` gets how long after its scheduled moment each request was written (negative: before it)."""
    loop = asyncio.get_running_loop()
    transport, connection = await loop.create_connection(Connection, "127.0.0.1", port)
    poisson = arrivals == "poisson"
    if interval:
        next_at = time.perf_counter() + (
            random.expovariate(1 / interval) if poisson else random.random() * interval
        )
    try:
        while True:
            if interval:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                gap = random.expovariate(1 / interval) if poisson else interval
                started, next_at = next_at, next_at + gap
            else:
                started = time.perf_counter()
            if started >= stop_at:
                return
            status = await connection.request(requests[next(counter) % len(requests)])
            if started >= start_at:
                # from the scheduled moment, or from the write if that came first: uvloop's timers
                # have a resolution of a millisecond, and about half the requests wake a little early
                latencies.append(connection.answered_at - min(started, connection.sent_at))
                late.append(connection.sent_at - started)
                if status != 200:
                    errors.append(status)
    finally:
        transport.close()


async def run_level(
    port: int,
    requests: list[bytes],
    counter: Iterator[int],
    clients: int,
    seconds: float,
    warmup: float,
    rate: float = 0.0,
    arrivals: str = "fixed",
) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    late: list[float] = []
    now = time.perf_counter()
    start_at, stop_at = now + warmup, now + warmup + seconds
    interval = clients / rate if rate else 0.0
    await asyncio.gather(
        *(
            client(port, requests, counter, stop_at, start_at, latencies, errors, late, interval, arrivals)
            for _ in range(clients)
        )
    )
    latencies.sort()
    late.sort()
    n = len(latencies)
    return {
        "clients": clients,
        "requests": n,
        "rps": n / seconds,
        "p50_ms": latencies[n // 2] * 1000 if n else float("nan"),
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan"),
        "mean_ms": statistics.fmean(latencies) * 1000 if n else float("nan"),
        "errors": len(errors),
        "late_p50_ms": late[len(late) // 2] * 1000 if late and interval else 0.0,
        "late_p99_ms": late[min(len(late) - 1, int(len(late) * 0.99))] * 1000 if late and interval else 0.0,
    }


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server process and its worker processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        this, parent = int(stat.parent.name), int(fields[1])
        if this == pid or parent == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def calibrate() -> float:
    """Milliseconds a fixed piece of pure-Python work takes here (the best of three): how fast this
    machine's cores are at the moment. On a shared virtual machine it moves with the neighbours' load, and
    every figure of a run moves with it; compare runs only at similar figures."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        table: dict[int, int] = {}
        for i in range(200_000):
            table[i & 4095] = table.get(i & 4095, 0) + i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def cpu_ticks() -> tuple[int, int]:
    """(ticks stolen by the hypervisor, all ticks) of the machine's CPUs so far, from /proc/stat: the
    share stolen during a run says how much of its 2 cores the machine really had."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return fields[7], sum(fields)


def audit_commits(port: int) -> tuple[float, float, float]:
    """(commits, seconds committing, records committed) so far, from the server's /metrics."""
    import httpx

    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    values = {}
    for line in text.splitlines():
        for name in (
            "clearance_audit_commit_seconds_count",
            "clearance_audit_commit_seconds_sum",
            "clearance_audit_commit_records_sum",
        ):
            if line.startswith(name + " "):
                values[name] = float(line.split()[-1])
    return (
        values.get("clearance_audit_commit_seconds_count", 0.0),
        values.get("clearance_audit_commit_seconds_sum", 0.0),
        values.get("clearance_audit_commit_records_sum", 0.0),
    )


def summary(runs: list[dict[str, float]], goal: tuple[float, ...] | None) -> str:
    """One line on repeated runs of a client level: medians and ranges, and how many met ``goal``."""

    def spread(key: str) -> str:
        values = sorted(r[key] for r in runs)
        return f"{statistics.median(values):.2f} ({values[0]:.2f}-{values[-1]:.2f})"

    line = (
        f"{runs[0]['clients']:>3} clients, {len(runs)} runs: median p50 {spread('p50_ms')} ms  "
        f"p99 {spread('p99_ms')} ms  server CPU {spread('server_cpu_ms')} ms/req  "
        f"calibration {spread('calibration_ms')} ms"
    )
    if goal is not None:
        met = sum(1 for r in runs if r["p50_ms"] < goal[0] and r["p99_ms"] < goal[1])
        line += f"; p50 < {goal[0]:g} ms and p99 < {goal[1]:g} ms in {met} of {len(runs)}"
    return line


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f} at start"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", choices=["sdn", "small"], default="sdn")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--endpoint", choices=["screen", "healthz"], default="screen")
    parser.add_argument(
        "--names",
        choices=["distinct", "repeated"],
        default="distinct",
        help="every name once per run (default), or 20 names over and over",
    )
    parser.add_argument(
        "--rate", type=float, default=0.0, help="open loop: total requests/s (0: closed loop)"
    )
    parser.add_argument(
        "--arrivals",
        choices=["poisson", "fixed"],
        default="fixed",
        help="with --rate: each client sends at a fixed interval from a random start (default, as in "
        "every run in docs/benchmarks.md before 2026-12-04 23:00 UTC), or at random moments, the gaps "
        "between its requests exponential (a Poisson stream: bursts, hence a longer tail)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (clearance serve --workers)")
    parser.add_argument(
        "--answer-cache",
        type=int,
        default=None,
        help="clearance serve --answer-cache (default: the server's)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each client level this many times in a row and sum up the runs (on a shared machine "
        "one run says little)",
    )
    parser.add_argument(
        "--goal",
        help="P50,P99 in ms: with --repeat, count the runs that meet both (the service's goal: 2,10)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        described = setup_home(home, args.data)
        from tests.api.harness import make_key

        token = make_key(home, "screen", "load benchmark")
        extra = ("--answer-cache", str(args.answer_cache)) if args.answer_cache is not None else ()
        proc, port = start_server(home, args.workers, extra)
        try:
            if args.endpoint == "healthz":
                requests = [request_bytes("/healthz", None, token)]
            elif args.names == "repeated":
                requests = [
                    request_bytes("/v1/screen", orjson.dumps({"name": name}), token) for name in NAMES
                ]
            else:
                requests = [
                    request_bytes("/v1/screen", orjson.dumps(q), token) for q in distinct_queries(100_000)
                ]
            counter = itertools.count(random.randrange(len(requests)) if args.names == "repeated" else 0)
            rows = []
            levels = [int(c) for c in args.clients.split(",")]
            for level in (level for level in levels for _ in range(args.repeat)):
                before = audit_commits(port)
                calibration = calibrate()
                cpu_before = server_cpu(proc.pid)
                ticks_before = cpu_ticks()
                client_before = time.process_time()
                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    row = runner.run(
                        run_level(
                            port,
                            requests,
                            counter,
                            level,
                            args.seconds,
                            args.warmup,
                            args.rate,
                            args.arrivals,
                        )
                    )
                cpu = server_cpu(proc.pid) - cpu_before
                client_cpu = time.process_time() - client_before
                stolen, ticks = cpu_ticks()
                stolen, ticks = stolen - ticks_before[0], ticks - ticks_before[1]
                row["steal_pct"] = 100 * stolen / ticks if ticks else 0.0
                # after the client's CPU is read: the calibration's own work is not the client's
                row["calibration_ms"] = (calibration + calibrate()) / 2
                after = audit_commits(port)
                total = row["requests"] * (args.seconds + args.warmup) / args.seconds  # warm-up included
                row["server_cpu_ms"] = cpu / total * 1000 if total else 0.0
                row["client_cpu_ms"] = client_cpu / total * 1000 if total else 0.0
                commits = after[0] - before[0]
                row["audit_commit_ms"] = (after[1] - before[1]) / commits * 1000 if commits else 0.0
                row["records_per_commit"] = (after[2] - before[2]) / commits if commits else 0.0
                rows.append(row)
                if args.json:
                    print(orjson.dumps({**row, "data": args.data, "endpoint": args.endpoint}).decode())
                else:
                    print(
                        f"{level:>3} clients: {row['rps']:8.0f} req/s  p50 {row['p50_ms']:6.2f} ms  "
                        f"p99 {row['p99_ms']:6.2f} ms  server CPU {row['server_cpu_ms']:.2f} ms/req  "
                        f"client CPU {row['client_cpu_ms']:.2f}  "
                        + (
                            f"sent late {row['late_p50_ms']:.2f}/{row['late_p99_ms']:.2f} ms  "
                            if args.rate
                            else ""
                        )
                        + f"steal {row['steal_pct']:.1f}%  "
                        f"calibration {row['calibration_ms']:.1f} ms  "
                        f"({row['requests']} requests, {row['errors']} errors; "
                        + (
                            f"audit commit {row['audit_commit_ms']:.2f} ms, {row['records_per_commit']:.1f} records each)"
                            if args.workers == 1
                            # each worker's /metrics counts the commits that carried its own records, and
                            # which worker answers the scrape is up to the kernel
                            else "audit commits: see one worker's /metrics)"
                        ),
                        flush=True,
                    )
            if args.repeat > 1 and not args.json:
                goal = tuple(float(v) for v in args.goal.split(",")) if args.goal else None
                for level in levels:
                    print(summary([r for r in rows if r["clients"] == level], goal))
        finally:
            proc.terminate()
            proc.wait()
    print(
        f"# {args.endpoint}, {args.names} names, {args.workers} worker(s), "
        + (f"open loop at {args.rate:g} req/s ({args.arrivals} arrivals), " if args.rate else "closed loop, ")
        + f"against {described}; {machine()}; "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )


if __name__ == "__main__":
    main()
