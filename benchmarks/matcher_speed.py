"""Per-query CPU cost of the matcher: ``Screener.screen(query, limit=10, explain=True)`` on OFAC SDN 2021-07-07.

    python benchmarks/matcher_speed.py [--rounds 3] [--profile out.prof] [--digest] [--cold [MB]]

Builds the index over the SDN snapshot in memory (as benchmarks/eval_dev.py does), screens every name of
../shared/eval/dev/queries.jsonl (2,550, each with its schema) once, then ``--rounds`` times more, and
reports the CPU time per query (median, mean, p99) of the first round (every name new to the process, as
the HTTP service's distinct names are; its throughput is bound by this) and of the fastest later one. ``--digest`` prints a SHA-256 of every result (scores, explanations) to compare two versions of
the matcher; ``--profile`` writes a cProfile of one more round.

Wall-clock CPU on a shared virtual machine moves by +-25% between identical runs, more than most changes to
the matcher. Instruction counts do not move; ``--once N`` screens the first N names once, untimed, for a
counting tool, and ``--index PATH`` loads the index from PATH (building and saving it there the first time),
as a service worker does:

    python benchmarks/matcher_speed.py --index /tmp/sdn.idx --once 0       # build and save the index
    valgrind --tool=callgrind --toggle-collect=CPyPy_screener___Screener___screen \
        --dump-after=CPyPy_screener___Screener___warm_up \
        python benchmarks/matcher_speed.py --index /tmp/sdn.idx --once 600
    callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep CPyDef_   # where the instructions go

``--once`` first warms the screener (:meth:`Screener.warm_up`, as a service worker does: it loads the name
tables, about 0.58 G instructions); ``--dump-after`` writes that to ``callgrind.out.<pid>.1``, so
``callgrind.out.<pid>`` counts the N queries alone.

``--cold`` sweeps a 64 MB buffer (``--cold MB``: another size) between queries, so each one starts with
the caches holding none of the matcher's code or data, as a service worker does when requests are far
apart on a busy host; the time it adds is the query's memory traffic, for its code and its data. Under
callgrind with ``--cache-sim=yes`` (the sweep is outside ``--toggle-collect``) it counts each query's
cache misses, which do not move between runs either (docs/benchmarks.md has them by stage):

    valgrind --tool=callgrind --cache-sim=yes --LL=2097152,16,64 --toggle-collect=... \
        python benchmarks/matcher_speed.py --index /tmp/sdn.idx --once 600 --cold 8
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
from common import SHARED, machine, require_shared

from clearance.errors import QueryError
from clearance.lists.ofac_csv import read
from clearance.matching.index import load_index, save_index
from clearance.matching.screener import Screener
from clearance.matching.types import Match, Query

SDN = SHARED / "data" / "lists" / "ofac-sdn" / "2021-07-07"
QUERIES = SHARED / "eval" / "dev" / "queries.jsonl"


def screen(screener: Screener, query: Query) -> list[Match]:
    try:
        return screener.screen(query, limit=10, explain=True)
    except QueryError:
        return []


def evictor(megabytes: int) -> Callable[[], None]:
    """A function that reads and writes ``megabytes`` of memory (nothing when 0), pushing whatever the
    caches held out of them."""
    if not megabytes:
        return lambda: None
    buffer = np.ones(megabytes * (1 << 20) // 8)

    def evict() -> None:
        np.add(buffer, 1.0, out=buffer)

    return evict


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--digest", action="store_true")
    parser.add_argument("--index", type=Path, help="load the index from here (built and saved if absent)")
    parser.add_argument(
        "--once", type=int, metavar="N", help="screen the first N names once, untimed, and stop"
    )
    parser.add_argument(
        "--cold",
        type=int,
        nargs="?",
        const=64,
        default=0,
        metavar="MB",
        help="sweep MB (64) of memory between queries, so each starts with cold caches",
    )
    args = parser.parse_args()
    require_shared()
    if args.index is not None and args.index.exists():
        screener = Screener(load_index(args.index))
    else:
        screener = Screener.from_entities(
            read(sorted(SDN.glob("*.csv")), "ofac-sdn").entities, list_version="ofac-sdn@2021-07-07"
        )
        if args.index is not None:
            save_index(screener.index, args.index)
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    queries = [Query(name=r["name"], schema=r.get("schema") or "Thing") for r in rows]
    evict = evictor(args.cold)
    if args.once is not None:
        screener.warm_up()  # as a service worker does before its first request
        for q in queries[: args.once]:
            evict()
            screen(screener, q)
        return
    rounds: list[list[float]] = []
    for _ in range(1 + args.rounds):
        times = []
        for q in queries:
            evict()
            started = time.process_time()
            screen(screener, q)
            times.append(time.process_time() - started)
        rounds.append(times)
    best = min(rounds[1:], key=sum)
    cold = f", caches swept ({args.cold} MB) before each" if args.cold else ""
    # the first round meets every query name for the first time (the HTTP service's distinct names: the
    # analysis caches hold only the listed names' words); later rounds screen names seen before
    for label, times in (("first", rounds[0]), (f"repeat, best of {args.rounds}", best)):
        ms = sorted(1000 * t for t in times)
        print(
            f"{len(ms)} queries, explain=True limit=10{cold}, CPU per query ({label}): "
            f"median {statistics.median(ms):.3f} ms  mean {statistics.fmean(ms):.3f} ms  "
            f"p99 {ms[int(len(ms) * 0.99)]:.3f} ms  max {ms[-1]:.3f} ms"
        )
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, load {m['load']}, {m['date']}")
    if args.digest:
        digest = hashlib.sha256()
        for q in queries:
            digest.update(orjson.dumps([r.to_dict() for r in screen(screener, q)]) + b"\n")
        print(f"results sha256 {digest.hexdigest()}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for q in queries:
            screen(screener, q)
        profiler.disable()
        profiler.dump_stats(str(args.profile))
        print(f"profile written to {args.profile}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - started:.1f}s")
