"""Operations: ``/healthz`` (the process answers), ``/readyz`` (a screener is loaded), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from clearance.api.problems import problem_response
from clearance.api.screening import JSONBytes
from clearance.api.service import Service

router = APIRouter(tags=["Operations"])


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    lists: list[str]
    matcher_version: str


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> JSONBytes:
    """Always 200 while the process serves HTTP."""
    return JSONBytes({"status": "ok"})


@router.get(
    "/readyz",
    response_model=Ready,
    summary="Readiness",
    responses={503: {"description": "No screener loaded yet", "content": {"application/problem+json": {}}}},
)
async def readyz(request: Request) -> Response:
    """200 once a screener is loaded (and while a newer one is being built); 503 before."""
    service: Service = request.app.state.service
    current = service.current
    if current is None:
        why = service.load_error or "the screening index is still loading"
        return problem_response(503, f"not ready: {why}", instance="/readyz", headers={"Retry-After": "5"})
    return JSONBytes(
        {
            "status": "ready",
            "lists": [v.label for v in current.versions],
            "matcher_version": current.matcher_version,
        }
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route, screenings, alerts, audit commits, list ages."""
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
