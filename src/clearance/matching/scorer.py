"""Name comparison: token similarities, the alignment of query tokens to listed tokens, coverage.

Token similarity (edit distances by RapidFuzz's C ``cdist``, one call for a query name and all the tokens of
its candidates):

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

from dataclasses import dataclass

import numpy as np
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


# The classes a query makes by the thousand write their own ``__init__`` (``init=False``): compiled, that
# is a native constructor, about 4x cheaper than calling the ``__init__`` @dataclass generates, which
# mypyc leaves interpreted (NameComparison alone cost 5,400 instructions a construction, 13 a query).
@dataclass(slots=True, init=False)
class Alignment:
    """One aligned group: query token positions, listed token positions, similarity."""

    query: tuple[int, ...]
    listed: tuple[int, ...]
    sim: float

    def __init__(self, query: tuple[int, ...], listed: tuple[int, ...], sim: float) -> None:
        self.query = query
        self.listed = listed
        self.sim = sim


@dataclass(slots=True, init=False)
class NameComparison:
    """A query name against one listed name: the alignment and the quantities features read."""

    query: QueryName
    name_id: int
    aligned: list[Alignment]
    query_weights: list[float]
    listed_weights: list[float]
    # filled in by compare() and the features, from the zeros __init__ sets
    query_coverage: float
    listed_coverage: float
    evidence: float  # rarity (nats) of the identifying tokens that aligned, times similarity
    matched_words: int
    unmatched_query_numbers: int
    unmatched_listed_numbers: int
    query_numbers: int
    listed_numbers: int
    listed_unmatched_weight: float
    score: float
    features: list[tuple[str, float]]

    def __init__(
        self,
        query: QueryName,
        name_id: int,
        aligned: list[Alignment],
        query_weights: list[float],
        listed_weights: list[float],
    ) -> None:
        self.query = query
        self.name_id = name_id
        self.aligned = aligned
        self.query_weights = query_weights
        self.listed_weights = listed_weights
        self.query_coverage = 0.0
        self.listed_coverage = 0.0
        self.evidence = 0.0
        self.matched_words = 0
        self.unmatched_query_numbers = 0
        self.unmatched_listed_numbers = 0
        self.query_numbers = 0
        self.listed_numbers = 0
        self.listed_unmatched_weight = 0.0
        self.score = 0.0
        self.features = []


#: What a query name's tokens have in common with index tokens: ``hits[token]`` lists ``(query position,
#: similarity)`` of the pairs at or above :data:`MIN_SIM`, in query order (the only pairs an alignment uses).
Hits = dict[int, list[tuple[int, float]]]


def similar_tokens(index: MatchIndex, query: QueryName, token_ids: list[int]) -> Hits:
    """The similarities (see the module docstring) of ``query``'s tokens to the index tokens ``token_ids``,
    computed once per query name for all its candidates; tokens similar to no query token are left out."""
    hits: Hits = {}
    nq = len(query.canon)
    if not nq or not token_ids:
        return hits
    token_canon, token_form, token_kind = index.token_canon, index.token_form, index.token_kind
    token_skel, token_abjad = index.token_skel, index.token_abjad
    canons = [token_canon[t] for t in token_ids]
    forms = [token_form[t] for t in token_ids]
    # edit distances by RapidFuzz in C, one call for the whole table
    dist: list[list[int]] = cdist(query.canon, canons, scorer=OSA.distance, dtype=np.int32, workers=1).tolist()
    form_dist: list[list[int]] | None = None
    if query.forms != query.canon or forms != canons:
        form_dist = cdist(query.forms, forms, scorer=OSA.distance, dtype=np.int32, workers=1).tolist()
    q_len = query.lengths
    q_form_len = [len(f) for f in query.forms]
    q_number = [k == "number" for k in query.kinds]
    q_first = [f[:1] for f in query.forms]
    q_skel, q_abjad = query.skels, query.abjad
    for j, t in enumerate(token_ids):
        c_len = len(canons[j])
        form = forms[j]
        c_form_len = len(form)
        c_first = form[:1]
        c_number = token_kind[t] == "number"
        c_skel = token_skel[t]
        c_abjad = token_abjad[t]
        row: list[tuple[int, float]] | None = None
        for i in range(nq):
            d = dist[i][j]
            sim = _edit_sim(d, q_len[i], c_len)
            nearest = d
            if form_dist is not None:
                fd = form_dist[i][j]
                sim = max(sim, _edit_sim(fd, q_form_len[i], c_form_len))
                nearest = min(d, fd)
            if q_number[i] or c_number:
                if d > 0:  # numbers only ever match exactly
                    sim = 0.0
            else:
                if q_skel[i] >= 0 and q_skel[i] == c_skel and min(q_len[i], c_len) >= 6 and nearest <= 2:
                    sim = max(sim, SKELETON_SIM)
                if q_abjad[i] >= 0 and q_abjad[i] == c_abjad:
                    sim = max(sim, ABJAD_SIM if c_len >= 5 else ABJAD_SHORT_SIM)
                if (q_len[i] == 1 or c_len == 1) and q_first[i] == c_first:
                    sim = max(sim, INITIAL_SIM)
            if sim >= MIN_SIM:
                if row is None:
                    row = hits[t] = []
                row.append((i, sim))
    return hits


def _edit_sim(distance: int, len_a: int, len_b: int) -> float:
    """``1 - edits / length`` when the edits are few enough for the shorter token's length, else 0."""
    shorter = min(len_a, len_b)
    allowed = 2 if shorter >= 10 else 1 if shorter >= 4 else 0
    if distance > allowed:
        return 0.0
    return 1.0 - distance / max(len_a, len_b, 1)


def compare(index: MatchIndex, query: QueryName, name_id: int, hits: Hits) -> NameComparison:
    """Align ``query`` with listed name ``name_id`` (``hits``: :func:`similar_tokens` of its tokens) and
    measure coverage and evidence."""
    tokens = index.name_tokens[name_id]
    nq, nc = len(query.canon), len(tokens)
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
