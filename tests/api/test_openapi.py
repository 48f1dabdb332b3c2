"""Schemathesis against the service's own OpenAPI document (bounded: a few examples per operation).

The server runs with ``--no-auth`` on 127.0.0.1, which also shows open mode works on loopback. Every
generated request must get a documented status and a response that conforms to the schema; no 500s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.harness import Server, seed_home


def test_openapi_document_holds_under_generated_requests(tmp_path: Path) -> None:
    st = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    if st is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    seed_home(tmp_path)
    with Server(tmp_path, "--no-auth", "--reload-interval", "0") as server:
        assert httpx.post(server.url + "/v1/screen", json={"name": "CEIEC"}).status_code == 200  # open mode
        spec = httpx.get(server.url + "/openapi.json").json()
        assert spec["openapi"].startswith("3.1")
        cmd = [
            st,
            "run",
            server.url + "/openapi.json",
            "--max-examples",
            "8",
            "--seed",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--exclude-path",
            "/v1/lists/update",  # downloads from the internet
            "--request-timeout",
            "30",
            "--no-color",
        ]
        env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
        result = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=240, env=env)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        assert 'status="500"' not in httpx.get(server.url + "/metrics").text
