"""The screener: ``Screener.from_store(...)`` or ``Screener.from_entities(...)``, then ``screen(query)``.

A score is the weighted sum of the features in :mod:`clearance.matching.features`, clipped to [0, 1].
:data:`DEFAULT_THRESHOLD` decides ``Match.match``: at 0.80 a listed name matches when the query
covers it all with small differences (typos, another romanisation, a legal form written differently,
another word order), or covers the query completely with a rare enough remainder (a dropped middle
name). On the development set (benchmarks/eval_dev.py) this threshold gives recall above 0.99 with
under 0.5% of non-listed names alerting; see docs/benchmarks.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from clearance.errors import QueryError
from clearance.matching.candidates import CANDIDATE_LIMIT, QueryName, analyse_query_name, candidate_names
from clearance.matching.evidence import normalise_country, normalise_date, normalise_identifier
from clearance.matching.explain import bare
from clearance.matching.explain import explain as explain_match
from clearance.matching.features import EVIDENCE_FEATURES, NAME_FEATURES, QueryEvidence
from clearance.matching.index import (
    MATCHER_VERSION,
    EntityRecord,
    IndexError_,
    MatchIndex,
    build_index,
    index_key,
    index_path,
    load_index,
    save_index,
)
from clearance.matching.scorer import NameComparison, compare, similar_tokens
from clearance.matching.types import QUERY_SCHEMATA, Explanation, Match, Query
from clearance.model import Entity
from clearance.settings import Settings
from clearance.store.base import ListVersion, Store
from clearance.text.normalise import clean
from clearance.text.translit import hangul_mccune_reischauer, has_hangul

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Scores at or above this are a match (see the module docstring for what it means and how it was set).
DEFAULT_THRESHOLD = 0.80
#: Longest query name accepted, in characters; longer input is not a name.
MAX_NAME_LENGTH = 1000
#: Most tokens a query name may have.
MAX_NAME_TOKENS = 40
#: Names whose candidates' name scores a screener keeps for screening without explanations (a few KB each).
NAME_SCORE_CACHE_SIZE = 4096

__all__ = ["DEFAULT_THRESHOLD", "MATCHER_VERSION", "Screener", "finish_steps"]

#: Names in the scripts queries arrive in, screened by :meth:`Screener.warm_up` so that the text tables
#: loaded at first use (Hangul and Greek spellings, each Unicode block's transliterations) are loaded
#: before the first real query: 1-10 ms each otherwise, paid by whichever request meets them first.
WARM_UP_NAMES = (
    ("Person", "José María Núñez-O'Brien"),
    ("Person", "Владимир Иванович Петров"),
    ("Person", "محمد حسين الأسد"),
    ("Person", "محمد رضا حسینی"),
    ("Person", "שמעון כהן"),
    ("Person", "김정은"),
    ("Person", "習近平"),
    ("Person", "やまだ たろう"),
    ("Person", "Αλέξανδρος Παπαδόπουλος"),
    ("Company", "China National Electronics Import & Export Corp. Ltd"),
    ("Vessel", "Ever Given"),
)

#: Candidate entity index -> its best name score, with that name's comparison and feature values.
_Best = dict[int, tuple[float, NameComparison, list[float]]]

_NAME_FNS = tuple(f.fn for f in NAME_FEATURES)
_NAME_WEIGHTS = tuple(f.weight for f in NAME_FEATURES)


class Screener:
    """Screens queries against the index of a set of list versions."""

    def __init__(self, index: MatchIndex, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.index = index
        self.threshold = threshold
        self.matcher_version = MATCHER_VERSION
        self._name_scores = lru_cache(maxsize=NAME_SCORE_CACHE_SIZE)(self._name_scores_uncached)

    # --- construction ------------------------------------------------------------------------------

    @classmethod
    def from_entities(
        cls,
        entities: Iterable[Entity],
        *,
        list_version: str = "",
        threshold: float = DEFAULT_THRESHOLD,
    ) -> Screener:
        """A screener over entities held in memory (tests, ad-hoc lists); the index is not saved."""
        return cls(build_index((e, list_version) for e in entities), threshold)

    @classmethod
    def from_store(
        cls,
        store: Store,
        settings: Settings,
        lists: Sequence[str] | None = None,
        as_of: date | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> Screener:
        """A screener over the active versions of ``lists`` (all lists when ``None``) as of ``as_of``.

        The index is loaded from ``settings.index_dir`` when it exists for exactly these versions and
        this matcher version; otherwise it is built once and saved there.
        """
        return cls.from_versions(store, settings, store.active_versions(lists, as_of), threshold=threshold)

    @classmethod
    def from_versions(
        cls,
        store: Store,
        settings: Settings,
        versions: Sequence[ListVersion],
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> Screener:
        """A screener over exactly ``versions`` (an audit record's, say); its index cached as in
        :meth:`from_store`."""
        key = index_key(v.content_hash for v in versions)
        path = index_path(settings.index_dir, key)
        if path.exists():
            try:
                return cls(load_index(path), threshold)
            except IndexError_ as exc:
                log.warning("%s; rebuilding", exc)
        started = time.perf_counter()
        pairs = ((entity, v.label) for v in versions for entity in store.entities(v.id))
        index = build_index(pairs, key=key)
        save_index(index, path)
        log.info("built matching index %s in %.2fs", key, time.perf_counter() - started)
        return cls(index, threshold)

    def warm_up(self) -> None:
        """Screen :data:`WARM_UP_NAMES` once, loading what screening loads at first use."""
        for schema, name in WARM_UP_NAMES:
            self.screen(Query(name=name, schema=schema), limit=1)

    # --- screening ---------------------------------------------------------------------------------

    def screen(
        self, query: Query, limit: int = 10, *, explain: bool = True, min_score: float = 0.0
    ) -> list[Match]:
        """The ``limit`` best-scoring listed entities for ``query``, best first, with explanations.

        Entities below the threshold are returned too (``match=False``) so callers can see near misses;
        ``min_score`` leaves out (and does not explain) those scoring below it: ``min_score=threshold``
        returns only matches. Only the returned matches are explained; ``explain=False`` leaves each
        explanation's token alignment and features empty (batch runs that do not write them; callers
        that explain only some results later with :meth:`explain`). Raises
        :class:`~clearance.errors.QueryError` for a query that is not a usable name.

        Without explanations the name scores of the last :data:`NAME_SCORE_CACHE_SIZE` names (with
        their aliases and schema) are reused: the same name screened again with another country or
        birth date is only re-weighed with that evidence. The results are the same either way.
        """
        evidence = _query_evidence(query)
        if explain or not self._cacheable(query, evidence):
            return finish_steps(self._steps(query, evidence, limit, explain, min_score))
        results = []
        entities = self.index.entities
        scored = []
        for name_score, e_idx, name_id, query_text in self._name_scores(
            query.name, tuple(query.aliases), query.schema
        ):
            record = entities[e_idx]
            scored.append(
                (_with_evidence(name_score, record, evidence), record.id, record, name_id, query_text)
            )
        scored.sort(key=lambda r: (-r[0], r[1]))
        for score, _, record, name_id, query_text in scored[:limit]:
            if score < min_score:
                break
            results.append(self._result(score, record, bare(query_text, name_id, self.index)))
        return results

    def screen_in_steps(
        self, query: Query, limit: int = 10, *, min_score: float = 0.0
    ) -> Generator[None, None, list[Match]]:
        """:meth:`screen` (with explanations) as a generator that pauses between the stages of the work,
        for a caller with other work to interleave: an event loop with answers to send.

        It pauses (yields ``None``) after the query's names are analysed, after each name's candidates
        are found and before the results are ranked and explained; its return value (the
        ``StopIteration``'s) is the list :meth:`screen` returns. A query that is not a usable name raises
        :class:`~clearance.errors.QueryError` at the first step.
        """
        return self._steps(query, _query_evidence(query), limit, True, min_score)

    def explain(self, query: Query, matches: Sequence[Match]) -> list[Match]:
        """``matches`` as :meth:`screen` with ``explain=True`` would have returned them for ``query``.

        For callers that screen many names with ``explain=False`` and explain only the few matches a
        decision rests on: the query is scored again, so this costs one more screening. Scores and
        verdicts are recomputed from the same index, hence equal; a match this query does not score
        (another query's, an identifier match made elsewhere) comes back unchanged.
        """
        if not matches:
            return []
        evidence = _query_evidence(query)
        rows = {row[1]: row for row in self._scored(query, evidence)}
        out = []
        for m in matches:
            row = rows.get(m.entity_id)
            if row is None:
                out.append(m)
                continue
            score, _, e_idx, cmp, values = row
            out.append(self._match(score, e_idx, cmp, values, evidence))
        return out

    def _steps(
        self, query: Query, evidence: QueryEvidence, limit: int, explain: bool, min_score: float
    ) -> Generator[None, None, list[Match]]:
        """:meth:`screen` without the name score cache, in steps (see :meth:`screen_in_steps`)."""
        best: _Best = {}
        yield from self._search(query, evidence, best)
        yield
        results = []
        for score, _, e_idx, cmp, values in self._ranked(best, evidence)[:limit]:
            if score < min_score:
                break  # best first: the rest score lower still
            results.append(self._match(score, e_idx, cmp, values, evidence if explain else None))
        return results

    def _search(self, query: Query, evidence: QueryEvidence, best: _Best) -> Iterator[None]:
        """Puts each candidate entity's best name score in ``best``, with that name's comparison and
        feature values; pauses after the query's names are analysed and after each name's candidates
        are found."""
        names = self._query_names(query)
        yield
        index = self.index
        extra = self._identifier_names(evidence, query.schema)
        for qname in names:
            ids = candidate_names(index, qname, query.schema, CANDIDATE_LIMIT)
            if extra:
                ids = sorted({*ids, *extra})
            yield
            if ids:
                self._score_names(qname, ids, best)

    def _best(self, query: Query, evidence: QueryEvidence) -> _Best:
        """Each candidate entity's best name score, with that name's comparison and feature values."""
        best: _Best = {}
        for _ in self._search(query, evidence, best):
            pass
        return best

    def _scored(
        self, query: Query, evidence: QueryEvidence
    ) -> list[tuple[float, str, int, NameComparison, list[float]]]:
        """Every candidate entity's ``(score, entity id, entity index, comparison, name feature values)``,
        best first (ties by entity id)."""
        return self._ranked(self._best(query, evidence), evidence)

    def _ranked(
        self, best: _Best, evidence: QueryEvidence
    ) -> list[tuple[float, str, int, NameComparison, list[float]]]:
        """``best`` (see :meth:`_search`) as :meth:`_scored` returns it."""
        entities = self.index.entities
        scored = []
        for e_idx, (name_score, cmp, values) in best.items():
            record = entities[e_idx]
            scored.append((_with_evidence(name_score, record, evidence), record.id, e_idx, cmp, values))
        scored.sort(key=lambda r: (-r[0], r[1]))
        return scored

    @staticmethod
    def _cacheable(query: Query, evidence: QueryEvidence) -> bool:
        """Whether the name scores of ``query`` depend on its names and schema alone (identifiers bring
        in candidates of their own) and those can be a cache key."""
        return (
            not evidence.identifiers
            and isinstance(query.name, str)
            and isinstance(query.aliases, list)
            and all(isinstance(a, str) for a in query.aliases)
        )

    def _name_scores_uncached(
        self, name: str, aliases: tuple[str, ...], schema: str
    ) -> tuple[tuple[float, int, int, str], ...]:
        """``(name score, entity index, listed name id, query name)`` of every candidate entity."""
        best = self._best(Query(name=name, schema=schema, aliases=list(aliases)), _NO_EVIDENCE)
        return tuple((score, e_idx, cmp.name_id, cmp.query.text) for e_idx, (score, cmp, _) in best.items())

    def _match(
        self,
        score: float,
        e_idx: int,
        cmp: NameComparison,
        values: list[float],
        evidence: QueryEvidence | None,
    ) -> Match:
        """One result; explained when ``evidence`` (the query's) is given."""
        record = self.index.entities[e_idx]
        if evidence is None:
            explanation = bare(cmp.query.text, cmp.name_id, self.index)
        else:
            explanation = explain_match(cmp, self.index, values, evidence, record)
        return self._result(score, record, explanation)

    def _result(self, score: float, record: EntityRecord, explanation: Explanation) -> Match:
        return Match(
            entity_id=record.id,
            score=score,
            match=score >= self.threshold,
            name=record.caption,
            schema=record.schema,
            list_version=record.list_version,
            explanation=explanation,
        )

    def _score_names(
        self,
        qname: QueryName,
        id_list: list[int],
        best: _Best,
    ) -> None:
        index = self.index
        name_tokens = index.name_tokens
        # in any order: the table is looked up by token
        token_ids = list(set().union(*[name_tokens[n] for n in id_list]))
        hits = similar_tokens(index, qname, token_ids)
        name_entity = index.name_entity
        for n in id_list:
            cmp = compare(index, qname, n, hits)
            values = [fn(cmp, index) for fn in _NAME_FNS]
            score = sum([w * v for w, v in zip(_NAME_WEIGHTS, values)])
            e_idx = int(name_entity[n])
            prev = best.get(e_idx)
            if prev is None or score > prev[0]:
                best[e_idx] = (score, cmp, values)

    def _identifier_names(self, evidence: QueryEvidence, schema: str) -> list[int]:
        """The names (of the schemata a ``schema`` query may match) of the entities the query's
        identifiers point at."""
        if not evidence.identifiers:
            return []
        entities = {e for i in evidence.identifiers for e in self.index.id_lookup.get(i, [])}
        if not entities:
            return []
        hits: list[int] = np.flatnonzero(
            np.isin(self.index.name_entity, np.fromiter(entities, dtype=np.int32))
        ).tolist()
        allowed = self.index.lookup.allowed[schema]
        return [n for n in hits if allowed[n]]

    def _query_names(self, query: Query) -> list[QueryName]:
        if query.schema not in QUERY_SCHEMATA:
            raise QueryError(f"unknown schema {query.schema!r}: use one of {', '.join(QUERY_SCHEMATA)}")
        out = []
        for position, text in enumerate([query.name, *query.aliases]):
            field = "name" if position == 0 else f"aliases[{position - 1}]"
            if not isinstance(text, str):
                raise QueryError(f"query {field} must be a string, not {type(text).__name__}")
            if len(text) > MAX_NAME_LENGTH:
                raise QueryError(
                    f"query {field} is {len(text)} characters long; a name has at most {MAX_NAME_LENGTH}"
                )
            if not clean(text):
                if position == 0:
                    raise QueryError("query name is empty: give the name of the party to screen")
                continue
            qname = analyse_query_name(self.index, text, query.schema)
            if not qname.canon:
                if position == 0:
                    raise QueryError(f"query {field} {text[:80]!r} has no letters or digits to match on")
                continue
            if len(qname.canon) > MAX_NAME_TOKENS:
                raise QueryError(
                    f"query {field} has {len(qname.canon)} words; a name has at most {MAX_NAME_TOKENS}"
                )
            out.append(qname)
            if has_hangul(text):
                # the lists spell Korean names McCune-Reischauer style (Kim Jong Un), not as anyascii
                # does (gim jeong eun): screen the name under both spellings, the better one counts
                alt = analyse_query_name(self.index, hangul_mccune_reischauer(text), query.schema)
                if alt.canon and alt.canon != qname.canon and len(alt.canon) <= MAX_NAME_TOKENS:
                    alt.text = text
                    out.append(alt)
        return out


def finish_steps(steps: Generator[None, None, T]) -> T:
    """What ``steps`` (a screening in steps, see :meth:`Screener.screen_in_steps`) returns, run to the
    end without pausing."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result


def _with_evidence(name_score: float, record: EntityRecord, evidence: QueryEvidence) -> float:
    """An entity's score: its clipped name score moved by the evidence features, clipped again."""
    score = min(1.0, max(0.0, name_score))
    if evidence.any:
        for f in EVIDENCE_FEATURES:
            value = f.fn(evidence, record)
            if value:
                score += f.weight * value
    return min(1.0, max(0.0, score))


_NO_EVIDENCE = QueryEvidence()


#: Countries as queries give them, normalised (a territory lookup costs tens of microseconds a query).
_normalised_country = lru_cache(maxsize=1024)(normalise_country)


def _query_evidence(query: Query) -> QueryEvidence:
    dates = (d,) if query.birth_date and (d := normalise_date(query.birth_date)) else ()
    country = query.country
    normalise = _normalised_country if isinstance(country, str) else normalise_country
    countries = (c,) if country and (c := normalise(country)) else ()
    ids = tuple(sorted({i for v in query.id_numbers if (i := normalise_identifier(v))}))
    if not (dates or countries or ids):
        return _NO_EVIDENCE  # most queries: no need to construct a frozen dataclass (~5k instructions)
    return QueryEvidence(dates, countries, ids)


def default_index_dir(settings: Settings) -> Path:
    return settings.index_dir
