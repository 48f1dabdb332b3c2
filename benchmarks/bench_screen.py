"""Screening speed and memory: index build and load, single-query latency, batch throughput.

    python benchmarks/bench_screen.py                       # real lists, then 1,000,000 synthetic entities
    python benchmarks/bench_screen.py --entities 100000     # a smaller synthetic list
    python benchmarks/bench_screen.py --entities 0          # real lists only

Real lists: OFAC SDN 2021-07-07, OFAC consolidated non-SDN 2025-12-19 and UN 2026-02-27 from ../shared,
imported into a temporary home; queries are the names of ../shared/eval/dev/queries.jsonl (2,550).
Synthetic: benchmarks/generate_names.py writes the list (custom-csv) and queries (half perturbed listed
names, half unlisted names). Each phase runs in a fresh interpreter so that its peak memory (maxrss) is its
own: "build" reads the entities from the store and builds and saves the index, "load" loads the saved
index, then screens each query once in-process (latency), "batch" screens the query file on every core
through the batch path (``clearance screen --input``), end to end: loading the index in the parent and in
each worker included.

Targets (issue): batch >= 2,000 queries/s on 2 cores; single query median <= 1 ms, p99 <= 5 ms; index
build < 5 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from common import (
    LISTS,
    REAL_LISTS,
    SHARED,
    children_peak_rss_mb,
    emit,
    in_fresh_process,
    machine,
    peak_rss_mb,
    require_shared,
)

HERE = Path(__file__).resolve()
DEV_QUERIES = SHARED / "eval" / "dev" / "queries.jsonl"
SCREENED_LISTS = ("sdn-2021", "cons-2025", "un-2026")


def _open(home: str) -> tuple[Any, Any]:
    from clearance.settings import Settings
    from clearance.store import open_store

    settings = Settings.load(home)
    return open_store(settings), settings


# -- phases (each in its own process) -----------------------------------------------------------------


def phase_import_real(home: str) -> None:
    from clearance.lists.importer import import_list

    store, _ = _open(home)
    started = time.perf_counter()
    entities = 0
    for label in SCREENED_LISTS:
        list_name, folder, published = REAL_LISTS[label]
        result = import_list(store, list_name, [LISTS / folder], published=date.fromisoformat(published))
        entities += result.version.entity_count
    store.close()
    emit({"entities": entities, "import_s": time.perf_counter() - started, "peak_mb": peak_rss_mb()})


def phase_import_synthetic(home: str, path: str) -> None:
    from clearance.lists.importer import import_list

    store, _ = _open(home)
    started = time.perf_counter()
    result = import_list(store, "custom-synthetic", [Path(path)], published=date(2026, 1, 1))
    store.close()
    emit(
        {
            "entities": result.version.entity_count,
            "import_s": time.perf_counter() - started,
            "peak_mb": peak_rss_mb(),
        }
    )


def phase_build(home: str) -> None:
    from clearance.matching.screener import Screener

    store, settings = _open(home)
    started = time.perf_counter()
    Screener.from_store(store, settings)
    emit({"build_s": time.perf_counter() - started, "peak_mb": peak_rss_mb()})


def phase_query(home: str, queries_path: str) -> None:
    from clearance.batch import query_from_record
    from clearance.matching.screener import Screener

    store, settings = _open(home)
    started = time.perf_counter()
    screener = Screener.from_store(store, settings)
    load_s = time.perf_counter() - started
    queries = [query_from_record(orjson.loads(line)) for line in Path(queries_path).read_bytes().splitlines()]
    for query in queries[:100]:  # warm up caches before timing
        screener.screen(query)
    times = []
    for query in queries:
        t0 = time.perf_counter_ns()
        screener.screen(query)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    times.sort()
    emit(
        {
            "load_s": load_s,
            "queries": len(times),
            "median_ms": statistics.median(times),
            "p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
            "mean_ms": statistics.fmean(times),
            "max_ms": times[-1],
            "peak_mb": peak_rss_mb(),
        }
    )


def phase_batch(home: str, queries_path: str, workers: int) -> None:
    from clearance.batch import ScreenerSpec, screen_file

    cpu_before = _cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        report = screen_file(
            Path(queries_path), Path(tmp) / "out.jsonl", ScreenerSpec(Path(home)), workers=workers
        )
    emit(
        {
            "queries": report.queries,
            "failed": report.failed,
            "workers": report.workers,
            "seconds": report.seconds,
            "per_second": report.per_second,
            "cpu_ms_per_query": (_cpu_seconds() - cpu_before) * 1000 / max(report.queries, 1),
            "peak_mb": peak_rss_mb(),
            "worker_peak_mb": children_peak_rss_mb(),
        }
    )


def _cpu_seconds() -> float:
    """User and system CPU time of this process and its waited-for children (the batch workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# -- the run ------------------------------------------------------------------------------------------


def _repeat_queries(source: Path, target: Path, repeat: int) -> int:
    """``source``'s queries ``repeat`` times over (ids made unique), for a batch long enough to time."""
    lines = [orjson.loads(line) for line in source.read_bytes().splitlines() if line.strip()]
    with target.open("wb") as f:
        for r in range(repeat):
            for q in lines:
                f.write(
                    orjson.dumps({"id": f"{q['id']}-{r}", "name": q["name"], "schema": q["schema"]}) + b"\n"
                )
    return len(lines) * repeat


def measure(home: Path, queries: Path, batch_queries: Path, workers: int) -> dict[str, Any]:
    return {
        "build": in_fresh_process(HERE, "--phase", "build", "--home", str(home)),
        "query": in_fresh_process(HERE, "--phase", "query", "--home", str(home), "--queries", str(queries)),
        "batch": in_fresh_process(
            HERE,
            "--phase",
            "batch",
            "--home",
            str(home),
            "--queries",
            str(batch_queries),
            "--workers",
            str(workers),
        ),
    }


def report(title: str, entities: int, imported: dict[str, Any], m: dict[str, Any]) -> None:
    b, q, t = m["build"], m["query"], m["batch"]
    print(f"\n### {title}: {entities:,} entities\n")
    print("| measure | result | target |")
    print("| --- | ---: | ---: |")
    print(f"| import (parse + store) | {imported['import_s']:.1f} s, peak {imported['peak_mb']:,.0f} MiB | |")
    print(
        f"| index build (read store, build, save) | {b['build_s']:.2f} s, peak {b['peak_mb']:,.0f} MiB | < 5 s |"
    )
    print(f"| index load | {q['load_s']:.2f} s | |")
    print(f"| single query, median ({q['queries']:,} queries) | {q['median_ms']:.2f} ms | <= 1 ms |")
    print(f"| single query, p99 | {q['p99_ms']:.2f} ms | <= 5 ms |")
    print(f"| single query, mean / max | {q['mean_ms']:.2f} / {q['max_ms']:.0f} ms | |")
    print(f"| peak memory, load + {q['queries']:,} queries | {q['peak_mb']:,.0f} MiB | |")
    print(
        f"| batch, {t['workers']} workers, {t['queries']:,} queries end to end | {t['per_second']:,.0f} queries/s"
        f" ({t['seconds']:.1f} s) | >= 2,000/s |"
    )
    print(
        f"| batch CPU time per query (parent + workers; {t['workers']} workers can reach"
        f" {t['workers'] * 1000 / t['cpu_ms_per_query']:,.0f}/s on idle cores) | {t['cpu_ms_per_query']:.2f} ms | |"
    )
    print(
        f"| batch peak memory: parent / largest worker | {t['peak_mb']:,.0f} / {t['worker_peak_mb']:,.0f} MiB | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=1_000_000, help="synthetic list size (0: skip it)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=4, help="batch: the dev queries this many times over")
    parser.add_argument("--synthetic-queries", type=int, default=10_000)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    phases = {
        "import-real": lambda: phase_import_real(args.home),
        "import-synthetic": lambda: phase_import_synthetic(args.home, args.path),
        "build": lambda: phase_build(args.home),
        "query": lambda: phase_query(args.home, args.queries),
        "batch": lambda: phase_batch(args.home, args.queries, args.workers),
    }
    if args.phase:
        phases[args.phase]()
        return

    require_shared()
    m = machine()
    print(
        f"{m['date']}  {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, Python {m['python']}, load average {m['load']}"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_real:
            home = tmp / "real"
            imported = in_fresh_process(HERE, "--phase", "import-real", "--home", str(home))
            dev = tmp / "dev.jsonl"
            _repeat_queries(DEV_QUERIES, dev, 1)
            batch = tmp / "dev-batch.jsonl"
            _repeat_queries(DEV_QUERIES, batch, args.repeat)
            title = "Real lists (SDN 2021-07-07 + non-SDN 2025-12-19 + UN 2026-02-27)"
            report(title, imported["entities"], imported, measure(home, dev, batch, args.workers))
        if args.entities:
            import generate_names

            home = tmp / "synthetic"
            listed = tmp / "synthetic.csv"
            started = time.perf_counter()
            sample = generate_names.write_list(listed, args.entities)
            queries = tmp / "synthetic-queries.jsonl"
            with queries.open("wb") as f:
                for q in generate_names.queries(sample, args.synthetic_queries):
                    f.write(orjson.dumps(q) + b"\n")
            print(f"\n(generated {args.entities:,} entities in {time.perf_counter() - started:.0f} s)")
            imported = in_fresh_process(
                HERE, "--phase", "import-synthetic", "--home", str(home), "--path", str(listed)
            )
            report(
                "Synthetic list",
                imported["entities"],
                imported,
                measure(home, queries, queries, args.workers),
            )


if __name__ == "__main__":
    main()
