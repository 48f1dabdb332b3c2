"""What the benchmarks share: where the real files are, the machine, and measuring in a fresh process."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LISTS = SHARED / "data" / "lists"

#: (label, list name, folder under ../shared/data/lists, publication date to give when the file states none)
REAL_LISTS = {
    "sdn-2019": ("ofac-sdn", "ofac-sdn/2019-01-15", "2019-01-15"),
    "sdn-2021": ("ofac-sdn", "ofac-sdn/2021-07-07", "2021-07-07"),
    "cons-2025": ("ofac-cons", "ofac-consolidated/2025-12-19", "2025-12-19"),
    "un-2026": ("un-sc", "un-sc/2026-02-27", "2026-02-27"),
    "bis-2022": ("bis-dpl", "bis-dpl/2022-09-07", "2022-09-07"),
}


def require_shared() -> None:
    if not LISTS.exists():
        sys.exit(f"{LISTS} not present: the benchmarks need the real list files in ../shared")


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """The largest peak resident memory of any waited-for child process, in MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    with open("/proc/meminfo", encoding="ascii") as f:
        kib = int(f.readline().split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gib": round(kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "date": datetime.now(UTC).date().isoformat(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def in_fresh_process(script: Path, *args: str) -> dict[str, Any]:
    """Run ``script --phase ...`` in a new interpreter (so its peak memory is its own) and read its JSON."""
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False, cwd=REPO
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{script.name} {' '.join(args)} failed with status {done.returncode}")
    result: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return result


def emit(data: dict[str, Any]) -> None:
    """A phase's result: one JSON line on stdout, read by :func:`in_fresh_process`."""
    sys.stdout.write(orjson.dumps(data).decode() + "\n")
