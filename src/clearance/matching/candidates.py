"""Candidate generation: the listed names worth scoring for a query, found by key lookups.

A query name is analysed exactly as listed names were when the index was built, turned into candidate
keys (exact tokens, phonetic skeletons, typo neighbourhoods, joins of adjacent tokens, acronyms) and
each listed name sharing keys with it collects the keys' rarity weights. The best-collecting names go
on to full scoring. ``benchmarks/candidate_recall.py`` measures what this loses against scoring every
listed name.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearance.matching.index import (
    MatchIndex,
    is_organisation,
    joins,
    key_hash,
    neighbour_key,
    token_keys,
    token_weight,
)
from clearance.text.tokens import NameTokens, abjad_key, acronyms, analyse_name, skeleton
from clearance.text.translit import is_abjad

#: How many listed names go on to full scoring per query name.
CANDIDATE_LIMIT = 20


@dataclass(slots=True, init=False)
class QueryName:
    """One name of a query, analysed against an index's vocabulary.

    (Its own ``__init__``, compiled to a native constructor: see :class:`clearance.matching.scorer.Alignment`.)
    """

    text: str
    name: NameTokens
    canon: list[str]
    forms: list[str]
    kinds: list[str]
    weights: list[float]
    known: list[bool]  # whether the index has seen the token (an unseen one may be a typo)
    skels: list[int]
    keys: set[str]
    numbers: int
    lengths: list[int]  # of the compared forms
    prefixes: frozenset[str]  # every proper prefix of a written form
    joined: frozenset[str]  # every run of 2-3 adjacent written forms, joined
    # abjad (consonant) key ids of the words of a name written in Arabic, Persian or Hebrew script
    # (-1: none, -2: not in the index); such a word may meet a romanised one with the same consonants
    abjad: list[int]
    # how candidate generation reaches listed tokens: rows of the index's neighbour table for words it
    # knows, hashes of the other keys to look up among token keys, hashes of keys to look up among
    # name keys (joins, acronyms)
    neighbour_rows: list[int]
    token_hashes: list[int]
    name_hashes: list[int]

    def __init__(
        self,
        text: str,
        name: NameTokens,
        canon: list[str],
        forms: list[str],
        kinds: list[str],
        weights: list[float],
        known: list[bool],
        skels: list[int],
        keys: set[str],
        numbers: int,
        lengths: list[int],
        prefixes: frozenset[str],
        joined: frozenset[str],
        abjad: list[int],
        neighbour_rows: list[int],
        token_hashes: list[int],
        name_hashes: list[int],
    ) -> None:
        self.text = text
        self.name = name
        self.canon = canon
        self.forms = forms
        self.kinds = kinds
        self.weights = weights
        self.known = known
        self.skels = skels
        self.keys = keys
        self.numbers = numbers
        self.lengths = lengths
        self.prefixes = prefixes
        self.joined = joined
        self.abjad = abjad
        self.neighbour_rows = neighbour_rows
        self.token_hashes = token_hashes
        self.name_hashes = name_hashes


def analyse_query_name(index: MatchIndex, text: str, schema: str) -> QueryName:
    name = analyse_name(text, organisation=is_organisation(schema))
    canon = [t.canon for t in name.tokens]
    kinds = [t.kind for t in name.tokens]
    forms = [t.form.replace(" ", "") for t in name.tokens]
    known = [c in index.canon_idf for c in canon]
    weights = [
        token_weight(index.canon_idf.get(c, index.unseen_idf), k, f) for c, k, f in zip(canon, kinds, forms)
    ]
    skels = []
    for c in canon:
        s = skeleton(c)
        skels.append(index.skel_ids.get(s, -2) if len(s) >= 3 else -1)
    token_key_set: set[str] = set()
    rows: list[int] = []
    unknown: list[tuple[str, ...]] = []
    n_keys = 0
    for c, k in dict.fromkeys(zip(canon, kinds)):
        tkeys = token_keys(c, k)
        if not tkeys:
            continue
        token_key_set.update(tkeys)
        n_keys += len(tkeys)
        row = index.neigh_row.get(neighbour_key(c, k))
        if row is None:
            unknown.append(tkeys)
        else:
            rows.append(row)
    if n_keys != len(token_key_set):
        # two query words share a key (one edit apart, one skeleton): look the keys up one by one so a
        # shared key counts once, as for any other query
        rows, unknown = [], [tuple(token_key_set)]
    name_key_set: set[str] = set()
    joined_forms = [j for _, _, j in joins(forms)]
    for joined in joined_forms:
        if len(joined) >= 4:
            name_key_set.add("t" + joined)
    if len(forms) >= 2 and len("".join(forms)) >= 4:
        name_key_set.add("t" + "".join(forms))
    if len(name.tokens) == 1 and kinds[0] in ("word", "legal"):
        name_key_set.add("a" + forms[0])
    if len(name.tokens) >= 2 and schema != "Person":
        name_key_set.update("a" + a for a in acronyms(name))
    numbers = sum(1 for k in kinds if k == "number")
    abjad = [-1] * len(canon)
    abjad_keys: set[str] = set()
    if is_abjad(text):
        for i, (c, k) in enumerate(zip(canon, kinds)):
            key = abjad_key(c) if k == "word" else ""
            if key not in index.abjad_ids and key[:1] == "l" and key[1:] in index.abjad_ids:
                key = key[1:]  # the article al- is written joined to the word (الأسد -> "lsd")
            if len(key) >= 3:
                abjad[i] = index.abjad_ids.get(key, -2)
                abjad_keys.add("c" + key)
    return QueryName(
        text,
        name,
        canon,
        forms,
        kinds,
        weights,
        known,
        skels,
        token_key_set | name_key_set,
        numbers,
        [len(c) for c in canon],
        frozenset(f[:k] for f in forms for k in range(1, len(f))),
        frozenset(joined_forms),
        abjad,
        rows,
        # both tables are searched for every key: a query word may be a listed join ("albatahai" /
        # "al batahai") and a join of query words a listed word
        [
            key_hash(k)
            for k in [*(k for keys in unknown for k in keys), *(name_key_set - token_key_set), *abjad_keys]
        ],
        [key_hash(k) for k in name_key_set | {k for k in token_key_set if k[0] == "t"}],
    )


def candidate_names(index: MatchIndex, query: QueryName, schema: str, limit: int = CANDIDATE_LIMIT) -> list[int]:
    """Ids of up to ``limit`` listed names (of the schemata a ``schema`` query may match) sharing the most
    key weight with ``query``, best first (ties by id).

    Each listed name collects the weight of every key it shares with the query: the token keys (exact,
    skeleton, typo) of its tokens, summed per token first, and its name keys (joins, acronyms). The score
    is like a Dice coefficient: shared weight over the size of both names, so a short listed name that is
    all query outranks a long one that merely contains a common query token.

    A query reaches a few hundred postings, summed in plain loops over :class:`Lookup`'s tuples, which the
    compiled build runs without numpy's per-call overhead on arrays of a few dozen elements.
    """
    lookup = index.lookup
    # token -> summed weight of the token keys that reach it, in the order the keys are met
    token_weights: dict[int, float] = {}
    for row in query.neighbour_rows:
        tokens, weights = lookup.neighbours[row]
        for t, w in zip(tokens, weights):
            token_weights[t] = token_weights.get(t, 0.0) + w
    _add_keyed(token_weights, lookup.token_keys, query.token_hashes)
    # listed name -> summed weight: a token reached through several keys is expanded to its names once
    name_weights: dict[int, float] = {}
    token_names = lookup.token_names
    for t in sorted(token_weights):
        w = token_weights[t]
        for n in token_names[t]:
            name_weights[n] = name_weights.get(n, 0.0) + w
    _add_keyed(name_weights, lookup.name_keys, query.name_hashes)
    allowed, norm = lookup.allowed[schema], lookup.name_norm
    size = sum(query.weights) + 1.0
    names: list[int] = []
    scores: list[float] = []
    for n, w in name_weights.items():
        if allowed[n]:
            names.append(n)
            scores.append(w / (norm[n] + size))
    if len(scores) > limit:
        # sorting plain floats is cheap; tuples are made only for the names that can make the cut
        cutoff = sorted(scores, reverse=True)[limit - 1]
        ranked = [(-s, n) for s, n in zip(scores, names) if s >= cutoff]
    else:
        ranked = [(-s, n) for s, n in zip(scores, names)]
    ranked.sort()
    return [n for _, n in ranked[:limit]]


def _add_keyed(sums: dict[int, float], table: dict[int, tuple[float, tuple[int, ...]]], hashes: list[int]) -> None:
    """Add the weight of each key of ``hashes`` that ``table`` holds to ``sums[i]`` for every id ``i`` of
    its row, in the order of ``hashes``."""
    for h in hashes:
        found = table.get(h)
        if found is not None:
            w, ids = found
            for i in ids:
                sums[i] = sums.get(i, 0.0) + w
