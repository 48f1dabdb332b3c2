"""`clearance lists update`: downloads from a real HTTP server on 127.0.0.1, good and misbehaving."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.errors import DownloadError, ParseError
from clearance.lists import download, registry
from clearance.lists.base import ParsedList, read_text, require_nonempty
from clearance.lists.download import (
    DownloadOptions,
    ProgressEvent,
    Source,
    SourceFile,
    load_sources,
    update_lists,
)
from clearance.model import Entity
from clearance.settings import Settings
from clearance.store.sqlite import SQLiteStore
from tests.conftest import FIXTURES, shared_path

FAST = DownloadOptions(
    connect_timeout=0.5,
    read_timeout=0.5,
    total_timeout=5.0,
    attempts=3,
    backoff=0.01,
    backoff_max=0.02,
    retry_after_cap=0.2,
)

# --------------------------------------------------------------------------------------------------
# A small HTTP server whose answers each test scripts

Respond = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class Server:
    url: str
    routes: dict[str, list[Respond]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def route(self, path: str, *answers: Respond) -> None:
        """Answer ``path`` with ``answers`` in turn; the last one repeats."""
        self.routes[path] = list(answers)

    def requests_for(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
            answers = state.routes.get(self.path)
            if not answers:
                return status(404)(self)
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            answer(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()


def ok(
    body: bytes,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    headers: dict[str, str] | None = None,
    length: bool = True,
) -> Respond:
    """200 with ``body``; 304 when the request's validators match (as a well-behaved server does)."""

    def respond(h: BaseHTTPRequestHandler) -> None:
        if (etag and h.headers.get("If-None-Match") == etag) or (
            last_modified and h.headers.get("If-Modified-Since") == last_modified
        ):
            h.send_response(304)
            if etag:
                h.send_header("ETag", etag)
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        if length:
            h.send_header("Content-Length", str(len(body)))
        if etag:
            h.send_header("ETag", etag)
        if last_modified:
            h.send_header("Last-Modified", last_modified)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)

    return respond


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Respond:
    def respond(h: BaseHTTPRequestHandler) -> None:
        h.send_response(code)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return respond


def truncated(body: bytes, claimed: int) -> Respond:
    """Announces ``claimed`` bytes, sends ``body`` (fewer), and closes the connection."""

    def respond(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(claimed))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        h.close_connection = True

    return respond


def stall(server: Server, *, after_headers: bool, seconds: float = 3.0) -> Respond:
    """Says nothing (or sends headers and a little of the body, then nothing) for ``seconds``."""

    def respond(h: BaseHTTPRequestHandler) -> None:
        if after_headers:
            h.send_response(200)
            h.send_header("Content-Length", "1000")
            h.end_headers()
            h.wfile.write(b"1,STALLED\n")
            h.wfile.flush()
        server.release.wait(seconds)

    return respond


# --------------------------------------------------------------------------------------------------
# A real (tiny) reader for a custom list, so the download mechanics are tested apart from the
# official formats: one "id,name" pair a line.


def read_lines(files: Sequence[Path], list_name: str) -> ParsedList:
    entities = []
    for path in files:
        text = read_text(path, "utf-8")
        require_nonempty(path, text)
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            native, sep, name = line.partition(",")
            if not sep or not native.strip().isdigit() or not name.strip():
                raise ParseError("expected 'id,name'", path=path, line=number)
            entities.append(Entity(f"{list_name}:{native.strip()}", "Organization", {"name": [name.strip()]}))
    return ParsedList(entities)


def read_broken(files: Sequence[Path], list_name: str) -> ParsedList:
    raise ValueError("a bug in the reader")


@pytest.fixture(autouse=True)
def line_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.FORMATS, "test-lines", f"{__name__}:read_lines")
    monkeypatch.setitem(registry.FORMATS, "test-broken", f"{__name__}:read_broken")


LIST = "custom-dl"
BODY = b"1,ACME TRADING LLC\n2,GLOBEX SHIPPING\n"


def line_source(server: Server, name: str = LIST, *, max_bytes: int = 10_000, **extra: SourceFile) -> Source:
    files = [SourceFile(f"{name}/list.csv", "list.csv", "csv", max_bytes)]
    return Source(
        name, "test-lines", tuple(files) + tuple(extra.values()), base_url=f"{server.url}/"
    ).rebased(f"{server.url}/")


