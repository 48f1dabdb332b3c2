"""One query's answer from ``POST /v1/screen``, ready to send and to record, and a cache of them.

A screener is an immutable snapshot of list versions, so the same query (name, schema, birth date,
country, identifiers, aliases) and limit always get the same matches from it. Payment and onboarding
systems screen the same counterparties again and again; :class:`AnswerCache` keeps the last answers
of each snapshot, so a repeated query costs a dictionary lookup instead of a screening. It lives and
dies with its snapshot (a swap to new list versions starts empty), and every call is still recorded
in the audit log with its full result.

An answer keeps the matches already serialised (an :class:`orjson.Fragment`, spliced into the
response as is) and the compact form the audit log keeps of them (:func:`audited_matches`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from clearance.matching.types import Match, Query

#: Answers kept per screener snapshot by default (``clearance serve --answer-cache``). An answer of
#: ten explained matches is about 15 KB, so the default costs at most about 60 MB a process.
DEFAULT_ANSWER_CACHE = 4096


@dataclass(slots=True, frozen=True)
class Answer:
    """The matches of one query: as JSON for the response, as the audit log keeps them, and whether
    any is a match at the threshold (an alert)."""

    matches_json: orjson.Fragment
    audited: list[dict[str, Any]]
    alert: bool


def answer_for(matches: Sequence[Match]) -> Answer:
    rendered = [m.to_dict() for m in matches]
    return Answer(
        matches_json=orjson.Fragment(orjson.dumps(rendered)),
        audited=audited_matches(rendered),
        alert=any(m.match for m in matches),
    )


def audited_matches(matches: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the audit log keeps of a query's matches: every candidate's id, score, verdict and list
    version, and the explanation of the matches (the alerts an analyst reviews).

    The explanations of candidates below the threshold are left out: they are a deterministic function
    of the query, the list versions and the matcher version, which the record keeps, so replaying the
    record reproduces them (``clearance audit replay``), at a fraction of the bytes written per call.
    """
    return [
        {
            "entity_id": m["entity_id"],
            "score": m["score"],
            "match": m["match"],
            "list_version": m["list_version"],
            **({"explanation": m["explanation"]} if m["match"] else {}),
        }
        for m in matches
    ]


def query_key(query: Query, limit: int) -> Hashable:
    """Everything the matches depend on, for a screener snapshot."""
    return (
        query.name,
        query.schema,
        query.birth_date,
        query.country,
        tuple(query.id_numbers),
        tuple(query.aliases),
        limit,
    )


class AnswerCache:
    """The last ``size`` answers, least recently used dropped first. Safe to share between threads."""

    def __init__(self, size: int = DEFAULT_ANSWER_CACHE) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Answer | None:
        if self.size <= 0:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, answer: Answer) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = answer
            while len(self._items) > self.size:
                self._items.popitem(last=False)
