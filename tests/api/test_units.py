"""Small parts of the HTTP layer that need no server: limits, loopback checks, problem pointers."""

from __future__ import annotations

import asyncio
import time

import pytest

from clearance.api.problems import Problem, field_error
from clearance.api.screening import run_queries
from clearance.api.server import check_bind, is_loopback
from clearance.api.service import Loaded, RateLimiter, Service, ServiceConfig
from clearance.errors import ClearanceError
from clearance.matching.screener import Screener
from clearance.matching.types import Query
from clearance.settings import Settings
from tests.api.harness import sdn_entities


def test_rate_limiter_allows_the_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(rate=100, burst=10)
    assert limiter.take("k", 10) == 0
    wait = limiter.take("k", 5)
    assert 0.04 < wait <= 0.05
    assert limiter.take("other", 1) == 0  # per caller
    time.sleep(0.06)
    assert limiter.take("k", 5) == 0


def test_no_auth_only_binds_to_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    check_bind("127.0.0.1", auth=False)
    check_bind("0.0.0.0", auth=True)
    with pytest.raises(ClearanceError, match="loopback"):
        check_bind("0.0.0.0", auth=False)


def test_field_errors_give_a_json_pointer_and_a_dotted_name() -> None:
    assert field_error(["queries", 3, "name"], "empty") == {
        "pointer": "#/queries/3/name",
        "field": "queries[3].name",
        "in": "body",
        "detail": "empty",
    }
    assert field_error(["queries", "a/b~c", "schema"], "x")["pointer"] == "#/queries/a~1b~0c/schema"


def test_a_batch_running_past_the_timeout_is_stopped_with_503(tmp_path: object) -> None:
    service = Service(Settings.load(str(tmp_path)), ServiceConfig(timeout=0.01))
    screener = Screener.from_entities(sdn_entities(), list_version="t")
    loaded = Loaded(screener, (), "test", screener.threshold, time.time())
    queries = [Query(name=f"Ali Hassan Rahimi {i}") for i in range(5000)]
    with pytest.raises(Problem) as caught:
        asyncio.run(run_queries(service, loaded, queries, 5))
    assert caught.value.status == 503 and "fewer queries" in caught.value.detail
    assert len(asyncio.run(run_queries(service, loaded, queries[:3], 5))) == 3
