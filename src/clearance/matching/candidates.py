"""Candidate generation: the listed names worth scoring for a query, found by key lookups.

A query name is analysed exactly as listed names were when the index was built, turned into candidate
keys (exact tokens, phonetic skeletons, typo neighbourhoods, joins of adjacent tokens, acronyms) and
each listed name sharing keys with it collects the keys' rarity weights. The best-collecting names go
on to full scoring. ``benchmarks/candidate_recall.py`` measures what this loses against scoring every
listed name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from clearance.matching.index import MatchIndex, is_organisation, joins, key_hash, token_keys, token_weight
from clearance.text.tokens import NameTokens, acronyms, analyse_name, skeleton

#: How many listed names go on to full scoring per query name.
CANDIDATE_LIMIT = 20


@dataclass(slots=True)
class QueryName:
    """One name of a query, analysed against an index's vocabulary."""

    text: str
    name: NameTokens
    canon: list[str]
    forms: list[str]
    kinds: list[str]
    weights: list[float]
    known: list[bool]  # whether the index has seen the token (an unseen one may be a typo)
    skels: list[int]
    keys: set[str]
    numbers: int = 0


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
    keys: set[str] = set()
    for tok in name.tokens:
        keys.update(token_keys(tok.canon, tok.kind))
    for _, _, joined in joins(forms):
        if len(joined) >= 4:
            keys.add("t" + joined)
    if len(forms) >= 2 and len("".join(forms)) >= 4:
        keys.add("t" + "".join(forms))
    if len(name.tokens) == 1 and kinds[0] in ("word", "legal"):
        keys.add("a" + forms[0])
    if len(name.tokens) >= 2 and schema != "Person":
        keys.update("a" + a for a in acronyms(name))
    numbers = sum(1 for k in kinds if k == "number")
    return QueryName(text, name, canon, forms, kinds, weights, known, skels, keys, numbers)


def candidate_names(
    index: MatchIndex, query: QueryName, mask: npt.NDArray[np.bool_], limit: int = CANDIDATE_LIMIT
) -> npt.NDArray[np.int64]:
    """Ids of up to ``limit`` listed names (of the allowed schemata) sharing the most key weight with ``query``."""
    if not query.keys:
        return np.zeros(0, dtype=np.int64)
    hashes = np.fromiter((key_hash(k) for k in query.keys), dtype=np.uint64, count=len(query.keys))
    # token keys -> tokens -> names
    pos = _find(index.tkey_hash, hashes)
    tokens, tweights = _gather(index.tkey_start, index.tkey_tokens, pos, index.tkey_weight[pos])
    names, weights = _gather(index.token_start, index.token_names, tokens, tweights)
    # name keys (joins, acronyms) -> names
    pos = _find(index.key_hash, hashes)
    names2, weights2 = _gather(index.key_start, index.postings, pos, index.key_weight[pos])
    if len(names2):
        names = np.concatenate((names, names2))
        weights = np.concatenate((weights, weights2))
    if not len(names):
        return np.zeros(0, dtype=np.int64)
    # sum key weights per listed name over the names reached only (not the whole index)
    reached, inverse = np.unique(names, return_inverse=True)
    scores: npt.NDArray[np.float64] = np.bincount(inverse, weights=weights).astype(np.float64)
    scores[~mask[reached]] = 0.0
    # like a Dice coefficient: shared weight over the size of both names, so a short listed name
    # that is all query outranks a long one that merely contains a common query token
    scores /= index.name_norm[reached] + (sum(query.weights) + 1.0)
    nonzero = np.flatnonzero(scores)
    if len(nonzero) > limit:
        nonzero = nonzero[np.argpartition(-scores[nonzero], limit)[:limit]]
    top = nonzero[np.argsort(-scores[nonzero], kind="stable")]
    result: npt.NDArray[np.int64] = reached[top]
    return result


def _find(sorted_hashes: npt.NDArray[np.uint64], hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Positions in ``sorted_hashes`` of the ``hashes`` it holds."""
    if not len(sorted_hashes):
        return np.zeros(0, dtype=np.int64)
    pos = np.searchsorted(sorted_hashes, hashes)
    inside = pos < len(sorted_hashes)
    pos, hashes = pos[inside], hashes[inside]
    found: npt.NDArray[np.int64] = pos[sorted_hashes[pos] == hashes]
    return found


def _gather(
    start: npt.NDArray[np.int64],
    values: npt.NDArray[np.int32],
    pos: npt.NDArray[np.int64],
    weights: npt.NDArray[np.floating[Any]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Concatenated ``values[start[p]:start[p+1]]`` for each ``p`` in ``pos``, each with its weight."""
    if not len(pos):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    starts = start[pos]
    lengths = start[pos + 1] - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    idx = np.arange(total, dtype=np.int64) + offsets
    return values[idx].astype(np.int64), np.repeat(weights, lengths).astype(np.float64)
