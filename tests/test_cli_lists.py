"""The list commands end to end, as a user runs them: a real process, a real home folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_path

HEADER = "id,name,schema,aliases,country\n"


def clearance(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "clearance", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def _csv(path: Path, rows: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_import_show_diff_history_and_entity(tmp_path: Path) -> None:
    home = tmp_path / "home"
    v1 = _csv(tmp_path / "v1" / "list.csv", "1,ACME TRADING LLC,Company,,ae\n2,Ivan PETROV,Person,,ru\n")
    v2 = _csv(
        tmp_path / "v2" / "list.csv",
        "1,ACME TRADING LLC,Company,ACME TRDG,ae\n3,CEIEC,Company,China National Electronics,cn\n",
    )
    out = clearance(home, "lists", "import", "custom-bank", str(v1), "--published", "2020-01-01").stdout
    assert out.startswith("imported #1")
    clearance(home, "lists", "import", "custom-bank", str(v2), "--published", "2020-11-30")
    again = clearance(home, "lists", "import", "custom-bank", str(v2), "--published", "2020-11-30").stdout
    assert "already imported, nothing changed" in again

    shown = json.loads(clearance(home, "lists", "show", "--json").stdout)
    assert [(v["list"], v["published"]) for v in shown] == [("custom-bank", "2020-11-30")]
    as_of = json.loads(clearance(home, "lists", "show", "--as-of", "2020-06-01", "--json").stdout)
    assert [v["published"] for v in as_of] == ["2020-01-01"]

    diff = json.loads(
        clearance(home, "lists", "diff", "custom-bank", "2020-01-01", "latest", "--json").stdout
    )
    assert diff["added"] == ["custom-bank:3"]
    assert diff["removed"] == ["custom-bank:2"]
    assert diff["changed"] == [
        {"entity_id": "custom-bank:1", "properties": {"alias": {"old": [], "new": ["ACME TRDG"]}}}
    ]
    text = clearance(home, "lists", "diff", "custom-bank", "#1", "#2").stdout
    assert "1 added, 1 removed, 1 changed" in text and "CEIEC" in text

    history = json.loads(clearance(home, "lists", "history", "custom-bank", "--json").stdout)
    assert [(h["added"], h["removed"], h["changed"]) for h in history] == [(2, 0, 0), (1, 1, 1)]

    entity = json.loads(clearance(home, "entity", "show", "custom-bank:3", "--json").stdout)
    assert entity["properties"]["alias"] == ["China National Electronics"]
    assert entity["history"]["first_seen"]["published"] == "2020-11-30"
    gone = clearance(home, "entity", "show", "custom-bank:3", "--as-of", "2020-06-01", check=False)
    assert gone.returncode == 2 and "custom-bank:3 is not in" in gone.stderr

    events = clearance(home, "entity", "history", "custom-bank:1").stdout
    assert "added" in events and "changed" in events and "(alias)" in events


def test_a_malformed_file_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = _csv(tmp_path / "good" / "list.csv", "1,ACME,Company,,\n")
    bad = _csv(tmp_path / "bad" / "list.csv", "1,ACME,Company,,\n2,Someone,Spaceship,,\n")
    clearance(home, "lists", "import", "custom-bank", str(good))
    result = clearance(home, "lists", "import", "custom-bank", str(bad), check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(bad) in result.stderr and "line 3" in result.stderr and "schema" in result.stderr
    versions = json.loads(clearance(home, "lists", "show", "custom-bank", "--json").stdout)
    assert len(versions) == 1 and versions[0]["active"]


@pytest.mark.shared
def test_diff_of_the_real_sdn_snapshots_names_ceiec(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for day in ("2019-01-15", "2021-07-07"):
        folder = shared_path("data", "lists", "ofac-sdn", day)
        clearance(home, "lists", "import", "ofac-sdn", str(folder), "--published", day)
    diff = json.loads(
        clearance(home, "lists", "diff", "ofac-sdn", "2019-01-15", "2021-07-07", "--json").stdout
    )
    assert "ofac-sdn:30502" in diff["added"]
    shown = clearance(home, "entity", "show", "ofac-sdn:30502").stdout
    for expected in (
        "CEIEC",
        "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
        "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY",
        "Beijing",
        "Caracas",
        "16382287",
        "9111000010000106X1",
    ):
        assert expected in shown


def test_export_writes_followthemoney_lines_that_import_back_unchanged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = _csv(
        tmp_path / "v1" / "list.csv", "1,ACME TRADING LLC,Company,ACME TRDG,ae\n2,Ivan PETROV,Person,,ru\n"
    )
    clearance(home, "lists", "import", "custom-bank", str(source), "--published", "2020-01-01")
    exported = tmp_path / "out" / "custom-bank.ftm.json"
    exported.parent.mkdir()
    result = clearance(home, "lists", "export", "custom-bank", "--output", str(exported))
    assert "wrote 2 entities of custom-bank@2020-01-01#1" in result.stderr
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert {(e["id"], e["schema"]) for e in lines} == {
        ("custom-bank:1", "Company"),
        ("custom-bank:2", "Person"),
    }
    assert "raw" not in lines[0]

    clearance(home, "lists", "import", "ftm-copy", str(exported), "--published", "2020-01-01")
    original = json.loads(clearance(home, "entity", "show", "custom-bank:1", "--json").stdout)
    copied = json.loads(clearance(home, "entity", "show", "ftm-copy:custom-bank:1", "--json").stdout)
    assert (copied["schema"], copied["properties"]) == (original["schema"], original["properties"])
    stdout = clearance(home, "lists", "export", "custom-bank", "--version", "latest").stdout
    assert len(stdout.splitlines()) == 2
