"""Batch screening: a file of queries in, one result per query out, in input order, on all cores.

Formats (chosen by file extension or named): JSON lines, CSV and Parquet.

* A query is ``{"id", "name", "schema"?, "birth_date"?, "country"?, "id_numbers"?, "aliases"?}``; other
  fields are ignored (labelled evaluation sets carry ``expect`` and ``family``). In CSV, ``id_numbers`` and
  ``aliases`` are ``;``-separated and an empty cell is an absent value.
* A JSON-lines result is one line per query, ``{"id", "matches": [{"entity_id", "score", "match", "name",
  "schema", "list_version"}, ...]}``, best first, the top candidates even when they are below the
  threshold (``match`` is the screener's verdict at its default threshold).
* A CSV or Parquet result is one row per (query, candidate) with the columns :data:`RESULT_COLUMNS`; a
  query without candidates still gets one row, its candidate columns empty, so every query is accounted for.
* A query that cannot be screened (bad JSON, no name, unknown schema, ...) does not stop the batch: its
  result carries ``"error": "line N: ..."`` (``row N`` for Parquet) and no matches.

The parent loads the screener once from the on-disk index (building and saving it only when it is missing),
then forks worker processes that inherit it, its pages shared copy-on-write, and screen chunks of queries.
Results come back in input order and are byte-for-byte those of a serial run.
"""

from __future__ import annotations

import csv
import gc
import io
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from clearance.errors import ClearanceError, QueryError
from clearance.matching.types import QUERY_SCHEMATA, Match, Query
from clearance.settings import Settings

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from clearance.matching.screener import Screener

FORMATS = ("jsonl", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}

#: Columns of a CSV or Parquet result, one row per (query, candidate).
RESULT_COLUMNS = ("id", "rank", "entity_id", "score", "match", "name", "schema", "list_version", "error")

_MATCH_COLUMNS = RESULT_COLUMNS[1:-1]  # the columns a candidate fills, between "id" and "error"

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_SCHEMATA = {s.lower(): s for s in QUERY_SCHEMATA}

Progress = Callable[[int, int], None]
#: One input record and where it came from: ("line 12" or "row 12", the raw JSON line or a row's fields).
Record = tuple[str, bytes | dict[str, Any]]


def file_format(path: Path, given: str | None = None) -> str:
    """The format of ``path``: ``given`` when set, else by extension (``.jsonl``, ``.csv``, ``.parquet``)."""
    if given is not None:
        if given not in FORMATS:
            raise ClearanceError(f"unknown batch format {given!r}; use one of {', '.join(FORMATS)}")
        return given
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise ClearanceError(
            f"{path}: cannot tell the format from the extension {path.suffix!r};"
            f" name it .jsonl, .csv or .parquet, or pass --format"
        ) from None


# -- queries -----------------------------------------------------------------------------------------


