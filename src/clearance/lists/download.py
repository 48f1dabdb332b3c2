"""Fetch the official lists from their publishers, verify what arrived, and import it.

``update_lists`` is what ``clearance lists update`` runs. For each list it:

1. downloads every file of the list into a fresh ``home/downloads/tmp-*`` directory, with connect and
   read timeouts, bounded retries with exponential backoff on connection errors, 5xx and 429 (honouring
   ``Retry-After`` up to a cap), a size limit enforced while streaming, gzip transfer decoding, and
   conditional requests (``If-None-Match`` / ``If-Modified-Since``) from the validators remembered in
   ``home/downloads.json`` for the files last imported;
2. checks each file before anyone reads it: not empty, not an HTML (or JSON) error page, decodes in the
   list's encoding, looks like its kind (csv / tsv / xml);
3. imports the directory with :func:`clearance.lists.importer.import_list`, which parses it completely
   with the list's reader before storing anything and writes the version atomically;
4. only then moves the files to ``home/downloads/<list>/<timestamp>/`` (the record of what was imported)
   and remembers their validators.

A failure at any step leaves the store, the remembered validators and the kept files as they were, and
the list's :class:`UpdateResult` says what went wrong and where. One list failing does not stop the others.
The last download that arrived but failed verification is kept in ``home/downloads/<list>/failed/`` so
the message's file and line can be looked at.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import http.client
import os
import random
import re
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import yaml

from clearance import __version__
from clearance.errors import ClearanceError, DownloadError, ParseError
from clearance.lists.importer import content_hash, import_list
from clearance.lists.registry import FORMATS, check_list_name
from clearance.settings import Settings
from clearance.store.base import ListVersion, Store

#: Environment variable naming a YAML file to use instead of the packaged ``data/sources.yaml``.
SOURCES_ENV = "CLEARANCE_SOURCES"

KINDS = frozenset({"csv", "tsv", "xml"})
_CHUNK = 64 * 1024
_SNIFF = 4096
_STATE_FORMAT = 1


# --------------------------------------------------------------------------------------------------
# Sources: the publication locations, as data


@dataclass(slots=True, frozen=True)
class SourceFile:
    """One file of a list as its publisher serves it."""

    path: str  # relative to the list's base URL (or absolute)
    save_as: str  # the name the list's reader expects
    kind: str  # csv | tsv | xml
    max_bytes: int
    optional: bool = False
    base_url: str = ""

    @property
    def url(self) -> str:
        return urljoin(self.base_url, self.path)


@dataclass(slots=True, frozen=True)
class Source:
    """Where one list is published and what its files must look like."""

    list_name: str
    format: str
    files: tuple[SourceFile, ...]
    base_url: str
    encoding: str = "utf-8"
    title: str = ""
    homepage: str = ""
    enabled: bool = True

    def rebased(self, base_url: str) -> Source:
        """The same source served from ``base_url`` (a mirror, or a test server)."""
        return replace(
            self, base_url=base_url, files=tuple(replace(f, base_url=base_url) for f in self.files)
        )


def load_sources(path: str | Path | None = None) -> dict[str, Source]:
    """The sources in ``path``, else in ``$CLEARANCE_SOURCES``, else the packaged ``sources.yaml``."""
    if path is None and os.environ.get(SOURCES_ENV):
        path = os.environ[SOURCES_ENV]
    if path is None:
        where = "clearance/data/sources.yaml"
        text = resources.files("clearance").joinpath("data", "sources.yaml").read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ClearanceError(f"{path}: cannot read the list sources: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParseError(f"not valid YAML: {exc}", path=where) from exc
    if not isinstance(data, dict) or not isinstance(data.get("lists"), dict):
        raise ParseError("expected a mapping with a 'lists' key", path=where)
    return {name: _parse_source(name, spec, where) for name, spec in data["lists"].items()}


def _parse_source(name: str, spec: Any, where: str) -> Source:
    def fail(message: str, fld: str | None = None) -> ParseError:
        return ParseError(f"list {name!r}: {message}", path=where, field=fld)

    check_list_name(name)
    if not isinstance(spec, dict):
        raise fail("expected a mapping")
    base_url = str(spec.get("base_url", ""))
    files_spec = spec.get("files")
    if not isinstance(files_spec, list) or not files_spec:
        raise fail("needs a non-empty list of files", "files")
    files = []
    for item in files_spec:
        if not isinstance(item, dict) or "path" not in item:
            raise fail(f"each file needs at least a path, got {item!r}", "files")
        path = str(item["path"])
        kind = str(item.get("kind", "csv"))
        if kind not in KINDS:
            raise fail(f"file {path}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}", "kind")
        save_as = str(item.get("save_as", path.lower()))
        if Path(save_as).name != save_as or save_as.startswith("."):
            raise fail(f"file {path}: save_as {save_as!r} must be a plain file name", "save_as")
        max_bytes = item.get("max_bytes", 100_000_000)
        if not isinstance(max_bytes, int) or max_bytes <= 0:
            raise fail(f"file {path}: max_bytes must be a positive integer", "max_bytes")
        file = SourceFile(path, save_as, kind, max_bytes, bool(item.get("optional", False)), base_url)
        if urlsplit(file.url).scheme not in ("http", "https"):
            raise fail(f"file {path}: {file.url!r} is not an http(s) URL", "base_url")
        files.append(file)
    if len({f.save_as for f in files}) != len(files):
        raise fail("two files are saved under the same name", "save_as")
    encoding = str(spec.get("encoding", "utf-8"))
    try:
        "".encode(encoding)
    except LookupError:
        raise fail(f"unknown encoding {encoding!r}", "encoding") from None
    return Source(
        list_name=name,
        format=str(spec.get("format", "")),
        files=tuple(files),
        base_url=base_url,
        encoding=encoding,
        title=str(spec.get("title", "")),
        homepage=str(spec.get("homepage", "")),
        enabled=bool(spec.get("enabled", True)),
    )


# --------------------------------------------------------------------------------------------------
# Options, progress and results


@dataclass(slots=True, frozen=True)
class DownloadOptions:
    """How patient and how strict a download is. The defaults suit the official publishers."""

    connect_timeout: float = 15.0
    read_timeout: float = 60.0  # the longest silence allowed while receiving
    total_timeout: float = 900.0  # per file, against servers that trickle
    attempts: int = 4  # tries per file, counting the first
    backoff: float = 1.0  # the wait before the second try; doubles each time
    backoff_max: float = 60.0
    retry_after_cap: float = 120.0  # a longer Retry-After is shortened to this
    keep: int | None = 10  # downloaded snapshots kept per list (None: all)
    user_agent: str = f"clearance/{__version__} (sanctions list updater; Python urllib)"


@dataclass(slots=True, frozen=True)
class ProgressEvent:
    """Reported while lists update. ``stage`` is "download" (``done``/``total`` in bytes, ``total``
    ``None`` when the server sent no length), "import" (entities stored) or "done" (the list finished)."""

    list_name: str
    stage: str
    done: int = 0
    total: int | None = None
    url: str | None = None


UpdateProgress = Callable[[ProgressEvent], None]


@dataclass(slots=True)
class FileOutcome:
    """What happened to one file of a list."""

    url: str
    save_as: str
    http_status: int | None = None  # the last status received; None when no response arrived
    bytes: int = 0  # bytes received over the wire, all attempts together
    attempts: int = 0
    not_modified: bool = False
    missing: bool = False  # an optional file the server does not have
    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class UpdateResult:
    """The outcome of updating one list.

    ``status`` is "updated" (a new version was imported), "unchanged" (nothing new: the server said
    304, or sent content the store already has) or "failed" (``message`` says what and where; the
    list's active version is untouched).
    """

    list_name: str
    status: str
    version: ListVersion | None = None
    bytes_downloaded: int = 0
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    files: list[FileOutcome] = field(default_factory=list)
    kept: Path | None = None  # where the files of ``version`` are kept (None on failure)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


# --------------------------------------------------------------------------------------------------
# The update


def update_lists(
    store: Store,
    settings: Settings,
    lists: Sequence[str] | None = None,
    *,
    sources: Mapping[str, Source] | None = None,
    progress: UpdateProgress | None = None,
    options: DownloadOptions | None = None,
) -> list[UpdateResult]:
    """Download, verify and import ``lists`` (every enabled source when ``None``), one result each.

    Raises :class:`~clearance.errors.DownloadError` only for problems that concern the whole run (an
    unknown or disabled list named, another update already running); everything that goes wrong with
    one list is reported in its result.
    """
    all_sources = dict(sources) if sources is not None else load_sources()
    opts = options or DownloadOptions()
    chosen = _choose(all_sources, lists)
    root = settings.home / "downloads"
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive(root / ".lock"):
        _remove_stale_temporaries(root)
        state = _State.load(settings.home / "downloads.json")
        fetcher = _Fetcher(opts)
        results = []
        for source in chosen:
            result = _update_one(store, source, root, state, fetcher, opts, progress)
            if progress is not None:
                progress(ProgressEvent(source.list_name, "done", result.bytes_downloaded))
            results.append(result)
        return results


def _choose(sources: Mapping[str, Source], lists: Sequence[str] | None) -> list[Source]:
    if lists is None:
        return [s for s in sources.values() if s.enabled]
    chosen = []
    for name in dict.fromkeys(lists):
        if name not in sources:
            known = ", ".join(n for n, s in sources.items() if s.enabled)
            raise DownloadError(f"no download source for list {name!r}; known lists: {known}")
        source = sources[name]
        if not source.enabled and source.format not in FORMATS:
            raise DownloadError(
                f"the source of {name!r} is disabled: Clearance has no reader for its format"
                f" {source.format!r} yet"
            )
        chosen.append(source)
    return chosen


def _update_one(
    store: Store,
    source: Source,
    root: Path,
    state: _State,
    fetcher: _Fetcher,
    opts: DownloadOptions,
    progress: UpdateProgress | None,
) -> UpdateResult:
    name = source.list_name
    result = UpdateResult(name, "failed")
    list_dir = root / name
    last_good = state.last_good(name, root)
    tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=root))
    arrived = False  # once every file is here, a failure keeps them in <list>/failed/ for inspection
    try:
        # 1. fetch every file; a 304 reuses the copy kept from the last import
        for file in source.files:
            outcome = FileOutcome(file.url, file.save_as)
            result.files.append(outcome)
            previous = last_good / file.save_as if last_good is not None else None
            validators = state.validators(file.url) if previous is not None and previous.is_file() else {}
            try:
                fetcher.fetch(
                    file, tmp / file.save_as, validators, outcome, _download_progress(name, progress)
                )
            finally:
                result.bytes_downloaded += outcome.bytes
            if outcome.not_modified:
                assert previous is not None
                shutil.copy2(previous, tmp / file.save_as)
            elif outcome.missing:
                result.warnings.append(
                    f"{file.url}: optional file not published (HTTP {outcome.http_status})"
                )
        fetched = [o for o in result.files if not o.missing]
        if not fetched:
            raise DownloadError("the server has none of the list's files")
        arrived = True

        # 2. nothing new at all: no import, unless the store lost what was imported from these files
        if all(o.not_modified for o in fetched):
            existing = _version_with_hash(store, name, content_hash(_files_in(tmp)))
            if existing is not None:
                result.status, result.version, result.kept = "unchanged", existing, last_good
                result.message = "not modified since the last download"
                state.touch(name)
                state.save()
                return result

        # 3. verify what arrived before any reader sees it
        by_name = {f.save_as: f for f in source.files}
        for outcome in fetched:
            if not outcome.not_modified:
                _verify(tmp / outcome.save_as, by_name[outcome.save_as], source.encoding)

        # 4. import (parses everything first; atomic; identical content is a no-op)
        files = _files_in(tmp)
        existing = _version_with_hash(store, name, content_hash(files))
        if existing is not None:
            result.status, result.version = "unchanged", existing
            result.message = f"same content as the stored version {existing.label}"
            result.kept = last_good if last_good is not None and _same_files(last_good, tmp) else None
        else:
            imported = import_list(
                store,
                name,
                [tmp],
                format=source.format or None,
                published=None,
                progress=_import_progress(name, progress),
            )
            result.version, result.warnings = imported.version, result.warnings + imported.warnings
            result.status = "updated" if imported.created else "unchanged"
            result.message = f"imported {imported.version.label} ({imported.version.entity_count} entities)"
        if result.kept is None:
            result.kept = _keep(tmp, list_dir, opts.keep)
        state.remember(name, result.kept, root, source.files, result.files)
        state.save()
        return result
    except ClearanceError as exc:
        result.message = _parse_message(exc, source) if isinstance(exc, ParseError) else str(exc)
        failed = _keep_failed(tmp, list_dir) if arrived else None
        if failed is not None:
            result.message += f" (the download is kept in {failed})"
        return result
    except OSError as exc:
        result.message = f"cannot write the download under {root}: {exc}"
        return result
    except Exception as exc:  # noqa: BLE001 - a bug in one reader must not stop the other lists
        result.message = f"unexpected error while updating {name}: {type(exc).__name__}: {exc}"
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


def _same_files(a: Path, b: Path) -> bool:
    return content_hash(_files_in(a)) == content_hash(_files_in(b))


def _version_with_hash(store: Store, list_name: str, digest: str) -> ListVersion | None:
    return next((v for v in store.versions(list_name) if v.content_hash == digest), None)


def _parse_message(exc: ParseError, source: Source) -> str:
    """A reader's complaint, naming the URL the file came from instead of the temporary path."""
    if exc.path is None:
        return f"{source.list_name}: {exc}"
    name = Path(exc.path).name
    url = next((f.url for f in source.files if f.save_as == name), None)
    where = [f"{url} (saved as {name})" if url else name]
    if exc.line is not None:
        where.append(f"line {exc.line}")
    if exc.field is not None:
        where.append(f"field {exc.field!r}")
    return f"{', '.join(where)}: {exc.reason}"


def _download_progress(name: str, progress: UpdateProgress | None) -> Callable[[str, int, int | None], None]:
    def report(url: str, done: int, total: int | None) -> None:
        if progress is not None:
            progress(ProgressEvent(name, "download", done, total, url))

    return report


def _import_progress(name: str, progress: UpdateProgress | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(ProgressEvent(name, "import", done, total))


# --------------------------------------------------------------------------------------------------
# Keeping files


def _keep(tmp: Path, list_dir: Path, keep: int | None) -> Path:
    """Move the verified download to ``<list>/<UTC timestamp>/`` and prune the oldest beyond ``keep``."""
    list_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = list_dir / stamp
    n = 1
    while target.exists():
        n += 1
        target = list_dir / f"{stamp}-{n}"
    kept = tmp.rename(target)
    tmp.mkdir()  # the caller removes it
    if keep is not None:
        snapshots = sorted(p for p in list_dir.iterdir() if p.is_dir() and p.name[:1].isdigit())
        for old in snapshots[: max(0, len(snapshots) - keep)]:
            if old != kept:
                shutil.rmtree(old, ignore_errors=True)
    return kept


def _keep_failed(tmp: Path, list_dir: Path) -> Path | None:
    """Keep a download that failed verification in ``<list>/failed/`` (replacing the previous one)."""
    try:
        list_dir.mkdir(parents=True, exist_ok=True)
        target = list_dir / "failed"
        shutil.rmtree(target, ignore_errors=True)
        kept = tmp.rename(target)
        tmp.mkdir()
        return kept
    except OSError:
        return None


def _remove_stale_temporaries(root: Path) -> None:
    """Temporary directories left by a run that crashed (we hold the lock, so none is in use)."""
    for path in root.glob("tmp-*"):
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One update at a time per home folder (an advisory lock; a no-op where fcntl is unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DownloadError(
                f"another list update is running (it holds {lock_path}); try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------
# Remembered validators (home/downloads.json)


class _State:
    """Per URL, the ETag / Last-Modified of the file last imported; per list, where those files are kept."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.files: dict[str, dict[str, Any]] = data.get("files", {})
        self.lists: dict[str, dict[str, Any]] = data.get("lists", {})

    @classmethod
    def load(cls, path: Path) -> _State:
        try:
            data = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            data = {}
        except (OSError, orjson.JSONDecodeError):
            # a damaged state file costs one unconditional download, nothing more
            data = {}
        if not isinstance(data, dict) or data.get("format") != _STATE_FORMAT:
            data = {}
        return cls(path, data)

    def last_good(self, list_name: str, root: Path) -> Path | None:
        entry = self.lists.get(list_name)
        if not entry or not entry.get("kept"):
            return None
        path = root / str(entry["kept"])
        return path if path.is_dir() else None

    def validators(self, url: str) -> dict[str, str]:
        entry = self.files.get(url, {})
        return {k: str(entry[k]) for k in ("etag", "last_modified") if entry.get(k)}

    def touch(self, list_name: str) -> None:
        self.lists.setdefault(list_name, {})["checked_at"] = _now()

    def remember(
        self,
        list_name: str,
        kept: Path,
        root: Path,
        files: Sequence[SourceFile],
        outcomes: Sequence[FileOutcome],
    ) -> None:
        now = _now()
        self.lists[list_name] = {
            "kept": kept.relative_to(root).as_posix(),
            "checked_at": now,
            "updated_at": now,
        }
        for file, outcome in zip(files, outcomes, strict=True):
            if outcome.missing:
                self.files.pop(file.url, None)
                continue
            if outcome.not_modified:
                self.files.setdefault(file.url, {})["checked_at"] = now
                continue
            path = kept / file.save_as
            self.files[file.url] = {
                "list": list_name,
                "save_as": file.save_as,
                "etag": outcome.etag,
                "last_modified": outcome.last_modified,
                "size": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "downloaded_at": now,
            }

    def save(self) -> None:
        """Write atomically: a temporary file beside the target, flushed, then renamed over it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": _STATE_FORMAT, "files": self.files, "lists": self.lists}
        fd, tmp_name = tempfile.mkstemp(prefix=".downloads-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------------
# Fetching one file


#: statuses worth another try: the server is overloaded, restarting or rate-limiting us
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class _Retry(Exception):
    """A transient failure: the fetch is tried again after a pause (``retry_after`` if the server said)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _ReadTimeout:
    """Connects within the connect timeout, then waits at most ``read_timeout`` for each read."""

    sock: Any

    def __init__(self, *args: Any, read_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timeout = read_timeout

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock.settimeout(self._read_timeout)


class _HTTPConnection(_ReadTimeout, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_ReadTimeout, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self._read_timeout = read_timeout

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            return _HTTPConnection(host, read_timeout=self._read_timeout, **kwargs)

        return self.do_open(connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout: float) -> None:
        self._ssl_context = ssl.create_default_context()
        super().__init__(context=self._ssl_context)
        self._read_timeout = read_timeout

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            return _HTTPSConnection(host, read_timeout=self._read_timeout, **kwargs)

        return self.do_open(connection, req, context=self._ssl_context)


class _Fetcher:
    """Downloads single files with urllib: timeouts, retries, conditional requests, size limits, gzip."""

    def __init__(self, opts: DownloadOptions, sleep: Callable[[float], None] = time.sleep) -> None:
        self.opts = opts
        self.sleep = sleep
        # the default ProxyHandler stays: http_proxy / https_proxy / no_proxy are honoured
        self.opener = urllib.request.build_opener(
            _HTTPHandler(opts.read_timeout), _HTTPSHandler(opts.read_timeout)
        )

    def fetch(
        self,
        file: SourceFile,
        dest: Path,
        validators: Mapping[str, str],
        outcome: FileOutcome,
        report: Callable[[str, int, int | None], None],
    ) -> None:
        """Save ``file`` to ``dest`` (or mark ``outcome`` not modified / missing); DownloadError if not."""
        attempts = max(1, self.opts.attempts)
        for attempt in range(1, attempts + 1):
            outcome.attempts = attempt
            try:
                self._fetch_once(file, dest, validators, outcome, report)
                return
            except _Retry as exc:
                if attempt == attempts:
                    tries = f"{attempt} attempt" + ("s" if attempt > 1 else "")
                    raise DownloadError(f"{file.url}: {exc} (gave up after {tries})") from None
                self.sleep(self._delay(attempt, exc.retry_after))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, self.opts.retry_after_cap))
        delay = min(self.opts.backoff * 2.0 ** (attempt - 1), self.opts.backoff_max)
        return delay * (0.5 + random.random() / 2)  # jitter, so many clients do not retry in step

    def _fetch_once(
        self,
        file: SourceFile,
        dest: Path,
        validators: Mapping[str, str],
        outcome: FileOutcome,
        report: Callable[[str, int, int | None], None],
    ) -> None:
        url, opts = file.url, self.opts
        headers = {"User-Agent": opts.user_agent, "Accept": "*/*", "Accept-Encoding": "gzip"}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        request = urllib.request.Request(url, headers=headers)
        try:
            response = self.opener.open(request, timeout=opts.connect_timeout)
        except urllib.error.HTTPError as exc:
            outcome.http_status = exc.code
            exc.close()
            if exc.code == 304 and validators:
                outcome.not_modified = True
                return
            if exc.code in (404, 410) and file.optional:
                outcome.missing = True
                return
            status = f"HTTP {exc.code} {exc.reason}".rstrip()
            if exc.code in RETRY_STATUSES:
                raise _Retry(status, _retry_after(exc.headers.get("Retry-After"))) from None
            raise DownloadError(f"{url}: {status}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise DownloadError(f"{url}: the server's TLS certificate is not valid: {reason}") from None
            if isinstance(reason, TimeoutError):
                raise _Retry(f"no connection within {opts.connect_timeout:g} s") from None
            raise _Retry(f"cannot connect: {reason}") from None
        except TimeoutError:
            raise _Retry(f"no response within {opts.read_timeout:g} s") from None
        except (http.client.HTTPException, OSError) as exc:
            raise _Retry(f"connection failed before the response: {exc!r}") from None

        with response:
            outcome.http_status = response.status
            final = response.geturl()
            if urlsplit(url).scheme == "https" and urlsplit(final).scheme != "https":
                raise DownloadError(f"{url}: redirected to {final}, which is not HTTPS; refused")
            if response.status != 200:
                raise DownloadError(f"{url}: unexpected HTTP {response.status} {response.reason}")
            coding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
            if coding not in ("identity", "gzip", "x-gzip"):
                raise DownloadError(
                    f"{url}: the server sent Content-Encoding {coding!r}, which is not supported"
                )
            length = _content_length(response.headers.get("Content-Length"))
            if length is not None and length > file.max_bytes:
                raise DownloadError(
                    f"{url}: Content-Length {length} exceeds the limit of {file.max_bytes} bytes"
                    f" for {file.save_as}; download refused"
                )
            outcome.etag = response.headers.get("ETag")
            outcome.last_modified = response.headers.get("Last-Modified")
            self._stream(response, dest, file, length, coding != "identity", outcome, report)

    def _stream(
        self,
        response: http.client.HTTPResponse,
        dest: Path,
        file: SourceFile,
        length: int | None,
        gzipped: bool,
        outcome: FileOutcome,
        report: Callable[[str, int, int | None], None],
    ) -> None:
        url, limit = file.url, file.max_bytes
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
        received = written = 0
        deadline = time.monotonic() + self.opts.total_timeout

        def too_big() -> DownloadError:
            return DownloadError(
                f"{url}: more than {limit} bytes, the limit for {file.save_as}; download aborted"
            )

        with open(dest, "wb") as out:
            while True:
                try:
                    chunk = response.read1(_CHUNK)  # whatever has arrived, not a full chunk
                except TimeoutError:
                    raise _Retry(
                        f"read timed out: nothing received for {self.opts.read_timeout:g} s"
                        f" after {received} bytes" + (f" of {length}" if length is not None else "")
                    ) from None
                except http.client.IncompleteRead as exc:
                    received += len(exc.partial)
                    outcome.bytes += len(exc.partial)
                    raise _Retry(f"truncated: the connection closed after {received} bytes") from None
                except (http.client.HTTPException, OSError) as exc:
                    raise _Retry(f"connection lost after {received} bytes: {exc!r}") from None
                if not chunk:
                    break
                received += len(chunk)
                outcome.bytes += len(chunk)
                data = chunk
                if inflate is not None:
                    try:
                        data = inflate.decompress(chunk, limit - written + 1)
                    except zlib.error as exc:
                        raise DownloadError(f"{url}: the gzip-encoded body is corrupt: {exc}") from None
                    if inflate.unconsumed_tail:
                        raise too_big()
                written += len(data)
                if written > limit:
                    raise too_big()
                out.write(data)
                report(url, received, length)
                if time.monotonic() > deadline:
                    raise DownloadError(
                        f"{url}: still downloading after {self.opts.total_timeout:g} s"
                        f" ({received} bytes so far); aborted"
                    )
            if length is not None and received < length:
                raise _Retry(f"truncated: got {received} of {length} bytes")
            if inflate is not None:
                if not inflate.eof:
                    raise _Retry(f"truncated: the gzip stream ends early after {received} bytes")
                if inflate.unused_data.strip(b"\0"):
                    raise DownloadError(f"{url}: unexpected data after the end of the gzip stream")


def _content_length(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        length = int(value.strip())
    except ValueError:
        return None
    return length if length >= 0 else None


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --------------------------------------------------------------------------------------------------
# Verifying what arrived

_KIND_NAMES = {"csv": "CSV", "tsv": "tab-separated text", "xml": "XML"}
_BOMS = (b"\xef\xbb\xbf",)
_HTML_START = re.compile(
    rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|html|head|body|title|meta|div|h1|p|br|center|pre)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_ANYWHERE = re.compile(rb"<(?:!doctype\s+html|html|body)\b", re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def _verify(path: Path, file: SourceFile, encoding: str) -> None:
    """DownloadError unless ``path`` is plausibly a ``file.kind`` document in ``encoding``."""
    url, kind = file.url, _KIND_NAMES[file.kind]
    data = path.read_bytes()
    if not data.strip(b" \t\r\n\x00\x1a"):
        raise DownloadError(f"{url}: the server sent an empty file ({len(data)} bytes) instead of {kind}")
    head = data[:_SNIFF]
    for bom in _BOMS:
        head = head.removeprefix(bom)
    stripped = head.lstrip()
    if _HTML_START.match(stripped) or (file.kind != "xml" and _HTML_ANYWHERE.search(stripped)):
        title = _TITLE.search(head)
        what = ""
        if title:
            text = " ".join(title.group(1).decode("utf-8", "replace").split())
            what = f" (title: {text[:80]!r})" if text else ""
        raise DownloadError(f"{url}: HTML error page instead of {kind}{what}")
    if file.kind != "xml" and stripped[:1] == b"{":
        raise DownloadError(f"{url}: a JSON document instead of {kind}: {_preview(stripped)}")
    label = _encoding_label(encoding)
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    if utf16 and not label.startswith("UTF-16"):
        raise DownloadError(f"{url}: UTF-16 text (it starts with a byte order mark) instead of {label}")
    if b"\x00" in head and not label.startswith(("UTF-16", "UTF-32")):
        at = head.index(b"\x00")
        raise DownloadError(
            f"{url}: NUL byte at byte {at}: binary data or UTF-16 without a byte order mark, not {label}"
        )
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DownloadError(
            f"{url}: not valid {label} at byte {exc.start} (line {line}, byte {data[exc.start]:#04x})"
        ) from None
    if file.kind == "xml" and stripped[:1] != b"<":
        raise DownloadError(f"{url}: not XML: it starts with {_preview(stripped)}")


def _encoding_label(encoding: str) -> str:
    import codecs

    name = codecs.lookup(encoding).name
    return name.upper() if name.startswith("utf") else name


def _preview(data: bytes) -> str:
    return repr(data[:60].decode("utf-8", "replace"))
