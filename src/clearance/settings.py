"""Settings: one place, read from ``CLEARANCE_*`` environment variables and overridden by the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_home() -> Path:
    """``$CLEARANCE_HOME``, else ``$XDG_DATA_HOME/clearance``, else ``~/.local/share/clearance``."""
    env = os.environ.get("CLEARANCE_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "clearance"


@dataclass(slots=True, frozen=True)
class Settings:
    home: Path

    @property
    def database_path(self) -> Path:
        return self.home / "clearance.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @classmethod
    def load(cls, home: str | Path | None = None) -> Settings:
        path = Path(home).expanduser() if home else default_home()
        return cls(home=path)