@dataclass
class Env:
    home: Path
    store: SQLiteStore
    settings: Settings

    def update(
        self,
        *sources: Source,
        options: DownloadOptions = FAST,
        progress: Callable[[ProgressEvent], None] | None = None,
    ) -> list[download.UpdateResult]:
        return update_lists(
            self.store,
            self.settings,
            [s.list_name for s in sources],
            sources={s.list_name: s for s in sources},
            options=options,
            progress=progress,
        )

    def state(self) -> dict[str, object]:
        return orjson.loads((self.home / "downloads.json").read_bytes())  # type: ignore[no-any-return]

    def kept(self, name: str = LIST) -> list[Path]:
        folder = self.home / "downloads" / name
        return sorted(p for p in folder.iterdir() if p.name[:1].isdigit()) if folder.exists() else []


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    home = tmp_path / "home"
    store = SQLiteStore(home / "clearance.sqlite3")
    yield Env(home, store, Settings(home=home))
    store.close()


def first_import(env: Env, server: Server) -> download.UpdateResult:
    """A successful first update, so the failure tests can check the active version stays."""
    server.route(f"/{LIST}/list.csv", ok(BODY, etag='"v1"'))
    [result] = env.update(line_source(server))
    assert result.status == "updated", result.message
    return result


def assert_failed_and_untouched(
    env: Env, result: download.UpdateResult, before: download.UpdateResult, *needles: str
) -> None:
    assert result.status == "failed"
    assert result.version is None
    for needle in needles:
        assert needle in result.message, result.message
    active = env.store.active_version(LIST)
    assert active is not None and before.version is not None
    assert active.id == before.version.id
    assert len(env.store.versions(LIST)) == 1
    assert env.kept() == [before.kept]
    assert env.state()["files"][f"{line_url(before)}"]["etag"] == '"v1"'  # type: ignore[index]
    assert not list((env.home / "downloads").glob("tmp-*"))


def line_url(result: download.UpdateResult) -> str:
    return result.files[0].url


# --------------------------------------------------------------------------------------------------
# Success, conditional requests, unchanged content


