"""Build Clearance with the matcher's hot modules compiled by mypyc (pyproject.toml holds everything else).

The modules compiled are ``COMPILED_MODULES`` in src/clearance/compiled.py, the one list. Compiled, each
is an extension module beside its ``.py`` (which Python then ignores), and the build records the SHA-256
of each source it compiled in ``clearance/compiled.json`` so that ``import clearance`` can refuse to run
compiled code older than its source (see clearance.compiled).

``CLEARANCE_COMPILE=0`` in the environment builds pure Python; an editable build then also removes the
extensions an earlier compiled build left beside the sources.

mypyc type-checks with the ``[tool.mypy]`` settings of pyproject.toml, in the build environment, which
holds only the build requirements: third-party packages (numpy, rapidfuzz, ...) are absent there, so
their values are ``Any`` to the compiled code (checked at run time by the libraries themselves, never
by the compiled code), hence ``--no-warn-return-any`` for the build's type check (``mypy src`` keeps it).
"""

from __future__ import annotations

import importlib.util
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
COMPILE = os.environ.get("CLEARANCE_COMPILE", "1").strip() != "0"


def _load_compiled() -> Any:
    """clearance/compiled.py, loaded by path: importing the package needs its dependencies, which the build
    environment lacks, and runs the stale-build check this build may be about to fix."""
    spec = importlib.util.spec_from_file_location("_clearance_compiled", SRC / "clearance" / "compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compiled = _load_compiled()
MODULES: tuple[str, ...] = compiled.COMPILED_MODULES
GROUP = compiled.GROUP  # the shared library of the compiled modules: clearance/compiled__mypyc*.so
EXTENSIONS = [compiled.GROUP_LIBRARY, *MODULES]


def _relative_source(module: str) -> str:
    return compiled.source_path(module, Path("src")).as_posix()


class BuildPy(build_py):
    """An editable build removes what an earlier compiled one left beside the sources and this one will
    not replace: every extension when it builds pure Python, the extensions of modules no longer in
    ``COMPILED_MODULES`` when it compiles."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            return
        leftovers = compiled.orphaned_extensions(SRC)
        if not COMPILE:
            package = SRC / "clearance"
            leftovers += [package / compiled.RECORD, *package.glob(f"{compiled.GROUP_LIBRARY.rpartition('.')[2]}.*")]
            for module in MODULES:
                source = compiled.source_path(module, SRC)
                leftovers += [source.with_name(source.stem + suffix) for suffix in EXTENSION_SUFFIXES]
        for path in leftovers:
            if path.is_file():
                path.unlink()


class BuildExt(build_ext):
    """Runs mypyc here, when extensions are built, not each time pip runs setup.py for metadata."""

    def run(self) -> None:
        from mypyc.build import mypycify  # a build requirement; not needed for CLEARANCE_COMPILE=0

        hashes = compiled.source_hashes(SRC)
        built = {
            ext.name: ext
            for ext in mypycify(
                ["--no-warn-return-any", *(_relative_source(m) for m in MODULES)],
                group_name=GROUP,
                opt_level="3",
            )
        }
        if sorted(built) != sorted(EXTENSIONS):
            raise RuntimeError(f"mypyc built {sorted(built)}, setup.py expected {sorted(EXTENSIONS)}")
        for ext in self.extensions:  # placeholders, named in advance: fill in what mypyc generated
            ext.__dict__.update({k: v for k, v in vars(built[ext.name]).items() if k != "name"})
        if hashes != compiled.source_hashes(SRC):
            raise RuntimeError("a compiled module's source changed during the build: build again")
        # an editable build imports straight from src/; a wheel takes the record from its build folder
        compiled.write_record(hashes, SRC if self.inplace else Path(self.build_lib))
        super().run()


setup(
    ext_modules=[Extension(name, sources=[]) for name in EXTENSIONS] if COMPILE else [],
    cmdclass={"build_py": BuildPy, "build_ext": BuildExt},
)
