"""The `screen` and `demo` commands, end to end on a small custom list in a temporary home."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from click.testing import CliRunner

from clearance.cli import DEMO_NAMES, cli
from tests.test_batch import KNOWN, make_home


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearance", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_screen_prints_rank_score_verdict_entity_version_and_why(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = CliRunner().invoke(cli, ["--home", str(home), "screen", "Golden Falcon Trading", "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "custom-test@2024-01-01" in lines[0]
    first = lines[1]
    assert first.lstrip().startswith("1.") and "MATCH" in first and "custom-test:2" in first
    assert "Golden Falcon Trading LLC" in first and "Organization" in first
    assert any("names:" in line and "Golden Falcon" in line for line in lines)
    assert any("raised by:" in line for line in lines)
    assert "building the matching index" in result.stderr
    again = CliRunner().invoke(cli, ["--home", str(home), "screen", "Golden Falcon Trading"])
    assert again.exit_code == 0 and again.stderr == ""


def test_screen_json_gives_the_matches_with_explanations(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    args = [
        "--home",
        str(home),
        "screen",
        "Sergei Petrovich Ivanov",
        "--schema",
        "person",
        "--birth-date",
        "1961",
        "--json",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["query"]["schema"] == "Person" and data["query"]["birth_date"] == "1961"
    assert data["versions"] == ["custom-test@2024-01-01#1"]
    top = data["matches"][0]
    assert top["entity_id"] == "custom-test:3" and top["match"] is True
    assert top["explanation"]["features"]
    assert 0 <= data["threshold"] <= 1


def test_screen_restricted_to_another_list_or_an_earlier_day_finds_nothing_to_screen(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    runner = CliRunner()
    other = runner.invoke(cli, ["--home", str(home), "screen", "Ocean Pearl", "--list", "un-sc"])
    assert other.exit_code != 0 and "un-sc" in str(other.exception)
    before = runner.invoke(cli, ["--home", str(home), "screen", "Ocean Pearl", "--as-of", "2023-12-31"])
    assert before.exit_code != 0 and "2023-12-31" in str(before.exception)
    same = runner.invoke(
        cli, ["--home", str(home), "screen", "Ocean Pearl", "--list", "custom-test", "--json"]
    )
    assert orjson.loads(same.stdout)["matches"][0]["entity_id"] == "custom-test:5"


def test_screen_an_empty_name_is_a_clear_error_with_exit_status_2(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = run(home, "screen", "   ")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "name" in result.stderr
    assert "Traceback" not in result.stderr


def test_screen_a_file_reports_failures_and_writes_every_result(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    source = tmp_path / "q.jsonl"
    names = list(KNOWN)
    source.write_bytes(b"".join(orjson.dumps({"id": str(i), "name": n}) + b"\n" for i, n in enumerate(names)))
    out = tmp_path / "r.jsonl"
    ok = run(home, "screen", "--input", str(source), "--output", str(out), "--workers", "2")
    assert ok.returncode == 0, ok.stderr
    assert f"screened {len(names)} queries" in ok.stderr and "0 failed" in ok.stderr
    results = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["matches"][0]["entity_id"] for r in results] == [KNOWN[n] for n in names]

    with source.open("a", encoding="utf-8") as f:
        f.write('{"id": "broken"\n')
    failed = run(home, "screen", "--input", str(source), "--output", str(out))
    assert failed.returncode == 1
    assert "1 failed" in failed.stderr and f"line {len(names) + 1}: not valid JSON" in failed.stderr
    assert len(out.read_bytes().splitlines()) == len(names) + 1


def test_screen_a_missing_file_names_it(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = run(home, "screen", "--input", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "r.csv"))
    assert result.returncode == 2 and "nope.csv" in result.stderr


def test_demo_imports_the_sample_and_finds_ceiec_under_each_name_the_news_used(tmp_path: Path) -> None:
    result = run(tmp_path / "home", "demo")
    assert result.returncode == 0, result.stderr
    for name in DEMO_NAMES:
        assert repr(name) in result.stdout
    hits = [line for line in result.stdout.splitlines() if line.strip().startswith("->")]
    assert len(hits) == len(DEMO_NAMES)
    assert all("ofac-sdn:30502" in line and "MATCH" in line for line in hits), result.stdout
