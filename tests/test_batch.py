"""Batch screening: formats, per-line errors, input order, and parallel runs equal to serial ones."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.batch import RESULT_COLUMNS, ScreenerSpec, query_from_record, screen_file
from clearance.errors import ClearanceError, QueryError
from clearance.model import Entity
from clearance.settings import Settings
from clearance.store import open_store
from tests.factories import make_entity

ENTITIES = [
    make_entity("custom-test:1", "Organization", name="Northern Star Shipping Company Limited"),
    make_entity("custom-test:2", "Organization", name="Golden Falcon Trading LLC", alias="Golden Falcon"),
    make_entity("custom-test:3", "Person", name="Ivanov, Sergei Petrovich", birthDate="1961-03-02"),
    make_entity("custom-test:4", "Person", name="Maria Fernanda Castillo Rojas", nationality="ve"),
    make_entity("custom-test:5", "Vessel", name="OCEAN PEARL", imoNumber="IMO 9123456"),
    make_entity("custom-test:6", "Organization", name="Blue Mountain Mining Corporation"),
]

#: query name -> the entity it names
KNOWN = {
    "Northern Star Shipping Co. Ltd": "custom-test:1",
    "Golden Falcon Trading": "custom-test:2",
    "Sergei Petrovich Ivanov": "custom-test:3",
    "CASTILLO ROJAS, Maria Fernanda": "custom-test:4",
    "Ocean Pearl": "custom-test:5",
    "Blue Mountain Mining Corp": "custom-test:6",
}


def make_home(tmp_path: Path, entities: list[Entity] = ENTITIES) -> Path:
    """A home folder with one version of a small custom list."""
    home = tmp_path / "home"
    store = open_store(Settings.load(home))
    store.add_version(
        list_name="custom-test",
        format="ftm",
        files=["test.jsonl"],
        content_hash="test",
        published=date(2024, 1, 1),
        published_from="given",
        entities=entities,
    )
    store.close()
    return home


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def queries(n: int = 0) -> list[dict[str, Any]]:
    """The known names as queries, then ``n`` more cycling through them with numbered ids."""
    names = list(KNOWN)
    return [{"id": f"q{i}", "name": names[i % len(names)]} for i in range(len(names) + n)]


def test_jsonl_results_follow_input_order_and_name_the_listed_entity(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    qs = queries()
    out = tmp_path / "out.jsonl"
    report = screen_file(write_jsonl(tmp_path / "q.jsonl", qs), out, ScreenerSpec(home), workers=1)
    results = read_jsonl(out)
    assert [r["id"] for r in results] == [q["id"] for q in qs]
    assert report.queries == len(qs) and report.failed == 0
    for query, result in zip(qs, results, strict=True):
        top = result["matches"][0]
        assert top["entity_id"] == KNOWN[query["name"]]
        assert top["match"] is True
        assert {"entity_id", "score", "match", "name", "schema", "list_version"} <= set(top)
        scores = [m["score"] for m in result["matches"]]
        assert scores == sorted(scores, reverse=True)
    assert report.matched == len(qs)


def test_batch_result_equals_screening_each_query_in_process(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    spec = ScreenerSpec(home)
    qs = queries() + [{"id": "neg", "name": "Golden Trading Mining", "schema": "Organization"}]
    out = tmp_path / "out.jsonl"
    screen_file(write_jsonl(tmp_path / "q.jsonl", qs), out, spec, workers=1, limit=3)
    screener = spec.load()
    for query, result in zip(qs, read_jsonl(out), strict=True):
        expected = screener.screen(query_from_record(query), limit=3)
        assert [(m["entity_id"], m["match"]) for m in result["matches"]] == [
            (m.entity_id, m.match) for m in expected
        ]
        assert [m["score"] for m in result["matches"]] == [round(m.score, 4) for m in expected]


def test_parallel_run_writes_the_same_bytes_as_a_serial_run(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    qs = queries(40)
    qs[7] = {"id": "bad", "schema": "Person"}
    source = write_jsonl(tmp_path / "q.jsonl", qs)
    for fmt in ("jsonl", "csv"):
        serial, parallel = tmp_path / f"serial.{fmt}", tmp_path / f"parallel.{fmt}"
        screen_file(source, serial, ScreenerSpec(home), workers=1)
        report = screen_file(source, parallel, ScreenerSpec(home), workers=2, chunk_size=5)
        assert report.workers == 2
        assert report.failed == 1 and report.queries == len(qs)
        assert parallel.read_bytes() == serial.read_bytes()


def test_parallel_workers_load_the_saved_index_without_rebuilding_it(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    spec = ScreenerSpec(home)
    assert not spec.index_saved()
    spec.load()  # builds and saves the index
    assert spec.index_saved()
    index_dir = Settings.load(home).index_dir
    before = {p: p.stat().st_mtime_ns for p in index_dir.rglob("*") if p.is_file()}
    assert before, "the screener saved no index under the home folder"
    screen_file(
        write_jsonl(tmp_path / "q.jsonl", queries(30)), tmp_path / "o.jsonl", spec, workers=2, chunk_size=4
    )
    after = {p: p.stat().st_mtime_ns for p in index_dir.rglob("*") if p.is_file()}
    assert after == before


def test_malformed_lines_are_reported_without_stopping_the_batch(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    source = tmp_path / "q.jsonl"
    source.write_text(
        '{"id": "a", "name": "Ocean Pearl", "schema": "Vessel"}\n'
        "{not json\n"
        "\n"
        '{"id": "b", "schema": "Person"}\n'
        '{"id": "c", "name": "Ocean Pearl", "schema": "Ship"}\n'
        '{"id": "d", "name": "Sergei Ivanov", "birth_date": "2 March 1961"}\n'
        '["a list"]\n'
        '{"id": "e", "name": "Golden Falcon"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    report = screen_file(source, out, ScreenerSpec(home), workers=1)
    results = read_jsonl(out)
    assert [r["id"] for r in results] == ["a", None, "b", "c", "d", None, "e"]
    errors = [r.get("error") for r in results]
    assert errors[0] is None and errors[-1] is None
    assert errors[1].startswith("line 2: not valid JSON")
    assert errors[2].startswith("line 4: ") and "name" in errors[2]
    assert errors[3].startswith("line 5: ") and "'Ship'" in errors[3]
    assert errors[4].startswith("line 6: ") and "birth_date" in errors[4]
    assert errors[5].startswith("line 7: ")
    assert all(r["matches"] == [] for r in results if "error" in r)
    assert results[0]["matches"][0]["entity_id"] == "custom-test:5"
    assert report.failed == 5 and report.queries == 7
    assert report.errors == errors[1:6]


def test_csv_in_and_out_one_row_per_candidate_and_a_row_for_a_failed_query(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    source = tmp_path / "q.csv"
    source.write_text(
        "id,name,schema,birth_date,country,id_numbers\n"
        "p1,Sergei Petrovich Ivanov,Person,1961,,A123;B456\n"
        "x1,,Organization,,,\n"
        'o1,"Golden Falcon Trading, LLC",Organization,,ae,\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    report = screen_file(source, out, ScreenerSpec(home), workers=1, limit=2)
    with out.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == RESULT_COLUMNS
        rows = list(reader)
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, key=["p1", "x1", "o1"].index)  # grouped, in input order
    p1 = [r for r in rows if r["id"] == "p1"]
    assert [r["rank"] for r in p1] == [str(i) for i in range(1, len(p1) + 1)]
    assert p1[0]["entity_id"] == "custom-test:3" and p1[0]["match"] == "true"
    assert next(r for r in rows if r["id"] == "o1")["entity_id"] == "custom-test:2"
    (x1,) = [r for r in rows if r["id"] == "x1"]
    assert x1["entity_id"] == x1["rank"] == x1["score"] == ""
    assert x1["error"].startswith("line 3: ")
    assert report.failed == 1


def test_parquet_in_and_out_keeps_the_columns_and_the_order(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    home = make_home(tmp_path)
    qs = queries()
    source = tmp_path / "q.parquet"
    pq.write_table(
        pa.Table.from_pylist([{**q, "schema": None} for q in qs] + [{"id": "z", "name": None}]), source
    )
    out = tmp_path / "out.parquet"
    report = screen_file(source, out, ScreenerSpec(home), workers=2, chunk_size=2, limit=1)
    table = pq.read_table(out)
    assert tuple(table.column_names) == RESULT_COLUMNS
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [q["id"] for q in qs] + ["z"]
    assert [r["entity_id"] for r in rows[:-1]] == [KNOWN[q["name"]] for q in qs]
    assert all(r["rank"] == 1 and r["match"] is True for r in rows[:-1])
    assert rows[-1]["entity_id"] is None and rows[-1]["error"].startswith("row 7: ")
    assert report.failed == 1


def test_output_format_can_differ_from_input_format(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    source = write_jsonl(tmp_path / "q.jsonl", queries())
    out = tmp_path / "results.txt"
    screen_file(source, out, ScreenerSpec(home), workers=1, output_format="csv")
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(RESULT_COLUMNS)


def test_explanations_are_added_on_request(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    out = tmp_path / "out.jsonl"
    source = write_jsonl(tmp_path / "q.jsonl", queries()[:1])
    screen_file(source, out, ScreenerSpec(home), workers=1, explain=True)
    top = read_jsonl(out)[0]["matches"][0]
    assert top["explanation"]["matched_name"] and top["explanation"]["features"]
    with pytest.raises(ClearanceError, match="JSON-lines"):
        screen_file(source, tmp_path / "out.csv", ScreenerSpec(home), explain=True)


def test_an_unreadable_query_file_is_an_error_naming_it(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(ClearanceError, match="missing.jsonl"):
        screen_file(missing, tmp_path / "out.jsonl", ScreenerSpec(home))
    not_parquet = tmp_path / "q.parquet"
    not_parquet.write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(ClearanceError, match="q.parquet"):
        screen_file(not_parquet, tmp_path / "out.jsonl", ScreenerSpec(home))
    no_name_column = tmp_path / "q.csv"
    no_name_column.write_text("id,label\n1,x\n", encoding="utf-8")
    with pytest.raises(ClearanceError, match="q.csv.*'name' column"):
        screen_file(no_name_column, tmp_path / "out.jsonl", ScreenerSpec(home))
    queries_file = write_jsonl(tmp_path / "q.jsonl", queries())
    with pytest.raises(ClearanceError, match="overwrite"):
        screen_file(queries_file, queries_file, ScreenerSpec(home))
    assert read_jsonl(queries_file) == queries()
    with pytest.raises(ClearanceError, match="extension"):
        screen_file(tmp_path / "q.txt", tmp_path / "out.jsonl", ScreenerSpec(home))
    assert not (tmp_path / "out.jsonl").exists()


def test_query_from_record_reads_the_csv_forms() -> None:
    query = query_from_record(
        {"id": 7, "name": " Ivanov ", "schema": "person", "id_numbers": "A1; B2;", "aliases": "Ivanoff"}
    )
    assert (query.id, query.name, query.schema) == ("7", "Ivanov", "Person")
    assert query.id_numbers == ["A1", "B2"] and query.aliases == ["Ivanoff"]
    assert query_from_record({"name": "x", "birth_date": "1961-03"}).birth_date == "1961-03"


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.lists(st.text(max_size=6) | st.integers(), max_size=3),
)


@given(
    st.dictionaries(
        st.sampled_from(["id", "name", "schema", "birth_date", "country", "id_numbers", "x"]), json_values
    )
)
def test_any_record_gives_a_query_or_a_query_error(record: dict[str, Any]) -> None:
    try:
        query = query_from_record(record)
    except QueryError:
        return
    assert query.name.strip() == query.name and query.name
