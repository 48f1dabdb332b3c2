"""Import speed and memory for each real list file, and "import and index the full SDN set".

    python benchmarks/bench_import.py            # every list in ../shared, a table on stdout

Every measurement runs in a fresh interpreter with a fresh home folder, so its peak memory (maxrss) is
its own and nothing is cached. Target (issue): import and index the full SDN set in under one second.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from common import LISTS, REAL_LISTS, emit, in_fresh_process, machine, peak_rss_mb, require_shared

HERE = Path(__file__).resolve()


def phase_import(label: str, with_index: bool) -> None:
    from clearance.lists.importer import import_list
    from clearance.settings import Settings
    from clearance.store import open_store

    list_name, folder, published = REAL_LISTS[label]
    with tempfile.TemporaryDirectory() as home:
        settings = Settings.load(home)
        store = open_store(settings)
        started = time.perf_counter()
        result = import_list(store, list_name, [LISTS / folder], published=date.fromisoformat(published))
        imported = time.perf_counter() - started
        indexed = 0.0
        if with_index:
            from clearance.matching.screener import Screener

            Screener.from_store(store, settings, lists=[list_name])
            indexed = time.perf_counter() - started - imported
        store.close()
    emit(
        {
            "label": label,
            "entities": result.version.entity_count,
            "import_s": imported,
            "index_s": indexed,
            "peak_mb": peak_rss_mb(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phase", choices=["import"], help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--index", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the best time is reported")
    args = parser.parse_args()
    if args.phase == "import":
        phase_import(args.label, args.index)
        return
    require_shared()
    m = machine()
    print(f"{m['date']}  {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, Python {m['python']}, load average {m['load']}\n")
    print(f"| file | entities | import (best of {args.repeat}) | peak memory |")
    print("| --- | ---: | ---: | ---: |")
    for label in REAL_LISTS:
        runs = [in_fresh_process(HERE, "--phase", "import", "--label", label) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["import_s"])
        print(f"| {label} | {best['entities']:,} | {best['import_s']:.2f} s | {best['peak_mb']:.0f} MiB |")
    runs = [
        in_fresh_process(HERE, "--phase", "import", "--label", "sdn-2021", "--index")
        for _ in range(args.repeat)
    ]
    best = min(runs, key=lambda r: r["import_s"] + r["index_s"])
    total = best["import_s"] + best["index_s"]
    print(
        f"\nimport + index SDN 2021-07-07: {total:.2f} s (import {best['import_s']:.2f} s,"
        f" index {best['index_s']:.2f} s), peak {best['peak_mb']:.0f} MiB; target < 1 s:"
        f" {'met' if total < 1 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
