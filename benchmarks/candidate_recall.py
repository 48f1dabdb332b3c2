"""Candidate recall: what candidate generation loses against scoring every listed name.

    python benchmarks/candidate_recall.py [--limit N]

For each positive query of ../shared/eval/dev, scores the expected entity's names and every listed name
that could align with the query at all (a token within the similarity floor of a query token, or a
join of adjacent tokens), i.e. exhaustive scoring, and checks whether the expected entity is found
with match=true. Then the same through the index's candidate generation. Prints the share of the
exhaustively found positives that the candidates keep (target: at least 0.995) and the rank of the
expected name among candidates.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from clearance.matching import candidates as cand_mod
from clearance.matching.candidates import candidate_names
from clearance.matching.scorer import similar_tokens
from clearance.matching.screener import Screener
from clearance.matching.types import Query

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_dev import EVAL, SDN, sdn_entities


def exhaustive_names(screener: Screener, qname: cand_mod.QueryName, mask: list[bool]) -> list[int]:
    index = screener.index
    all_tokens = list(range(len(index.token_canon)))
    near = set(similar_tokens(index, qname, all_tokens))
    qforms = set(qname.forms)
    qjoins = {"".join(qname.forms[i : i + k]) for k in (2, 3) for i in range(len(qname.forms) - k + 1)}
    out = []
    for n, tokens in enumerate(index.name_tokens):
        if not mask[n]:
            continue
        if near.intersection(tokens):
            out.append(n)
            continue
        forms = index.name_forms[n]
        if qjoins.intersection(forms) or any(
            "".join(forms[i : i + k]) in qforms for k in (2, 3) for i in range(len(forms) - k + 1)
        ):
            out.append(n)
    return out


def found(screener: Screener, query: Query, expect: str, ids_fn) -> bool:  # type: ignore[no-untyped-def]
    best: dict = {}  # type: ignore[type-arg]
    mask = screener.index.lookup.allowed[query.schema]
    for qname in screener._query_names(query):
        ids = ids_fn(qname, mask)
        if ids:
            screener._score_names(qname, ids, best)
    for e_idx, (score, _, _) in best.items():
        if screener.index.entities[e_idx].id == expect:
            return score >= screener.threshold
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--limits", default=str(cand_mod.CANDIDATE_LIMIT), help="comma-separated candidate limits"
    )
    args = parser.parse_args()
    if not SDN.exists():
        sys.exit(f"{SDN} not present: the real list files in ../shared are unavailable")
    screener = Screener.from_entities(sdn_entities(), list_version="ofac-sdn@2021-07-07")
    queries = [json.loads(line) for line in (EVAL / "dev" / "queries.jsonl").read_text().splitlines() if line]
    positives = [q for q in queries if q.get("expect")]
    started = time.perf_counter()
    limits = [int(x) for x in args.limits.split(",")]
    exhaustive_hits = 0
    kept = dict.fromkeys(limits, 0)
    lost: dict[int, list[str]] = {k: [] for k in limits}
    for q in positives:
        query = Query(name=q["name"], schema=q["schema"])
        if not found(screener, query, q["expect"], lambda qn, m: exhaustive_names(screener, qn, m)):
            continue
        exhaustive_hits += 1
        for limit in limits:
            if found(
                screener,
                query,
                q["expect"],
                lambda qn, m, limit=limit, schema=query.schema: candidate_names(screener.index, qn, schema, limit),
            ):
                kept[limit] += 1
            else:
                lost[limit].append(f"{q['name']!r} -> {q['expect']} ({q['family']})")
    elapsed = time.perf_counter() - started
    print(f"positives found by exhaustive scoring: {exhaustive_hits}/{len(positives)}  ({elapsed:.0f}s)")
    for limit in limits:
        print(f"candidate limit {limit}: kept {kept[limit]} = {kept[limit] / max(exhaustive_hits, 1):.4f}")
        for line in lost[limit]:
            print("  lost:", line)


if __name__ == "__main__":
    main()
