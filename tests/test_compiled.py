"""The compiled matcher: built by the normal install, and never run older than its source."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import clearance
from clearance.compiled import (
    COMPILED_MODULES,
    PACKAGE_DIR,
    RECORD,
    StaleBuildError,
    build_inputs,
    check,
    compiled_modules,
    matcher_compiled,
    orphaned_extensions,
    source_hashes,
    source_path,
    stale_modules,
    write_record,
)

PURE_BUILD = os.environ.get("CLEARANCE_COMPILE", "").strip() == "0"


def fake_build(root: Path, *, compiled: bool = True, record: bool = True) -> Path:
    """A ``clearance`` package under ``root`` as a build leaves it: every compiled module's source, and
    when compiled, an (empty) extension beside each and the record of the sources built."""
    for module in COMPILED_MODULES:
        source = source_path(module, root)
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f'"""{module}"""\n', encoding="utf-8")
        if compiled:
            source.with_name(source.stem + EXTENSION_SUFFIXES[0]).write_bytes(b"")
    if compiled and record:
        write_record(source_hashes(root), root)
    return root


def test_a_fresh_compiled_build_passes_the_check(tmp_path: Path) -> None:
    root = fake_build(tmp_path)
    assert compiled_modules(root) == list(COMPILED_MODULES) and matcher_compiled(root)
    assert stale_modules(root) == []
    check(root)


def test_an_edited_source_of_a_compiled_module_is_refused_with_what_to_do(tmp_path: Path) -> None:
    root = fake_build(tmp_path)
    edited = source_path("clearance.matching.scorer", root)
    edited.write_text(edited.read_text(encoding="utf-8") + "X = 1\n", encoding="utf-8")
    assert stale_modules(root) == ["clearance.matching.scorer"]
    with pytest.raises(StaleBuildError) as error:
        check(root)
    assert str(edited) in str(error.value)
    assert "scripts/setup" in str(error.value) and "CLEARANCE_COMPILE=0" in str(error.value)


def test_compiled_modules_without_a_record_of_their_sources_are_refused(tmp_path: Path) -> None:
    root = fake_build(tmp_path, record=False)
    assert stale_modules(root) == list(COMPILED_MODULES)
    with pytest.raises(StaleBuildError):
        check(root)


def test_a_module_compiled_before_but_no_longer_in_the_list_is_refused(tmp_path: Path) -> None:
    """Python imports an extension before its ``.py``: one left by a build from before the module left
    COMPILED_MODULES would run old code unseen, so the check names it (and an editable build removes it)."""
    root = fake_build(tmp_path)
    (root / "clearance" / ("compiled__mypyc" + EXTENSION_SUFFIXES[0])).write_bytes(b"")  # the group: wanted
    assert orphaned_extensions(root) == []  # the listed modules' extensions and the group's
    left = source_path("clearance.matching.retired", root)
    left.write_text('"""no longer compiled"""\n', encoding="utf-8")
    orphan = left.with_name(left.stem + EXTENSION_SUFFIXES[0])
    orphan.write_bytes(b"")
    assert orphaned_extensions(root) == [orphan]
    with pytest.raises(StaleBuildError) as error:
        check(root)
    assert str(orphan) in str(error.value) and "no longer compiled" in str(error.value)


def test_a_pure_python_build_is_never_refused(tmp_path: Path) -> None:
    root = fake_build(tmp_path, compiled=False)
    (root / "clearance" / RECORD).write_text('{"clearance.matching.scorer": "old"}', encoding="utf-8")
    assert compiled_modules(root) == [] and not matcher_compiled(root)
    check(root)


@pytest.mark.skipif(not matcher_compiled(), reason="this environment runs the matcher as pure Python")
def test_importing_clearance_fails_once_a_compiled_source_is_edited(tmp_path: Path) -> None:
    """The real build, copied: ``import clearance`` runs the check in every process."""
    copy = tmp_path / "clearance"
    shutil.copytree(
        Path(clearance.__file__).parent, copy, ignore=shutil.ignore_patterns("data", "__pycache__")
    )

    def import_clearance() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "import clearance; print(clearance.__file__)"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    fresh = import_clearance()
    assert fresh.returncode == 0 and fresh.stdout.strip() == str(copy / "__init__.py"), fresh.stderr
    (copy / "matching" / "features.py").write_text("# edited\n", encoding="utf-8")
    stale = import_clearance()
    assert stale.returncode != 0
    assert "StaleBuildError" in stale.stderr and str(copy / "matching" / "features.py") in stale.stderr


@pytest.mark.skipif(PURE_BUILD, reason="built pure Python on purpose (CLEARANCE_COMPILE=0)")
def test_the_normal_install_runs_the_matcher_compiled() -> None:
    """scripts/setup builds with mypyc: if compiling silently stopped, this fails."""
    assert COMPILED_MODULES
    for module in COMPILED_MODULES:
        file = importlib.import_module(module).__file__ or ""
        assert file.endswith(tuple(EXTENSION_SUFFIXES)), f"{module} runs from {file}: run scripts/setup"
    assert matcher_compiled()
    version = subprocess.run(
        [sys.executable, "-m", "clearance", "--version"], capture_output=True, text=True, check=True
    )
    assert "matcher compiled with mypyc" in version.stdout


def test_a_rebuild_follows_the_compiled_modules_and_the_package_modules_they_import() -> None:
    src = PACKAGE_DIR.parent
    inputs = {p.relative_to(src).as_posix() for p in build_inputs(src)}
    assert {source_path(m, Path()).as_posix() for m in COMPILED_MODULES} <= inputs
    # imported by the compiled screener, not compiled: its declared types are checked by compiled code
    assert "clearance/matching/types.py" in inputs
    # nothing outside the package, nothing the compiled modules do not import
    assert all(p.startswith("clearance/") for p in inputs)
    assert "clearance/api/server.py" not in inputs
