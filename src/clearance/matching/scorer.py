"""Name comparison: token similarities, the alignment of query tokens to listed tokens, coverage.

Token similarity (vectorised over every token of every candidate with RapidFuzz's C distances):

* equal compared forms (after name variants, endings, legal forms and business words) -> 1.0;
  every measure below is taken on both the compared forms and the written forms, and the better kept;
* one edit (two in tokens of ten letters or more; transpositions count once) -> ``1 - edits / length``;
* the same phonetic skeleton and at most two edits apart, both six letters or more
  (Hussain/Hossein, Darwich/Darwish) -> at least :data:`SKELETON_SIM`;
* a word of a name written in Arabic, Persian or Hebrew script (vowels mostly unwritten) and a word with
  the same consonants (:func:`~clearance.text.tokens.abjad_key`, three or more) -> :data:`ABJAD_SIM`;
* an initial and a word starting with it -> :data:`INITIAL_SIM`;
* numbers only ever match exactly.

Tokens are then aligned greedily, best pair first, each token used once; runs of two or three adjacent
tokens on one side may meet one token on the other when their letters join exactly ("al masli" /
"almasli", "s r l" / "srl").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import OSA
from rapidfuzz.process import cdist

from clearance.matching.candidates import QueryName
from clearance.matching.index import MatchIndex

SKELETON_SIM = 0.85
INITIAL_SIM = 0.7
#: A word from Arabic, Persian or Hebrew script and a romanised word with the same consonants (محمد /
#: Muhammad); a romanised word shorter than five letters says less.
ABJAD_SIM = 0.85
ABJAD_SHORT_SIM = 0.8
#: Pairs below this similarity are not aligned.
MIN_SIM = 0.5
#: Kinds whose tokens identify (count as evidence).
IDENTIFYING = frozenset({"word", "number"})


@dataclass(slots=True)
class Alignment:
    """One aligned group: query token positions, listed token positions, similarity."""

    query: tuple[int, ...]
    listed: tuple[int, ...]
    sim: float


@dataclass(slots=True)
class NameComparison:
    """A query name against one listed name: the alignment and the quantities features read."""

    query: QueryName
    name_id: int
    aligned: list[Alignment]
    query_weights: list[float]
    listed_weights: list[float]
    query_coverage: float = 0.0
    listed_coverage: float = 0.0
    evidence: float = 0.0  # rarity (nats) of the identifying tokens that aligned, times similarity
    matched_words: int = 0
    unmatched_query_numbers: int = 0
    unmatched_listed_numbers: int = 0
    query_numbers: int = 0
    listed_numbers: int = 0
    listed_unmatched_weight: float = 0.0
    score: float = 0.0
    features: list[tuple[str, float]] = field(default_factory=list)


class SimilarityTable:
    """Similarities of a query name's tokens to a set of index tokens, computed once per query name for
    all its candidates: ``hits[token]`` lists ``(query position, similarity)`` of the pairs at or above
    :data:`MIN_SIM` (query order), the only ones an alignment may use."""

    __slots__ = ("hits",)

    def __init__(self, index: MatchIndex, query: QueryName, token_ids: list[int]) -> None:
        sim = similarity_matrix(index, query, token_ids)
        qpos, cpos = np.nonzero((sim >= MIN_SIM).T)  # by token, then query position
        hits: dict[int, list[tuple[int, float]]] = {}
        for i, j, s in zip(cpos.tolist(), qpos.tolist(), sim[cpos, qpos].tolist()):
            t = token_ids[j]
            row = hits.get(t)
            if row is None:
                hits[t] = [(i, s)]
            else:
                row.append((i, s))
        self.hits = hits


def _edit_sim(
    dist: npt.NDArray[np.int32], qlen: npt.NDArray[np.int32], clen: npt.NDArray[np.int32]
) -> npt.NDArray[np.float64]:
    minlen = np.minimum.outer(qlen, clen)
    maxlen = np.maximum.outer(qlen, clen)
    allowed = np.where(minlen >= 10, 2, np.where(minlen >= 4, 1, 0))
    return np.where(dist <= allowed, 1.0 - dist / np.maximum(maxlen, 1), 0.0)


def similarity_matrix(index: MatchIndex, query: QueryName, token_ids: list[int]) -> npt.NDArray[np.float64]:
    """``sim[i, j]`` of query token ``i`` and index token ``token_ids[j]`` (see the module docstring)."""
    nq, nt = len(query.canon), len(token_ids)
    if not nq or not nt:
        return np.zeros((nq, nt))
    tid = np.asarray(token_ids, dtype=np.int64)
    token_canon = index.token_canon
    dist = cdist(
        query.canon, [token_canon[t] for t in token_ids], scorer=OSA.distance, dtype=np.int32, workers=1
    )
    qlen = np.asarray(query.lengths, dtype=np.int32)
    clen = index.token_len[tid]
    sim = _edit_sim(dist, qlen, clen)
    if query.forms != query.canon or index.token_form_differs[tid].any():
        token_form = index.token_form
        forms = [token_form[t] for t in token_ids]
        fdist = cdist(query.forms, forms, scorer=OSA.distance, dtype=np.int32, workers=1)
        qflen = np.asarray([len(f) for f in query.forms], dtype=np.int32)
        sim = np.maximum(sim, _edit_sim(fdist, qflen, index.token_form_len[tid]))
        mindist = np.minimum(dist, fdist)
    else:  # every written form is its compared form: the same distances
        mindist = dist
    cnum = index.token_is_number[tid]
    numeric = None
    if query.numbers or cnum.any():
        qnum = np.asarray([k == "number" for k in query.kinds], dtype=bool)
        numeric = qnum[:, None] | cnum[None, :]
        sim[numeric & (dist > 0)] = 0.0
    qskel = np.asarray(query.skels, dtype=np.int64)
    same_skel = (qskel[:, None] == index.token_skel_id[tid][None, :]) & (qskel[:, None] >= 0)
    if same_skel.any():
        same_skel &= (np.minimum.outer(qlen, clen) >= 6) & (mindist <= 2)
        if numeric is not None:
            same_skel &= ~numeric
        sim = np.where(same_skel, np.maximum(sim, SKELETON_SIM), sim)
    # a word written in an abjad script against a romanised word with the same consonants
    if max(query.abjad, default=-1) >= 0:
        qab = np.asarray(query.abjad, dtype=np.int64)
        same_abjad = (qab[:, None] == index.token_abjad_id[tid][None, :]) & (qab[:, None] >= 0)
        if numeric is not None:
            same_abjad &= ~numeric
        floor = np.where(clen >= 5, ABJAD_SIM, ABJAD_SHORT_SIM)[None, :]
        sim = np.where(same_abjad, np.maximum(sim, floor), sim)
    # initials: a one-letter token against a word starting with that letter
    if 1 in query.lengths or (clen == 1).any():
        qfirst = np.array([ord(f[0]) for f in query.forms], dtype=np.int32)
        cfirst = index.token_first[tid]
        initial = ((qlen[:, None] == 1) | (clen[None, :] == 1)) & (qfirst[:, None] == cfirst[None, :])
        if numeric is not None:
            initial &= ~numeric
        sim = np.where(initial, np.maximum(sim, INITIAL_SIM), sim)
    return sim


def compare(index: MatchIndex, query: QueryName, name_id: int, table: SimilarityTable) -> NameComparison:
    """Align ``query`` with listed name ``name_id`` and measure coverage and evidence."""
    tokens = index.name_tokens[name_id]
    nq, nc = len(query.canon), len(tokens)
    hits = table.hits
    pairs = [(s, -abs(i - j), i, j) for j, t in enumerate(tokens) if t in hits for i, s in hits[t]]
    pairs.sort(reverse=True)
    q_used = [False] * nq
    c_used = [False] * nc
    aligned: list[Alignment] = []
    # exact tokens first, then joins of adjacent tokens, then the near matches
    fuzzy = []
    for pair in pairs:
        s, _, i, j = pair
        if s < 1.0:
            fuzzy.append(pair)
            continue
        if q_used[i] or c_used[j]:
            continue
        q_used[i] = c_used[j] = True
        aligned.append(Alignment((i,), (j,), s))
    if not all(q_used) and not all(c_used):
        cforms = index.name_forms[name_id]
        # a join needs a listed word that begins a query word, or a listed word that is a run of query words
        if not query.prefixes.isdisjoint(cforms) or not query.joined.isdisjoint(cforms):
            _align_joins(query.forms, list(cforms), q_used, c_used, aligned)
    for s, _, i, j in fuzzy:
        if q_used[i] or c_used[j]:
            continue
        q_used[i] = c_used[j] = True
        aligned.append(Alignment((i,), (j,), s))

    kinds = index.token_kind
    weight_of = index.token_weight
    listed_weights = [weight_of[t] for t in tokens]
    query_weights = list(query.weights)
    known, qkinds = query.known, query.kinds
    for a in aligned:
        # a query token the lists have never seen (a typo, another spelling) weighs what it met
        if len(a.query) == 1 and not known[a.query[0]] and qkinds[a.query[0]] != "initial":
            query_weights[a.query[0]] = sum([listed_weights[j] for j in a.listed])
    cmp = NameComparison(query, name_id, aligned, query_weights, listed_weights)
    q_hit = c_hit = evidence = 0.0
    for a in aligned:
        qw = sum([query_weights[i] for i in a.query])
        cw = sum([listed_weights[j] for j in a.listed])
        q_hit += qw * a.sim
        c_hit += cw * a.sim
        for j in a.listed:
            if kinds[tokens[j]] in IDENTIFYING:
                # near matches are weak evidence: a typo and a dropped name together are not credible
                evidence += min(cw, qw) * a.sim**4
                cmp.matched_words += 1
                break
    cmp.query_coverage = min(1.0, q_hit / (sum(query_weights) or 1.0))
    cmp.listed_coverage = min(1.0, c_hit / (sum(listed_weights) or 1.0))
    cmp.evidence = evidence
    unmatched_weight = 0.0
    for j in range(nc):
        kind = kinds[tokens[j]]
        if kind == "number":
            cmp.listed_numbers += 1
            if not c_used[j]:
                cmp.unmatched_listed_numbers += 1
        if not c_used[j] and kind in IDENTIFYING:
            unmatched_weight += listed_weights[j]
    cmp.listed_unmatched_weight = unmatched_weight
    if query.numbers:
        cmp.query_numbers = query.numbers
        cmp.unmatched_query_numbers = sum(1 for i in range(nq) if not q_used[i] and qkinds[i] == "number")
    return cmp


def _align_joins(
    qforms: list[str], cforms: list[str], q_used: list[bool], c_used: list[bool], aligned: list[Alignment]
) -> None:
    """Align one free token on one side with a run of 2-3 free adjacent tokens on the other whose letters join."""
    for one, many, one_used, many_used, query_side in (
        (qforms, cforms, q_used, c_used, True),
        (cforms, qforms, c_used, q_used, False),
    ):
        wanted = {form: i for i, form in enumerate(one) if not one_used[i] and len(form) >= 3}
        if not wanted:
            continue
        n = len(many)
        for size in (2, 3):
            for start in range(n - size + 1):
                end = start + size
                if True in many_used[start:end]:
                    continue
                i = wanted.get("".join(many[start:end]))
                if i is None or one_used[i]:
                    continue
                one_used[i] = True
                for k in range(start, end):
                    many_used[k] = True
                group = tuple(range(start, end))
                aligned.append(Alignment((i,), group, 1.0) if query_side else Alignment(group, (i,), 1.0))
