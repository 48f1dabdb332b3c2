"""`clearance licenses` and `clearance ownership`: thin commands over the policy layer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
from click.testing import CliRunner

from clearance.cli import cli
from clearance.store.sqlite import SQLiteStore
from tests.policy.helpers import add_version, listed


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_licenses_add_list_show(tmp_path: Path) -> None:
    path = tmp_path / "sl.yaml"
    path.write_text(
        "id: SL-2021-1\nkind: specific\ntitle: Release of blocked funds\nentities: ['ofac-sdn:30502']\n"
        "transaction_types: [payment]\nvalid_from: '2021-02-01T00:00'\nvalid_until: '2021-03-01T00:00'\n"
        "conditions: [{code: report, text: Report within 10 business days}]\n"
    )
    assert "added SL-2021-1" in run(tmp_path, "licenses", "add", str(path))
    assert "replaced SL-2021-1" in run(tmp_path, "licenses", "add", str(path))
    listing = orjson.loads(run(tmp_path, "licenses", "list", "--json", "--at", "2021-02-15T12:00:00"))
    valid = {row["id"]: row["valid"] for row in listing}
    assert valid == {"OFAC-VENEZUELA-GL38": False, "SL-2021-1": True}
    shown = run(tmp_path, "licenses", "show", "SL-2021-1")
    assert "condition report: Report within 10 business days" in shown
    assert orjson.loads(run(tmp_path, "licenses", "show", "OFAC-VENEZUELA-GL38", "--json"))["number"] == "38"


def test_licenses_add_reports_the_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: X\nkind: general\ntitle: t\nprograms: [X]\n")
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "licenses", "add", str(path)])
    assert result.exit_code != 0
    assert "transaction_types" in str(result.exception)


def test_ownership_import_and_show_the_path(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "clearance.sqlite3")
    add_version(store, "ofac-sdn", date(2020, 11, 30), [listed("ofac-sdn:30502", "CEIEC", "VENEZUELA")])
    store.close()
    links = tmp_path / "links.csv"
    links.write_text("owner,asset,percentage,source\nofac-sdn:30502,hold-1,100,reg\nhold-1,cust-7,60,reg\n")
    assert "read 2 links, 2 new" in run(tmp_path, "ownership", "import", str(links))
    data = orjson.loads(run(tmp_path, "ownership", "show", "cust-7", "--as-of", "2021-01-20", "--json"))
    assert data["verdict"] == "BLOCKED" and data["share"] == 60
    assert [s["owner"] for s in data["paths"][0]] == ["ofac-sdn:30502", "hold-1"]
    before = run(tmp_path, "ownership", "show", "cust-7", "--as-of", "2020-11-01")
    assert "not blocked" in before
