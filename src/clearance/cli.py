"""The ``clearance`` command. Commands are thin: parse, call the core, print."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click
import orjson

from clearance.batch import FORMATS, ScreenerSpec, query_from_record
from clearance.compiled import matcher_compiled
from clearance.errors import ClearanceError, NotFound
from clearance.matching.types import QUERY_SCHEMATA, Match
from clearance.policy.types import TRANSACTION_TYPES
from clearance.settings import Settings
from clearance.store import ListVersion, Store, open_store
from clearance.store.base import property_changes

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _eastern_today() -> date:
    """Today in US Eastern time, the day reports, ledgers and ownership are dated in (imported here
    rather than at the top, as the CLI's other policy imports, to keep its start fast)."""
    from clearance.policy.licenses import eastern_today

    return eastern_today()


def _date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _print_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


class Context:
    """What every command needs: the settings and, opened lazily, the store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CLEARANCE_HOME",
    help="Folder holding the database and indexes (default: ~/.local/share/clearance).",
)
@click.version_option(
    package_name="clearance",
    message="%(prog)s, version %(version)s, matcher "
    + ("compiled with mypyc" if matcher_compiled() else "pure Python"),
)
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """Clearance: sanctions lists, screening and decisions."""
    ctx.obj = Context(Settings.load(home))


# -- lists -------------------------------------------------------------------------------------------


@cli.group()
def lists() -> None:
    """Import, update and compare list versions."""


@contextmanager
def _progress(label: str, enabled: bool = True) -> Iterator[Any]:
    """A progress callback ``(done, total)`` drawn on stderr when it is a terminal."""
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if not enabled:
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _version_line(v: ListVersion) -> str:
    return (
        f"#{v.id:<4} {v.list:<12} published {v.published} ({v.published_from:<6}) "
        f"{v.entity_count:>7} entities  imported {v.imported_at:%Y-%m-%d %H:%M}Z  {v.content_hash[:12]}"
    )


def _version_json(v: ListVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "list": v.list,
        "label": v.label,
        "format": v.format,
        "files": list(v.files),
        "content_hash": v.content_hash,
        "published": v.published.isoformat(),
        "published_from": v.published_from,
        "imported_at": v.imported_at.isoformat(),
        "entity_count": v.entity_count,
    }


@lists.command("import")
@click.argument("list_name")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "format_", help="Reader to use (default: guessed from the list name and files).")
@click.option("--published", type=DATE, help="Publication date, when the file states none.")
@click.option("--json", "as_json", is_flag=True, help="Print the version as JSON.")
@pass_ctx
def lists_import(
    ctx: Context,
    list_name: str,
    paths: tuple[Path, ...],
    format_: str | None,
    published: datetime | None,
    as_json: bool,
) -> None:
    """Import a snapshot of LIST_NAME from PATHS (files or a folder)."""
    from clearance.lists.importer import import_list

    with _progress(f"storing {list_name}", sys.stderr.isatty()) as progress:
        result = import_list(
            ctx.store, list_name, paths, format=format_, published=_date(published), progress=progress
        )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        _print_json({"created": result.created, "version": _version_json(result.version)})
        return
    verb = "imported" if result.created else "already imported, nothing changed:"
    click.echo(f"{verb} {_version_line(result.version)}")


@lists.command("update")
@click.argument("list_names", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def lists_update(ctx: Context, list_names: tuple[str, ...], as_json: bool) -> None:
    """Download the official lists (all known ones, or LIST_NAMES) and import what changed."""
    from clearance.lists.download import update_lists

    results = update_lists(ctx.store, ctx.settings, list(list_names) or None)
    failed = False
    rows: list[dict[str, Any]] = []
    for r in results:
        failed = failed or r.status == "failed"
        rows.append(
            {
                "list": r.list_name,
                "status": r.status,
                "version": _version_json(r.version) if r.version else None,
                "bytes": r.bytes_downloaded,
                "message": r.message,
                "warnings": list(r.warnings),
                "kept": str(r.kept) if r.kept else None,
            }
        )
    if as_json:
        _print_json(rows)
    else:
        for row in rows:
            line = f"{row['list']:<12} {row['status']:<10}"
            if row["version"]:
                line += f" version #{row['version']['id']} published {row['version']['published']}"
            if row["message"]:
                line += f"  {row['message']}"
            click.echo(line)
            for warning in row["warnings"]:
                click.echo(f"  warning: {warning}", err=True)
            if row["kept"]:
                click.echo(f"  files kept in {row['kept']}")
    if failed:
        sys.exit(1)


@lists.command("show")
@click.argument("list_name", required=False)
@click.option("--as-of", type=DATE, help="Show what was active on this day.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def lists_show(ctx: Context, list_name: str | None, as_of: datetime | None, as_json: bool) -> None:
    """The active version of each list, or every version of LIST_NAME."""
    store = ctx.store
    if list_name:
        versions = store.versions(list_name)
        if not versions:
            raise NotFound(f"no versions of list {list_name!r}; import one with `clearance lists import`")
        active = store.active_version(list_name, _date(as_of))
        if as_json:
            _print_json(
                [{**_version_json(v), "active": active is not None and v.id == active.id} for v in versions]
            )
            return
        for v in versions:
            mark = "*" if active is not None and v.id == active.id else " "
            click.echo(f"{mark} {_version_line(v)}")
        return
    actives = store.active_versions(None, _date(as_of))
    if as_json:
        _print_json([_version_json(v) for v in actives])
        return
    if not actives:
        click.echo("no lists imported yet; try `clearance lists import` or `clearance demo`")
    for v in actives:
        click.echo(_version_line(v))


def _resolve_version(store: Store, list_name: str, ref: str) -> ListVersion:
    """A version named by its id (``12`` or ``#12``), a date (active that day) or ``latest``."""
    ref = ref.strip()
    version: ListVersion | None
    if ref == "latest":
        version = store.active_version(list_name)
    elif ref.lstrip("#").isdigit():
        version = store.version(int(ref.lstrip("#")))
        if version.list != list_name:
            raise ClearanceError(f"version #{version.id} belongs to {version.list}, not {list_name}")
    else:
        try:
            day = date.fromisoformat(ref)
        except ValueError:
            raise ClearanceError(
                f"version {ref!r}: give a version id (12), a date (2021-07-07) or 'latest'"
            ) from None
        version = store.active_version(list_name, day)
    if version is None:
        raise NotFound(f"list {list_name!r} has no version for {ref!r}")
    return version


@lists.command("diff")
@click.argument("list_name")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=50, show_default=True, help="Entities to print per section (text mode).")
@pass_ctx
def lists_diff(ctx: Context, list_name: str, old: str, new: str, as_json: bool, limit: int) -> None:
    """Entities added, removed and changed between two versions (ids, dates or 'latest')."""
    store = ctx.store
    diff = store.diff(_resolve_version(store, list_name, old), _resolve_version(store, list_name, new))
    if as_json:
        _print_json(
            {
                "old": _version_json(diff.old),
                "new": _version_json(diff.new),
                "added": diff.added,
                "removed": diff.removed,
                "changed": [
                    {
                        "entity_id": c.entity_id,
                        "properties": {p: {"old": a, "new": b} for p, (a, b) in c.changed.items()},
                    }
                    for c in diff.changed
                ],
            }
        )
        return
    click.echo(f"from {_version_line(diff.old)}")
    click.echo(f"to   {_version_line(diff.new)}")
    click.echo(f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed")
    for title, ids in (("added", diff.added), ("removed", diff.removed)):
        if ids:
            click.echo(f"\n{title}:")
            for entity_id in ids[:limit]:
                version = diff.new if title == "added" else diff.old
                entity = store.entity(entity_id, version.id)
                click.echo(f"  {entity_id:<20} {entity.caption if entity else ''}")
            if len(ids) > limit:
                click.echo(f"  ... and {len(ids) - limit} more (--limit, --json)")
    if diff.changed:
        click.echo("\nchanged:")
        for change in diff.changed[:limit]:
            click.echo(f"  {change.entity_id:<20} {', '.join(change.changed)}")
        if len(diff.changed) > limit:
            click.echo(f"  ... and {len(diff.changed) - limit} more (--limit, --json)")


@lists.command("export")
@click.argument("list_name")
@click.option("--as-of", type=DATE, help="The version in force on this day (default: the newest).")
@click.option("--version", "version_ref", help="A version id, date or 'latest' (instead of --as-of).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@click.option("--raw", is_flag=True, help="Include each entity's raw source record.")
@pass_ctx
def lists_export(
    ctx: Context,
    list_name: str,
    as_of: datetime | None,
    version_ref: str | None,
    output: Path | None,
    raw: bool,
) -> None:
    """Write a version of LIST_NAME as FollowTheMoney JSON lines (the OpenSanctions export format)."""
    from clearance.lists.ftm import write

    store = ctx.store
    if version_ref:
        version = _resolve_version(store, list_name, version_ref)
    else:
        found = store.active_version(list_name, _date(as_of))
        if found is None:
            raise NotFound(f"list {list_name!r} has no version{f' on {_date(as_of)}' if as_of else ''}")
        version = found
    if output is None:
        count = write(store.entities(version.id), sys.stdout.buffer, raw=raw)
        sys.stdout.buffer.flush()
    else:
        with output.open("wb") as fp:
            count = write(store.entities(version.id), fp, raw=raw)
    click.echo(f"wrote {count} entities of {version.label}", err=True)


@lists.command("history")
@click.argument("list_name")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def lists_history(ctx: Context, list_name: str, as_json: bool) -> None:
    """Every version of LIST_NAME with what changed from the one before."""
    store = ctx.store
    versions = store.versions(list_name)
    if not versions:
        raise NotFound(f"no versions of list {list_name!r}")
    rows = []
    previous: ListVersion | None = None
    for v in versions:
        row: dict[str, Any] = _version_json(v)
        if previous is not None:
            d = store.diff(previous, v)
            row.update(added=len(d.added), removed=len(d.removed), changed=len(d.changed))
        else:
            row.update(added=v.entity_count, removed=0, changed=0)
        rows.append(row)
        previous = v
    if as_json:
        _print_json(rows)
        return
    for v, row in zip(versions, rows, strict=True):
        click.echo(f"{_version_line(v)}  +{row['added']} -{row['removed']} ~{row['changed']}")


# -- entities ----------------------------------------------------------------------------------------


@cli.group()
def entity() -> None:
    """Look up listed entities."""


def _entity_at(store: Store, entity_id: str, as_of: date | None) -> tuple[Any, ListVersion]:
    list_name = entity_id.split(":", 1)[0]
    version = store.active_version(list_name, as_of)
    if version is None:
        raise NotFound(f"no version of list {list_name!r} is active{f' on {as_of}' if as_of else ''}")
    found = store.entity(entity_id, version.id)
    if found is None:
        raise NotFound(f"{entity_id} is not in {version.label}; `clearance entity history {entity_id}`")
    return found, version


def _history_json(store: Store, entity_id: str) -> dict[str, Any]:
    history = store.entity_history(entity_id)
    return {
        "first_seen": _version_json(history.first_seen) if history.first_seen else None,
        "last_seen": _version_json(history.last_seen) if history.last_seen else None,
        "events": [{"event": e.event, "version": _version_json(e.version)} for e in history.changes],
    }


@entity.command("show")
@click.argument("entity_id")
@click.option("--as-of", type=DATE, help="As the list stood on this day.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def entity_show(ctx: Context, entity_id: str, as_of: datetime | None, as_json: bool) -> None:
    """Show ENTITY_ID (e.g. ofac-sdn:30502) as its active list version states it."""
    store = ctx.store
    found, version = _entity_at(store, entity_id, _date(as_of))
    if as_json:
        _print_json(
            {**found.to_dict(), "version": _version_json(version), "history": _history_json(store, entity_id)}
        )
        return
    click.echo(f"{found.caption}  [{found.schema}]  {found.id}")
    click.echo(f"from {_version_line(version)}")
    width = max((len(p) for p in found.properties), default=0)
    for prop, values in sorted(found.properties.items()):
        for i, value in enumerate(values):
            click.echo(f"  {prop if i == 0 else '':<{width}}  {value}")
    history = store.entity_history(entity_id)
    if history.first_seen and history.last_seen:
        click.echo(
            f"first seen {history.first_seen.published} (#{history.first_seen.id}), "
            f"last seen {history.last_seen.published} (#{history.last_seen.id})"
        )


@entity.command("history")
@click.argument("entity_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def entity_history(ctx: Context, entity_id: str, as_json: bool) -> None:
    """When ENTITY_ID was added, changed and removed, version by version."""
    store = ctx.store
    history = store.entity_history(entity_id)
    if not history.changes:
        raise NotFound(f"{entity_id} is in no imported version")
    if as_json:
        _print_json(_history_json(store, entity_id))
        return
    previous: ListVersion | None = None
    for event in history.events:
        if event.event in ("added", "changed", "removed"):
            line = f"{event.version.published}  {event.event:<8} {_version_line(event.version)}"
            if event.event == "changed" and previous is not None:
                a, b = store.entity(entity_id, previous.id), store.entity(entity_id, event.version.id)
                if a is not None and b is not None:
                    line += f"  ({', '.join(property_changes(a, b))})"
            click.echo(line)
        previous = event.version if event.event != "removed" else None


# -- screening ---------------------------------------------------------------------------------------


def _screened_versions(ctx: Context, lists_: Sequence[str], as_of: date | None) -> list[ListVersion]:
    """The list versions a screening runs against, or NotFound saying what to import."""
    versions = ctx.store.active_versions(list(lists_) or None, as_of)
    if not versions:
        raise NotFound(
            "no list version to screen against"
            + (f" among {', '.join(lists_)}" if lists_ else "")
            + (f" on {as_of}" if as_of else "")
            + "; import one with `clearance lists import` (or try `clearance demo`)"
        )
    return versions


def _say_if_index_builds(spec: ScreenerSpec) -> None:
    if not spec.index_saved():
        click.echo("building the matching index for these list versions (once; later runs load it)", err=True)


def _screener(ctx: Context, lists_: Sequence[str], as_of: date | None) -> Any:
    from clearance.matching.screener import Screener

    _say_if_index_builds(ScreenerSpec(ctx.settings.home, tuple(lists_) or None, as_of))
    return Screener.from_store(ctx.store, ctx.settings, lists=list(lists_) or None, as_of=as_of)


def _match_lines(rank: int, m: Match) -> list[str]:
    """A hit as a person reads it: verdict and score, who, and why (names met, features that counted)."""
    verdict = "MATCH" if m.match else "no match"
    lines = [
        f"{rank:>2}. {m.score:.3f}  {verdict:<8}  {m.entity_id}  {m.name}  [{m.schema}, {m.list_version}]",
        f"      names: {m.explanation.query_name!r} ~ {m.explanation.matched_name!r}",
    ]
    if m.explanation.aligned:
        pairs = ", ".join(f"{q}={c} {s:.2f}" if q != c else q for q, c, s in m.explanation.aligned)
        lines.append(f"      tokens: {pairs}")
    contributions = [(f.name, f.value * f.weight) for f in m.explanation.features]
    for label, part in (
        ("raised by", [c for c in contributions if c[1] > 0]),
        ("lowered by", [c for c in contributions if c[1] < 0]),
    ):
        if part:
            lines.append(f"      {label}: " + ", ".join(f"{n} {v:+.2f}" for n, v in part))
    return lines


@cli.command()
@click.argument("name", required=False)
@click.option(
    "--schema",
    type=click.Choice(QUERY_SCHEMATA, case_sensitive=False),
    default="Thing",
    show_default=True,
    help="What the party is; Thing matches anything.",
)
@click.option("--birth-date", help="1970, 1970-05 or 1970-05-17.")
@click.option("--country", help="Country code or name.")
@click.option(
    "--id-number", "id_numbers", multiple=True, help="Passport, registration, IMO number... (repeatable)."
)
@click.option("--list", "lists_", multiple=True, help="Screen only against this list (repeatable).")
@click.option("--as-of", type=DATE, help="Against the list versions active on this day.")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Candidates per query."
)
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Screen every query in this file (.jsonl, .csv, .parquet) instead of NAME.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --input's results go (.jsonl, .csv, .parquet).",
)
@click.option(
    "--format", "input_format", type=click.Choice(FORMATS), help="Format of --input (default: extension)."
)
@click.option("--output-format", type=click.Choice(FORMATS), help="Format of --output (default: extension).")
@click.option("--workers", type=click.IntRange(1), help="Processes for --input (default: every core).")
@click.option("--explain", is_flag=True, help="With --input: add each match's explanation (JSON lines only).")
@pass_ctx
def screen(
    ctx: Context,
    name: str | None,
    schema: str,
    birth_date: str | None,
    country: str | None,
    id_numbers: tuple[str, ...],
    lists_: tuple[str, ...],
    as_of: datetime | None,
    limit: int,
    as_json: bool,
    input_path: Path | None,
    output_path: Path | None,
    input_format: str | None,
    output_format: str | None,
    workers: int | None,
    explain: bool,
) -> None:
    """Screen NAME (or every query in --input) against the active list versions.

    Exit status 0 when screening ran (whether or not anything matched); with --input, 1 when some queries
    could not be screened (their result lines say why); 2 on a usage or data error.
    """
    if input_path is not None:
        if name is not None or output_path is None:
            raise click.UsageError("--input screens a file: give --output and no NAME")
        _screen_file(
            ctx,
            input_path,
            output_path,
            input_format,
            output_format,
            workers,
            limit,
            explain,
            lists_,
            _date(as_of),
        )
        return
    if name is None:
        raise click.UsageError("give a NAME to screen, or --input FILE --output FILE")
    query = query_from_record(
        {
            "name": name,
            "schema": schema,
            "birth_date": birth_date,
            "country": country,
            "id_numbers": list(id_numbers),
        }
    )
    from clearance.matching import MATCHER_VERSION

    versions = _screened_versions(ctx, lists_, _date(as_of))
    screener = _screener(ctx, lists_, _date(as_of))
    matches = screener.screen(query, limit=limit)
    if as_json:
        _print_json(
            {
                "query": {
                    "name": query.name,
                    "schema": query.schema,
                    "birth_date": query.birth_date,
                    "country": query.country,
                    "id_numbers": query.id_numbers,
                },
                "threshold": screener.threshold,
                "matcher": MATCHER_VERSION,
                "versions": [v.label for v in versions],
                "matches": [m.to_dict() for m in matches],
            }
        )
        return
    click.echo(
        f"{query.name!r} [{query.schema}] against {', '.join(v.label for v in versions)}"
        f" (threshold {screener.threshold:.2f})"
    )
    if not matches:
        click.echo("no candidates")
    for rank, m in enumerate(matches, start=1):
        for line in _match_lines(rank, m):
            click.echo(line)
    if matches and not any(m.match for m in matches):
        click.echo(f"no match at threshold {screener.threshold:.2f}")


def _screen_file(
    ctx: Context,
    input_path: Path,
    output_path: Path,
    input_format: str | None,
    output_format: str | None,
    workers: int | None,
    limit: int,
    explain: bool,
    lists_: Sequence[str],
    as_of: date | None,
) -> None:
    from clearance.batch import screen_file

    _screened_versions(ctx, lists_, as_of)
    spec = ScreenerSpec(ctx.settings.home, tuple(lists_) or None, as_of)
    _say_if_index_builds(spec)
    with _progress("screening", sys.stderr.isatty()) as progress:
        report = screen_file(
            input_path,
            output_path,
            spec,
            input_format=input_format,
            output_format=output_format,
            workers=workers,
            limit=limit,
            explain=explain,
            progress=progress,
        )
    click.echo(
        f"screened {report.queries} queries in {report.seconds:.1f} s ({report.per_second:,.0f}/s,"
        f" {report.workers} worker{'s' if report.workers != 1 else ''}): {report.matched} with a match,"
        f" {report.failed} failed; results in {output_path}",
        err=True,
    )
    for error in report.errors:
        click.echo(f"  {error}", err=True)
    if report.failed > len(report.errors):
        click.echo(f"  ... and {report.failed - len(report.errors)} more (see the 'error' field)", err=True)
    if report.failed:
        sys.exit(1)


# -- licenses and ownership (policy) -----------------------------------------------------------------


def _policy_store(ctx: Context) -> Any:
    from clearance.policy.storage import PolicyStore

    return PolicyStore(ctx.settings.database_path)


def _all_licenses(ctx: Context) -> list[Any]:
    from clearance.policy.licenses import LicenseBook, bundled_licenses

    return list(LicenseBook([*bundled_licenses(), *_policy_store(ctx).licenses()]))


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@cli.group()
def licenses() -> None:
    """General and specific licenses: add, list and show."""


@licenses.command("add")
@click.argument("paths", nargs=-1, required=True, type=_FILE)
@pass_ctx
def licenses_add(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Store the licenses in PATHS (YAML: one license or a list); same id replaces."""
    from clearance.policy.licenses import read_license_file

    found = [(lic, path) for path in paths for lic in read_license_file(path)]
    store = _policy_store(ctx)
    for lic, path in found:
        created = store.put_license(lic, origin=str(path))
        click.echo(f"{'added' if created else 'replaced'} {lic.id}: {lic.title} ({lic.window_text()})")


@licenses.command("list")
@click.option("--at", "at", type=click.DateTime(), help="Mark which are valid at this time (US Eastern).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def licenses_list(ctx: Context, at: datetime | None, as_json: bool) -> None:
    """Every license (shipped and stored), and whether it is valid now (or --at)."""
    moment = at or datetime.now().astimezone()
    rows = _all_licenses(ctx)
    if as_json:
        _print_json([{**lic.to_dict(), "valid": lic.valid_at(moment)} for lic in rows])
        return
    for lic in rows:
        mark = "*" if lic.valid_at(moment) else " "
        click.echo(f"{mark} {lic.id:<24} {lic.kind:<8} {lic.window_text():<52} {lic.title}")


@licenses.command("show")
@click.argument("license_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def licenses_show(ctx: Context, license_id: str, as_json: bool) -> None:
    """One license with its targets, transaction types, window and conditions."""
    found = [lic for lic in _all_licenses(ctx) if lic.id == license_id]
    if not found:
        raise NotFound(f"no license {license_id!r}; `clearance licenses list` shows them")
    data = found[0].to_dict()
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        if key == "conditions":
            for condition in value:
                click.echo(f"  condition {condition['code']}: {condition['text']}")
        elif value not in (None, [], ""):
            click.echo(f"{key:<18} {', '.join(value) if isinstance(value, list) else value}")


@cli.group()
def goodguys() -> None:
    """Good-guy decisions: a customer cleared as not a listed entity, until an expiry."""


#: The option that gave each field of a good-guy decision, to name it in errors.
_GOOD_GUY_OPTIONS = {
    "customer_id": "--customer",
    "customer_name": "--customer-name",
    "entity_id": "--entity",
    "note": "--reason",
    "expires_at": "--expires",
}
_ANALYST = click.option(
    "--analyst", envvar="USER", default="unknown", show_default="$USER", help="Who decides."
)


@goodguys.command("add")
@click.option(
    "--customer", help="The customer's id as screened, or name:NAME for one screened without an id."
)
@click.option("--customer-name", help="The customer's name, for a customer screened without an id.")
@click.option(
    "--entity", "entity_id", required=True, help="The listed entity it is not (e.g. ofac-sdn:30502)."
)
@click.option("--reason", required=True, help="Why the customer is not the listed entity.")
@click.option(
    "--expires", required=True, help="YYYY-MM-DD (through the end of that day, US Eastern) or a date-time."
)
@_ANALYST
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def goodguys_add(
    ctx: Context,
    customer: str | None,
    customer_name: str | None,
    entity_id: str,
    reason: str,
    expires: str,
    analyst: str,
    as_json: bool,
) -> None:
    """Stop the alert "customer is listed entity" until --expires or until the listed entity changes."""
    from clearance.errors import ParseError
    from clearance.policy.goodguy import good_guy_for, parse_expiry, party_key

    try:
        key = party_key(customer, customer_name)
        expires_at = parse_expiry(expires)
        decision = good_guy_for(
            ctx.store, key, entity_id, analyst=analyst, note=reason, expires_at=expires_at
        )
    except ParseError as exc:
        raise click.BadParameter(exc.reason, param_hint=_GOOD_GUY_OPTIONS.get(exc.field or "")) from None
    except NotFound as exc:
        raise click.BadParameter(str(exc), param_hint="--entity") from None
    saved = _policy_store(ctx).add_good_guy(decision)
    if as_json:
        _print_json(saved.to_dict())
        return
    click.echo(
        f"added good-guy #{saved.id}: {saved.party_key} is not {saved.entity_id}"
        f" until {saved.expires_at:%Y-%m-%d %H:%M %Z} ({analyst}: {reason})"
    )


@goodguys.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also expired, revoked and invalidated decisions.")
@click.option("--at", "at", type=click.DateTime(), help="Status at this time (US Eastern; default: now).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def goodguys_list(ctx: Context, show_all: bool, at: datetime | None, as_json: bool) -> None:
    """Decisions in force (valid), or with --all every one with its status: valid, expired, revoked,
    not-yet, entity-changed (the listed entity changed since) or entity-not-listed."""
    from clearance.policy.goodguy import standing
    from clearance.policy.licenses import EASTERN

    rows = [
        (d, s) for d, s in standing(_policy_store(ctx).good_guys(), ctx.store, at) if show_all or s == "valid"
    ]
    if as_json:
        _print_json([{**d.to_dict(), "status": s} for d, s in rows])
        return
    if not rows:
        click.echo("no good-guy decisions" + ("" if show_all else " in force (--all shows every one)"))
    for d, s in rows:
        click.echo(
            f"#{d.id:<5} {s:<18} {d.party_key:<28} {d.entity_id:<20} until {d.expires_at.astimezone(EASTERN):%Y-%m-%d %H:%M %Z}"
            f"  {d.analyst}: {d.note}"
        )


@goodguys.command("revoke")
@click.argument("decision_id", type=int)
@_ANALYST
@pass_ctx
def goodguys_revoke(ctx: Context, decision_id: int, analyst: str) -> None:
    """End decision DECISION_ID now; it is kept, marked revoked (when and by whom)."""
    revoked = _policy_store(ctx).revoke_good_guy(decision_id, by=analyst)
    click.echo(
        f"revoked good-guy #{revoked.id}: {revoked.party_key} is not {revoked.entity_id} (by {analyst})"
    )


@cli.group()
def ownership() -> None:
    """Ownership links and the 50% rule."""


@ownership.command("import")
@click.argument("paths", nargs=-1, required=True, type=_FILE)
@pass_ctx
def ownership_import(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Import ownership links from CSV or FollowTheMoney Ownership JSON lines."""
    from clearance.policy.ownership import read_links

    links = [link for path in paths for link in read_links(path)]
    added = _policy_store(ctx).add_links(links)
    click.echo(f"read {len(links)} links, {added} new, {len(links) - added} updated")


@ownership.command("show")
@click.argument("entity_id")
@click.option("--as-of", type=DATE, help="Owners and list versions on this day (default: today).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def ownership_show(ctx: Context, entity_id: str, as_of: datetime | None, as_json: bool) -> None:
    """What the 50% rule says about ENTITY_ID: blocked share and ownership paths."""
    from clearance.policy.decide import PolicyContext, ownership_of

    day = _date(as_of) or _eastern_today()
    result = ownership_of(entity_id, day, PolicyContext.open(ctx.store, ctx.settings.database_path))
    verdict = "BLOCKED" if result.blocked else "REVIEW" if result.review else "not blocked"
    if as_json:
        _print_json(
            {
                "entity_id": entity_id,
                "as_of": day.isoformat(),
                "share": result.share,
                "verdict": verdict,
                "roots": result.roots,
                "paths": [[s.to_dict() for s in path] for path in result.paths],
            }
        )
        return
    click.echo(f"{entity_id} on {day}: {result.share:g}% owned by blocked persons: {verdict}")
    for path in result.paths:
        click.echo("  " + " -> ".join(f"{s.owner} ({s.percentage:g}%)" for s in path) + f" -> {entity_id}")


# -- demo --------------------------------------------------------------------------------------------


def sample_list_dir() -> Path:
    """The small sample list shipped with the package (a few real public SDN entries)."""
    return Path(str(resources.files("clearance") / "data" / "sample" / "ofac-sdn"))


#: How the news of 30 November 2020 named CEIEC (OFAC lists it as ofac-sdn:30502).
DEMO_NAMES = (
    "China National Electronics Import & Export Corporation",
    "China Electronics Import-Export Company",
    "China Electronics Import-Export Co.",
    "CEIEC",
)


@cli.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Import the built-in sample list and screen the names the news used for CEIEC."""
    from clearance.lists.importer import import_list

    result = import_list(ctx.store, "ofac-sdn", [sample_list_dir()], published=date(2020, 11, 30))
    click.echo(f"{'imported' if result.created else 'present'}: {_version_line(result.version)}")
    screener = _screener(ctx, ["ofac-sdn"], result.version.published)
    click.echo(f"screening the names the press used for CEIEC (threshold {screener.threshold:.2f}):")
    for name in DEMO_NAMES:
        matches = screener.screen(query_from_record({"name": name}), limit=1)
        if not matches:
            click.echo(f"  {name!r}: no candidates")
            continue
        m = matches[0]
        verdict = "MATCH" if m.match else "no match"
        click.echo(
            f"  {name!r}\n      -> {m.score:.3f} {verdict:<8} {m.entity_id}  {m.name}"
            f"  (met {m.explanation.matched_name!r})  [{m.list_version}]"
        )


# -- HTTP service: serve, keys, audit ----------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--no-auth", is_flag=True, help="Serve without API keys (only on a loopback --host).")
@click.option("--list", "lists_", multiple=True, help="Serve only this list (repeatable; default: all).")
@click.option("--max-batch", default=1000, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--max-body", default=4 * 1024 * 1024, show_default=True, type=click.IntRange(1024), help="Bytes."
)
@click.option(
    "--rate-limit", default=5000.0, show_default=True, help="Queries a second per key (shared by the workers)."
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds a screening request may take.")
@click.option(
    "--reload-interval", default=60.0, show_default=True, help="Seconds between checks for new lists."
)
@click.option("--port-file", type=click.Path(dir_okay=False, path_type=Path), help="Write the port here.")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (one core each), fed connections in turn; with 2 or more, one that dies is replaced.",
)
@click.option(
    "--answer-cache",
    default=4096,
    show_default=True,
    type=click.IntRange(0),
    help="Answers to repeated /v1/screen queries kept per list snapshot and process (0: none).",
)
@pass_ctx
def serve(
    ctx: Context,
    host: str,
    port: int,
    no_auth: bool,
    lists_: tuple[str, ...],
    max_batch: int,
    max_body: int,
    rate_limit: float,
    timeout: float,
    reload_interval: float,
    port_file: Path | None,
    log_level: str,
    workers: int,
    answer_cache: int,
) -> None:
    """Serve the HTTP screening API (OpenAPI document at /openapi.json, docs at /docs)."""
    from clearance.api.server import run
    from clearance.api.service import ServiceConfig

    config = ServiceConfig(
        auth=not no_auth,
        max_batch=max_batch,
        max_body_bytes=max_body,
        rate_limit=rate_limit,
        timeout=timeout,
        reload_interval=reload_interval,
        lists=lists_ or None,
        workers=workers,
        answer_cache=answer_cache,
    )
    run(ctx.settings, host=host, port=port, port_file=port_file, log_level=log_level, config=config)


@cli.group()
def keys() -> None:
    """API keys for `clearance serve` (stored only as hashes)."""


def _key_stores(ctx: Context) -> Any:
    from clearance.audit import KeyStore, keys_path

    return KeyStore(keys_path(ctx.settings))


@keys.command("create")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(["screen", "analyst", "admin"]), default="screen", show_default=True
)
@pass_ctx
def keys_create(ctx: Context, name: str, role: str) -> None:
    """Create a key for NAME (who or what uses it); prints the key once."""
    key, token = _key_stores(ctx).create(name, role)
    click.echo(f"created key {key.id} ({key.role}) for {key.name}; it is shown only now:", err=True)
    click.echo(token)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def keys_list(ctx: Context, as_json: bool) -> None:
    """Every key: id, role, name, created, revoked."""
    rows = _key_stores(ctx).list()
    if as_json:
        _print_json(
            [
                {
                    "id": k.id,
                    "name": k.name,
                    "role": k.role,
                    "created_at": k.created_at,
                    "revoked_at": k.revoked_at,
                }
                for k in rows
            ]
        )
        return
    for k in rows:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        click.echo(f"{k.id}  {k.role:<8} {state:<30} created {k.created_at}  {k.name}")


@keys.command("revoke")
@click.argument("key_id")
@pass_ctx
def keys_revoke(ctx: Context, key_id: str) -> None:
    """Revoke KEY_ID; a running server refuses it from its next request."""
    key = _key_stores(ctx).revoke(key_id)
    click.echo(f"revoked {key.id} ({key.role}) {key.name}")


@cli.group()
def audit() -> None:
    """The audit log of screening calls."""


@audit.command("verify")
@click.option("--head", help="An anchored head SEQ:HASH to check the log has not been cut short.")
@pass_ctx
def audit_verify(ctx: Context, head: str | None) -> None:
    """Recompute the hash chain; exit 1 if any record was altered, inserted or removed."""
    from clearance.audit import AuditLog, audit_path

    expected = None
    if head:
        seq, _, digest = head.partition(":")
        expected = (int(seq), digest)
    report = AuditLog(audit_path(ctx.settings)).verify(expected)
    click.echo(f"{report.records} records, head {report.head_seq}:{report.head_hash}")
    for problem in report.problems:
        click.echo(f"TAMPERED: {problem}")
    if not report.ok:
        sys.exit(1)


@audit.command("show")
@click.argument("request_id")
@pass_ctx
def audit_show(ctx: Context, request_id: str) -> None:
    """Print the record of REQUEST_ID (as a response's `request_id` names it) as JSON."""
    from clearance.audit import AuditLog, audit_path

    record = AuditLog(audit_path(ctx.settings)).get(request_id)
    if record is None:
        raise click.ClickException(f"no audit record {request_id!r}")
    header = {
        "seq": record.seq,
        "request_id": record.request_id,
        "recorded_at": record.recorded_at,
        "actor": record.actor,
        "action": record.action,
        "hash": record.hash,
    }
    click.echo(orjson.dumps({**header, "payload": record.payload}, option=orjson.OPT_INDENT_2).decode())


@audit.command("replay")
@click.argument("request_id")
@pass_ctx
def audit_replay(ctx: Context, request_id: str) -> None:
    """Screen REQUEST_ID's queries again against the list versions it recorded; exit 1 if the
    candidates, scores or verdicts differ from the record."""
    from clearance.audit import AuditLog, audit_path
    from clearance.audit.replay import replay

    record = AuditLog(audit_path(ctx.settings)).get(request_id)
    if record is None:
        raise click.ClickException(f"no audit record {request_id!r}")
    report = replay(record, ctx.store, ctx.settings)
    versions = ", ".join(v["label"] for v in record.payload["list_versions"])
    click.echo(f"{request_id}: {report.queries} queries against {versions}")
    if report.recorded_matcher != report.current_matcher:
        click.echo(
            f"note: recorded with matcher {report.recorded_matcher}, replayed with {report.current_matcher}"
        )
    for difference in report.differences:
        click.echo(f"DIFFERS: {difference}")
    click.echo("same result" if report.same else f"{len(report.differences)} difference(s)")
    if not report.same:
        sys.exit(1)


# -- payments, blocked-property ledger, OFAC reports -------------------------------------------------


@cli.group()
def payments() -> None:
    """Screen payment messages (pacs.008, pain.001, MT103) and record what they cause."""


@payments.command("screen")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Decide as of (US Eastern)."
)
@click.option(
    "--record/--no-record", "record_", default=True, help="Write blocks, rejections, bad input to the ledger."
)
@click.option(
    "--transaction",
    type=click.Choice(TRANSACTION_TYPES),
    default="payment",
    show_default=True,
    help="What the payments are for, as licenses read it (e.g. wind-down); the message cannot say it.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def payments_screen(
    ctx: Context,
    files: tuple[Path, ...],
    as_of: datetime | None,
    record_: bool,
    transaction: str,
    as_json: bool,
) -> None:
    """Screen each message in FILES: PASS, HOLD, BLOCK, REJECT or AUTHORIZED, with reasons."""
    from clearance.ledger import Ledger
    from clearance.payments.iso20022 import MAX_MESSAGE_BYTES
    from clearance.payments.screen import PaymentScreener, record

    screener = PaymentScreener.from_store(ctx.store, ctx.settings)
    rows = []
    with Ledger(ctx.settings.database_path) as ledger:
        for path in files:
            with path.open("rb") as fh:
                data = fh.read(MAX_MESSAGE_BYTES + 1)  # the parser refuses anything larger
            result = screener.screen_bytes(data, source=str(path), as_of=as_of, transaction=transaction)
            entries = record(result, ledger) if record_ else []
            rows.append({**result.to_dict(), "ledger_entries": [e.seq for e in entries]})
            if not as_json:
                click.echo(f"{result.outcome.value:<10} {path}  {rows[-1]['message_id'] or ''}")
                if result.malformed:
                    where = result.malformed.field or (
                        f"line {result.malformed.line}" if result.malformed.line else ""
                    )
                    click.echo(f"    malformed{f' at {where}' if where else ''}: {result.malformed.reason}")
                for reason in result.reasons:
                    click.echo(f"    {reason.outcome.value:<10} {reason.party or ''}: {reason.message}")
                if result.hint is not None and result.hint.type != result.transaction:
                    click.echo(
                        f"    note       {result.hint.path} reads like {result.hint.type}; judged as"
                        f" {result.transaction} (only --transaction states the type)"
                    )
                for auth in result.authorizations:
                    click.echo(f"    license    {auth.license_id}, valid {auth.window}")
                    for condition in auth.conditions:
                        click.echo(f"    condition  {condition.code}: {condition.text}")
                for entry in entries:
                    click.echo(
                        f"    ledger #{entry.seq} {entry.kind} {entry.amount} {entry.currency} ({entry.owner})"
                    )
    if as_json:
        _print_json(rows)


@cli.group()
def reports() -> None:
    """OFAC reports from the blocked-property ledger: what is due when, and exports."""


_FILER = click.option(
    "--filer", envvar="CLEARANCE_FILER", default="(filer not configured)", help="Filing institution."
)
_TODAY = click.option("--today", type=DATE, help="Count from this day instead of today.")


@reports.command("due")
@_FILER
@_TODAY
@click.option("--outstanding", is_flag=True, help="Only reports not yet filed (due or overdue).")
@click.option(
    "--fail-on-overdue", is_flag=True, help="Exit with status 1 when a report is overdue (for cron alerts)."
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def reports_due(
    ctx: Context, filer: str, today: datetime | None, outstanding: bool, fail_on_overdue: bool, as_json: bool
) -> None:
    """Every report the ledger calls for, its due date and status: due, OVERDUE or filed."""
    from clearance.ledger import Ledger
    from clearance.reports.filings import FilingStore, report_statuses
    from clearance.reports.ofac import Filer, all_reports

    day = _date(today) or _eastern_today()
    with Ledger(ctx.settings.database_path) as ledger, FilingStore(ctx.settings.database_path) as filings:
        found = report_statuses(
            all_reports(ledger, Filer(name=filer), today=day), filings, today=day, outstanding=outstanding
        )
    if as_json:
        _print_json([s.to_dict() for s in found])
    elif not found:
        click.echo(
            "no reports outstanding" if outstanding else "no reports: the ledger holds nothing to report"
        )
    else:
        for s in found:
            r = s.report
            click.echo(f"{r.due}  {r.id:<12} {r.title:<40} event {r.event_date}  {s.summary()}")
    overdue = sum(1 for s in found if s.state == "overdue")
    if fail_on_overdue and overdue:
        click.echo(f"{overdue} report{'s' if overdue != 1 else ''} overdue", err=True)
        sys.exit(1)


@reports.command("file")
@click.argument("report_id")
@click.option("--filed-on", type=DATE, required=True, help="The day the report was submitted to OFAC.")
@click.option("--reference", help="OFAC's acknowledgement or case reference.")
@click.option("--by", "by", envvar="USER", default="unknown", show_default="$USER", help="Who filed it.")
@click.option("--corrects", type=int, help="Filing record this one corrects (a report filed before).")
@click.option("--retract", is_flag=True, help="With --corrects: the filing was recorded by mistake.")
@click.option("--note", help="Free text kept with the record.")
@_FILER
@_TODAY
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def reports_file(
    ctx: Context,
    report_id: str,
    filed_on: datetime,
    reference: str | None,
    by: str,
    corrects: int | None,
    retract: bool,
    note: str | None,
    filer: str,
    today: datetime | None,
    as_json: bool,
) -> None:
    """Record that REPORT_ID was submitted to OFAC (records are added, never edited)."""
    from clearance.ledger import Ledger
    from clearance.reports.filings import FilingError, FilingStore
    from clearance.reports.ofac import Filer, find_report

    day = _date(today) or _eastern_today()
    with Ledger(ctx.settings.database_path) as ledger:
        report = find_report(ledger, Filer(name=filer), report_id, today=max(day, filed_on.date()))
    with FilingStore(ctx.settings.database_path) as filings:
        if retract:
            if corrects is None:
                raise FilingError("--retract needs --corrects SEQ: the filing record it withdraws")
            record = filings.retract(report, corrects=corrects, filed_by=by, note=note)
        else:
            record = filings.file(
                report,
                filed_on=filed_on.date(),
                filed_by=by,
                today=day,
                reference=reference,
                corrects=corrects,
                note=note,
            )
    if as_json:
        _print_json(record.to_dict())
    elif record.action == "retracted":
        click.echo(f"filing #{record.seq}: {report.id} filing #{corrects} retracted; it is outstanding again")
    else:
        timing = "LATE" if record.late else "on time"
        click.echo(
            f"filing #{record.seq}: {report.id} filed {record.filed_on} ({timing}, due {report.due})"
            + (f", ref {record.reference}" if record.reference else "")
        )


@reports.command("show")
@click.argument("report_id")
@_FILER
@_TODAY
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def reports_show(ctx: Context, report_id: str, filer: str, today: datetime | None, as_json: bool) -> None:
    """REPORT_ID's status and every filing record about it (corrections and retractions included)."""
    from clearance.ledger import Ledger
    from clearance.reports.filings import FilingStore, report_statuses
    from clearance.reports.ofac import Filer, find_report

    day = _date(today) or _eastern_today()
    with Ledger(ctx.settings.database_path) as ledger, FilingStore(ctx.settings.database_path) as filings:
        report = find_report(ledger, Filer(name=filer), report_id, today=day)
        [status] = report_statuses([report], filings, today=day)
        history = filings.history(report_id)
    if as_json:
        _print_json({**status.to_dict(), "filings": [f.to_dict() for f in history]})
        return
    click.echo(f"{report.id}  {report.title}")
    click.echo(f"event {report.event_date}  due {report.due}  {status.summary()}")
    for f in history:
        what = f"filed {f.filed_on}" if f.action == "filed" else "retracted"
        extra = "".join(
            [
                f" ref {f.reference}" if f.reference else "",
                f" (corrects #{f.corrects})" if f.corrects else "",
                f": {f.note}" if f.note else "",
            ]
        )
        click.echo(f"  #{f.seq} {what} by {f.filed_by}, recorded {f.recorded_at:%Y-%m-%d %H:%M}Z{extra}")


@reports.command("export")
@click.argument("report_id")
@click.option("--format", "format_", type=click.Choice(["pdf", "json"]), default="pdf", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: REPORT_ID.FORMAT).",
)
@_FILER
@_TODAY
@pass_ctx
def reports_export(
    ctx: Context, report_id: str, format_: str, out: Path | None, filer: str, today: datetime | None
) -> None:
    """Write report REPORT_ID (as `reports due` lists it) as PDF or JSON."""
    from clearance.ledger import Ledger
    from clearance.reports.ofac import Filer, all_reports, to_json, to_pdf

    day = _date(today) or _eastern_today()
    with Ledger(ctx.settings.database_path) as ledger:
        found = {r.id: r for r in all_reports(ledger, Filer(name=filer), today=day)}
    if report_id not in found:
        raise NotFound(f"no report {report_id!r}; `clearance reports due` lists them")
    target = out or Path(f"{report_id}.{format_}")
    target.write_bytes(to_pdf(found[report_id]) if format_ == "pdf" else to_json(found[report_id]))
    click.echo(f"wrote {target}")


# -- blocked-property ledger ---------------------------------------------------------------------------


@cli.group()
def ledger() -> None:
    """The blocked-property ledger: entries, releases under license, verification."""


@ledger.command("list")
@click.option(
    "--status",
    type=click.Choice(["held", "partly-released", "released", "rejected", "release"]),
    help="Only entries in this state (blocks by what is still held; rejections; release entries).",
)
@click.option("--as-of", type=DATE, help="Holdings as of this day (default: today).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def ledger_list(ctx: Context, status: str | None, as_of: datetime | None, as_json: bool) -> None:
    """Ledger entries with what each block still holds (principal, interest) and its releases."""
    from clearance.ledger import Ledger
    from clearance.ledger.views import entry_views

    day = _date(as_of) or _eastern_today()
    with Ledger(ctx.settings.database_path) as book:
        rows = entry_views(book, as_of=day, status=status)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        click.echo("no ledger entries" + (f" with status {status}" if status else ""))
    for row in rows:
        money = f"{row['amount']} {row['currency']}"
        extra = ""
        if row["kind"] == "block":
            extra = f" outstanding {row['holding']['principal']} + interest {row['holding']['interest']}"
        elif row["kind"] == "release":
            extra = f" of #{row['ref']} under {row['license_id']}"
        click.echo(
            f"#{row['seq']:<5} {row['event_date']} {row['status']:<16} {money:>20}  {row['owner']}{extra}"
        )


@ledger.command("release")
@click.argument("entry_id", type=int)
@click.option("--license", "license_id", required=True, help="Id of the license authorizing the release.")
@click.option("--on", "on", type=DATE, help="Day of the release (default: today).")
@click.option("--amount", help="Amount released (default: everything still blocked).")
@click.option("--note", help="Free text kept with the entry.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def ledger_release(
    ctx: Context,
    entry_id: int,
    license_id: str,
    on: datetime | None,
    amount: str | None,
    note: str | None,
    as_json: bool,
) -> None:
    """Release blocked entry ENTRY_ID under a license that authorizes it (a new entry; nothing is edited)."""
    from decimal import Decimal, InvalidOperation

    from clearance.ledger import Ledger, LedgerError
    from clearance.ledger.release import release_under_license

    try:
        value = Decimal(amount) if amount is not None else None
    except InvalidOperation:
        raise LedgerError(f"--amount {amount!r} is not a number") from None
    with Ledger(ctx.settings.database_path) as book:
        entry = release_under_license(
            book,
            entry_id,
            license_id=license_id,
            licenses=_all_licenses(ctx),
            released_on=_date(on) or _eastern_today(),
            amount=value,
            note=note,
        )
    if as_json:
        _print_json(entry.to_dict())
        return
    click.echo(
        f"ledger #{entry.seq}: released {entry.amount} {entry.currency} of #{entry.ref} ({entry.owner}) "
        f"on {entry.event_date} under {entry.license_id}"
    )


@ledger.command("verify")
@pass_ctx
def ledger_verify(ctx: Context) -> None:
    """Recompute the hash chains of the ledger and of the report filing records."""
    from clearance.ledger import Ledger
    from clearance.reports.filings import FilingStore

    with Ledger(ctx.settings.database_path) as book, FilingStore(ctx.settings.database_path) as filings:
        entries = book.verify()
        records = filings.verify()
    click.echo(f"ok: {entries} ledger entries and {records} filing records match their hash chains")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ClearanceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
