"""FollowTheMoney JSON lines in and out."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ParseError
from clearance.lists.ftm import read, write
from clearance.model import Entity, invalid_properties

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ftm" / "entities.jsonl"


def write_file(tmp_path: Path, data: str | bytes) -> Path:
    path = tmp_path / "entities.jsonl"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_import_prefixes_ids_and_entity_links_and_keeps_the_source_record() -> None:
    parsed = read([FIXTURE], "os")
    by_id = {e.id: e for e in parsed.entities}
    assert set(by_id) == {"os:NK-jane", "os:NK-acme", "os:san-1"}
    jane = by_id["os:NK-jane"]
    assert jane.get("birthDate") == ["1970-05-01"] and jane.datasets == ["os"]
    assert jane.raw is not None and jane.raw["referents"] == ["old-jane"]
    assert by_id["os:san-1"].get("entity") == ["os:NK-acme"]
    assert all(invalid_properties(e) == [] for e in parsed.entities)


def test_fragments_of_one_id_merge_into_the_more_specific_schema() -> None:
    acme = {e.id: e for e in read([FIXTURE], "os").entities}["os:NK-acme"]
    assert acme.schema == "Company"
    assert acme.get("website") == ["https://acme.example"] and acme.get("alias") == ["Acme"]


def test_ids_already_prefixed_are_kept(tmp_path: Path) -> None:
    line = '{"id": "os:1", "schema": "Person", "properties": {"name": ["A"]}}\n'
    assert read([write_file(tmp_path, line)], "os").entities[0].id == "os:1"


def test_round_trip_gives_the_same_entities(tmp_path: Path) -> None:
    first = read([FIXTURE], "os").entities
    buffer = io.BytesIO()
    assert write(first, buffer) == len(first)
    second = read([write_file(tmp_path, buffer.getvalue())], "os").entities
    assert [e.to_dict(raw=False) for e in second] == [e.to_dict(raw=False) for e in first]


def test_write_to_text_leaves_raw_out_unless_asked() -> None:
    entity = Entity(id="x:1", schema="Person", properties={"name": ["A"]}, datasets=["x"], raw={"k": 1})
    plain, with_raw = io.StringIO(), io.StringIO()
    write([entity], plain)
    write([entity], with_raw, raw=True)
    assert "raw" not in orjson.loads(plain.getvalue())
    assert orjson.loads(with_raw.getvalue())["raw"] == {"k": 1}
    assert orjson.loads(plain.getvalue())["caption"] == "A"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"schema": "Person", "properties": {}}', "id"),
        ('{"id": "1", "schema": "Human", "properties": {}}', "schema"),
        ('{"id": "1", "schema": "Person", "properties": {"colour": ["red"]}}', "properties.colour"),
        ('{"id": "1", "schema": "Person", "properties": {"name": [{"a": 1}]}}', "properties.name"),
        ('{"id": "1", "schema": "Person", "properties": []}', "properties"),
    ],
)
def test_invalid_entities_name_line_and_field(tmp_path: Path, line: str, field: str) -> None:
    good = '{"id": "0", "schema": "Person", "properties": {"name": ["A"]}}'
    with pytest.raises(ParseError) as err:
        read([write_file(tmp_path, f"{good}\n{line}\n")], "os")
    assert (err.value.line, err.value.field) == (2, field)


def test_incompatible_fragments_are_refused(tmp_path: Path) -> None:
    lines = '{"id": "1", "schema": "Person"}\n{"id": "1", "schema": "Vessel"}\n'
    with pytest.raises(ParseError) as err:
        read([write_file(tmp_path, lines)], "os")
    assert (err.value.line, err.value.field) == (2, "schema")


def test_broken_json_and_bad_encoding_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as err:
        read([write_file(tmp_path, '{"id": "1", "schema": "Person"}\n{"id": \n')], "os")
    assert err.value.line == 2
    with pytest.raises(ParseError) as err:
        read([write_file(tmp_path, b'{"id": "1", "schema": "Person"}\n\n{"id": "\xff"}\n')], "os")
    assert err.value.line == 3


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="empty"):
        read([write_file(tmp_path, "\n\n")], "os")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=10,
    ).map(lambda v: orjson.dumps(v) + b"\n")
    | st.fixed_dictionaries(
        {
            "id": st.text(max_size=5),
            "schema": st.sampled_from(["Person", "Company", "Sanction", "x"]),
            "properties": st.dictionaries(
                st.sampled_from(["name", "entity", "alias", "bad"]),
                st.lists(st.text(max_size=5) | st.integers(-(2**63), 2**63 - 1), max_size=2),
                max_size=3,
            ),
        }
    ).map(lambda v: orjson.dumps(v) + b"\n")
)
def test_arbitrary_bytes_give_a_result_or_a_parse_error(tmp_path: Path, data: bytes) -> None:
    try:
        read([write_file(tmp_path, data)], "os")
    except ParseError:
        pass
