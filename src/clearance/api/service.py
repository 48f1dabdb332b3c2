"""What the HTTP layer runs on: the screener in force, the store, the audit writer, keys and limits.

The screener is an immutable :class:`Loaded` snapshot held by reference. A new list version is loaded by
building a new screener on a background thread while the old one keeps serving, then swapping the
reference (a single assignment, atomic in Python): requests in flight finish on the snapshot they
started with, and every response names the list versions it was computed from.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from clearance.api.answers import DEFAULT_ANSWER_CACHE, AnswerCache
from clearance.audit import AuditLog, AuditRecord, AuditWriter, KeyStore, audit_path, keys_path
from clearance.audit.channel import AuditChannel
from clearance.errors import ClearanceError
from clearance.settings import Settings
from clearance.store import ListVersion, Store, open_store

log = logging.getLogger("clearance.api")

#: Path names of ``/match/{dataset}`` that mean "every list" (yente's usual collection names).
ALL_DATASETS = frozenset({"default", "all", "sanctions"})


@dataclass(slots=True)
class ServiceConfig:
    """Limits and switches of one server process (``clearance serve`` options)."""

    auth: bool = True
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch: int = 1000
    max_limit: int = 100
    rate_limit: float = 5000.0  # screened queries per second per key
    rate_burst: float | None = None  # default: one second's worth
    timeout: float = 30.0  # seconds a screening request may take
    reload_interval: float = 60.0  # seconds between checks for new list versions; 0 = never
    lists: tuple[str, ...] | None = None  # lists to serve (default: all in the store)
    answer_cache: int = DEFAULT_ANSWER_CACHE  # answers kept per screener snapshot; 0 = none
    workers: int = 1  # processes; each holds its own screener and a 1/workers share of each rate limit


def version_json(v: ListVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "list": v.list,
        "label": v.label,
        "published": v.published.isoformat(),
        "imported_at": v.imported_at.isoformat(),
        "content_hash": v.content_hash,
        "entity_count": v.entity_count,
    }


@dataclass(slots=True, frozen=True)
class Loaded:
    """A screener and what it was built from. Never mutated; replaced whole."""

    screener: Any
    versions: tuple[ListVersion, ...]
    matcher_version: str
    threshold: float
    loaded_at: float
    versions_json: list[dict[str, Any]] = field(default_factory=list)
    answers: AnswerCache = field(default_factory=AnswerCache)

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(sorted(v.id for v in self.versions))

    def version_for(self, ref: str) -> ListVersion | None:
        """The version a match's ``list_version`` names (a label, an id, or a list name)."""
        for v in self.versions:
            if ref in (v.label, str(v.id), v.list):
                return v
        return None


def build_loaded(
    store: Store,
    settings: Settings,
    lists: Sequence[str] | None,
    as_of: date | None,
    answer_cache: int = DEFAULT_ANSWER_CACHE,
) -> Loaded:
    """Build a screener over the versions active ``as_of`` (today when ``None``).

    The versions are read before and after the build; if an import landed in between, build again, so
    the versions a response names are exactly the ones its screener was built from.
    """
    from clearance.matching.screener import Screener

    names = list(lists) if lists else None
    for _ in range(5):
        before = store.active_versions(names, as_of)
        screener = Screener.from_store(store, settings, lists=names, as_of=as_of)
        versions = _screener_versions(screener)
        if versions is None:
            after = store.active_versions(names, as_of)
            if [v.id for v in after] != [v.id for v in before]:
                continue
            versions = tuple(before)
        break
    else:
        raise ClearanceError("the lists kept changing while the screener was being built; retry")
    screener.warm_up()
    return Loaded(
        screener=screener,
        versions=versions,
        matcher_version=str(getattr(screener, "matcher_version", None) or _matcher_version()),
        threshold=float(screener.threshold),
        loaded_at=time.time(),
        versions_json=[version_json(v) for v in versions],
        answers=AnswerCache(answer_cache),
    )


def _matcher_version() -> str:
    from clearance import matching

    return str(getattr(matching, "MATCHER_VERSION", "unknown"))


def _screener_versions(screener: Any) -> tuple[ListVersion, ...] | None:
    """The versions a screener says it was built from, if it says."""
    for attr in ("versions", "list_versions"):
        value = getattr(screener, attr, None)
        if value is not None and not callable(value):
            return tuple(value)
    return None


