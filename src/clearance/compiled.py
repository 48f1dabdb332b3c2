"""Which modules are compiled with mypyc, and the guard against running stale compiled code.

``setup.py`` compiles :data:`COMPILED_MODULES` (unless ``CLEARANCE_COMPILE=0``) and writes, beside this
file, :data:`RECORD`: the SHA-256 of each compiled module's source as it was built. A compiled module is
an extension (``scorer.cpython-311-x86_64-linux-gnu.so``) beside its ``.py``, and Python imports the
extension, so an edit to the ``.py`` is silently ignored until the next build. :func:`check` runs on every
``import clearance`` and refuses to go on when the source of a compiled module no longer matches.

This module is never compiled and imports only the standard library: ``setup.py`` reads the list from it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

#: The modules ``setup.py`` compiles with mypyc: the matcher's hot path, the index it reads and the text
#: normalisation it runs.
COMPILED_MODULES: tuple[str, ...] = (
    "clearance.matching.candidates",
    "clearance.matching.scorer",
    "clearance.matching.features",
    "clearance.matching.screener",
    "clearance.matching.explain",
    "clearance.matching.evidence",
    "clearance.matching.index",
    "clearance.matching.types",
    "clearance.text.normalise",
    "clearance.text.tokens",
    "clearance.text.translit",
)

#: Written by setup.py beside this file (ignored by git): ``{"module": "sha256 of its source"}``.
RECORD = "compiled.json"

#: The shared library mypyc builds for all the compiled modules (``clearance/compiled__mypyc*.so``).
GROUP = "clearance.compiled"
GROUP_LIBRARY = f"{GROUP}__mypyc"

PACKAGE_DIR = Path(__file__).resolve().parent


class StaleBuildError(ImportError):
    """A compiled module was built from a source that has changed since: Python would run old code."""


def source_path(module: str, root: Path) -> Path:
    """The ``.py`` of ``module`` under ``root`` (the folder holding the ``clearance`` package)."""
    return root.joinpath(*module.split(".")).with_suffix(".py")


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_hashes(root: Path) -> dict[str, str]:
    """What the record holds: the SHA-256 of each compiled module's source under ``root``."""
    return {module: source_hash(source_path(module, root)) for module in COMPILED_MODULES}


def build_inputs(root: Path) -> list[Path]:
    """The sources whose change needs a rebuild (``scripts/setup`` hashes them): the compiled modules and
    the package modules they import, whose declared types the compiled code checks at run time."""
    modules = set(COMPILED_MODULES)
    for module in COMPILED_MODULES:
        for node in ast.walk(ast.parse(source_path(module, root).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
    paths = {_module_file(m, root) for m in modules if m.split(".")[0] == "clearance"}
    return sorted(p for p in paths if p is not None)


def _module_file(module: str, root: Path) -> Path | None:
    """A module's ``.py``, or its package's ``__init__.py``; ``None`` for a name that is neither."""
    source = source_path(module, root)
    if source.is_file():
        return source
    init = source.with_suffix("") / "__init__.py"
    return init if init.is_file() else None


def write_record(hashes: dict[str, str], root: Path) -> Path:
    """Write :data:`RECORD` into the ``clearance`` package under ``root`` (setup.py, after compiling)."""
    path = root / "clearance" / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def extension_path(module: str, root: Path, listing: dict[Path, set[str]] | None = None) -> Path | None:
    """The compiled extension Python imports for ``module`` (one sits beside the ``.py``), or None.

    Python's finder tries extension suffixes before ``.py`` in each folder, so when one exists it wins."""
    folder = source_path(module, root).parent
    if listing is None:
        listing = {}
    if folder not in listing:
        try:
            listing[folder] = set(os.listdir(folder))
        except OSError:
            listing[folder] = set()
    stem = module.rpartition(".")[2]
    for suffix in EXTENSION_SUFFIXES:
        if stem + suffix in listing[folder]:
            return folder / (stem + suffix)
    return None


def compiled_modules(root: Path = PACKAGE_DIR.parent) -> list[str]:
    """The modules of :data:`COMPILED_MODULES` that are imported as compiled extensions here."""
    listing: dict[Path, set[str]] = {}
    return [m for m in COMPILED_MODULES if extension_path(m, root, listing) is not None]


def matcher_compiled(root: Path = PACKAGE_DIR.parent) -> bool:
    """Whether every module of :data:`COMPILED_MODULES` runs compiled (``--version`` and /metrics say)."""
    return len(compiled_modules(root)) == len(COMPILED_MODULES)


def stale_modules(root: Path = PACKAGE_DIR.parent) -> list[str]:
    """Compiled modules whose ``.py`` differs from the source they were built from (or with no record)."""
    compiled = compiled_modules(root)
    if not compiled:
        return []
    try:
        built: dict[str, str] = json.loads((root / "clearance" / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        built = {}
    stale = []
    for module in compiled:
        try:
            current = source_hash(source_path(module, root))
        except OSError:
            continue  # an installed extension without its source: nothing to compare, nothing to edit
        if built.get(module) != current:
            stale.append(module)
    return stale


def orphaned_extensions(root: Path = PACKAGE_DIR.parent) -> list[Path]:
    """Compiled extensions in the ``clearance`` package under ``root`` for modules no longer in
    :data:`COMPILED_MODULES`: an earlier build compiled them, and Python still imports them, not their ``.py``."""
    package = root / "clearance"
    suffixes = sorted(EXTENSION_SUFFIXES, key=len, reverse=True)  # ".cpython-311-...so" before ".so"
    wanted = {*COMPILED_MODULES, GROUP_LIBRARY}
    orphans = []
    for folder, _, files in os.walk(package):
        prefix = ".".join(Path(folder).relative_to(root).parts)
        for name in files:
            suffix = next((x for x in suffixes if name.endswith(x)), None)
            if suffix is not None and f"{prefix}.{name[: -len(suffix)]}" not in wanted:
                orphans.append(Path(folder) / name)
    return sorted(orphans)


def check(root: Path = PACKAGE_DIR.parent) -> None:
    """Raise :class:`StaleBuildError` when a compiled module no longer matches its ``.py``, or one no
    longer meant to be compiled still is."""
    how = (
        "Rebuild with scripts/setup (or `pip install -e .`), "
        "or build pure Python with `CLEARANCE_COMPILE=0 pip install -e .`."
    )
    stale = stale_modules(root)
    if stale:
        paths = ", ".join(str(source_path(m, root)) for m in stale)
        raise StaleBuildError(
            f"{paths}: not the source its compiled module was built from (edited since the last build?), "
            f"and Python would run the old compiled code. {how}"
        )
    orphans = orphaned_extensions(root)
    if orphans:
        paths = ", ".join(str(p) for p in orphans)
        raise StaleBuildError(
            f"{paths}: compiled by an earlier build, but the module is no longer compiled, and Python would "
            f"run the old compiled code instead of its source. {how}"
        )