def _text(value: Any, field_name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise QueryError(f"field {field_name!r} must be text, not {type(value).__name__}")
    text = str(value).strip()
    return text or None


def _text_list(value: Any, field_name: str) -> list[str]:
    """A list of strings, or one string of ``;``-separated values (the CSV form)."""
    if value is None:
        return []
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise QueryError(f"field {field_name!r} must be a list or a ';'-separated text")
    out = []
    for item in items:
        text = _text(item, field_name)
        if text is not None:
            out.append(text)
    return out


def query_from_record(data: dict[str, Any]) -> Query:
    """A :class:`Query` from a record of the batch format; :class:`QueryError` saying what is wrong."""
    name = _text(data.get("name"), "name")
    if name is None:
        raise QueryError("the query has no name (field 'name' is missing or empty)")
    schema_given = _text(data.get("schema"), "schema") or "Thing"
    schema = _SCHEMATA.get(schema_given.lower())
    if schema is None:
        raise QueryError(f"unknown schema {schema_given!r}; use one of {', '.join(QUERY_SCHEMATA)}")
    birth_date = _text(data.get("birth_date"), "birth_date")
    if birth_date is not None and not _DATE.match(birth_date):
        raise QueryError(f"birth_date {birth_date!r} is not a date: write 1970, 1970-05 or 1970-05-17")
    return Query(
        name=name,
        schema=schema,
        id=_text(data.get("id"), "id"),
        birth_date=birth_date,
        country=_text(data.get("country"), "country"),
        id_numbers=_text_list(data.get("id_numbers"), "id_numbers"),
        aliases=_text_list(data.get("aliases"), "aliases"),
    )


# -- reading -----------------------------------------------------------------------------------------


def _open_error(path: Path, exc: Exception) -> ClearanceError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ClearanceError(f"{path}: cannot read the query file: {reason}")


def read_records(path: Path, fmt: str) -> tuple[int, Iterator[Record]]:
    """The number of queries in ``path`` and an iterator over them, numbered by line (or Parquet row).

    The file is opened (and for CSV decoded) here, so an unreadable file fails at once, naming it.
    """
    try:
        if fmt == "jsonl":
            with path.open("rb") as f:
                total = sum(1 for line in f if line.strip())
            return total, _jsonl_records(path)
        if fmt == "csv":
            return _csv_records(path)
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        return parquet.metadata.num_rows, _parquet_records(parquet)
    except ClearanceError:
        raise
    except Exception as exc:  # OSError, pyarrow's errors for a file that is not Parquet, ...
        raise _open_error(path, exc) from exc


def _jsonl_records(path: Path) -> Iterator[Record]:
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                yield f"line {number}", line


def _csv_records(path: Path) -> tuple[int, Iterator[Record]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ClearanceError(f"{path}, line {line}: the CSV file is not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or "name" not in reader.fieldnames:
        raise ClearanceError(f"{path}: the CSV file needs a header row with at least a 'name' column")
    records: list[Record] = []
    start = reader.line_num + 1
    for row in reader:
        records.append((f"line {start}", {k: v for k, v in row.items() if k is not None and v != ""}))
        start = reader.line_num + 1
    return len(records), iter(records)


def _parquet_records(parquet: pq.ParquetFile) -> Iterator[Record]:
    number = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            number += 1
            yield f"row {number}", row


# -- screening ---------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ScreenerSpec:
    """Where a (worker) process finds its screener: the home folder, the lists and the day."""

    home: Path
    lists: tuple[str, ...] | None = None
    as_of: date | None = None

    def load(self) -> Screener:
        """The screener over the active versions, from the on-disk index (built and saved if missing)."""
        from clearance.matching.screener import Screener
        from clearance.store import open_store

        settings = Settings.load(self.home)
        store = open_store(settings)
        try:
            return Screener.from_store(
                store, settings, lists=list(self.lists) if self.lists else None, as_of=self.as_of
            )
        finally:
            store.close()

    def index_saved(self) -> bool:
        """Whether the index for these list versions is already on disk (so loading it builds nothing)."""
        from clearance.matching.index import index_key, index_path
        from clearance.store import open_store

        settings = Settings.load(self.home)
        store = open_store(settings)
        try:
            versions = store.active_versions(list(self.lists) if self.lists else None, self.as_of)
        finally:
            store.close()
        return index_path(settings.index_dir, index_key(v.content_hash for v in versions)).exists()


@dataclass(slots=True, frozen=True)
class _Job:
    limit: int
    explain: bool
    output_format: str


@dataclass(slots=True)
class _ChunkResult:
    payload: Any  # JSONL: the encoded lines; CSV/Parquet: rows
    count: int
    failed: int
    matched: int
    errors: list[str]


def _match_dict(m: Match, rank: int, explain: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rank": rank,
        "entity_id": m.entity_id,
        "score": round(m.score, 4),
        "match": m.match,
        "name": m.name,
        "schema": m.schema,
        "list_version": m.list_version,
    }
    if explain:
        out["explanation"] = m.explanation.to_dict()
    return out


def _screen_chunk(screener: Screener, job: _Job, chunk: Sequence[Record]) -> _ChunkResult:
    lines: list[bytes] = []
    rows: list[tuple[Any, ...]] = []
    failed = matched = 0
    errors: list[str] = []
    for where, raw in chunk:
        query_id: str | None = None
        error: str | None = None
        matches: list[Match] = []
        try:
            if isinstance(raw, bytes):
                try:
                    data = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise QueryError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
                if not isinstance(data, dict):
                    raise QueryError("a query must be a JSON object")
            else:
                data = raw
            query_id = _safe_id(data.get("id"))
            matches = screener.screen(query_from_record(data), limit=job.limit, explain=job.explain)
        except ClearanceError as exc:
            error = f"{where}: {exc}"
            failed += 1
            errors.append(error)
        matched += any(m.match for m in matches)
        found = [_match_dict(m, rank, job.explain) for rank, m in enumerate(matches, start=1)]
        if job.output_format == "jsonl":
            result: dict[str, Any] = {"id": query_id, "matches": found}
            if error is not None:
                result["error"] = error
            lines.append(orjson.dumps(result))
        elif found:
            rows.extend((query_id, *(d[c] for c in _MATCH_COLUMNS), None) for d in found)
        else:
            rows.append((query_id, *(None for _ in _MATCH_COLUMNS), error))
    payload: Any = b"".join(line + b"\n" for line in lines) if job.output_format == "jsonl" else rows
    return _ChunkResult(payload, len(chunk), failed, matched, errors)


def _safe_id(value: Any) -> str | None:
    try:
        return _text(value, "id")
    except QueryError:
        return None


# Worker state: set in the parent just before the workers are forked, so they inherit it.
_worker: tuple[Screener, _Job] | None = None


def _worker_chunk(chunk: Sequence[Record]) -> _ChunkResult:
    assert _worker is not None, "the workers were not forked from a parent holding the screener"
    return _screen_chunk(_worker[0], _worker[1], chunk)


def _screen_forked(
    screener: Screener,
    job: _Job,
    n_workers: int,
    chunks: Iterable[list[Record]],
    writer: _Writer,
    report: BatchReport,
    total: int,
    progress: Progress | None,
) -> bool:
    global _worker
    _worker = (screener, job)
    gc.collect()
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(n_workers) as pool:
            return _collect(pool.imap(_worker_chunk, chunks), writer, report, total, progress)
    finally:
        _worker = None
        gc.unfreeze()


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- writing -----------------------------------------------------------------------------------------


class _Writer:
    """Writes chunk payloads to a temporary file and moves it over ``path`` once complete."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._bin: io.BufferedWriter | None = None
        self._text: TextIO | None = None
        self._csv: Any = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        try:
            if fmt == "jsonl":
                self._bin = self.tmp.open("wb")
            elif fmt == "csv":
                self._text = self.tmp.open("w", encoding="utf-8", newline="")
                self._csv = csv.writer(self._text)
                self._csv.writerow(RESULT_COLUMNS)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                self._schema = pa.schema(
                    [
                        ("id", pa.string()),
                        ("rank", pa.int32()),
                        ("entity_id", pa.string()),
                        ("score", pa.float64()),
                        ("match", pa.bool_()),
                        ("name", pa.string()),
                        ("schema", pa.string()),
                        ("list_version", pa.string()),
                        ("error", pa.string()),
                    ]
                )
                self._parquet = pq.ParquetWriter(self.tmp, self._schema)
        except OSError as exc:
            raise ClearanceError(f"{path}: cannot write the results: {exc.strerror or exc}") from exc

    def write(self, payload: Any) -> None:
        if self._bin is not None:
            self._bin.write(payload)
        elif self._csv is not None:
            self._csv.writerows([_csv_cell(v) for v in row] for row in payload)
        elif self._parquet is not None and payload:
            import pyarrow as pa

            columns = list(zip(*payload, strict=True))
            self._parquet.write_table(pa.Table.from_arrays(columns, schema=self._schema))

    def close(self, keep: bool) -> None:
        """Close the file; move it into place when ``keep``, else delete the partial result."""
        for handle in (self._bin, self._text, self._parquet):
            if handle is not None:
                handle.close()
        if keep:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# -- the batch ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class BatchReport:
    """What a batch run did: how many queries, how many alerted, which failed and why."""

    queries: int = 0
    failed: int = 0
    matched: int = 0
    workers: int = 1
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # the first few, "line N: ..."

    @property
    def per_second(self) -> float:
        return self.queries / self.seconds if self.seconds > 0 else 0.0


MAX_ERRORS_KEPT = 20


def chunk_size_for(total: int, workers: int) -> int:
    """Chunks small enough to keep every worker busy to the end, large enough to amortise the hand-over."""
    return max(16, min(512, total // max(1, workers * 8)))


def screen_file(
    input_path: Path,
    output_path: Path,
    spec: ScreenerSpec,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    workers: int | None = None,
    limit: int = 10,
    explain: bool = False,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Screen every query in ``input_path`` and write one result per query to ``output_path``.

    The screener is loaded once, here; ``workers`` processes (default: every core) forked from this one
    share it. With one worker, or a batch that fits in one chunk, everything runs in this process. The
    results are the same either way.
    """
    started = time.perf_counter()
    in_fmt = file_format(input_path, input_format)
    out_fmt = file_format(output_path, output_format)
    if explain and out_fmt != "jsonl":
        raise ClearanceError(
            "explanations fit only the JSON-lines result format; drop --explain or use .jsonl"
        )
    if output_path.resolve() == input_path.resolve():
        raise ClearanceError(f"{output_path}: the results would overwrite the queries; write them elsewhere")
    total, records = read_records(input_path, in_fmt)
    job = _Job(limit=limit, explain=explain, output_format=out_fmt)
    n_workers = max(1, workers or os.cpu_count() or 1)
    size = chunk_size or chunk_size_for(total, n_workers)
    n_workers = min(n_workers, max(1, -(-total // size)))
    report = BatchReport(workers=n_workers)
    # Load (or build once) the screener here; forked workers inherit it, sharing its memory pages
    # copy-on-write (frozen out of the garbage collector so that collections do not touch them).
    screener = spec.load()
    writer = _Writer(output_path, out_fmt)
    ok = False
    try:
        results: Iterable[_ChunkResult]
        if n_workers == 1:
            results = (_screen_chunk(screener, job, chunk) for chunk in _chunks(records, size))
            ok = _collect(results, writer, report, total, progress)
        else:
            ok = _screen_forked(
                screener, job, n_workers, _chunks(records, size), writer, report, total, progress
            )
    finally:
        writer.close(keep=ok)
    report.seconds = time.perf_counter() - started
    return report


def _collect(
    results: Iterable[_ChunkResult],
    writer: _Writer,
    report: BatchReport,
    total: int,
    progress: Progress | None,
) -> bool:
    for result in results:
        writer.write(result.payload)
        report.queries += result.count
        report.failed += result.failed
        report.matched += result.matched
        room = MAX_ERRORS_KEPT - len(report.errors)
        if room > 0:
            report.errors.extend(result.errors[:room])
        if progress is not None:
            progress(report.queries, max(total, report.queries))
    return True
