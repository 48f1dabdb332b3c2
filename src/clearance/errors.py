"""One exception hierarchy. Messages name the file, line and field at fault and say what to do."""

from __future__ import annotations

from pathlib import Path


class ClearanceError(Exception):
    """Base of every error Clearance raises on purpose. The CLI prints these without a traceback."""


class ParseError(ClearanceError):
    """A list file (or a message) could not be read. Nothing from it has been imported."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class StoreError(ClearanceError):
    """The store could not do what was asked (unknown version, corrupt database, ...)."""


class NotFound(StoreError):
    """A list, version or entity that does not exist was asked for."""


class DownloadError(ClearanceError):
    """A list could not be fetched or failed verification; the active version is untouched."""


class QueryError(ClearanceError):
    """A screening query is not usable (empty name, unknown schema, ...)."""