def _freeze_heap() -> None:
    """Move every object alive now (the screener's index above all) out of the garbage collector's
    reach: a full collection would otherwise walk the whole index, a pause of tens of milliseconds
    that lands on whichever request is running. An index swapped out later is freed by reference
    counting all the same (only cycles in it would stay)."""
    gc.collect()
    gc.freeze()


class RateLimiter:
    """A token bucket per caller; a screening request costs one token per query."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, who: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; returns 0 when allowed, else the seconds to wait before retrying."""
        now = time.monotonic()
        tokens, last = self._buckets.get(who, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        cost = min(cost, self.burst)  # a batch larger than the burst passes on a full bucket
        if tokens < cost:
            self._buckets[who] = (tokens, now)
            return (cost - tokens) / self.rate
        self._buckets[who] = (tokens - cost, now)
        return 0.0


def process_limiter(config: ServiceConfig) -> RateLimiter:
    """This process's share of each key's rate limit. With several workers each keeps its own
    buckets; connections are handed to the workers in turn, so each allows ``1/workers`` of the
    rate and burst, and a key gets about its configured rate in all (a client holding a single
    connection reaches one worker and gets that worker's share)."""
    workers = max(1, config.workers)
    burst = config.rate_burst if config.rate_burst is not None else max(config.rate_limit, 1.0)
    return RateLimiter(config.rate_limit / workers, max(burst / workers, 1.0))


class Service:
    """One server process's state. :meth:`start` and :meth:`stop` bracket its life."""

    def __init__(
        self,
        settings: Settings,
        config: ServiceConfig | None = None,
        *,
        audit_socket: socket.socket | None = None,
    ) -> None:
        """``audit_socket`` connects to the server's audit writer process (``clearance serve``); without
        it, this process appends to the audit log itself, on a writer thread."""
        self.settings = settings
        self.config = config or ServiceConfig()
        self.current: Loaded | None = None
        self.load_error: str | None = None
        self.limiter = process_limiter(self.config)
        self._local = threading.local()
        self._reload_lock = threading.Lock()
        self._alternates: OrderedDict[tuple[int, ...], Loaded] = OrderedDict()
        self._alt_lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.audit: AuditLog | None = None
        self.writer: AuditWriter | AuditChannel | None = None
        self._audit_socket = audit_socket
        self.keys: KeyStore | None = None
        self.reloads = 0
        self.on_swap: list[Any] = []
        #: Called with the reason if the audit writer process goes away (``audit_socket`` only).
        self.on_audit_lost: Callable[[str], None] | None = None
        self.inflight = 0  # screening requests being handled (event loop thread only)
        self.awaiting = 0  # of those, the ones whose audit record is queued or being committed
        # request ids: a random prefix per Service (each server process builds its own) and a counter
        self._id_prefix = os.urandom(10).hex()
        self._id_counter = itertools.count(1)

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> None:
        self.audit = AuditLog(audit_path(self.settings))  # read here; written by self.writer
        if self._audit_socket is not None:
            self.writer = AuditChannel(self._audit_socket)
            self.writer.on_lost = self.on_audit_lost
        else:
            writer = AuditWriter(self.audit)
            writer.pending = lambda: self.inflight - self.awaiting
            writer.start()
            self.writer = writer
        self.keys = KeyStore(keys_path(self.settings))
        self._poller = threading.Thread(target=self._poll, name="list-reloader", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self.writer is not None:
            self.writer.stop()
        if self.audit is not None:
            self.audit.close()
        if self.keys is not None:
            self.keys.close()

    @property
    def store(self) -> Store:
        """A store connection for the calling thread."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.settings)
            self._local.store = store
        return store

    # -- loading and swapping --------------------------------------------------------------------

    def _poll(self) -> None:
        self.reload()
        interval = self.config.reload_interval
        while interval > 0 and not self._stop.wait(interval):
            try:
                self.reload()
            except Exception:
                log.exception("checking for new list versions failed")

    def wanted_versions(
        self, as_of: date | None = None, lists: Sequence[str] | None = None
    ) -> list[ListVersion]:
        lists = lists if lists is not None else self.config.lists
        return self.store.active_versions(list(lists) if lists else None, as_of)

    def reload(self, force: bool = False) -> bool:
        """Build a screener for the newest versions if they differ from the one serving; swap it in.

        Runs on the calling thread (call it from a background thread). Returns whether it swapped.
        """
        with self._reload_lock:
            wanted = tuple(sorted(v.id for v in self.wanted_versions()))
            current = self.current
            if not force and current is not None and current.key == wanted:
                return False
            if not wanted:
                self.load_error = "no list versions in the store; import a list first"
                return False
            try:
                loaded = build_loaded(
                    self.store, self.settings, self.config.lists, None, self.config.answer_cache
                )
            except ImportError as exc:
                self.load_error = f"the screener is not available: {exc}"
                log.error("%s", self.load_error)
                return False
            except ClearanceError as exc:
                self.load_error = str(exc)
                log.error("cannot build the screener: %s", exc)
                return False
            self.current = loaded  # the swap: one reference assignment
            self.load_error = None
            _freeze_heap()
            self.reloads += 1
            log.info("serving %s", ", ".join(v.label for v in loaded.versions))
            for callback in self.on_swap:
                callback(loaded)
            return True

    def reload_in_background(self) -> None:
        threading.Thread(target=self.reload, name="list-reload", daemon=True).start()

    def loaded_for(self, as_of: date | None, lists: Sequence[str] | None) -> Loaded | None:
        """The screener for a date or a subset of lists: the current one when the versions agree,
        else one built for the occasion (cached, a few at a time). ``None`` means "build it": call
        :meth:`build_alternate` off the event loop."""
        current = self.current
        if as_of is None and lists is None:
            return current
        key = tuple(sorted(v.id for v in self.wanted_versions(as_of, lists)))
        if current is not None and current.key == key:
            return current
        with self._alt_lock:
            found = self._alternates.get(key)
            if found is not None:
                self._alternates.move_to_end(key)
            return found

    def build_alternate(self, as_of: date | None, lists: Sequence[str] | None) -> Loaded:
        versions = self.wanted_versions(as_of, lists)
        if not versions:
            when = f" on {as_of}" if as_of else ""
            raise ClearanceError(f"no list version was in force{when}; nothing to screen against")
        key = tuple(sorted(v.id for v in versions))
        loaded = build_loaded(
            self.store, self.settings, lists or self.config.lists, as_of, self.config.answer_cache
        )
        with self._alt_lock:
            self._alternates[key] = loaded
            while len(self._alternates) > 4:
                self._alternates.popitem(last=False)
        return loaded

    # -- audit -----------------------------------------------------------------------------------

    async def record(self, actor: str, action: str, payload: dict[str, Any]) -> tuple[str, int]:
        """Append an audit record and wait until it is durable; returns (request id, sequence number)."""
        assert self.writer is not None, "service not started"
        request_id = self._new_request_id()
        self.awaiting += 1
        try:
            seq = await self.writer.write(AuditRecord(request_id, actor, action, payload))
        finally:
            self.awaiting -= 1
        return request_id, seq

    def take_audit_answers(self) -> int:
        """Settle the writes of records the audit writer process has answered meanwhile; how many (see
        :meth:`AuditChannel.take_answers`). Always 0 for a writer thread, whose answers reach the event
        loop on its own queue."""
        writer = self.writer
        return writer.take_answers() if isinstance(writer, AuditChannel) else 0

    def _new_request_id(self) -> str:
        """32 hex digits, unique across processes and restarts without a system call per request."""
        return f"{self._id_prefix}{next(self._id_counter):012x}"

    @contextlib.contextmanager
    def screening(self) -> Iterator[None]:
        """Brackets a screening request, so the audit writer knows more records are coming."""
        self.inflight += 1
        try:
            yield
        finally:
            self.inflight -= 1

    def list_ages(self) -> dict[str, float]:
        """Seconds since the publication of each served list's version (for /metrics)."""
        current = self.current
        if current is None:
            return {}
        now = datetime.now(UTC)
        out = {}
        for v in current.versions:
            published = datetime(v.published.year, v.published.month, v.published.day, tzinfo=UTC)
            out[v.list] = (now - published).total_seconds()
        return out
