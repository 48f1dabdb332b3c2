"""Accuracy on the development set: screen ../shared/eval/dev/queries.jsonl against OFAC SDN 2021-07-07.

    python benchmarks/eval_dev.py [--out results.jsonl] [--limit 10] [--threshold 0.8]

Builds a Screener over the SDN set (read with clearance.lists.ofac_csv), screens every query with its
schema, writes results JSONL in the shape DESIGN.md gives ({"id", "matches": [{"entity_id", "score",
"match", "name", ...}]}) and runs ../shared/eval/score.py on it, printing its report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import orjson

from clearance.errors import QueryError
from clearance.lists.ofac_csv import read
from clearance.matching.screener import DEFAULT_THRESHOLD, Screener
from clearance.matching.types import Query

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SDN = SHARED / "data" / "lists" / "ofac-sdn" / "2021-07-07"
EVAL = SHARED / "eval"


def sdn_entities() -> list:  # type: ignore[type-arg]
    return read(sorted(SDN.glob("*.csv")), "ofac-sdn").entities


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=Path, default=EVAL / "dev" / "queries.jsonl")
    parser.add_argument("--out", type=Path, default=Path("/tmp/clearance-eval-dev.jsonl"))
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args()
    if not SDN.exists():
        sys.exit(f"{SDN} not present: the real list files in ../shared are unavailable")

    started = time.perf_counter()
    entities = sdn_entities()
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    screener = Screener.from_entities(entities, list_version="ofac-sdn@2021-07-07", threshold=args.threshold)
    build_s = time.perf_counter() - started
    queries = [
        json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    started = time.perf_counter()
    errors = 0
    with args.out.open("wb") as out:
        for q in queries:
            try:
                matches = screener.screen(
                    Query(name=q["name"], schema=q.get("schema") or "Thing"), limit=args.limit
                )
            except QueryError:
                errors += 1
                matches = []
            row = {"id": q["id"], "matches": [m.to_dict() for m in matches]}
            out.write(orjson.dumps(row) + b"\n")
    screen_s = time.perf_counter() - started
    print(
        f"read {read_s:.2f}s  index {build_s:.2f}s ({screener.index.name_count} names)  "
        f"screened {len(queries)} in {screen_s:.2f}s ({1000 * screen_s / len(queries):.2f} ms/query)  "
        f"query errors {errors}  threshold {screener.threshold}"
    )
    subprocess.run([sys.executable, str(EVAL / "score.py"), str(args.queries), str(args.out)], check=True)


if __name__ == "__main__":
    main()
