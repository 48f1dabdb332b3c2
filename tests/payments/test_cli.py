from datetime import date
from pathlib import Path

import orjson
from click.testing import CliRunner

from clearance.cli import cli
from clearance.store.sqlite import SQLiteStore

from .factories import FIXTURES
from .world import CEIEC, OTHER, add_version


def home_with_lists(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    store = SQLiteStore(home / "clearance.sqlite3")
    add_version(store, date(2020, 11, 30), [OTHER, CEIEC])
    return home


def test_payments_screen_blocks_records_and_reports_are_due(tmp_path: Path) -> None:
    home = home_with_lists(tmp_path)
    runner = CliRunner()
    files = [str(FIXTURES / "pacs008_ceiec.xml"), str(FIXTURES / "malformed_namespace.xml")]
    out = runner.invoke(
        cli, ["--home", str(home), "payments", "screen", *files, "--as-of", "2021-01-20", "--json"]
    )
    assert out.exit_code == 0, out.output
    rows = orjson.loads(out.output)
    assert [r["outcome"] for r in rows] == ["BLOCK", "REJECT"]
    assert rows[0]["ledger_entries"] == [1]
    assert rows[1]["malformed"]["field"] == "/Document"

    due = runner.invoke(cli, ["--home", str(home), "reports", "due", "--today", "2021-01-21", "--json"])
    assert due.exit_code == 0, due.output
    reports = orjson.loads(due.output)
    assert [(r["id"], r["due"]) for r in reports] == [("RBP-000001", "2021-02-03")]

    pdf = tmp_path / "r.pdf"
    exported = runner.invoke(
        cli,
        ["--home", str(home), "reports", "export", "RBP-000001", "--out", str(pdf), "--today", "2021-01-21"],
    )
    assert exported.exit_code == 0, exported.output
    assert pdf.read_bytes().startswith(b"%PDF")


def test_payments_screen_text_output_names_the_fault(tmp_path: Path) -> None:
    home = home_with_lists(tmp_path)
    out = CliRunner().invoke(
        cli,
        ["--home", str(home), "payments", "screen", str(FIXTURES / "malformed_truncated.xml"), "--no-record"],
    )
    assert out.exit_code == 0, out.output
    assert out.output.startswith("REJECT") and "not well-formed" in out.output
