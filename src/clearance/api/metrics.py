"""Prometheus metrics: requests, latency, screenings, alerts, audit commits and the age of the lists.

Request counting and timing is a plain ASGI middleware (no per-request task or thread), labelled by route
template, never by raw path, so the number of series stays fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import HTTPException
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response

from clearance.api.problems import problem_response
from clearance.api.service import Service
from clearance.compiled import matcher_compiled

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only add noise to every scrape

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


class _ListCollector(Collector):
    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> Iterable[Metric]:
        age = GaugeMetricFamily(
            "clearance_list_age_seconds",
            "Seconds since publication of the served list version",
            labels=["list"],
        )
        for name, seconds in sorted(self.service.list_ages().items()):
            age.add_metric([name], seconds)
        yield age
        current = self.service.current
        loaded = GaugeMetricFamily("clearance_screener_loaded", "1 when a screener is loaded and serving")
        loaded.add_metric([], 1.0 if current is not None else 0.0)
        yield loaded
        entities = GaugeMetricFamily(
            "clearance_list_entities", "Entities in the served list version", labels=["list", "version"]
        )
        for v in current.versions if current else ():
            entities.add_metric([v.list, str(v.id)], v.entity_count)
        yield entities
        for kind in ("hits", "misses"):
            answers = CounterMetricFamily(
                f"clearance_answer_cache_{kind}",
                f"Screening queries answered {'from' if kind == 'hits' else 'without'} the answer cache "
                "of the served list snapshot",
            )
            answers.add_metric([], float(getattr(current.answers, kind)) if current else 0.0)
            yield answers


class Metrics:
    def __init__(self, service: Service) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "clearance_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "clearance_http_request_duration_seconds",
            "Time from request start to the last response byte",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.screened = Counter("clearance_screened_queries", "Queries screened", ["endpoint"], registry=r)
        self.alerts = Counter(
            "clearance_screening_alerts",
            "Screened queries with at least one match at the threshold",
            ["endpoint"],
            registry=r,
        )
        self.audit_batch = Histogram(
            "clearance_audit_commit_records",
            "Audit records made durable per commit (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000),
            registry=r,
        )
        self.audit_commit = Histogram(
            "clearance_audit_commit_seconds",
            "Time to write and fsync one audit batch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.reloads = Counter("clearance_screener_swaps", "Screeners swapped in", registry=r)
        self.inflight = Gauge("clearance_http_requests_in_flight", "Requests being served", registry=r)
        self.compiled = Gauge(
            "clearance_matcher_compiled", "1 when the matcher's hot modules run compiled (mypyc)", registry=r
        )
        self.compiled.set(1.0 if matcher_compiled() else 0.0)
        r.register(_ListCollector(service))

    def audit_batch_done(self, records: int, seconds: float) -> None:
        self.audit_batch.observe(records)
        self.audit_commit.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.inflight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.inflight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - started)


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                refused = declared_length_problem(value, limit, scope["path"])
                if refused is not None:
                    await _drain_and_send(refused, scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await too_large(limit, scope["path"])(scope, receive, send)  # type: ignore[arg-type]


def too_large(limit: int, instance: str) -> Response:
    return problem_response(
        413, f"the request body is larger than {limit} bytes; send smaller batches", instance=instance
    )


def declared_length_problem(value: bytes | str, limit: int, instance: str) -> Response | None:
    """The answer to a request whose ``Content-Length`` is not a length (400) or over ``limit`` (413);
    ``None`` when the body may be read."""
    try:
        length = int(value)
    except ValueError:
        length = -1
    if length < 0:
        return problem_response(400, "invalid Content-Length", instance=instance)
    return too_large(limit, instance) if length > limit else None


class _TooLarge(HTTPException):
    """Raised while FastAPI reads the body; it lets HTTP exceptions through to the problem handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes; send smaller batches")


async def _drain_and_send(response: Any, scope: Scope, receive: Receive, send: Send) -> None:
    await response(scope, receive, send)
