"""Which reader reads which list: formats by name, and the default format of each list."""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.lists.base import Reader

#: format name -> "module:function" of its reader (imported only when used)
FORMATS: dict[str, str] = {
    "ofac-csv": "clearance.lists.ofac_csv:read",
    "ofac-xml": "clearance.lists.ofac_xml:read",
    "un-xml": "clearance.lists.un_xml:read",
    "bis-dpl": "clearance.lists.bis_dpl:read",
    "ftm": "clearance.lists.ftm:read",
    "custom-csv": "clearance.lists.custom_csv:read",
}

#: the official lists Clearance knows by name, and the format their files come in
KNOWN_LISTS: dict[str, str] = {
    "ofac-sdn": "ofac-csv",
    "ofac-cons": "ofac-csv",
    "un-sc": "un-xml",
    "bis-dpl": "bis-dpl",
}

LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def check_list_name(name: str) -> str:
    if not LIST_NAME.match(name):
        raise ClearanceError(
            f"list name {name!r} is not valid: use lower-case letters, digits and '-' (e.g. custom-mybank)"
        )
    return name


def guess_format(list_name: str, files: Sequence[Path]) -> str:
    """The format to read ``files`` as, for a list called ``list_name``."""
    suffixes = {f.suffix.lower() for f in files}
    if list_name in ("ofac-sdn", "ofac-cons") and suffixes == {".xml"}:
        return "ofac-xml"
    if list_name in KNOWN_LISTS:
        return KNOWN_LISTS[list_name]
    if list_name.startswith("custom-") and suffixes <= {".csv"}:
        return "custom-csv"
    if suffixes and suffixes <= {".json", ".jsonl", ".ftm", ".ijson"}:
        return "ftm"
    if suffixes <= {".csv"}:
        return "custom-csv"
    raise ClearanceError(
        f"cannot tell the format of {', '.join(str(f) for f in files)} for list {list_name!r};"
        f" pass --format (one of {', '.join(FORMATS)})"
    )


def reader(format_name: str) -> Reader:
    try:
        target = FORMATS[format_name]
    except KeyError:
        raise ClearanceError(f"unknown format {format_name!r}; known formats: {', '.join(FORMATS)}") from None
    module_name, _, func = target.partition(":")
    module = importlib.import_module(module_name)
    read: Reader = getattr(module, func)
    return read
