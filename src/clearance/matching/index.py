"""The per-version matching index: normalised names, token ids, rarity weights and candidate keys.

Built once from the entities of the active list versions (``build_index``), written to
``Settings.index_dir / <key>.idx`` (``save_index``) and loaded from there on every later start
(``load_index``); screening never rebuilds it. The key hashes the versions' content hashes with
:data:`MATCHER_VERSION`, so a new list version or a change to the matcher builds a new index and an old
one is never used by mistake.

Layout: the names of every entity as analysed tokens (:mod:`clearance.text.tokens`), a vocabulary of
tokens with their rarity (an IDF learned from the lists themselves: ``log(1 + N / names containing it)``),
and candidate keys in compressed-sparse-row form: sorted 64-bit key hashes, offsets and name ids.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import pickle
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from clearance.errors import ClearanceError
from clearance.matching.evidence import (
    COUNTRY_PROPERTIES,
    IDENTIFIER_PROPERTIES,
    normalise_country,
    normalise_date,
    normalise_identifier,
)
from clearance.model import SCREENABLE_SCHEMATA, Entity
from clearance.text.tokens import NameTokens, Token, abjad_key, acronyms, analyse_name, skeleton

#: Changes whenever normalisation, candidate keys or scoring change; goes into indexes and audit records.
MATCHER_VERSION = "clearance-match-1.7"

#: Schema groups. A query of one group may match entities of the groups ``COMPATIBLE`` lists.
SCHEMA_GROUP = {
    "Person": 0,
    "Organization": 1,
    "Company": 1,
    "PublicBody": 1,
    "Vessel": 2,
    "Aircraft": 3,
    "Airplane": 3,
    "LegalEntity": 4,
    "Thing": 5,
}
OTHER_GROUP = 6  # Vehicle, CryptoWallet, Security...: only a Thing query reaches them
COMPATIBLE: dict[str, frozenset[int]] = {
    "Person": frozenset({0, 4, 5}),
    "Organization": frozenset({1, 4, 5}),
    "Company": frozenset({1, 4, 5}),
    "LegalEntity": frozenset({0, 1, 4, 5}),
    "Vessel": frozenset({2, 5}),
    "Aircraft": frozenset({3, 5}),
    "Thing": frozenset(range(OTHER_GROUP + 1)),
}

#: Weight factor of each token kind: how much identity a token of that kind carries.
KIND_FACTOR = {
    "word": 1.0,
    "number": 1.0,
    "initial": 0.25,
    "legal": 0.2,
    "particle": 0.3,
    "honorific": 0.15,
    "connector": 0.1,
}
#: Kinds whose tokens become candidate keys (the rest are too common to find anything with).
KEY_KINDS = frozenset({"word", "number"})
#: Shortest token that gets deletion-neighbourhood (typo) keys.
MIN_TYPO_KEY_LENGTH = 4

NAME_DERIVED_ACRONYM = 1
NAME_WEAK_ALIAS = 2


class IndexError_(ClearanceError):
    """The on-disk index is unreadable or from another matcher version; delete it to rebuild."""


@dataclass(slots=True)
class EntityRecord:
    """What scoring needs of a listed entity besides its names."""

    id: str
    schema: str
    caption: str
    list_version: str
    birth_dates: tuple[str, ...]
    countries: tuple[str, ...]
    identifiers: tuple[str, ...]


@dataclass(slots=True)
class Lookup:
    """The index's candidate tables as Python tuples and dicts, for the per-query path.

    A query reaches a few dozen rows of each table; read from numpy arrays, every row costs a slice and a
    conversion (about a microsecond), more than the sums done with it. These views hold the same numbers
    (float32 weights widened exactly) and cost some 30 MB for the 18,000 entities of the SDN list.
    """

    token_names: list[tuple[int, ...]]  # token -> the names that have it
    neighbours: list[tuple[tuple[int, ...], tuple[float, ...]]]  # neighbour row -> tokens, summed weights
    token_keys: dict[int, tuple[float, tuple[int, ...]]]  # token key hash -> weight, tokens
    name_keys: dict[int, tuple[float, tuple[int, ...]]]  # name key hash -> weight, names
    name_norm: list[float]
    allowed: dict[str, list[bool]]  # query schema -> whether each name may match it

    @classmethod
    def of(cls, index: MatchIndex) -> Lookup:
        ints = list(range(max(len(index.token_canon), len(index.name_text)) + 1))  # one object per id
        return cls(
            _rows(index.token_start, index.token_names, ints),
            list(
                zip(
                    _rows(index.neigh_start, index.neigh_tokens, ints),
                    _rows(index.neigh_start, index.neigh_weight, None),
                )
            ),
            _keyed(index.tkey_hash, index.tkey_weight, _rows(index.tkey_start, index.tkey_tokens, ints)),
            _keyed(index.key_hash, index.key_weight, _rows(index.key_start, index.postings, ints)),
            index.name_norm.tolist(),
            {schema: index.group_mask(schema).tolist() for schema in COMPATIBLE},
        )


def _rows(start: npt.NDArray[np.int64], values: npt.NDArray[Any], ints: list[int] | None) -> list[tuple[Any, ...]]:
    """The rows of a compressed-sparse-row table (``values[start[r]:start[r + 1]]``) as tuples; ids are
    taken from ``ints`` so that equal ids share one object."""
    flat = values.tolist()
    if ints is not None:
        flat = [ints[v] for v in flat]
    bounds = start.tolist()
    return [tuple(flat[lo:hi]) for lo, hi in itertools.pairwise(bounds)]


def _keyed(
    hashes: npt.NDArray[np.uint64], weights: npt.NDArray[np.float32], rows: list[tuple[int, ...]]
) -> dict[int, tuple[float, tuple[int, ...]]]:
    return dict(zip(hashes.tolist(), zip(weights.tolist(), rows)))


@dataclass(slots=True)
class MatchIndex:
    """Everything screening reads, in arrays and flat lists (see the module docstring)."""

    key: str
    matcher_version: str
    entities: list[EntityRecord]
    name_entity: npt.NDArray[np.int32]
    name_group: npt.NDArray[np.int8]
    name_norm: npt.NDArray[np.float32]
    name_flags: npt.NDArray[np.int8]
    name_text: list[str]
    name_tokens: list[tuple[int, ...]]
    name_forms: list[tuple[str, ...]]
    token_canon: list[str]
    token_form: list[str]
    token_kind: list[str]
    token_weight: list[float]  # idf x kind factor
    token_skel: list[int]
    canon_idf: dict[str, float]
    skel_ids: dict[str, int]
    token_abjad: list[int]  # id of the token's abjad (consonant) key, -1 when shorter than 3 letters
    abjad_ids: dict[str, int]
    unseen_idf: float
    key_hash: npt.NDArray[np.uint64]  # name keys (joins, acronyms) -> names
    key_start: npt.NDArray[np.int64]
    key_weight: npt.NDArray[np.float32]
    postings: npt.NDArray[np.int32]
    tkey_hash: npt.NDArray[np.uint64]  # token keys (exact, skeleton, typo) -> tokens
    tkey_start: npt.NDArray[np.int64]
    tkey_weight: npt.NDArray[np.float32]
    tkey_tokens: npt.NDArray[np.int32]
    token_start: npt.NDArray[np.int64]  # token -> names that have it
    token_names: npt.NDArray[np.int32]
    # a known word -> the tokens sharing a token key with it and the keys' summed weight, so a query
    # word the lists know costs one dict lookup instead of hashing and searching its ~20 keys
    neigh_row: dict[str, int]  # neighbour_key(canon, kind) -> row
    neigh_start: npt.NDArray[np.int64]
    neigh_tokens: npt.NDArray[np.int32]
    neigh_weight: npt.NDArray[np.float64]
    id_lookup: dict[str, list[int]] = field(default_factory=dict)  # identifier -> entity indexes
    # built from the tables above whenever an index is made or loaded, never saved
    lookup: Lookup = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.lookup = Lookup.of(self)

    @property
    def name_count(self) -> int:
        return len(self.name_text)

    def group_mask(self, schema: str) -> npt.NDArray[np.bool_]:
        allowed = COMPATIBLE.get(schema, COMPATIBLE["Thing"])
        return np.isin(self.name_group, np.array(sorted(allowed), dtype=np.int8))


def length_factor(form: str) -> float:
    """Short tokens say less than their rarity in the lists suggests ("Li", "Yu"): 2 letters 0.6, 3 0.8."""
    n = len(form)
    return 1.0 if n >= 4 else (n + 1) / 5.0


def token_weight(idf: float, kind: str, form: str) -> float:
    """How much identity a token carries: its rarity, scaled for its kind and length."""
    return idf * KIND_FACTOR[kind] * (length_factor(form) if kind == "word" else 1.0)


@lru_cache(maxsize=262144)
def key_hash(key: str) -> int:
    """A stable 64-bit hash of a candidate key (the same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def index_key(content_hashes: Iterable[str]) -> str:
    """The on-disk name of the index for a set of list versions under this matcher version."""
    digest = hashlib.sha256()
    digest.update(MATCHER_VERSION.encode())
    for h in sorted(content_hashes):
        digest.update(b"\0" + h.encode())
    return digest.hexdigest()[:32]


def is_organisation(schema: str) -> bool:
    """Whether legal forms and business words are read in names of this schema (all but Person)."""
    return schema != "Person"


def deletions(token: str) -> set[str]:
    """The token and every string one deletion away: two tokens one edit apart share one of these."""
    out = {token}
    for i in range(len(token)):
        out.add(token[:i] + token[i + 1 :])
    return out


def joins(forms: Sequence[str]) -> list[tuple[int, int, str]]:
    """``(start, length, joined)`` for runs of 2 and 3 adjacent tokens: "al masli" -> "almasli"."""
    out = []
    for size in (2, 3):
        for i in range(len(forms) - size + 1):
            out.append((i, size, "".join(forms[i : i + size])))
    return out


@lru_cache(maxsize=65536)
def token_keys(canon: str, kind: str) -> tuple[str, ...]:
    """Candidate keys of one token: exact form, phonetic skeleton and (long words) typo neighbourhood."""
    if kind not in KEY_KINDS:
        return ()
    keys = ["t" + canon]
    skel = skeleton(canon)
    if len(skel) >= 3 and skel != canon:
        keys.append("s" + skel)
    if len(canon) >= MIN_TYPO_KEY_LENGTH and kind == "word":
        keys.extend("d" + d for d in deletions(canon))
    return tuple(keys)


def neighbour_key(canon: str, kind: str) -> str:
    """The key of a token's row in the index's neighbour table (its token keys depend on these only)."""
    return kind[0] + canon


def name_keys(name: NameTokens) -> set[str]:
    """Name-level candidate keys: joins of adjacent tokens ("al masli" -> "almasli")."""
    keys: set[str] = set()
    forms = [t.form.replace(" ", "") for t in name.tokens]
    for _, _, joined in joins(forms):
        if len(joined) >= 4:
            keys.add("t" + joined)
    return keys


def _csr(
    pair_key: list[int], pair_value: list[int], keys: list[str]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Sorted key hashes, offsets and values of ``key -> values`` given as parallel pair lists."""
    hashes = np.fromiter((key_hash(k) for k in keys), dtype=np.uint64, count=len(keys))
    key_order = np.argsort(hashes, kind="stable")
    rank = np.empty_like(key_order)
    rank[key_order] = np.arange(len(key_order))
    pk = rank[np.asarray(pair_key, dtype=np.int64)] if pair_key else np.zeros(0, dtype=np.int64)
    pv = np.asarray(pair_value, dtype=np.int32)
    order = np.lexsort((pv, pk))
    counts = np.bincount(pk, minlength=len(keys))
    start = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return hashes[key_order], start, pv[order]


def _neighbours(
    token_canon: list[str],
    token_kind: list[str],
    tkey_hashes: npt.NDArray[np.uint64],
    tkey_start: npt.NDArray[np.int64],
    tkey_tokens: npt.NDArray[np.int32],
    tkey_weight: npt.NDArray[np.float32],
) -> tuple[dict[str, int], npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """For each distinct keyed (canon, kind) of the vocabulary: every token sharing one of its token keys,
    with the summed weight of the shared keys (what candidate generation would collect key by key)."""
    rows: dict[str, int] = {}
    pair_row: list[int] = []
    pair_key: list[str] = []
    for canon, kind in zip(token_canon, token_kind):
        if kind not in KEY_KINDS:
            continue
        nk = neighbour_key(canon, kind)
        if nk in rows:
            continue
        r = rows[nk] = len(rows)
        for k in token_keys(canon, kind):
            pair_row.append(r)
            pair_key.append(k)
    if not pair_row:
        return rows, np.zeros(len(rows) + 1, dtype=np.int64), np.zeros(0, np.int32), np.zeros(0)
    hashes = np.fromiter((key_hash(k) for k in pair_key), dtype=np.uint64, count=len(pair_key))
    pos = np.searchsorted(tkey_hashes, hashes)  # every key of a vocabulary token is in the table
    lengths = tkey_start[pos + 1] - tkey_start[pos]
    row = np.repeat(np.asarray(pair_row, dtype=np.int64), lengths)
    offsets = np.repeat(tkey_start[pos] - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    tokens = tkey_tokens[np.arange(int(lengths.sum()), dtype=np.int64) + offsets].astype(np.int64)
    weights = np.repeat(tkey_weight[pos].astype(np.float64), lengths)
    codes, inverse = np.unique(row * len(token_canon) + tokens, return_inverse=True)
    summed = np.bincount(inverse, weights=weights).astype(np.float64, copy=False)
    counts = np.bincount(codes // len(token_canon), minlength=len(rows))
    start = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return (
        rows,
        start,
        (codes % len(token_canon)).astype(np.int32),
        summed,
    )


def _entity_record(entity: Entity, label: str, wallets: list[str]) -> EntityRecord:
    dates = {d for v in entity.get("birthDate") if (d := normalise_date(v))}
    countries = {c for p in COUNTRY_PROPERTIES for v in entity.get(p) if (c := normalise_country(v))}
    ids = {i for p in IDENTIFIER_PROPERTIES for v in entity.get(p) if (i := normalise_identifier(v))}
    ids.update(i for v in wallets if (i := normalise_identifier(v)))
    return EntityRecord(
        id=entity.id,
        schema=entity.schema,
        caption=entity.caption,
        list_version=label,
        birth_dates=tuple(sorted(dates)),
        countries=tuple(sorted(countries)),
        identifiers=tuple(sorted(ids)),
    )


def build_index(entities: Iterable[tuple[Entity, str]], key: str = "") -> MatchIndex:
    """Build the index from ``(entity, list version label)`` pairs."""
    records: list[EntityRecord] = []
    name_entity: list[int] = []
    name_group: list[int] = []
    name_flags: list[int] = []
    name_text: list[str] = []
    analysed: list[NameTokens] = []
    id_lookup: dict[str, list[int]] = {}
    pairs = list(entities)
    # a wallet listed as its own entity identifies its holder: "an exact wallet match is decisive"
    wallets: dict[str, list[str]] = {}
    for entity, _ in pairs:
        if entity.schema == "CryptoWallet":
            for holder in entity.get("holder"):
                wallets.setdefault(holder, []).extend(entity.get("publicKey"))
    for entity, label in pairs:
        if entity.schema not in SCREENABLE_SCHEMATA or entity.schema == "CryptoWallet":
            continue
        weak = set(entity.get("weakAlias")) - set(entity.get("name")) - set(entity.get("alias"))
        names = entity.names
        if not names:
            continue
        e_idx = len(records)
        record = _entity_record(entity, label, wallets.get(entity.id, []))
        records.append(record)
        for ident in record.identifiers:
            id_lookup.setdefault(ident, []).append(e_idx)
        group = SCHEMA_GROUP.get(entity.schema, OTHER_GROUP)
        org = is_organisation(entity.schema)
        seen: set[tuple[str, ...]] = set()
        derived: list[str] = []
        for text in names:
            name = analyse_name(text, organisation=org)
            if not name.tokens or tuple(name.canon) in seen:
                continue
            seen.add(tuple(name.canon))
            name_entity.append(e_idx)
            name_group.append(group)
            name_flags.append(NAME_WEAK_ALIAS if text in weak else 0)
            name_text.append(text)
            analysed.append(name)
            if org and group != 2:
                derived.extend(sorted(acronyms(name)))
        for acronym in derived:
            if (acronym,) in seen:
                continue
            seen.add((acronym,))
            name_entity.append(e_idx)
            name_group.append(group)
            name_flags.append(NAME_DERIVED_ACRONYM)
            name_text.append(acronym.upper())
            analysed.append(NameTokens(acronym.upper(), (Token(acronym, acronym, "word"),)))

    # Rarity, learned from the listed names themselves (derived acronyms do not count).
    base_names = [a for a, f in zip(analysed, name_flags) if not f & NAME_DERIVED_ACRONYM]
    n_base = max(len(base_names), 1)
    df: dict[str, int] = {}
    for name in base_names:
        for canon in set(name.canon):
            df[canon] = df.get(canon, 0) + 1
    canon_idf = {c: math.log(1.0 + n_base / d) for c, d in df.items()}
    unseen_idf = math.log(1.0 + n_base)

    vocab: dict[tuple[str, str, str], int] = {}
    token_canon: list[str] = []
    token_form: list[str] = []
    token_kind: list[str] = []
    token_weights: list[float] = []
    token_skel: list[int] = []
    skel_ids: dict[str, int] = {}
    token_abjad: list[int] = []
    abjad_ids: dict[str, int] = {}
    name_tokens: list[tuple[int, ...]] = []
    name_forms: list[tuple[str, ...]] = []
    key_ids: dict[str, int] = {}
    pair_key: list[int] = []
    pair_name: list[int] = []
    for n_idx, name in enumerate(analysed):
        ids = []
        for tok in name.tokens:
            form = tok.form.replace(" ", "")
            t_id = vocab.get((form, tok.canon, tok.kind))
            if t_id is None:
                t_id = len(token_canon)
                vocab[(form, tok.canon, tok.kind)] = t_id
                token_canon.append(tok.canon)
                token_form.append(form)
                token_kind.append(tok.kind)
                idf = canon_idf.get(tok.canon, unseen_idf)
                token_weights.append(token_weight(idf, tok.kind, form))
                skel = skeleton(tok.canon)
                token_skel.append(skel_ids.setdefault(skel, len(skel_ids)) if len(skel) >= 3 else -1)
                abjad = abjad_key(tok.canon) if tok.kind == "word" else ""
                token_abjad.append(abjad_ids.setdefault(abjad, len(abjad_ids)) if len(abjad) >= 3 else -1)
            ids.append(t_id)
        name_tokens.append(tuple(ids))
        name_forms.append(tuple(t.form.replace(" ", "") for t in name.tokens))
        if name_flags[n_idx] & NAME_DERIVED_ACRONYM:
            keys = {"a" + name.tokens[0].canon}
        else:
            keys = name_keys(name)
            if len(name.tokens) == 1 and name.tokens[0].kind == "word":
                keys.add("a" + name.tokens[0].canon)  # a listed single word may be an acronym ("CEIEC")
        for k in keys:
            k_id = key_ids.get(k)
            if k_id is None:
                k_id = key_ids[k] = len(key_ids)
            pair_key.append(k_id)
            pair_name.append(n_idx)
    n_names = max(len(analysed), 1)
    key_hashes, key_start, postings = _csr(pair_key, pair_name, list(key_ids))
    key_weight = np.log1p(n_names / np.maximum(np.diff(key_start), 1)).astype(np.float32)

    # token -> names, and token keys -> tokens (typo and phonetic keys are per token, not per name)
    tok_pairs_t = [t for ids in name_tokens for t in set(ids)]
    tok_pairs_n = [n for n, ids in enumerate(name_tokens) for _ in set(ids)]
    order = np.lexsort((np.asarray(tok_pairs_n, dtype=np.int32), np.asarray(tok_pairs_t, dtype=np.int64)))
    token_names = np.asarray(tok_pairs_n, dtype=np.int32)[order]
    token_df = np.bincount(np.asarray(tok_pairs_t, dtype=np.int64), minlength=len(token_canon))
    token_start = np.zeros(len(token_canon) + 1, dtype=np.int64)
    np.cumsum(token_df, out=token_start[1:])
    tkey_ids: dict[str, int] = {}
    tpair_key: list[int] = []
    tpair_tok: list[int] = []
    abjad_of = {i: k for k, i in abjad_ids.items()}
    for t_id, (canon, kind) in enumerate(zip(token_canon, token_kind)):
        tkeys = token_keys(canon, kind)
        if token_abjad[t_id] >= 0:  # reached only by queries written in Arabic, Persian or Hebrew script
            tkeys = (*tkeys, "c" + abjad_of[token_abjad[t_id]])
        for k in tkeys:
            k_id = tkey_ids.get(k)
            if k_id is None:
                k_id = tkey_ids[k] = len(tkey_ids)
            tpair_key.append(k_id)
            tpair_tok.append(t_id)
    tkey_hashes, tkey_start, tkey_tokens = _csr(tpair_key, tpair_tok, list(tkey_ids))
    reach = np.add.reduceat(token_df[tkey_tokens], tkey_start[:-1]) if len(tkey_tokens) else np.zeros(0)
    tkey_weight = np.log1p(n_names / np.maximum(reach, 1)).astype(np.float32)
    neigh_row, neigh_start, neigh_tokens, neigh_weight = _neighbours(
        token_canon, token_kind, tkey_hashes, tkey_start, tkey_tokens, tkey_weight
    )
    name_norm = np.asarray([sum(token_weights[t] for t in ids) for ids in name_tokens], dtype=np.float32)

    return MatchIndex(
        key=key,
        matcher_version=MATCHER_VERSION,
        entities=records,
        name_entity=np.asarray(name_entity, dtype=np.int32),
        name_group=np.asarray(name_group, dtype=np.int8),
        name_norm=name_norm,
        name_flags=np.asarray(name_flags, dtype=np.int8),
        name_text=name_text,
        name_tokens=name_tokens,
        name_forms=name_forms,
        token_canon=token_canon,
        token_form=token_form,
        token_kind=token_kind,
        token_weight=token_weights,
        token_skel=token_skel,
        canon_idf=canon_idf,
        skel_ids=skel_ids,
        token_abjad=token_abjad,
        abjad_ids=abjad_ids,
        unseen_idf=unseen_idf,
        key_hash=key_hashes,
        key_start=key_start,
        key_weight=key_weight,
        postings=postings,
        tkey_hash=tkey_hashes,
        tkey_start=tkey_start,
        tkey_weight=tkey_weight,
        tkey_tokens=tkey_tokens,
        token_start=token_start,
        token_names=token_names,
        neigh_row=neigh_row,
        neigh_start=neigh_start,
        neigh_tokens=neigh_tokens,
        neigh_weight=neigh_weight,
        id_lookup=id_lookup,
    )


def index_path(index_dir: Path, key: str) -> Path:
    return index_dir / f"{key}.idx"


def save_index(index: MatchIndex, path: Path) -> None:
    """Write the index atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(
                {f.name: getattr(index, f.name) for f in fields(MatchIndex) if f.init},
                f,
                protocol=5,
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_index(path: Path) -> MatchIndex:
    """Read an index written by :func:`save_index`; IndexError_ if it is unreadable or from another matcher."""
    try:
        with path.open("rb") as f:
            data = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
        raise IndexError_(f"{path}: cannot read the matching index ({exc}); delete it to rebuild") from exc
    if not isinstance(data, dict) or data.get("matcher_version") != MATCHER_VERSION:
        raise IndexError_(f"{path}: index from another matcher version; delete it to rebuild")
    try:
        return MatchIndex(**data)
    except TypeError as exc:  # same version label, other layout: a development build wrote it
        raise IndexError_(f"{path}: index of another layout ({exc}); delete it to rebuild") from exc
