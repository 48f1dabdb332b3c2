"""Import a list snapshot: read it whole, then store it as a new version in one transaction.

The order matters for safety: files are hashed and parsed completely before the store is touched, and
the store writes the version atomically, so a bad file or a crash leaves the previous version active.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.lists.registry import check_list_name, guess_format, reader
from clearance.policy.licenses import eastern_today
from clearance.store.base import ListVersion, Progress, Store


@dataclass(slots=True)
class ImportResult:
    version: ListVersion
    created: bool
    warnings: list[str] = field(default_factory=list)


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files named directly, plus the regular files inside any directory named, sorted by name."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            out.append(path)
        else:
            raise ClearanceError(f"{path}: no such file or directory")
    if not out:
        raise ClearanceError(f"no files to import in {', '.join(str(p) for p in paths)}")
    return out


def content_hash(files: Sequence[Path]) -> str:
    """SHA-256 over the files' names and bytes, independent of the order they were given in."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def import_list(
    store: Store,
    list_name: str,
    paths: Sequence[str | Path],
    *,
    format: str | None = None,
    published: date | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Read ``paths`` as a snapshot of ``list_name`` and store it as a version (if its content is new).

    The publication date is the one the file states, else ``published``, else today in US Eastern time
    (the day the policy reads list versions in: a version imported at 8 p.m. in New York is in force
    that evening, not from the next midnight).
    """
    check_list_name(list_name)
    files = expand_paths(paths)
    fmt = format or guess_format(list_name, files)
    digest = content_hash(files)
    parsed = reader(fmt)(files, list_name)
    warnings = list(parsed.warnings)
    if parsed.published is not None:
        when, source = parsed.published, "file"
        if published is not None and published != parsed.published:
            warnings.append(
                f"the file states publication on {parsed.published}; --published {published} is ignored"
            )
    elif published is not None:
        when, source = published, "given"
    else:
        when, source = eastern_today(), "import"
    version, created = store.add_version(
        list_name=list_name,
        format=fmt,
        files=[f.name for f in files],
        content_hash=digest,
        published=when,
        published_from=source,
        entities=parsed.entities,
        progress=progress,
    )
    return ImportResult(version, created, warnings)
