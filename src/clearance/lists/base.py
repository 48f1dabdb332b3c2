"""What every list reader returns, and the helpers readers share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from clearance.errors import ParseError
from clearance.model import Entity


@dataclass(slots=True)
class ParsedList:
    """A whole list file (or file set) read into entities.

    ``published`` is the publication date the file itself states, or ``None`` when it states none.
    """

    entities: list[Entity]
    published: date | None = None
    warnings: list[str] = field(default_factory=list)


Reader = Callable[[Sequence[Path], str], ParsedList]
"""A reader takes the files of one list snapshot and the list name (the id prefix) and returns them parsed.

It reads everything before returning and raises :class:`~clearance.errors.ParseError` naming file, line
and field on malformed input, so a bad file never reaches the store.
"""


def read_text(path: Path, encoding: str) -> str:
    """The whole file decoded, or a ParseError naming the line of the first undecodable byte."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(
            f"byte {data[exc.start]:#04x} at offset {exc.start} is not valid {encoding}",
            path=path,
            line=line,
        ) from exc


def require_nonempty(path: Path, text: str) -> None:
    if not text.strip():
        raise ParseError("the file is empty", path=path)
