"""Reproduce a recorded screening: the same query, against the same list versions, with the same threshold.

An audit record of ``POST /v1/screen`` keeps the queries, the ids of the list versions screened
against, the matcher version, the threshold, the limit and every candidate's id, score and verdict.
List versions are never deleted from the store, so the screening can be run again years later and
compared candidate by candidate: :func:`replay` does that and says what, if anything, differs.
A record made by another matcher version may differ for that reason alone; the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clearance.audit.log import StoredRecord
from clearance.errors import ClearanceError, NotFound
from clearance.settings import Settings
from clearance.store import Store

#: Scores are recorded rounded to four places; a replayed score within this of the record agrees.
SCORE_TOLERANCE = 1e-4


@dataclass(slots=True)
class ReplayReport:
    request_id: str
    queries: int
    recorded_matcher: str
    current_matcher: str
    differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences


def replay(record: StoredRecord, store: Store, settings: Settings) -> ReplayReport:
    """Screen the record's queries again against its list versions and compare with what it recorded."""
    from clearance.matching import MATCHER_VERSION
    from clearance.matching.screener import Screener
    from clearance.matching.types import Query

    if record.action != "screen":
        raise ClearanceError(f"record {record.request_id} is a {record.action!r} call; only screenings replay")
    payload = record.payload
    versions = []
    for v in payload["list_versions"]:
        try:
            versions.append(store.version(int(v["id"])))
        except NotFound as exc:
            raise ClearanceError(
                f"record {record.request_id}: list version {v['label']} (id {v['id']}) is not in this store"
            ) from exc
        if versions[-1].content_hash != v["content_hash"]:
            raise ClearanceError(
                f"record {record.request_id}: list version id {v['id']} in this store is not the one "
                f"recorded (content {versions[-1].content_hash[:12]}…, recorded {v['content_hash'][:12]}…)"
            )
    screener = Screener.from_versions(store, settings, versions, threshold=float(payload["threshold"]))
    report = ReplayReport(
        request_id=record.request_id,
        queries=len(payload["queries"]),
        recorded_matcher=str(payload["matcher_version"]),
        current_matcher=MATCHER_VERSION,
    )
    for i, (raw_query, result) in enumerate(zip(payload["queries"], payload["results"], strict=True)):
        again = screener.screen(Query(**raw_query), limit=int(payload["limit"]), explain=False)
        report.differences += _compare(i, result["matches"], [m.to_dict() for m in again])
    return report


def _compare(i: int, recorded: list[dict[str, Any]], replayed: list[dict[str, Any]]) -> list[str]:
    where = f"query {i}"
    if [m["entity_id"] for m in recorded] != [m["entity_id"] for m in replayed]:
        old_ids = [m["entity_id"] for m in recorded]
        new_ids = [m["entity_id"] for m in replayed]
        return [f"{where}: recorded candidates {old_ids}, replayed {new_ids}"]
    out = []
    for old, new in zip(recorded, replayed, strict=True):
        if abs(float(old["score"]) - float(new["score"])) > SCORE_TOLERANCE or old["match"] != new["match"]:
            out.append(
                f"{where}, {old['entity_id']}: recorded score {old['score']} (match {old['match']}), "
                f"replayed {new['score']} (match {new['match']})"
            )
    return out