def test_first_update_imports_the_list_and_keeps_the_files(env: Env, server: Server) -> None:
    events: list[ProgressEvent] = []
    server.route(f"/{LIST}/list.csv", ok(BODY, etag='"v1"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT"))
    [result] = env.update(line_source(server), progress=events.append)
    assert result.status == "updated", result.message
    assert result.version is not None and result.version.entity_count == 2
    assert env.store.active_version(LIST) == result.version
    assert result.bytes_downloaded == len(BODY)
    assert result.kept is not None and (result.kept / "list.csv").read_bytes() == BODY
    assert result.kept.parent == env.home / "downloads" / LIST
    state = env.state()
    entry = state["files"][f"{server.url}/{LIST}/list.csv"]  # type: ignore[index]
    assert entry["etag"] == '"v1"' and entry["last_modified"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert {e.stage for e in events} >= {"download", "done"}
    assert not list((env.home / "downloads").glob("tmp-*"))
    assert "If-None-Match" not in server.seen[0].headers and "if-none-match" not in server.seen[0].headers


def test_second_update_sends_the_etag_and_a_304_means_unchanged(env: Env, server: Server) -> None:
    first = first_import(env, server)
    [again] = env.update(line_source(server))
    request = server.requests_for(f"/{LIST}/list.csv")[-1]
    assert request.headers.get("if-none-match") == '"v1"'
    assert again.status == "unchanged", again.message
    assert again.files[0].not_modified and again.files[0].http_status == 304
    assert again.bytes_downloaded == 0
    assert again.version == first.version
    assert len(env.store.versions(LIST)) == 1
    assert env.kept() == [first.kept]


def test_if_modified_since_is_sent_when_the_server_gives_only_last_modified(env: Env, server: Server) -> None:
    stamp = "Tue, 07 Jul 2021 12:00:00 GMT"
    server.route(f"/{LIST}/list.csv", ok(BODY, last_modified=stamp))
    env.update(line_source(server))
    [again] = env.update(line_source(server))
    assert server.requests_for(f"/{LIST}/list.csv")[-1].headers.get("if-modified-since") == stamp
    assert again.status == "unchanged"


def test_a_304_reimports_the_kept_files_when_the_store_lost_the_version(env: Env, server: Server) -> None:
    first_import(env, server)
    env.store.close()
    (env.home / "clearance.sqlite3").unlink()
    env.store = SQLiteStore(env.home / "clearance.sqlite3")
    [again] = env.update(line_source(server))
    assert again.files[0].not_modified
    assert again.status == "updated" and again.version is not None and again.version.entity_count == 2


def test_new_content_becomes_a_new_version_and_is_kept_beside_the_old(env: Env, server: Server) -> None:
    first = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(BODY + b"3,INITECH\n", etag='"v2"'))
    [second] = env.update(line_source(server))
    assert second.status == "updated" and second.version is not None
    assert second.version.entity_count == 3
    assert env.store.active_version(LIST) == second.version
    assert env.kept() == sorted([first.kept, second.kept])  # type: ignore[type-var]
    assert env.state()["files"][line_url(second)]["etag"] == '"v2"'  # type: ignore[index]


def test_same_content_without_validators_is_unchanged_and_not_kept_twice(env: Env, server: Server) -> None:
    server.route(f"/{LIST}/list.csv", ok(BODY))
    [first] = env.update(line_source(server))
    [again] = env.update(line_source(server))
    assert again.status == "unchanged" and again.version == first.version
    assert again.bytes_downloaded == len(BODY)
    assert env.kept() == [first.kept]


def test_only_the_newest_snapshots_are_kept(env: Env, server: Server) -> None:
    for n in range(4):
        server.route(f"/{LIST}/list.csv", ok(BODY + f"{10 + n},NEW {n}\n".encode()))
        env.update(line_source(server), options=replace(FAST, keep=2))
    kept = env.kept()
    assert len(kept) == 2
    assert b"13,NEW 3" in (kept[-1] / "list.csv").read_bytes()
    assert len(env.store.versions(LIST)) == 4


def test_gzip_transfer_encoding_is_decoded(env: Env, server: Server) -> None:
    packed = gzip.compress(BODY)
    server.route(f"/{LIST}/list.csv", ok(packed, headers={"Content-Encoding": "gzip"}))
    [result] = env.update(line_source(server))
    assert result.status == "updated", result.message
    assert result.bytes_downloaded == len(packed)
    assert result.kept is not None and (result.kept / "list.csv").read_bytes() == BODY
    assert "gzip" in server.seen[0].headers.get("accept-encoding", "")


def test_an_optional_file_the_server_lacks_is_a_warning(env: Env, server: Server) -> None:
    extra = SourceFile(f"{LIST}/notes.csv", "notes.csv", "csv", 1000, optional=True)
    server.route(f"/{LIST}/list.csv", ok(BODY))
    [result] = env.update(line_source(server, extra=extra))
    assert result.status == "updated", result.message
    assert result.files[1].missing
    assert any("notes.csv" in w and "404" in w for w in result.warnings)


def test_one_list_failing_does_not_stop_the_others(env: Env, server: Server) -> None:
    server.route("/custom-bad/list.csv", status(403, b"forbidden"))
    server.route("/custom-good/list.csv", ok(BODY))
    bad, good = env.update(line_source(server, "custom-bad"), line_source(server, "custom-good"))
    assert bad.status == "failed" and "HTTP 403" in bad.message and "/custom-bad/list.csv" in bad.message
    assert bad.files[0].attempts == 1  # a 403 is not worth retrying
    assert good.status == "updated"
    assert env.store.active_version("custom-bad") is None


def test_a_file_not_modified_is_taken_from_the_kept_copy_when_another_changed(
    env: Env, server: Server
) -> None:
    extra = SourceFile(f"{LIST}/more.csv", "more.csv", "csv", 1000)
    server.route(f"/{LIST}/list.csv", ok(BODY, etag='"list-1"'))
    server.route(f"/{LIST}/more.csv", ok(b"7,UMBRELLA CORP\n", etag='"more-1"'))
    [first] = env.update(line_source(server, extra=extra))
    server.route(f"/{LIST}/more.csv", ok(b"7,UMBRELLA CORP\n8,HOOLI\n", etag='"more-2"'))
    [second] = env.update(line_source(server, extra=extra))
    assert [f.not_modified for f in second.files] == [True, False]
    assert second.status == "updated" and second.version is not None
    assert second.version.entity_count == 4
    assert second.kept is not None and second.kept != first.kept
    assert (second.kept / "list.csv").read_bytes() == BODY
    assert env.state()["files"][f"{server.url}/{LIST}/more.csv"]["etag"] == '"more-2"'  # type: ignore[index]


def test_a_second_update_at_the_same_time_is_refused(env: Env, server: Server) -> None:
    import fcntl

    (env.home / "downloads").mkdir(parents=True)
    with open(env.home / "downloads" / ".lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(DownloadError, match="another list update is running"):
            env.update(line_source(server))
    assert server.seen == []


def test_a_crashing_reader_fails_its_list_only(env: Env, server: Server) -> None:
    server.route("/custom-crash/list.csv", ok(BODY))
    server.route("/custom-good/list.csv", ok(BODY))
    crashing = replace(line_source(server, "custom-crash"), format="test-broken")
    crash, good = env.update(crashing, line_source(server, "custom-good"))
    assert crash.status == "failed" and "ValueError: a bug in the reader" in crash.message
    assert env.store.active_version("custom-crash") is None
    assert good.status == "updated"


# --------------------------------------------------------------------------------------------------
# Failures: each leaves the active version, the kept files and the remembered validators alone


def test_a_500_is_retried_and_a_later_success_imports(env: Env, server: Server) -> None:
    server.route(f"/{LIST}/list.csv", status(500), status(503), ok(BODY))
    [result] = env.update(line_source(server))
    assert result.status == "updated", result.message
    assert result.files[0].attempts == 3


def test_a_persistent_500_fails_after_the_last_attempt(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", status(500, b"oops"))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(
        env, result, before, f"{server.url}/{LIST}/list.csv", "HTTP 500", "gave up after 3 attempts"
    )
    assert len(server.requests_for(f"/{LIST}/list.csv")) == 1 + 3


def test_retry_after_is_honoured_up_to_the_cap(env: Env, server: Server) -> None:
    server.route(f"/{LIST}/list.csv", status(429, headers={"Retry-After": "30"}), ok(BODY))
    started = time.monotonic()
    [result] = env.update(line_source(server))
    elapsed = time.monotonic() - started
    assert result.status == "updated", result.message
    assert FAST.retry_after_cap <= elapsed < 5  # waited the cap (0.2 s), not the 30 s asked for


def test_a_truncated_body_says_how_much_arrived(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", truncated(b"1,ACME", 1000))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(env, result, before, "truncated: got 6 of 1000 bytes", "list.csv")
    assert result.bytes_downloaded == 3 * 6


def test_an_html_error_page_sent_with_200_is_refused(env: Env, server: Server) -> None:
    before = first_import(env, server)
    page = (
        b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head><body>Try later</body></html>"
    )
    server.route(f"/{LIST}/list.csv", ok(page, headers={"Content-Type": "text/csv"}))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(env, result, before, "HTML error page instead of CSV", "Service Unavailable")
    assert (env.home / "downloads" / LIST / "failed" / "list.csv").read_bytes() == page
    assert result.kept is None


def test_an_html_page_instead_of_xml_is_refused(env: Env, server: Server) -> None:
    page = b'<?xml version="1.0"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>Maintenance</body></html>'
    source = replace(
        line_source(server),
        files=(SourceFile(f"{LIST}/list.xml", "list.xml", "xml", 1000, base_url=f"{server.url}/"),),
    )
    server.route(f"/{LIST}/list.xml", ok(page))
    [result] = env.update(source)
    assert result.status == "failed" and "HTML error page instead of XML" in result.message


def test_utf16_text_is_refused(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(BODY.decode().encode("utf-16")))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(env, result, before, "UTF-16", "instead of UTF-8")


def test_an_invalid_utf8_byte_is_reported_with_its_offset(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(b"1,ACME\n2,CAF\xe9 NOIR\n"))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(env, result, before, "not valid UTF-8 at byte 12", "line 2")


def test_an_announced_oversize_body_is_refused_before_downloading(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(b"9,X\n" * 5000))
    [result] = env.update(line_source(server, max_bytes=10_000))
    assert_failed_and_untouched(env, result, before, "Content-Length 20000 exceeds the limit of 10000 bytes")
    assert result.bytes_downloaded == 0


def test_an_oversize_body_without_length_is_aborted_while_streaming(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(b"9,X\n" * 50_000, length=False))
    [result] = env.update(line_source(server, max_bytes=10_000))
    assert_failed_and_untouched(env, result, before, "more than 10000 bytes", "aborted")
    assert result.bytes_downloaded < 200_000


def test_a_gzip_bomb_is_stopped_at_the_limit(env: Env, server: Server) -> None:
    before = first_import(env, server)
    bomb = gzip.compress(b"0" * 5_000_000)
    server.route(f"/{LIST}/list.csv", ok(bomb, headers={"Content-Encoding": "gzip"}))
    [result] = env.update(line_source(server, max_bytes=10_000))
    assert_failed_and_untouched(env, result, before, "more than 10000 bytes")


def test_an_unsupported_content_encoding_is_refused(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(b"\x0b\x02\x80", headers={"Content-Encoding": "br"}))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(env, result, before, "Content-Encoding 'br'")


def test_a_server_that_stalls_mid_body_times_out(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", stall(server, after_headers=True))
    started = time.monotonic()
    [result] = env.update(line_source(server), options=replace(FAST, attempts=2))
    assert time.monotonic() - started < 3
    assert_failed_and_untouched(
        env, result, before, "read timed out", "after 10 bytes of 1000", "gave up after 2 attempts"
    )


def test_a_server_that_never_answers_times_out(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", stall(server, after_headers=False))
    [result] = env.update(line_source(server), options=replace(FAST, attempts=1))
    assert_failed_and_untouched(env, result, before, "no response within 0.5 s", "gave up after 1 attempt")


def test_a_refused_connection_is_reported(env: Env, server: Server) -> None:
    before = first_import(env, server)
    dead = line_source(server).rebased("http://127.0.0.1:9/")
    [result] = env.update(dead, options=replace(FAST, attempts=2))
    assert result.status == "failed"
    assert "http://127.0.0.1:9/custom-dl/list.csv: cannot connect" in result.message
    assert env.store.active_version(LIST) == before.version


def test_an_empty_file_is_refused(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(b"\r\n"))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(env, result, before, "empty file")


def test_a_file_the_reader_rejects_fails_naming_url_and_line(env: Env, server: Server) -> None:
    before = first_import(env, server)
    server.route(f"/{LIST}/list.csv", ok(b"1,ACME\nnot a record\n", etag='"bad"'))
    [result] = env.update(line_source(server))
    assert_failed_and_untouched(
        env, result, before, f"{server.url}/{LIST}/list.csv", "line 2", "expected 'id,name'"
    )
    failed = env.home / "downloads" / LIST / "failed" / "list.csv"
    assert failed.read_bytes() == b"1,ACME\nnot a record\n"
    assert str(failed.parent) in result.message


def test_a_missing_required_file_fails_the_list(env: Env, server: Server) -> None:
    before = first_import(env, server)
    extra = SourceFile(f"{LIST}/more.csv", "more.csv", "csv", 1000)
    [result] = env.update(line_source(server, extra=extra))
    assert result.status == "failed" and "more.csv: HTTP 404" in result.message
    assert env.store.active_version(LIST) == before.version


# --------------------------------------------------------------------------------------------------
# Sources


def test_packaged_sources_name_the_files_the_readers_expect() -> None:
    sources = load_sources()
    assert {n for n, s in sources.items() if s.enabled} == {"ofac-sdn", "ofac-cons", "un-sc", "bis-dpl"}
    for name, source in sources.items():
        assert all(f.url.startswith("https://") for f in source.files)
        if source.enabled:
            assert source.format == registry.KNOWN_LISTS[name]
    saved = {n: {f.save_as: f.optional for f in s.files} for n, s in sources.items()}
    assert saved["ofac-sdn"] == {
        "sdn.csv": False,
        "add.csv": False,
        "alt.csv": False,
        "sdn_comments.csv": True,
    }
    assert set(saved["ofac-cons"]) == {"cons_prim.csv", "cons_add.csv", "cons_alt.csv", "cons_comments.csv"}
    assert sources["ofac-sdn"].files[0].url.endswith("/api/PublicationPreview/exports/SDN.CSV")
    assert [f.kind for f in sources["un-sc"].files] == ["xml"]
    assert [f.kind for f in sources["bis-dpl"].files] == ["tsv"]


def test_the_disabled_csl_source_is_refused_when_asked_for(env: Env) -> None:
    with pytest.raises(DownloadError, match="no reader for its format 'trade-csl'"):
        update_lists(env.store, env.settings, ["trade-csl"])


def test_an_unknown_list_is_refused_naming_the_known_ones(env: Env) -> None:
    with pytest.raises(DownloadError, match="no download source for list 'eu-fsf'.*ofac-sdn"):
        update_lists(env.store, env.settings, ["eu-fsf"])


def test_clearance_sources_points_at_another_sources_file(
    env: Env, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "sources.yaml"
    other.write_text(
        f"lists:\n  {LIST}:\n    format: test-lines\n    base_url: {server.url}/mirror/\n"
        "    files:\n      - {path: LIST.CSV, save_as: list.csv, kind: csv, max_bytes: 1000}\n"
    )
    monkeypatch.setenv("CLEARANCE_SOURCES", str(other))
    server.route("/mirror/LIST.CSV", ok(BODY))
    [result] = update_lists(env.store, env.settings, options=FAST)
    assert result.list_name == LIST and result.status == "updated", result.message


def test_a_malformed_sources_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text(
        "lists:\n  x-list:\n    base_url: https://example.org/\n    files:\n      - {path: a, kind: pdf}\n"
    )
    with pytest.raises(ParseError, match="kind 'pdf'") as info:
        load_sources(bad)
    assert info.value.field == "kind" and info.value.path == str(bad)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["csv", "tsv", "xml"]))
def test_verification_never_crashes_on_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, kind: str
) -> None:
    path = tmp_path_factory.mktemp("v") / "f"
    path.write_bytes(data)
    try:
        download._verify(path, SourceFile("f", "f", kind, 1000, base_url="http://x/"), "utf-8")
    except DownloadError as exc:
        assert str(exc).startswith("http://x/f: ")


# --------------------------------------------------------------------------------------------------
# The official formats, read by their real readers


def serve_files(server: Server, prefix: str, source: Source, folder: Path) -> Source:
    for file in source.files:
        path = folder / file.save_as
        if path.exists():
            server.route(f"/{prefix}/{file.path}", ok(path.read_bytes(), etag=f'"{file.save_as}-1"'))
    return source.rebased(f"{server.url}/{prefix}/")


def test_tiny_ofac_set_downloads_and_imports(env: Env, server: Server) -> None:
    pytest.importorskip("clearance.lists.ofac_csv", reason="the OFAC CSV reader has not landed yet")
    source = serve_files(server, "ofac", load_sources()["ofac-sdn"], FIXTURES / "download" / "ofac-sdn")
    [result] = env.update(source)
    assert result.status == "updated", result.message
    assert result.version is not None and result.version.entity_count >= 3
    assert env.store.entity("ofac-sdn:30502", result.version.id) is not None
    assert sorted(p.name for p in result.kept.iterdir()) == [  # type: ignore[union-attr]
        "add.csv",
        "alt.csv",
        "sdn.csv",
        "sdn_comments.csv",
    ]
    [again] = env.update(source)
    assert again.status == "unchanged" and all(f.not_modified for f in again.files)


@pytest.mark.shared
@pytest.mark.parametrize(
    ("list_name", "folder", "module"),
    [
        ("ofac-sdn", ("data", "lists", "ofac-sdn", "2021-07-07"), "clearance.lists.ofac_csv"),
        ("un-sc", ("data", "lists", "un-sc", "2026-02-27"), "clearance.lists.un_xml"),
        ("bis-dpl", ("data", "lists", "bis-dpl", "2022-09-07"), "clearance.lists.bis_dpl"),
    ],
)
def test_real_lists_download_and_import(
    env: Env, server: Server, list_name: str, folder: tuple[str, ...], module: str
) -> None:
    directory = shared_path(*folder)
    pytest.importorskip(module, reason=f"the reader {module} has not landed yet")
    source = serve_files(server, list_name, load_sources()[list_name], directory)
    [result] = env.update(source)
    assert result.status == "updated", result.message
    assert result.version is not None and result.version.entity_count > 100
    assert result.bytes_downloaded == sum(p.stat().st_size for p in directory.iterdir())
    [again] = env.update(source)
    assert again.status == "unchanged" and again.bytes_downloaded == 0
