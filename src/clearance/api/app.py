"""The FastAPI application: routers, problem handlers, metrics and body-size middleware."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from clearance.api import entities, lists, match, ops, problems, screen
from clearance.api.fastlane import ScreenFastLane
from clearance.api.goodguys import router as goodguys_router
from clearance.api.licenses import router as licenses_router
from clearance.api.match import EntityCache, ftm_model
from clearance.api.metrics import BodyLimitMiddleware, Metrics, MetricsMiddleware
from clearance.api.payments import router as payments_router
from clearance.api.reports import router as reports_router
from clearance.api.service import Service

DESCRIPTION = """\
Sanctions screening over versioned lists, with every screening call recorded in a tamper-evident
audit log before it is answered.

Authenticate with `Authorization: ApiKey <key>` (keys: `clearance keys create NAME --role screen|analyst|admin`).
Errors are RFC 9457 problem documents (`application/problem+json`) naming the field at fault.
"""


def create_app(service: Service) -> FastAPI:
    """The ASGI app for ``service``. The service is started and stopped with the app's lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # load FollowTheMoney's model (seconds) beside startup, not on the first /match request
        threading.Thread(target=ftm_model, name="ftm-model", daemon=True).start()
        service.start()
        assert service.writer is not None
        service.writer.on_batch = metrics.audit_batch_done
        service.on_swap.append(lambda _loaded: metrics.reloads.inc())
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title="Clearance",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
        lifespan=lifespan,
    )
    metrics = Metrics(service)
    app.state.service = service
    app.state.metrics = metrics
    app.state.entity_cache = EntityCache()
    problems.install(app)
    for module in (screen, match, entities, lists, ops):
        app.include_router(module.router)
    app.include_router(payments_router)
    app.include_router(reports_router)
    app.include_router(licenses_router)
    app.include_router(goodguys_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=service.config.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def create_server_app(service: Service) -> ASGIApp:
    """What ``clearance serve`` runs: :func:`create_app` behind the ``POST /v1/screen`` fast lane."""
    app = create_app(service)
    return ScreenFastLane(app, service, app.state.metrics)
