"""Screening speed against SDN + non-SDN consolidated + UN (the size the product promises).

    python benchmarks/screen_speed.py [--workers 2]

Reports: index build time, save size and load time, single in-process query latency (median, p99)
over the dev set's query names, and batch throughput with ``--workers`` forked processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

from clearance.errors import QueryError
from clearance.lists import ofac_csv, un_xml
from clearance.matching.index import build_index, load_index, save_index
from clearance.matching.screener import Screener
from clearance.matching.types import Query
from clearance.model import Entity

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LISTS = SHARED / "data" / "lists"

_screener: Screener | None = None


def entities() -> list[tuple[Entity, str]]:
    out: list[tuple[Entity, str]] = []
    for e in ofac_csv.read(sorted((LISTS / "ofac-sdn" / "2021-07-07").glob("*.csv")), "ofac-sdn").entities:
        out.append((e, "ofac-sdn@2021-07-07"))
    cons = sorted((LISTS / "ofac-consolidated" / "2025-12-19").glob("*.csv"))
    for e in ofac_csv.read(cons, "ofac-cons").entities:
        out.append((e, "ofac-cons@2025-12-19"))
    for e in un_xml.read([LISTS / "un-sc" / "2026-02-27" / "UN_consolidated.xml"], "un-sc").entities:
        out.append((e, "un-sc@2026-02-27"))
    return out


def _screen_all(queries: list[Query]) -> tuple[int, float]:
    """Screen every query; returns how many and the CPU seconds this process spent on them."""
    assert _screener is not None
    cpu = time.process_time()
    for q in queries:
        try:
            _screener.screen(q)
        except QueryError:
            pass
    return len(queries), time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not LISTS.exists():
        sys.exit(f"{LISTS} not present: the real list files in ../shared are unavailable")
    pairs = entities()
    started = time.perf_counter()
    index = build_index(pairs)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.idx"
        save_index(index, path)
        size = path.stat().st_size
        started = time.perf_counter()
        index = load_index(path)
        load_s = time.perf_counter() - started
    global _screener
    _screener = Screener(index)
    parties = len({e.id for e, _ in pairs if e.names})
    print(f"entities with names {parties}, indexed names {index.name_count}")
    print(f"index build {build_s:.2f}s  file {size / 1e6:.1f} MB  load {load_s:.3f}s")

    lines = (SHARED / "eval" / "dev" / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [Query(name=q["name"], schema=q["schema"]) for q in map(json.loads, lines) if q]
    _screen_all(queries[:200])  # warm caches
    latencies, cpu_times = [], []
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        try:
            _screener.screen(q)
        except QueryError:
            pass
        cpu_times.append(time.process_time() - c)
        latencies.append(time.perf_counter() - t)
    n = len(latencies)
    for label, values in (("wall", sorted(latencies)), ("cpu", sorted(cpu_times))):
        print(
            f"single query ({label}): median {1000 * values[n // 2]:.2f} ms  p99 {1000 * values[int(n * 0.99)]:.2f} ms"
            f"  max {1000 * values[-1]:.2f} ms  ({n} queries)"
        )
    batch = queries * 4
    chunks = [batch[i :: args.workers] for i in range(args.workers)]
    ctx = mp.get_context("fork")
    with ctx.Pool(args.workers) as pool:
        pool.map(_screen_all, [queries[:50]] * args.workers)  # start the workers
        started = time.perf_counter()
        results = pool.map(_screen_all, chunks)
        elapsed = time.perf_counter() - started
    done = sum(n for n, _ in results)
    cpu = max(c for _, c in results)
    print(
        f"batch: {done} queries on {args.workers} processes in {elapsed:.2f}s = {done / elapsed:.0f} queries/s wall"
        f" ({done / cpu:.0f} queries/s with a free core each: busiest worker used {cpu:.2f} CPU s)"
    )


if __name__ == "__main__":
    main()
